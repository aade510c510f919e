package amazon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
)

// CheckToken exchanges the refresh token at Login with Amazon and says
// which credential it refused, never with a secret in the error.
func TestCheckToken(t *testing.T) {
	fake := amazontest.New(t)
	tests := []struct {
		name    string
		change  func(*amazon.Credentials)
		refused string
	}{
		{"good", func(*amazon.Credentials) {}, ""},
		{"refresh token", func(c *amazon.Credentials) { c.RefreshToken = "Atzr|revoked-refresh-token" }, "refresh_token"},
		{"client secret", func(c *amazon.Credentials) { c.ClientSecret = "wrong-client-secret" }, "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fake.Config()
			tt.change(&cfg.Credentials)
			c, err := amazon.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckToken(context.Background())
			if got := amazon.TokenRefused(err); got != tt.refused || (err == nil) != (tt.refused == "") {
				t.Errorf("err %v, refused %q, want %q", err, got, tt.refused)
			}
			if err != nil {
				for _, secret := range []string{cfg.Credentials.RefreshToken, cfg.Credentials.ClientSecret} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("a secret in the error: %v", err)
					}
				}
			}
		})
	}
	if n := fake.Calls("token"); n != 3 {
		t.Errorf("%d token calls, want 3 (a refusal is not retried)", n)
	}
}
