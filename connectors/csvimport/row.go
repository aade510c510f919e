package csvimport

import (
	"strings"
	"time"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// row reads the values of one row by field name and collects the reasons
// to reject it. A getter whose value does not parse records a RowError and
// returns the zero value; the row is then rejected, with every reason
// found.
type row struct {
	im   *importer
	fr   *flatfile.Row
	errs []RowError
}

func (r *row) reset(fr *flatfile.Row) {
	r.fr = fr
	r.errs = r.errs[:0]
}

func (r *row) shop() string { return r.im.shop }

// fail rejects the row for a reason found in the named field.
func (r *row) fail(name, key string, args map[string]any) {
	col := ""
	if c, ok := r.im.cols[name]; ok {
		col = r.im.fr.Header[c]
	}
	r.errs = append(r.errs, RowError{Line: r.fr.Line, Column: col, Key: key, Args: args})
}

// header returns the named field's header as the file writes it, for a
// message that names another column.
func (r *row) header(name string) string {
	if c, ok := r.im.cols[name]; ok {
		return r.im.fr.Header[c]
	}
	return name
}

// text returns the named field's value, trimmed; "" when the file lacks
// the column.
func (r *row) text(name string) string { return r.fr.Text(name) }

// need returns the named field's value, rejecting the row when it is empty.
func (r *row) need(name string) string {
	v := r.text(name)
	if v == "" {
		r.fail(name, "cli.import_empty", nil)
	}
	return v
}

// time returns the named field's value as a time in the importer's
// location; the zero time when it is empty, which rejects the row when
// the value is needed.
func (r *row) time(name string, need bool) time.Time {
	v := r.text(name)
	if v == "" {
		if need {
			r.fail(name, "cli.import_empty", nil)
		}
		return time.Time{}
	}
	t, ok := parseTime(v, r.im.loc)
	if !ok {
		r.fail(name, "cli.import_not_date", map[string]any{"Value": v})
	}
	return t
}

// notBefore rejects the row when the named field's time t is before the
// time of the field other.
func (r *row) notBefore(name string, t time.Time, other string, o time.Time) {
	if !t.IsZero() && !o.IsZero() && t.Before(o) {
		r.fail(name, "cli.import_before", map[string]any{"Value": r.text(name), "Other": r.header(other)})
	}
}

// count returns the named field's value as a whole number of zero or
// more; 0 when it is empty.
func (r *row) count(name string) int64 {
	v := r.text(name)
	if v == "" {
		return 0
	}
	n, ok := parseInt(v)
	switch {
	case !ok:
		r.fail(name, "cli.import_not_number", map[string]any{"Value": v})
	case n < 0:
		r.fail(name, "cli.import_negative", map[string]any{"Value": v})
	}
	return n
}

// amount returns the named field's value as an amount of money of zero or
// more (¥1,980, 1980円, 1980.00); 0 when it is empty, which rejects the row
// when the value is needed.
func (r *row) amount(name string, need bool) int64 {
	v := r.text(name)
	if v == "" {
		if need {
			r.fail(name, "cli.import_empty", nil)
		}
		return 0
	}
	n, ok := parseAmount(v)
	switch {
	case !ok:
		r.fail(name, "cli.import_not_amount", map[string]any{"Value": v})
	case n < 0:
		r.fail(name, "cli.import_negative", map[string]any{"Value": v})
	}
	return n
}

// flag returns the named field's value as yes or no; no when it is empty.
func (r *row) flag(name string) bool {
	v := r.text(name)
	if v == "" {
		return false
	}
	b, ok := yesNo[fold(v)]
	if !ok {
		r.fail(name, "cli.import_not_yes_no", map[string]any{"Value": v})
	}
	return b
}

// word returns what the named field's value means in words, a table of
// folded words; def when it is empty. A value the table lacks rejects the
// row with key.
func word[T any](r *row, name string, words map[string]T, def T, key string) T {
	v := r.text(name)
	if v == "" {
		return def
	}
	w, ok := words[v] // most values are written as the table has them
	if !ok {
		w, ok = words[fold(v)]
	}
	if !ok {
		r.fail(name, key, map[string]any{"Value": v})
		return def
	}
	return w
}

// customer returns the named field's value hashed into an opaque customer
// reference, the same for the same shop and value in every file; "" when
// it is empty. The value itself is never kept.
func (r *row) customer(name string) string {
	return kpi.CustomerRef("csvimport", r.shop(), strings.ToLower(r.text(name)))
}

// claim records that this row has the record with key, the key's field
// being name, and reports whether the row may be written: it has no
// problem, and no row before it had the same key. (Two rows of one key
// would make the second overwrite the first, and a second import of the
// file report the first as updated.)
func (r *row) claim(name, key string) bool {
	if len(r.errs) > 0 {
		return false
	}
	if first, dup := r.im.seen[key]; dup {
		r.fail(name, "cli.import_duplicate", map[string]any{"First": first})
		return false
	}
	r.im.seen[strings.Clone(key)] = r.fr.Line // not the row's text, which the key is part of
	return true
}
