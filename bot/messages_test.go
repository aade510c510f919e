package bot

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/kpi/calendar"
)

// literalIDRE finds message ids written out in Go code.
var literalIDRE = regexp.MustCompile(`"((?:error|reply|help|list|status|note|lang|console|cli|change|scope|period|verdict|unit|stat|sample|platform|area|line|channel|role|digest|review|alerts|alert|chart|config)\.[a-z0-9_]+)"`)

// usedIDs returns every message id the code can ask for: those written out
// in the sources, and those it builds from the catalog and the enums.
func usedIDs(t *testing.T) map[string]bool {
	used := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literalIDRE.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range kpi.Catalog {
		used["metric."+m.ID+".name"] = true
		used["metric."+m.ID+".formula"] = true
		used["sample."+string(m.Sample)] = true
		if m.Stat != "" {
			used["stat."+m.Stat] = true
		}
	}
	for _, u := range []kpi.Unit{kpi.Hours, kpi.Days, kpi.Minutes} {
		used["unit."+string(u)] = true
	}
	for _, v := range []kpi.Verdict{kpi.VerdictOK, kpi.VerdictBreach, kpi.VerdictInfo, kpi.VerdictFew, kpi.VerdictNoData} {
		used["verdict."+string(v)] = true
	}
	for _, k := range []kpi.PeriodKind{kpi.KindToday, kpi.KindYesterday, kpi.KindThisWeek, kpi.KindLastWeek, kpi.KindThisMonth,
		kpi.KindLastMonth, kpi.KindLastDays, kpi.KindMonth, kpi.KindDate, kpi.KindRange} {
		used["period."+string(k)] = true
	}
	for _, p := range kpi.Platforms {
		used["platform."+string(p)] = true
	}
	for _, a := range kpi.Areas {
		used["area."+string(a)] = true
	}
	for _, r := range kpi.Roles {
		used["role."+strings.ReplaceAll(string(r), "-", "_")] = true
	}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		used["weekday."+d] = true
	}
	for _, kind := range []string{ReportWeekly, ReportMonthly} {
		used["review."+kind+".title"] = true
	}
	for _, id := range calendar.HolidayIDs {
		used["holiday."+id] = true
	}
	for _, r := range calendar.DefaultRules() {
		used["pause."+r.ID] = true
	}
	for _, topic := range []Action{ActionList, ActionStatus, ActionLang} {
		used["help."+string(topic)] = true
	}
	return used
}

// TestMessageIDs fails on a message the code asks for that a file lacks,
// and on a message no code asks for.
func TestMessageIDs(t *testing.T) {
	used := usedIDs(t)
	for _, lang := range []string{"en", "zh-Hans", "ja"} {
		data, err := os.ReadFile(filepath.Join("..", "locales", "active."+lang+".toml"))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := toml.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		var walk func(prefix string, m map[string]any)
		walk = func(prefix string, m map[string]any) {
			for k, v := range m {
				if sub, ok := v.(map[string]any); ok {
					walk(prefix+k+".", sub)
				} else {
					have[prefix+k] = true
				}
			}
		}
		walk("", raw)
		var missing, unused []string
		for id := range used {
			if !have[id] {
				missing = append(missing, id)
			}
		}
		for id := range have {
			vocabulary := strings.HasPrefix(id, "alias.") || strings.HasPrefix(id, "grammar.") || strings.HasSuffix(id, ".aliases")
			if !used[id] && !vocabulary {
				unused = append(unused, id)
			}
		}
		sort.Strings(missing)
		sort.Strings(unused)
		if len(missing) > 0 {
			t.Errorf("%s lacks %v", lang, missing)
		}
		if len(unused) > 0 {
			t.Errorf("%s has messages nothing uses: %v", lang, unused)
		}
	}
	// The vocabulary has every word the parser expects.
	v := vocabulary(t)
	for _, id := range []string{"today", "yesterday", "this_week", "last_week", "this_month", "last_month", "help", "list", "status", "lang", "vs"} {
		if len(v.Words[id]) < 3 {
			t.Errorf("the vocabulary has %d phrases for %s", len(v.Words[id]), id)
		}
	}
	for _, m := range kpi.Catalog {
		if len(v.Metrics[m.ID]) < 6 {
			t.Errorf("%s has only %d names and aliases", m.ID, len(v.Metrics[m.ID]))
		}
	}
}
