// Package flatfile reads the tab- or comma-separated files marketplaces, ERPs and forwarders export: UTF-8 or Shift_JIS, English or Japanese headers.
//
// A file is read whole: its encoding is detected from all of its bytes
// (UTF-8, with or without a byte order mark; else Shift_JIS as Windows
// writes it, CP932; UTF-16 with a byte order mark, as Excel saves "Unicode
// text"), its delimiter from its header line (a tab or a comma). The caller
// names the fields it wants and the headers each may have; a field's
// headers match case- and width-insensitively, and a space or an
// underscore matches a hyphen ("Order ID" is "order-id"). Columns nobody
// asked for are never read.
//
// A row that cannot be read (a wrong number of columns, a broken quote) or
// whose values do not parse is a *RowError naming its line, column and
// reason; the rows after it are read on.
package flatfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/width"
)

// Encoding is how a file's text was encoded.
type Encoding string

// The encodings a Reader detects.
const (
	UTF8     Encoding = "UTF-8"
	UTF8BOM  Encoding = "UTF-8 with BOM"
	ShiftJIS Encoding = "Shift_JIS" // CP932 (Windows-31J), a superset
	UTF16    Encoding = "UTF-16"    // with a byte order mark only
)

// Need says what a field asks of a file.
type Need int

const (
	// Optional: the file may lack the column; its values then read as "".
	Optional Need = iota
	// Present: the file must have the column; a row's value may be empty.
	Present
	// Required: the file must have the column, and every row a value in it.
	Required
)

// Field is a column the caller wants.
type Field struct {
	Name    string   // the caller's key for it, e.g. "returned"
	Headers []string // the header names it may have, e.g. "return-date", "返品日"
	Need    Need
}

// Reader reads the rows of one file.
type Reader struct {
	Encoding Encoding
	Comma    rune     // '\t' or ','
	Header   []string // the header line's columns as the file has them

	csv    *csv.Reader
	fields map[string]field // by Field.Name
	order  []string         // the field names in the order given
}

// field is a requested field and where the file has it.
type field struct {
	Field
	col int // the column's index; -1 when the file lacks it
}

// NewReader reads all of r, decodes it, detects its delimiter and reads its
// header line, mapping fields to columns. A file that lacks columns that
// fields need is a *HeaderError naming all of them. A field name given
// twice, or a header name given to two fields, is a programming error: it
// panics.
func NewReader(r io.Reader, fields []Field) (*Reader, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("flatfile: read: %w", err)
	}
	text, enc, err := Decode(data)
	if err != nil {
		return nil, err
	}
	fr := &Reader{Encoding: enc, Comma: delimiter(text), fields: make(map[string]field, len(fields))}
	fr.csv = csv.NewReader(strings.NewReader(text))
	fr.csv.Comma = fr.Comma
	fr.csv.FieldsPerRecord = -1 // checked per row by Read
	fr.csv.LazyQuotes = false
	fr.Header, err = fr.csv.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("flatfile: the file is empty: no header line")
	}
	if err != nil {
		return nil, fmt.Errorf("flatfile: header line: %w", err)
	}
	if err := fr.mapFields(fields); err != nil {
		return nil, err
	}
	return fr, nil
}

// mapFields finds each field's column in the header line.
func (fr *Reader) mapFields(fields []Field) error {
	cols := make(map[string]int, len(fr.Header)) // a normalized header → its first column
	for i, h := range fr.Header {
		k := normalizeHeader(h)
		if _, dup := cols[k]; !dup {
			cols[k] = i
		}
	}
	names := map[string]string{} // a normalized header name → the field that has it
	herr := &HeaderError{Encoding: fr.Encoding, Comma: fr.Comma}
	for _, f := range fields {
		if _, dup := fr.fields[f.Name]; dup || f.Name == "" {
			panic(fmt.Sprintf("flatfile: field %q given twice or unnamed", f.Name))
		}
		ff := field{Field: f, col: -1}
		for _, h := range f.Headers {
			k := normalizeHeader(h)
			if other, dup := names[k]; dup && other != f.Name {
				panic(fmt.Sprintf("flatfile: header %q given to fields %q and %q", h, other, f.Name))
			}
			names[k] = f.Name
			if i, ok := cols[k]; ok && (ff.col < 0 || i < ff.col) {
				ff.col = i // the leftmost column that is the field
			}
		}
		if ff.col < 0 && f.Need != Optional {
			herr.Missing = append(herr.Missing, strings.Join(f.Headers, " / "))
		}
		fr.fields[f.Name] = ff
		fr.order = append(fr.order, f.Name)
	}
	if len(herr.Missing) > 0 {
		return herr
	}
	return nil
}

// Has reports whether the file has the named field's column.
func (fr *Reader) Has(name string) bool { return fr.field(name).col >= 0 }

func (fr *Reader) field(name string) field {
	f, ok := fr.fields[name]
	if !ok {
		panic(fmt.Sprintf("flatfile: no field %q", name))
	}
	return f
}

// Read returns the next row, or io.EOF after the last. A row that cannot be
// read, has a different number of columns than the header line, or lacks
// a Required value is rejected: its error is a *RowError, or several of
// one row joined (errors.As finds the first), and the next Read goes on
// after it. Any other error ends the file.
func (fr *Reader) Read() (*Row, error) {
	rec, err := fr.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{Line: pe.StartLine, Err: pe.Err}
		}
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("flatfile: %w", err)
	}
	line, _ := fr.csv.FieldPos(0)
	if len(rec) != len(fr.Header) {
		return nil, &RowError{Line: line, Err: fmt.Errorf("%d columns, the header line has %d", len(rec), len(fr.Header))}
	}
	row := &Row{Line: line, fr: fr, rec: rec}
	for _, name := range fr.order {
		if f := fr.fields[name]; f.Need == Required && row.Text(name) == "" {
			row.Fail(name, errors.New("empty"))
		}
	}
	if err := row.Err(); err != nil {
		return nil, err
	}
	return row, nil
}

// Decode returns data as UTF-8 text without a byte order mark, and the
// encoding it was in: UTF-8 when its bytes are valid UTF-8, UTF-16 when it
// starts with UTF-16's byte order mark, else Shift_JIS (CP932). Bytes that
// are not Shift_JIS either read as U+FFFD.
func Decode(data []byte) (string, Encoding, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) && utf8.Valid(data[3:]):
		return string(data[3:]), UTF8BOM, nil
	case utf8.Valid(data):
		return string(data), UTF8, nil
	case bytes.HasPrefix(data, []byte("\xFF\xFE")) || bytes.HasPrefix(data, []byte("\xFE\xFF")):
		b, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", "", fmt.Errorf("flatfile: decode UTF-16: %w", err)
		}
		return string(b), UTF16, nil
	}
	b, err := japanese.ShiftJIS.NewDecoder().Bytes(data)
	if err != nil {
		return "", "", fmt.Errorf("flatfile: decode Shift_JIS: %w", err)
	}
	return string(b), ShiftJIS, nil
}

// delimiter returns the delimiter of text's header line: a tab if it has
// at least as many tabs as commas, and some; else a comma.
func delimiter(text string) rune {
	header, _, _ := strings.Cut(text, "\n")
	if tabs := strings.Count(header, "\t"); tabs > 0 && tabs >= strings.Count(header, ",") {
		return '\t'
	}
	return ','
}

// normalizeHeader folds a header name for matching: trimmed, narrow
// (full-width letters and digits are ASCII, half-width katakana are
// full-width), lower case, a space or an underscore a hyphen.
func normalizeHeader(h string) string {
	h = strings.TrimSpace(width.Fold.String(h))
	h = strings.ToLower(h)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' {
			return '-'
		}
		return r
	}, h)
}

// HeaderError is a header line that lacks columns the caller needs.
type HeaderError struct {
	Missing  []string // each missing field's header names, joined by " / "
	Encoding Encoding // how the file was read, for the message
	Comma    rune
}

func (e *HeaderError) Error() string {
	sep := "comma"
	if e.Comma == '\t' {
		sep = "tab"
	}
	return fmt.Sprintf("flatfile: missing columns: %s (the file was read as %s, %s-separated)",
		strings.Join(e.Missing, ", "), e.Encoding, sep)
}

// RowError is a row that was rejected.
type RowError struct {
	Line   int    // the line the row starts on, from 1
	Column string // the column's header as the file has it; "" for the whole row
	Err    error  // the reason
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %q: %v", e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }
