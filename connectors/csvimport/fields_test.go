package csvimport

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kpibot/kpibot/connectors/flatfile"
)

// Every default header of a kind maps to its own field (no two fields
// share one, which would make flatfile panic), and none reads as personal
// data.
func TestDefaultHeaders(t *testing.T) {
	for _, kind := range Kinds {
		s := specs[kind]
		most := 0
		for _, fd := range s.fields {
			most = max(most, len(fd.Headers))
		}
		// Header lines of the i-th name of each field.
		for i := range most {
			header := make([]string, len(s.fields))
			for j, fd := range s.fields {
				header[j] = fd.Headers[min(i, len(fd.Headers)-1)]
				if strings.ContainsAny(header[j], ",\t\"") {
					t.Fatalf("%s.%s: header %q has a delimiter or a quote", kind, fd.Name, header[j])
				}
				if isPersonal(header[j]) {
					t.Errorf("%s.%s: header %q reads as personal data", kind, fd.Name, header[j])
				}
			}
			line := strings.Join(header, ",") + "\n"
			fr, err := flatfile.NewReader(strings.NewReader(line), s.fields)
			if err != nil {
				t.Fatalf("%s: %q: %v", kind, line, err)
			}
			cols := columns(fr.Header, s.fields)
			for j, fd := range s.fields {
				if c, ok := cols[fd.Name]; !ok || c != j {
					t.Errorf("%s: in %q, field %s is column %d (found %v), want %d", kind, line, fd.Name, c, ok, j)
				}
			}
		}
	}
}

// The caller's headers are added to a field, taken from the field that has
// them by default, and replace a field's defaults when the file has them.
func TestSpecWith(t *testing.T) {
	s := specs[Orders]
	headersOf := func(fields []flatfile.Field, name string) []string {
		for _, fd := range fields {
			if fd.Name == name {
				return fd.Headers
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	tests := []struct {
		name  string
		extra map[string][]string
		line  string
		field string
		has   []string // headers the field has
		lacks []string // headers it does not have
	}{
		{"added", map[string][]string{"placed": {"下单日期"}}, "", "placed", []string{"下单日期", "下单时间"}, nil},
		{"taken from another field", map[string][]string{"channel": {"Status"}}, "", "status", []string{"订单状态"}, []string{"status"}},
		{"replacing when in the file", map[string][]string{"id": {"平台订单号"}}, "订单号,平台订单号\n", "id", []string{"平台订单号"}, []string{"订单号"}},
		{"added when not in the file", map[string][]string{"id": {"单号"}}, "订单号\n", "id", []string{"单号", "订单号"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var line []byte
			if tt.line != "" {
				line = []byte(tt.line)
			}
			fields, err := s.with(Orders, tt.extra, line)
			if err != nil {
				t.Fatal(err)
			}
			got := headersOf(fields, tt.field)
			for _, h := range tt.has {
				if !containsFold(got, h) {
					t.Errorf("%s has %q, not %q", tt.field, got, h)
				}
			}
			for _, h := range tt.lacks {
				if containsFold(got, h) {
					t.Errorf("%s has %q, with %q", tt.field, got, h)
				}
			}
			if _, err := flatfile.NewReader(bytes.NewReader([]byte("x\n")), fields); err != nil {
				if _, ok := err.(*flatfile.HeaderError); !ok {
					t.Errorf("NewReader: %v", err)
				}
			}
		})
	}
}

func containsFold(headers []string, h string) bool {
	for _, x := range headers {
		if normalizeHeader(x) == normalizeHeader(h) {
			return true
		}
	}
	return false
}

func TestIsPersonal(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Buyer Name", true},
		{"ship-to-name", true},
		{"Ship To Address 1", true},
		{"buyer-email", true},
		{"E-mail", true},
		{"Phone", true},
		{"TEL番号", true},
		{"ＴＥＬ", true},
		{"Zip Code", true},
		{"收件人", true},
		{"收货地址", true},
		{"买家姓名", true},
		{"手机号", true},
		{"邮编", true},
		{"お名前", true},
		{"注文者氏名", true},
		{"送付先住所", true},
		{"メールアドレス", true},
		{"電話番号", true},
		{"郵便番号", true},
		{"Product Name", false},
		{"Campaign Name", false},
		{"Hotel", false},
		{"商品名", false},
		{"店铺名称", false},
		{"キャンペーン名", false},
		{"Buyer ID", false},
		{"SKU", false},
	}
	for _, tt := range tests {
		if got := isPersonal(tt.header); got != tt.want {
			t.Errorf("isPersonal(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// docs/import.md lists every header name of every field, in the table of
// its kind.
func TestDocsListEveryHeader(t *testing.T) {
	data, err := os.ReadFile("../../docs/import.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, kind := range Kinds {
		start := strings.Index(doc, "\n### "+string(kind)+"\n")
		if start < 0 {
			t.Errorf("docs/import.md has no section %q", kind)
			continue
		}
		section := doc[start+1:]
		if end := strings.Index(section[4:], "\n### "); end >= 0 {
			section = section[:end+4]
		}
		for _, fd := range specs[kind].fields {
			var row string
			for _, line := range strings.Split(section, "\n") {
				if strings.HasPrefix(line, "| `"+fd.Name+"` |") || strings.HasPrefix(line, "| **`"+fd.Name+"`** |") {
					row = line
				}
			}
			if row == "" {
				t.Errorf("docs/import.md, %s: no row of field %s", kind, fd.Name)
				continue
			}
			if bold := strings.HasPrefix(row, "| **"); bold != (fd.Need != flatfile.Optional) {
				t.Errorf("docs/import.md, %s: field %s is bold: %v, needed: %v", kind, fd.Name, bold, fd.Need != flatfile.Optional)
			}
			var listed []string // the names in the English, Chinese and Japanese cells
			for _, cell := range strings.Split(row, "|")[2:] {
				for _, name := range strings.Split(cell, ",") {
					listed = append(listed, strings.TrimSpace(name))
				}
			}
			for _, h := range fd.Headers {
				if !slices.Contains(listed, h) {
					t.Errorf("docs/import.md, %s.%s: header %q is not listed", kind, fd.Name, h)
				}
			}
		}
	}
}
