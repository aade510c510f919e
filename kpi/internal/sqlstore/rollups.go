package sqlstore

import (
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The stores keep the facts of each shop's day, built from its records by
// kpi.BuildFacts, as a rollup with the time it was built at (as_of), and
// rebuild a rollup when a write touches its day (Stale) or when it may
// have changed since it was built (Usable).

// FinalAfterDays: a day's facts keep changing after the day ends. An order
// left unshipped turns late 24 hours after it could ship, and an unanswered
// 1-2 star review or ticket keeps counting its wait up to now. A rollup built
// at or after the start of the third day after its day, and after the ship
// deadline of an order paid as the day ends (later when a pause follows),
// is final and kept until a write touches the day; one built earlier is
// only fresh.
const FinalAfterDays = 3

// FreshFor is how long a rollup that is not final is reused before a read
// builds it again.
const FreshFor = 60 * time.Second

// MaxBuildDays is the most days whose records one build loads at once.
const MaxBuildDays = 31

// Usable reports whether a rollup of day built at asOf (Unix seconds) with
// hours may be used at now: it is final, or still fresh (see
// FinalAfterDays).
func Usable(hours kpi.BusinessHours, day kpi.Date, asOf int64, now time.Time) bool {
	if now.Unix()-asOf <= int64(FreshFor/time.Second) {
		return true
	}
	// An order paid at the day's end is due last, later after a pause.
	return asOf >= day.AddDays(FinalAfterDays).Start().Unix() &&
		asOf >= hours.ShipDeadline(day.AddDays(1).Start()).Unix()
}
