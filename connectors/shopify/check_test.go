package shopify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
)

// ShopName proves the token with { shop { name } }; a refused token is
// Unauthorized and not in the error.
func TestShopName(t *testing.T) {
	fake := shopifytest.New(t, nil)
	c, err := shopify.NewClient(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	if name, err := c.ShopName(context.Background()); err != nil || name != shopifytest.ShopName {
		t.Errorf("ShopName = %q, %v", name, err)
	}
	cfg := fake.Config()
	cfg.AccessToken = wrongToken
	if c, err = shopify.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	_, err = c.ShopName(context.Background())
	var ae *shopify.APIError
	if !errors.As(err, &ae) || !ae.Unauthorized() || strings.Contains(err.Error(), wrongToken) {
		t.Errorf("a wrong token: %v", err)
	}
	if n := fake.Calls(); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}
