package rakuten

import "time"

// An RMS license key is valid for KeyLifetimeDays days from the day it is
// issued; the connector warns from KeyWarnDays days before it expires.
const (
	KeyLifetimeDays = 90
	KeyWarnDays     = 14
)

// KeyExpiry is when a license key issued at issued expires.
func KeyExpiry(issued time.Time) time.Time { return issued.AddDate(0, 0, KeyLifetimeDays) }

// KeyWarning returns when the license key issued at issued expires, and
// whether it is time to warn: from KeyWarnDays days before it expires on,
// expired keys included.
func KeyWarning(now, issued time.Time) (expires time.Time, warn bool) {
	expires = KeyExpiry(issued)
	return expires, !now.Before(expires.AddDate(0, 0, -KeyWarnDays))
}
