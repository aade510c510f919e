package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// config is what the config file (--config, KPIBOT_CONFIG) sets. Secrets
// never come from it: they are read from the environment.
type config struct {
	Shops     []shopConfig    `yaml:"shops"`
	Channels  []channelConfig `yaml:"channels"`
	Schedules schedulesConfig `yaml:"schedules"`
	Alerts    alertsConfig    `yaml:"alerts"`
}

// shopConfig is a shop, the connector that pulls it (none: it is not
// pulled) and the header names of its exports (kpibot import).
type shopConfig struct {
	ID          string         `yaml:"id"`
	Platform    string         `yaml:"platform"`
	Name        string         `yaml:"name"`
	Marketplace string         `yaml:"marketplace"`
	Currency    string         `yaml:"currency"`
	SyncEvery   string         `yaml:"sync_every"` // a Go duration; "": schedules.sync_every, else 15m
	Amazon      *amazonConfig  `yaml:"amazon"`
	Rakuten     *rakutenConfig `yaml:"rakuten"`
	Yahoo       *yahooConfig   `yaml:"yahoo"`
	Shopify     *shopifyConfig `yaml:"shopify"`
	// Imports are the header names of the shop's exports, by kind of file
	// (csvimport.Kinds) and field (csvimport.Fields): kpibot import reads
	// them as if given with --header FIELD=NAME.
	Imports map[string]map[string]headerNames `yaml:"imports"`
}

// headerNames are a field's header names: a list, or a single name.
type headerNames []string

func (h *headerNames) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var name string
		if err := n.Decode(&name); err != nil {
			return err
		}
		*h = headerNames{name}
		return nil
	case yaml.MappingNode:
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: not a header name or a list of them", n.Line)}}
	}
	return n.Decode((*[]string)(h))
}

// rakutenConfig is how a Rakuten shop is pulled (RMS). The secrets are
// read from the variables named: the service secret and the license key.
type rakutenConfig struct {
	ServiceSecretEnv string `yaml:"service_secret_env"` // "": RAKUTEN_SERVICE_SECRET
	LicenseKeyEnv    string `yaml:"license_key_env"`    // "": RAKUTEN_LICENSE_KEY
	// LicenseKeyIssued is when the license key was issued (YYYY-MM-DD):
	// it expires 90 days later, and the hq channels are warned 14 days
	// before.
	LicenseKeyIssued string `yaml:"license_key_issued"`
	Endpoint         string `yaml:"endpoint"` // "": https://api.rms.rakuten.co.jp
}

// yahooConfig is how a Yahoo! Shopping store is pulled. The access token
// and the store's public key (PEM) are read from the variables named.
type yahooConfig struct {
	SellerID     string `yaml:"seller_id"`
	TokenEnv     string `yaml:"token_env"`      // "": YAHOO_ACCESS_TOKEN
	PublicKeyEnv string `yaml:"public_key_env"` // "": YAHOO_PUBLIC_KEY
	KeyVersion   string `yaml:"key_version"`
	Endpoint     string `yaml:"endpoint"` // "": https://circus.shopping.yahooapis.jp
}

// shopifyConfig is how a Shopify store is pulled (Admin GraphQL). The
// access token is read from the variable named.
type shopifyConfig struct {
	Store      string `yaml:"store"`     // myshop, or myshop.myshopify.com
	TokenEnv   string `yaml:"token_env"` // "": SHOPIFY_ACCESS_TOKEN
	APIVersion string `yaml:"api_version"`
	Endpoint   string `yaml:"endpoint"`
}

// amazonConfig is how an Amazon shop is pulled. The secrets are read from
// the environment: AMAZON_LWA_CLIENT_ID and AMAZON_LWA_CLIENT_SECRET (the
// Login with Amazon app), and the seller's refresh token from the variable
// refresh_token_env names.
type amazonConfig struct {
	RefreshTokenEnv    string `yaml:"refresh_token_env"`     // "": AMAZON_REFRESH_TOKEN
	AdsProfileID       string `yaml:"ads_profile_id"`        // "": the ads are not pulled
	AdsRefreshTokenEnv string `yaml:"ads_refresh_token_env"` // "": the seller's refresh token
	Endpoint           string `yaml:"endpoint"`              // SP-API base URL; "": the Far East endpoint
	TokenURL           string `yaml:"token_url"`             // Login with Amazon; "": api.amazon.com
	AdsEndpoint        string `yaml:"ads_endpoint"`          // Amazon Ads; "": the Far East endpoint
}

// channelConfig is a chat channel bound from the file, as /kpi bind would
// bind it: at serve's start, replacing what it was bound to before.
type channelConfig struct {
	Platform string   `yaml:"platform"`  // slack, line
	ID       string   `yaml:"id"`        // the platform's channel, group or user id
	Role     string   `yaml:"role"`      // hq, jp-support, shop
	Lang     string   `yaml:"lang"`      // zh, ja, en, bilingual; "": the role's (hq zh, jp-support ja)
	Shops    []string `yaml:"shops"`     // shop ids or platforms; none: every shop
	DigestAt string   `yaml:"digest_at"` // HH:MM JST; "": schedules.digest_at
}

// schedulesConfig is when the timed work runs: what bot/schedule can be
// told.
type schedulesConfig struct {
	DigestAt      string        `yaml:"digest_at"` // HH:MM JST, for the channels without their own; "": 09:00
	WeeklyReview  weeklyConfig  `yaml:"weekly_review"`
	MonthlyReview monthlyConfig `yaml:"monthly_review"`
	EvaluateEvery string        `yaml:"evaluate_every"` // a Go duration; "": 5m
	SyncEvery     string        `yaml:"sync_every"`     // the shops' default; "": 15m
}

type weeklyConfig struct {
	Weekday string `yaml:"weekday"` // monday … sunday; "": monday
	At      string `yaml:"at"`      // HH:MM JST; "": 10:00
}

type monthlyConfig struct {
	Day *int   `yaml:"day"` // 1 to 28; nil: 1
	At  string `yaml:"at"`  // HH:MM JST; "": 10:00
}

// alertsConfig is the config file's alerts section.
type alertsConfig struct {
	ResendAfter   string          `yaml:"resend_after"`   // a Go duration: 30m
	EscalateAfter string          `yaml:"escalate_after"` // a Go duration: 1h
	Managers      []managerConfig `yaml:"managers"`
	Rules         []ruleConfig    `yaml:"rules"`
	Routes        []routeConfig   `yaml:"routes"`
}

type managerConfig struct {
	Name  string   `yaml:"name"`
	Slack string   `yaml:"slack"`
	LINE  string   `yaml:"line"`
	Lang  string   `yaml:"lang"`
	Shops []string `yaml:"shops"`
}

// ruleConfig changes the alert rule of a metric, for one shop or every
// shop. Levels of rates are written with %: "3%".
type ruleConfig struct {
	Metric      string  `yaml:"metric"`
	Shop        string  `yaml:"shop"`
	Severity    string  `yaml:"severity"`
	Threshold   string  `yaml:"threshold"`
	Clear       string  `yaml:"clear"`
	Consecutive *int    `yaml:"consecutive"`
	MinSample   *int64  `yaml:"min_sample"`
	Runbook     *string `yaml:"runbook"`
	Disabled    *bool   `yaml:"disabled"`
}

type routeConfig struct {
	Metrics []string `yaml:"metrics"`
	Shops   []string `yaml:"shops"`
	To      []string `yaml:"to"`
}

// configSettings are what the config file sets: the shops and their
// connectors, the channels bound from it, the schedule's times and the
// alert engine's settings.
type configSettings struct {
	shops         []shopSettings
	channels      []channelSettings
	overrides     []kpi.RuleOverride
	routes        []alert.Route
	managers      []alert.Contact
	resendAfter   time.Duration
	escalateAfter time.Duration

	// The schedule (bot/schedule.Config); 0 is the scheduler's default.
	digestAt      time.Duration // DigestAt: for the channels without their own time (09:00)
	weeklyOn      int           // WeeklyOn: 1 Monday … 7 Sunday (Monday)
	weeklyAt      time.Duration // WeeklyAt (10:00)
	monthlyOn     int           // MonthlyOn: 1 to 28 (the 1st)
	monthlyAt     time.Duration // MonthlyAt (10:00)
	evaluateEvery time.Duration // EvaluateEvery (serve's alertsEvery)

	path    string           // the file read; "": none
	printer *locales.Printer // the language its problems are told in
}

// channelSettings is a channel the file binds. Its shops are names, shop
// ids or platforms, that applyChannels resolves against the shops of the
// file and of the database.
type channelSettings struct {
	path    string          // channels[i], where its problems are
	channel kpi.ChatChannel // without its Shops
	shops   []string
}

// shopSettings is a configured shop, how often it is pulled and how (at
// most one connector, of the shop's platform).
type shopSettings struct {
	shop    kpi.Shop
	every   time.Duration
	amazon  *amazonConfig
	rakuten *rakutenConfig
	yahoo   *yahooConfig
	shopify *shopifyConfig
	issued  time.Time // the Rakuten license key's issue day, JST; zero if not given
	// imports are the header names of the shop's exports by kind, each
	// a csvimport.Options.Headers.
	imports map[csvimport.Kind]map[string][]string
}

// importHeaders returns the config file's header names of the shop's
// exports of kind (nil if none): field → names.
func (s configSettings) importHeaders(shop string, kind csvimport.Kind) map[string][]string {
	for _, sh := range s.shops {
		if sh.shop.ID == shop {
			return sh.imports[kind]
		}
	}
	return nil
}

// shopIDRE is what a shop id looks like: it names the shop in commands.
var shopIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// badFunc reports a problem of the config file at path: a message id of
// locales (config.*) and its data.
type badFunc func(path, id string, args map[string]any)

// checkShops reads the shops section, reporting each problem by path;
// syncEvery is a shop's interval when it gives none.
func checkShops(shops []shopConfig, syncEvery time.Duration, bad badFunc) []shopSettings {
	var out []shopSettings
	seen := map[string]string{} // id → the path of the shop that has it
	for i, c := range shops {
		path := fmt.Sprintf("shops[%d]", i)
		sh := kpi.Shop{ID: c.ID, Platform: kpi.Platform(c.Platform), Name: cmp.Or(c.Name, c.ID), Marketplace: c.Marketplace,
			Currency: cmp.Or(c.Currency, "JPY")}
		switch {
		case c.ID == "":
			bad(path+".id", "config.missing", nil)
		case !shopIDRE.MatchString(c.ID):
			bad(path+".id", "config.bad_shop_id", map[string]any{"Value": c.ID})
		case seen[c.ID] != "":
			bad(path+".id", "config.duplicate", map[string]any{"Value": c.ID, "Other": seen[c.ID]})
		default:
			seen[c.ID] = path
		}
		switch {
		case c.Platform == "":
			bad(path+".platform", "config.missing", nil)
		case !slices.Contains(kpi.Platforms, sh.Platform):
			bad(path+".platform", "config.enum", map[string]any{"Value": c.Platform, "Values": platformList()})
		}
		every := cmp.Or(syncEvery, 15*time.Minute)
		if c.SyncEvery != "" {
			every = minuteOrMore(path+".sync_every", c.SyncEvery, bad)
		}
		sections := map[kpi.Platform]bool{kpi.Amazon: c.Amazon != nil, kpi.Rakuten: c.Rakuten != nil, kpi.Yahoo: c.Yahoo != nil,
			kpi.Shopify: c.Shopify != nil}
		for _, name := range kpi.Platforms {
			if sections[name] && sh.Platform != name {
				bad(path+"."+string(name), "config.section_platform", map[string]any{"Platform": string(name)})
			}
		}
		var issued time.Time
		envs := map[string]string{} // by field: the name of a variable with a secret
		urls := map[string]string{} // by field: a base URL
		if a := c.Amazon; a != nil {
			urls["amazon.endpoint"], urls["amazon.token_url"], urls["amazon.ads_endpoint"] = a.Endpoint, a.TokenURL, a.AdsEndpoint
			envs["amazon.refresh_token_env"], envs["amazon.ads_refresh_token_env"] = a.RefreshTokenEnv, a.AdsRefreshTokenEnv
		}
		if r := c.Rakuten; r != nil {
			envs["rakuten.service_secret_env"], envs["rakuten.license_key_env"] = r.ServiceSecretEnv, r.LicenseKeyEnv
			urls["rakuten.endpoint"] = r.Endpoint
			if r.LicenseKeyIssued != "" {
				d, err := kpi.ParseDate(r.LicenseKeyIssued)
				if err != nil {
					bad(path+".rakuten.license_key_issued", "config.bad_date", map[string]any{"Value": r.LicenseKeyIssued})
				}
				issued = d.Start()
			}
		}
		if y := c.Yahoo; y != nil {
			envs["yahoo.token_env"], envs["yahoo.public_key_env"] = y.TokenEnv, y.PublicKeyEnv
			urls["yahoo.endpoint"] = y.Endpoint
			if y.SellerID == "" {
				bad(path+".yahoo.seller_id", "config.missing", nil)
			}
		}
		if sp := c.Shopify; sp != nil {
			envs["shopify.token_env"] = sp.TokenEnv
			urls["shopify.endpoint"] = sp.Endpoint
			if sp.Store == "" {
				bad(path+".shopify.store", "config.missing", nil)
			}
		}
		for _, field := range slices.Sorted(maps.Keys(envs)) {
			// The value is not echoed: it may be the secret itself.
			if v := envs[field]; v != "" && !envNameRE.MatchString(v) {
				bad(path+"."+field, "config.not_env_name", nil)
			}
		}
		for _, field := range slices.Sorted(maps.Keys(urls)) {
			if u := urls[field]; u != "" && !isURL(u) {
				bad(path+"."+field, "config.bad_url", map[string]any{"Value": u})
			}
		}
		out = append(out, shopSettings{shop: sh, every: every, amazon: c.Amazon, rakuten: c.Rakuten, yahoo: c.Yahoo, shopify: c.Shopify,
			issued: issued, imports: checkImports(path+".imports", c.Imports, bad)})
	}
	return out
}

// checkImports reads a shop's imports section: kinds of file, their
// fields and each field's header names.
func checkImports(path string, imports map[string]map[string]headerNames, bad badFunc) map[csvimport.Kind]map[string][]string {
	if len(imports) == 0 {
		return nil
	}
	out := map[csvimport.Kind]map[string][]string{}
	seen := map[csvimport.Kind]string{} // the key that gave the kind first
	for _, key := range slices.Sorted(maps.Keys(imports)) {
		kind, ok := csvimport.ParseKind(key)
		switch {
		case !ok:
			bad(path+"."+key, "config.enum", map[string]any{"Value": key, "Values": strings.Join(kindNames(), ", ")})
			continue
		case seen[kind] != "":
			bad(path+"."+key, "config.duplicate", map[string]any{"Value": string(kind), "Other": path + "." + seen[kind]})
			continue
		}
		seen[kind] = key
		fields := csvimport.Fields(kind)
		headers := map[string][]string{}
		for _, field := range slices.Sorted(maps.Keys(imports[key])) {
			fpath := path + "." + key + "." + field
			if !slices.Contains(fields, field) {
				bad(fpath, "config.enum", map[string]any{"Value": field, "Values": strings.Join(fields, ", ")})
				continue
			}
			var names []string
			for _, name := range imports[key][field] {
				names = append(names, strings.TrimSpace(name))
			}
			if len(names) == 0 || slices.Contains(names, "") {
				bad(fpath, "config.import_empty", nil)
				continue
			}
			headers[field] = names
		}
		out[kind] = headers
	}
	return out
}

// Chat ids: Slack's channels, private channels and DMs; LINE's groups,
// rooms and users.
var (
	slackChannelRE = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	lineChatRE     = regexp.MustCompile(`^[CRU][0-9a-f]{32}$`)
)

// channelLangs are the languages a channel of the file may have, and how
// they are kept.
var channelLangs = map[string]locales.Lang{"zh": locales.Chinese, "ja": locales.Japanese, "en": locales.English,
	"bilingual": locales.Bilingual, "zh+ja": locales.Bilingual}

// checkChannels reads the channels section. A shop a channel names must be
// a shop of the file or a platform; in a file without shops, any shop id,
// which applyChannels looks for in the database.
func checkChannels(channels []channelConfig, shops []shopSettings, bad badFunc) []channelSettings {
	var out []channelSettings
	seen := map[string]string{} // platform:id → the path of the channel that has it
	for i, c := range channels {
		path := fmt.Sprintf("channels[%d]", i)
		ch := kpi.ChatChannel{Platform: c.Platform, ID: c.ID, Role: kpi.Role(c.Role)}
		okPlatform := false
		switch c.Platform {
		case "":
			bad(path+".platform", "config.missing", nil)
		case "slack", "line":
			okPlatform = true
		default:
			bad(path+".platform", "config.enum", map[string]any{"Value": c.Platform, "Values": "slack, line"})
		}
		switch key := c.Platform + ":" + c.ID; {
		case c.ID == "":
			bad(path+".id", "config.missing", nil)
		case c.Platform == "slack" && !slackChannelRE.MatchString(c.ID):
			bad(path+".id", "config.bad_slack_channel", map[string]any{"Value": c.ID})
		case c.Platform == "line" && !lineChatRE.MatchString(c.ID):
			bad(path+".id", "config.bad_line_chat", map[string]any{"Value": c.ID})
		case okPlatform && seen[key] != "":
			bad(path+".id", "config.duplicate", map[string]any{"Value": key, "Other": seen[key]})
		default:
			seen[key] = path
		}
		switch {
		case c.Role == "":
			bad(path+".role", "config.missing", nil)
		case !slices.Contains(kpi.Roles, ch.Role):
			bad(path+".role", "config.enum", map[string]any{"Value": c.Role, "Values": roleList()})
		}
		if c.Lang == "" {
			ch.Lang = ch.Role.Lang()
			if ch.Role == kpi.RoleShop {
				bad(path+".lang", "config.missing_lang", nil)
			}
		} else if l, ok := channelLangs[c.Lang]; ok {
			ch.Lang = string(l)
		} else {
			bad(path+".lang", "config.enum", map[string]any{"Value": c.Lang, "Values": "zh, ja, en, bilingual"})
		}
		if c.DigestAt != "" {
			if at, ok := clock(path+".digest_at", c.DigestAt, bad); ok {
				ch.DigestAt = kpi.FormatClock(at)
			}
		}
		for j, name := range c.Shops {
			spath := fmt.Sprintf("%s.shops[%d]", path, j)
			known := slices.ContainsFunc(shops, func(s shopSettings) bool { return s.shop.ID == name || string(s.shop.Platform) == name })
			switch {
			case known:
			case len(shops) == 0 && (shopIDRE.MatchString(name) || slices.Contains(kpi.Platforms, kpi.Platform(name))):
				// looked for in the database by applyChannels
			case slices.Contains(kpi.Platforms, kpi.Platform(name)):
				bad(spath, "config.no_shops_on_platform", map[string]any{"Value": name})
			default:
				bad(spath, "config.bad_shop_ref", map[string]any{"Value": name, "Platforms": platformList()})
			}
		}
		out = append(out, channelSettings{path: path, channel: ch, shops: c.Shops})
	}
	return out
}

// weekdays are the weekly review's days, by name: ISO numbers, 1 Monday.
var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// checkSchedules reads the schedules section into s.
func checkSchedules(c schedulesConfig, s *configSettings, bad badFunc) (syncEvery time.Duration) {
	// A time of 0 is the scheduler's default: midnight cannot be told.
	at := func(path, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, ok := clock(path, v, bad)
		if ok && d == 0 {
			bad(path, "config.midnight", nil)
		}
		return d
	}
	s.digestAt = at("schedules.digest_at", c.DigestAt)
	if w := c.WeeklyReview.Weekday; w != "" {
		s.weeklyOn = slices.Index(weekdays, strings.ToLower(w)) + 1
		if s.weeklyOn == 0 {
			bad("schedules.weekly_review.weekday", "config.enum", map[string]any{"Value": w, "Values": strings.Join(weekdays, ", ")})
		}
	}
	s.weeklyAt = at("schedules.weekly_review.at", c.WeeklyReview.At)
	if d := c.MonthlyReview.Day; d != nil {
		if *d < 1 || *d > 28 {
			bad("schedules.monthly_review.day", "config.range", map[string]any{"Value": *d, "Min": 1, "Max": 28})
		} else {
			s.monthlyOn = *d
		}
	}
	s.monthlyAt = at("schedules.monthly_review.at", c.MonthlyReview.At)
	if c.EvaluateEvery != "" {
		s.evaluateEvery = minuteOrMore("schedules.evaluate_every", c.EvaluateEvery, bad)
	}
	if c.SyncEvery != "" {
		syncEvery = minuteOrMore("schedules.sync_every", c.SyncEvery, bad)
	}
	return syncEvery
}

// clock reads a time of day, HH:MM (full-width digits too).
func clock(path, v string, bad badFunc) (time.Duration, bool) {
	d, err := kpi.ParseClock(bot.Normalize(strings.TrimSpace(v)))
	if err != nil {
		bad(path, "config.bad_time", map[string]any{"Value": v})
		return 0, false
	}
	return d, true
}

// minuteOrMore reads an interval of a minute or more.
func minuteOrMore(path, v string, bad badFunc) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		bad(path, "config.short_duration", map[string]any{"Value": v})
		return 0
	}
	return d
}

// checkAlerts reads the alerts section into s.
func checkAlerts(a alertsConfig, s *configSettings, bad badFunc) {
	duration := func(path, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(path, "config.bad_duration", map[string]any{"Value": v})
			return 0
		}
		return d
	}
	s.resendAfter = duration("alerts."+"resend_after", a.ResendAfter) // split: not a message id
	s.escalateAfter = duration("alerts."+"escalate_after", a.EscalateAfter)
	for i, m := range a.Managers {
		path := fmt.Sprintf("alerts.managers[%d]", i)
		ct := alert.Contact{Name: m.Name, Slack: m.Slack, LINE: m.LINE, Lang: m.Lang, Shops: m.Shops}
		if m.Name == "" {
			bad(path+".name", "config.missing_name", nil)
		}
		// Each field alone, so that the problem is told where it is.
		switch {
		case m.Slack == "" && m.LINE == "":
			bad(path, "config.missing_contact", nil)
		case m.Slack != "" && (alert.Contact{Slack: m.Slack}).Check() != nil:
			bad(path+".slack", "config.bad_slack_member", map[string]any{"Value": m.Slack})
		case m.LINE != "" && (alert.Contact{LINE: m.LINE}).Check() != nil:
			bad(path+".line", "config.bad_line_user", map[string]any{"Value": m.LINE})
		}
		if _, ok := locales.ParseLang(m.Lang); m.Lang != "" && !ok {
			bad(path+".lang", "config.enum", map[string]any{"Value": m.Lang, "Values": "zh, ja, en, bilingual"})
		}
		s.managers = append(s.managers, ct)
	}
	seen := map[string]string{} // metric:shop → the path of the rule for it
	var good []kpi.RuleOverride // the rules without a problem of their own
	for i, r := range a.Rules {
		path := fmt.Sprintf("alerts.rules[%d]", i)
		o := kpi.RuleOverride{Metric: r.Metric, Shop: r.Shop, Severity: kpi.Severity(r.Severity), Consecutive: r.Consecutive,
			MinSample: r.MinSample, Runbook: r.Runbook, Disabled: r.Disabled}
		m, ok := kpi.Lookup(r.Metric)
		switch {
		case r.Metric == "":
			bad(path+".metric", "config.missing", nil)
			continue
		case r.Metric != alert.Freshness && (!ok || m.Op == ""):
			bad(path+".metric", "config.bad_metric", map[string]any{"Value": r.Metric})
			continue
		}
		problems := 0
		ruleBad := func(path, id string, args map[string]any) {
			problems++
			bad(path, id, args)
		}
		if key := alert.Key(r.Metric, r.Shop); seen[key] != "" {
			ruleBad(path, "config.duplicate", map[string]any{"Value": key, "Other": seen[key]})
		} else {
			seen[key] = path
		}
		if o.Severity != "" && o.Severity != kpi.SeverityCritical && o.Severity != kpi.SeverityWarning {
			ruleBad(path+".severity", "config.enum", map[string]any{"Value": r.Severity, "Values": "critical, warning"})
		}
		percent := ok && m.Unit == kpi.Percent
		o.Target = level(path+".threshold", r.Threshold, percent, ruleBad)
		o.Clear = level(path+".clear", r.Clear, percent, ruleBad)
		if o.Consecutive != nil && (*o.Consecutive < 1 || *o.Consecutive > 100) {
			ruleBad(path+".consecutive", "config.range", map[string]any{"Value": *o.Consecutive, "Min": 1, "Max": 100})
		}
		if o.MinSample != nil && *o.MinSample < 0 {
			ruleBad(path+".min_sample", "config.negative", map[string]any{"Value": *o.MinSample})
		}
		s.overrides = append(s.overrides, o)
		if problems > 0 {
			continue
		}
		// What only the rules together can tell (a clear level beyond the
		// target a rule for every shop sets) the alert engine checks: the
		// rule that makes it wrong is told.
		if err := alert.CheckOverrides(append(slices.Clone(good), o)); err != nil {
			var ke *kpi.Error
			if errors.As(err, &ke) && ke.Key != "" {
				bad(path, ke.Key, ke.Args) // error.alert_rule_*
			} else {
				bad(path, "config.rule", map[string]any{"Problem": err.Error()})
			}
			continue
		}
		good = append(good, o)
	}
	for i, r := range a.Routes {
		path := fmt.Sprintf("alerts.routes[%d]", i)
		rt := alert.Route{Metrics: r.Metrics, Shops: r.Shops, To: r.To}
		for j, id := range r.Metrics {
			if m, ok := kpi.Lookup(id); id != alert.Freshness && (!ok || m.Op == "") {
				bad(fmt.Sprintf("%s.metrics[%d]", path, j), "config.bad_metric", map[string]any{"Value": id})
			}
		}
		if len(r.To) == 0 {
			bad(path+".to", "config.missing", nil)
		}
		for j, to := range r.To {
			// Each alone, so that the problem is told where it is.
			if (alert.Route{To: []string{to}}).Check() != nil {
				bad(fmt.Sprintf("%s.to[%d]", path, j), "config.bad_route_to", map[string]any{"Value": to})
			}
		}
		s.routes = append(s.routes, rt)
	}
}

// level reads a threshold or clear level: a rate with % ("3%", "98.5%"),
// anything else as a plain number; "" is not set.
func level(path, v string, percent bool, bad badFunc) *float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	num, isPercent := strings.CutSuffix(v, "%")
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	switch {
	case err != nil:
		bad(path, "config.not_number", map[string]any{"Value": v})
		return nil
	case percent && !isPercent:
		bad(path, "config.rate_percent", map[string]any{"Value": v, "Percent": strconv.FormatFloat(x, 'f', -1, 64) + "%"})
		return nil
	case !percent && isPercent:
		bad(path, "config.not_rate", map[string]any{"Value": v})
		return nil
	case percent:
		x /= 100
	}
	return &x
}

// isURL reports whether u is an absolute URL.
func isURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Scheme != "" && p.Host != ""
}

// envNameRE is what an environment variable's name looks like.
var envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func platformList() string {
	var names []string
	for _, p := range kpi.Platforms {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

func roleList() string {
	var names []string
	for _, r := range kpi.Roles {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// readConfig reads the config file at path, else at KPIBOT_CONFIG; with
// neither, the defaults. A file that cannot be read or is wrong is reported
// on stderr, every problem with where it is, and ok is false: the command
// exits with 2 rather than run with settings nobody meant.
func readConfig(e env, p *locales.Printer, path string) (s configSettings, ok bool) {
	path = cmp.Or(path, e.getenv("KPIBOT_CONFIG"))
	if path == "" {
		return configSettings{printer: p}, true
	}
	s, err := loadConfig(path, p)
	if err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.config_invalid", map[string]any{"Path": path, "Error": err.Error()}))
		return configSettings{}, false
	}
	return s, true
}

// loadConfig reads the config file at path and checks it: the error, a
// *configError, lists every problem found, each with where it is
// (alerts.rules[2].threshold), in p's language.
func loadConfig(path string, p *locales.Printer) (configSettings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return configSettings{}, err
	}
	s, err := parseConfig(data, p)
	s.path = path
	return s, err
}

// parseConfig reads and checks a config file's contents.
func parseConfig(data []byte, p *locales.Printer) (configSettings, error) {
	ck := &checker{p: p, lines: map[string]int{}, told: map[string]bool{}}
	var c config
	if !ck.decode(data, &c) {
		return configSettings{}, ck.err()
	}
	s := configSettings{printer: p}
	syncEvery := checkSchedules(c.Schedules, &s, ck.bad)
	s.shops = checkShops(c.Shops, syncEvery, ck.bad)
	s.channels = checkChannels(c.Channels, s.shops, ck.bad)
	checkAlerts(c.Alerts, &s, ck.bad)
	if err := ck.err(); err != nil {
		return configSettings{}, err
	}
	return s, nil
}

// configError is what is wrong with a config file: every problem, with
// where it is, in the reader's language, a line each.
type configError struct{ lines []string }

func (e *configError) Error() string { return strings.Join(e.lines, "\n") }

// configFailed reports an error of applyChannels and returns the exit
// code: the file's problems, with where each is, as readConfig does, and
// 2; anything else (the database) as fail does.
func configFailed(e env, p *locales.Printer, log *slog.Logger, s configSettings, err error) int {
	var ce *configError
	if errors.As(err, &ce) {
		fmt.Fprintln(e.stderr, p.T("cli.config_invalid", map[string]any{"Path": s.path, "Error": ce.Error()}))
		return 2
	}
	return fail(e.stderr, p, log, err)
}

// channelBinder is where applyChannels binds the file's channels.
type channelBinder interface {
	Shops(ctx context.Context) ([]kpi.Shop, error)
	BindChatChannel(ctx context.Context, c kpi.ChatChannel) error
}

// applyChannels binds the channels of the config file, replacing what each
// was bound to before (the file wins over /kpi bind, at every start). The
// shops a channel names are looked for among the shops of the file and of
// the database, a platform standing for its shops, as /kpi bind does.
// When one cannot be found, nothing is bound and the error, a
// *configError, says where each is.
func applyChannels(ctx context.Context, s configSettings, store channelBinder) error {
	if len(s.channels) == 0 {
		return nil
	}
	stored, err := store.Shops(ctx)
	if err != nil {
		return fmt.Errorf("config: channels: %w", err)
	}
	shops := slices.Clone(stored)
	for _, sh := range s.shops {
		if !slices.ContainsFunc(shops, func(x kpi.Shop) bool { return x.ID == sh.shop.ID }) {
			shops = append(shops, sh.shop)
		}
	}
	p := s.printer
	if p == nil {
		text, err := locales.Load()
		if err != nil {
			return err
		}
		p = text.Printer(locales.English)
	}
	ck := &checker{p: p, lines: map[string]int{}, told: map[string]bool{}}
	var chans []kpi.ChatChannel
	for _, cs := range s.channels {
		ch := cs.channel
		for j, name := range cs.shops {
			found := false
			for _, sh := range shops {
				if sh.ID == name || string(sh.Platform) == name {
					found = true
					if !slices.Contains(ch.Shops, sh.ID) {
						ch.Shops = append(ch.Shops, sh.ID)
					}
				}
			}
			switch path := fmt.Sprintf("%s.shops[%d]", cs.path, j); {
			case found:
			case slices.Contains(kpi.Platforms, kpi.Platform(name)):
				ck.bad(path, "config.no_shops_on_platform", map[string]any{"Value": name})
			default:
				ck.bad(path, "config.unknown_shop", map[string]any{"Value": name})
			}
		}
		chans = append(chans, ch)
	}
	if err := ck.err(); err != nil {
		return err
	}
	for _, ch := range chans {
		if err := store.BindChatChannel(ctx, ch); err != nil {
			return fmt.Errorf("config: bind %s channel %s: %w", ch.Platform, ch.ID, err)
		}
	}
	return nil
}

// checker collects the problems of a config file. decode reads the file
// into the config's types and tells, by path, what does not fit them:
// unknown keys, values of the wrong type, keys given twice and secrets;
// the checks of what the values mean tell theirs through bad.
type checker struct {
	p        *locales.Printer
	problems []problem
	lines    map[string]int  // path → the line it is on
	told     map[string]bool // paths with a problem of the file's shape: the checks' problems there and below are not told again
}

// problem is one problem of a config file, told in the reader's language.
type problem struct {
	path, text string
	line       int
}

// tell records a problem of the file's shape at path, on line.
func (ck *checker) tell(path string, line int, id string, args map[string]any) {
	ck.told[path] = true
	ck.problems = append(ck.problems, problem{path: path, text: ck.p.T(id, args), line: line})
}

// bad records a problem that a check of the values found at path, unless
// a problem of the file's shape was told there or above.
func (ck *checker) bad(path, id string, args map[string]any) {
	line := -1
	for q := path; ; {
		if ck.told[q] {
			return
		}
		if l, ok := ck.lines[q]; ok && line < 0 {
			line = l
		}
		i := strings.LastIndexAny(q, ".[")
		if i < 0 {
			break
		}
		q = q[:i]
	}
	ck.problems = append(ck.problems, problem{path: path, text: ck.p.T(id, args), line: max(line, 0)})
}

// err returns the problems in the order of the file, nil if none.
func (ck *checker) err() error {
	if len(ck.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(ck.problems, func(a, b problem) int { return cmp.Compare(a.line, b.line) })
	e := &configError{}
	for _, pr := range ck.problems {
		if pr.path == "" {
			e.lines = append(e.lines, pr.text)
		} else {
			e.lines = append(e.lines, pr.path+": "+pr.text)
		}
	}
	return e
}

// decode reads data into c. Only what fits c's types is read: the rest is
// told by path. It returns false when data is not YAML at all.
func (ck *checker) decode(data []byte, c *config) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml's own words, in English: "line 3: did not find expected key"
		ck.tell("", 0, "config.syntax", map[string]any{"Error": strings.TrimPrefix(err.Error(), "yaml: ")})
		return false
	}
	if len(doc.Content) == 0 {
		return true // empty: the defaults
	}
	root := doc.Content[0]
	ck.walk(root, reflect.TypeFor[config](), "", "", 0)
	if err := root.Decode(c); err != nil {
		// The walk leaves nothing that yaml refuses; should it, say so.
		ck.tell("", 0, "config.syntax", map[string]any{"Error": strings.TrimPrefix(err.Error(), "yaml: ")})
		return false
	}
	return true
}

var (
	headerNamesType = reflect.TypeFor[headerNames]()
	shopConfigType  = reflect.TypeFor[shopConfig]()
)

// sections are the keys under which a platform's settings are: a secret
// found there is told with the variable of that platform.
var sections = []string{"amazon", "rakuten", "yahoo", "shopify", "slack", "line"}

// walk checks that node n fits type t, at path; section is the platform
// whose settings n is in, if any. What does not fit is told and taken out
// of the tree (a value of the wrong type becomes null, an unknown key or
// a key given twice is dropped), so that yaml decodes the rest.
func (ck *checker) walk(n *yaml.Node, t reflect.Type, path, section string, depth int) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if depth > 32 || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if _, ok := ck.lines[path]; !ok {
		ck.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && secretValue(n.Value) {
		ck.secret(path, n.Line, section, lastKey(path), n.Value)
		nullNode(n)
		return
	}
	if t == headerNamesType {
		switch n.Kind {
		case yaml.ScalarNode:
		case yaml.SequenceNode:
			ck.walk(n, reflect.TypeFor[[]string](), path, section, depth)
		default:
			ck.wrongType(n, path, "config.type_names")
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		ck.walk(n, t.Elem(), path, section, depth)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			ck.wrongType(n, path, "config.type_map")
			return
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			fields[name] = t.Field(i).Type
		}
		if t == shopConfigType {
			if v := mappingValue(n, "platform"); v != nil && v.Kind == yaml.ScalarNode {
				section = v.Value
			}
		}
		ck.mapping(n, path, func(k, v *yaml.Node, kpath string) bool {
			if k.Value == "<<" && k.Tag == "!!merge" {
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, m := range merged {
					ck.walk(m, t, path, section, depth+1)
				}
				return true
			}
			ft, ok := fields[k.Value]
			if !ok {
				ck.unknown(k, v, kpath, section, slices.Sorted(maps.Keys(fields)))
				return false
			}
			sec := section
			if slices.Contains(sections, k.Value) {
				sec = k.Value
			}
			ck.walk(v, ft, kpath, sec, depth+1)
			return true
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			ck.wrongType(n, path, "config.type_map")
			return
		}
		ck.mapping(n, path, func(_, v *yaml.Node, kpath string) bool {
			ck.walk(v, t.Elem(), kpath, section, depth+1)
			return true
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			ck.wrongType(n, path, "config.type_list")
			return
		}
		for i, item := range n.Content {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			ck.lines[ipath] = item.Line
			ck.walk(item, t.Elem(), ipath, section, depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			ck.wrongType(n, path, "config.type_text")
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			ck.wrongType(n, path, "config.type_int")
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			ck.wrongType(n, path, "config.type_bool")
		}
	}
}

// mapping calls each with the keys of mapping n and their values; a key
// given twice is told and dropped, as is a pair each returns false for.
func (ck *checker) mapping(n *yaml.Node, path string, each func(k, v *yaml.Node, kpath string) bool) {
	seen := map[string]int{} // key → its line
	var kept []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if secretValue(k.Value) { // a secret pasted as a key: told where its mapping is
			ck.secret(path, k.Line, "", "", k.Value)
			continue
		}
		kpath := k.Value
		if path != "" {
			kpath = path + "." + k.Value
		}
		if k.Tag != "!!merge" {
			if line, dup := seen[k.Value]; dup {
				ck.tell(kpath, k.Line, "config.duplicate_key", map[string]any{"Line": line})
				continue
			}
			seen[k.Value] = k.Line
			ck.lines[kpath] = k.Line
		}
		if each(k, v, kpath) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
}

// wrongType tells that n, at path, is not of the type want names (a
// config.type_* id), and makes it null.
func (ck *checker) wrongType(n *yaml.Node, path, want string) {
	var got string
	switch n.Kind {
	case yaml.MappingNode:
		got = ck.p.T("config.type_map", nil)
	case yaml.SequenceNode:
		got = ck.p.T("config.type_list", nil)
	default:
		v := n.Value
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "…"
		}
		got = strconv.Quote(v)
	}
	ck.tell(path, n.Line, "config.wrong_type", map[string]any{"Want": ck.p.T(want, nil), "Got": got})
	nullNode(n)
}

// unknown tells key k, with value v, that is not a key of the settings
// there: a secret, when it names one or has one in it; else an unknown
// key, with the known key it may be a typo of.
func (ck *checker) unknown(k, v *yaml.Node, kpath, section string, known []string) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if secretKey(k.Value) {
		value := ""
		if v.Kind == yaml.ScalarNode {
			value = v.Value
		}
		ck.secret(kpath, k.Line, section, k.Value, value)
		return
	}
	if slices.Contains(sections, k.Value) {
		section = k.Value
	}
	if ck.secrets(v, kpath, section, 0) {
		return
	}
	if k.Value == "thresholds" {
		ck.tell(kpath, k.Line, "config.thresholds", nil)
		return
	}
	if near := nearest(k.Value, known); near != "" {
		ck.tell(kpath, k.Line, "config.unknown_key_near", map[string]any{"Near": near})
		return
	}
	ck.tell(kpath, k.Line, "config.unknown_key", nil)
}

// secrets tells the secrets in n, a value of an unknown key, by path, and
// reports whether it found any.
func (ck *checker) secrets(n *yaml.Node, path, section string, depth int) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if depth > 32 {
		return false
	}
	found := false
	switch n.Kind {
	case yaml.ScalarNode:
		if secretValue(n.Value) {
			ck.secret(path, n.Line, section, lastKey(path), n.Value)
			found = true
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			found = ck.secrets(item, fmt.Sprintf("%s[%d]", path, i), section, depth+1) || found
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if secretValue(k.Value) {
				ck.secret(path, k.Line, section, "", k.Value)
				found = true
				continue
			}
			kpath, sec := path+"."+k.Value, section
			if slices.Contains(sections, k.Value) {
				sec = k.Value
			}
			if secretKey(k.Value) {
				value := ""
				if v.Kind == yaml.ScalarNode {
					value = v.Value
				}
				ck.secret(kpath, k.Line, sec, k.Value, value)
				found = true
				continue
			}
			found = ck.secrets(v, kpath, sec, depth+1) || found
		}
	}
	return found
}

// secret tells that a secret is at path: which variable it goes in, never
// the value.
func (ck *checker) secret(path string, line int, section, key, value string) {
	if env := secretEnv(section, key, value); env != "" {
		ck.tell(path, line, "config.secret_env", map[string]any{"Env": env})
		return
	}
	ck.tell(path, line, "config.secret", nil)
}

// secretPrefixes are how the secrets kpibot reads from the environment
// begin, and their variables ("": the section tells).
var secretPrefixes = []struct{ prefix, env string }{
	{"xoxb-", "SLACK_BOT_TOKEN"}, {"xoxp-", "SLACK_BOT_TOKEN"}, {"xoxa-", "SLACK_BOT_TOKEN"}, {"xoxe-", "SLACK_BOT_TOKEN"},
	{"xoxs-", "SLACK_BOT_TOKEN"}, {"xoxr-", "SLACK_BOT_TOKEN"}, {"xapp-", "SLACK_APP_TOKEN"},
	{"atzr|", "AMAZON_REFRESH_TOKEN"}, {"amzn1.oa2-cs.", "AMAZON_LWA_CLIENT_SECRET"},
	{"shpat_", "SHOPIFY_ACCESS_TOKEN"}, {"shpca_", "SHOPIFY_ACCESS_TOKEN"}, {"shppa_", "SHOPIFY_ACCESS_TOKEN"},
	{"shpss_", "SHOPIFY_ACCESS_TOKEN"},
	{"-----begin", ""}, // a PEM key
}

// secretEnvs are the variables of the secrets, by the key a file may give
// one under (without _env), alone or after its section and a slash.
var secretEnvs = map[string]string{
	"refresh_token": "AMAZON_REFRESH_TOKEN", "ads_refresh_token": "AMAZON_REFRESH_TOKEN",
	"client_secret": "AMAZON_LWA_CLIENT_SECRET", "lwa_client_secret": "AMAZON_LWA_CLIENT_SECRET",
	"service_secret": "RAKUTEN_SERVICE_SECRET", "license_key": "RAKUTEN_LICENSE_KEY",
	"public_key": "YAHOO_PUBLIC_KEY", "yahoo/token": "YAHOO_ACCESS_TOKEN", "yahoo/access_token": "YAHOO_ACCESS_TOKEN",
	"shopify/token": "SHOPIFY_ACCESS_TOKEN", "shopify/access_token": "SHOPIFY_ACCESS_TOKEN",
	"bot_token": "SLACK_BOT_TOKEN", "slack/token": "SLACK_BOT_TOKEN", "app_token": "SLACK_APP_TOKEN",
	"signing_secret": "SLACK_SIGNING_SECRET", "slack/secret": "SLACK_SIGNING_SECRET",
	"channel_secret": "LINE_CHANNEL_SECRET", "line/secret": "LINE_CHANNEL_SECRET",
	"channel_access_token": "LINE_CHANNEL_ACCESS_TOKEN", "line/token": "LINE_CHANNEL_ACCESS_TOKEN",
	"line/access_token": "LINE_CHANNEL_ACCESS_TOKEN",
}

// secretValue reports whether v looks like one of the secrets kpibot
// reads from the environment.
func secretValue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return slices.ContainsFunc(secretPrefixes, func(s struct{ prefix, env string }) bool { return strings.HasPrefix(v, s.prefix) })
}

// secretKey reports whether key names a secret: a token, a secret, a
// password, a key (not the name of a variable: ..._env).
func secretKey(key string) bool {
	k := strings.ToLower(key)
	if strings.HasSuffix(k, "_env") {
		return false
	}
	words := strings.FieldsFunc(k, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' })
	if len(words) == 0 {
		return false
	}
	switch words[len(words)-1] {
	case "token", "secret", "password", "passwd", "pwd", "passphrase", "key", "apikey", "credential", "credentials":
		return true
	}
	return false
}

// secretEnv is the variable a secret goes in: by its shape, else by the
// key it was given under; "" when neither tells.
func secretEnv(section, key, value string) string {
	v := strings.ToLower(strings.TrimSpace(value))
	for _, s := range secretPrefixes {
		if s.env != "" && strings.HasPrefix(v, s.prefix) {
			return s.env
		}
	}
	key = strings.TrimSuffix(strings.ToLower(key), "_env")
	return cmp.Or(secretEnvs[section+"/"+key], secretEnvs[key])
}

// lastKey is the last key of path: alerts.managers[0].slack → slack.
func lastKey(path string) string {
	path = strings.TrimRightFunc(path, func(r rune) bool { return r == ']' || r >= '0' && r <= '9' || r == '[' })
	return path[strings.LastIndex(path, ".")+1:]
}

// mappingValue returns the value of key in mapping n, nil if none.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// nullNode makes n null, so that decoding leaves its field as it is.
func nullNode(n *yaml.Node) {
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

// nearest returns the known key that key is likely a typo of, "" if none.
func nearest(key string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		d := editDistance(key, k)
		if d <= max(1, len(k)/4) && (best == "" || d < bestD) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
