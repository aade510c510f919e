package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kpibot/kpibot/kpi"
)

// Action is what a command asks for.
type Action string

// Actions.
const (
	ActionMetric Action = "metric"
	ActionHelp   Action = "help"
	ActionList   Action = "list"
)

// Command is a parsed chat line.
type Command struct {
	Action Action
	Query  kpi.Query
}

// Normalize folds full-width letters, digits and spaces (ｋｐｉ　返品率) to
// their ASCII forms, lower-cases and trims the text.
func Normalize(text string) string {
	text = strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= '\uff01' && r <= '\uff5e':
			return r - 0xfee0
		}
		return r
	}, text)
	return strings.ToLower(strings.TrimSpace(text))
}

// Parse reads "/kpi <metric> [shop|platform] [period]", "kpi …", "/kpi help"
// and "/kpi list". Shops are matched by id; platforms by name. The full
// multilingual language is bot's next step; this reads metric ids and
// English periods.
func Parse(text string, shops []kpi.Shop, now time.Time) (Command, error) {
	text = Normalize(text)
	for _, prefix := range []string{"/kpi", "kpi"} {
		if rest, ok := strings.CutPrefix(text, prefix); ok && (rest == "" || unicode.IsSpace(rune(rest[0]))) {
			text = strings.TrimSpace(rest)
			break
		}
	}
	words := strings.Fields(text)
	if len(words) == 0 || words[0] == "help" || words[0] == "?" {
		return Command{Action: ActionHelp}, nil
	}
	if words[0] == "list" {
		return Command{Action: ActionList}, nil
	}
	id := strings.ReplaceAll(words[0], "-", "_")
	if _, ok := kpi.Lookup(id); !ok {
		return Command{}, kpi.Errorf(kpi.NotFound, "error.unknown_metric", map[string]any{"Metric": words[0]}, nil)
	}
	cmd := Command{Action: ActionMetric, Query: kpi.Query{Metric: id}}
	var periodWords []string
	for _, w := range words[1:] {
		if s, ok := shopByID(shops, w); ok {
			cmd.Query.Scope = kpi.Scope{Shop: s.ID}
			continue
		}
		if p, ok := platformOf(w); ok {
			cmd.Query.Scope = kpi.Scope{Platform: p}
			continue
		}
		periodWords = append(periodWords, w)
	}
	if len(periodWords) > 0 {
		p, err := ParsePeriod(strings.Join(periodWords, " "), now)
		if err != nil {
			return Command{}, err
		}
		cmd.Query.Period = p
	}
	return cmd, nil
}

func shopByID(shops []kpi.Shop, w string) (kpi.Shop, bool) {
	for _, s := range shops {
		if strings.EqualFold(s.ID, w) {
			return s, true
		}
	}
	return kpi.Shop{}, false
}

func platformOf(w string) (kpi.Platform, bool) {
	for _, p := range kpi.Platforms {
		if w == string(p) {
			return p, true
		}
	}
	return "", false
}

var (
	lastDaysRE = regexp.MustCompile(`^(?:last|past)[ _]?(\d{1,3})[ _]?days?$|^(\d{1,3})d$`)
	monthRE    = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})$`)
	rangeRE    = regexp.MustCompile(`^(\d{4}[-/]\d{1,2}[-/]\d{1,2})\s*(?:\.\.|~|〜|to|-)\s*(\d{4}[-/]\d{1,2}[-/]\d{1,2})$`)
	dateRE     = regexp.MustCompile(`^\d{4}[-/]\d{1,2}[-/]\d{1,2}$`)
)

// ParsePeriod reads today, yesterday, this/last week, this/last month,
// last N days (or Nd), a month (2026-10), a date (2026-10-05 or 2026/10/05)
// and a range (2026-10-01..2026-10-15, also with ~, "to" or -).
func ParsePeriod(s string, now time.Time) (kpi.Period, error) {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "_", " ")), " ")
	switch s {
	case "today":
		return kpi.Today(now), nil
	case "yesterday":
		return kpi.Yesterday(now), nil
	case "this week":
		return kpi.ThisWeek(now), nil
	case "last week":
		return kpi.LastWeek(now), nil
	case "this month":
		return kpi.ThisMonth(now), nil
	case "last month":
		return kpi.LastMonth(now), nil
	}
	if m := lastDaysRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1] + m[2])
		if n < 1 || n > 366 {
			return kpi.Period{}, badPeriod(s)
		}
		return kpi.LastDays(now, n), nil
	}
	if m := monthRE.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo < 1 || mo > 12 || y < 2000 || y > 2100 {
			return kpi.Period{}, badPeriod(s)
		}
		return kpi.Month(y, time.Month(mo)), nil
	}
	if m := rangeRE.FindStringSubmatch(s); m != nil {
		from, err1 := kpi.ParseDate(m[1])
		to, err2 := kpi.ParseDate(m[2])
		if err1 != nil || err2 != nil {
			return kpi.Period{}, badPeriod(s)
		}
		return kpi.Range(from, to), nil
	}
	if dateRE.MatchString(s) {
		d, err := kpi.ParseDate(s)
		if err != nil {
			return kpi.Period{}, badPeriod(s)
		}
		return kpi.Day(d), nil
	}
	return kpi.Period{}, badPeriod(s)
}

func badPeriod(s string) error {
	return kpi.Errorf(kpi.Invalid, "error.bad_period", map[string]any{"Text": s}, nil)
}
