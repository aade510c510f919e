package main

import (
	"testing"
	"time"
)

func TestTestClock(t *testing.T) {
	if c, err := testClock(""); c != nil || err != nil {
		t.Errorf("testClock(\"\") = %v, %v; want none", c, err)
	}
	if _, err := testClock("tomorrow"); err == nil {
		t.Error("testClock(tomorrow): no error")
	}
	start := time.Date(2026, 11, 27, 8, 59, 56, 0, time.FixedZone("JST", 9*3600))
	c, err := testClock(start.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Now().Sub(start); d < 0 || d > time.Second {
		t.Errorf("the clock starts %v from %v", d, start)
	}
	// Its timers wait real time, and it runs on at real speed.
	<-c.After(50 * time.Millisecond)
	if d := c.Now().Sub(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("after 50 ms the clock is %v from its start", d)
	}
	if d := c.Until(start.Add(time.Hour)); d > time.Hour || d < 59*time.Minute {
		t.Errorf("Until an hour after the start = %v", d)
	}
}
