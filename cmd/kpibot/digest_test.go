package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/kpi"
)

// kpibot digest --report weekly|monthly sends a review on the day the
// scheduler would, the config file's review day, and so under the same
// outbox key: a review sent by hand is not sent again by serve.
func TestDigestReviewOnTheConfiguredDay(t *testing.T) {
	tests := []struct {
		name, schedules, report, date string
		key                           string // the outbox key's day
	}{
		{"weekly, Monday by default", "", "weekly", "2026-11-18", "weekly:2026-11-23:"},
		{"weekly on Friday", "schedules:\n  weekly_review:\n    weekday: friday\n    at: \"17:00\"\n", "weekly", "2026-11-18", "weekly:2026-11-27:"},
		{"monthly, the 1st by default", "", "monthly", "2026-10-15", "monthly:2026-11-01:"},
		{"monthly on the 3rd", "schedules:\n  monthly_review:\n    day: 3\n    at: \"08:00\"\n", "monthly", "2026-10-15", "monthly:2026-11-03:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := linetest.NewServer(t)
			group := "C" + strings.Repeat("0", 31) + "7"
			db := demoWithChannel(t, kpi.ChatChannel{Platform: "line", ID: group, Role: kpi.RoleHQ, Lang: "zh"})
			config := filepath.Join(t.TempDir(), "kpibot.yaml")
			if err := os.WriteFile(config, []byte(tt.schedules), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"KPIBOT_CONFIG": config, "LINE_CHANNEL_SECRET": testLineSecret,
				"LINE_CHANNEL_ACCESS_TOKEN": testLineToken, "LINE_API_URL": fake.URL}
			var out, errOut bytes.Buffer
			e := testEnv(&out, &errOut, "", "digest", "--db", db, "--report", tt.report, "--date", tt.date)
			e.getenv = func(k string) string { return vars[k] }
			if code := run(context.Background(), e); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			conn, err := sql.Open("sqlite3", db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var key string
			err = conn.QueryRow("SELECT key FROM outbox WHERE key LIKE ? AND channel = ?", tt.report+":%", group).Scan(&key)
			if err != nil || !strings.HasPrefix(key, tt.key) {
				t.Errorf("outbox key %q (%v), want %s…", key, err, tt.key)
			}
		})
	}
}
