package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
)

// The hq channels hear, in their language, that a Rakuten license key
// expires from 14 days before on, once per channel; the others do not.
func TestWarnExpiringKeys(t *testing.T) {
	ctx := context.Background()
	store, err := openStore(ctx, testEnv(nil, nil, ""), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, ch := range []kpi.ChatChannel{
		{Platform: "slack", ID: "CHQ", Role: kpi.RoleHQ, Lang: "zh"},
		{Platform: "line", ID: "CJP", Role: kpi.RoleJPSupport, Lang: "ja"},
		{Platform: "line", ID: "CHQ2", Role: kpi.RoleHQ, Lang: "ja"},
	} {
		if err := store.BindChatChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	issued := time.Date(2026, 9, 1, 0, 0, 0, 0, kpi.Tokyo) // expires 2026-11-30
	s, err := parseConfig([]byte("shops:\n  - id: rk\n    name: 楽天本店\n    platform: rakuten\n    rakuten:\n      license_key_issued: 2026-09-01\n"),
		testText(t).Printer("en"))
	if err != nil || !s.shops[0].issued.Equal(issued) {
		t.Fatalf("config: %+v, %v", s.shops, err)
	}
	text := testText(t)
	pending := func() []string {
		t.Helper()
		items, err := store.Due(ctx, issued.AddDate(1, 0, 0), 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			_, r, err := bot.DecodeOutgoing(it.Payload)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, it.Key+" "+r.Title)
		}
		return out
	}
	for _, at := range []time.Time{issued.AddDate(0, 0, 75), issued.AddDate(0, 0, 75).Add(-time.Minute)} {
		if err := warnExpiringKeys(ctx, at, s, store, text); err != nil {
			t.Fatal(err)
		}
	}
	if got := pending(); len(got) != 0 {
		t.Fatalf("warned 15 days before: %q", got)
	}
	for range 2 { // twice: once per channel
		if err := warnExpiringKeys(ctx, issued.AddDate(0, 0, 76).Add(time.Hour), s, store, text); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(pending(), "\n")
	for _, want := range []string{
		"rakuten-key:rk:2026-11-30:slack:CHQ 楽天本店：乐天 RMS 的 license key 将于 2026-11-30 过期（还剩 13 天）",
		"rakuten-key:rk:2026-11-30:line:CHQ2 楽天本店：楽天 RMS のライセンスキーが 2026-11-30 に失効します（あと 13 日）",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 2 || strings.Contains(got, "CJP") {
		t.Errorf("want one warning per hq channel, got:\n%s", got)
	}
}
