package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/bot/slack/slacktest"
	"github.com/kpibot/kpibot/connectors/amazon/amazontest"
	"github.com/kpibot/kpibot/connectors/rakuten/rakutentest"
	"github.com/kpibot/kpibot/connectors/shopify/shopifytest"
	"github.com/kpibot/kpibot/connectors/yahoo/yahootest"
	"github.com/kpibot/kpibot/kpi"
)

// doctorWorld is everything kpibot doctor checks, on local fakes: Slack,
// LINE, the four marketplaces and a config file with a shop on each.
type doctorWorld struct {
	slackAuth *slacktest.Auth
	line      *linetest.Server
	amazon    *amazontest.Server
	rakuten   *rakutentest.Server
	yahoo     *yahootest.Server
	shopify   *shopifytest.Server
	dir       string
	vars      map[string]string // the environment: everything right
}

// newDoctorWorld starts the fakes and writes the config file; the Rakuten
// key was issued issuedDaysAgo days ago.
func newDoctorWorld(t *testing.T, issuedDaysAgo int) *doctorWorld {
	t.Helper()
	w := &doctorWorld{dir: t.TempDir()}
	w.slackAuth = slacktest.NewAuth(testBotToken, testAppToken)
	mux := http.NewServeMux()
	w.slackAuth.Register(mux, "/api/")
	slackSrv := httptest.NewServer(mux)
	t.Cleanup(slackSrv.Close)
	w.line = linetest.NewServer(t)
	w.line.SetQuota(5000, 1200)
	w.amazon = amazontest.New(t)
	w.rakuten = rakutentest.New(t)
	w.yahoo = yahootest.New(t)
	w.shopify = shopifytest.New(t, nil)

	issued := kpi.DateOf(time.Now()).AddDays(-issuedDaysAgo)
	config := fmt.Sprintf(`shops:
  - id: amz
    platform: amazon
    amazon:
      endpoint: %[1]s
      token_url: %[1]s/auth/o2/token
  - id: rk
    platform: rakuten
    rakuten:
      endpoint: %[2]s
      license_key_issued: %[3]s
  - id: yh
    platform: yahoo
    yahoo:
      seller_id: %[4]s
      key_version: "%[5]s"
      endpoint: %[6]s
  - id: sp
    platform: shopify
    shopify:
      store: %[7]s
      endpoint: %[8]s
`, w.amazon.URL, w.rakuten.URL, issued, yahootest.SellerID, yahootest.KeyVersion, w.yahoo.URL, shopifytest.Store, w.shopify.URL)
	configPath := filepath.Join(w.dir, "kpibot.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	w.vars = map[string]string{
		"KPIBOT_DB":                 seeded,
		"KPIBOT_CONFIG":             configPath,
		"SLACK_SIGNING_SECRET":      testSigningSecret,
		"SLACK_BOT_TOKEN":           testBotToken,
		"SLACK_APP_TOKEN":           testAppToken,
		"SLACK_API_URL":             slackSrv.URL + "/api",
		"LINE_CHANNEL_SECRET":       testLineSecret,
		"LINE_CHANNEL_ACCESS_TOKEN": testLineToken,
		"LINE_API_URL":              w.line.URL,
		"KPIBOT_PUBLIC_URL":         "https://kpibot.example.com/",
		"AMAZON_LWA_CLIENT_ID":      amazontest.Credentials.ClientID,
		"AMAZON_LWA_CLIENT_SECRET":  amazontest.Credentials.ClientSecret,
		"AMAZON_REFRESH_TOKEN":      amazontest.Credentials.RefreshToken,
		"RAKUTEN_SERVICE_SECRET":    rakutentest.ServiceSecret,
		"RAKUTEN_LICENSE_KEY":       rakutentest.LicenseKey,
		"YAHOO_ACCESS_TOKEN":        yahootest.Token,
		"YAHOO_PUBLIC_KEY":          w.yahoo.Config().PublicKey,
		"SHOPIFY_ACCESS_TOKEN":      shopifytest.Token,
	}
	return w
}

// doctor runs kpibot doctor with vars on a clock off by offset from the
// fakes' (their Date headers are the real time).
func (w *doctorWorld) doctor(t *testing.T, vars map[string]string, offset time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", append([]string{"doctor"}, args...)...)
	e.getenv = func(k string) string { return vars[k] }
	e.now = func() time.Time { return time.Now().Add(offset) }
	e.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	code = run(context.Background(), e)
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
		t.Errorf("a stack trace reached the user:\n%s", errOut.String())
	}
	return code, out.String(), errOut.String()
}

// secretVars are the variables whose values must never be printed.
var secretVars = []string{"SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
	"AMAZON_LWA_CLIENT_SECRET", "AMAZON_REFRESH_TOKEN", "RAKUTEN_SERVICE_SECRET", "RAKUTEN_LICENSE_KEY", "YAHOO_ACCESS_TOKEN",
	"SHOPIFY_ACCESS_TOKEN"}

// noSecretIn fails if the value of a secret variable of vars is in out.
func noSecretIn(t *testing.T, vars map[string]string, out string) {
	t.Helper()
	for _, name := range secretVars {
		if v := vars[name]; v != "" && strings.Contains(out, v) {
			t.Errorf("the value of %s reached the output:\n%s", name, out)
		}
	}
	for _, s := range []string{"Atza|", "fake-access-"} { // Login with Amazon's access tokens
		if strings.Contains(out, s) {
			t.Errorf("an access token reached the output:\n%s", out)
		}
	}
}

func TestDoctor(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "not-sqlite.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("this is no database\n"), 300), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		issued   int                                          // days since the Rakuten key was issued; 0: 10
		change   func(w *doctorWorld, vars map[string]string) // nil: all is well
		offset   time.Duration                                // the local clock's
		args     []string
		code     int
		want     []string // lines (or parts of them) that must be in stdout
		wantNot  []string
		wantMark map[string]string // check name → its mark
	}{
		{
			name: "all good",
			code: 0,
			want: []string{
				"✓ Config file: ", "4 shops configured",
				"✓ Database: " + seeded + ": schema version ",
				"✓ Slack: workspace kpibot test (T0KPIBOT1), bot user @kpibot (U0KPIBOT1)",
				"✓ Slack Socket Mode: SLACK_APP_TOKEN opens Socket Mode connections",
				"✓ LINE: bot kpibot (@kpibot)",
				"✓ LINE quota: 3800 of this month's 5000 messages left",
				"✓ LINE charts: LINE fetches chart images from https://kpibot.example.com/charts/",
				"✓ Shop amz (Amazon): Login with Amazon took the refresh token in AMAZON_REFRESH_TOKEN",
				"✓ Shop rk (Rakuten): RMS took the service secret and license key; the license key expires on ",
				"✓ Shop yh (Yahoo! Shopping): the Store API answered for store " + yahootest.SellerID,
				"✓ Shop sp (Shopify): the Admin API answered: shop " + shopifytest.ShopName,
				"✓ Clock: within ", "Slack, LINE, Login with Amazon, RMS, Yahoo!, Shopify",
				"Nothing failed: ✓ 12, ⚠ 0.",
			},
			wantNot: []string{"\n✗", "\n⚠"},
		},
		{
			name:   "wrong Slack bot token",
			change: func(_ *doctorWorld, v map[string]string) { v["SLACK_BOT_TOKEN"] = "xoxb-not-the-bot-token-11" },
			code:   1,
			want: []string{"✗ Slack: Slack refused SLACK_BOT_TOKEN: invalid_auth — create a new bot token at https://api.slack.com/apps",
				"✓ LINE: ", "✗ 1, ⚠ 0, ✓ 11: fix the ✗ lines"},
		},
		{
			name:   "wrong Slack app token",
			change: func(_ *doctorWorld, v map[string]string) { v["SLACK_APP_TOKEN"] = "xapp-not-the-app-token-22" },
			code:   1,
			want:   []string{"✓ Slack: workspace", "✗ Slack Socket Mode: Slack refused SLACK_APP_TOKEN: invalid_auth"},
		},
		{
			name: "Slack token without files:write",
			change: func(w *doctorWorld, _ map[string]string) {
				w.slackAuth.SetScopes([]string{"commands", "chat:write", "app_mentions:read", "im:history", "im:read", "im:write", "users:read"})
			},
			code: 0,
			want: []string{"⚠ Slack: SLACK_BOT_TOKEN lacks the scopes files:write that docs/slack-app-manifest.yaml asks for",
				"Without files:write the answers go without their charts.", "Nothing failed: ✓ 11, ⚠ 1."},
		},
		{
			name:   "Slack token without chat:write",
			change: func(w *doctorWorld, _ map[string]string) { w.slackAuth.SetScopes([]string{"commands"}) },
			code:   1,
			want:   []string{"✗ Slack: SLACK_BOT_TOKEN lacks the scopes chat:write, files:write, app_mentions:read"},
		},
		{
			name:   "Slack half configured",
			change: func(_ *doctorWorld, v map[string]string) { delete(v, "SLACK_SIGNING_SECRET") },
			code:   1,
			want:   []string{"✗ Slack: Slack needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; not set: SLACK_SIGNING_SECRET.", "✓ Slack: workspace"},
		},
		{
			name: "wrong LINE token",
			change: func(_ *doctorWorld, v map[string]string) {
				v["LINE_CHANNEL_ACCESS_TOKEN"] = "not-the-line-channel-token"
			},
			code: 1,
			want: []string{"✗ LINE: LINE refused LINE_CHANNEL_ACCESS_TOKEN (401 Authentication failed.",
				"issue a new channel access token in the LINE Developers console"},
			wantNot: []string{"LINE quota"},
		},
		{
			name: "a LINE error that repeats the token",
			change: func(w *doctorWorld, _ map[string]string) {
				w.line.Fail("getBotInfo", 1, http.StatusBadRequest, "no bot for the token "+testLineToken)
			},
			code: 1,
			want: []string{"✗ LINE: LINE answered with an error: line: 400 no bot for the token ***"},
		},
		{
			name:   "LINE quota nearly spent",
			change: func(w *doctorWorld, _ map[string]string) { w.line.SetQuota(200, 190) },
			code:   0,
			want:   []string{"⚠ LINE quota: only 10 of this month's 200 messages left"},
		},
		{
			name:   "public URL not https",
			change: func(_ *doctorWorld, v map[string]string) { v["KPIBOT_PUBLIC_URL"] = "http://kpibot.example.com" },
			code:   1,
			want: []string{"✗ LINE charts: KPIBOT_PUBLIC_URL cannot be used for LINE's chart images " +
				`(line: chart links: public URL "http://kpibot.example.com" is not https`},
		},
		{
			name: "public URL with a password",
			change: func(_ *doctorWorld, v map[string]string) {
				v["KPIBOT_PUBLIC_URL"] = "https://user:pa55word-of-proxy@kpibot.example.com"
			},
			code:    1,
			want:    []string{"✗ LINE charts: ", `"https://user:***@kpibot.example.com" has a user`},
			wantNot: []string{"pa55word-of-proxy"},
		},
		{
			name:   "public URL unset",
			change: func(_ *doctorWorld, v map[string]string) { delete(v, "KPIBOT_PUBLIC_URL") },
			code:   0,
			want:   []string{"⚠ LINE charts: KPIBOT_PUBLIC_URL is not set: LINE messages go without charts."},
		},
		{
			name:   "clock 10 minutes ahead",
			offset: 10 * time.Minute,
			code:   1,
			want: []string{"✗ Clock: the local clock is 10 min ", "ahead of ",
				"kpibot refuses Slack's requests whose timestamp is more than 5 minutes from the local clock"},
		},
		{
			name:   "clock 10 minutes behind",
			offset: -10 * time.Minute,
			code:   1,
			want:   []string{"✗ Clock: the local clock is 10 min ", "behind "},
		},
		{
			name: "clock 2 minutes ahead",
			change: func(_ *doctorWorld, v map[string]string) {
				// Only Slack: the other fakes would take a 2-minute skew too.
				for _, k := range []string{"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "KPIBOT_CONFIG"} {
					delete(v, k)
				}
			},
			offset: 2 * time.Minute,
			code:   0,
			want:   []string{"⚠ Clock: the local clock is 2 min ", "ahead of Slack's. Set it right", "Nothing failed"},
		},
		{
			name:   "missing connector secret",
			change: func(_ *doctorWorld, v map[string]string) { delete(v, "RAKUTEN_LICENSE_KEY") },
			code:   1,
			want:   []string{"✗ Shop rk (Rakuten): not set in the environment: RAKUTEN_LICENSE_KEY (set them where kpibot runs)", "✓ Shop amz (Amazon)"},
		},
		{
			name:   "refused Amazon refresh token",
			change: func(_ *doctorWorld, v map[string]string) { v["AMAZON_REFRESH_TOKEN"] = "Atzr|revoked-refresh-token-33" },
			code:   1,
			want: []string{"✗ Shop amz (Amazon): Login with Amazon refused the refresh token in AMAZON_REFRESH_TOKEN (invalid_grant): " +
				"authorize the app again in Seller Central"},
		},
		{
			name:   "refused Amazon client secret",
			change: func(_ *doctorWorld, v map[string]string) { v["AMAZON_LWA_CLIENT_SECRET"] = "not-the-client-secret-44" },
			code:   1,
			want:   []string{"✗ Shop amz (Amazon): Login with Amazon refused the app's AMAZON_LWA_CLIENT_ID or AMAZON_LWA_CLIENT_SECRET (invalid_client)"},
		},
		{
			name: "refused Rakuten key",
			change: func(_ *doctorWorld, v map[string]string) {
				v["RAKUTEN_LICENSE_KEY"] = "SL338411_expired-license-key-55"
			},
			code: 1,
			want: []string{"✗ Shop rk (Rakuten): RMS refused the credentials in RAKUTEN_SERVICE_SECRET and RAKUTEN_LICENSE_KEY (HTTP 401): " +
				"the license key is expired or wrong"},
		},
		{
			name:   "Rakuten key expiring",
			issued: 80,
			code:   0,
			want:   []string{"⚠ Shop rk (Rakuten): RMS took the credentials, but the license key expires on ", "(in 10 days)"},
		},
		{
			name:   "expired Yahoo token",
			change: func(w *doctorWorld, _ map[string]string) { w.yahoo.Expire() },
			code:   1,
			want:   []string{"✗ Shop yh (Yahoo! Shopping): Yahoo! refused the access token in YAHOO_ACCESS_TOKEN (px-04102)"},
		},
		{
			name:   "Yahoo public key not PEM",
			change: func(_ *doctorWorld, v map[string]string) { v["YAHOO_PUBLIC_KEY"] = "not a key at all" },
			code:   1,
			want:   []string{"✗ Shop yh (Yahoo! Shopping): YAHOO_PUBLIC_KEY is not the store's public key in PEM"},
		},
		{
			name: "wrong Shopify token",
			change: func(_ *doctorWorld, v map[string]string) {
				v["SHOPIFY_ACCESS_TOKEN"] = "shpat_not0the0token0000000000066"
			},
			code: 1,
			want: []string{"✗ Shop sp (Shopify): Shopify refused the access token in SHOPIFY_ACCESS_TOKEN (HTTP 401)"},
		},
		{
			name: "unreachable Shopify",
			change: func(w *doctorWorld, _ map[string]string) {
				w.shopify.Fail(shopifytest.Fault{Drop: true}, shopifytest.Fault{Drop: true})
			},
			code: 1,
			want: []string{"✗ Shop sp (Shopify): Can't reach Shopify at http://127.0.0.1:"},
		},
		{
			name: "database in a missing folder",
			args: []string{"--db", "/no/such/folder/kpibot.db"},
			code: 1,
			want: []string{"✗ Database: Can't open the database at /no/such/folder/kpibot.db. Check that the folder exists and is writable. " +
				"(the folder /no/such/folder does not exist)"},
		},
		{
			name: "not a database",
			args: []string{"--db", garbage},
			code: 1,
			want: []string{"✗ Database: Can't open the database at " + garbage, "file is not a database"},
		},
		{
			name:    "no database yet",
			change:  func(w *doctorWorld, v map[string]string) { v["KPIBOT_DB"] = filepath.Join(w.dir, "new.db") },
			code:    0,
			want:    []string{"⚠ Database: There is no database at ", "new.db yet (doctor does not create it)"},
			wantNot: []string{"✗"},
		},
		{
			name: "nothing configured",
			change: func(_ *doctorWorld, v map[string]string) {
				for k := range v {
					if k != "KPIBOT_DB" {
						delete(v, k)
					}
				}
			},
			code: 0,
			want: []string{"✓ Database: ", "⚠ Chat: No chat platform is configured",
				"⚠ Clock: not checked: no service answered with its time", "Nothing failed: ✓ 1, ⚠ 2."},
		},
		{
			name:   "in Japanese",
			change: func(_ *doctorWorld, v map[string]string) { v["SLACK_BOT_TOKEN"] = "xoxb-not-the-bot-token-77" },
			args:   []string{"--lang", "ja"},
			code:   1,
			want: []string{"✗ Slack：Slack が SLACK_BOT_TOKEN を拒否しました：invalid_auth。https://api.slack.com/apps でボットトークンを作り直し",
				"✓ データベース：" + seeded + "：スキーマバージョン ", "✓ ショップ rk（楽天）：RMS がサービスシークレットとライセンスキーを受け付けました",
				"✓ 時計：", "✗ 1、⚠ 0、✓ 11：✗ の行を直してから、もう一度 kpibot doctor を実行してください。"},
		},
		{
			name: "in Chinese, from LANG",
			change: func(_ *doctorWorld, v map[string]string) {
				v["LANG"] = "zh_CN.UTF-8"
				v["LINE_CHANNEL_ACCESS_TOKEN"] = "not-the-line-channel-token-88"
			},
			offset: 10 * time.Minute,
			code:   1,
			want: []string{"✗ LINE：LINE 拒绝了 LINE_CHANNEL_ACCESS_TOKEN（401 Authentication failed.",
				"✗ 时钟：本机时钟比 ", " 快 10分", "kpibot 会拒绝时间戳与本机时钟相差超过 5 分钟的 Slack 请求",
				"✓ 店铺 amz（亚马逊）：Login with Amazon 接受了 AMAZON_REFRESH_TOKEN 中的刷新令牌", "请修正 ✗ 的各行后再运行 kpibot doctor。"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDoctorWorld(t, cmpOr(tt.issued, 10))
			vars := w.vars
			if tt.change != nil {
				tt.change(w, vars)
			}
			code, out, errOut := w.doctor(t, vars, tt.offset, tt.args...)
			t.Logf("kpibot doctor %s:\n%s", strings.Join(tt.args, " "), out)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, no := range tt.wantNot {
				if strings.Contains(out, no) {
					t.Errorf("stdout has %q:\n%s", no, out)
				}
			}
			if errOut != "" {
				t.Errorf("stderr:\n%s", errOut)
			}
			// Every line is a check's or the summary.
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, l := range lines[:len(lines)-1] {
				if !regexp.MustCompile(`^[✓⚠✗] `).MatchString(l) {
					t.Errorf("not a check's line: %q", l)
				}
			}
			noSecretIn(t, vars, out+errOut)
			noSecretIn(t, w.vars, out+errOut)
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// The clock is judged by the Date header of every answer, and each check
// goes over the network once: a second run makes the same calls.
func TestDoctorCallsEachPlatformOnce(t *testing.T) {
	w := newDoctorWorld(t, 10)
	if code, out, _ := w.doctor(t, w.vars, 0); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for method, want := range map[string]int{"auth.test": 1, "apps.connections.open": 1} {
		if n := w.slackAuth.Calls(method); n != want {
			t.Errorf("%s called %d times, want %d", method, n, want)
		}
	}
	if n := w.line.Calls("getBotInfo"); n != 1 {
		t.Errorf("getBotInfo called %d times", n)
	}
	if n := w.amazon.Calls("token"); n != 1 {
		t.Errorf("Login with Amazon called %d times", n)
	}
	if n := w.rakuten.Calls("searchOrder") + w.rakuten.Calls("getOrder"); n != 1 {
		t.Errorf("RMS called %d times, want 1 search", n)
	}
	if n := w.yahoo.Calls("orderList") + w.yahoo.Calls("orderInfo"); n != 1 {
		t.Errorf("Yahoo! called %d times, want 1 orderList", n)
	}
	if n := w.shopify.Calls(); n != 1 {
		t.Errorf("Shopify called %d times", n)
	}
	if len(w.line.Sent()) != 0 {
		t.Errorf("doctor sent LINE messages: %+v", w.line.Sent())
	}
}

func TestDoctorBadCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--verbose"}, "flag provided but not defined: -verbose"},
		{"arguments", []string{"now"}, `kpibot doctor takes no arguments, but got "now".`},
		{"bad language", []string{"--lang", "fr"}, `Unknown language "fr"`},
		{"arguments in Japanese", []string{"--lang", "ja", "now"}, "kpibot doctor は引数を取りませんが、「now」が指定されました。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := exec(t, "", append([]string{"doctor"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

// A config file with mistakes is a failed check, with every problem, and
// the rest is still checked.
func TestDoctorBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("shops:\n  - id: Bad Id\n    platform: ebay\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runWith(t, map[string]string{"KPIBOT_DB": seeded}, "doctor", "--config", path)
	if code != 1 || !strings.Contains(out, "✗ Config file: The config file "+path+" cannot be used:") ||
		!strings.Contains(out, "shops[0].platform") || !strings.Contains(out, "✓ Database: ") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
