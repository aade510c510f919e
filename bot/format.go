package bot

import (
	"math"
	"strconv"
	"strings"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// formatValue shows v in the metric's unit, e.g. ¥12,345, 97.3%, 18.2 h.
func formatValue(p *locales.Printer, u kpi.Unit, v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return "∞"
	}
	switch u {
	case kpi.Yen:
		return "¥" + group(int64(math.Round(v)))
	case kpi.Count:
		return group(int64(math.Round(v)))
	case kpi.Percent:
		digits := 1
		if math.Abs(v) < 0.01 && v != 0 {
			digits = 2
		}
		return strconv.FormatFloat(v*100, 'f', digits, 64) + "%"
	case kpi.Ratio:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case kpi.Minutes:
		return p.T("unit.minutes", map[string]any{"N": group(int64(math.Round(v)))})
	}
	return p.T("unit."+string(u), map[string]any{"N": strconv.FormatFloat(v, 'f', 1, 64)})
}

// formatChange shows the change from prev to cur: percentage points for
// rates, a relative change for amounts and counts, the difference otherwise.
func formatChange(p *locales.Printer, u kpi.Unit, cur, prev float64) string {
	if math.IsNaN(cur) || math.IsNaN(prev) || math.IsInf(cur, 0) || math.IsInf(prev, 0) {
		return "—"
	}
	d := cur - prev
	switch u {
	case kpi.Percent:
		return p.T("change.points", map[string]any{"N": signed(d*100, 1)})
	case kpi.Yen, kpi.Count:
		if prev == 0 {
			return "—"
		}
		return signed(d/prev*100, 1) + "%"
	case kpi.Ratio:
		return signed(d, 2)
	}
	if d > 0 {
		return "+" + formatValue(p, u, d)
	}
	return formatValue(p, u, d)
}

// formatTarget shows a metric's target, e.g. ≥ 98.0% or ≤ 2 a day.
func formatTarget(p *locales.Printer, m *kpi.Metric) string { return formatLevel(p, m, m.Target) }

// formatLevel shows a level of metric m as its target would be shown.
func formatLevel(p *locales.Printer, m *kpi.Metric, level float64) string {
	if m.Op == "" {
		return p.T("verdict.info", nil)
	}
	op := map[kpi.Op]string{kpi.AtLeast: "≥", kpi.AtMost: "≤", kpi.Above: ">", kpi.Below: "<"}[m.Op]
	target := op + " " + formatValue(p, m.Unit, level)
	if m.PerDay {
		target = p.T("reply.per_day", map[string]any{"Target": target})
	}
	return target
}

func signed(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if v >= 0 && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// group writes n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
