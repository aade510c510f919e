package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// demoNow is the fixed clock of these tests: Saturday 2026-11-28 12:00 JST.
var demoNow = time.Date(2026, 11, 28, 12, 0, 0, 0, kpi.Tokyo)

// seeded is a demo database shared by the tests; TestMain makes it.
var seeded string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "kpibot-cmd")
	if err != nil {
		panic(err)
	}
	seeded = filepath.Join(dir, "demo.db")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), testEnv(&out, &errOut, "", "demo", "--db", seeded)); code != 0 {
		println("seeding the demo failed:", errOut.String())
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testEnv(stdout, stderr *bytes.Buffer, stdin string, args ...string) env {
	return env{
		args:   args,
		stdin:  strings.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		getenv: func(string) string { return "" },
		now:    func() time.Time { return demoNow },
	}
}

func exec(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), testEnv(&out, &errOut, stdin, args...))
	if strings.Contains(errOut.String(), "goroutine ") || strings.Contains(errOut.String(), "panic") {
		t.Errorf("a stack trace reached the user:\n%s", errOut.String())
	}
	return code, out.String(), errOut.String()
}

// The README's promise: piping a question into the demo prints a number and
// its verdict against the target.
func TestDemoAnswersPipedQuestions(t *testing.T) {
	code, out, errOut := exec(t, "/kpi return_rate last month\n\n/kpi nope\n", "demo", "--db", seeded)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`Value\s+\d+\.\d%`).MatchString(out) {
		t.Errorf("no percentage in:\n%s", out)
	}
	if !regexp.MustCompile(`Target\s+≤ 5\.0% — (on target|missed)`).MatchString(out) {
		t.Errorf("no verdict in:\n%s", out)
	}
	if !strings.Contains(out, `I didn't understand “/kpi nope”`) {
		t.Errorf("the bad line got no message:\n%s", out)
	}
}

func TestDemoSeedsOnce(t *testing.T) {
	code, _, errOut := exec(t, "", "demo", "--db", seeded)
	if code != 0 || strings.Contains(errOut, "Seeding") {
		t.Errorf("a seeded database was seeded again (exit %d): %s", code, errOut)
	}
}

func TestAskGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"return_rate.en", []string{"--lang", "en", "/kpi return_rate last month"}},
		{"return_rate.ja", []string{"--lang", "ja", "/kpi return_rate last month"}},
		{"return_rate.zh", []string{"--lang", "zh", "/kpi return_rate last month"}},
		{"negative_reviews.ja", []string{"--lang", "ja", "/kpi", "negative_reviews", "last", "7", "days"}},
		{"acos_amazon.zh", []string{"--lang", "zh", "/kpi acos amazon last 7 days"}},
		{"first_response.en", []string{"/kpi first_response_minutes this month"}},
		{"help.ja", []string{"--lang", "ja", "/kpi help"}},
		{"return_rate.zh+ja", []string{"--lang", "bilingual", "/kpi 退货率 乐天 上个月"}},
		{"written_ja", []string{"/kpi 返品率 楽天 先週"}},
		{"typo.en", []string{"/kpi retrun rate last month vs 2026-09"}},
		{"status.zh", []string{"/kpi 概况 乐天"}},
		{"list.ja", []string{"/kpi 一覧"}},
		{"digest_chat.ja", []string{"/kpi 日報 2026-11-26"}},
		{"weekly_chat.zh", []string{"/kpi 周报 上周"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := exec(t, "", append([]string{"ask", "--db", seeded}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.name, out)
		})
	}
}

func TestAskBadInput(t *testing.T) {
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "kpibot.db")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"not understood", []string{"ask", "--db", seeded, "/kpi xyzzy"}, 1, `I didn't understand “/kpi xyzzy”`},
		{"bad period", []string{"ask", "--db", seeded, "/kpi gmv 2026-02-30"}, 1, `can't read the period "2026-02-30"`},
		{"near miss", []string{"ask", "--db", seeded, "/kpi retrn rat"}, 1, `Did you mean “return rate”?`},
		{"future period", []string{"ask", "--db", seeded, "/kpi gmv 2027-01"}, 1, "has not started yet"},
		{"unknown shop in Japanese", []string{"ask", "--db", seeded, "--lang", "ja", "/kpi gmv 2026-13-01"}, 1, "期間「2026-13-01」を読み取れません"},
		{"unwritable database", []string{"ask", "--db", missingDir, "/kpi gmv"}, 1, "Can't open the database at " + missingDir},
		{"empty database", []string{"ask", "--db", filepath.Join(t.TempDir(), "empty.db"), "/kpi gmv"}, 1, "There are no shops yet"},
		{"no question", []string{"ask", "--db", seeded}, 2, "Tell kpibot what to ask"},
		{"bad language", []string{"ask", "--lang", "fr", "/kpi gmv"}, 2, `Unknown language "fr"`},
		{"bad flag", []string{"ask", "--dbx", "x", "/kpi gmv"}, 2, "flag provided but not defined"},
		{"unknown command", []string{"frobnicate"}, 2, `Unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := exec(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	code, out, _ := exec(t, "")
	if code != 0 || !strings.Contains(out, "kpibot demo [--db PATH]") {
		t.Errorf("exit %d, usage:\n%s", code, out)
	}
}

// codeRE matches a bind code, which differs at each run.
var codeRE = regexp.MustCompile(`\b[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}\b`)

// bind-code prints a code in the terminal's language; a LINE chat binds
// with it once.
func TestBindCodeGolden(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, lang string // lang: LANG
		args       []string
		want       kpi.ChatChannel // Role, Lang, Shops
	}{
		{"bind_code.en", "", []string{"--role", "shop", "--shops", "rakuten, yahoo"},
			kpi.ChatChannel{Role: kpi.RoleShop, Lang: "en", Shops: []string{"rakuten", "yahoo"}}},
		{"bind_code.zh", "zh_CN.UTF-8", []string{"--role", "hq", "--digest-at", "８：３０"}, // full width, as an IME types it
			kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"}},
		{"bind_code.ja", "ja_JP.UTF-8", []string{"--role", "jp-support", "--lang", "bilingual", "--shops", "amazon", "--digest-at", "10:00"},
			kpi.ChatChannel{Role: kpi.RoleJPSupport, Lang: "zh+ja", Shops: []string{"amazon-jp"}, DigestAt: "10:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := testEnv(&out, &errOut, "", append([]string{"bind-code", "--db", seeded}, tt.args...)...)
			e.getenv = func(k string) string { return map[string]string{"LANG": tt.lang}[k] }
			if code := run(ctx, e); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			code := codeRE.FindString(out.String())
			if code == "" || strings.Count(out.String(), code) != 2 {
				t.Fatalf("no code, or not twice, in:\n%s", out.String())
			}
			got := codeRE.ReplaceAllString(out.String(), "XXXX-XXXX")
			golden(t, tt.name, got)

			store, err := openStore(ctx, testEnv(nil, nil, ""), seeded)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			text, err := locales.Load()
			if err != nil {
				t.Fatal(err)
			}
			b, err := bot.New(&kpi.Engine{Store: store, Now: testNow}, store, store, store, text, testNow, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range []string{"C" + tt.name, "Cagain" + tt.name} {
				r := b.Handle(ctx, bot.Request{Text: "/kpi bind " + code, Channel: &kpi.ChatChannel{Platform: "line", ID: id}})
				c, bound, err := store.ChatChannel(ctx, "line", id)
				want := tt.want
				want.Platform, want.ID = "line", id
				if i == 0 && (r.Err != nil || err != nil || !reflect.DeepEqual(c, want)) {
					t.Errorf("binding with the code: %+v; bound %+v, %v", r, c, err)
				}
				if i == 1 && (r.Err == nil || bound) {
					t.Errorf("the code bound a second chat: %+v; bound %+v", r, c)
				}
			}
		})
	}
}

func testNow() time.Time { return demoNow }

func TestBindCodeBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad role", []string{"--role", "boss"}, 2, `Unknown role "boss": use hq, jp-support or shop.`},
		{"no role", []string{"--lang", "ja"}, 2, "Which role is the code for?"},
		{"bad language", []string{"--role", "hq", "--lang", "fr"}, 2, `Unknown language "fr"`},
		{"unknown shop", []string{"--role", "shop", "--shops", "rakuten,nope"}, 1, `There is no shop "nope".`},
		{"platform without shops", []string{"--role", "shop", "--shops", "shopify"}, 1, "There is no shop on shopify."},
		{"arguments", []string{"--role", "hq", "now"}, 2, `kpibot bind-code takes no arguments, but got "now".`},
		{"digest at 24:00", []string{"--role", "hq", "--digest-at", "24:00"}, 2, `I can't read the time "24:00": write it as HH:MM`},
		{"digest at 9:75", []string{"--role", "hq", "--digest-at", "9:75"}, 2, `I can't read the time "9:75"`},
		{"digest at 8.30", []string{"--role", "hq", "--digest-at", "8.30"}, 2, `I can't read the time "8.30"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := exec(t, "", append([]string{"bind-code", "--db", seeded}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
}

// bind-code names the config file's schedules.digest_at as the code's
// digest time when --digest-at is not given.
func TestBindCodeConfigDigestAt(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "kpibot.yaml")
	if err := os.WriteFile(cfg, []byte("schedules:\n  digest_at: \"08:15\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	e := testEnv(&out, &errOut, "", "bind-code", "--db", seeded, "--role", "hq", "--lang", "en")
	e.getenv = func(k string) string { return map[string]string{"KPIBOT_CONFIG": cfg, "LANG": "en_US.UTF-8"}[k] }
	if code := run(context.Background(), e); code != 0 || !strings.Contains(out.String(), "daily digest at 08:15 JST") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant the config file's 08:15", code, out.String(), errOut.String())
	}
	code, stdout, stderr := exec(t, "", "bind-code", "--db", seeded, "--config", cfg, "--role", "hq", "--lang", "en")
	if code != 0 || !strings.Contains(stdout, "daily digest at 08:15 JST") {
		t.Errorf("with --config: exit %d, stdout:\n%s\nstderr:\n%s\nwant the config file's 08:15", code, stdout, stderr)
	}
}

func TestDigestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"digest.zh+ja", nil}, // yesterday, bilingual: what hq and Japan support get
		{"digest.zh", []string{"--lang", "zh", "--date", "2026-11-23"}}, // a national holiday
		{"digest.ja", []string{"--lang", "ja", "--date", "2026-11-26"}}, // the Amazon review burst
		{"weekly.zh", []string{"--lang", "zh", "--report", "weekly"}},
		{"monthly.ja", []string{"--lang", "ja", "--report", "monthly", "--date", "2026-10-15"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := exec(t, "", append([]string{"digest", "--db", seeded, "--print"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.name, out)
		})
	}
}

func TestDigestBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--print", "--date", "27/11/2026"}, `"27/11/2026" is not a date`},
		{[]string{"--print", "--report", "daily"}, `There is no report "daily"`},
		{[]string{"--print", "--lang", "fr"}, "fr"},
		{[]string{"--print", "now"}, "takes no arguments"},
	}
	for _, tt := range tests {
		code, _, errOut := exec(t, "", append([]string{"digest", "--db", seeded}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("digest %q: exit %d, %q; want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// golden compares got with testdata/<name>.golden, which -update rewrites.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
