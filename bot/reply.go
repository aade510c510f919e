package bot

import (
	"math"
	"strings"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Reply is what the bot answers, localized but not yet laid out: each chat
// adapter renders it its own way (plain text, Block Kit, Flex).
type Reply struct {
	Title     string        // what was asked: metric, scope and period
	Verdict   kpi.Verdict   // the overall verdict; empty for help, lists and errors
	Fields    []Field       // value, target, previous, change
	Rows      []Row         // the breakdown by shop
	RowsTitle string        // the breakdown's heading
	Sections  []Section     // a report's parts after the rows: a digest's shops
	Buttons   []Button      // what the reader can do about it
	Mentions  []string      // Slack member ids to mention (an escalation); other platforms leave them out
	Chart     *ChartRequest // a picture to go with it; nil: none
	Context   string        // the window and the sample size
	Notes     []string      // remarks: what was corrected or ignored
	// Hint says how to do by typing what the buttons do ("/kpi 确认 12 ·
	// …"): shown after the notes, and gone with the buttons when the
	// message is edited to its new state.
	Hint    string
	Text    string // free text: help, lists, error messages
	Err     error  // set when the reply reports an error
	Private bool   // for the asker alone: it holds a secret (a bind code)
	// Amends are the outbox keys of earlier messages to the same channel
	// whose news this reply is (an alert acknowledged, snoozed, resolved):
	// where the platform lets a message be edited (Slack) they are edited
	// to carry its summary and lose their buttons, and it goes in the
	// thread of the first one; elsewhere it is a new message.
	Amends []string
	Lang   locales.Lang // the language it is written in
}

// marks show verdicts at a glance, the same on every platform.
var marks = map[kpi.Verdict]string{
	kpi.VerdictOK:     "✅",
	kpi.VerdictBreach: "❌",
	kpi.VerdictInfo:   "ℹ️",
	kpi.VerdictFew:    "⚠️",
	kpi.VerdictNoData: "➖",
}

// Mark returns the sign of a verdict (✅ ❌ ℹ️ ⚠️ ➖), or "" for none.
func Mark(v kpi.Verdict) string { return marks[v] }

// Field is a labelled value.
type Field struct {
	Label, Value string
}

// Button is a button under a reply: pressing it is as if the presser had
// sent Command ("/kpi ack 12") where the reply is.
type Button struct {
	Label   string
	Command string
}

// Section is a titled group of rows, such as one shop's KPIs in a digest.
type Section struct {
	Title   string
	Verdict kpi.Verdict
	Rows    []Row
}

// Row is one line of a breakdown or an overview.
type Row struct {
	Label   string
	Value   string
	Detail  string // the previous value, or the target
	Verdict kpi.Verdict
}

// metricReply lays a result out in the printer's language.
func metricReply(p *locales.Printer, r *kpi.Result) Reply {
	m := r.Metric
	name := p.T("metric."+m.ID+".name", nil)
	rep := Reply{
		Title:   p.T("reply.title", map[string]any{"Metric": name, "Scope": scopeLabel(p, r), "Period": periodLabel(p, r.Period, r.Partial)}),
		Verdict: r.Verdict,
	}
	value := formatValue(p, m.Unit, r.Value.V)
	if m.Stat != "" {
		value = p.T("stat."+m.Stat, map[string]any{"Value": value})
	}
	switch m.Secondary {
	case "p90":
		value += p.T("reply.p90", map[string]any{"Value": formatValue(p, m.Unit, r.Value.Secondary)})
	case "competitors":
		value += p.T("reply.competitors", map[string]any{"Value": formatValue(p, m.Unit, r.Value.Secondary)})
	case "peak":
		value += p.T("reply.peak", map[string]any{"Value": formatValue(p, m.Unit, r.Value.Secondary)})
	}
	rep.Fields = append(rep.Fields, Field{p.T("reply.value", nil), value})
	rep.Fields = append(rep.Fields, Field{p.T("reply.target", nil), targetText(p, m, r.Verdict, r.Value)})
	if !m.Current {
		rep.Fields = append(rep.Fields,
			Field{p.T("reply.previous", nil), p.T("reply.previous_value", map[string]any{
				"Value": formatValue(p, m.Unit, r.Prev.V), "Window": windowLabel(r.PrevWindow)})},
			Field{p.T("reply.change", nil), changeText(p, m, r.Value.V, r.Prev.V)},
		)
	}
	rep.RowsTitle = p.T("reply.by_shop", nil)
	var waiting []string // the shops without records yet
	for _, line := range r.Breakdown {
		detail := p.T("reply.prev_row", map[string]any{"Value": formatValue(p, m.Unit, line.Prev.V)})
		if line.NoRecords {
			detail = p.T("reply.no_records_row", nil)
			waiting = append(waiting, line.Shop.Name)
		}
		rep.Rows = append(rep.Rows, Row{
			Label:   line.Shop.Name,
			Value:   formatValue(p, m.Unit, line.Value.V),
			Detail:  detail,
			Verdict: line.Verdict,
		})
	}
	if len(waiting) > 0 {
		rep.Notes = append(rep.Notes, p.T("reply.no_records", map[string]any{"Shops": strings.Join(waiting, ", ")}))
	}
	rep.Context = p.T("reply.context", map[string]any{
		"Window": windowLabel(r.Window),
		"Sample": p.T("sample."+string(m.Sample), map[string]any{"N": group(r.Value.Sample)}),
	})
	return rep
}

func targetText(p *locales.Printer, m *kpi.Metric, v kpi.Verdict, val kpi.Value) string {
	if m.Op == "" {
		return p.T("verdict.info", nil)
	}
	data := map[string]any{"Target": formatTarget(p, m), "N": group(val.Sample), "Min": group(m.MinSample)}
	return p.T("verdict."+string(v), data)
}

func changeText(p *locales.Printer, m *kpi.Metric, cur, prev float64) string {
	s := formatChange(p, m.Unit, cur, prev)
	if s == "—" || m.Op == "" || cur == prev || math.IsInf(cur, 0) {
		return s
	}
	if (cur > prev) == m.Op.HigherIsBetter() {
		return s + p.T("change.better", nil)
	}
	return s + p.T("change.worse", nil)
}

func scopeLabel(p *locales.Printer, r *kpi.Result) string {
	switch {
	case r.Scope.Shop != "" && len(r.Breakdown) == 1:
		return r.Breakdown[0].Shop.Name
	case r.Scope.Platform != "":
		return p.T("platform."+string(r.Scope.Platform), nil)
	}
	return p.T("scope.all", nil)
}

func periodLabel(p *locales.Printer, per kpi.Period, partial bool) string {
	data := map[string]any{"N": per.Days(), "Month": per.From.String()[:7], "Date": per.From.String(),
		"From": per.From.String(), "To": per.Last().String()}
	s := p.T("period."+string(per.Kind), data)
	if partial {
		s += p.T("period.partial", nil)
	}
	return s
}

func windowLabel(w kpi.Period) string {
	if w.Days() <= 1 {
		return w.From.String()
	}
	return w.From.String() + " – " + w.Last().String()
}
