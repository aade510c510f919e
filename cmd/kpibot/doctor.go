package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/bot/line"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/connectors/amazon"
	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/connectors/shopify"
	"github.com/kpibot/kpibot/connectors/yahoo"
	"github.com/kpibot/kpibot/internal/pace"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// doctorTimeout bounds each check that goes over the network.
const doctorTimeout = 10 * time.Second

// How far the local clock may be from the platforms' before doctor warns,
// and fails: Slack refuses request signatures more than 5 minutes off.
const (
	clockWarn = time.Minute
	clockFail = 5 * time.Minute
)

// defaultSlackAPI is the Slack Web API doctor names when SLACK_API_URL is
// not set.
const defaultSlackAPI = "https://slack.com/api/"

// verdict is how a check came out.
type verdict int

const (
	passed verdict = iota
	warned
	failed
)

// marks are the verdicts as the lines show them.
var marks = map[verdict]string{passed: "✓", warned: "⚠", failed: "✗"}

// doctor runs the checks of `kpibot doctor` and prints a line for each.
type doctor struct {
	e       env
	p       *locales.Printer
	out     io.Writer
	clock   *clockWatch
	secrets []string // values that never reach the output
	counts  map[verdict]int
}

// doctorCmd runs `kpibot doctor [--db PATH] [--config FILE] [--lang
// zh|ja|en]`: it checks what the running bot depends on (the database,
// the chat platforms' tokens, the connectors' secrets and credentials, the
// clock) and prints one line per check, ✓, ⚠ or ✗, in the user's
// language. It exits 0 when nothing failed (warnings allowed), 1 when a
// check failed, 2 when the command line is wrong. Secrets are never
// printed.
func doctorCmd(ctx context.Context, e env, text *locales.Catalog, p *locales.Printer, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dbPath := fs.String("db", dbDefault(e.getenv), "SQLite file")
	configFile := fs.String("config", "", "config file; KPIBOT_CONFIG if empty")
	langFlag := fs.String("lang", "", "the language of the report: zh, ja or en; the terminal's if empty")
	usage := func(msg string) int {
		fmt.Fprintln(e.stderr, msg)
		fmt.Fprintln(e.stderr, p.T("cli.usage", nil))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usage(p.T("cli.bad_flags", map[string]any{"Error": err.Error()}))
	}
	var lang locales.Lang
	if !langFlagOK(e, p, *langFlag, &lang) {
		return 2
	}
	if lang != "" {
		p = text.Printer(lang)
	}
	if fs.NArg() > 0 {
		return usage(p.T("cli.doctor_no_args", map[string]any{"Args": strings.Join(fs.Args(), " ")}))
	}

	d := &doctor{e: e, p: p, out: e.stdout, clock: &clockWatch{now: e.now}, counts: map[verdict]int{}}
	settings := d.checkConfig(cmp.Or(*configFile, e.getenv("KPIBOT_CONFIG")))
	d.secrets = secretValues(e.getenv, settings)
	d.checkStore(ctx, *dbPath)
	sl, ln := readSlackEnv(e.getenv), readLineEnv(e.getenv)
	if sl.enabled() {
		d.checkSlack(ctx, sl)
	}
	if ln.enabled() {
		d.checkLINE(ctx, ln)
	}
	if !sl.enabled() && !ln.enabled() {
		d.add(warned, "cli.doctor_name_chat", nil, p.T("cli.doctor_no_chat", nil))
	}
	for _, sh := range settings.shops {
		d.checkShop(ctx, sh)
	}
	d.checkClock()

	data := map[string]any{"OK": d.counts[passed], "Warn": d.counts[warned], "Fail": d.counts[failed],
		"OKMark": marks[passed], "WarnMark": marks[warned], "FailMark": marks[failed]}
	if d.counts[failed] > 0 {
		fmt.Fprintln(d.out, p.T("cli.doctor_summary_failed", data))
		return 1
	}
	fmt.Fprintln(d.out, p.T("cli.doctor_summary_ok", data))
	return 0
}

// add prints a check's line: its mark, its name (message nameID with
// nameArgs) and what was found, with every secret blotted out.
func (d *doctor) add(v verdict, nameID string, nameArgs map[string]any, detail string) {
	d.counts[v]++
	line := d.p.T("cli.doctor_line", map[string]any{"Mark": marks[v], "Name": d.p.T(nameID, nameArgs), "Detail": detail})
	fmt.Fprintln(d.out, d.redact(line))
}

// redact blots the secrets out of s.
func (d *doctor) redact(s string) string {
	for _, v := range d.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

// secretValues returns the values of the environment variables that hold
// secrets (the chat platforms', and the connectors' by their default names
// and those the config file gives) and the passwords of the URLs doctor
// may show, longest first.
func secretValues(getenv func(string) string, s configSettings) []string {
	names := []string{"SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
		"AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET", "AMAZON_REFRESH_TOKEN", "RAKUTEN_SERVICE_SECRET", "RAKUTEN_LICENSE_KEY",
		"YAHOO_ACCESS_TOKEN", "YAHOO_PUBLIC_KEY", "SHOPIFY_ACCESS_TOKEN"}
	urls := []string{getenv("SLACK_API_URL"), getenv("LINE_API_URL"), getenv("KPIBOT_PUBLIC_URL")}
	for _, sh := range s.shops {
		if a := sh.amazon; a != nil {
			names = append(names, a.RefreshTokenEnv, a.AdsRefreshTokenEnv)
			urls = append(urls, a.Endpoint, a.TokenURL, a.AdsEndpoint)
		}
		if r := sh.rakuten; r != nil {
			names = append(names, r.ServiceSecretEnv, r.LicenseKeyEnv)
			urls = append(urls, r.Endpoint)
		}
		if y := sh.yahoo; y != nil {
			names = append(names, y.TokenEnv, y.PublicKeyEnv)
			urls = append(urls, y.Endpoint)
		}
		if sp := sh.shopify; sp != nil {
			names = append(names, sp.TokenEnv)
			urls = append(urls, sp.Endpoint)
		}
	}
	var out []string
	keep := func(v string) {
		// Very short values would blot out ordinary words; no real secret
		// is that short.
		if v = strings.TrimSpace(v); len(v) >= 4 && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, n := range names {
		if n != "" {
			keep(getenv(n))
		}
	}
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			pw, _ := u.User.Password()
			keep(pw)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// checkConfig reads the config file, if one is named, and reports it; the
// settings are empty when it cannot be used.
func (d *doctor) checkConfig(path string) configSettings {
	if path == "" {
		return configSettings{}
	}
	s, err := loadConfig(path, d.p)
	if err != nil {
		problems := strings.ReplaceAll(err.Error(), "\n", "\n    ")
		d.add(failed, "cli.doctor_name_config", nil, d.p.T("cli.config_invalid", map[string]any{"Path": path, "Error": "    " + problems}))
		return configSettings{}
	}
	d.add(passed, "cli.doctor_name_config", nil, d.p.T("cli.doctor_config_ok", map[string]any{"Path": path, "Shops": len(s.shops)}))
	return s
}

// checkStore opens the database as every command does and reads from it:
// the schema version, the shops and the bound chats. A file that is not
// there yet is not created.
func (d *doctor) checkStore(ctx context.Context, path string) {
	cannot := func(reason string) {
		d.add(failed, "cli.doctor_name_store", nil, d.p.T("cli.doctor_store_failed",
			map[string]any{"Error": d.p.T("error.store_open", map[string]any{"Path": path}), "Reason": reason}))
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		dir := filepath.Dir(path)
		if di, derr := os.Stat(dir); derr != nil || !di.IsDir() {
			cannot(d.p.T("cli.doctor_store_no_folder", map[string]any{"Dir": dir}))
			return
		}
		d.add(warned, "cli.doctor_name_store", nil, d.p.T("cli.doctor_store_missing", map[string]any{"Path": path}))
		return
	case err != nil:
		cannot(openError(err))
		return
	case info.IsDir():
		cannot(d.p.T("cli.doctor_store_is_dir", nil))
		return
	}
	store, err := openStore(ctx, d.e, path)
	if err != nil {
		var ke *kpi.Error
		if errors.As(err, &ke) && ke.Err != nil {
			err = ke.Err
		}
		cannot(err.Error())
		return
	}
	defer store.Close()
	shops, err := store.Shops(ctx)
	if err != nil {
		cannot(err.Error())
		return
	}
	chats, err := store.ChatChannelList(ctx)
	if err != nil {
		cannot(err.Error())
		return
	}
	version, err := schemaVersion(ctx, path)
	if err != nil {
		cannot(err.Error())
		return
	}
	data := map[string]any{"Path": path, "Version": version, "Shops": len(shops), "Chats": len(chats)}
	if len(shops) == 0 {
		d.add(warned, "cli.doctor_name_store", nil, d.p.T("cli.doctor_store_no_shops", data))
		return
	}
	d.add(passed, "cli.doctor_name_store", nil, d.p.T("cli.doctor_store_ok", data))
}

// schemaVersion reads the schema version of the SQLite file at path
// (PRAGMA user_version, the highest migration applied), read-only.
func schemaVersion(ctx context.Context, path string) (int, error) {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+escaped+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// checkSlack checks Slack's variables, the bot token (auth.test: the
// workspace, the bot user and its scopes against the app manifest's) and
// the app-level token of Socket Mode, when set.
func (d *doctor) checkSlack(ctx context.Context, sl slackEnv) {
	const name = "cli.doctor_name_slack"
	if m := sl.missing(); len(m) > 0 {
		d.add(failed, name, nil, d.p.T("cli.slack_incomplete", map[string]any{"Missing": strings.Join(m, ", ")}))
	}
	api := cmp.Or(sl.apiURL, defaultSlackAPI)
	hc := d.clock.client("Slack")
	if sl.botToken != "" {
		cctx, cancel := context.WithTimeout(ctx, doctorTimeout)
		id, err := slack.CheckToken(cctx, sl.botToken, sl.apiURL, hc)
		cancel()
		switch code, needed, isSlack := slack.ErrorCode(err); {
		case err == nil:
			d.slackIdentity(id)
		case isSlack && slack.Refused(code):
			d.add(failed, name, nil, d.p.T("cli.doctor_slack_refused", map[string]any{"Code": code}))
		case isSlack && code == "missing_scope":
			d.add(failed, name, nil, d.p.T("cli.doctor_slack_scopes_missing", map[string]any{"Scopes": needed}))
		case isSlack:
			d.add(failed, name, nil, d.p.T("cli.doctor_answered", map[string]any{"Service": "Slack", "Error": "auth.test: " + code}))
		default:
			d.add(failed, name, nil, d.unreachable("Slack", api, err))
		}
	}
	if sl.appToken == "" {
		return
	}
	const appName = "cli.doctor_name_slack_app"
	cctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	err := slack.CheckAppToken(cctx, sl.appToken, sl.apiURL, hc)
	cancel()
	switch code, _, isSlack := slack.ErrorCode(err); {
	case err == nil:
		d.add(passed, appName, nil, d.p.T("cli.doctor_slack_app_ok", nil))
	case isSlack && slack.Refused(code):
		d.add(failed, appName, nil, d.p.T("cli.doctor_slack_app_refused", map[string]any{"Code": code}))
	case isSlack:
		d.add(failed, appName, nil, d.p.T("cli.doctor_answered", map[string]any{"Service": "Slack", "Error": "apps.connections.open: " + code}))
	default:
		d.add(failed, appName, nil, d.unreachable("Slack", api, err))
	}
}

// slackIdentity reports what auth.test said of the bot token: who it is,
// and the scopes of the manifest it lacks. Without chat:write kpibot
// cannot answer; without the others it works in part.
func (d *doctor) slackIdentity(id slack.Identity) {
	const name = "cli.doctor_name_slack"
	data := map[string]any{"Team": id.Team, "TeamID": id.TeamID, "User": id.User, "UserID": id.UserID}
	if id.BotID == "" {
		d.add(warned, name, nil, d.p.T("cli.doctor_slack_not_bot", data))
		return
	}
	missing := id.MissingScopes()
	if len(missing) == 0 {
		ok := d.p.T("cli.doctor_slack_ok", data)
		if id.Scopes == nil {
			ok += d.p.T("cli.doctor_slack_scopes_unknown", nil)
		}
		d.add(passed, name, nil, ok)
		return
	}
	v := warned
	if slices.Contains(missing, "chat:write") {
		v = failed
	}
	detail := d.p.T("cli.doctor_slack_scopes_missing", map[string]any{"Scopes": strings.Join(missing, ", ")})
	if slices.Contains(missing, "files:write") {
		detail += d.p.T("cli.doctor_slack_no_files_write", nil)
	}
	d.add(v, name, nil, detail)
}

// checkLINE checks LINE's variables, the channel access token (the bot's
// info), the month's message quota and KPIBOT_PUBLIC_URL.
func (d *doctor) checkLINE(ctx context.Context, ln lineEnv) {
	const name = "cli.doctor_name_line"
	if m := ln.missing(); len(m) > 0 {
		d.add(failed, name, nil, d.p.T("cli.line_incomplete", map[string]any{"Missing": strings.Join(m, ", ")}))
	}
	if ln.token != "" {
		d.checkLINEToken(ctx, ln)
	}
	const urlName = "cli.doctor_name_public_url"
	if ln.publicURL == "" {
		d.add(warned, urlName, nil, d.p.T("cli.doctor_public_url_unset", nil))
	} else if err := line.CheckPublicURL(ln.publicURL); err != nil {
		d.add(failed, urlName, nil, d.p.T("cli.public_url_invalid", map[string]any{"Error": err.Error()}))
	} else {
		d.add(passed, urlName, nil, d.p.T("cli.doctor_public_url_ok", map[string]any{"URL": strings.TrimRight(redactedURL(ln.publicURL), "/")}))
	}
}

// checkLINEToken asks LINE for the bot's info with the channel access
// token, then for the month's quota.
func (d *doctor) checkLINEToken(ctx context.Context, ln lineEnv) {
	const name = "cli.doctor_name_line"
	api := cmp.Or(ln.apiURL, line.DefaultAPIURL)
	client, err := line.NewClient(line.ClientConfig{Token: ln.token, BaseURL: ln.apiURL, HTTP: d.clock.client("LINE"),
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		d.add(failed, name, nil, d.p.T("cli.doctor_answered", map[string]any{"Service": "LINE", "Error": err.Error()}))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	info, err := client.BotInfo(cctx)
	var ae *line.APIError
	switch {
	case err == nil:
		d.add(passed, name, nil, d.p.T("cli.doctor_line_ok", map[string]any{"Name": info.DisplayName, "BasicID": info.BasicID}))
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		d.add(failed, name, nil, d.p.T("cli.doctor_line_refused", map[string]any{"Status": ae.Status, "Message": ae.Message}))
		return
	case errors.As(err, &ae):
		d.add(failed, name, nil, d.p.T("cli.doctor_answered", map[string]any{"Service": "LINE", "Error": ae.Error()}))
		return
	default:
		d.add(failed, name, nil, d.unreachable("LINE", api, err))
		return
	}

	const quotaName = "cli.doctor_name_line_quota"
	q, err := client.Quota(cctx)
	data := map[string]any{"Left": q.Left(), "Limit": q.Limit, "Used": q.Used}
	switch {
	case err != nil:
		d.add(warned, quotaName, nil, d.p.T("cli.doctor_line_quota_unknown", map[string]any{"Error": err.Error()}))
	case !q.Limited:
		d.add(passed, quotaName, nil, d.p.T("cli.doctor_line_quota_none", nil))
	case q.Left() == 0:
		d.add(warned, quotaName, nil, d.p.T("cli.doctor_line_quota_spent", data))
	case q.Left()*10 < q.Limit:
		d.add(warned, quotaName, nil, d.p.T("cli.doctor_line_quota_low", data))
	default:
		d.add(passed, quotaName, nil, d.p.T("cli.doctor_line_quota_ok", data))
	}
}

// unreachable says that service could not be reached at base, and why,
// without the request's URL (it may carry more than the base).
func (d *doctor) unreachable(service, base string, err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = d.p.T("cli.doctor_timeout", map[string]any{"Seconds": int(doctorTimeout / time.Second)})
	}
	return d.p.T("cli.doctor_unreachable", map[string]any{"Service": service, "URL": redactedURL(base), "Error": msg})
}

// checkShop checks a configured shop's connector: the secrets it needs
// are set, and its platform takes them (one cheap authenticated call).
func (d *doctor) checkShop(ctx context.Context, sh shopSettings) {
	nameArgs := map[string]any{"Shop": sh.shop.ID, "Platform": d.p.T("platform."+string(sh.shop.Platform), nil)}
	add := func(v verdict, detail string) { d.add(v, "cli.doctor_name_shop", nameArgs, detail) }
	log := slog.New(slog.DiscardHandler)
	// The connector's own constructor says which secrets are missing, by
	// the names the running bot reads.
	build := connectorBuilder(sh)
	if build == nil {
		add(passed, d.p.T("cli.doctor_shop_no_connector", nil))
		return
	}
	_, missing, err := build(d.e, sh, nil, log)
	switch {
	case len(missing) > 0:
		add(failed, d.p.T("cli.doctor_shop_secrets_missing", map[string]any{"Vars": strings.Join(missing, ", ")}))
		return
	case err != nil && sh.yahoo == nil: // checkYahoo says what is wrong with a public key
		add(failed, d.p.T("cli.doctor_shop_unusable", map[string]any{"Error": err.Error()}))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	sleep := d.e.sleep
	if sleep == nil {
		sleep = pace.Sleep
	}
	switch {
	case sh.amazon != nil:
		v, detail := d.checkAmazon(cctx, sh, sleep, log)
		add(v, detail)
	case sh.rakuten != nil:
		v, detail := d.checkRakuten(cctx, sh, sleep, log)
		add(v, detail)
	case sh.yahoo != nil:
		v, detail := d.checkYahoo(cctx, sh, sleep, log)
		add(v, detail)
	case sh.shopify != nil:
		v, detail := d.checkShopify(cctx, sh, sleep, log)
		add(v, detail)
	}
}

// checkAmazon exchanges the shop's refresh token (and the ads' one, when
// it is another variable's) at Login with Amazon.
func (d *doctor) checkAmazon(ctx context.Context, sh shopSettings, sleep func(context.Context, time.Duration) error, log *slog.Logger) (verdict, string) {
	a := sh.amazon
	spEnv := cmp.Or(a.RefreshTokenEnv, "AMAZON_REFRESH_TOKEN")
	envs := []string{spEnv}
	if adsEnv := cmp.Or(a.AdsRefreshTokenEnv, spEnv); a.AdsProfileID != "" && adsEnv != spEnv {
		envs = append(envs, adsEnv)
	}
	tokenURL := cmp.Or(a.TokenURL, amazon.DefaultTokenURL)
	for _, env := range envs {
		client, err := amazon.NewClient(amazon.Config{
			Credentials: amazon.Credentials{ClientID: d.e.getenv("AMAZON_LWA_CLIENT_ID"), ClientSecret: d.e.getenv("AMAZON_LWA_CLIENT_SECRET"),
				RefreshToken: d.e.getenv(env)},
			Marketplace: sh.shop.Marketplace, Endpoint: a.Endpoint, TokenURL: a.TokenURL, HTTP: d.clock.client("Login with Amazon"),
			Now: d.e.now, Sleep: sleep, Log: log, Retries: 1})
		if err != nil {
			return failed, d.p.T("cli.doctor_shop_unusable", map[string]any{"Error": err.Error()})
		}
		err = client.CheckToken(ctx)
		var ae *amazon.APIError
		switch refused := amazon.TokenRefused(err); {
		case err == nil:
		case refused == "refresh_token":
			errors.As(err, &ae)
			return failed, d.p.T("cli.doctor_amazon_refresh_refused", map[string]any{"Env": env, "Code": cmp.Or(ae.Code, fmt.Sprint(ae.Status))})
		case refused == "client":
			errors.As(err, &ae)
			return failed, d.p.T("cli.doctor_amazon_client_refused", map[string]any{"Code": ae.Code})
		case errors.As(err, &ae):
			return failed, d.p.T("cli.doctor_answered", map[string]any{"Service": "Login with Amazon", "Error": ae.Error()})
		default:
			return failed, d.unreachable("Login with Amazon", tokenURL, err)
		}
	}
	return passed, d.p.T("cli.doctor_amazon_ok", map[string]any{"Envs": strings.Join(envs, ", ")})
}

// checkRakuten makes RMS's cheapest call (a search of the last hour) and
// says when the license key expires, if the config file gives its issue
// day.
func (d *doctor) checkRakuten(ctx context.Context, sh shopSettings, sleep func(context.Context, time.Duration) error, log *slog.Logger) (verdict, string) {
	r := sh.rakuten
	secretEnv, keyEnv := cmp.Or(r.ServiceSecretEnv, "RAKUTEN_SERVICE_SECRET"), cmp.Or(r.LicenseKeyEnv, "RAKUTEN_LICENSE_KEY")
	client, err := rakuten.NewClient(rakuten.Config{ServiceSecret: d.e.getenv(secretEnv), LicenseKey: d.e.getenv(keyEnv), Endpoint: r.Endpoint,
		HTTP: d.clock.client("RMS"), Now: d.e.now, Sleep: sleep, Log: log, Retries: 1})
	if err != nil {
		return failed, d.p.T("cli.doctor_shop_unusable", map[string]any{"Error": err.Error()})
	}
	now := d.e.now()
	data := map[string]any{"Secret": secretEnv, "Key": keyEnv}
	var expires time.Time
	warn := false
	if !sh.issued.IsZero() {
		expires, warn = rakuten.KeyWarning(now, sh.issued)
		data["Date"] = kpi.DateOf(expires).String()
		data["Days"] = max(int(kpi.DateOf(expires)-kpi.DateOf(now)), 0) // calendar days, in JST
	}
	err = client.Check(ctx)
	var ae *rakuten.APIError
	switch {
	case errors.Is(err, rakuten.ErrKeyExpired):
		errors.As(err, &ae)
		data["Status"] = ae.Status
		return failed, d.p.T("cli.doctor_rakuten_refused", data)
	case errors.As(err, &ae):
		return failed, d.p.T("cli.doctor_answered", map[string]any{"Service": "RMS", "Error": ae.Error()})
	case err != nil:
		return failed, d.unreachable("RMS", cmp.Or(r.Endpoint, rakuten.DefaultEndpoint), err)
	case sh.issued.IsZero():
		return passed, d.p.T("cli.doctor_rakuten_ok_no_issued", data)
	case !expires.After(now):
		return warned, d.p.T("cli.doctor_rakuten_key_expired_date", data)
	case warn:
		return warned, d.p.T("cli.doctor_rakuten_key_expiring", data)
	}
	return passed, d.p.T("cli.doctor_rakuten_ok", data)
}

// checkYahoo reads the store's public key and makes the Store API's
// cheapest call (orderList of one order).
func (d *doctor) checkYahoo(ctx context.Context, sh shopSettings, sleep func(context.Context, time.Duration) error, log *slog.Logger) (verdict, string) {
	y := sh.yahoo
	tokenEnv, keyEnv := cmp.Or(y.TokenEnv, "YAHOO_ACCESS_TOKEN"), cmp.Or(y.PublicKeyEnv, "YAHOO_PUBLIC_KEY")
	version := cmp.Or(y.KeyVersion, "1")
	client, err := yahoo.NewClient(yahoo.Config{SellerID: y.SellerID, AccessToken: d.e.getenv(tokenEnv), PublicKey: d.e.getenv(keyEnv),
		KeyVersion: version, Endpoint: y.Endpoint, HTTP: d.clock.client("Yahoo!"), Now: d.e.now, Sleep: sleep, Log: log, Retries: 1})
	switch {
	case err != nil && strings.Contains(err.Error(), "public key"):
		return failed, d.p.T("cli.doctor_yahoo_bad_key", map[string]any{"Env": keyEnv, "Error": strings.TrimPrefix(err.Error(), "yahoo: public key: ")})
	case err != nil:
		return failed, d.p.T("cli.doctor_shop_unusable", map[string]any{"Error": err.Error()})
	}
	err = client.Check(ctx)
	var ae *yahoo.APIError
	switch {
	case err == nil:
		return passed, d.p.T("cli.doctor_yahoo_ok", map[string]any{"Seller": y.SellerID})
	case errors.As(err, &ae) && ae.SignatureRefused():
		return failed, d.p.T("cli.doctor_yahoo_signature_refused", map[string]any{"Code": ae.Code, "Env": keyEnv, "Version": version})
	case errors.As(err, &ae) && ae.Unauthorized():
		return failed, d.p.T("cli.doctor_yahoo_token_refused", map[string]any{"Code": cmp.Or(ae.Code, fmt.Sprint(ae.Status)), "Env": tokenEnv})
	case errors.As(err, &ae):
		return failed, d.p.T("cli.doctor_answered", map[string]any{"Service": "Yahoo!", "Error": ae.Error()})
	}
	return failed, d.unreachable("Yahoo!", cmp.Or(y.Endpoint, yahoo.DefaultEndpoint), err)
}

// checkShopify asks the Admin GraphQL API for the shop's name.
func (d *doctor) checkShopify(ctx context.Context, sh shopSettings, sleep func(context.Context, time.Duration) error, log *slog.Logger) (verdict, string) {
	sp := sh.shopify
	tokenEnv := cmp.Or(sp.TokenEnv, "SHOPIFY_ACCESS_TOKEN")
	client, err := shopify.NewClient(shopify.Config{Store: sp.Store, AccessToken: d.e.getenv(tokenEnv), APIVersion: sp.APIVersion,
		Endpoint: sp.Endpoint, HTTP: d.clock.client("Shopify"), Now: d.e.now, Sleep: sleep, Log: log, Retries: 1})
	if err != nil {
		return failed, d.p.T("cli.doctor_shop_unusable", map[string]any{"Error": err.Error()})
	}
	name, err := client.ShopName(ctx)
	var ae *shopify.APIError
	switch {
	case err == nil:
		return passed, d.p.T("cli.doctor_shopify_ok", map[string]any{"Name": name})
	case errors.As(err, &ae) && ae.Unauthorized():
		answer := strings.TrimSpace(fmt.Sprintf("HTTP %d %s", ae.Status, ae.Code))
		return failed, d.p.T("cli.doctor_shopify_refused", map[string]any{"Env": tokenEnv, "Answer": answer})
	case errors.As(err, &ae):
		return failed, d.p.T("cli.doctor_answered", map[string]any{"Service": "Shopify", "Error": ae.Error()})
	}
	return failed, d.unreachable("Shopify", cmp.Or(sp.Endpoint, "https://"+sp.Store), err)
}

// checkClock compares the local clock with the Date headers of the answers
// the other checks got, and reports the farthest.
func (d *doctor) checkClock() {
	const name = "cli.doctor_name_clock"
	samples := d.clock.list()
	if len(samples) == 0 {
		d.add(warned, name, nil, d.p.T("cli.doctor_clock_unchecked", nil))
		return
	}
	// The farthest clock; of clocks within a second or two of each other
	// the first asked, so that a chat platform's is named before a
	// marketplace's.
	worst := samples[0]
	var services []string
	for _, s := range samples {
		if s.offset.Abs() > worst.offset.Abs()+2*time.Second {
			worst = s
		}
		if !slices.Contains(services, s.service) {
			services = append(services, s.service)
		}
	}
	off := worst.offset.Abs()
	data := map[string]any{"Offset": d.duration(off), "Service": worst.service, "Services": strings.Join(services, d.p.T("cli.doctor_separator", nil))}
	if off <= clockWarn {
		d.add(passed, name, nil, d.p.T("cli.doctor_clock_ok", data))
		return
	}
	what := d.p.T("cli.doctor_clock_ahead", data)
	if worst.offset < 0 {
		what = d.p.T("cli.doctor_clock_behind", data)
	}
	if off > clockFail {
		d.add(failed, name, nil, what+d.p.T("cli.doctor_clock_fail", nil))
		return
	}
	d.add(warned, name, nil, what+d.p.T("cli.doctor_clock_warn", nil))
}

// duration says how long d is, to the second, in the user's language.
func (d *doctor) duration(t time.Duration) string {
	s := int64(t.Round(time.Second) / time.Second)
	switch {
	case s >= 3600:
		return d.p.T("cli.doctor_hours", map[string]any{"H": s / 3600, "Min": s % 3600 / 60})
	case s >= 60:
		return d.p.T("cli.doctor_minutes", map[string]any{"Min": s / 60, "Sec": s % 60})
	}
	return d.p.T("cli.doctor_seconds", map[string]any{"Sec": s})
}

// clockWatch keeps, of every answer the checks got, how far the local
// clock was from the answer's Date header.
type clockWatch struct {
	now     func() time.Time
	mu      sync.Mutex
	samples []clockSample
}

// clockSample is one answer's clock: offset is local minus remote
// (positive: the local clock is ahead).
type clockSample struct {
	service string
	offset  time.Duration
}

// client returns an HTTP client, with doctor's timeout, that notes the
// Date of service's answers.
func (w *clockWatch) client(service string) *http.Client {
	return &http.Client{Timeout: doctorTimeout, Transport: &dateTransport{base: http.DefaultTransport, watch: w, service: service}}
}

func (w *clockWatch) list() []clockSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.samples)
}

// dateTransport notes the Date header of each answer.
type dateTransport struct {
	base    http.RoundTripper
	watch   *clockWatch
	service string
}

func (t *dateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return res, err
	}
	if date, perr := http.ParseTime(res.Header.Get("Date")); perr == nil {
		// The header is to the second, cut down: half a second is the
		// best guess of what it left out.
		offset := t.watch.now().Sub(date.Add(500 * time.Millisecond))
		t.watch.mu.Lock()
		t.watch.samples = append(t.watch.samples, clockSample{service: t.service, offset: offset})
		t.watch.mu.Unlock()
	}
	return res, nil
}
