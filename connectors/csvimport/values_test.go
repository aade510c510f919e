package csvimport

import (
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// The fast path reads what flatfile.ParseTime reads, the same way, and
// leaves the rest to it.
func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: rejected
	}{
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, kpi.Tokyo)},
		{"2026/11/20", time.Date(2026, 11, 20, 0, 0, 0, 0, kpi.Tokyo)},
		{"2026-11-20 09:30", time.Date(2026, 11, 20, 9, 30, 0, 0, kpi.Tokyo)},
		{"2026-11-20T09:30:15", time.Date(2026, 11, 20, 9, 30, 15, 0, kpi.Tokyo)},
		{"2026/1/2 9:05", time.Date(2026, 1, 2, 9, 5, 0, 0, kpi.Tokyo)},
		{"２０２６年１１月２０日", time.Date(2026, 11, 20, 0, 0, 0, 0, kpi.Tokyo)},
		{"2026-11-20T00:30:00Z", time.Date(2026, 11, 20, 9, 30, 0, 0, kpi.Tokyo)},
		{"2026-11-20 09:30:00 UTC", time.Date(2026, 11, 20, 18, 30, 0, 0, kpi.Tokyo)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, kpi.Tokyo)},
		{"2026-02-29", time.Time{}},
		{"2026-13-45", time.Time{}},
		{"2026-11-20 24:00", time.Time{}},
		{"2026-11-20 23:60:00", time.Time{}},
		{"1999-12-31", time.Time{}},
		{"2100-01-01", time.Time{}},
		{"20261120", time.Time{}},
		{"2026-11-20x09:30", time.Time{}},
		{"yesterday", time.Time{}},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in, kpi.Tokyo)
		if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
		if fast, ok := parseTimeFast(tt.in, kpi.Tokyo); ok {
			slow, err := flatfile.ParseTime(tt.in, kpi.Tokyo)
			if err != nil || !slow.Equal(fast) {
				t.Errorf("parseTimeFast(%q) = %v; flatfile.ParseTime: %v, %v", tt.in, fast, slow, err)
			}
		}
	}
}

func FuzzParseTimeFast(f *testing.F) {
	for _, s := range []string{"2026-11-20", "2026/02/29 10:00", "2026-11-20T09:30:15", "2026-00-10 00:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseTimeFast(s, kpi.Tokyo)
		if !ok {
			return
		}
		slow, err := flatfile.ParseTime(s, kpi.Tokyo)
		if err != nil || !slow.Equal(fast) {
			t.Errorf("parseTimeFast(%q) = %v; flatfile.ParseTime: %v, %v", s, fast, slow, err)
		}
	})
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1980", 1980, true},
		{"1,980", 1980, true},
		{"¥1,980", 1980, true},
		{"￥１，９８０", 1980, true},
		{"1980円", 1980, true},
		{"JPY 1980", 1980, true},
		{"1980.50", 1981, true},
		{"12.3", 12, true},
		{"-5", -5, true},
		{"1,98", 0, false},
		{"1O0", 0, false},
		{"free", 0, false},
		{"1e9", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseAmount(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseAmount(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		table map[string]kpi.OrderStatus
		in    string
		want  kpi.OrderStatus
	}{
		{orderStatuses, "已发货", kpi.StatusShipped},
		{orderStatuses, "発送済み", kpi.StatusShipped},
		{orderStatuses, "Shipped", kpi.StatusShipped},
		{orderStatuses, "ＳＨＩＰＰＥＤ", kpi.StatusShipped},
		{orderStatuses, "Awaiting Shipment", kpi.StatusUnshipped},
		{orderStatuses, "待发货", kpi.StatusUnshipped},
		{orderStatuses, "発送待ち", kpi.StatusUnshipped},
		{orderStatuses, "seller_cancelled", kpi.StatusSellerCancelled},
		{orderStatuses, "キャンセル", kpi.StatusCancelled},
		{orderStatuses, "已签收", kpi.StatusDelivered},
		{orderStatuses, "未付款", kpi.StatusPending},
	}
	for _, tt := range tests {
		if got, ok := tt.table[fold(tt.in)]; !ok || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, l := range []struct{ in, want string }{{"日本語", "ja"}, {"Chinese", "zh"}, {"英语", "en"}, {"vi", "vi"}} {
		if got, ok := lang(l.in); !ok || got != l.want {
			t.Errorf("lang(%q) = %q, %v; want %q", l.in, got, ok, l.want)
		}
	}
}
