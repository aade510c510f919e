package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/connectors/csvimport"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// config is what the config file (--config, KPIBOT_CONFIG) sets. Secrets
// never come from it: they are read from the environment.
type config struct {
	Shops  []shopConfig `yaml:"shops"`
	Alerts alertsConfig `yaml:"alerts"`
}

// shopConfig is a shop, the connector that pulls it (none: it is not
// pulled) and the header names of its exports (kpibot import).
type shopConfig struct {
	ID          string         `yaml:"id"`
	Platform    string         `yaml:"platform"`
	Name        string         `yaml:"name"`
	Marketplace string         `yaml:"marketplace"`
	Currency    string         `yaml:"currency"`
	SyncEvery   string         `yaml:"sync_every"` // a Go duration; "": 15m
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
// connectors, and the alert engine's settings.
type configSettings struct {
	shops         []shopSettings
	overrides     []kpi.RuleOverride
	routes        []alert.Route
	managers      []alert.Contact
	resendAfter   time.Duration
	escalateAfter time.Duration
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

// checkShops reads the shops section, reporting each problem by path.
func checkShops(shops []shopConfig, bad func(path, format string, args ...any)) []shopSettings {
	var out []shopSettings
	seen := map[string]bool{}
	for i, c := range shops {
		path := fmt.Sprintf("shops[%d]", i)
		sh := kpi.Shop{ID: c.ID, Platform: kpi.Platform(c.Platform), Name: cmp.Or(c.Name, c.ID), Marketplace: c.Marketplace,
			Currency: cmp.Or(c.Currency, "JPY")}
		switch {
		case c.ID == "":
			bad(path+".id", "missing")
		case !shopIDRE.MatchString(c.ID):
			bad(path+".id", "%q: use lower-case letters, digits, - and _ (at most 40)", c.ID)
		case seen[c.ID]:
			bad(path+".id", "%q is already the id of another shop", c.ID)
		}
		seen[c.ID] = true
		if !slices.Contains(kpi.Platforms, sh.Platform) {
			bad(path+".platform", "%q is not one of %s", c.Platform, platformList())
		}
		every := 15 * time.Minute
		if c.SyncEvery != "" {
			d, err := time.ParseDuration(c.SyncEvery)
			if err != nil || d < time.Minute {
				bad(path+".sync_every", "%q is not a duration of a minute or more (15m, 1h)", c.SyncEvery)
			}
			every = d
		}
		sections := map[kpi.Platform]bool{kpi.Amazon: c.Amazon != nil, kpi.Rakuten: c.Rakuten != nil, kpi.Yahoo: c.Yahoo != nil,
			kpi.Shopify: c.Shopify != nil}
		for _, name := range kpi.Platforms {
			if sections[name] && sh.Platform != name {
				bad(path+"."+string(name), "only for a shop on the %s platform", name)
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
					bad(path+".rakuten.license_key_issued", "%q is not a date (YYYY-MM-DD)", r.LicenseKeyIssued)
				}
				issued = d.Start()
			}
		}
		if y := c.Yahoo; y != nil {
			envs["yahoo.token_env"], envs["yahoo.public_key_env"] = y.TokenEnv, y.PublicKeyEnv
			urls["yahoo.endpoint"] = y.Endpoint
			if y.SellerID == "" {
				bad(path+".yahoo.seller_id", "missing")
			}
		}
		if sp := c.Shopify; sp != nil {
			envs["shopify.token_env"] = sp.TokenEnv
			urls["shopify.endpoint"] = sp.Endpoint
			if sp.Store == "" {
				bad(path+".shopify.store", "missing")
			}
		}
		for _, field := range slices.Sorted(maps.Keys(envs)) {
			// The value is not echoed: it may be the secret itself.
			if v := envs[field]; v != "" && !envNameRE.MatchString(v) {
				bad(path+"."+field, "not the name of an environment variable (the secret itself never goes in this file)")
			}
		}
		for _, field := range slices.Sorted(maps.Keys(urls)) {
			if u := urls[field]; u != "" && !isURL(u) {
				bad(path+"."+field, "%q is not a URL", u)
			}
		}
		out = append(out, shopSettings{shop: sh, every: every, amazon: c.Amazon, rakuten: c.Rakuten, yahoo: c.Yahoo, shopify: c.Shopify,
			issued: issued, imports: checkImports(path+".imports", c.Imports, bad)})
	}
	return out
}

// checkImports reads a shop's imports section: kinds of file, their
// fields and each field's header names.
func checkImports(path string, imports map[string]map[string]headerNames,
	bad func(path, format string, args ...any)) map[csvimport.Kind]map[string][]string {
	if len(imports) == 0 {
		return nil
	}
	out := map[csvimport.Kind]map[string][]string{}
	for _, key := range slices.Sorted(maps.Keys(imports)) {
		kind, ok := csvimport.ParseKind(key)
		switch {
		case !ok:
			bad(path+"."+key, "not an import kind: use one of %s", strings.Join(kindNames(), ", "))
			continue
		case out[kind] != nil:
			bad(path+"."+key, "%s is given twice", kind)
			continue
		}
		fields := csvimport.Fields(kind)
		headers := map[string][]string{}
		for _, field := range slices.Sorted(maps.Keys(imports[key])) {
			fpath := path + "." + string(kind) + "." + field
			if !slices.Contains(fields, field) {
				bad(fpath, "not a field of %s: use one of %s", kind, strings.Join(fields, ", "))
				continue
			}
			var names []string
			for _, name := range imports[key][field] {
				names = append(names, strings.TrimSpace(name))
			}
			if len(names) == 0 || slices.Contains(names, "") {
				bad(fpath, "empty: write the header name of the field in the file, or a list of them")
				continue
			}
			headers[field] = names
		}
		out[kind] = headers
	}
	return out
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

// readConfig reads the config file at path, else at KPIBOT_CONFIG; with
// neither, the defaults. A file that cannot be read or is wrong is reported
// on stderr, every problem with where it is, and ok is false: the command
// exits with 2 rather than run with settings nobody meant.
func readConfig(e env, p *locales.Printer, path string) (s configSettings, ok bool) {
	path = cmp.Or(path, e.getenv("KPIBOT_CONFIG"))
	if path == "" {
		return configSettings{}, true
	}
	s, err := loadConfig(path, p)
	if err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.config_invalid", map[string]any{"Path": path, "Error": err.Error()}))
		return configSettings{}, false
	}
	return s, true
}

// loadConfig reads the config file at path and checks it: the error lists
// every problem found, each with where it is (alerts.rules[2].threshold).
// Messages of the alert engine's own checks are in p's language.
func loadConfig(path string, p *locales.Printer) (configSettings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return configSettings{}, err
	}
	return parseConfig(data, p)
}

// parseConfig reads and checks a config file's contents.
func parseConfig(data []byte, p *locales.Printer) (configSettings, error) {
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return configSettings{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	var s configSettings
	duration := func(path, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			bad(path, "%q is not a positive duration (30m, 1h)", v)
		}
		return d
	}
	s.shops = checkShops(c.Shops, bad)
	a := c.Alerts
	s.resendAfter = duration("alerts."+"resend_after", a.ResendAfter) // split: not a message id
	s.escalateAfter = duration("alerts."+"escalate_after", a.EscalateAfter)
	for i, m := range a.Managers {
		path := fmt.Sprintf("alerts.managers[%d]", i)
		ct := alert.Contact{Name: m.Name, Slack: m.Slack, LINE: m.LINE, Lang: m.Lang, Shops: m.Shops}
		if m.Name == "" {
			bad(path+".name", "missing: the name the escalation shows")
		}
		if err := ct.Check(); err != nil {
			bad(path, "%v", err)
		}
		s.managers = append(s.managers, ct)
	}
	for i, r := range a.Rules {
		path := fmt.Sprintf("alerts.rules[%d]", i)
		o := kpi.RuleOverride{Metric: r.Metric, Shop: r.Shop, Severity: kpi.Severity(r.Severity), Consecutive: r.Consecutive,
			MinSample: r.MinSample, Runbook: r.Runbook, Disabled: r.Disabled}
		m, ok := kpi.Lookup(r.Metric)
		switch {
		case r.Metric == "":
			bad(path+".metric", "missing")
			continue
		case r.Metric != alert.Freshness && (!ok || m.Op == ""):
			bad(path+".metric", "%q is not a metric with a target (kpibot ask \"/kpi list\" lists them)", r.Metric)
			continue
		}
		if o.Severity != "" && o.Severity != kpi.SeverityCritical && o.Severity != kpi.SeverityWarning {
			bad(path+".severity", "%q is not one of critical, warning", r.Severity)
		}
		percent := ok && m.Unit == kpi.Percent
		o.Target = level(path+".threshold", r.Threshold, percent, bad)
		o.Clear = level(path+".clear", r.Clear, percent, bad)
		if o.Consecutive != nil && (*o.Consecutive < 1 || *o.Consecutive > 100) {
			bad(path+".consecutive", "%d is not between 1 and 100", *o.Consecutive)
		}
		if o.MinSample != nil && *o.MinSample < 0 {
			bad(path+".min_sample", "%d is negative", *o.MinSample)
		}
		s.overrides = append(s.overrides, o)
	}
	for i, r := range a.Routes {
		rt := alert.Route{Metrics: r.Metrics, Shops: r.Shops, To: r.To}
		if err := rt.Check(); err != nil {
			bad(fmt.Sprintf("alerts.routes[%d]", i), "%v", err)
		}
		s.routes = append(s.routes, rt)
	}
	if len(errs) > 0 {
		return configSettings{}, errors.Join(errs...)
	}
	// What only the rules together can tell (a clear level beyond its
	// target) the alert engine checks, naming the rule.
	if err := alert.CheckOverrides(s.overrides); err != nil {
		var ke *kpi.Error
		if errors.As(err, &ke) {
			err = fmt.Errorf("%s", strings.Replace(err.Error(), ke.Error(), p.T(ke.Key, ke.Args), 1))
		}
		return configSettings{}, fmt.Errorf("alerts.rules: %w", err)
	}
	return s, nil
}

// level reads a threshold or clear level: a rate with % ("3%", "98.5%"),
// anything else as a plain number; "" is not set.
func level(path, v string, percent bool, bad func(path, format string, args ...any)) *float64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	num, isPercent := strings.CutSuffix(v, "%")
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	switch {
	case err != nil:
		bad(path, "%q is not a number", v)
		return nil
	case percent && !isPercent:
		bad(path, "%q: this metric is a rate, write it with %% (%s%%)", v, strconv.FormatFloat(x, 'f', -1, 64))
		return nil
	case !percent && isPercent:
		bad(path, "%q: this metric is not a rate, write a plain number", v)
		return nil
	case percent:
		x /= 100
	}
	return &x
}
