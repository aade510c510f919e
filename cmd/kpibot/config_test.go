package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/locales"
)

// The sample config in docs is valid, and says what it shows.
func TestExampleConfig(t *testing.T) {
	p := testText(t).Printer(locales.English)
	s, err := loadConfig("../../docs/kpibot.example.yaml", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.shops) != 4 || s.shops[1].rakuten == nil || s.shops[1].issued.IsZero() || s.shops[2].yahoo == nil || s.shops[3].shopify == nil {
		t.Fatalf("shops = %+v", s.shops)
	}
	if s.shops[0].shop.ID != "amazon-jp" || s.shops[0].every != 15*time.Minute || s.shops[0].amazon == nil ||
		s.shops[0].amazon.RefreshTokenEnv != "AMAZON_REFRESH_TOKEN_MAIN" || s.shops[0].shop.Currency != "JPY" {
		t.Fatalf("shops = %+v", s.shops)
	}
	if h := s.importHeaders("rakuten", csvimport.Orders); !reflect.DeepEqual(h, map[string][]string{"id": {"平台单号"},
		"placed": {"成交时间", "订单创建时间"}}) || len(s.importHeaders("rakuten", csvimport.Reviews)) != 1 {
		t.Errorf("imports = %v", s.shops[1].imports)
	}
	if s.resendAfter != 30*time.Minute || s.escalateAfter != time.Hour || len(s.managers) != 2 || len(s.overrides) != 5 || len(s.routes) != 1 {
		t.Fatalf("settings = %+v", s)
	}
	ship := s.overrides[1]
	if ship.Metric != "ship_24h_rate" || *ship.Target != 0.98 || *ship.Clear != 0.985 || *ship.Consecutive != 2 {
		t.Errorf("ship_24h_rate = %s", ship)
	}
	if f := s.overrides[4]; f.Metric != "freshness" || *f.Target != 12 {
		t.Errorf("freshness = %s", f)
	}
}

// Every problem of a config file is reported, with where it is.
func TestConfigErrors(t *testing.T) {
	p := testText(t).Printer(locales.English)
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"not yaml", "alerts: [", []string{"did not find expected"}},
		{"unknown field", "alerts:\n  resend: 30m\n", []string{"line 2: field resend not found"}},
		{"durations", "alerts:\n  resend_after: soon\n  escalate_after: -1h\n",
			[]string{`alerts.resend_after: "soon" is not a positive duration`, `alerts.escalate_after: "-1h" is not a positive duration`}},
		{"rules", `alerts:
  rules:
    - metric: retrun_rate
      threshold: 3%
    - threshold: 3
    - metric: return_rate
      threshold: "3"
      severity: urgent
      consecutive: 0
    - metric: negative_reviews
      threshold: 2%
      min_sample: -1
    - metric: gmv
`, []string{
			`alerts.rules[0].metric: "retrun_rate" is not a metric with a target`,
			`alerts.rules[1].metric: missing`,
			`alerts.rules[2].severity: "urgent" is not one of critical, warning`,
			`alerts.rules[2].threshold: "3": this metric is a rate, write it with % (3%)`,
			`alerts.rules[2].consecutive: 0 is not between 1 and 100`,
			`alerts.rules[3].threshold: "2%": this metric is not a rate`,
			`alerts.rules[3].min_sample: -1 is negative`,
			`alerts.rules[4].metric: "gmv" is not a metric with a target`,
		}},
		{"a clear level beyond the target", "alerts:\n  rules:\n    - metric: return_rate\n      shop: rakuten\n      threshold: 3%\n      clear: 4%\n",
			[]string{"alerts.rules: config rule return_rate:rakuten: The clear level 4% lies beyond the alert level 3%"}},
		{"shops", `shops:
  - id: Amazon JP
    platform: amazon
  - platform: ebay
    sync_every: 10s
  - id: rakuten
    platform: rakuten
    amazon:
      refresh_token_env: atzr|secret
  - id: rakuten
    platform: rakuten
  - id: amz
    platform: amazon
    amazon:
      endpoint: not a url
      refresh_token_env: Atzr|IwEBIJ-the-token-itself
`, []string{
			`shops[0].id: "Amazon JP": use lower-case letters`,
			`shops[1].id: missing`,
			`shops[1].platform: "ebay" is not one of amazon, rakuten, yahoo, shopify`,
			`shops[1].sync_every: "10s" is not a duration of a minute or more`,
			`shops[2].amazon: only for a shop on the amazon platform`,
			`shops[2].amazon.refresh_token_env: not the name of an environment variable`,
			`shops[3].id: "rakuten" is already the id of another shop`,
			`shops[4].amazon.endpoint: "not a url" is not a URL`,
			`shops[4].amazon.refresh_token_env: not the name`,
		}},
		{"connectors", `shops:
  - id: amz
    platform: amazon
    rakuten:
      license_key_issued: 2026-13-01
  - id: yh
    platform: yahoo
    yahoo:
      token_env: my token
  - id: sp
    platform: shopify
    shopify:
      endpoint: nowhere
`, []string{
			`shops[0].rakuten: only for a shop on the rakuten platform`,
			`shops[0].rakuten.license_key_issued: "2026-13-01" is not a date (YYYY-MM-DD)`,
			`shops[1].yahoo.seller_id: missing`,
			`shops[1].yahoo.token_env: not the name of an environment variable`,
			`shops[2].shopify.store: missing`,
			`shops[2].shopify.endpoint: "nowhere" is not a URL`,
		}},
		{"imports", `shops:
  - id: rk
    platform: rakuten
    imports:
      ordrs:
        placed: 成交时间
      orders:
        placd: [成交时间]
        placed: [成交时间, " "]
        paid:
        id: []
        total: 实收金额
      Reviews:
        rating: 评价等级
      reviews:
        ratings: 星数
`, []string{
			`shops[0].imports.ordrs: not an import kind: use one of orders, reviews, tickets, shifts, customs, listings, competitors, inventory, ads`,
			`shops[0].imports.orders.id: empty: write the header name`,
			`shops[0].imports.orders.paid: empty: write the header name`,
			`shops[0].imports.orders.placd: not a field of orders: use one of id, placed, paid, ship_by, status, total, units, channel, ` +
				`shipped, carrier, tracking, customer`,
			`shops[0].imports.orders.placed: empty: write the header name`,
			`shops[0].imports.reviews: reviews is given twice`,
		}},
		{"imports not names", "shops:\n  - id: rk\n    platform: rakuten\n    imports:\n      orders:\n        placed: {zh: 成交时间}\n",
			[]string{"line 6: not a header name or a list of them"}},
		{"managers and routes", `alerts:
  managers:
    - slack: wang
    - name: 佐藤
  routes:
    - metrics: [return_rate]
    - to: [everyone]
`, []string{
			`alerts.managers[0].name: missing`,
			`alerts.managers[0]: slack: "wang" is not a Slack member id`,
			`alerts.managers[1]: neither a Slack member id nor a LINE user id`,
			`alerts.routes[0]: to: no role or channel`,
			`alerts.routes[1]: to: "everyone" is neither a role`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tt.yaml), p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "IwEBIJ") {
				t.Errorf("a secret pasted in the file is echoed:\n%v", err)
			}
			if n := strings.Count(err.Error(), "\n") + 1; len(tt.want) > 1 && n != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
	if _, err := loadConfig("/nonexistent/kpibot.yaml", p); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
	if s, err := parseConfig(nil, p); err != nil || len(s.overrides) != 0 {
		t.Errorf("an empty file: %+v, %v", s, err)
	}
}

// A shop's imports section gives the header names of its exports, a name
// or a list; a shop with no connector section is valid and not pulled.
func TestConfigImports(t *testing.T) {
	p := testText(t).Printer(locales.English)
	s, err := parseConfig([]byte(`shops:
  - id: erp
    platform: rakuten
    imports:
      Orders:
        id: 平台单号
        placed: [成交时间, " 订单创建时间 "]
      reviews:
        rating: [评价等级]
`), p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		shop string
		kind csvimport.Kind
		want map[string][]string
	}{
		{"erp", csvimport.Orders, map[string][]string{"id": {"平台单号"}, "placed": {"成交时间", "订单创建时间"}}},
		{"erp", csvimport.Reviews, map[string][]string{"rating": {"评价等级"}}},
		{"erp", csvimport.Tickets, nil},
		{"other", csvimport.Orders, nil},
	}
	for _, tt := range tests {
		if got := s.importHeaders(tt.shop, tt.kind); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("importHeaders(%s, %s) = %v, want %v", tt.shop, tt.kind, got, tt.want)
		}
	}
	conns, err := newConnectors(env{getenv: func(string) string { return "" }}, s, nil, "", nil)
	if err != nil || len(conns) != 0 {
		t.Errorf("a shop without a connector section: %d connectors, %v", len(conns), err)
	}
}

func testText(t *testing.T) *locales.Catalog {
	t.Helper()
	text, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return text
}
