package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kpibot config check FILE: "ok" with what the file sets and exit 0, or
// every problem with where it is and exit 2, in the terminal's language.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(`channels:
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
    bot_token: xoxb-1234-s3cr3t
alerts:
  resend_after: soon
`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := "../../docs/kpibot.example.yaml"
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		code    int
		out     string // stdout, exactly
		errWant string // in stderr
	}{
		{"ok", nil, []string{"config", "check", good}, 0,
			good + ": ok — shops: 4, channels: 3, alert rules: 5, routes: 1\n", ""},
		{"ok from KPIBOT_CONFIG", map[string]string{"KPIBOT_CONFIG": good}, []string{"config", "check"}, 0,
			good + ": ok — shops: 4, channels: 3, alert rules: 5, routes: 1\n", ""},
		{"ok from --config, in Chinese", nil, []string{"config", "check", "--config", good, "--lang", "zh"}, 0,
			good + "：没有问题 — 店铺 4 个，频道 3 个，告警规则 5 条，路由 1 条\n", ""},
		{"errors", nil, []string{"config", "check", bad}, 2, "",
			"The config file " + bad + " cannot be used:\n" +
				`channels[2].lang: "jp" is not one of zh, ja, en, bilingual` + "\n" +
				"channels[2].bot_token: a secret never goes in this file (its value is not shown): set it in the environment variable SLACK_BOT_TOKEN\n" +
				`alerts.resend_after: "soon" is not a positive duration (30m, 1h)` + "\n"},
		{"errors in Japanese", map[string]string{"LANG": "ja_JP.UTF-8"}, []string{"config", "check", bad}, 2, "",
			"設定ファイル " + bad + " を使えません：\n" + `channels[2].lang: 「jp」は zh, ja, en, bilingual のいずれでもありません` + "\n"},
		{"the file before the flag", map[string]string{"KPIBOT_CONFIG": good}, []string{"config", "check", bad, "--lang", "en"}, 2, "",
			`channels[2].lang: "jp" is not one of`},
		{"no such file", nil, []string{"config", "check", filepath.Join(dir, "nowhere.yaml")}, 2, "", "no such file"},
		{"no file", nil, []string{"config", "check"}, 2, "", "Which config file?"},
		{"two files", nil, []string{"config", "check", good, bad}, 2, "", "kpibot config check takes one file"},
		{"no subcommand", nil, []string{"config"}, 2, "", "What should kpibot config do?"},
		{"unknown subcommand", nil, []string{"config", "lint", good}, 2, "", `Unknown config command "lint"`},
		{"bad lang", nil, []string{"config", "check", good, "--lang", "fr"}, 2, "", `Unknown language "fr"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := testEnv(&out, &errOut, "", tt.args...)
			e.getenv = func(k string) string { return tt.vars[k] }
			code := run(context.Background(), e)
			if code != tt.code || out.String() != tt.out || !strings.Contains(errOut.String(), tt.errWant) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, stdout %q, stderr with %q", code, out.String(), errOut.String(),
					tt.code, tt.out, tt.errWant)
			}
			if strings.Contains(out.String()+errOut.String(), "s3cr3t") {
				t.Errorf("the secret in the file is echoed:\n%s", errOut.String())
			}
		})
	}
}
