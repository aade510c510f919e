package bot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
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

// codeBook is Channels in memory: a channelBook and bind codes by hash.
type codeBook struct {
	channelBook
	codes map[string]kpi.BindCode
	used  map[string]bool
}

func newCodeBook(channels channelBook) *codeBook {
	return &codeBook{channelBook: channels, codes: map[string]kpi.BindCode{}, used: map[string]bool{}}
}

func (c *codeBook) SaveBindCode(_ context.Context, hash string, bc kpi.BindCode) error {
	c.codes[hash] = bc
	return nil
}

func (c *codeBook) UseBindCode(_ context.Context, hash string, now time.Time) (kpi.BindCode, error) {
	bc, ok := c.codes[hash]
	switch {
	case !ok:
		return kpi.BindCode{}, kpi.Errorf(kpi.NotFound, "error.bind_code_unknown", nil, nil)
	case c.used[hash]:
		return kpi.BindCode{}, kpi.Errorf(kpi.NotFound, "error.bind_code_used", nil, nil)
	case !now.Before(bc.Expires):
		return kpi.BindCode{}, kpi.Errorf(kpi.NotFound, "error.bind_code_expired", nil, nil)
	}
	c.used[hash] = true
	return bc, nil
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
	b, err := New(engine, shopList(shops), nil, newCodeBook(book), catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	unbound := &kpi.ChatChannel{Platform: "slack", ID: "C1"}
	admin := func(context.Context) (bool, error) { return true, nil }
	member := func(context.Context) (bool, error) { return false, nil }

	// An unbound channel gets the setup hint, in the asker's language, and no numbers.
	r := b.Handle(ctx, Request{Text: "/kpi 返品率 先週", Channel: unbound, IsAdmin: member})
	if r.Err == nil || !strings.Contains(r.Text, "/kpi チャンネル設定 本社 中国語") || len(asked) != 0 {
		t.Fatalf("unbound channel: %q, %d queries", r.Text, len(asked))
	}
	// Where nobody can be asked whether they are an admin (LINE), the hint
	// is the one-time code.
	r = b.Handle(ctx, Request{Text: "/kpi 返品率 先週", Channel: &kpi.ChatChannel{Platform: "line", ID: "C9"}})
	if r.Err == nil || !strings.Contains(r.Text, "/kpi 連携 ABCD-EFGH") || strings.Contains(r.Text, "チャンネル設定") || len(asked) != 0 {
		t.Fatalf("unbound LINE chat: %q, %d queries", r.Text, len(asked))
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

// fullWidth writes ASCII as full-width characters (ＡＢＣＤ－ＥＦＧＨ), as a
// Japanese keyboard may.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r + 0xfee0
		}
		return r
	}, s)
}

func TestBindCodes(t *testing.T) {
	var asked []kpi.Query
	engine := engineFunc(func(_ context.Context, q kpi.Query) (*kpi.Result, error) {
		asked = append(asked, q)
		m, _ := kpi.Lookup(q.Metric)
		p := kpi.Yesterday(now)
		return &kpi.Result{Metric: m, Scope: q.Scope, Period: p, Window: p, PrevWindow: p.Previous(), Verdict: kpi.VerdictInfo}, nil
	})
	book := newCodeBook(channelBook{})
	clock := now
	b, err := New(engine, shopList(shops), nil, book, catalog(t), func() time.Time { return clock }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := func(context.Context) (bool, error) { return true, nil }
	member := func(context.Context) (bool, error) { return false, nil }
	slackHQ := &kpi.ChatChannel{Platform: "slack", ID: "C1", Role: kpi.RoleHQ, Lang: "zh"}
	codeRE := regexp.MustCompile(`\b[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}\b`)
	// newCode has an admin make a code in Slack and returns it.
	newCode := func(t *testing.T, text string) string {
		t.Helper()
		r := b.Handle(ctx, Request{Text: text, Channel: slackHQ, IsAdmin: admin})
		code := codeRE.FindString(r.Text)
		if r.Err != nil || !r.Private || code == "" {
			t.Fatalf("%q: %+v", text, r)
		}
		return code
	}
	errKey := func(r Reply) string {
		var e *kpi.Error
		if !errors.As(r.Err, &e) {
			return ""
		}
		return e.Key
	}

	// Only an admin makes codes: not a member, not anyone where nobody can
	// be asked (who is told that a code does it there).
	for _, tt := range []struct {
		req  Request
		want string
	}{
		{Request{Text: "/kpi bind-code hq zh", Channel: slackHQ, IsAdmin: member}, "error.bind_admin_only"},
		{Request{Text: "/kpi 绑定码 总部 中文", Channel: &kpi.ChatChannel{Platform: "line", ID: "Cmember"}}, "error.bind_needs_code"},
		{Request{Text: "/kpi 連携コード 日本サポート 日本語"}, "error.bind_needs_code"},
	} {
		if r := b.Handle(ctx, tt.req); errKey(r) != tt.want || len(book.codes) != 0 {
			t.Errorf("%q made a code or said the wrong thing: %+v", tt.req.Text, r)
		}
	}
	if r := b.Handle(ctx, Request{Text: "/kpi bind-code", Channel: slackHQ, IsAdmin: admin}); errKey(r) != "error.bind_code_needs_role" {
		t.Errorf("a code without a role: %+v", r)
	}

	// A code binds a LINE chat as the admin said, however it is typed; the
	// asker needs to be no admin.
	tests := []struct {
		name   string
		create string                   // the admin's line in Slack
		send   func(code string) string // the line in the LINE chat
		want   kpi.ChatChannel          // Role, Lang, Shops
		reply  string
	}{
		{"en, lower case", "/kpi bind-code shop team ja rakuten",
			func(c string) string { return "/kpi bind " + strings.ToLower(c) },
			kpi.ChatChannel{Role: kpi.RoleShop, Lang: "ja", Shops: []string{"rakuten"}}, "Set up: shop team · ja · sees rakuten."},
		{"zh, no dash", "/kpi 绑定码 总部 中文",
			func(c string) string { return "/kpi 绑定 " + strings.ReplaceAll(c, "-", "") },
			kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh"}, "已设置：总部 · zh · 可查看 全部店铺。"},
		{"ja, full width", "/kpi 連携コード 日本サポート 日本語 yahoo",
			func(c string) string { return "/kpi 連携 " + fullWidth(c) },
			kpi.ChatChannel{Role: kpi.RoleJPSupport, Lang: "ja", Shops: []string{"yahoo"}}, "設定しました：日本サポート · ja · 表示できるショップ yahoo。"},
		{"mention, long vowel mark", "/kpi bind code support team amazon",
			func(c string) string { return "@kpibot 連携設定 " + strings.Replace(c, "-", "ー", 1) },
			kpi.ChatChannel{Role: kpi.RoleJPSupport, Lang: "ja", Shops: []string{"amazon-jp"}}, "設定しました"},
		{"bilingual, no space", "/kpi bind-code hq bilingual",
			func(c string) string { return "kpi 绑定" + c },
			kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh+ja"}, "已设置"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := newCode(t, tt.create)
			id := fmt.Sprintf("Cline%d", i)
			r := b.Handle(ctx, Request{Text: tt.send(code), Channel: &kpi.ChatChannel{Platform: "line", ID: id}})
			want := tt.want
			want.Platform, want.ID = "line", id
			if got := book.channelBook["line/"+id]; r.Err != nil || !reflect.DeepEqual(got, want) || !strings.Contains(r.Text, tt.reply) {
				t.Errorf("%q: %q (%v), bound %+v; want %+v", tt.send(code), r.Text, r.Err, got, want)
			}
		})
	}

	// The bound chat sees only the code's shops.
	rakutenTeam := book.channelBook["line/Cline0"]
	asked = nil
	for _, text := range []string{"/kpi returns last week", "/kpi 返品率 yahoo 先週"} {
		b.Handle(ctx, Request{Text: text, Channel: &rakutenTeam})
	}
	if len(asked) != 2 || !reflect.DeepEqual(asked[0].Allowed, []string{"rakuten"}) || !reflect.DeepEqual(asked[1].Allowed, []string{"rakuten"}) {
		t.Errorf("the chat bound with a code asked %+v", asked)
	}

	// A used, expired or made-up code binds nothing, and says why in the asker's language.
	used := newCode(t, "/kpi bind-code shop team zh rakuten")
	if r := b.Handle(ctx, Request{Text: "/kpi bind " + used, Channel: &kpi.ChatChannel{Platform: "line", ID: "Cfirst"}}); r.Err != nil {
		t.Fatalf("first use: %+v", r)
	}
	expired := newCode(t, "/kpi bind-code hq")
	clock = now.Add(BindCodeTTL)
	defer func() { clock = now }()
	failures := []struct {
		text, key, msg string
	}{
		{"/kpi 連携 " + used, "error.bind_code_used", "このコードはすでに使われています"},
		{"/kpi bind " + used, "error.bind_code_used", "That code has already been used"},
		{"/kpi 绑定 " + expired, "error.bind_code_expired", "该绑定码已过期"},
		{"/kpi bind ABCD-EFGH", "error.bind_code_unknown", "That code is not valid"},
		{"/kpi 連携 ＺＺＺＺ－９９９９", "error.bind_code_unknown", "このコードは無効です"},
	}
	for _, tt := range failures {
		chat := &kpi.ChatChannel{Platform: "line", ID: "Csecond"}
		r := b.Handle(ctx, Request{Text: tt.text, Channel: chat})
		if errKey(r) != tt.key || !strings.Contains(r.Text, tt.msg) {
			t.Errorf("%q: %q (%v), want %s: %q", tt.text, r.Text, r.Err, tt.key, tt.msg)
		}
		if c, ok := book.channelBook["line/Csecond"]; ok {
			t.Fatalf("%q bound a chat: %+v", tt.text, c)
		}
	}
	if first := book.channelBook["line/Cfirst"]; first.Lang != "zh" || !reflect.DeepEqual(first.Shops, []string{"rakuten"}) {
		t.Errorf("reusing a code changed the chat that used it: %+v", first)
	}

	// A bound chat may be bound again with a new code.
	clock = now
	code := newCode(t, "/kpi bind-code hq en")
	if r := b.Handle(ctx, Request{Text: "/kpi bind " + code, Channel: &rakutenTeam}); r.Err != nil || book.channelBook["line/Cline0"].Role != kpi.RoleHQ {
		t.Errorf("rebinding a bound chat: %+v, %+v", r, book.channelBook["line/Cline0"])
	}
}

// A bind or a bind code may set the daily digest's time; the reply says
// when it comes, the default too; binding again without a time brings the
// default back; a time that is none is refused in the asker's language.
func TestBindDigestAt(t *testing.T) {
	engine := engineFunc(func(context.Context, kpi.Query) (*kpi.Result, error) { return nil, errors.New("no numbers here") })
	book := newCodeBook(channelBook{})
	b, err := New(engine, shopList(shops), nil, book, catalog(t), func() time.Time { return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := func(context.Context) (bool, error) { return true, nil }
	errKey := func(r Reply) string {
		var e *kpi.Error
		if !errors.As(r.Err, &e) {
			return ""
		}
		return e.Key
	}
	slack := func(id string) *kpi.ChatChannel { return &kpi.ChatChannel{Platform: "slack", ID: id} }

	for _, tt := range []struct {
		text, id string
		want     kpi.ChatChannel // Role, Lang, Shops, DigestAt
		reply    string
	}{
		{"/kpi bind hq zh 08:30", "C1", kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"},
			"Set up: HQ · zh · sees all shops. Daily digest at 08:30 JST."},
		{"/kpi 绑定 总部 中文 8:30", "C2", kpi.ChatChannel{Role: kpi.RoleHQ, Lang: "zh", DigestAt: "08:30"},
			"已设置：总部 · zh · 可查看 全部店铺。每日简报将在日本时间 08:30 发送。"},
		{"/kpi チャンネル設定 日本サポート 日本語 ８：３０", "C3", kpi.ChatChannel{Role: kpi.RoleJPSupport, Lang: "ja", DigestAt: "08:30"},
			"設定しました：日本サポート · ja · 表示できるショップ 全ショップ。デイリーダイジェストは毎日 08:30（日本時間）にお届けします。"},
		{"/kpi bind shop team en rakuten 10:15", "C4", kpi.ChatChannel{Role: kpi.RoleShop, Lang: "en", Shops: []string{"rakuten"}, DigestAt: "10:15"},
			"Set up: shop team · en · sees rakuten. Daily digest at 10:15 JST."},
		{"/kpi bind shop team en rakuten", "C5", kpi.ChatChannel{Role: kpi.RoleShop, Lang: "en", Shops: []string{"rakuten"}},
			"Set up: shop team · en · sees rakuten. Daily digest at 09:00 JST."},
	} {
		r := b.Handle(ctx, Request{Text: tt.text, Channel: slack(tt.id), IsAdmin: admin})
		want := tt.want
		want.Platform, want.ID = "slack", tt.id
		if got := book.channelBook["slack/"+tt.id]; r.Err != nil || !reflect.DeepEqual(got, want) || !strings.Contains(r.Text, tt.reply) {
			t.Errorf("%q: %q (%v), bound %+v; want %+v and %q", tt.text, r.Text, r.Err, got, want, tt.reply)
		}
	}

	// Binding again without a time brings the default back; with one, changes it.
	r := b.Handle(ctx, Request{Text: "/kpi 绑定 总部 中文", Channel: slack("C2"), IsAdmin: admin})
	if got := book.channelBook["slack/C2"]; r.Err != nil || got.DigestAt != "" || !strings.Contains(r.Text, "日本时间 09:00") {
		t.Errorf("rebinding without a time: %q, bound %+v", r.Text, got)
	}
	b.Handle(ctx, Request{Text: "/kpi bind hq zh 07:00", Channel: slack("C2"), IsAdmin: admin})
	if got := book.channelBook["slack/C2"]; got.DigestAt != "07:00" {
		t.Errorf("rebinding with a time: bound %+v", got)
	}

	// A time that is none binds nothing and says why, in the asker's language.
	for _, tt := range []struct{ text, msg string }{
		{"/kpi 绑定 总部 中文 24:00", "无法识别时间“24:00”"},
		{"/kpi チャンネル設定 本社 中国語 ９：７５", "時刻「9:75」を読み取れません"},
		{"/kpi bind shop team en 25:00", `I can't read the time "25:00"`},
		{"/kpi bind-code hq en 8:75", `I can't read the time "8:75"`},
	} {
		r := b.Handle(ctx, Request{Text: tt.text, Channel: slack("Cbad"), IsAdmin: admin})
		if errKey(r) != "error.bad_clock" || !strings.Contains(r.Text, tt.msg) {
			t.Errorf("%q: %q (%v), want error.bad_clock: %q", tt.text, r.Text, r.Err, tt.msg)
		}
	}
	if _, ok := book.channelBook["slack/Cbad"]; ok || len(book.codes) != 0 {
		t.Fatalf("a bad time bound a channel or made a code")
	}

	// A code carries its time to the chat that uses it, and says it.
	codeRE := regexp.MustCompile(`\b[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}\b`)
	newCode := func(text, says string) string {
		t.Helper()
		r := b.Handle(ctx, Request{Text: text, Channel: slack("C1"), IsAdmin: admin})
		code := codeRE.FindString(r.Text)
		if r.Err != nil || code == "" || !strings.Contains(r.Text, says) {
			t.Fatalf("%q: %+v; want %q", text, r, says)
		}
		return code
	}
	for _, tt := range []struct {
		create, says, send, at, reply string
	}{
		{"/kpi bind-code jp-support ja 10:00", "daily digest at 10:00 JST", "/kpi 連携 %s", "10:00", "毎日 10:00（日本時間）"},
		{"/kpi 绑定码 总部 中文", "每日简报 09:00（日本时间）", "/kpi 绑定 %s", "", "日本时间 09:00"},
		// A time sent with the code is the chat's choice, and wins.
		{"/kpi 連携コード 日本サポート 日本語 10:00", "毎日 10:00（日本時間）", "/kpi 連携 %s ７：３０", "07:30", "毎日 07:30（日本時間）"},
		{"/kpi bind-code hq zh", "daily digest at 09:00 JST", "/kpi bind %s 8:45", "08:45", "Daily digest at 08:45 JST"},
	} {
		code := newCode(tt.create, tt.says)
		id := "L" + code
		r := b.Handle(ctx, Request{Text: fmt.Sprintf(tt.send, code), Channel: &kpi.ChatChannel{Platform: "line", ID: id}})
		if got := book.channelBook["line/"+id]; r.Err != nil || got.Role == "" || got.DigestAt != tt.at || !strings.Contains(r.Text, tt.reply) {
			t.Errorf("%q then %q: %q (%v), bound %+v; want at %q and %q", tt.create, tt.send, r.Text, r.Err, got, tt.at, tt.reply)
		}
	}

	// With the config file's schedules.digest_at, a chat without a time of
	// its own is told that time, not 09:00; its binding still keeps none,
	// so that a later change of the file reaches it.
	b.SetDigestAt(8*time.Hour + 30*time.Minute)
	r = b.Handle(ctx, Request{Text: "/kpi bind hq en", Channel: slack("C6"), IsAdmin: admin})
	if got := book.channelBook["slack/C6"]; r.Err != nil || got.DigestAt != "" || !strings.Contains(r.Text, "Daily digest at 08:30 JST") {
		t.Errorf("with schedules.digest_at 08:30: %q (%v), bound %+v", r.Text, r.Err, got)
	}
	newCode("/kpi bind-code hq en", "daily digest at 08:30 JST")
}
