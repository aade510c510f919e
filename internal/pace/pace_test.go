package pace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// clock is a clock the waits move on.
type clock struct {
	at    time.Time
	waits []time.Duration
}

func (c *clock) now() time.Time { return c.at }
func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	c.at = c.at.Add(d)
	return ctx.Err()
}

// A bucket of burst 3 at 0.5/s lets 3 calls through, then one every 2 s;
// emptied, the next call waits a full 2 s.
func TestBucket(t *testing.T) {
	c := &clock{at: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	b := NewBucket(0.5, 3, c.now, c.sleep)
	for range 5 {
		if err := b.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []time.Duration{2 * time.Second, 2 * time.Second}; !slices.Equal(c.waits, want) {
		t.Errorf("waits %v, want %v", c.waits, want)
	}
	b.Empty()
	c.waits = nil
	if err := b.Wait(context.Background()); err != nil || !slices.Equal(c.waits, []time.Duration{2 * time.Second}) {
		t.Errorf("after Empty: waits %v, %v", c.waits, err)
	}
	// A rate that does not divide a second evenly still waits long enough.
	c.waits = nil
	odd := NewBucket(0.0056, 1, c.now, c.sleep)
	odd.Wait(context.Background())
	odd.Wait(context.Background())
	if len(c.waits) != 1 || c.waits[0] < 178571428571 {
		t.Errorf("0.0056/s: waits %v", c.waits)
	}
}

var errThrottled = errors.New("throttled")

type typedErr struct{ code string }

func (e *typedErr) Error() string { return "API error " + e.code }

// Do tries a temporary failure again after doubling waits, gives up after
// Tries, returns a typed error as it is and wraps any other.
func TestRetry(t *testing.T) {
	classify := func(err error) (bool, bool) {
		var te *typedErr
		typed := errors.As(err, &te)
		return errors.Is(err, errThrottled) || typed && te.code == "500", typed
	}
	tests := []struct {
		name    string
		errs    []error // what the tries return, in turn; then success
		calls   int
		wantErr string
	}{
		{"succeeds", nil, 1, ""},
		{"throttled twice", []error{errThrottled, &typedErr{"500"}}, 3, ""},
		{"gives up", []error{errThrottled, errThrottled, errThrottled, errThrottled}, 4, "shop: op: throttled"},
		{"typed, final", []error{&typedErr{"400"}}, 1, "API error 400"},
		{"untyped, final", []error{errors.New("bad answer")}, 1, "shop: op: bad answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{}
			r := Retry{Name: "shop", Tries: 3, Sleep: c.sleep, Log: slog.New(slog.DiscardHandler)}
			calls := 0
			err := r.Do(context.Background(), "op", func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			}, classify)
			if calls != tt.calls || (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
				t.Errorf("%d calls, %v; want %d, %q", calls, err, tt.calls, tt.wantErr)
			}
			for i, d := range c.waits {
				base := time.Second << i
				if d < base/2 || d >= base/2+base {
					t.Errorf("wait %d is %v, want within [%v, %v)", i, d, base/2, base/2+base)
				}
			}
			if strings.Contains(tt.name, "gives up") && len(c.waits) != 3 {
				t.Errorf("%d waits, want 3", len(c.waits))
			}
		})
	}
}

// tempErr is a platform's typed error for TestByType.
type tempErr struct{ temp bool }

func (e *tempErr) Error() string   { return "platform error" }
func (e *tempErr) Temporary() bool { return e.temp }

func TestByType(t *testing.T) {
	tests := []struct {
		err              error
		temporary, typed bool
	}{
		{&tempErr{temp: true}, true, true},
		{fmt.Errorf("page 2: %w", &tempErr{temp: false}), false, true},
		{errors.New("connection reset"), true, false},
	}
	for _, tt := range tests {
		temporary, typed := ByType[*tempErr](tt.err)
		if temporary != tt.temporary || typed != tt.typed {
			t.Errorf("ByType(%v) = %v, %v; want %v, %v", tt.err, temporary, typed, tt.temporary, tt.typed)
		}
	}
}
