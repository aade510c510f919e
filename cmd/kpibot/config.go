package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// config is what the config file (--config, KPIBOT_CONFIG) sets. Secrets
// never come from it: they are read from the environment.
type config struct {
	Alerts alertsConfig `yaml:"alerts"`
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

// alertSettings are the alert engine's settings from the config file.
type alertSettings struct {
	overrides     []kpi.RuleOverride
	routes        []alert.Route
	managers      []alert.Contact
	resendAfter   time.Duration
	escalateAfter time.Duration
}

// readConfig reads the config file at path, else at KPIBOT_CONFIG; with
// neither, the defaults. A file that cannot be read or is wrong is reported
// on stderr, every problem with where it is, and ok is false: the command
// exits with 2 rather than run with settings nobody meant.
func readConfig(e env, p *locales.Printer, path string) (s alertSettings, ok bool) {
	path = cmp.Or(path, e.getenv("KPIBOT_CONFIG"))
	if path == "" {
		return alertSettings{}, true
	}
	s, err := loadConfig(path, p)
	if err != nil {
		fmt.Fprintln(e.stderr, p.T("cli.config_invalid", map[string]any{"Path": path, "Error": err.Error()}))
		return alertSettings{}, false
	}
	return s, true
}

// loadConfig reads the config file at path and checks it: the error lists
// every problem found, each with where it is (alerts.rules[2].threshold).
// Messages of the alert engine's own checks are in p's language.
func loadConfig(path string, p *locales.Printer) (alertSettings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return alertSettings{}, err
	}
	return parseConfig(data, p)
}

// parseConfig reads and checks a config file's contents.
func parseConfig(data []byte, p *locales.Printer) (alertSettings, error) {
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return alertSettings{}, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	var s alertSettings
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
		return alertSettings{}, errors.Join(errs...)
	}
	// What only the rules together can tell (a clear level beyond its
	// target) the alert engine checks, naming the rule.
	if err := alert.CheckOverrides(s.overrides); err != nil {
		var ke *kpi.Error
		if errors.As(err, &ke) {
			err = fmt.Errorf("%s", strings.Replace(err.Error(), ke.Error(), p.T(ke.Key, ke.Args), 1))
		}
		return alertSettings{}, fmt.Errorf("alerts.rules: %w", err)
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
