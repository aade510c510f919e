package rakuten_test

import (
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/rakuten"
)

func TestKeyWarning(t *testing.T) {
	issued := time.Date(2026, 1, 10, 15, 0, 0, 0, jst)
	expires := time.Date(2026, 4, 10, 15, 0, 0, 0, jst) // 90 days on
	tests := []struct {
		name string
		now  time.Time
		warn bool
	}{
		{name: "issued", now: issued, warn: false},
		{name: "75 days on", now: issued.AddDate(0, 0, 75), warn: false},
		{name: "a second before 76 days on", now: issued.AddDate(0, 0, 76).Add(-time.Second), warn: false},
		{name: "76 days on: 14 days left", now: issued.AddDate(0, 0, 76), warn: true},
		{name: "90 days on: expired", now: issued.AddDate(0, 0, 90), warn: true},
		{name: "long expired", now: issued.AddDate(0, 0, 200), warn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warn := rakuten.KeyWarning(tt.now, issued)
			if !got.Equal(expires) || warn != tt.warn {
				t.Errorf("KeyWarning(%s) = %s, %t; want %s, %t", tt.now, got, warn, expires, tt.warn)
			}
		})
	}
	if got := rakuten.KeyExpiry(issued); !got.Equal(expires) {
		t.Errorf("KeyExpiry = %s, want %s", got, expires)
	}
}
