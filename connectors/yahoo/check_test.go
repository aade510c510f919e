package yahoo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/yahoo"
	"github.com/kpibot/kpibot/connectors/yahoo/yahootest"
)

// Check proves the token and the public key with one orderList of at
// most one order; refusals are typed and carry no secret.
func TestCheck(t *testing.T) {
	fake := yahootest.New(t)
	c, err := yahoo.NewClient(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
	if b := fake.Bodies("orderList"); len(b) != 1 || !strings.Contains(b[0], "<Result>1</Result>") {
		t.Errorf("orderList bodies %q, want one asking for one order", b)
	}

	cfg := fake.Config()
	cfg.PublicKey = yahootest.PublicKeyPEM(t, yahootest.NewKey(t)) // not the store's
	if c, err = yahoo.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	var ae *yahoo.APIError
	if err := c.Check(context.Background()); !errors.As(err, &ae) || !ae.SignatureRefused() {
		t.Errorf("another key: %v", err)
	}

	fake.Expire()
	if c, err = yahoo.NewClient(fake.Config()); err != nil {
		t.Fatal(err)
	}
	err = c.Check(context.Background())
	if !errors.As(err, &ae) || !ae.Unauthorized() || strings.Contains(err.Error(), yahootest.Token) {
		t.Errorf("an expired token: %v", err)
	}
}
