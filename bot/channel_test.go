package bot

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// channelBook is kpi.ChatChannels in memory.
type channelBook map[string]kpi.ChatChannel

func (c channelBook) ChatChannel(_ context.Context, platform, id string) (kpi.ChatChannel, bool, error) {
	ch, ok := c[platform+"/"+id]
	return ch, ok, nil
}

func (c channelBook) BindChatChannel(_ context.Context, ch kpi.ChatChannel) error {
	c[ch.Platform+"/"+ch.ID] = ch
	return nil
}

func TestChannels(t *testing.T) {
	var asked []kpi.Query
	engine := engineFunc(func(_ context.Context, q kpi.Query) (*kpi.Result, error) {
		asked = append(asked, q)
		m, _ := kpi.Lookup(q.Metric)
		p := kpi.Yesterday(now)
		return &kpi.Result{Metric: m, Scope: q.Scope, Period: p, Window: p, PrevWindow: p.Previous(), Verdict: kpi.VerdictInfo}, nil
	})
	book := channelBook{}
	b, err := New(engine, shopList(shops), nil, book, catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	unbound := &kpi.ChatChannel{Platform: "slack", ID: "C1"}
	admin := func(context.Context) (bool, error) { return true, nil }
	member := func(context.Context) (bool, error) { return false, nil }

	// An unbound channel gets the setup hint, in the asker's language, and no numbers.
	r := b.Handle(ctx, Request{Text: "/kpi 返品率 先週", Channel: unbound})
	if r.Err == nil || !strings.Contains(r.Text, "/kpi チャンネル設定 本社 中国語") || len(asked) != 0 {
		t.Fatalf("unbound channel: %q, %d queries", r.Text, len(asked))
	}
	if r := b.Handle(ctx, Request{Text: "/kpi help", Channel: unbound}); r.Err != nil || !strings.Contains(r.Text, "/kpi") {
		t.Errorf("help in an unbound channel: %+v", r)
	}
	// Only an admin may bind it.
	r = b.Handle(ctx, Request{Text: "/kpi bind shop team ja rakuten", Channel: unbound, IsAdmin: member})
	if r.Err == nil || !strings.Contains(r.Text, "Only a workspace admin") || len(book) != 0 {
		t.Fatalf("a member bound the channel: %q %v", r.Text, book)
	}
	r = b.Handle(ctx, Request{Text: "/kpi bind shop team ja rakuten", Channel: unbound, IsAdmin: admin})
	want := kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}
	if r.Err != nil || !reflect.DeepEqual(book["slack/C1"], want) {
		t.Fatalf("bind: %q, stored %+v", r.Text, book["slack/C1"])
	}
	// Bound: answers in the channel's language, within its shops.
	bound := book["slack/C1"]
	r = b.Handle(ctx, Request{Text: "/kpi returns last week", Channel: &bound})
	if r.Err != nil || r.Lang != locales.Japanese || len(asked) != 1 || !reflect.DeepEqual(asked[0].Allowed, []string{"rakuten"}) {
		t.Errorf("bound channel: %+v, queries %+v", r, asked)
	}
	// A bare role binds HQ in Chinese, seeing every shop.
	b.Handle(ctx, Request{Text: "/kpi 绑定 总部", Channel: &kpi.ChatChannel{Platform: "slack", ID: "C2"}, IsAdmin: admin})
	if hq := book["slack/C2"]; hq.Role != kpi.RoleHQ || hq.Lang != "zh" || hq.Shops != nil {
		t.Errorf("hq binding %+v", hq)
	}
	// A platform binds its shops; bilingual is a channel language.
	b.Handle(ctx, Request{Text: "/kpi bind support team bilingual yahoo", Channel: &kpi.ChatChannel{Platform: "slack", ID: "C3"}, IsAdmin: admin})
	if jp := book["slack/C3"]; jp.Role != kpi.RoleJPSupport || jp.Lang != "zh+ja" || !reflect.DeepEqual(jp.Shops, []string{"yahoo"}) {
		t.Errorf("jp-support binding %+v", jp)
	}
	// Without a role, bind says how.
	r = b.Handle(ctx, Request{Text: "/kpi bind", Channel: unbound, IsAdmin: admin})
	var e *kpi.Error
	if !errors.As(r.Err, &e) || e.Key != "error.bind_needs_role" {
		t.Errorf("bind without a role: %v", r.Err)
	}
}
