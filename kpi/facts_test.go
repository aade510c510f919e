package kpi

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestDistQuantiles(t *testing.T) {
	var d Dist
	for _, v := range []int64{30, 75, 20, 480, 6900} {
		d.Observe(v)
	}
	if d.Mean() != 7505.0/5 {
		t.Errorf("mean %v", d.Mean())
	}
	for q, want := range map[float64]float64{0.5: 75, 0.9: 6900, 0.2: 20, 0.21: 30, 1: 6900} {
		if got := d.Quantile(q); got != want {
			t.Errorf("q%v = %v, want %v", q, got, want)
		}
	}
	var empty Dist
	if !math.IsNaN(empty.Quantile(0.5)) || !math.IsNaN(empty.Mean()) {
		t.Error("an empty distribution has values")
	}
	// Against exact nearest-rank quantiles of random durations: within 0.1%.
	r := rand.New(rand.NewPCG(1, 2))
	var big Dist
	var vals []int64
	for range 5000 {
		v := r.Int64N(60 * 24 * 30)
		vals = append(vals, v)
		big.Observe(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		exact := float64(vals[int(math.Ceil(q*float64(len(vals))))-1])
		if got := big.Quantile(q); got > exact || exact-got > exact/1000 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
	}
}

func TestFactsEncoding(t *testing.T) {
	recs := fixture().records("a")
	from, to := NewDate(2026, 11, 1), NewDate(2026, 11, 29)
	var days []*Facts
	for _, f := range BuildFacts(recs, from, to, testNow, DefaultHours) {
		days = append(days, f)
	}
	sum := Sum(days)
	data, err := sum.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Facts
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum, back) {
		t.Errorf("round trip changed the facts:\n%+v\n%+v", sum, back)
	}
	if err := back.UnmarshalBinary(data[:len(data)/2]); err == nil {
		t.Error("a truncated encoding decoded")
	}
	if sum.Count[OrdersPlaced] != 6 || sum.Dists[FirstResponseMinutes].N != 5 {
		t.Errorf("fixture facts look wrong: %v orders, %v tickets", sum.Count[OrdersPlaced], sum.Dists[FirstResponseMinutes].N)
	}
}

func TestSumKeepsLatestGauge(t *testing.T) {
	var a, b Facts
	a.Day, a.Gauges[OnHand], a.Peaks[NegativeReviewsPeakDay] = 10, 100, 3
	b.Day, b.Gauges[OnHand], b.Peaks[NegativeReviewsPeakDay] = 11, 90, 1
	sum := Sum([]*Facts{&b, &a})
	if sum.Gauges[OnHand] != 90 || sum.Peaks[NegativeReviewsPeakDay] != 3 {
		t.Errorf("over days: on hand %d peak %d, want 90 and 3", sum.Gauges[OnHand], sum.Peaks[NegativeReviewsPeakDay])
	}
	var shops Facts
	shops.AddShop(&a)
	shops.AddShop(&b)
	if shops.Gauges[OnHand] != 190 || shops.Peaks[NegativeReviewsPeakDay] != 3 {
		t.Errorf("over shops: on hand %d peak %d, want 190 and 3", shops.Gauges[OnHand], shops.Peaks[NegativeReviewsPeakDay])
	}
}

func TestBusinessMinutes(t *testing.T) {
	h := DefaultHours
	d := func(day, hh, mm int) time.Time { return jst(2026, 11, day, hh, mm, 0) }
	tests := []struct {
		from, to time.Time
		want     int64
	}{
		{d(10, 10, 0), d(10, 10, 30), 30},
		{d(10, 7, 0), d(10, 8, 0), 0},     // before opening
		{d(10, 17, 30), d(11, 9, 45), 75}, // over the night
		{d(14, 10, 0), d(16, 9, 20), 20},  // Saturday to Monday
		{d(16, 9, 0), d(16, 8, 0), 0},     // backwards
	}
	for _, tt := range tests {
		if got := h.Minutes(tt.from, tt.to); got != tt.want {
			t.Errorf("Minutes(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
	holiday := BusinessHours{Open: 9 * time.Hour, Close: 18 * time.Hour, Closed: func(d Date) bool { return d == NewDate(2026, 11, 23) }}
	if got := holiday.Minutes(d(23, 0, 0), d(24, 0, 0)); got != 0 {
		t.Errorf("a closed day has %d business minutes", got)
	}
}

func TestValidTracking(t *testing.T) {
	tests := []struct {
		carrier, number string
		want            bool
	}{
		{"yamato", "1234-5678-9012", true},
		{"Sagawa", "123456789012", true},
		{"sagawa", "12345", false},
		{"yamato", "12345678901A", false},
		{"japanpost", "AB123456785JP", true},
		{"japanpost", "12345678901", true},
		{"japanpost", "1234", false},
		{"dhl", "JD014600003828", true},
		{"dhl", "", false},
		{"dhl", "TBD", false},
	}
	for _, tt := range tests {
		if got := ValidTracking(tt.carrier, tt.number); got != tt.want {
			t.Errorf("ValidTracking(%q, %q) = %v", tt.carrier, tt.number, got)
		}
	}
}

func TestMaskPII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"連絡先 yamada.taro@example.co.jp まで", "連絡先 *** まで"},
		{"電話 090-1234-5678 にください", "電話 *** にください"},
		{"call +81 3 1234 5678", "call ***"},
		{"〒150-0001 東京都渋谷区神宮前1-2-3 に届いた", "*** *** に届いた"},
		{"山田様、ありがとうございます", "***様、ありがとうございます"},
		{"Great product, 5 stars, arrived in 2 days", "Great product, 5 stars, arrived in 2 days"},
		{"注文番号 250-1234567-1234567", "注文番号 250-1234567-1234567"},
		// Japanese: full-width digits and @, 〒 addresses, names.
		{"山田太郎様 〒150-0001 東京都渋谷区神宮前１－２－３ 電話０９０－１２３４－５６７８",
			"***様 *** *** 電話***"},
		{"佐藤さんの対応が遅い。yamada＠example.jp まで", "***さんの対応が遅い。*** まで"},
		{"〒５３０－０００１ 大阪府大阪市北区梅田3-1-1 に届かない", "*** *** に届かない"},
		{"お名前：田中花子 TEL 03-1234-5678", "お名前：*** TEL ***"},
		{"TEL03-1234-5678まで", "TEL***まで"},
		// Chinese: 先生/女士/小姐, mobiles, landlines, streets, rooms.
		{"王先生您好，电话13812345678，邮箱wang.lei@qq.com", "***先生您好，电话***，邮箱***"},
		{"寄到上海市浦东新区世纪大道100号，李女士收", "***，***女士收"},
		{"广东省深圳市南山区科技园路1号 张小姐 +86 138 1234 5678", "*** ***小姐 ***"},
		{"北京市朝阳区建国路88号5号楼1203室，座机010-8765-4321", "***，座机***"},
		{"收货人：张伟，地址写错了", "收货人：***，地址写错了"},
		{"送到世纪大道100号就行 邮编200120", "***就行 ***"},
		{"订单号 3012345678901234 还没发货", "订单号 3012345678901234 还没发货"},
		{"耳机坏了，差评", "耳机坏了，差评"},
	}
	for _, tt := range tests {
		if got := MaskPII(tt.in); got != tt.want {
			t.Errorf("MaskPII(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := MaskPII(tt.want); got != tt.want {
			t.Errorf("MaskPII of the masked %q = %q, want it unchanged", tt.want, got)
		}
	}
}

func TestBatchValidate(t *testing.T) {
	ok := fixture().b
	if err := ok.Validate(); err != nil {
		t.Fatalf("fixture invalid: %v", err)
	}
	bad := []Batch{
		{Orders: []Order{{Shop: "a", ID: "x", Status: StatusShipped}}},
		{Orders: []Order{{Shop: "a", ID: "x", Placed: testNow, Status: "lost"}}},
		{Reviews: []Review{{Shop: "a", ID: "x", Posted: testNow, Rating: 6}}},
		{Shipments: []Shipment{{Shop: "a", ID: "x", OrderID: "o", Shipped: testNow, Delivered: testNow.Add(-time.Hour)}}},
		{Shops: []Shop{{ID: "a", Platform: Amazon, Currency: "yen"}}},
		{AgentShifts: []AgentShift{{Shop: "a", Agent: "x", Start: testNow, End: testNow}}},
	}
	for i, b := range bad {
		if err := b.Validate(); ErrorCode(err) != Invalid {
			t.Errorf("batch %d: err = %v, want invalid", i, err)
		}
	}
}

func TestSum(t *testing.T) {
	recs := fixture().records("a")
	days := BuildFacts(recs, NewDate(2026, 11, 1), NewDate(2026, 11, 29), testNow, DefaultHours)
	var list []*Facts
	var want Facts // summed field by field, distributions merged day by day
	for d := NewDate(2026, 11, 1); d < NewDate(2026, 11, 29); d++ {
		f := days[d]
		list = append(list, f)
		for i := range want.Count {
			want.Count[i] += f.Count[i]
		}
		for i := range want.Peaks {
			want.Peaks[i] = max(want.Peaks[i], f.Peaks[i])
		}
		for i := range want.Dists {
			want.Dists[i].Merge(&f.Dists[i])
		}
		if f.Day != 0 {
			want.Day, want.Gauges = f.Day, f.Gauges
		}
	}
	if got := Sum(list); !reflect.DeepEqual(got, want) {
		t.Errorf("Sum differs:\n%+v\n%+v", got, want)
	}
	if got := Sum(nil); !reflect.DeepEqual(got, Facts{}) {
		t.Errorf("Sum of nothing = %+v", got)
	}
}
