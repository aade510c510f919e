// Package bot is kpibot's platform-neutral core: it reads a chat line in
// Chinese, Japanese or English, asks the KPI engine and answers with a
// localized reply that every chat adapter renders its own way.
package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Computer computes a metric, over a period or day by day; *kpi.Engine
// is one.
type Computer interface {
	Compute(ctx context.Context, q kpi.Query) (*kpi.Result, error)
	Series(ctx context.Context, q kpi.Query) (*kpi.Series, error)
}

// ShopLister lists the shops a command may name.
type ShopLister interface {
	Shops(ctx context.Context) ([]kpi.Shop, error)
}

// Prefs keeps each user's language.
type Prefs interface {
	UserLang(ctx context.Context, user string) (string, error) // "" when not set
	SetUserLang(ctx context.Context, user, lang string) error
}

// Channels keeps the chat channels' bindings and the one-time codes that
// bind them; *sqlite.Store is one.
type Channels interface {
	kpi.ChatChannels
	kpi.BindCodes
}

// Bot answers chat lines.
type Bot struct {
	engine   Computer
	shops    ShopLister
	prefs    Prefs
	channels Channels
	text     *locales.Catalog
	parser   *Parser
	calendar Calendar  // nil: no holidays or pauses to mention
	alerts   AlertDesk // nil: alerts are not set up
	// digestDefault is when the channels without a time of their own get
	// the digest; 0: kpi.DefaultDigestAt.
	digestDefault time.Duration
	now           func() time.Time
	log           *slog.Logger
}

// New returns a bot; prefs may be nil, and then nobody can keep a language;
// channels may be nil, and then no chat channel can be bound.
func New(engine Computer, shops ShopLister, prefs Prefs, channels Channels, text *locales.Catalog, now func() time.Time, log *slog.Logger) (*Bot, error) {
	v, err := text.Vocabulary()
	if err != nil {
		return nil, err
	}
	p, err := NewParser(v)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bot{engine: engine, shops: shops, prefs: prefs, channels: channels, text: text, parser: p, now: now, log: log}, nil
}

// ShowsNumbers tells whether an action shows a shop's numbers, which an
// unbound channel may not see.
func (a Action) ShowsNumbers() bool {
	switch a {
	case ActionMetric, ActionStatus, ActionDigest, ActionWeekly, ActionMonthly,
		ActionAlerts, ActionAck, ActionSnooze, ActionResolve: // an alert names a shop's KPI and its value
		return true
	}
	return false
}

// onDemand writes a report when asked in chat, for the channel's shops, in
// the asker's language: the digest of the day asked (yesterday if none),
// the review of the week or month asked (the last one if none).
func (b *Bot) onDemand(ctx context.Context, req Request, cmd Command) func(*locales.Printer) Reply {
	ch := kpi.ChatChannel{}
	if req.Channel != nil {
		ch = *req.Channel
	}
	day := kpi.DateOf(b.now()) // sent today: about yesterday, last week, last month
	if per := cmd.Query.Period; per != (kpi.Period{}) {
		day = per.To // as if sent the day after the period asked for
		if cmd.Action == ActionDigest {
			day = per.Last() + 1
		}
	}
	var render func(*locales.Printer) Reply
	var err error
	if cmd.Action == ActionDigest {
		render, err = b.digest(ctx, ch, day)
	} else {
		render, err = b.review(ctx, string(cmd.Action), ch, day)
	}
	if err != nil {
		return b.errorReply(err)
	}
	return render
}

// SetCalendar lets the bot's reports say when a day was a holiday or a
// logistics pause.
func (b *Bot) SetCalendar(c Calendar) { b.calendar = c }

// SetDigestAt tells the bot when the channels without a time of their own
// get the daily digest (the config file's schedules.digest_at), for the
// replies that say when a chat will get it.
func (b *Bot) SetDigestAt(d time.Duration) { b.digestDefault = d }

// Request is one chat line with who asked and where.
type Request struct {
	Text        string
	User        string       // the asker's id on their platform; empty if unknown
	ChannelLang locales.Lang // the channel's language, if it has one
	// Channel is the chat channel the line came from, with its binding; nil
	// where there is none (the console). A channel with no Role is not bound
	// yet: it gets a setup hint, and only a bind command works there.
	Channel *kpi.ChatChannel
	// Chart asks for the answer drawn too, as if the line said so ("chart",
	// 图表, グラフ): kpibot chart.
	Chart bool
	// IsAdmin tells whether the asker may bind the channel or make a bind
	// code; nil where there are no admins to ask (LINE, the console): there
	// a chat binds only with a code, which needs no admin.
	IsAdmin func(ctx context.Context) (bool, error)
	// Name looks up the asker's display name on their platform, for a
	// reply that names them to others (an alert acknowledged); "" when
	// unknown. nil where there is none to ask (the console).
	Name func(ctx context.Context) string
}

// lang chooses the language to answer in: the user's kept preference, else
// the channel's, else the one the message is written in: the language its
// words belong to, else its script.
func (b *Bot) lang(ctx context.Context, req Request, written locales.Lang) locales.Lang {
	if b.prefs != nil && req.User != "" {
		l, err := b.prefs.UserLang(ctx, req.User)
		if err != nil {
			b.log.Warn("read language preference", "err", err)
		} else if lang, ok := locales.ParseLang(l); ok {
			return lang
		}
	}
	if req.ChannelLang != "" {
		return req.ChannelLang
	}
	if written != "" {
		return written
	}
	return locales.Guess(req.Text)
}

// Handle answers one chat line. Errors come back as a reply in the asker's
// language with Err set; nothing panics on bad input.
func (b *Bot) Handle(ctx context.Context, req Request) Reply {
	shops, err := b.shops.Shops(ctx)
	if err != nil {
		return b.in(b.lang(ctx, req, ""), b.errorReply(err))
	}
	if c := req.Channel; c != nil && c.Role != "" && req.ChannelLang == "" {
		req.ChannelLang = locales.Lang(c.Lang)
	}
	cmd, err := b.parser.Parse(req.Text, shops, b.now())
	cmd.Chart = cmd.Chart || req.Chart
	lang := b.lang(ctx, req, cmd.Written)
	if err != nil {
		return b.in(lang, b.errorReply(err))
	}
	if cmd.Action == ActionLang {
		lang = cmd.Lang
	}
	var render func(*locales.Printer) Reply
	switch c := req.Channel; {
	case cmd.Action == ActionBind:
		render = b.bind(ctx, req, cmd, shops)
	case cmd.Action == ActionBindCode:
		render = b.bindCode(ctx, req, cmd, shops)
	case c != nil && c.Role == "" && cmd.Action.ShowsNumbers():
		// No numbers before an admin says who the channel is for; help,
		// lists and languages show none and work anywhere.
		hint := "channel.unbound"
		if req.IsAdmin == nil {
			hint = "channel.unbound_code" // no admins here: only a code binds
		}
		render = func(p *locales.Printer) Reply {
			return Reply{Text: p.T(hint, nil), Err: errors.New("bot: channel not bound")}
		}
	default:
		if c != nil {
			cmd.Query.Allowed = c.Shops
		}
		render = b.answer(ctx, req, cmd, shops)
	}
	rep := b.in(lang, func(p *locales.Printer) Reply {
		rep := render(p)
		for _, n := range cmd.Notes {
			rep.Notes = append(rep.Notes, p.T(n.Key, n.Args))
		}
		if m, ok := kpi.Lookup(cmd.Query.Metric); cmd.Chart && cmd.Action == ActionMetric && ok && m.Current {
			rep.Notes = append(rep.Notes, p.T("error.no_series", map[string]any{"Metric": p.T("metric."+m.ID+".name", nil)}))
		}
		return rep
	})
	if rep.Err == nil {
		rep.Chart = chartFor(cmd, rep.Lang, kpi.LastDays(b.now(), chartDays))
	}
	return rep
}

// in renders a reply in lang; bilingual replies are the Chinese and the
// Japanese reply put together.
func (b *Bot) in(lang locales.Lang, render func(*locales.Printer) Reply) Reply {
	var rep Reply
	if lang == locales.Bilingual {
		rep = merge(render(b.text.Printer(locales.Chinese)), render(b.text.Printer(locales.Japanese)))
	} else {
		p := b.text.Printer(lang)
		rep = render(p)
		lang = p.Lang
	}
	rep.Lang = lang
	return rep
}

// answer does what cmd asks and returns how to say it in any language.
func (b *Bot) answer(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	switch cmd.Action {
	case ActionAlerts:
		render, err := b.alertList(ctx, cmd.Query, shops)
		if err != nil {
			return b.errorReply(err)
		}
		return render
	case ActionAck, ActionSnooze, ActionResolve:
		return b.onAlert(ctx, req, cmd, shops)
	case ActionRules, ActionRule:
		return b.onRules(ctx, req, cmd, shops)
	case ActionHelp:
		return func(p *locales.Printer) Reply { return helpReply(p, cmd.Topic) }
	case ActionList:
		return listReply
	case ActionLang:
		return b.setLang(ctx, req.User, cmd.Lang)
	case ActionStatus:
		return b.status(ctx, cmd.Query)
	case ActionDigest, ActionWeekly, ActionMonthly:
		return b.onDemand(ctx, req, cmd)
	}
	res, err := b.engine.Compute(ctx, cmd.Query)
	if err != nil {
		return b.errorReply(err)
	}
	return func(p *locales.Printer) Reply { return metricReply(p, res) }
}

// bind gives the request's channel a role, a language and the shops it
// may see; only a workspace admin may, or anyone with a bind code.
func (b *Bot) bind(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	if b.channels == nil || req.Channel == nil {
		return b.errorReply(kpi.Errorf(kpi.Invalid, "error.bind_unavailable", nil, nil))
	}
	if cmd.Code != "" {
		return b.bindWithCode(ctx, *req.Channel, cmd)
	}
	if err := b.mustBeAdmin(ctx, req); err != nil {
		return b.errorReply(err)
	}
	c := binding(req, cmd, shops)
	c.Platform, c.ID = req.Channel.Platform, req.Channel.ID
	if err := b.channels.BindChatChannel(ctx, c); err != nil {
		return b.errorReply(fmt.Errorf("bot: bind channel: %w", err))
	}
	return bound(c, b.digestDefault)
}

// bindWithCode binds channel as the one-time code of cmd says; the code is
// the proof, and nobody is asked whether they are an admin. A digest time
// sent with the code replaces the code's: the chat that reads the digest
// knows best when.
func (b *Bot) bindWithCode(ctx context.Context, channel kpi.ChatChannel, cmd Command) func(*locales.Printer) Reply {
	bc, err := b.channels.UseBindCode(ctx, hashBindCode(cmd.Code), b.now())
	if err != nil {
		b.log.Warn("bind code refused", "platform", channel.Platform, "channel", channel.ID, "err", err)
		return b.errorReply(fmt.Errorf("bot: use bind code: %w", err))
	}
	c := bc.Channel
	c.Platform, c.ID = channel.Platform, channel.ID
	c.DigestAt = cmp.Or(cmd.DigestAt, c.DigestAt)
	if err := b.channels.BindChatChannel(ctx, c); err != nil {
		return b.errorReply(fmt.Errorf("bot: bind channel with a code: %w", err))
	}
	b.log.Info("channel bound with a code", "platform", c.Platform, "channel", c.ID, "role", c.Role)
	return bound(c, b.digestDefault)
}

// bindCode makes a one-time code that binds a channel elsewhere (a LINE
// chat, where nobody can be asked whether they are an admin); only a
// workspace admin may.
func (b *Bot) bindCode(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	if b.channels == nil {
		return b.errorReply(kpi.Errorf(kpi.Invalid, "error.bind_unavailable", nil, nil))
	}
	if err := b.mustBeAdmin(ctx, req); err != nil {
		return b.errorReply(err)
	}
	code, bc, err := NewBindCode(ctx, b.channels, binding(req, cmd, shops), b.now())
	if err != nil {
		return b.errorReply(err)
	}
	return func(p *locales.Printer) Reply { return BindCodeReply(p, code, bc, b.digestDefault) }
}

// mustBeAdmin returns an Unauthorized error unless the asker is an admin.
func (b *Bot) mustBeAdmin(ctx context.Context, req Request) error {
	if req.IsAdmin == nil {
		return kpi.Errorf(kpi.Unauthorized, "error.bind_needs_code", nil, nil)
	}
	admin, err := req.IsAdmin(ctx)
	if err != nil {
		return fmt.Errorf("bot: is the asker an admin: %w", err)
	}
	if !admin {
		return kpi.Errorf(kpi.Unauthorized, "error.bind_admin_only", nil, nil)
	}
	return nil
}

// binding is the role, the language, the shops and the digest's time a
// bind or bind_code command asks for: the language by default the role's,
// else the one the line is written in; a platform stands for its shops; no
// time is the default time, also when the channel had another.
func binding(req Request, cmd Command, shops []kpi.Shop) kpi.ChatChannel {
	c := kpi.ChatChannel{Role: cmd.Role, Lang: cmp.Or(string(cmd.Lang), cmd.Role.Lang(), string(locales.Guess(req.Text))), Shops: cmd.Shops,
		DigestAt: cmd.DigestAt}
	for _, s := range shops {
		if slices.Contains(cmd.Platforms, s.Platform) && !slices.Contains(c.Shops, s.ID) {
			c.Shops = append(c.Shops, s.ID)
		}
	}
	return c
}

// bound says that c is bound; def is when the channels without a digest
// time of their own get it (0: kpi.DefaultDigestAt).
func bound(c kpi.ChatChannel, def time.Duration) func(*locales.Printer) Reply {
	return func(p *locales.Printer) Reply {
		return Reply{Text: p.T("channel.bound", map[string]any{"Role": roleName(p, c.Role), "Lang": c.Lang, "Shops": shopsSeen(p, c.Shops),
			"At": digestAt(c, def)})}
	}
}

// digestAt is when channel c gets the daily digest, HH:MM JST: its own
// time, else def, else kpi.DefaultDigestAt.
func digestAt(c kpi.ChatChannel, def time.Duration) string {
	return cmp.Or(c.DigestAt, kpi.FormatClock(cmp.Or(def, kpi.DefaultDigestAt)))
}

func roleName(p *locales.Printer, r kpi.Role) string {
	return p.T("role."+strings.ReplaceAll(string(r), "-", "_"), nil)
}

// shopsSeen lists the shops a channel sees: all of them when none is named.
func shopsSeen(p *locales.Printer, shops []string) string {
	if len(shops) == 0 {
		return p.T("scope.all", nil)
	}
	return strings.Join(shops, ", ")
}

func (b *Bot) setLang(ctx context.Context, user string, lang locales.Lang) func(*locales.Printer) Reply {
	if b.prefs == nil || user == "" {
		return b.errorReply(kpi.Errorf(kpi.Unavailable, "error.lang_unavailable", nil, errors.New("bot: no preference store or user")))
	}
	if err := b.prefs.SetUserLang(ctx, user, string(lang)); err != nil {
		return b.errorReply(fmt.Errorf("bot: keep language: %w", err))
	}
	return func(p *locales.Printer) Reply { return Reply{Text: p.T("lang.set", nil)} }
}

// status is every metric of a scope as a traffic light.
func (b *Bot) status(ctx context.Context, q kpi.Query) func(*locales.Printer) Reply {
	var results []*kpi.Result
	counts := map[kpi.Verdict]int{}
	for _, m := range kpi.Catalog {
		r, err := b.engine.Compute(ctx, kpi.Query{Metric: m.ID, Scope: q.Scope, Period: q.Period, Compare: q.Compare})
		if err != nil {
			return b.errorReply(err)
		}
		results = append(results, r)
		counts[r.Verdict]++
	}
	return func(p *locales.Printer) Reply {
		var rows []Row
		for _, r := range results {
			rows = append(rows, Row{
				Label:   p.T("metric."+r.Metric.ID+".name", nil),
				Value:   formatValue(p, r.Metric.Unit, r.Value.V),
				Detail:  formatTarget(p, r.Metric),
				Verdict: r.Verdict,
			})
		}
		period := p.T("status.default_periods", nil)
		if q.Period != (kpi.Period{}) {
			period = periodLabel(p, results[0].Period, results[0].Partial)
		}
		return Reply{
			Title:   p.T("status.title", map[string]any{"Scope": scopeLabel(p, results[0]), "Period": period}),
			Verdict: worst(counts),
			Rows:    rows,
			Context: p.T("status.summary", map[string]any{"OK": counts[kpi.VerdictOK], "Breach": counts[kpi.VerdictBreach],
				"Other": len(rows) - counts[kpi.VerdictOK] - counts[kpi.VerdictBreach]}),
		}
	}
}

func worst(counts map[kpi.Verdict]int) kpi.Verdict {
	if counts[kpi.VerdictBreach] > 0 {
		return kpi.VerdictBreach
	}
	return kpi.VerdictOK
}

func helpReply(p *locales.Printer, topic string) Reply {
	if m, ok := kpi.Lookup(topic); ok {
		name := p.T("metric."+m.ID+".name", nil)
		return Reply{Title: name, Text: p.T("help.metric", map[string]any{
			"Name": name, "ID": m.ID, "Formula": p.T("metric."+m.ID+".formula", nil), "Target": formatTarget(p, m)})}
	}
	switch Action(topic) {
	case ActionList, ActionStatus, ActionLang:
		return Reply{Title: p.T("help.title", nil), Text: p.T("help."+topic, nil)}
	case ActionAlerts, ActionAck, ActionSnooze, ActionResolve:
		return Reply{Title: p.T("help.title", nil), Text: p.T("help.alerts", nil)}
	}
	return Reply{Title: p.T("help.title", nil), Text: p.T("help.text", nil)}
}

func listReply(p *locales.Printer) Reply {
	var b strings.Builder
	for _, area := range kpi.Areas {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.T("area."+string(area), nil) + "\n")
		for _, m := range kpi.Catalog {
			if m.Area != area {
				continue
			}
			b.WriteString(p.T("list.line", map[string]any{
				"ID": m.ID, "Name": p.T("metric."+m.ID+".name", nil), "Target": formatTarget(p, m)}) + "\n")
		}
	}
	return Reply{Title: p.T("list.title", nil), Text: strings.TrimRight(b.String(), "\n")}
}

// errorReply says what went wrong in the asker's language. Domain errors
// carry their own message; anything else is logged and reported as a
// temporary failure, without its details.
func (b *Bot) errorReply(err error) func(*locales.Printer) Reply {
	var e *kpi.Error
	if !errors.As(err, &e) || e.Key == "" || e.Code == kpi.Unavailable {
		b.log.Error("request failed", "err", err)
	}
	if e == nil || e.Key == "" {
		return func(p *locales.Printer) Reply { return Reply{Text: p.T("error.unavailable", nil), Err: err} }
	}
	return func(p *locales.Printer) Reply {
		args := make(map[string]any, len(e.Args))
		for k, v := range e.Args {
			if id, ok := v.(metricID); ok { // a metric is named in the asker's language
				v = p.T("metric."+string(id)+".name", nil)
			}
			args[k] = v
		}
		return Reply{Text: p.T(e.Key, args), Err: err}
	}
}

// merge puts a Chinese and a Japanese reply together: each text once where
// they agree, "中文 / 日本語" on one line where they differ, and free text
// one language under the other.
func merge(zh, ja Reply) Reply {
	out := zh
	out.Title = both(zh.Title, ja.Title, " / ")
	out.RowsTitle = both(zh.RowsTitle, ja.RowsTitle, " / ")
	out.Context = both(zh.Context, ja.Context, " / ")
	out.Text = both(zh.Text, ja.Text, "\n\n")
	out.Fields, out.Rows, out.Notes = nil, nil, nil
	for i := range zh.Fields {
		out.Fields = append(out.Fields, Field{both(zh.Fields[i].Label, ja.Fields[i].Label, " / "),
			both(zh.Fields[i].Value, ja.Fields[i].Value, " / ")})
	}
	out.Rows = mergeRows(zh.Rows, ja.Rows)
	out.Buttons = nil
	for i, b := range zh.Buttons {
		b.Label = both(b.Label, ja.Buttons[i].Label, " / ")
		out.Buttons = append(out.Buttons, b)
	}
	out.Sections = nil
	for i := range zh.Sections {
		s := zh.Sections[i]
		s.Title = both(s.Title, ja.Sections[i].Title, " / ")
		s.Rows = mergeRows(s.Rows, ja.Sections[i].Rows)
		out.Sections = append(out.Sections, s)
	}
	for i := range zh.Notes {
		out.Notes = append(out.Notes, both(zh.Notes[i], ja.Notes[i], " / "))
	}
	out.Hint = both(zh.Hint, ja.Hint, " / ")
	return out
}

func mergeRows(zh, ja []Row) []Row {
	var out []Row
	for i, r := range zh {
		r.Label = both(r.Label, ja[i].Label, " / ")
		r.Value = both(r.Value, ja[i].Value, " / ")
		r.Detail = both(r.Detail, ja[i].Detail, " / ")
		out = append(out, r)
	}
	return out
}

func both(zh, ja, sep string) string {
	if zh == ja {
		return zh
	}
	return zh + sep + ja
}
