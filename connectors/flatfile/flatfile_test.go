package flatfile

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

var jst = time.FixedZone("JST", 9*60*60)

// returnFields are the fields the tests ask for.
var returnFields = []Field{
	{Name: "date", Headers: []string{"return-date", "返品日"}, Need: Required},
	{Name: "order", Headers: []string{"order-id", "注文番号"}, Need: Required},
	{Name: "units", Headers: []string{"quantity", "数量"}, Need: Present},
	{Name: "reason", Headers: []string{"reason", "返品理由"}},
}

// render reads every field of a row: the date and the units parsed, the
// others as text.
func render(r *Row) string {
	d := r.Time("date", jst)
	n := r.Int("units")
	return fmt.Sprintf("%d: %s %s %d %q", r.Line, d.Format(time.RFC3339), r.Text("order"), n, r.Text("reason"))
}

func sjis(t testing.TB, s string) string {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode Shift_JIS: %v", err)
	}
	return b
}

func utf16le(t testing.TB, s string) string {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode UTF-16: %v", err)
	}
	return b
}

// readAll reads every row of data, rendering rows with render and
// rejected rows as their error.
func readAll(t *testing.T, data string, fields []Field) (*Reader, []string, error) {
	t.Helper()
	fr, err := NewReader(strings.NewReader(data), fields)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for {
		row, err := fr.Read()
		if errors.Is(err, io.EOF) {
			return fr, out, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			out = append(out, err.Error())
			continue
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		s := render(row)
		if err := row.Err(); err != nil {
			s = err.Error()
		}
		out = append(out, s)
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		enc   Encoding
		comma rune
		want  []string
	}{{
		name:  "UTF-8 with BOM, commas",
		data:  "\uFEFFreturn-date,order-id,quantity,reason\r\n2026-11-20,503-1,2,DEFECTIVE\r\n",
		enc:   UTF8BOM,
		comma: ',',
		want:  []string{`2: 2026-11-20T00:00:00+09:00 503-1 2 "DEFECTIVE"`},
	}, {
		name:  "UTF-8, tabs, columns in another order and one not asked for",
		data:  "sku\torder-id\treturn-date\tquantity\nA\t503-1\t2026-11-20T09:00:00+09:00\t1\n",
		enc:   UTF8,
		comma: '\t',
		want:  []string{`2: 2026-11-20T09:00:00+09:00 503-1 1 ""`},
	}, {
		name:  "Shift_JIS with Japanese headers and a full-width number",
		data:  sjis(t, "返品日\t注文番号\t数量\t返品理由\t商品名\n2026/11/20 09:00\t503-2\t１２\t不良品\tワイヤレスイヤホン\n"),
		enc:   ShiftJIS,
		comma: '\t',
		want:  []string{`2: 2026-11-20T09:00:00+09:00 503-2 12 "不良品"`},
	}, {
		name:  "UTF-16 with a byte order mark, as Excel saves Unicode text",
		data:  utf16le(t, "返品日\t注文番号\t数量\n2026-11-20\t503-3\t1\n"),
		enc:   UTF16,
		comma: '\t',
		want:  []string{`2: 2026-11-20T00:00:00+09:00 503-3 1 ""`},
	}, {
		name:  "headers in another case and width, with spaces",
		data:  "Return Date,ＯＲＤＥＲ＿ＩＤ, Quantity \n2026-11-20,503-4,\"1,234\"\n",
		enc:   UTF8,
		comma: ',',
		want:  []string{`2: 2026-11-20T00:00:00+09:00 503-4 1234 ""`},
	}, {
		name:  "a quoted field with a newline, a tab and quotes: rows keep their first line",
		data:  "return-date\torder-id\tquantity\treason\n2026-11-20\t503-5\t1\t\"too \"\"big\"\"\n\tsee photo\"\n2026-11-21\t503-6\t1\tOK\n",
		enc:   UTF8,
		comma: '\t',
		want: []string{
			"2: 2026-11-20T00:00:00+09:00 503-5 1 \"too \\\"big\\\"\\n\\tsee photo\"",
			`4: 2026-11-21T00:00:00+09:00 503-6 1 "OK"`,
		},
	}, {
		name:  "a wrong column count rejects the row alone",
		data:  "return-date,order-id,quantity\n2026-11-20,503-7,1\n2026-11-20,503-8\n2026-11-20,503-9,1,extra\n2026-11-22,503-10,3\n",
		enc:   UTF8,
		comma: ',',
		want: []string{
			`2: 2026-11-20T00:00:00+09:00 503-7 1 ""`,
			"line 3: 2 columns, the header line has 3",
			"line 4: 4 columns, the header line has 3",
			`5: 2026-11-22T00:00:00+09:00 503-10 3 ""`,
		},
	}, {
		name:  "a malformed date and number name their line and column",
		data:  "返品日,注文番号,数量\n2026-13-45,503-11,1\n2026-11-20,503-12,1.5\n2026-11-20,503-13,1\n",
		enc:   UTF8,
		comma: ',',
		want: []string{
			`line 2, column "返品日": not a date or time: "2026-13-45"`,
			`line 3, column "数量": not a whole number: "1.5"`,
			`4: 2026-11-20T00:00:00+09:00 503-13 1 ""`,
		},
	}, {
		name:  "a required value missing",
		data:  "return-date,order-id,quantity\n2026-11-20,,\n2026-11-20,503-14,\n",
		enc:   UTF8,
		comma: ',',
		want: []string{
			`line 2, column "order-id": empty`,
			`3: 2026-11-20T00:00:00+09:00 503-14 0 ""`,
		},
	}, {
		name:  "a bare quote rejects the row, the next is read",
		data:  "return-date\torder-id\tquantity\n2026-11-20\t503-15 \"x\"\t1\n2026-11-20\t503-16\t1\n",
		enc:   UTF8,
		comma: '\t',
		want: []string{
			`line 2: bare " in non-quoted-field`,
			`3: 2026-11-20T00:00:00+09:00 503-16 1 ""`,
		},
	}, {
		name:  "a header line alone",
		data:  "return-date,order-id,quantity",
		enc:   UTF8,
		comma: ',',
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, got, err := readAll(t, tt.data, returnFields)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if fr.Encoding != tt.enc || fr.Comma != tt.comma {
				t.Errorf("encoding %s, comma %q; want %s, %q", fr.Encoding, fr.Comma, tt.enc, tt.comma)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReaderHas(t *testing.T) {
	fr, err := NewReader(strings.NewReader("order-id,return-date,quantity\n503-1,2026-11-20,1\n"), returnFields)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"order": true, "date": true, "reason": false} {
		if got := fr.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestReaderHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{{
		name: "every missing column named at once",
		data: "sku,quantity\nA,1\n",
		want: `flatfile: missing columns: return-date / 返品日, order-id / 注文番号 (the file was read as UTF-8, comma-separated)`,
	}, {
		name: "a Present column missing",
		data: "返品日\t注文番号\nx\ty\n",
		want: `flatfile: missing columns: quantity / 数量 (the file was read as UTF-8, tab-separated)`,
	}, {
		name: "empty",
		data: "",
		want: "flatfile: the file is empty: no header line",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.data), returnFields)
			if err == nil || err.Error() != tt.want {
				t.Errorf("NewReader: %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		data string
		text string
		enc  Encoding
	}{
		{"ASCII", "sku,qty", "sku,qty", UTF8},
		{"UTF-8", "商品名", "商品名", UTF8},
		{"UTF-8 with BOM", "\uFEFF商品名", "商品名", UTF8BOM},
		{"Shift_JIS", sjis(t, "商品名\t①髙～"), "商品名\t①髙～", ShiftJIS},
		{"UTF-16", utf16le(t, "商品名"), "商品名", UTF16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, enc, err := Decode([]byte(tt.data))
			if err != nil || text != tt.text || enc != tt.enc {
				t.Errorf("Decode = %q, %s, %v; want %q, %s", text, enc, err, tt.text, tt.enc)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339; "" for an error
	}{
		{"2026-11-20", "2026-11-20T00:00:00+09:00"},
		{"2026/11/20", "2026-11-20T00:00:00+09:00"},
		{"2026/1/5", "2026-01-05T00:00:00+09:00"},
		{"2026年11月20日", "2026-11-20T00:00:00+09:00"},
		{"２０２６/１１/２０ ０９:００", "2026-11-20T09:00:00+09:00"},
		{"2026/11/20 09:00", "2026-11-20T09:00:00+09:00"},
		{"2026-11-20 09:00:30", "2026-11-20T09:00:30+09:00"},
		{"2026-11-20T09:00:00+09:00", "2026-11-20T09:00:00+09:00"},
		{"2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"},
		{"2026-11-20T00:00:00.123Z", "2026-11-20T00:00:00.123Z"},
		{"2026-11-20T09:00:00+0900", "2026-11-20T09:00:00+09:00"},
		{"2026-11-20 09:00:00 JST", "2026-11-20T09:00:00+09:00"},
		{"2026-11-20 00:00:00 UTC", "2026-11-20T00:00:00Z"},
		{" 2026-11-20 ", "2026-11-20T00:00:00+09:00"},
		{"2026-13-45", ""},
		{"2026-11-20T25:00", ""},
		{"20/11/2026", ""},
		{"yesterday", ""},
		{"2026-11-20 09:00:00 PST", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, jst)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseTime(%q) = %v, want an error", tt.in, got)
		case tt.want != "" && err != nil:
			t.Errorf("ParseTime(%q): %v", tt.in, err)
		case tt.want != "" && got.Format(time.RFC3339Nano) != tt.want:
			t.Errorf("ParseTime(%q) = %s, want %s", tt.in, got.Format(time.RFC3339Nano), tt.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"12", 12, true},
		{"-3", -3, true},
		{"1,234", 1234, true},
		{"1,234,567", 1234567, true},
		{"１２", 12, true},
		{"１，２３４", 1234, true},
		{" 7 ", 7, true},
		{"1,23", 0, false},
		{"12,", 0, false},
		{"1.5", 0, false},
		{"abc", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseInt(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFieldsMisgiven(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
	}{
		{"a name twice", []Field{{Name: "a", Headers: []string{"x"}}, {Name: "a", Headers: []string{"y"}}}},
		{"a header for two fields", []Field{{Name: "a", Headers: []string{"Order ID"}}, {Name: "b", Headers: []string{"order-id"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewReader(strings.NewReader("x,y\n"), tt.fields)
		})
	}
}

// FuzzReader reads whatever bytes as a file, parsing every field of every
// row: it must never panic, and a row is either read or rejected with its
// line.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"return-date,order-id,quantity\n2026-11-20,503-1,1\n",
		"\uFEFF返品日\t注文番号\t数量\n2026/11/20 09:00\t503-1\t１，２３４\n",
		"return-date\torder-id\tquantity\n\"2026-11-20\n\"\t\"a\"\"b\"\t1\n2026\t\"open\n",
		sjis(f, "返品日\t注文番号\t数量\t返品理由\n2026年11月20日\t503-2\t1\t\"サイズ\n違い\"\n"),
		"\xFF\xFEr\x00,\x00",
		"order-id,return-date\n,,,\n\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := NewReader(strings.NewReader(string(data)), returnFields)
		if err != nil {
			return
		}
		for range 1 << 16 {
			row, err := fr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.Line < 1 {
					t.Fatalf("row error without a line: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			render(row)
			if row.Line < 2 {
				t.Fatalf("row on line %d, before the header's end", row.Line)
			}
		}
		t.Fatal("no end after 65536 reads")
	})
}
