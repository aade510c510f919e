package rakuten_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
)

// Check proves the credentials with one search of the last hour; a
// refused key matches ErrKeyExpired and is not in the error.
func TestCheck(t *testing.T) {
	fake := rakutentest.New(t)
	c, err := rakuten.NewClient(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
	cfg := fake.Config()
	cfg.LicenseKey = "SL338411_expired-license-key"
	if c, err = rakuten.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	err = c.Check(context.Background())
	if !errors.Is(err, rakuten.ErrKeyExpired) || strings.Contains(err.Error(), cfg.LicenseKey) {
		t.Errorf("a wrong key: %v", err)
	}
	if n := fake.Calls("searchOrder"); n != 2 {
		t.Errorf("%d searches, want 2", n)
	}
	if s := fake.Searches(); len(s) != 1 || s[0].End.Sub(s[0].Start).Hours() != 1 {
		t.Errorf("searches %+v, want one of an hour", s)
	}
}
