package bot

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// now is Saturday 2026-11-28 12:00 JST.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, kpi.Tokyo)

var shops = []kpi.Shop{
	{ID: "amazon-jp", Platform: kpi.Amazon, Name: "Amazon JP Main"},
	{ID: "rakuten", Platform: kpi.Rakuten, Name: "Rakuten Flagship"},
	{ID: "yahoo", Platform: kpi.Yahoo, Name: "Yahoo Shopping Outlet"},
}

var (
	parserOnce sync.Once
	parser     *Parser
)

func testParser(t testing.TB) *Parser {
	parserOnce.Do(func() {
		var err error
		if parser, err = NewParser(vocabulary(t)); err != nil {
			t.Fatal(err)
		}
	})
	return parser
}

func TestParsePhrasings(t *testing.T) {
	d := func(m time.Month, day int) kpi.Date { return kpi.NewDate(2026, m, day) }
	var (
		none      = kpi.Period{}
		today     = kpi.Today(now)
		yesterday = kpi.Yesterday(now)
		thisWeek  = kpi.ThisWeek(now)
		lastWeek  = kpi.LastWeek(now)
		thisMonth = kpi.ThisMonth(now)
		lastMonth = kpi.LastMonth(now)
		last7     = kpi.LastDays(now, 7)
		last30    = kpi.LastDays(now, 30)
		october   = kpi.Month(2026, 10)
		december  = kpi.Month(2025, 12) // December has not begun this year
		oct1to15  = kpi.Range(d(10, 1), d(10, 15))
		oct5      = kpi.Day(d(10, 5))
		all       = kpi.Scope{}
		amazon    = kpi.Scope{Platform: kpi.Amazon}
		rakuten   = kpi.Scope{Platform: kpi.Rakuten}
		yahoo     = kpi.Scope{Platform: kpi.Yahoo}
		shopify   = kpi.Scope{Platform: kpi.Shopify}
		mainShop  = kpi.Scope{Shop: "amazon-jp"}
		outlet    = kpi.Scope{Shop: "yahoo"}
	)
	tests := []struct {
		text    string
		metric  string
		scope   kpi.Scope
		period  kpi.Period
		compare kpi.Period
	}{
		// The issue's own examples.
		{"/kpi 返品率 先週", "return_rate", all, lastWeek, none},
		{"/kpi 退货率 上周", "return_rate", all, lastWeek, none},
		{"/kpi returns last week", "return_rate", all, lastWeek, none},
		{"ｋｐｉ　返品率", "return_rate", all, none, none},
		// Return rate, every way.
		{"kpi 退货率 上周", "return_rate", all, lastWeek, none},
		{"退货率 上周", "return_rate", all, lastWeek, none},
		{"退货率上周", "return_rate", all, lastWeek, none},
		{"上周退货率", "return_rate", all, lastWeek, none},
		{"上周 的 退货率", "return_rate", all, lastWeek, none},
		{"/kpi 退貨率 上週", "return_rate", all, lastWeek, none},
		{"/kpi 退货 上个月", "return_rate", all, lastMonth, none},
		{"/kpi 退款率 本月", "return_rate", all, thisMonth, none},
		{"/kpi 返品率　先月", "return_rate", all, lastMonth, none},
		{"返品率先週", "return_rate", all, lastWeek, none},
		{"先週の返品率", "return_rate", all, lastWeek, none},
		{"先週の返品率は？", "return_rate", all, lastWeek, none},
		{"/kpi 返品 楽天 先月", "return_rate", rakuten, lastMonth, none},
		{"/KPI RETURN RATE LAST MONTH", "return_rate", all, lastMonth, none},
		{"/kpi return_rate last month", "return_rate", all, lastMonth, none},
		{"/kpi return-rate last-month", "return_rate", all, lastMonth, none},
		{"/kpi return rate", "return_rate", all, none, none},
		{"/kpi   returns    last   week  ", "return_rate", all, lastWeek, none},
		{"/kpi retrun rate last month", "return_rate", all, lastMonth, none},
		{"/kpi return rte last month", "return_rate", all, lastMonth, none},
		{"/kpi returns las week", "return_rate", all, lastWeek, none},
		{"/kpi 退货律 上周", "return_rate", all, lastWeek, none},
		{"/kpi 返品率 楽天 先週", "return_rate", rakuten, lastWeek, none},
		{"/kpi 退货率 乐天 上个月", "return_rate", rakuten, lastMonth, none},
		{"/kpi returns rakuten last month", "return_rate", rakuten, lastMonth, none},
		{"rakuten returns last month", "return_rate", rakuten, lastMonth, none},
		{"ｒｅｔｕｒｎｓ　ｌａｓｔ　ｗｅｅｋ", "return_rate", all, lastWeek, none},
		{"＠kpibot 返品率 先週", "return_rate", all, lastWeek, none},
		{"@kpibot 退货率 上周", "return_rate", all, lastWeek, none},
		{"<@U0123ABC> returns last week", "return_rate", all, lastWeek, none},
		{"<@U0123ABC|kpibot> 返品率", "return_rate", all, none, none},
		// Sales.
		{"/kpi gmv", "gmv", all, none, none},
		{"/kpi gmv yesterday", "gmv", all, yesterday, none},
		{"/kpi sales yesterday", "gmv", all, yesterday, none},
		{"/kpi revenue today", "gmv", all, today, none},
		{"/kpi 销售额 昨天", "gmv", all, yesterday, none},
		{"/kpi 销售额 今天", "gmv", all, today, none},
		{"/kpi 营业额 本周", "gmv", all, thisWeek, none},
		{"/kpi 成交额 本月", "gmv", all, thisMonth, none},
		{"/kpi 売上 昨日", "gmv", all, yesterday, none},
		{"/kpi 売上 今日", "gmv", all, today, none},
		{"/kpi 売り上げ 今週", "gmv", all, thisWeek, none},
		{"/kpi 売上高 今月", "gmv", all, thisMonth, none},
		{"/kpi 売上 アマゾン 昨日", "gmv", amazon, yesterday, none},
		{"/kpi 销售额 亚马逊 昨天", "gmv", amazon, yesterday, none},
		{"/kpi gmv amazon yesterday", "gmv", amazon, yesterday, none},
		{"/kpi gmv amazon-jp yesterday", "gmv", mainShop, yesterday, none},
		{"/kpi gmv Amazon JP Main yesterday", "gmv", mainShop, yesterday, none},
		{"/kpi gmv yahoo shopping outlet last week", "gmv", outlet, lastWeek, none},
		{"/kpi gmv this week vs last week", "gmv", all, thisWeek, lastWeek},
		{"/kpi 销售额 本周 对比 上周", "gmv", all, thisWeek, lastWeek},
		{"/kpi 売上 今週 比較 先週", "gmv", all, thisWeek, lastWeek},
		{"/kpi 売上 今月 先月と比較", "gmv", all, thisMonth, lastMonth},
		{"/kpi gmv rakuten this week vs last week", "gmv", rakuten, thisWeek, lastWeek},
		{"/kpi gmv october", "gmv", all, october, none},
		{"/kpi gmv oct", "gmv", all, october, none},
		{"/kpi gmv december", "gmv", all, december, none},
		{"/kpi gmv 10月", "gmv", all, october, none},
		{"/kpi 销售额 10月份", "gmv", all, october, none},
		{"/kpi 销售额 2026年10月", "gmv", all, october, none},
		{"/kpi 売上 2026年10月", "gmv", all, october, none},
		{"/kpi gmv 2026-10", "gmv", all, october, none},
		{"/kpi gmv 2026/10", "gmv", all, october, none},
		{"/kpi gmv 10/2026", "gmv", all, october, none},
		{"/kpi gmv 2026-10-05", "gmv", all, oct5, none},
		{"/kpi gmv 2026/10/05", "gmv", all, oct5, none},
		{"/kpi gmv 2026.10.5", "gmv", all, oct5, none},
		{"/kpi gmv 10/5", "gmv", all, oct5, none},
		{"/kpi 销售额 10月5日", "gmv", all, oct5, none},
		{"/kpi 销售额 10月5号", "gmv", all, oct5, none},
		{"/kpi 売上 10月5日", "gmv", all, oct5, none},
		{"/kpi gmv 2026/10/01-2026/10/15", "gmv", all, oct1to15, none},
		{"/kpi gmv 2026-10-01..2026-10-15", "gmv", all, oct1to15, none},
		{"/kpi gmv 2026-10-01 to 2026-10-15", "gmv", all, oct1to15, none},
		{"/kpi gmv 2026-10-01 ~ 2026-10-15", "gmv", all, oct1to15, none},
		{"/kpi gmv 10/1-10/15", "gmv", all, oct1to15, none},
		{"/kpi 売上 10/1〜10/15", "gmv", all, oct1to15, none},
		{"/kpi 売上 10月1日から10月15日", "gmv", all, oct1to15, none},
		{"/kpi 销售额 10月1日至10月15日", "gmv", all, oct1to15, none},
		{"/kpi 销售额 10月1日到10月15日", "gmv", all, oct1to15, none},
		{"/kpi ｇｍｖ　２０２６－１０", "gmv", all, october, none},
		{"/kpi orders", "orders", all, none, none},
		{"/kpi 订单数 昨天", "orders", all, yesterday, none},
		{"/kpi 单量 昨天", "orders", all, yesterday, none},
		{"/kpi 注文数 昨日", "orders", all, yesterday, none},
		{"/kpi 受注数 今日", "orders", all, today, none},
		{"/kpi aov last month", "aov", all, lastMonth, none},
		{"/kpi average order value last month", "aov", all, lastMonth, none},
		{"/kpi 客单价 上个月", "aov", all, lastMonth, none},
		{"/kpi 客単価 先月", "aov", all, lastMonth, none},
		// Shipping.
		{"/kpi ship_24h_rate", "ship_24h_rate", all, none, none},
		{"/kpi 24h ship rate yesterday", "ship_24h_rate", all, yesterday, none},
		{"/kpi 24小时发货率 昨天", "ship_24h_rate", all, yesterday, none},
		{"/kpi 24時間以内出荷率 昨日", "ship_24h_rate", all, yesterday, none},
		{"/kpi 即日出荷率 先週", "ship_24h_rate", all, lastWeek, none},
		{"/kpi order to ship hours last 7 days", "order_to_ship_hours", all, last7, none},
		{"/kpi 平均发货时长 最近7天", "order_to_ship_hours", all, last7, none},
		{"/kpi 平均出荷時間 過去7日間", "order_to_ship_hours", all, last7, none},
		{"/kpi late shipment rate last 30 days", "late_shipment_rate", all, last30, none},
		{"/kpi 迟发率 最近30天", "late_shipment_rate", all, last30, none},
		{"/kpi 出荷遅延率 過去30日", "late_shipment_rate", all, last30, none},
		{"/kpi cancel rate 7d", "cancel_rate", all, last7, none},
		{"/kpi 取消率 近7天", "cancel_rate", all, last7, none},
		{"/kpi キャンセル率 直近7日", "cancel_rate", all, last7, none},
		{"/kpi valid tracking rate", "valid_tracking_rate", all, none, none},
		{"/kpi 有效追踪率 上周", "valid_tracking_rate", all, lastWeek, none},
		{"/kpi 有効な追跡率 先週", "valid_tracking_rate", all, lastWeek, none},
		{"/kpi delivery lead time last week", "delivery_days", all, lastWeek, none},
		{"/kpi 尾程派送时效 上周", "delivery_days", all, lastWeek, none},
		{"/kpi 配送日数 先週", "delivery_days", all, lastWeek, none},
		{"/kpi on-time delivery rate last week", "on_time_delivery_rate", all, lastWeek, none},
		{"/kpi 准时送达率 上周", "on_time_delivery_rate", all, lastWeek, none},
		{"/kpi 時間通り配達率 先週", "on_time_delivery_rate", all, lastWeek, none},
		// Reviews.
		{"/kpi review score last 30 days", "review_score", all, last30, none},
		{"/kpi 客户评分 最近30天", "review_score", all, last30, none},
		{"/kpi レビュー評価 過去30日間", "review_score", all, last30, none},
		{"/kpi negative reviews today", "negative_reviews", all, today, none},
		{"/kpi 差评数 今天", "negative_reviews", all, today, none},
		{"/kpi 差评 今天 亚马逊", "negative_reviews", amazon, today, none},
		{"/kpi 低評価レビュー数 今日", "negative_reviews", all, today, none},
		{"/kpi 低評価 アマゾン 今日", "negative_reviews", amazon, today, none},
		{"/kpi order defect rate", "order_defect_rate", all, none, none},
		{"/kpi odr amazon", "order_defect_rate", amazon, none, none},
		{"/kpi 订单缺陷率 亚马逊", "order_defect_rate", amazon, none, none},
		{"/kpi 注文不良率 アマゾン", "order_defect_rate", amazon, none, none},
		{"/kpi 差评响应时长 上周", "review_response_hours", all, lastWeek, none},
		{"/kpi 低評価対応時間 先週", "review_response_hours", all, lastWeek, none},
		{"/kpi negative-review response time last week", "review_response_hours", all, lastWeek, none},
		// Inventory.
		{"/kpi inventory turnover last 30 days", "inventory_turnover_days", all, last30, none},
		{"/kpi 库存周转天数 最近30天", "inventory_turnover_days", all, last30, none},
		{"/kpi 在庫回転日数 過去30日間", "inventory_turnover_days", all, last30, none},
		{"/kpi days of cover amazon", "days_of_cover", amazon, none, none},
		{"/kpi 可售天数 亚马逊", "days_of_cover", amazon, none, none},
		{"/kpi 在庫日数 アマゾン", "days_of_cover", amazon, none, none},
		{"/kpi replenishment frequency this month", "replenishment_count", all, thisMonth, none},
		{"/kpi 补货频率 本月", "replenishment_count", all, thisMonth, none},
		{"/kpi 納品回数 今月", "replenishment_count", all, thisMonth, none},
		// Ads.
		{"/kpi acos", "acos", all, none, none},
		{"/kpi acos amazon last 7 days", "acos", amazon, last7, none},
		{"/kpi ACoS ヤフー 過去7日間", "acos", yahoo, last7, none},
		{"/kpi 广告销售成本比 雅虎 最近7天", "acos", yahoo, last7, none},
		{"/kpi roas last week", "roas", all, lastWeek, none},
		{"/kpi 广告回报率 上周", "roas", all, lastWeek, none},
		{"/kpi ctr last week", "ctr", all, lastWeek, none},
		{"/kpi 点击率 上周", "ctr", all, lastWeek, none},
		{"/kpi クリック率 先週", "ctr", all, lastWeek, none},
		{"/kpi ad conversion rate last week", "cvr", all, lastWeek, none},
		{"/kpi 广告转化率 上周", "cvr", all, lastWeek, none},
		{"/kpi 広告CVR 先週", "cvr", all, lastWeek, none},
		// Customs and compliance.
		{"/kpi customs failure rate last 30 days", "customs_failure_rate", all, last30, none},
		{"/kpi 清关失败率 最近30天", "customs_failure_rate", all, last30, none},
		{"/kpi 通関不許可率 過去30日間", "customs_failure_rate", all, last30, none},
		{"/kpi 资料提交完整度", "customs_doc_completeness", all, none, none},
		{"/kpi 通関書類完備率", "customs_doc_completeness", all, none, none},
		{"/kpi clearance time last month", "customs_clearance_hours", all, lastMonth, none},
		{"/kpi 清关时长 上个月", "customs_clearance_hours", all, lastMonth, none},
		{"/kpi 通関所要時間 先月", "customs_clearance_hours", all, lastMonth, none},
		{"/kpi pse coverage", "pse_coverage", all, none, none},
		{"/kpi PSE认证覆盖率 雅虎", "pse_coverage", yahoo, none, none},
		{"/kpi PSE適合率 ヤフー", "pse_coverage", yahoo, none, none},
		{"/kpi label compliance", "label_compliance_rate", all, none, none},
		{"/kpi JIS标签合规率", "label_compliance_rate", all, none, none},
		{"/kpi 表示適合率", "label_compliance_rate", all, none, none},
		// Service and market.
		{"/kpi first response time yesterday", "first_response_minutes", all, yesterday, none},
		{"/kpi 首次回复时间 昨天", "first_response_minutes", all, yesterday, none},
		{"/kpi 初回応答時間 昨日", "first_response_minutes", all, yesterday, none},
		{"/kpi 初回応答時間 楽天 過去7日間", "first_response_minutes", rakuten, last7, none},
		{"/kpi japanese support coverage last week", "jp_cs_coverage", all, lastWeek, none},
		{"/kpi 日语客服在线覆盖率 上周", "jp_cs_coverage", all, lastWeek, none},
		{"/kpi 日本語サポート稼働率 先週", "jp_cs_coverage", all, lastWeek, none},
		{"/kpi inquiry conversion last 30 days", "inquiry_conversion", all, last30, none},
		{"/kpi 询盘转化率 最近30天", "inquiry_conversion", all, last30, none},
		{"/kpi 問い合わせ転換率 過去30日間", "inquiry_conversion", all, last30, none},
		{"/kpi price competitiveness", "price_index", all, none, none},
		{"/kpi 价格竞争力指数 上周", "price_index", all, lastWeek, none},
		{"/kpi 価格競争力指数 先週", "price_index", all, lastWeek, none},
		{"/kpi new listings last 30 days", "new_listings", all, last30, none},
		{"/kpi 新品上架数 最近30天", "new_listings", all, last30, none},
		{"/kpi 新商品出品数 過去30日間", "new_listings", all, last30, none},
		{"/kpi gmv shopify", "gmv", shopify, none, none},
	}
	p := testParser(t)
	if len(tests) < 150 {
		t.Errorf("only %d phrasings", len(tests))
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		want := kpi.Query{Metric: tt.metric, Scope: tt.scope, Period: tt.period, Compare: tt.compare}
		if cmd.Action != ActionMetric || !reflect.DeepEqual(cmd.Query, want) {
			t.Errorf("%q\n got %s %+v\nwant metric %+v", tt.text, cmd.Action, cmd.Query, want)
		}
	}
}

func TestParseCommands(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text   string
		action Action
		topic  string
		lang   locales.Lang
		scope  kpi.Scope
	}{
		{"/kpi", ActionHelp, "", "", kpi.Scope{}},
		{"/kpi help", ActionHelp, "", "", kpi.Scope{}},
		{"/kpi 帮助", ActionHelp, "", "", kpi.Scope{}},
		{"/kpi ヘルプ", ActionHelp, "", "", kpi.Scope{}},
		{"/kpi help status", ActionHelp, "status", "", kpi.Scope{}},
		{"/kpi help returns", ActionHelp, "return_rate", "", kpi.Scope{}},
		{"/kpi 帮助 退货率", ActionHelp, "return_rate", "", kpi.Scope{}},
		{"/kpi list", ActionList, "", "", kpi.Scope{}},
		{"/kpi 列表", ActionList, "", "", kpi.Scope{}},
		{"/kpi 一覧", ActionList, "", "", kpi.Scope{}},
		{"/kpi status", ActionStatus, "", "", kpi.Scope{}},
		{"/kpi 概况 乐天", ActionStatus, "", "", kpi.Scope{Platform: kpi.Rakuten}},
		{"/kpi 概要 楽天", ActionStatus, "", "", kpi.Scope{Platform: kpi.Rakuten}},
		{"/kpi status amazon-jp", ActionStatus, "", "", kpi.Scope{Shop: "amazon-jp"}},
		{"/kpi 楽天 先週", ActionStatus, "", "", kpi.Scope{Platform: kpi.Rakuten}},
		{"/kpi lang ja", ActionLang, "", locales.Japanese, kpi.Scope{}},
		{"/kpi 语言 中文", ActionLang, "", locales.Chinese, kpi.Scope{}},
		{"/kpi 言語 日本語", ActionLang, "", locales.Japanese, kpi.Scope{}},
		{"/kpi language english", ActionLang, "", locales.English, kpi.Scope{}},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if cmd.Action != tt.action || cmd.Topic != tt.topic || cmd.Lang != tt.lang || cmd.Query.Scope != tt.scope {
			t.Errorf("%q = %+v", tt.text, cmd)
		}
	}
}

func TestParseErrorsAndNotes(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text string
		key  string
	}{
		{"/kpi xyzzy", "error.not_understood"},
		{"/kpi gmv acos", "error.two_metrics"},
		{"/kpi gmv amazon rakuten", "error.two_scopes"},
		{"/kpi gmv today yesterday", "error.two_periods"},
		{"/kpi gmv 2026-13", "error.bad_period"},
		{"/kpi gmv 2026-02-30", "error.bad_period"},
		{"/kpi gmv this week vs", "error.vs_needs_period"},
		{"/kpi lang", "error.lang_needs_language"},
		{"/kpi retrn rat", "error.did_you_mean"},
	}
	for _, tt := range tests {
		_, err := p.Parse(tt.text, shops, now)
		var e *kpi.Error
		if !errors.As(err, &e) || e.Key != tt.key {
			t.Errorf("%q: err %v, want %s", tt.text, err, tt.key)
		}
	}
	cmd, err := p.Parse("/kpi retrun rate last month please", shops, now)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, n := range cmd.Notes {
		keys = append(keys, n.Key)
	}
	if strings.Join(keys, " ") != "note.read_as note.ignored" {
		t.Errorf("notes %+v", cmd.Notes)
	}
}

func TestParseWrittenLanguage(t *testing.T) {
	p := testParser(t)
	for text, want := range map[string]locales.Lang{
		"/kpi 返品率 先週":            locales.Japanese, // no kana, but Japanese words
		"/kpi 退货率 上周":            locales.Chinese,
		"/kpi returns last week": locales.English,
		"/kpi gmv 2026-10":       locales.English,
		"/kpi 2026-10":           "", // nothing tells
	} {
		cmd, _ := p.Parse(text, shops, now)
		if cmd.Written != want {
			t.Errorf("%q written in %q, want %q", text, cmd.Written, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/kpi 返品率 先週", "kpi gmv 2026/10/01-2026/10/15 vs 2026-09", "＠bot ｋｐｉ　ｇｍｖ", "<@U1|x> help 10月5日", "/kpi retrun 12345d 〜〜"} {
		f.Add(s)
	}
	p := testParser(f)
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := p.Parse(text, shops, now)
		if err != nil {
			var e *kpi.Error
			if !errors.As(err, &e) || e.Key == "" {
				t.Fatalf("%q: an error without a message: %v", text, err)
			}
			return
		}
		if cmd.Action == "" {
			t.Fatalf("%q: no action", text)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := testParser(b)
	for _, text := range []string{"/kpi 返品率 楽天 先週", "/kpi gmv rakuten this week vs last week", "/kpi retrun rate last month"} {
		b.Run(text, func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Parse(text, shops, now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(20*time.Microsecond), "goal-ratio")
		})
	}
}

func TestNormalizeASCIIAgreesWithNormalize(t *testing.T) {
	for _, s := range []string{"/KPI Return-Rate  last_month!", "2026-10-01..2026/10/15 ~ x", " @kpibot <@U1|x> a+b {n} ", "ship-24h-rate 7-day 10-15", "\t tab\nnewline ?#$%",
		"8:30 10:00:00 a:b 10: 00 :5 7: x:9"} {
		// Normalize's general path, forced by a non-ASCII suffix that it drops.
		want := strings.TrimSuffix(Normalize(s+" 、"), " ")
		if got := normalizeASCII(s); got != want {
			t.Errorf("normalizeASCII(%q) = %q, Normalize = %q", s, got, want)
		}
	}
}

func TestParseBindCodes(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text   string
		action Action
		code   string
		role   kpi.Role
	}{
		{"/kpi bind ABCD-EFGH", ActionBind, "ABCDEFGH", ""},
		{"/kpi bind abcdefgh", ActionBind, "ABCDEFGH", ""},
		{"/kpi bind abcd efgh", ActionBind, "ABCDEFGH", ""},
		{"/kpi 绑定 ＡＢＣＤ－２３４５", ActionBind, "ABCD2345", ""},
		{"/kpi 連携ABCDーEFGH", ActionBind, "ABCDEFGH", ""},
		{"<@U1ABCDEFG> bind 2345-6789", ActionBind, "23456789", ""},
		{"/kpi bind sept-2345", ActionBind, "SEPT2345", ""}, // its letters are no words
		// No code: a role, or no bind at all.
		{"/kpi bind shop team ja rakuten", ActionBind, "", kpi.RoleShop},
		{"/kpi bind-code hq zh", ActionBindCode, "", kpi.RoleHQ},
		{"/kpi 绑定码 总部 中文", ActionBindCode, "", kpi.RoleHQ},
		{"/kpi 連携コード 日本サポート 日本語", ActionBindCode, "", kpi.RoleJPSupport},
		{"/kpi status rakuten", ActionStatus, "", ""},
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil || cmd.Action != tt.action || cmd.Code != tt.code || cmd.Role != tt.role {
			t.Errorf("%q = %+v, %v; want %s %q %q", tt.text, cmd, err, tt.action, tt.code, tt.role)
		}
	}
	for text, key := range map[string]string{
		"/kpi bind ABCD-1234": "error.bind_needs_role", // 1 is in no code
		"/kpi ABCD-EFGH":      "error.not_understood",  // a code alone binds nothing
		"/kpi bind-code":      "error.bind_code_needs_role",
	} {
		_, err := p.Parse(text, shops, now)
		var e *kpi.Error
		if !errors.As(err, &e) || e.Key != key {
			t.Errorf("%q: %v, want %s", text, err, key)
		}
	}
}

func TestNormalizeKeepsClocks(t *testing.T) {
	for in, want := range map[string]string{
		"08:30":           "08:30",
		"８：３０":            "8:30",
		"０８:３０":           "08:30",
		"bind hq zh 8:30": "bind hq zh 8:30",
		"中文8：30に":         "中文8:30に",
		"note: 10 : 00":   "note 10 00",
		"a:b :5 7:":       "a b 5 7",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// The bind and bind_code commands take the daily digest's time, in any
// place and however it is typed; elsewhere a time means nothing.
func TestParseDigestAt(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		text     string
		action   Action
		role     kpi.Role
		lang     locales.Lang
		code     string
		digestAt string
	}{
		{"/kpi bind hq zh 08:30", ActionBind, kpi.RoleHQ, locales.Chinese, "", "08:30"},
		{"/kpi 绑定 总部 中文 8:30", ActionBind, kpi.RoleHQ, locales.Chinese, "", "08:30"},
		{"/kpi チャンネル設定 日本サポート 日本語 ８：３０", ActionBind, kpi.RoleJPSupport, locales.Japanese, "", "08:30"},
		{"/kpi bind-code jp-support ja 10:00", ActionBindCode, kpi.RoleJPSupport, locales.Japanese, "", "10:00"},
		{"/kpi 绑定码 总部 中文 ２３：５９", ActionBindCode, kpi.RoleHQ, locales.Chinese, "", "23:59"},
		{"/kpi 連携コード 本社 中国語 ０：００", ActionBindCode, kpi.RoleHQ, locales.Chinese, "", "00:00"},
		{"/kpi bind 7:05 shop team ja", ActionBind, kpi.RoleShop, locales.Japanese, "", "07:05"}, // first
		{"/kpi 绑定 总部 中文8:30", ActionBind, kpi.RoleHQ, locales.Chinese, "", "08:30"},              // no space
		{"@kpibot bind hq en 9:00", ActionBind, kpi.RoleHQ, locales.English, "", "09:00"},
		{"/kpi bind ABCD-EFGH 07:45", ActionBind, "", "", "ABCDEFGH", "07:45"},
		{"/kpi 連携 ＡＢＣＤ－２３４５ ７：４５", ActionBind, "", "", "ABCD2345", "07:45"},
		{"/kpi bind 2345-6789 10:30", ActionBind, "", "", "23456789", "10:30"},
		// No time: the default.
		{"/kpi bind hq zh", ActionBind, kpi.RoleHQ, locales.Chinese, "", ""},
		{"/kpi bind ABCD-EFGH", ActionBind, "", "", "ABCDEFGH", ""},
		{"/kpi bind-code hq 2026-10-01", ActionBindCode, kpi.RoleHQ, "", "", ""}, // a date is no time
	}
	for _, tt := range tests {
		cmd, err := p.Parse(tt.text, shops, now)
		if err != nil || cmd.Action != tt.action || cmd.Role != tt.role || cmd.Lang != tt.lang || cmd.Code != tt.code || cmd.DigestAt != tt.digestAt {
			t.Errorf("%q = %+v, %v; want %s %q %q %q at %q", tt.text, cmd, err, tt.action, tt.role, tt.lang, tt.code, tt.digestAt)
		}
		for _, n := range cmd.Notes {
			if tt.digestAt != "" {
				t.Errorf("%q: note %+v", tt.text, n)
			}
		}
	}
	// A time that is none is refused, naming what was typed (normalised).
	for text, bad := range map[string]string{
		"/kpi bind hq zh 24:00":            "24:00",
		"/kpi bind hq zh 9:75":             "9:75",
		"/kpi 绑定码 总部 中文 ２４：００":             "24:00",
		"/kpi チャンネル設定 本社 中国語 ９：７５":         "9:75",
		"/kpi bind hq 8:30:00":             "8:30:00",
		"/kpi bind-code hq 123:00":         "123:00",
		"/kpi bind ABCD-EFGH 25:00":        "25:00",
		"/kpi bind shop team ja 8:5 yahoo": "8:5",
	} {
		_, err := p.Parse(text, shops, now)
		var e *kpi.Error
		if !errors.As(err, &e) || e.Code != kpi.Invalid || e.Key != "error.bad_clock" || e.Args["Text"] != bad {
			t.Errorf("%q: %v, want error.bad_clock of %q", text, err, bad)
		}
	}
	// A line that is no bind keeps its text: the time is a word it ignores.
	for text, want := range map[string]Action{
		"/kpi gmv yesterday 10:00":  ActionMetric,
		"/kpi status rakuten 24:00": ActionStatus,
		"/kpi help 8:30":            ActionHelp,
	} {
		cmd, err := p.Parse(text, shops, now)
		if err != nil || cmd.Action != want || cmd.DigestAt != "" || len(cmd.Notes) != 1 || cmd.Notes[0].Key != "note.ignored" {
			t.Errorf("%q = %+v, %v; want %s ignoring the time", text, cmd, err, want)
		}
	}
	// A bind that lacks its role says so, time or not.
	for _, text := range []string{"/kpi bind 08:30", "/kpi bind-code ８：３０"} {
		_, err := p.Parse(text, shops, now)
		var e *kpi.Error
		if !errors.As(err, &e) || !strings.HasSuffix(e.Key, "_needs_role") {
			t.Errorf("%q: %v, want a role asked for", text, err)
		}
	}
}

func TestFindClock(t *testing.T) {
	for s, want := range map[string]string{
		"bind hq 8:30":     "8:30",
		"8:30 bind":        "8:30",
		"中文8:30":           "8:30",
		"x8:30 9:00":       "9:00", // not within a word
		"2026-10-01 10:15": "10:15",
		"10:00:00":         "10:00:00",
		"8:30am":           "",
		"bind hq 830":      "",
		"2345-6789":        "",
	} {
		got, from, to := findClock(s)
		if got != want || got != "" && s[from:to] != got {
			t.Errorf("findClock(%q) = %q at %d:%d, want %q", s, got, from, to, want)
		}
	}
}
