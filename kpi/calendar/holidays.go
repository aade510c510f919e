package calendar

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the holiday table and names
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// Holiday is a national holiday or a day off that the holiday law makes.
//
// ID is stable and names the holiday for localized messages: new_year,
// coming_of_age, foundation, emperor, vernal_equinox, showa, constitution,
// greenery, children, marine, mountain, respect_aged, autumnal_equinox,
// sports (also 体育の日, its name until 2019), culture, labor_thanksgiving,
// substitute (振替休日: a holiday fell on a Sunday), citizens (国民の休日: a
// day between two holidays) and special (the one-off days off of 2019's
// enthronement). Name is the official Japanese name as the Cabinet Office
// writes it; substitute and citizens days are both named 休日.
type Holiday struct {
	Date kpi.Date
	ID   string
	Name string
}

// The holiday IDs the rules use.
const (
	idNewYear         = "new_year"
	idComingOfAge     = "coming_of_age"
	idFoundation      = "foundation"
	idEmperor         = "emperor"
	idVernalEquinox   = "vernal_equinox"
	idShowa           = "showa"
	idConstitution    = "constitution"
	idGreenery        = "greenery"
	idChildren        = "children"
	idMarine          = "marine"
	idMountain        = "mountain"
	idRespectAged     = "respect_aged"
	idAutumnalEquinox = "autumnal_equinox"
	idSports          = "sports"
	idCulture         = "culture"
	idLaborThanks     = "labor_thanksgiving"
	idSubstitute      = "substitute"
	idCitizens        = "citizens"
	idSpecial         = "special"
)

// HolidayIDs lists every ID a Holiday can have, for localized names.
var HolidayIDs = []string{idNewYear, idComingOfAge, idFoundation, idEmperor, idVernalEquinox, idShowa,
	idConstitution, idGreenery, idChildren, idMarine, idMountain, idRespectAged, idAutumnalEquinox, idSports,
	idCulture, idLaborThanks, idSubstitute, idCitizens, idSpecial}

// holidaysCSV is the Cabinet Office's table of holidays (内閣府「国民の祝日に
// ついて」, syukujitsu.csv) for the years it covers, converted from Shift_JIS
// to UTF-8. To update it, replace the file with the newly published one:
// every year it lists is taken from it, the others follow the rules.
//
//go:embed holidays.csv
var holidaysCSV []byte

// namesCSV maps the holiday IDs to the official names, one row per name a
// holiday has had; the first row of an ID is its current name, which the
// rules give. (Japanese text is kept out of Go code.)
//
//go:embed names.csv
var namesCSV []byte

// table is the parsed holiday table: the holidays of each year it covers.
type table struct {
	years map[int][]Holiday // sorted by date
	names map[string]string // ID -> current name
	first int               // the first and last year covered
	last  int
	sum   string // a short hash of the embedded data
}

var loadTable = sync.OnceValue(func() *table {
	t, err := parseTable(holidaysCSV, namesCSV)
	if err != nil {
		panic(fmt.Sprintf("calendar: embedded holiday table: %v", err)) // the tests prove it parses
	}
	return t
})

// parseTable reads the Cabinet Office table (UTF-8, with or without a byte
// order mark, LF or CRLF) and the names file.
func parseTable(holidays, names []byte) (*table, error) {
	t := &table{years: make(map[int][]Holiday), names: make(map[string]string)}
	byName := make(map[string]string) // name -> ID, with "休日" resolved later
	var dayOff string                 // the name shared by substitute and citizens days
	rows, err := readCSV(names, func(h []string) bool { return h[0] == "id" && h[1] == "name" })
	if err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	for _, r := range rows {
		id, name := r.fields[0], r.fields[1]
		if _, ok := t.names[id]; !ok {
			t.names[id] = name
		}
		if prev, ok := byName[name]; ok && prev != id {
			if !(prev == idSubstitute && id == idCitizens) {
				return nil, fmt.Errorf("names: line %d: %q names both %s and %s", r.line, name, prev, id)
			}
			dayOff = name
			continue
		}
		byName[name] = id
	}
	for _, id := range []string{idNewYear, idComingOfAge, idFoundation, idEmperor, idVernalEquinox, idShowa,
		idConstitution, idGreenery, idChildren, idMarine, idMountain, idRespectAged, idAutumnalEquinox,
		idSports, idCulture, idLaborThanks, idSubstitute, idCitizens, idSpecial} {
		if t.names[id] == "" {
			return nil, fmt.Errorf("names: no name for %s", id)
		}
	}

	// The header (国民の祝日・休日月日,国民の祝日・休日名称) is not a date.
	rows, err = readCSV(holidays, func(h []string) bool { _, err := parseSlashDate(h[0]); return err != nil })
	if err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	seen := make(map[kpi.Date]bool)
	for _, r := range rows {
		d, err := parseSlashDate(r.fields[0])
		if err != nil {
			return nil, fmt.Errorf("holidays: line %d: %w", r.line, err)
		}
		name := r.fields[1]
		id, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("holidays: line %d: unknown holiday name %q", r.line, name)
		}
		if seen[d] {
			return nil, fmt.Errorf("holidays: line %d: %s twice", r.line, d)
		}
		seen[d] = true
		y := d.Year()
		t.years[y] = append(t.years[y], Holiday{Date: d, ID: id, Name: name})
	}
	if len(t.years) == 0 {
		return nil, fmt.Errorf("holidays: no rows")
	}
	t.first, t.last = math.MaxInt, math.MinInt
	for y, list := range t.years {
		t.first, t.last = min(t.first, y), max(t.last, y)
		slices.SortFunc(list, func(a, b Holiday) int { return int(a.Date - b.Date) })
		// The table names substitute and citizens days alike: a day off that
		// follows a run of holidays with a Sunday in it is a substitute.
		for i := range list {
			if list[i].Name == dayOff {
				list[i].ID = classifyDayOff(list[i].Date, seen)
			}
		}
	}
	for y := t.first; y <= t.last; y++ {
		if len(t.years[y]) == 0 {
			return nil, fmt.Errorf("holidays: no rows for %d, between %d and %d", y, t.first, t.last)
		}
	}
	h := sha256.New()
	h.Write(holidays)
	h.Write(names)
	t.sum = hex.EncodeToString(h.Sum(nil))[:12]
	return t, nil
}

// classifyDayOff tells a substitute holiday from a citizens' holiday.
func classifyDayOff(d kpi.Date, holiday map[kpi.Date]bool) string {
	for p := d - 1; holiday[p]; p-- {
		if p.Weekday() == time.Sunday {
			return idSubstitute
		}
	}
	return idCitizens
}

type csvRow struct {
	line   int
	fields []string
}

// readCSV reads two-column CSV data whose first line is a header that
// isHeader accepts.
func readCSV(data []byte, isHeader func([]string) bool) ([]csvRow, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 2
	var out []csvRow
	for first := true; ; first = false {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) && !first {
				return out, nil
			}
			return nil, err
		}
		if first {
			if !isHeader(rec) {
				return nil, fmt.Errorf("no header: the first line is %q", strings.Join(rec, ","))
			}
			continue
		}
		line, _ := r.FieldPos(0)
		out = append(out, csvRow{line: line, fields: []string{strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])}})
	}
}

// parseSlashDate reads 2025/1/1 (leading zeros allowed).
func parseSlashDate(s string) (kpi.Date, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return 0, fmt.Errorf("bad date %q", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("bad date %q: %w", s, err)
		}
		n[i] = v
	}
	d := kpi.NewDate(n[0], time.Month(n[1]), n[2])
	if d.Year() != n[0] || int(d.Month()) != n[1] || d.Day() != n[2] {
		return 0, fmt.Errorf("bad date %q", s)
	}
	return d, nil
}

// yearHolidays are the holidays of one year, with an index by day of year.
type yearHolidays struct {
	list  []Holiday
	jan1  kpi.Date
	index [366]uint8 // 1 + the index in list of the holiday on that day, 0 for none
}

var years sync.Map // int -> *yearHolidays

func holidaysOf(year int) *yearHolidays {
	if v, ok := years.Load(year); ok {
		return v.(*yearHolidays)
	}
	t := loadTable()
	list, ok := t.years[year]
	if !ok {
		list = ruleHolidays(year, t.names)
	}
	y := &yearHolidays{list: list, jan1: kpi.NewDate(year, time.January, 1)}
	for i, h := range list {
		y.index[h.Date-y.jan1] = uint8(i + 1)
	}
	v, _ := years.LoadOrStore(year, y)
	return v.(*yearHolidays)
}

// HolidayOn returns the holiday on d, if d is one.
//
// Days of the years the Cabinet Office table covers (2016–2026) come from
// the table. Other years follow the rules of the holiday law as it stands
// today (国民の祝日に関する法律): correct for the years after the table as
// long as the law and the equinox approximation hold, and an approximation
// for the years before 2016, which ignores the law's past versions (no
// 山の日 before 2016, 天皇誕生日 on 12/23 until 2018, 体育の日 on 10/10 until
// 1999, ...).
func HolidayOn(d kpi.Date) (Holiday, bool) {
	y := holidaysOf(d.Year())
	i := y.index[d-y.jan1]
	if i == 0 {
		return Holiday{}, false
	}
	return y.list[i-1], true
}

// Holidays returns the holidays of year, sorted by date (see HolidayOn for
// where they come from).
func Holidays(year int) []Holiday {
	return slices.Clone(holidaysOf(year).list)
}

// ruleHolidays returns the holidays of year by the current law, named with
// names (ID -> name).
func ruleHolidays(year int, names map[string]string) []Holiday {
	jan1 := kpi.NewDate(year, time.January, 1)
	days := int(kpi.NewDate(year+1, time.January, 1) - jan1)
	ids := make([]string, days)
	set := func(m time.Month, d int, id string) { ids[kpi.NewDate(year, m, d)-jan1] = id }
	monday := func(m time.Month, n int) int { // the day of the nth Monday of m
		first := kpi.NewDate(year, m, 1)
		return 1 + (int(time.Monday)-int(first.Weekday())+7)%7 + 7*(n-1)
	}
	set(time.January, 1, idNewYear)
	set(time.January, monday(time.January, 2), idComingOfAge)
	set(time.February, 11, idFoundation)
	set(time.February, 23, idEmperor)
	set(time.March, equinox(year, 20.8431), idVernalEquinox)
	set(time.April, 29, idShowa)
	set(time.May, 3, idConstitution)
	set(time.May, 4, idGreenery)
	set(time.May, 5, idChildren)
	set(time.July, monday(time.July, 3), idMarine)
	set(time.August, 11, idMountain)
	set(time.September, monday(time.September, 3), idRespectAged)
	set(time.September, equinox(year, 23.2488), idAutumnalEquinox)
	set(time.October, monday(time.October, 2), idSports)
	set(time.November, 3, idCulture)
	set(time.November, 23, idLaborThanks)

	// 国民の休日 (article 3.3): a day that is not a national holiday, between
	// two national holidays, is a day off. Only the holidays proper count as
	// neighbours, so this looks at them before substitutes are added.
	proper := slices.Clone(ids)
	for i := 1; i+1 < days; i++ {
		if proper[i] == "" && proper[i-1] != "" && proper[i+1] != "" {
			ids[i] = idCitizens
		}
	}
	// 振替休日 (article 3.2): a holiday on a Sunday makes the nearest
	// following day that is not a national holiday a day off. A holiday on
	// the last Sunday of the year (none today) would move into the next
	// year: ignored.
	for i := range days {
		if proper[i] == "" || (jan1+kpi.Date(i)).Weekday() != time.Sunday {
			continue
		}
		j := i + 1
		for j < days && proper[j] != "" {
			j++
		}
		if j < days {
			ids[j] = idSubstitute // also if it is a citizens' day already
		}
	}

	var out []Holiday
	for i, id := range ids {
		if id != "" {
			out = append(out, Holiday{Date: jan1 + kpi.Date(i), ID: id, Name: names[id]})
		}
	}
	return out
}

// equinox returns the day of the equinox in March (base 20.8431) or
// September (base 23.2488) of year, by the usual approximation, valid from
// 1980 to 2099; the Cabinet Office fixes the dates a year ahead from the
// National Astronomical Observatory's ephemeris.
func equinox(year int, base float64) int {
	n := float64(year - 1980)
	return int(math.Floor(base + 0.242194*n - math.Floor(n/4)))
}
