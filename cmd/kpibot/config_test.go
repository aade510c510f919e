package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/sqlite"
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

// Every problem of a config file is reported, with where it is, in the
// order of the file: each class of problem, at several depths.
func TestConfigErrors(t *testing.T) {
	p := testText(t).Printer(locales.English)
	tests := []struct {
		name, yaml string
		want       []string // the error's lines, exactly
	}{
		{"not yaml", "alerts: [", []string{"not a YAML file: line 1: did not find expected node content"}},
		{"unknown keys", `alert:
  resend_after: 30m
shops:
  - id: amz
    platform: amazon
    amazn: {}
    amazon:
      endpont: https://sellingpartnerapi-fe.amazon.com
channels:
  - platform: slack
    id: C0HQ12345
    role: hq
    language: zh
schedules:
  weekly_review:
    time: "10:00"
alerts:
  resend: 30m
  rules:
    - metric: return_rate
      treshold: 3%
`, []string{
			`alert: unknown key (did you mean alerts?)`,
			`shops[0].amazn: unknown key (did you mean amazon?)`,
			`shops[0].amazon.endpont: unknown key (did you mean endpoint?)`,
			`channels[0].language: unknown key`,
			`schedules.weekly_review.time: unknown key`,
			`alerts.resend: unknown key`,
			`alerts.rules[0].treshold: unknown key (did you mean threshold?)`,
		}},
		{"thresholds", "thresholds:\n  - metric: return_rate\n    threshold: 3%\n", []string{
			`thresholds: unknown key: the thresholds are the alert rules, alerts.rules (threshold, clear and severity per metric, for every shop or one)`,
		}},
		{"anchors and merge keys", `base: &base
  platform: amazon
  sync_every: 5s
shops:
  - <<: *base
    id: amz
  - <<: *base
    id: amz2
    amazon: &ep
      endpoint: nowhere
  - id: amz3
    platform: amazon
    amazon: *ep
`, []string{
			`base: unknown key`,
			`shops[0].sync_every: "5s" is not a duration of a minute or more (15m, 1h)`,
			`shops[1].sync_every: "5s" is not a duration of a minute or more (15m, 1h)`,
			`shops[1].amazon.endpoint: "nowhere" is not a URL`,
			`shops[2].amazon.endpoint: "nowhere" is not a URL`,
		}},
		{"a key given twice", "alerts:\n  resend_after: 30m\n  resend_after: 1h\n  escalate_after: 2h\n",
			[]string{`alerts.resend_after: given twice (first on line 2)`}},
		{"types", `shops:
  - id: [amz]
    platform: amazon
    sync_every: [15m]
    imports:
      orders:
        placed: {zh: 成交时间}
channels: {id: C0HQ12345}
alerts:
  managers: wang
  rules:
    - metric: return_rate
      consecutive: many
      disabled: yes
      min_sample: 1.5
`, []string{
			`shops[0].id: text is expected here, not a list`,
			`shops[0].sync_every: text is expected here, not a list`,
			`shops[0].imports.orders.placed: a header name or a list of them is expected here, not keys with values`,
			`channels: a list is expected here, not keys with values`,
			`alerts.managers: a list is expected here, not "wang"`,
			`alerts.rules[0].consecutive: a whole number is expected here, not "many"`,
			`alerts.rules[0].disabled: true or false is expected here, not "yes"`,
			`alerts.rules[0].min_sample: a whole number is expected here, not "1.5"`,
		}},
		{"not a mapping", "- shops\n", []string{`keys with values is expected here, not a list`}},
		{"missing", `shops:
  - name: Amazon JP
  - id: yh
    platform: yahoo
    yahoo: {key_version: "1"}
channels:
  - role: hq
  - platform: line
    id: C0123456789abcdef0123456789abcdef
    role: shop
alerts:
  managers:
    - lang: zh
  rules:
    - threshold: 3
  routes:
    - metrics: [return_rate]
`, []string{
			`shops[0].id: missing`,
			`shops[0].platform: missing`,
			`shops[1].yahoo.seller_id: missing`,
			`channels[0].platform: missing`,
			`channels[0].id: missing`,
			`channels[1].lang: missing: a shop team's channel needs its language (zh, ja, en or bilingual)`,
			`alerts.managers[0].name: missing: the name the escalation shows`,
			`alerts.managers[0]: neither slack nor line: give the manager's Slack member id or LINE user id`,
			`alerts.rules[0].metric: missing`,
			`alerts.routes[0].to: missing`,
		}},
		{"enums", `shops:
  - id: eb
    platform: ebay
channels:
  - platform: slack
    id: C0HQ12345
    role: hq
  - platform: teams
    id: T1
    role: boss
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: jp
schedules:
  weekly_review:
    weekday: mon
alerts:
  managers:
    - name: 佐藤
      slack: U0456EFGH
      lang: jpn
  rules:
    - metric: return_rate
      severity: urgent
`, []string{
			`shops[0].platform: "ebay" is not one of amazon, rakuten, yahoo, shopify`,
			`channels[1].platform: "teams" is not one of slack, line`,
			`channels[1].role: "boss" is not one of hq, jp-support, shop`,
			`channels[2].lang: "jp" is not one of zh, ja, en, bilingual`,
			`schedules.weekly_review.weekday: "mon" is not one of monday, tuesday, wednesday, thursday, friday, saturday, sunday`,
			`alerts.managers[0].lang: "jpn" is not one of zh, ja, en, bilingual`,
			`alerts.rules[0].severity: "urgent" is not one of critical, warning`,
		}},
		{"durations", `shops:
  - id: amz
    platform: amazon
    sync_every: 10s
schedules:
  evaluate_every: 30s
  sync_every: 1 hour
alerts:
  resend_after: soon
  escalate_after: -1h
`, []string{
			`shops[0].sync_every: "10s" is not a duration of a minute or more (15m, 1h)`,
			`schedules.evaluate_every: "30s" is not a duration of a minute or more (15m, 1h)`,
			`schedules.sync_every: "1 hour" is not a duration of a minute or more (15m, 1h)`,
			`alerts.resend_after: "soon" is not a positive duration (30m, 1h)`,
			`alerts.escalate_after: "-1h" is not a positive duration (30m, 1h)`,
		}},
		{"times", `channels:
  - platform: slack
    id: C0HQ12345
    role: hq
    digest_at: "25:00"
schedules:
  digest_at: 9am
  weekly_review:
    at: "00:00"
  monthly_review:
    day: 31
    at: 10:00:00
shops:
  - id: rk
    platform: rakuten
    rakuten:
      license_key_issued: 2026-13-01
`, []string{
			`channels[0].digest_at: "25:00" is not a time of day: write HH:MM, JST (09:00)`,
			`schedules.digest_at: "9am" is not a time of day: write HH:MM, JST (09:00)`,
			`schedules.weekly_review.at: 00:00 cannot be used here: use 00:01 or later`,
			`schedules.monthly_review.day: 31 is not between 1 and 28`,
			`schedules.monthly_review.at: "10:00:00" is not a time of day: write HH:MM, JST (09:00)`,
			`shops[0].rakuten.license_key_issued: "2026-13-01" is not a date (YYYY-MM-DD)`,
		}},
		{"shop references", `shops:
  - id: rakuten
    platform: rakuten
channels:
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: ja
    shops: [rakuten, rakutn, yahoo, Amazon JP]
`, []string{
			`channels[0].shops[1]: "rakutn" is neither a shop of this file nor a platform (amazon, rakuten, yahoo, shopify)`,
			`channels[0].shops[2]: no shop is on the yahoo platform`,
			`channels[0].shops[3]: "Amazon JP" is neither a shop of this file nor a platform (amazon, rakuten, yahoo, shopify)`,
		}},
		{"duplicates", `shops:
  - id: rakuten
    platform: rakuten
    imports:
      Reviews:
        rating: 评价等级
      reviews:
        rating: 星数
  - id: rakuten
    platform: rakuten
channels:
  - platform: slack
    id: C0HQ12345
    role: hq
  - platform: line
    id: C0123456789abcdef0123456789abcdef
    role: hq
  - platform: slack
    id: C0HQ12345
    role: jp-support
alerts:
  rules:
    - metric: return_rate
      shop: rakuten
      threshold: 5%
    - metric: return_rate
      threshold: 4%
    - metric: return_rate
      shop: rakuten
      threshold: 6%
`, []string{
			`shops[0].imports.reviews: "reviews" is already given at shops[0].imports.Reviews`,
			`shops[1].id: "rakuten" is already given at shops[0]`,
			`channels[2].id: "slack:C0HQ12345" is already given at channels[0]`,
			`alerts.rules[2]: "return_rate:rakuten" is already given at alerts.rules[0]`,
		}},
		{"secrets", `slack:
  bot_token: xoxb-1234-5678-abcdef-s3cr3t1
line:
  channel_secret: 0123abcd-s3cr3t2
password: hunter2-s3cr3t3
shops:
  - id: amz
    platform: amazon
    amazon:
      refresh_token: Atzr|IwEBIJ-s3cr3t4
      refresh_token_env: AMAZON_REFRESH_TOKEN_MAIN
  - id: sp
    platform: shopify
    access_token: s3cr3t5
    shopify:
      store: my-store
      token_env: shpat_s3cr3t6
    imports:
      xoxb-s3cr3t9: {}
alerts:
  rules:
    - metric: return_rate
      runbook: " xapp-1-s3cr3t7"
`, []string{
			`slack.bot_token: a secret never goes in this file (its value is not shown): set it in the environment variable SLACK_BOT_TOKEN`,
			`line.channel_secret: a secret never goes in this file (its value is not shown): set it in the environment variable LINE_CHANNEL_SECRET`,
			`password: a secret never goes in this file (its value is not shown): set it in the environment (the README lists the variables)`,
			`shops[0].amazon.refresh_token: a secret never goes in this file (its value is not shown): set it in the environment variable AMAZON_REFRESH_TOKEN`,
			`shops[1].access_token: a secret never goes in this file (its value is not shown): set it in the environment variable SHOPIFY_ACCESS_TOKEN`,
			`shops[1].shopify.token_env: a secret never goes in this file (its value is not shown): set it in the environment variable SHOPIFY_ACCESS_TOKEN`,
			`shops[1].imports: a secret never goes in this file (its value is not shown): set it in the environment variable SLACK_BOT_TOKEN`,
			`alerts.rules[0].runbook: a secret never goes in this file (its value is not shown): set it in the environment variable SLACK_APP_TOKEN`,
		}},
		{"rules", `alerts:
  rules:
    - metric: retrun_rate
      threshold: 3%
    - metric: return_rate
      threshold: "3"
      consecutive: 0
    - metric: negative_reviews
      threshold: 2%
      min_sample: -1
    - metric: gmv
    - metric: acos
      threshold: lots
`, []string{
			`alerts.rules[0].metric: "retrun_rate" is not a metric with a target (kpibot ask "/kpi list" lists them)`,
			`alerts.rules[1].threshold: "3": this metric is a rate, write it with % (3%)`,
			`alerts.rules[1].consecutive: 0 is not between 1 and 100`,
			`alerts.rules[2].threshold: "2%": this metric is not a rate, write a plain number`,
			`alerts.rules[2].min_sample: -1 is negative`,
			`alerts.rules[3].metric: "gmv" is not a metric with a target (kpibot ask "/kpi list" lists them)`,
			`alerts.rules[4].threshold: "lots" is not a number`,
		}},
		{"a clear level beyond the target", `alerts:
  rules:
    - metric: return_rate
      threshold: 3%
    - metric: return_rate
      shop: rakuten
      clear: 4%
`, []string{
			`alerts.rules[1]: The clear level 4% lies beyond the alert level 3%: it must be on the good side of it (or equal).`,
		}},
		{"shops", `shops:
  - id: Amazon JP
    platform: amazon
  - id: rk
    platform: rakuten
    amazon:
      refresh_token_env: my token
  - id: amz
    platform: amazon
    amazon:
      endpoint: not a url
`, []string{
			`shops[0].id: "Amazon JP": use lower-case letters, digits, - and _ (at most 40)`,
			`shops[1].amazon: only for a shop on the amazon platform`,
			`shops[1].amazon.refresh_token_env: not the name of an environment variable (the secret itself never goes in this file)`,
			`shops[2].amazon.endpoint: "not a url" is not a URL`,
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
`, []string{
			`shops[0].imports.ordrs: "ordrs" is not one of orders, reviews, tickets, shifts, customs, listings, competitors, inventory, ads`,
			`shops[0].imports.orders.placd: "placd" is not one of id, placed, paid, ship_by, status, total, units, channel, ` +
				`shipped, carrier, tracking, customer`,
			`shops[0].imports.orders.placed: empty: write the header name of the field in the file, or a list of them`,
			`shops[0].imports.orders.paid: empty: write the header name of the field in the file, or a list of them`,
			`shops[0].imports.orders.id: empty: write the header name of the field in the file, or a list of them`,
		}},
		{"managers and routes", `alerts:
  managers:
    - name: 王
      slack: wang
    - name: 佐藤
      line: U0456
  routes:
    - metrics: [return_rate, gmv]
      to: [hq, everyone, slack:C0LOGISTICS]
`, []string{
			`alerts.managers[0].slack: "wang" is not a Slack member id (U0123ABCD)`,
			`alerts.managers[1].line: "U0456" is not a LINE user id (U and 32 hex digits)`,
			`alerts.routes[0].metrics[1]: "gmv" is not a metric with a target (kpibot ask "/kpi list" lists them)`,
			`alerts.routes[0].to[1]: "everyone" is neither a role (hq, jp-support, shop) nor a channel (slack:C…, line:C…)`,
		}},
		{"channel ids", `channels:
  - platform: slack
    id: general
    role: hq
  - platform: line
    id: U0456
    role: hq
`, []string{
			`channels[0].id: "general" is not a Slack channel id (C0123ABCD)`,
			`channels[1].id: "U0456" is not a LINE group, room or user id (C, R or U and 32 hex digits)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tt.yaml), p)
			var ce *configError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *configError", err, err)
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("a secret pasted in the file is echoed:\n%v", err)
			}
		})
	}
	if _, err := loadConfig("/nonexistent/kpibot.yaml", p); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
	for _, empty := range []string{"", "# nothing yet\n", "---\n"} {
		if s, err := parseConfig([]byte(empty), p); err != nil || len(s.overrides) != 0 {
			t.Errorf("an empty file %q: %+v, %v", empty, s, err)
		}
	}
}

// The problems are told in the reader's language.
func TestConfigErrorsInLanguages(t *testing.T) {
	file := `channels:
  - platform: slack
    id: C0HQ12345
    role: hq
  - platform: slack
    id: C0JP12345
    role: jp-support
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: jp
  - platform: slack
    id: C0SHOP2
    role: shop
    lang: ja
    token: xoxb-s3cr3t8
`
	for _, tt := range []struct {
		lang locales.Lang
		want []string
	}{
		{locales.English, []string{`channels[2].lang: "jp" is not one of zh, ja, en, bilingual`,
			`channels[3].token: a secret never goes in this file (its value is not shown): set it in the environment variable SLACK_BOT_TOKEN`}},
		{locales.Japanese, []string{`channels[2].lang: 「jp」は zh, ja, en, bilingual のいずれでもありません`,
			`channels[3].token: 秘密情報はこのファイルに書けません（値は表示しません）：環境変数 SLACK_BOT_TOKEN に設定してください`}},
		{locales.Chinese, []string{`channels[2].lang: “jp”不是 zh, ja, en, bilingual 之一`,
			`channels[3].token: 密钥绝不能写在此文件中（不显示其值）：请设置在环境变量 SLACK_BOT_TOKEN 中`}},
	} {
		_, err := parseConfig([]byte(file), testText(t).Printer(tt.lang))
		if err == nil {
			t.Fatalf("%s: no error", tt.lang)
		}
		if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.lang, err, strings.Join(tt.want, "\n"))
		}
	}
}

// The channels and the schedule the file sets, with their defaults.
func TestConfigChannelsAndSchedules(t *testing.T) {
	p := testText(t).Printer(locales.English)
	s, err := parseConfig([]byte(`shops:
  - id: amz
    platform: amazon
  - id: rk
    platform: rakuten
    sync_every: 1h
channels:
  - platform: slack
    id: C0HQ12345
    role: hq
  - platform: slack
    id: C0JP12345
    role: jp-support
    lang: bilingual
    digest_at: "8:30"
  - platform: line
    id: C0123456789abcdef0123456789abcdef
    role: shop
    lang: en
    shops: [rakuten, amz]
schedules:
  digest_at: "07:45"
  weekly_review: {weekday: Friday, at: "17:00"}
  monthly_review: {day: 3, at: "08:00"}
  evaluate_every: 10m
  sync_every: 30m
`), p)
	if err != nil {
		t.Fatal(err)
	}
	want := []channelSettings{
		{path: "channels[0]", channel: kpi.ChatChannel{Platform: "slack", ID: "C0HQ12345", Role: kpi.RoleHQ, Lang: "zh"}},
		{path: "channels[1]", channel: kpi.ChatChannel{Platform: "slack", ID: "C0JP12345", Role: kpi.RoleJPSupport, Lang: "zh+ja",
			DigestAt: "08:30"}},
		{path: "channels[2]", channel: kpi.ChatChannel{Platform: "line", ID: "C0123456789abcdef0123456789abcdef", Role: kpi.RoleShop,
			Lang: "en"}, shops: []string{"rakuten", "amz"}},
	}
	if !reflect.DeepEqual(s.channels, want) {
		t.Errorf("channels:\n%+v\nwant\n%+v", s.channels, want)
	}
	if s.digestAt != 7*time.Hour+45*time.Minute || s.weeklyOn != 5 || s.weeklyAt != 17*time.Hour || s.monthlyOn != 3 ||
		s.monthlyAt != 8*time.Hour || s.evaluateEvery != 10*time.Minute {
		t.Errorf("schedule: %v %d %v %d %v %v", s.digestAt, s.weeklyOn, s.weeklyAt, s.monthlyOn, s.monthlyAt, s.evaluateEvery)
	}
	if s.shops[0].every != 30*time.Minute || s.shops[1].every != time.Hour {
		t.Errorf("sync every: %v, %v; want schedules.sync_every for the shop without its own", s.shops[0].every, s.shops[1].every)
	}
	// Without a schedules section, the scheduler's defaults.
	if s, err = parseConfig([]byte("shops: [{id: amz, platform: amazon}]\n"), p); err != nil ||
		s.digestAt != 0 || s.weeklyOn != 0 || s.weeklyAt != 0 || s.monthlyOn != 0 || s.monthlyAt != 0 || s.evaluateEvery != 0 ||
		s.shops[0].every != 15*time.Minute {
		t.Errorf("defaults: %+v, %v", s, err)
	}
}

// applyChannels binds the file's channels in the store, over what they
// were bound to before, resolving shop ids and platforms against the
// shops of the file and of the database; a shop it cannot find binds
// nothing.
func TestApplyChannels(t *testing.T) {
	ctx := context.Background()
	p := testText(t).Printer(locales.English)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kpi.db"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// A shop only the database has, and an earlier binding from chat.
	if _, err := store.Write(ctx, &kpi.Batch{Shops: []kpi.Shop{{ID: "yh-old", Platform: kpi.Yahoo, Name: "Yahoo", Currency: "JPY"}}}); err != nil {
		t.Fatal(err)
	}
	earlier := kpi.ChatChannel{Platform: "slack", ID: "C0SHOP1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"yh-old"}, DigestAt: "07:00"}
	if err := store.BindChatChannel(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	file := `shops:
  - id: rk
    platform: rakuten
channels:
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: en
    shops: [rk]
  - platform: line
    id: C0123456789abcdef0123456789abcdef
    role: hq
    digest_at: "08:30"
`
	s, err := parseConfig([]byte(file), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyChannels(ctx, s, store); err != nil {
		t.Fatal(err)
	}
	for _, want := range []kpi.ChatChannel{
		{Platform: "slack", ID: "C0SHOP1", Role: kpi.RoleShop, Lang: "en", Shops: []string{"rk"}},
		{Platform: "line", ID: "C0123456789abcdef0123456789abcdef", Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"},
	} {
		got, ok, err := store.ChatChannel(ctx, want.Platform, want.ID)
		if err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("ChatChannel(%s, %s) = %+v, %v, %v; want %+v", want.Platform, want.ID, got, ok, err, want)
		}
	}

	// In a file without shops, the database's: a platform stands for its
	// shops there.
	s, err = parseConfig([]byte(`channels:
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: zh
    shops: [yahoo]
`), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyChannels(ctx, s, store); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := store.ChatChannel(ctx, "slack", "C0SHOP1"); !slices.Equal(got.Shops, []string{"yh-old"}) || got.Lang != "zh" {
		t.Errorf("bound by platform: %+v", got)
	}

	// A shop nobody has: nothing is bound, and the error says where.
	s, err = parseConfig([]byte(`channels:
  - platform: slack
    id: C0OTHER
    role: hq
  - platform: slack
    id: C0SHOP1
    role: shop
    lang: ja
    shops: [yh-old, nowhere, shopify]
`), p)
	if err != nil {
		t.Fatal(err)
	}
	err = applyChannels(ctx, s, store)
	var ce *configError
	if !errors.As(err, &ce) || err.Error() != `channels[1].shops[1]: "nowhere" is neither a shop of the config file or the database nor a platform`+
		"\n"+`channels[1].shops[2]: no shop is on the shopify platform` {
		t.Errorf("applyChannels = %v", err)
	}
	if _, ok, _ := store.ChatChannel(ctx, "slack", "C0OTHER"); ok {
		t.Error("a channel was bound although another could not be")
	}
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "")
	if code := configFailed(e, p, slog.New(slog.DiscardHandler), configSettings{path: "kpibot.yaml"}, err); code != 2 ||
		!strings.HasPrefix(errOut.String(), "The config file kpibot.yaml cannot be used:\nchannels[1].shops[1]: ") {
		t.Errorf("configFailed: exit %d, %q", code, errOut.String())
	}

	// No channels: nothing to do, the store is not even asked.
	if err := applyChannels(ctx, configSettings{}, nil); err != nil {
		t.Errorf("no channels: %v", err)
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
