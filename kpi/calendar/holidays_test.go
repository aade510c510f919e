package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// official are the Cabinet Office's holiday dates (内閣府「国民の祝日について」),
// written out independently of holidays.csv.
var official = map[int]string{
	2016: "1/1,1/11,2/11,3/20,3/21,4/29,5/3,5/4,5/5,7/18,8/11,9/19,9/22,10/10,11/3,11/23,12/23",
	2017: "1/1,1/2,1/9,2/11,3/20,4/29,5/3,5/4,5/5,7/17,8/11,9/18,9/23,10/9,11/3,11/23,12/23",
	2018: "1/1,1/8,2/11,2/12,3/21,4/29,4/30,5/3,5/4,5/5,7/16,8/11,9/17,9/23,9/24,10/8,11/3,11/23,12/23,12/24",
	2019: "1/1,1/14,2/11,3/21,4/29,4/30,5/1,5/2,5/3,5/4,5/5,5/6,7/15,8/11,8/12,9/16,9/23,10/14,10/22,11/3,11/4,11/23",
	2020: "1/1,1/13,2/11,2/23,2/24,3/20,4/29,5/3,5/4,5/5,5/6,7/23,7/24,8/10,9/21,9/22,11/3,11/23",
	2021: "1/1,1/11,2/11,2/23,3/20,4/29,5/3,5/4,5/5,7/22,7/23,8/8,8/9,9/20,9/23,11/3,11/23",
	2022: "1/1,1/10,2/11,2/23,3/21,4/29,5/3,5/4,5/5,7/18,8/11,9/19,9/23,10/10,11/3,11/23",
	2023: "1/1,1/2,1/9,2/11,2/23,3/21,4/29,5/3,5/4,5/5,7/17,8/11,9/18,9/23,10/9,11/3,11/23",
	2024: "1/1,1/8,2/11,2/12,2/23,3/20,4/29,5/3,5/4,5/5,5/6,7/15,8/11,8/12,9/16,9/22,9/23,10/14,11/3,11/4,11/23",
	2025: "1/1,1/13,2/11,2/23,2/24,3/20,4/29,5/3,5/4,5/5,5/6,7/21,8/11,9/15,9/23,10/13,11/3,11/23,11/24",
	2026: "1/1,1/12,2/11,2/23,3/20,4/29,5/3,5/4,5/5,5/6,7/20,8/11,9/21,9/22,9/23,10/12,11/3,11/23",
	// Published in 2026, after the table was embedded: the rules must give it.
	2027: "1/1,1/11,2/11,2/23,3/21,3/22,4/29,5/3,5/4,5/5,7/19,8/11,9/20,9/23,10/11,11/3,11/23",
}

func dates(t *testing.T, year int, list string) []kpi.Date {
	t.Helper()
	var out []kpi.Date
	for md := range strings.SplitSeq(list, ",") {
		d, err := parseSlashDate(strconv.Itoa(year) + "/" + md)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func datesOf(hs []Holiday) []kpi.Date {
	var out []kpi.Date
	for _, h := range hs {
		out = append(out, h.Date)
	}
	return out
}

func TestOfficialDates(t *testing.T) {
	for year := 2016; year <= 2027; year++ {
		want := dates(t, year, official[year])
		got := Holidays(year)
		if !slices.Equal(datesOf(got), want) {
			t.Errorf("%d: holidays\n%v\nwant\n%v", year, datesOf(got), want)
		}
		for _, d := range want {
			h, ok := HolidayOn(d)
			if !ok || h.Date != d || h.ID == "" || h.Name == "" {
				t.Errorf("HolidayOn(%s) = %+v, %v", d, h, ok)
			}
			for _, n := range []int{-1, 1} { // the days around are holidays only if listed
				if _, ok := HolidayOn(d.AddDays(n)); ok != slices.Contains(want, d.AddDays(n)) {
					t.Errorf("HolidayOn(%s) = %v", d.AddDays(n), ok)
				}
			}
		}
	}
	if tb := loadTable(); tb.first != 2016 || tb.last != 2026 {
		t.Errorf("the table covers %d-%d, want 2016-2026", tb.first, tb.last)
	}
}

func TestHolidayIDs(t *testing.T) {
	tests := []struct {
		date     kpi.Date
		id, name string
	}{
		{kpi.NewDate(2026, 1, 1), "new_year", "元日"},
		{kpi.NewDate(2026, 1, 12), "coming_of_age", "成人の日"},
		{kpi.NewDate(2026, 2, 11), "foundation", "建国記念の日"},
		{kpi.NewDate(2026, 2, 23), "emperor", "天皇誕生日"},
		{kpi.NewDate(2018, 12, 23), "emperor", "天皇誕生日"},
		{kpi.NewDate(2026, 3, 20), "vernal_equinox", "春分の日"},
		{kpi.NewDate(2026, 4, 29), "showa", "昭和の日"},
		{kpi.NewDate(2026, 5, 3), "constitution", "憲法記念日"},
		{kpi.NewDate(2026, 5, 4), "greenery", "みどりの日"},
		{kpi.NewDate(2026, 5, 5), "children", "こどもの日"},
		{kpi.NewDate(2026, 5, 6), "substitute", "休日"}, // 5/3 is a Sunday
		{kpi.NewDate(2026, 7, 20), "marine", "海の日"},
		{kpi.NewDate(2026, 8, 11), "mountain", "山の日"},
		{kpi.NewDate(2026, 9, 21), "respect_aged", "敬老の日"},
		{kpi.NewDate(2026, 9, 22), "citizens", "休日"}, // between 敬老の日 and 秋分の日
		{kpi.NewDate(2026, 9, 23), "autumnal_equinox", "秋分の日"},
		{kpi.NewDate(2026, 10, 12), "sports", "スポーツの日"},
		{kpi.NewDate(2018, 10, 8), "sports", "体育の日"},
		{kpi.NewDate(2019, 10, 14), "sports", "体育の日（スポーツの日）"},
		{kpi.NewDate(2020, 7, 24), "sports", "スポーツの日"},
		{kpi.NewDate(2026, 11, 3), "culture", "文化の日"},
		{kpi.NewDate(2026, 11, 23), "labor_thanksgiving", "勤労感謝の日"},
		{kpi.NewDate(2025, 11, 24), "substitute", "休日"},
		{kpi.NewDate(2019, 4, 30), "citizens", "休日"},
		{kpi.NewDate(2019, 5, 1), "special", "休日（祝日扱い）"},
		{kpi.NewDate(2019, 5, 2), "citizens", "休日"},
		{kpi.NewDate(2019, 5, 6), "substitute", "休日"},
		{kpi.NewDate(2019, 10, 22), "special", "休日（祝日扱い）"},
		{kpi.NewDate(2021, 8, 9), "substitute", "休日"},
		// By the rules.
		{kpi.NewDate(2027, 3, 22), "substitute", "休日"},
		{kpi.NewDate(2027, 10, 11), "sports", "スポーツの日"},
		{kpi.NewDate(2032, 9, 21), "citizens", "休日"},
		{kpi.NewDate(2015, 9, 22), "citizens", "休日"},
		{kpi.NewDate(2029, 4, 30), "substitute", "休日"},
	}
	for _, tt := range tests {
		h, ok := HolidayOn(tt.date)
		if want := (Holiday{tt.date, tt.id, tt.name}); !ok || h != want {
			t.Errorf("HolidayOn(%s) = %+v, %v; want %+v", tt.date, h, ok, want)
		}
	}
	for _, d := range []kpi.Date{kpi.NewDate(2026, 1, 2), kpi.NewDate(2019, 2, 23), kpi.NewDate(2020, 10, 12), kpi.NewDate(2032, 9, 23)} {
		if h, ok := HolidayOn(d); ok {
			t.Errorf("HolidayOn(%s) = %+v", d, h)
		}
	}
}

// TestRulesMatchTable checks the rules against the Cabinet Office's table:
// the same for 2022-2026, and for 2016-2021 different only where the law of
// the time or a special law differed (the emperor's birthday, the
// enthronement in 2019, the Olympics in 2020 and 2021).
func TestRulesMatchTable(t *testing.T) {
	tb := loadTable()
	type diff struct{ onlyTable, onlyRules string } // "m/d:id ..."
	special := map[int]diff{
		2016: {"12/23:emperor", "2/23:emperor"},
		2017: {"12/23:emperor", "2/23:emperor"},
		2018: {"12/23:emperor 12/24:substitute", "2/23:emperor"},
		2019: {"4/30:citizens 5/1:special 5/2:citizens 10/22:special", "2/23:emperor"},
		2020: {"7/23:marine 7/24:sports 8/10:mountain", "7/20:marine 8/11:mountain 10/12:sports"},
		2021: {"7/22:marine 7/23:sports 8/8:mountain 8/9:substitute", "7/19:marine 8/11:mountain 10/11:sports"},
	}
	key := func(h Holiday) string { return fmt.Sprintf("%d/%d:%s", h.Date.Month(), h.Date.Day(), h.ID) }
	for year := 2016; year <= 2026; year++ {
		table, rules := tb.years[year], ruleHolidays(year, tb.names)
		var onlyTable, onlyRules []string
		for _, h := range table {
			if !slices.ContainsFunc(rules, func(r Holiday) bool { return key(r) == key(h) }) {
				onlyTable = append(onlyTable, key(h))
			}
		}
		for _, r := range rules {
			if !slices.ContainsFunc(table, func(h Holiday) bool { return key(r) == key(h) }) {
				onlyRules = append(onlyRules, key(r))
			}
		}
		got := diff{strings.Join(onlyTable, " "), strings.Join(onlyRules, " ")}
		if got != special[year] {
			t.Errorf("%d: only in the table %q, only by the rules %q; want %q and %q",
				year, got.onlyTable, got.onlyRules, special[year].onlyTable, special[year].onlyRules)
		}
		if year >= 2022 && !slices.Equal(table, rules) { // names too
			t.Errorf("%d: the rules give\n%v\nthe table\n%v", year, rules, table)
		}
	}
}

func TestEquinoxes(t *testing.T) {
	// Equinox days the Cabinet Office has published.
	tests := []struct{ year, march, september int }{
		{2000, 20, 23}, {2012, 20, 22}, {2016, 20, 22}, {2019, 21, 23}, {2023, 21, 23},
		{2024, 20, 22}, {2025, 20, 23}, {2026, 20, 23}, {2027, 21, 23},
	}
	for _, tt := range tests {
		if m, s := equinox(tt.year, 20.8431), equinox(tt.year, 23.2488); m != tt.march || s != tt.september {
			t.Errorf("%d: equinoxes 3/%d and 9/%d, want 3/%d and 9/%d", tt.year, m, s, tt.march, tt.september)
		}
	}
}

func TestRulesEveryYear(t *testing.T) {
	for year := 1980; year <= 2099; year++ {
		hs := Holidays(year)
		proper := 0
		for i, h := range hs {
			if i > 0 && h.Date <= hs[i-1].Date {
				t.Fatalf("%d: not sorted at %v", year, h)
			}
			if h.Date.Year() != year {
				t.Errorf("%d: %v is in another year", year, h)
			}
			switch h.ID {
			case idSubstitute: // follows a run of holidays with a Sunday in it
				if classifyDayOff(h.Date, holidaySet(hs)) != idSubstitute {
					t.Errorf("%d: substitute %v follows no Sunday holiday", year, h)
				}
			case idCitizens:
				if _, ok := HolidayOn(h.Date - 1); !ok {
					t.Errorf("%d: citizens' day %v is not between holidays", year, h)
				}
				if _, ok := HolidayOn(h.Date + 1); !ok {
					t.Errorf("%d: citizens' day %v is not between holidays", year, h)
				}
			case idSpecial:
			default:
				proper++
				if h.Date.Weekday() == time.Sunday { // its substitute is the next day off
					next := h.Date + 1
					for ; ; next++ {
						if n, ok := HolidayOn(next); !ok || n.ID == idSubstitute {
							break
						}
					}
					if n, ok := HolidayOn(next); !ok || n.ID != idSubstitute {
						t.Errorf("%d: %v on a Sunday has no substitute", year, h)
					}
				}
			}
		}
		if year < 2016 || year > 2026 {
			if proper != 16 {
				t.Errorf("%d: %d national holidays by the rules, want 16", year, proper)
			}
		}
	}
}

func holidaySet(hs []Holiday) map[kpi.Date]bool {
	m := make(map[kpi.Date]bool)
	for _, h := range hs {
		m[h.Date] = true
	}
	return m
}

func TestParseTable(t *testing.T) {
	const header = "国民の祝日・休日月日,国民の祝日・休日名称"
	good := "\uFEFF" + header + "\r\n2030/01/01,元日\r\n2030/1/14,成人の日\r\n2031/1/1,元日\r\n"
	tb, err := parseTable([]byte(good), namesCSV)
	if err != nil {
		t.Fatal(err)
	}
	if tb.first != 2030 || tb.last != 2031 || len(tb.years[2030]) != 2 || tb.years[2030][1].ID != idComingOfAge {
		t.Errorf("parsed %+v", tb)
	}
	for _, bad := range []string{
		"",
		"2030/1/1,元日\n2030/1/14,成人の日\n", // no header
		header + "\n",
		header + "\n2030/1/1,元日の日\n",
		header + "\n2030/2/30,元日\n",
		header + "\n2030-1-1,元日\n",
		header + "\n2030/1/1,元日,x\n",
		header + "\n2030/1/1,元日\n2030/1/1,元日\n",
		header + "\n2030/1/1,元日\n2032/1/1,元日\n", // 2031 missing
	} {
		if _, err := parseTable([]byte(bad), namesCSV); err == nil {
			t.Errorf("parseTable(%q) succeeded", bad)
		}
	}
	if _, err := parseTable([]byte(good), []byte("id,name\nnew_year,元日\n")); err == nil {
		t.Error("names without most IDs parsed")
	}
}

func TestHolidayOnConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for y := 2100 + g; y < 2160; y++ {
				Holidays(y)
				HolidayOn(kpi.NewDate(y, 5, 3))
			}
		})
	}
	wg.Wait()
	if h, ok := HolidayOn(kpi.NewDate(2150, 5, 3)); !ok || h.ID != idConstitution {
		t.Errorf("HolidayOn(2150-05-03) = %+v, %v", h, ok)
	}
}

func TestHolidaysIsACopy(t *testing.T) {
	hs := Holidays(2026)
	hs[0].ID = "changed"
	if h, _ := HolidayOn(kpi.NewDate(2026, 1, 1)); h.ID != idNewYear {
		t.Error("changing the result of Holidays changed the calendar")
	}
}

func BenchmarkHolidayOn(b *testing.B) {
	d := kpi.NewDate(2026, 1, 1)
	for i := 0; b.Loop(); i++ {
		HolidayOn(d + kpi.Date(i%3650))
	}
}
