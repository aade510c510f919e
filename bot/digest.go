package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Reports the bot writes on schedule.
const (
	ReportDigest  = "digest"  // the morning digest of yesterday
	ReportWeekly  = "weekly"  // the review of last week, on Mondays
	ReportMonthly = "monthly" // the review of last month, on the 1st
)

// Calendar tells what a day is on the Japanese calendar; *calendar.Calendar
// is one.
type Calendar interface {
	HolidayID(d kpi.Date) (string, bool) // a national holiday: its id (locales holiday.<id>)
	PauseID(d kpi.Date) (string, bool)   // a logistics pause: its id (locales pause.<id>)
}

// digestMetrics are a shop's KPIs of the day in the digest.
var digestMetrics = []string{"gmv", "orders", "ship_24h_rate", "cancel_rate", "return_rate",
	"negative_reviews", "first_response_minutes", "acos"}

// attentionMetrics are the states to act on today, beside yesterday's
// breaches: stock running out, reviews waiting for an answer.
var attentionMetrics = []string{"days_of_cover", "reviews_awaiting_reply"}

// digestAlertRows is how many open alerts the digest lists; it says how
// many more there are after them.
const digestAlertRows = 8

// ReportLang is the language a report goes out in: Chinese and Japanese
// together for the hq and Japan support channels, whose readers are on
// both sides; the channel's own language elsewhere.
func ReportLang(ch kpi.ChatChannel) locales.Lang {
	if ch.Role == kpi.RoleHQ || ch.Role == kpi.RoleJPSupport {
		return locales.Bilingual
	}
	if l, ok := locales.ParseLang(ch.Lang); ok {
		return l
	}
	return locales.Chinese
}

// Report writes a scheduled report for a channel, sent on day (JST): the
// digest of the day before, or the review of the week or month before.
func (b *Bot) Report(ctx context.Context, kind string, ch kpi.ChatChannel, day kpi.Date) (Reply, error) {
	var render func(*locales.Printer) Reply
	var err error
	switch kind {
	case ReportDigest:
		render, err = b.digest(ctx, ch, day)
	case ReportWeekly, ReportMonthly:
		render, err = b.review(ctx, kind, ch, day)
	default:
		return Reply{}, fmt.Errorf("bot: no report %q", kind)
	}
	if err != nil {
		return Reply{}, err
	}
	rep := b.in(ReportLang(ch), render)
	if kind == ReportDigest {
		rep.Chart = overviewChart(ch, day)
	}
	return rep, nil
}

// digest is the morning summary sent on day: the day before, for each shop
// the channel sees, its key KPIs against target and against the same
// weekday a week earlier; then what needs attention today, and the alerts
// still open. Open alerts are now's: only the digest sent today lists them,
// not one of an older day asked for by date. They are left out, and
// logged, when they cannot be listed: the digest goes out without them.
func (b *Bot) digest(ctx context.Context, ch kpi.ChatChannel, day kpi.Date) (func(*locales.Printer) Reply, error) {
	y := day - 1
	results := map[string]*kpi.Result{}
	for _, id := range append(slices.Clone(digestMetrics), attentionMetrics...) {
		q := kpi.Query{Metric: id, Period: kpi.Day(y), Compare: kpi.Day(y - 7), Allowed: ch.Shops}
		if id == "reviews_awaiting_reply" {
			q.Period, q.Compare = kpi.Range(y-6, y), kpi.Period{} // the last week's, still open
		}
		r, err := b.engine.Compute(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("bot: digest %s: %w", id, err)
		}
		results[id] = r
	}
	byShop := make(map[string]map[string]kpi.ShopResult, len(digestMetrics)) // metric → shop → line
	for _, id := range digestMetrics {
		if r := results[id]; r != nil {
			lines := make(map[string]kpi.ShopResult, len(r.Breakdown))
			for _, l := range r.Breakdown {
				lines[l.Shop.ID] = l
			}
			byShop[id] = lines
		}
	}
	var holiday, pause string
	if b.calendar != nil {
		holiday, _ = b.calendar.HolidayID(y)
		pause, _ = b.calendar.PauseID(y)
	}
	now := b.now()
	var alerts []kpi.Alert
	var alertShops map[string]kpi.Shop
	if day == kpi.DateOf(now) {
		var err error
		if alerts, alertShops, err = b.digestAlerts(ctx, ch); err != nil {
			b.log.Warn("digest without its open alerts", "platform", ch.Platform, "channel", ch.ID, "err", err)
		}
	}
	return func(p *locales.Printer) Reply {
		title := map[string]any{"Date": y.String(), "Weekday": p.T(weekdayID(y), nil), "N": len(alerts)}
		rep := Reply{Title: p.T("digest.title", title)}
		if len(alerts) > 0 {
			// In the title, the count reaches the one-line summary that
			// notifications show.
			rep.Title = p.T("digest.title_alerts", title)
			rep.Sections = append(rep.Sections, alertSection(p, alerts, alertShops, now))
		}
		// The shops, the worst first.
		type shopDay struct {
			section  Section
			breaches int
		}
		var shops []shopDay
		var attention []Row
		gmv, orders := results["gmv"], results["orders"]
		for _, line := range gmv.Breakdown {
			sd := shopDay{section: Section{Title: line.Shop.Name, Verdict: kpi.VerdictOK}}
			for _, id := range digestMetrics {
				r := results[id]
				if r == nil {
					continue
				}
				sl, ok := byShop[id][line.Shop.ID]
				if !ok {
					continue
				}
				row := Row{Label: p.T("metric."+id+".name", nil), Value: formatValue(p, r.Metric.Unit, sl.Value.V),
					Detail: p.T("digest.week_ago", map[string]any{"Value": formatValue(p, r.Metric.Unit, sl.Prev.V),
						"Change": formatChange(p, r.Metric.Unit, sl.Value.V, sl.Prev.V)}),
					Verdict: sl.Verdict}
				if sl.Verdict == kpi.VerdictBreach {
					sd.breaches++
					sd.section.Verdict = kpi.VerdictBreach
					attention = append(attention, Row{Label: line.Shop.Name + " · " + row.Label, Value: row.Value,
						Detail: formatTarget(p, r.Metric), Verdict: kpi.VerdictBreach})
				}
				if r.Metric.Op == "" {
					row.Verdict = "" // for information: no mark
				}
				sd.section.Rows = append(sd.section.Rows, row)
			}
			shops = append(shops, sd)
		}
		for _, id := range attentionMetrics {
			r := results[id]
			if r == nil {
				continue
			}
			for _, sl := range r.Breakdown {
				if sl.Verdict == kpi.VerdictBreach {
					attention = append(attention, Row{Label: sl.Shop.Name + " · " + p.T("metric."+id+".name", nil),
						Value: formatValue(p, r.Metric.Unit, sl.Value.V), Detail: formatTarget(p, r.Metric), Verdict: kpi.VerdictBreach})
				}
			}
		}
		slices.SortStableFunc(shops, func(a, b shopDay) int { return cmp.Compare(b.breaches, a.breaches) })
		for _, s := range shops {
			rep.Sections = append(rep.Sections, s.section)
		}
		rep.Verdict = kpi.VerdictOK
		if len(attention) > 0 {
			rep.Verdict = kpi.VerdictBreach
		}
		rep.Fields = []Field{
			{p.T("metric.gmv.name", nil), formatValue(p, gmv.Metric.Unit, gmv.Value.V) + p.T("digest.vs_week_ago", map[string]any{
				"Change": formatChange(p, gmv.Metric.Unit, gmv.Value.V, gmv.Prev.V)})},
			{p.T("metric.orders.name", nil), formatValue(p, orders.Metric.Unit, orders.Value.V) + p.T("digest.vs_week_ago", map[string]any{
				"Change": formatChange(p, orders.Metric.Unit, orders.Value.V, orders.Prev.V)})},
			{p.T("digest.attention_count", nil), group(int64(len(attention)))},
		}
		rep.RowsTitle = p.T("digest.attention", nil)
		rep.Rows = attention
		if len(attention) == 0 {
			rep.Text = p.T("digest.all_clear", nil)
		}
		if holiday != "" {
			rep.Notes = append(rep.Notes, p.T("digest.holiday", map[string]any{"Name": p.T("holiday."+holiday, nil)}))
		}
		if pause != "" {
			rep.Notes = append(rep.Notes, p.T("digest.paused", map[string]any{"Name": p.T("pause."+pause, nil)}))
		}
		rep.Context = p.T("digest.context", map[string]any{"Day": y.String(), "WeekAgo": (y - 7).String(), "Shops": len(shops)})
		return rep
	}, nil
}

// digestAlerts returns the active alerts the digest for ch lists, in
// sortAlerts' order, and the shops by id to name them: in a chat channel,
// the alerts that were sent to it; without one (the console, --print),
// those of its shops (all when it has none). None without a desk.
func (b *Bot) digestAlerts(ctx context.Context, ch kpi.ChatChannel) ([]kpi.Alert, map[string]kpi.Shop, error) {
	if b.alerts == nil {
		return nil, nil, nil
	}
	active, err := b.alerts.Active(ctx, ch.Shops)
	if err != nil {
		return nil, nil, fmt.Errorf("bot: digest alerts: %w", err)
	}
	sentTo := ""
	if ch.Platform != "" && ch.ID != "" {
		sentTo = ch.Platform + ":" + ch.ID
	}
	var list []kpi.Alert
	for _, a := range active {
		switch {
		case !a.Active():
		case len(ch.Shops) > 0 && !slices.Contains(ch.Shops, a.Shop): // the desk filters too; this makes sure
		case sentTo != "" && !slices.Contains(a.Channels, sentTo):
		default:
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return nil, nil, nil
	}
	shops, err := b.shops.Shops(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("bot: digest alerts: %w", err)
	}
	sortAlerts(list)
	return list, shopsByID(shops), nil
}

// alertSection lists open alerts in the digest as /kpi alerts does, naming
// who acknowledged one: the first digestAlertRows of them, then how many
// more there are. ❌ marks it if one is critical, else ⚠️.
func alertSection(p *locales.Printer, list []kpi.Alert, shops map[string]kpi.Shop, now time.Time) Section {
	s := Section{Title: p.T("digest.alerts", map[string]any{"N": len(list)}), Verdict: kpi.VerdictFew}
	for i, a := range list {
		if i == digestAlertRows {
			s.Rows = append(s.Rows, Row{Label: p.T("reply.more_lines", map[string]any{"N": len(list) - i})})
			break
		}
		state := alertState(p, a, now)
		if a.State == kpi.AlertAcked && a.AckedBy != "" {
			state = p.T("digest.alert_acked_by", map[string]any{"By": a.AckedBy})
		}
		row := alertRow(p, a, shops, state, now)
		if row.Verdict == kpi.VerdictBreach {
			s.Verdict = kpi.VerdictBreach
		}
		s.Rows = append(s.Rows, row)
	}
	return s
}

// review is the weekly or monthly review sent on day: every KPI of the week
// or month before against its target, with its trend over the last 4 weeks
// or 6 months; the best and worst shops; the KPIs that missed most often.
func (b *Bot) review(ctx context.Context, kind string, ch kpi.ChatChannel, day kpi.Date) (func(*locales.Printer) Reply, error) {
	at := day.Start()
	var periods []kpi.Period // oldest first; the last is the one reviewed
	if kind == ReportWeekly {
		last := kpi.LastWeek(at)
		for i := 3; i >= 0; i-- {
			periods = append(periods, kpi.Range(last.From-kpi.Date(7*i), last.Last()-kpi.Date(7*i)))
		}
	} else {
		last := kpi.LastMonth(at)
		for i := 5; i >= 0; i-- {
			m := last.From.AddMonths(-i)
			periods = append(periods, kpi.Month(m.Year(), m.Month()))
		}
	}
	cur := periods[len(periods)-1]
	type trend struct {
		metric  *kpi.Metric
		results []*kpi.Result // per period
		missed  int           // periods breached
	}
	var trends []trend
	for _, m := range kpi.Catalog {
		if m.Current {
			continue // a state, not a period's result: nothing to review over time
		}
		t := trend{metric: m}
		for i, per := range periods {
			q := kpi.Query{Metric: m.ID, Period: per, Allowed: ch.Shops}
			if i > 0 {
				q.Compare = periods[i-1]
			}
			r, err := b.engine.Compute(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("bot: review %s: %w", m.ID, err)
			}
			t.results = append(t.results, r)
			if r.Verdict == kpi.VerdictBreach {
				t.missed++
			}
		}
		trends = append(trends, t)
	}
	return func(p *locales.Printer) Reply {
		rep := Reply{Title: p.T("review."+kind+".title", map[string]any{"From": cur.From.String(), "To": cur.Last().String()})}
		ok, breached := 0, 0
		type shopScore struct {
			name         string
			ok, breached int
		}
		scores := map[string]*shopScore{}
		var order []string
		for _, t := range trends {
			r := t.results[len(t.results)-1]
			var past []string
			for _, x := range t.results {
				past = append(past, formatValue(p, t.metric.Unit, x.Value.V))
			}
			rep.Rows = append(rep.Rows, Row{Label: p.T("metric."+t.metric.ID+".name", nil),
				Value: formatValue(p, t.metric.Unit, r.Value.V), Detail: strings.Join(past, " → "), Verdict: r.Verdict})
			switch r.Verdict {
			case kpi.VerdictOK:
				ok++
			case kpi.VerdictBreach:
				breached++
			}
			for _, sl := range r.Breakdown {
				s := scores[sl.Shop.ID]
				if s == nil {
					s = &shopScore{name: sl.Shop.Name}
					scores[sl.Shop.ID] = s
					order = append(order, sl.Shop.ID)
				}
				switch sl.Verdict {
				case kpi.VerdictOK:
					s.ok++
				case kpi.VerdictBreach:
					s.breached++
				}
			}
		}
		rep.Verdict = kpi.VerdictOK
		if breached > 0 {
			rep.Verdict = kpi.VerdictBreach
		}
		rep.Fields = []Field{
			{p.T("review.on_target", nil), p.T("review.of", map[string]any{"N": ok, "Of": ok + breached})},
			{p.T("review.missed", nil), group(int64(breached))},
		}
		rep.RowsTitle = p.T("review.kpis", map[string]any{"N": len(periods)})

		// Best and worst shops: the most KPIs on target, the most missed.
		ranked := make([]*shopScore, 0, len(order))
		for _, id := range order {
			ranked = append(ranked, scores[id])
		}
		scoreRow := func(s *shopScore) Row {
			v := kpi.VerdictOK
			if s.breached > 0 {
				v = kpi.VerdictBreach
			}
			return Row{Label: s.name, Value: p.T("review.shop_score", map[string]any{"OK": s.ok, "Missed": s.breached}), Verdict: v}
		}
		if len(ranked) > 1 {
			n := min(3, len(ranked)/2)
			slices.SortStableFunc(ranked, func(a, b *shopScore) int {
				return cmp.Or(cmp.Compare(a.breached, b.breached), cmp.Compare(b.ok, a.ok))
			})
			best := Section{Title: p.T("review.best", nil), Verdict: kpi.VerdictOK}
			for _, s := range ranked[:n] {
				best.Rows = append(best.Rows, scoreRow(s))
			}
			worst := Section{Title: p.T("review.worst", nil), Verdict: kpi.VerdictOK}
			for i := len(ranked) - 1; i >= len(ranked)-n; i-- {
				worst.Rows = append(worst.Rows, scoreRow(ranked[i]))
				if ranked[i].breached > 0 {
					worst.Verdict = kpi.VerdictBreach
				}
			}
			rep.Sections = append(rep.Sections, best, worst)
		}
		// The KPIs that missed most often over the trend.
		often := slices.Clone(trends)
		slices.SortStableFunc(often, func(a, b trend) int { return cmp.Compare(b.missed, a.missed) })
		missed := Section{Title: p.T("review.missed_most", map[string]any{"N": len(periods)}), Verdict: kpi.VerdictOK}
		for _, t := range often {
			if t.missed == 0 || len(missed.Rows) == 5 {
				break
			}
			missed.Verdict = kpi.VerdictBreach
			missed.Rows = append(missed.Rows, Row{Label: p.T("metric."+t.metric.ID+".name", nil),
				Value: p.T("review.missed_times", map[string]any{"N": t.missed, "Of": len(periods)}), Verdict: kpi.VerdictBreach})
		}
		if len(missed.Rows) > 0 {
			rep.Sections = append(rep.Sections, missed)
		}
		rep.Context = p.T("review.context", map[string]any{"From": periods[0].From.String(), "To": cur.Last().String(), "Shops": len(order)})
		return rep
	}, nil
}

// weekdayID is the message id of a date's weekday.
func weekdayID(d kpi.Date) string {
	return "weekday." + strings.ToLower(d.Weekday().String()[:3])
}
