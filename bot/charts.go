package bot

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// ChartRequest is a chart to go with a reply: what it draws and in which
// language. It travels with the reply, through the outbox too, and is drawn
// where the reply is delivered (DrawChart): Slack uploads the picture with
// the message; LINE links to kpibot's own /charts/ URL, which draws it
// when fetched.
type ChartRequest struct {
	// Query is what is drawn: with a Metric, its day-by-day trend over
	// Period; without one, the overview of the digest's metrics over
	// Period, for the shops of Query.Allowed (every shop if none).
	Query kpi.Query
	Lang  locales.Lang // Bilingual: the Chinese and Japanese words together
}

// chartDays is how many days a chart shows when the question names no
// period: a month's trend.
const chartDays = 30

// chartFor returns the chart that goes with the answer to cmd: a metric's
// trend, or for a status or digest the overview of its shops, over the
// period asked or else def; nil if cmd asks for none or cannot have one.
func chartFor(cmd Command, lang locales.Lang, def kpi.Period) *ChartRequest {
	if !cmd.Chart {
		return nil
	}
	q := cmd.Query
	switch cmd.Action {
	case ActionMetric:
		if m, ok := kpi.Lookup(q.Metric); !ok || m.Current {
			return nil
		}
	case ActionStatus, ActionDigest:
		q = kpi.Query{Scope: q.Scope, Period: q.Period, Allowed: q.Allowed}
	default:
		return nil
	}
	q.Compare = kpi.Period{}
	if q.Period == (kpi.Period{}) {
		q.Period = def
	}
	return &ChartRequest{Query: q, Lang: lang}
}

// overviewChart is the chart of the digest sent on day to channel ch: the
// digest's metrics over the chartDays days up to the day before, for the
// channel's shops.
func overviewChart(ch kpi.ChatChannel, day kpi.Date) *ChartRequest {
	return &ChartRequest{
		Query: kpi.Query{Period: kpi.Range(day-chartDays, day-1), Allowed: ch.Shops},
		Lang:  ReportLang(ch),
	}
}

// DrawChart draws c as a PNG of size s: a metric's trend with its target
// and the days that missed it, or the overview of the digest's metrics.
func (b *Bot) DrawChart(ctx context.Context, w io.Writer, c ChartRequest, s chart.Size) error {
	if c.Query.Metric == "" {
		return b.drawOverview(ctx, w, c, s)
	}
	m, ok := kpi.Lookup(c.Query.Metric)
	if ok && m.Current {
		return kpi.Errorf(kpi.Invalid, "error.no_series", map[string]any{"Metric": metricID(m.ID)}, nil)
	}
	series, err := b.engine.Series(ctx, c.Query)
	if err != nil {
		return fmt.Errorf("bot: chart: %w", err)
	}
	t := b.inBoth(c.Lang, func(p *locales.Printer) chart.Trend { return trendChart(p, series) })
	if err := chart.DrawTrend(w, t, s); err != nil {
		return fmt.Errorf("bot: draw chart: %w", err)
	}
	return nil
}

// trendChart is series as a chart, its words in p's language.
func trendChart(p *locales.Printer, s *kpi.Series) chart.Trend {
	m := s.Metric
	t := chart.Trend{
		Title:     p.T("reply.title", map[string]any{"Metric": p.T("metric."+m.ID+".name", nil), "Scope": seriesScope(p, s), "Period": periodLabel(p, s.Period, false)}),
		Points:    chartPoints(s.Points),
		Threshold: math.NaN(),
		Format:    func(v float64) string { return formatValue(p, m.Unit, v) },
		Empty:     p.T("chart.empty", nil),
	}
	if m.Op != "" {
		breaches := 0
		for _, pt := range s.Points {
			if pt.Verdict == kpi.VerdictBreach {
				breaches++
			}
		}
		t.Threshold = m.Target
		t.ThresholdLabel = p.T("chart.target", map[string]any{"Target": formatTarget(p, m)})
		t.Subtitle = p.T("chart.breaches", map[string]any{"Target": formatTarget(p, m), "N": breaches, "Days": len(s.Points)})
	}
	return t
}

// seriesScope names what a series covers: a shop, a platform or every shop.
func seriesScope(p *locales.Printer, s *kpi.Series) string {
	switch {
	case s.Scope.Shop != "" && len(s.Shops) == 1:
		return s.Shops[0].Name
	case s.Scope.Platform != "":
		return p.T("platform."+string(s.Scope.Platform), nil)
	}
	return p.T("scope.all", nil)
}

// chartPoints are a series' points as a chart draws them.
func chartPoints(points []kpi.Point) []chart.Point {
	out := make([]chart.Point, len(points))
	for i, pt := range points {
		out[i] = chart.Point{Day: pt.Day, V: pt.Value.V, Breach: pt.Verdict == kpi.VerdictBreach}
	}
	return out
}

// drawOverview draws the small multiples of the digest's metrics: each
// one's trend over the period, and its value on the last day.
func (b *Bot) drawOverview(ctx context.Context, w io.Writer, c ChartRequest, s chart.Size) error {
	var series []*kpi.Series
	for _, id := range digestMetrics {
		q := c.Query
		q.Metric = id
		sr, err := b.engine.Series(ctx, q)
		if err != nil {
			return fmt.Errorf("bot: chart: %w", err)
		}
		series = append(series, sr)
	}
	o := b.inBothOverview(c.Lang, func(p *locales.Printer) chart.Overview {
		o := chart.Overview{Title: p.T("chart.overview", nil)}
		for _, sr := range series {
			m := sr.Metric
			last := kpi.Point{Value: kpi.Value{V: math.NaN()}}
			if n := len(sr.Points); n > 0 {
				last = sr.Points[n-1]
			}
			panel := chart.Panel{
				Title:     p.T("metric."+m.ID+".name", nil),
				Value:     formatValue(p, m.Unit, last.Value.V),
				Verdict:   last.Verdict,
				Points:    chartPoints(sr.Points),
				Threshold: math.NaN(),
			}
			if m.Op != "" {
				panel.Threshold = m.Target
			} else {
				panel.Verdict = "" // for information: no colour
			}
			o.Panels = append(o.Panels, panel)
		}
		return o
	}, func(p *locales.Printer) string { return seriesScope(p, series[0]) })
	per := series[0].Period
	o.Title += " · " + per.From.String() + " – " + per.Last().String()
	// A row of panels is a third of the size asked: the eight metrics fill
	// three rows, about the picture asked for.
	s.H /= 3
	if err := chart.DrawOverview(w, o, s); err != nil {
		return fmt.Errorf("bot: draw chart: %w", err)
	}
	return nil
}

// inBoth writes a trend's words in lang; Bilingual puts the Chinese and the
// Japanese words together, as merge does a reply's.
func (b *Bot) inBoth(lang locales.Lang, render func(*locales.Printer) chart.Trend) chart.Trend {
	if lang != locales.Bilingual {
		return render(b.text.Printer(lang))
	}
	zh, ja := render(b.text.Printer(locales.Chinese)), render(b.text.Printer(locales.Japanese))
	zh.Title = both(zh.Title, ja.Title, " / ")
	zh.Subtitle = both(zh.Subtitle, ja.Subtitle, " / ")
	zh.ThresholdLabel = both(zh.ThresholdLabel, ja.ThresholdLabel, " / ")
	zh.Empty = both(zh.Empty, ja.Empty, " / ")
	return zh
}

// inBothOverview writes an overview's words in lang, its title followed
// by the scope that scope names; Bilingual puts the Chinese and the
// Japanese words together.
func (b *Bot) inBothOverview(lang locales.Lang, render func(*locales.Printer) chart.Overview, scope func(*locales.Printer) string) chart.Overview {
	if lang != locales.Bilingual {
		p := b.text.Printer(lang)
		o := render(p)
		o.Title += " · " + scope(p)
		return o
	}
	pz, pj := b.text.Printer(locales.Chinese), b.text.Printer(locales.Japanese)
	zh, ja := render(pz), render(pj)
	zh.Title = both(zh.Title, ja.Title, " / ") + " · " + both(scope(pz), scope(pj), " / ")
	for i := range zh.Panels {
		zh.Panels[i].Title = both(zh.Panels[i].Title, ja.Panels[i].Title, " / ")
	}
	return zh
}
