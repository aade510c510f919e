package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The methods beyond the kpi interfaces that every store has, as the
// packages that use them declare them (bot, bot/slack, cmd/kpibot).
type (
	userLangs interface {
		UserLang(ctx context.Context, user string) (string, error)
		SetUserLang(ctx context.Context, user, lang string) error
	}
	firstSeen interface {
		FirstSeen(ctx context.Context, key string) (bool, error)
	}
	health interface {
		Ping(ctx context.Context) error
		AlertCounts(ctx context.Context) (map[string]int, error)
	}
)

// testUserLang: a user's language is "" until set, then the last one set;
// users are apart.
func testUserLang(t *testing.T, open opener) {
	ctx := context.Background()
	s, ok := openAt(t, open, newClock(jst(2026, 11, 28, 12, 0))).(userLangs)
	if !ok {
		t.Fatal("the store keeps no user languages (UserLang, SetUserLang)")
	}
	if l, err := s.UserLang(ctx, "U1"); err != nil || l != "" {
		t.Fatalf("unset: %q, %v", l, err)
	}
	for _, lang := range []string{"ja", "zh"} {
		if err := s.SetUserLang(ctx, "U1", lang); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := s.UserLang(ctx, "U1"); err != nil || l != "zh" {
		t.Errorf("U1: %q, %v, want zh", l, err)
	}
	if l, err := s.UserLang(ctx, "U2"); err != nil || l != "" {
		t.Errorf("U2 has %q, %v", l, err)
	}
}

// testFirstSeen: a key is new once.
func testFirstSeen(t *testing.T, open opener) {
	ctx := context.Background()
	s, ok := openAt(t, open, newClock(jst(2026, 11, 28, 12, 0))).(firstSeen)
	if !ok {
		t.Fatal("the store remembers no events (FirstSeen)")
	}
	for i, want := range []bool{true, false, false} {
		if first, err := s.FirstSeen(ctx, "slack:Ev1"); err != nil || first != want {
			t.Errorf("try %d: %v, %v; want %v", i, first, err, want)
		}
	}
	if first, err := s.FirstSeen(ctx, "line:Ev1"); err != nil || !first {
		t.Errorf("another key: %v, %v; want new", first, err)
	}
}

// testChatChannels: a channel is bound per platform and id, and binding it
// again replaces its binding.
func testChatChannels(t *testing.T, open opener) {
	ctx := context.Background()
	s, ok := openAt(t, open, newClock(jst(2026, 11, 28, 12, 0))).(kpi.ChatChannels)
	if !ok {
		t.Fatal("the store does not keep chat channels (kpi.ChatChannels)")
	}
	if _, ok, err := s.ChatChannel(ctx, "slack", "C1"); ok || err != nil {
		t.Fatalf("unbound: %v %v", ok, err)
	}
	bound := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten", "yahoo"}}
	if err := s.BindChatChannel(ctx, bound); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.ChatChannel(ctx, "slack", "C1")
	if err != nil || !ok || got.Role != kpi.RoleShop || got.Lang != "ja" || strings.Join(got.Shops, ",") != "rakuten,yahoo" {
		t.Errorf("got %+v %v %v", got, ok, err)
	}
	bound.Role, bound.Lang, bound.Shops = kpi.RoleHQ, "zh", nil // bound again: replaced
	if err := s.BindChatChannel(ctx, bound); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.ChatChannel(ctx, "slack", "C1"); got.Role != kpi.RoleHQ || got.Shops != nil {
		t.Errorf("rebound %+v", got)
	}
	if _, ok, _ := s.ChatChannel(ctx, "line", "C1"); ok {
		t.Error("another platform's channel of the same id is bound")
	}
}

// testAlertCounts: the episodes not resolved, by state.
func testAlertCounts(t *testing.T, open opener) {
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	st := openAt(t, open, newClock(now))
	s, ok1 := st.(kpi.AlertStore)
	h, ok2 := st.(health)
	if !ok1 || !ok2 {
		t.Fatal("the store does not keep and count alerts (kpi.AlertStore, AlertCounts)")
	}
	if got, err := h.AlertCounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no alerts: %v, %v; want an empty map", got, err)
	}
	for i, state := range []kpi.AlertState{kpi.AlertOpen, kpi.AlertOpen, kpi.AlertAcked, kpi.AlertSnoozed, kpi.AlertResolved, kpi.AlertResolved} {
		a := &kpi.Alert{Key: "return_rate:s" + string(rune('a'+i)), Metric: "return_rate", Shop: "s", Severity: kpi.SeverityWarning,
			State: state, Opened: now, Updated: now, Target: 0.05}
		if state == kpi.AlertResolved {
			a.Resolved = now
		}
		if err := s.SaveAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.AlertCounts(ctx)
	if want := map[string]int{"open": 2, "acked": 1, "snoozed": 1}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AlertCounts: %v, %v; want %v (resolved episodes are not counted)", got, err, want)
	}
}

// testPing: an open store answers, a closed one does not.
func testPing(t *testing.T, open opener) {
	st := open(t, newClock(jst(2026, 11, 28, 12, 0)).Now)
	h, ok := st.(health)
	if !ok {
		st.Close()
		t.Fatal("the store cannot be pinged (Ping)")
	}
	if err := h.Ping(context.Background()); err != nil {
		t.Errorf("Ping of an open store: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store: no error")
	}
}

// testReviewTextMasked: a review's text is stored masked (kpi.MaskPII),
// the caller's batch left as it was; the same review again, unmasked, is
// unchanged.
func testReviewTextMasked(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 5, 10, 9, 0)
	s := openAt(t, open, newClock(now))
	src, ok := s.(kpi.AlertSource)
	if !ok {
		t.Fatal("the store does not serve alerts (kpi.AlertSource)")
	}
	text := "Contact me at taro.yamada@example.co.jp or 090-1234-5678, the box was crushed"
	review := kpi.Review{Shop: shop, ID: "v1", Posted: now.Add(-48 * time.Hour), Rating: 1, Text: text}
	b := &kpi.Batch{Shops: []kpi.Shop{mainShop}, Reviews: []kpi.Review{review}}
	write(t, s, b)
	if b.Reviews[0].Text != text {
		t.Errorf("Write changed the caller's batch: %q", b.Reviews[0].Text)
	}
	got, err := src.NegativeReviews(ctx, shop, now.Add(-72*time.Hour), now, 10)
	if want := "Contact me at *** or ***, the box was crushed"; err != nil || len(got) != 1 || got[0].Text != want {
		t.Errorf("NegativeReviews = %+v, %v; want one with the text %q", got, err, want)
	}
	if st := write(t, s, b); st != (kpi.WriteStats{Unchanged: 2}) {
		t.Errorf("the same batch again: %+v, want 2 unchanged", st)
	}
	d := kpi.DateOf(review.Posted)
	if got := facts(t, s, d, d+1).Count[kpi.NegativeReviews]; got != 1 {
		t.Errorf("negative reviews = %d, want 1", got)
	}
}

// testOrderedByBytes: shops and chat channels are listed in the bytewise
// order of their ids, whatever the database's collation.
func testOrderedByBytes(t *testing.T, open opener) {
	ctx := context.Background()
	now := jst(2026, 11, 28, 12, 0)
	s := openAt(t, open, newClock(now))
	ids := []string{"b", "a-2", "B", "a_1", "a1", "Z"}
	want := []string{"B", "Z", "a-2", "a1", "a_1", "b"} // bytewise
	var b kpi.Batch
	for _, id := range ids {
		b.Shops = append(b.Shops, kpi.Shop{ID: id, Platform: kpi.Shopify, Name: id, Currency: "JPY"})
	}
	write(t, s, &b)
	shops, err := s.Shops(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sh := range shops {
		got = append(got, sh.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Shops = %v, want %v", got, want)
	}
	bind, ok1 := s.(kpi.ChatChannels)
	list, ok2 := s.(kpi.ChannelLister)
	if !ok1 || !ok2 {
		t.Fatal("the store does not keep chat channels (kpi.ChatChannels, kpi.ChannelLister)")
	}
	for _, id := range ids {
		if err := bind.BindChatChannel(ctx, kpi.ChatChannel{Platform: "slack", ID: id, Role: kpi.RoleHQ, Lang: "zh"}); err != nil {
			t.Fatal(err)
		}
	}
	channels, err := list.ChatChannelList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, c := range channels {
		got = append(got, c.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChatChannelList = %v, want %v", got, want)
	}
}
