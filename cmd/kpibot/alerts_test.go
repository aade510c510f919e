package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/connectors/demo"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// freshDemo is a new database of the demo shops on which no alert was
// ever evaluated.
func freshDemo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	store, err := openStore(context.Background(), testEnv(nil, nil, ""), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := demo.Seed(context.Background(), store, demoNow); err != nil {
		t.Fatal(err)
	}
	return path
}

// The demo raises alerts out of the box; --print shows them without
// recording anything; without it they are recorded, and a bound chat gets
// its messages queued for kpibot serve.
func TestAlertsOnTheDemo(t *testing.T) {
	db := freshDemo(t)
	wants := []string{"#", "Amazon JP Main · negative reviews", "Rakuten Flagship · return rate", "Amazon JP Main · days of cover"}

	code, out, errOut := exec(t, "", "alerts", "--db", db, "--print", "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("the preview lacks %q:\n%s", w, out)
		}
	}
	store, err := openStore(context.Background(), testEnv(nil, nil, ""), db)
	if err != nil {
		t.Fatal(err)
	}
	if active, err := store.ActiveAlerts(context.Background()); err != nil || len(active) != 0 {
		t.Errorf("--print recorded %d alerts (%v)", len(active), err)
	}
	if err := store.BindChatChannel(context.Background(), kpi.ChatChannel{Platform: "slack", ID: "CHQ", Role: kpi.RoleHQ, Lang: "zh"}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	code, out, errOut = exec(t, "", "alerts", "--db", db, "--lang", "ja")
	if code != 0 || !strings.Contains(out, "Rakuten Flagship · 返品率") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	store, err = openStore(context.Background(), testEnv(nil, nil, ""), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	active, err := store.ActiveAlerts(context.Background())
	if err != nil || len(active) < 3 {
		t.Fatalf("%d alerts recorded (%v), want the demo's", len(active), err)
	}
	pending, err := store.Pending(context.Background())
	if err != nil || pending == 0 {
		t.Errorf("%d messages queued for the bound hq channel (%v)", pending, err)
	}
	// A second run finds the same episodes and queues nothing new.
	if code, _, errOut := exec(t, "", "alerts", "--db", db); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if again, _ := store.Pending(context.Background()); again != pending {
		t.Errorf("a second evaluation queued %d more messages", again-pending)
	}
}

// The config file's rules change what the demo raises: rakuten's return
// rate judged at 15% and negative reviews switched off raise neither, and
// the rules list says where each rule comes from.
func TestAlertsWithConfig(t *testing.T) {
	db := freshDemo(t)
	config := filepath.Join(t.TempDir(), "kpibot.yaml")
	yaml := "alerts:\n  rules:\n    - metric: return_rate\n      shop: rakuten\n      threshold: 15%\n    - metric: negative_reviews\n      disabled: true\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := exec(t, "", "alerts", "--db", db, "--print", "--lang", "en", "--config", config)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, gone := range []string{"Rakuten Flagship · return rate", "negative reviews"} {
		if strings.Contains(out, gone) {
			t.Errorf("the preview with the config still has %q:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, "Amazon JP Main · days of cover") {
		t.Errorf("the preview lost the alerts the config leaves alone:\n%s", out)
	}
	// Every command reads KPIBOT_CONFIG: the rules list shows the file's.
	var o, eo bytes.Buffer
	e := testEnv(&o, &eo, "", "ask", "--db", db, "--lang", "en", "/kpi rules return_rate rakuten")
	e.getenv = func(k string) string { return map[string]string{"KPIBOT_CONFIG": config}[k] }
	code, out, errOut = run(context.Background(), e), o.String(), eo.String()
	if code != 0 || !strings.Contains(out, "alert if > 15.0%") || !strings.Contains(out, "config file") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
}

func TestAlertsBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "fr"}, `Unknown language "fr"`},
		{[]string{"now"}, `kpibot alerts takes no arguments, but got "now".`},
		{[]string{"--since", "1h"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		code, out, errOut := exec(t, "", append([]string{"alerts", "--db", seeded}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("alerts %q: exit %d, %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	if _, out, _ := exec(t, ""); !strings.Contains(out, "kpibot alerts [--db PATH] [--print] [--lang zh|ja|en|zh+ja]") {
		t.Errorf("the usage lacks kpibot alerts:\n%s", out)
	}
}

// listDesk is a bot.AlertDesk that lists alerts and changes none.
type listDesk []kpi.Alert

func (d listDesk) Active(context.Context, []string) ([]kpi.Alert, error) { return d, nil }
func (d listDesk) Ack(context.Context, int64, bot.Actor) (kpi.Alert, error) {
	return kpi.Alert{}, nil
}
func (d listDesk) Snooze(context.Context, int64, bot.Actor, time.Time) (kpi.Alert, error) {
	return kpi.Alert{}, nil
}
func (d listDesk) Resolve(context.Context, int64, bot.Actor) (kpi.Alert, error) {
	return kpi.Alert{}, nil
}
func (d listDesk) Rules(context.Context, []string) ([]bot.RuleView, error) { return nil, nil }
func (d listDesk) ChangeRule(context.Context, kpi.RuleOverride, bool, string) (bot.RuleView, error) {
	return bot.RuleView{}, nil
}

// The list kpibot alerts prints, once an engine is wired.
func TestAlertsGolden(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, kpi.Tokyo) }
	desk := listDesk{
		{ID: 3, Metric: "negative_reviews", Shop: "amazon-jp", Severity: kpi.SeverityWarning, State: kpi.AlertAcked,
			Opened: at(26, 14, 0), Value: 5, Target: 2},
		{ID: 7, Metric: "return_rate", Shop: "rakuten", Severity: kpi.SeverityCritical, State: kpi.AlertOpen,
			Opened: at(28, 9, 30), Value: 0.061, Target: 0.05},
		{ID: 8, Metric: "freshness", Shop: "rakuten", Severity: kpi.SeverityCritical, State: kpi.AlertSnoozed,
			Opened: at(28, 7, 0), SnoozedUntil: at(29, 9, 0), Value: 27, Target: 24},
	}
	for _, lang := range []string{"ja", "zh+ja"} {
		t.Run(lang, func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := testEnv(&out, &errOut, "")
			log := slog.New(slog.NewTextHandler(&errOut, nil))
			text, err := locales.Load()
			if err != nil {
				t.Fatal(err)
			}
			p := text.Printer(locales.English)
			store, b, _, err := openBot(context.Background(), e, text, seeded, configSettings{}, log)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			b.SetAlerts(desk)
			l, _ := locales.ParseLang(lang)
			if code := printAlerts(context.Background(), e, p, log, b, l); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			golden(t, "alerts."+lang, out.String())
		})
	}
}

var _ bot.AlertDesk = listDesk(nil)
