package main

import (
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// testClockVar names an instant (RFC 3339) at which a test starts kpibot's
// clock, which then runs at real speed: the end-to-end tests start serve
// just before 09:00 to see the digest go out. Not for production use.
const testClockVar = "KPIBOT_TEST_CLOCK"

// shiftedClock is the real clock moved by an offset: its timers and
// tickers wait as long as real ones, its Now is offset.
type shiftedClock struct {
	clockwork.Clock
	offset time.Duration
}

func (c shiftedClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset) }
func (c shiftedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c shiftedClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// testClock returns the clock KPIBOT_TEST_CLOCK=v asks for, starting at v
// now; nil when v is empty.
func testClock(v string) (clockwork.Clock, error) {
	if v == "" {
		return nil, nil
	}
	start, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", testClockVar, v, err)
	}
	return shiftedClock{Clock: clockwork.NewRealClock(), offset: time.Until(start)}, nil
}
