package alert

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Routes reports whether an alert about metric of shop goes to channel ch:
// hq and shop-team channels get every alert, Japan support the
// customer-facing ones (CustomerFacing); a channel that sees some shops
// only gets theirs.
func Routes(ch kpi.ChatChannel, metric, shop string) bool {
	if len(ch.Shops) > 0 && !slices.Contains(ch.Shops, shop) {
		return false
	}
	switch ch.Role {
	case kpi.RoleHQ, kpi.RoleShop:
		return true
	case kpi.RoleJPSupport:
		return CustomerFacing(metric)
	}
	return false
}

// CustomerFacing reports whether customers feel a breach of metric:
// reviews, returns and the other customer KPIs, customer service, and
// delivery.
func CustomerFacing(metric string) bool {
	m, ok := kpi.Lookup(metric)
	if !ok {
		return false
	}
	switch {
	case m.Area == kpi.AreaCustomers, m.Area == kpi.AreaService:
		return true
	case m.ID == "delivery_days", m.ID == "on_time_delivery_rate":
		return true
	}
	return false
}

// Lang is the language of a channel's alerts: its own language (zh+ja
// puts both together), else its role's (Chinese at HQ, Japanese in Japan
// support), else Chinese.
func Lang(ch kpi.ChatChannel) locales.Lang {
	if l, ok := locales.ParseLang(ch.Lang); ok {
		return l
	}
	if l, ok := locales.ParseLang(ch.Role.Lang()); ok {
		return l
	}
	return locales.Chinese
}

// quoted are how many negative reviews an alert quotes at most, and how
// long a quote is at most, in characters.
const (
	quoted   = 3
	quoteLen = 160
)

// item is an alert with what its messages show: its rule, its metric (nil
// for Freshness) and, for review alerts, the reviews it quotes.
type item struct {
	a       kpi.Alert
	rule    Rule
	metric  *kpi.Metric
	window  kpi.Period // the days evaluated; zero for Freshness
	reviews []kpi.Review
}

// item gathers what alert a's messages show; with quotes, a review alert
// quotes the latest negative reviews of its window (the unanswered ones
// for reviews_awaiting_reply). Reviews that cannot be read are left out.
func (m *Manager) item(ctx context.Context, a kpi.Alert, now time.Time, quotes bool) item {
	it := item{a: a}
	it.rule, _ = m.rules.rule(a.Metric, a.Shop)
	met, ok := kpi.Lookup(a.Metric)
	if !ok {
		return it
	}
	it.metric = met
	it.window = it.rule.window(now)
	if it.window == (kpi.Period{}) {
		it.window = met.DefaultPeriodAt(now)
	}
	it.window = it.window.Clip(now)
	if !quotes || a.Metric != "negative_reviews" && a.Metric != "reviews_awaiting_reply" {
		return it
	}
	to := it.window.To.Start()
	if to.After(now) {
		to = now
	}
	reviews, err := m.c.Source.NegativeReviews(ctx, a.Shop, it.window.From.Start(), to, 20)
	if err != nil {
		m.log.Warn("alert: read the reviews to quote", "key", a.Key, "err", err)
		return it
	}
	for _, r := range reviews {
		if a.Metric == "reviews_awaiting_reply" && !r.RepliedAt.IsZero() {
			continue
		}
		if len(it.reviews) < quoted {
			it.reviews = append(it.reviews, r)
		}
	}
	return it
}

// shopNameMap names shops by id.
type shopNameMap map[string]string

func shopNames(shops []kpi.Shop) shopNameMap {
	m := make(shopNameMap, len(shops))
	for _, s := range shops {
		if s.Name != "" {
			m[s.ID] = s.Name
		}
	}
	return m
}

// of returns the shop's name, or its id if it has none.
func (m shopNameMap) of(id string) string {
	if n, ok := m[id]; ok {
		return n
	}
	return id
}

// severity names a severity.
func severity(p *locales.Printer, s kpi.Severity) string {
	if s == kpi.SeverityCritical {
		return p.T("alert.severity_critical", nil)
	}
	return p.T("alert.severity_warning", nil)
}

// metricName names what an alert is about.
func metricName(p *locales.Printer, it item) string {
	if it.metric == nil {
		return p.T("alert.freshness", nil)
	}
	return p.T("metric."+it.metric.ID+".name", nil)
}

// value shows a value of the alert: in the metric's unit, or for
// Freshness how long no data came.
func value(p *locales.Printer, it item, v float64) string {
	if it.metric == nil {
		return p.T("alert.age", map[string]any{"Age": age(p, v)})
	}
	return bot.FormatValue(p, it.metric.Unit, v)
}

// target shows the alert's target.
func target(p *locales.Printer, it item) string {
	if it.metric == nil {
		return p.T("alert.age_limit", map[string]any{"Age": age(p, it.a.Target)})
	}
	return bot.FormatLevel(p, it.metric, it.a.Target)
}

// age shows hours, in minutes below two hours.
func age(p *locales.Printer, hours float64) string {
	if hours < 2 {
		return bot.FormatValue(p, kpi.Minutes, hours*60)
	}
	return bot.FormatValue(p, kpi.Hours, hours)
}

// clearLevel shows the rule's clear level, if it is not the target.
func clearLevel(p *locales.Printer, it item) (string, bool) {
	if it.metric == nil || it.rule.clear(it.metric) == it.rule.target(it.metric) {
		return "", false
	}
	op := map[kpi.Op]string{kpi.AtLeast: "≥", kpi.AtMost: "≤", kpi.Above: ">", kpi.Below: "<"}[it.metric.Op]
	return op + " " + bot.FormatValue(p, it.metric.Unit, it.rule.clear(it.metric)), true
}

// at shows an instant in JST.
func at(p *locales.Printer, t time.Time) string {
	return p.T("alert.at", map[string]any{"Time": t.In(kpi.Tokyo).Format("2006-01-02 15:04")})
}

func hashID(id int64) string { return "#" + strconv.FormatInt(id, 10) }

// runbook is the rule's runbook line in the printer's language: a message
// id is looked up, any other text shown as it is.
func runbook(p *locales.Printer, it item) string {
	rb := it.rule.Runbook
	if strings.HasPrefix(rb, "alert.") {
		return p.T(rb, nil)
	}
	return rb
}

// basis is the window and sample the value was computed on, or when a
// stale shop's data last came.
func basis(p *locales.Printer, it item) string {
	if it.metric == nil {
		last := it.a.Updated.Add(-time.Duration(it.a.Value * float64(time.Hour))).Round(time.Minute)
		return p.T("alert.last_data", map[string]any{"Time": at(p, last)})
	}
	w := it.window.From.String()
	if it.window.Days() > 1 {
		w += " – " + it.window.Last().String()
	}
	return p.T("reply.context", map[string]any{"Window": w,
		"Sample": p.T("sample."+string(it.metric.Sample), map[string]any{"N": strconv.FormatInt(it.a.Sample, 10)})})
}

// fields are an alert's value, target, clear level, severity, start, id
// and the window and sample its value is of.
func fields(p *locales.Printer, it item) []bot.Field {
	fs := []bot.Field{
		{Label: p.T("reply.value", nil), Value: value(p, it, it.a.Value)},
		{Label: p.T("reply.target", nil), Value: target(p, it)},
	}
	if c, ok := clearLevel(p, it); ok {
		fs = append(fs, bot.Field{Label: p.T("alert.clear_level", nil), Value: c})
	}
	fs = append(fs,
		bot.Field{Label: p.T("alert.severity", nil), Value: severity(p, it.a.Severity)},
		bot.Field{Label: p.T("alert.since", nil), Value: at(p, it.a.Opened)},
		bot.Field{Label: p.T("alert.number", nil), Value: hashID(it.a.ID)},
	)
	if it.metric != nil {
		fs = append(fs, bot.Field{Label: p.T("alert.basis", nil), Value: basis(p, it)})
	}
	return fs
}

// lastData is, for a stale shop, when its data last came; "" for others.
func lastData(p *locales.Printer, it item) string {
	if it.metric != nil {
		return ""
	}
	return basis(p, it)
}

// quotes are the reviews the items quote, each once, as rows: the text,
// masked again before it is shown, its stars and when it was posted.
func quotes(items []item) []bot.Row {
	var rows []bot.Row
	seen := map[string]bool{}
	for _, it := range items {
		for _, r := range it.reviews {
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			text := strings.Join(strings.Fields(kpi.MaskPII(r.Text)), " ")
			if utf8.RuneCountInString(text) > quoteLen {
				text = string([]rune(text)[:quoteLen]) + "…"
			}
			rows = append(rows, bot.Row{Label: text, Value: strings.Repeat("★", r.Rating),
				Detail: r.Posted.In(kpi.Tokyo).Format("01-02 15:04"), Verdict: kpi.VerdictBreach})
		}
	}
	return rows
}

// openReply announces the alerts opened for one shop: one alert in full,
// several as a section each.
func openReply(p *locales.Printer, shop string, items []item, now time.Time) bot.Reply {
	sev := kpi.SeverityWarning
	for _, it := range items {
		if it.a.Severity == kpi.SeverityCritical {
			sev = kpi.SeverityCritical
		}
	}
	rep := bot.Reply{Verdict: kpi.VerdictBreach, Rows: quotes(items)}
	if len(rep.Rows) > 0 {
		rep.RowsTitle = p.T("alert.reviews", nil)
	}
	if len(items) == 1 {
		it := items[0]
		data := map[string]any{"Severity": severity(p, sev), "Shop": shop, "Metric": metricName(p, it)}
		if it.metric == nil {
			rep.Title = p.T("alert.title_stale", data)
		} else {
			rep.Title = p.T("alert.title_open", data)
		}
		rep.Fields = fields(p, it)
		rep.Context = lastData(p, it)
		if rb := runbook(p, it); rb != "" {
			rep.Notes = append(rep.Notes, p.T("alert.runbook", map[string]any{"Text": rb}))
		}
		rep.Hint = p.T("alert.actions", map[string]any{"ID": it.a.ID})
		rep.Buttons = buttons(p, it.a.ID)
		return rep
	}
	rep.Title = p.T("alert.title_group", map[string]any{"Severity": severity(p, sev), "Shop": shop, "N": len(items)})
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = hashID(it.a.ID)
		s := bot.Section{
			Title:   p.T("alert.section", map[string]any{"ID": it.a.ID, "Metric": metricName(p, it), "Severity": severity(p, it.a.Severity)}),
			Verdict: kpi.VerdictBreach,
			Rows: []bot.Row{{Label: p.T("reply.value", nil), Value: value(p, it, it.a.Value),
				Detail: target(p, it) + " · " + basis(p, it), Verdict: kpi.VerdictBreach}},
		}
		rep.Sections = append(rep.Sections, s)
		if rb := runbook(p, it); rb != "" {
			rep.Notes = append(rep.Notes, p.T("alert.runbook_of", map[string]any{"ID": it.a.ID, "Text": rb}))
		}
	}
	rep.Context = p.T("alert.since_all", map[string]any{"Time": at(p, now)})
	rep.Hint = p.T("alert.actions_group", map[string]any{"ID": items[0].a.ID, "IDs": strings.Join(ids, " ")})
	return rep
}

// updateReply says an alert goes on: worse than last reported, or still
// there a day later.
func updateReply(p *locales.Printer, shop string, it item, worse bool) bot.Reply {
	data := map[string]any{"Severity": severity(p, it.a.Severity), "Shop": shop, "Metric": metricName(p, it)}
	title := p.T("alert.title_ongoing", data)
	if worse {
		title = p.T("alert.title_worse", data)
	}
	fs := fields(p, it)
	fs = slices.Insert(fs, 1, bot.Field{Label: p.T("alert.previous", nil), Value: value(p, it, it.a.NotifiedValue)})
	return bot.Reply{Title: title, Verdict: kpi.VerdictBreach, Fields: fs, Context: lastData(p, it),
		Hint: p.T("alert.actions", map[string]any{"ID": it.a.ID}), Buttons: buttons(p, it.a.ID)}
}

// buttons are what a reader can do about one alert: acknowledge it, snooze
// it for 2 hours or until 09:00 tomorrow, resolve it. Each presses the
// command of the same name, in the English any channel understands.
func buttons(p *locales.Printer, id int64) []bot.Button {
	n := strconv.FormatInt(id, 10)
	return []bot.Button{
		{Label: p.T("alert.button_ack", nil), Command: "/kpi ack " + n},
		{Label: p.T("alert.button_snooze", nil), Command: "/kpi snooze " + n + " 2h"},
		{Label: p.T("alert.button_tomorrow", nil), Command: "/kpi snooze " + n + " tomorrow"},
		{Label: p.T("alert.button_resolve", nil), Command: "/kpi resolve " + n},
	}
}

// resendReply reminds the channels of a critical alert nobody acknowledged.
func resendReply(p *locales.Printer, shop string, it item, n int, now time.Time) bot.Reply {
	rep := bot.Reply{
		Title: p.T("alert.title_resend", map[string]any{"Severity": severity(p, it.a.Severity), "Shop": shop,
			"Metric": metricName(p, it), "N": n, "Minutes": int(now.Sub(it.a.Opened).Minutes())}),
		Verdict: kpi.VerdictBreach, Fields: fields(p, it), Context: lastData(p, it),
	}
	if rb := runbook(p, it); rb != "" {
		rep.Notes = append(rep.Notes, p.T("alert.runbook", map[string]any{"Text": rb}))
	}
	rep.Hint = p.T("alert.actions", map[string]any{"ID": it.a.ID})
	rep.Buttons = buttons(p, it.a.ID)
	return rep
}

// pageReply escalates a critical alert nobody acknowledged to the
// managers named who.
func pageReply(p *locales.Printer, shop string, it item, who string, now time.Time) bot.Reply {
	rep := resendReply(p, shop, it, 0, now)
	rep.Title = p.T("alert.title_page", map[string]any{"Severity": severity(p, it.a.Severity), "Shop": shop,
		"Metric": metricName(p, it), "Minutes": int(now.Sub(it.a.Opened).Minutes())})
	rep.Notes = slices.Insert(rep.Notes, 0, p.T("alert.paged", map[string]any{"Names": who}))
	return rep
}

// noticeReply tells of an alert's new state: acknowledged, snoozed or
// resolved by actor, or (no actor) back within bounds.
func noticeReply(p *locales.Printer, shop string, it item, action, actor string) bot.Reply {
	a := it.a
	data := map[string]any{"Shop": shop, "Metric": metricName(p, it), "ID": a.ID, "Actor": actor}
	switch {
	case action == "ack":
		return bot.Reply{Title: p.T("alert.title_acked", data), Text: p.T("alert.acked_by", data)}
	case action == "snooze" && a.SnoozedUntil.IsZero():
		return bot.Reply{Title: p.T("alert.title_snoozed", data), Text: p.T("alert.snoozed_resolved", data)}
	case action == "snooze":
		data["Until"] = at(p, a.SnoozedUntil)
		return bot.Reply{Title: p.T("alert.title_snoozed", data), Text: p.T("alert.snoozed_until", data)}
	case actor != "":
		return bot.Reply{Title: p.T("alert.title_closed", data), Text: p.T("alert.resolved_by", data)}
	}
	lasted := a.Resolved.Sub(a.Opened).Hours()
	return bot.Reply{
		Title:   p.T("alert.title_resolved", data),
		Verdict: kpi.VerdictOK,
		Fields: []bot.Field{
			{Label: p.T("reply.value", nil), Value: value(p, it, a.Value)},
			{Label: p.T("reply.target", nil), Value: target(p, it)},
			{Label: p.T("alert.lasted", nil), Value: bot.FormatValue(p, kpi.Hours, lasted)},
			{Label: p.T("alert.number", nil), Value: hashID(a.ID)},
		},
	}
}
