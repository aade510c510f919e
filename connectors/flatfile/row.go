package flatfile

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"
)

// Row is one record of a file. Its getters read a field's value by the
// field's name; a value that does not parse is kept as an error of the
// row (Err), and the getter returns the zero value.
type Row struct {
	Line int // the line the row starts on, from 1

	fr   *Reader
	rec  []string
	errs []error // each a *RowError
}

// Has reports whether the file has the named field's column.
func (r *Row) Has(name string) bool { return r.fr.Has(name) }

// Text returns the named field's value with the spaces around it trimmed;
// "" when the file lacks the column.
func (r *Row) Text(name string) string {
	f := r.fr.field(name)
	if f.col < 0 {
		return ""
	}
	return strings.TrimSpace(r.rec[f.col])
}

// Int returns the named field's value as a whole number (see ParseInt); 0
// when it is empty.
func (r *Row) Int(name string) int64 {
	s := r.Text(name)
	if s == "" {
		return 0
	}
	n, err := ParseInt(s)
	if err != nil {
		r.Fail(name, err)
	}
	return n
}

// Time returns the named field's value as a time (see ParseTime), in loc
// when the value names no zone; the zero time when it is empty.
func (r *Row) Time(name string, loc *time.Location) time.Time {
	s := r.Text(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s, loc)
	if err != nil {
		r.Fail(name, err)
	}
	return t
}

// Fail rejects the row for a reason found in the named field's value.
func (r *Row) Fail(name string, reason error) {
	col := ""
	if f := r.fr.field(name); f.col >= 0 {
		col = r.fr.Header[f.col]
	}
	r.errs = append(r.errs, &RowError{Line: r.Line, Column: col, Err: reason})
}

// Err returns the row's error: nil when every value read so far parsed,
// else a *RowError, or several joined (errors.As finds the first).
func (r *Row) Err() error {
	if len(r.errs) == 1 {
		return r.errs[0]
	}
	return errors.Join(r.errs...)
}

// thousands is a whole number with its thousands grouped by commas.
var thousands = regexp.MustCompile(`^[+-]?[0-9]{1,3}(,[0-9]{3})+$`)

// ParseInt parses a whole number: ASCII or full-width digits, a sign, and
// commas between thousands (1,234).
func ParseInt(s string) (int64, error) {
	n := width.Narrow.String(strings.TrimSpace(s))
	if thousands.MatchString(n) {
		n = strings.ReplaceAll(n, ",", "")
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a whole number: %q", s)
	}
	return v, nil
}

// timeLayouts are the layouts ParseTime tries, after "/" became "-" and a
// "T" between date and time a space. A layout without a zone is read in the
// caller's location.
var timeLayouts = []string{
	"2006-1-2 15:04:05Z07:00",
	"2006-1-2 15:04:05Z0700",
	"2006-1-2 15:04:05 Z07:00",
	"2006-1-2 15:04:05 Z0700",
	"2006-1-2 15:04Z07:00",
	"2006-1-2 15:04:05",
	"2006-1-2 15:04",
	"2006-1-2",
	"2006年1月2日 15:04:05",
	"2006年1月2日 15:04",
	"2006年1月2日",
}

// zoneNames are the zone abbreviations ParseTime knows after a time.
var zoneNames = map[string]*time.Location{
	"JST": time.FixedZone("JST", 9*60*60),
	"UTC": time.UTC,
	"GMT": time.UTC,
}

// ParseTime parses a date or a date and time as exports write them:
// 2026-11-20, 2026/11/20, 2026年11月20日, each with or without a time
// (09:00 or 09:00:00, after a space or a T, seconds perhaps with a
// fraction) and a zone (Z, +09:00, +0900, or JST, UTC, GMT after a space).
// Digits may be full-width. A value without a zone is in loc; a date alone
// is its midnight.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	v := width.Narrow.String(strings.TrimSpace(s))
	if i := strings.LastIndexByte(v, ' '); i > 0 {
		if l, known := zoneNames[strings.ToUpper(v[i+1:])]; known {
			v, loc = strings.TrimSpace(v[:i]), l
		}
	}
	v = strings.ReplaceAll(v, "/", "-")
	if len(v) > 10 {
		if i := strings.IndexByte(v, 'T'); i >= 8 && i <= 10 {
			v = v[:i] + " " + v[i+1:]
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date or time: %q", s)
}
