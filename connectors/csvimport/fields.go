package csvimport

import (
	"bytes"
	"maps"
	"slices"
	"strings"

	"golang.org/x/text/width"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// spec is how a kind's files are read: the fields, and read, which turns
// a row into records added to the batch, or rejects it (row.fail).
type spec struct {
	fields []flatfile.Field
	read   func(r *row, b *kpi.Batch)
}

// f is a field known by its headers in English, Chinese and Japanese.
func f(name string, need flatfile.Need, headers ...string) flatfile.Field {
	return flatfile.Field{Name: name, Headers: headers, Need: need}
}

const (
	optional = flatfile.Optional
	present  = flatfile.Present // a value is checked by the reader, for a message with a key
)

// The headers shared by several kinds.
var (
	skuHeaders      = []string{"sku", "seller sku", "商品编码", "商品SKU", "货号", "商品管理番号", "商品コード", "品番"}
	orderIDHeaders  = []string{"order id", "order number", "order no", "订单号", "订单编号", "平台订单号", "注文番号", "注文ID", "受注番号"}
	customerHeaders = []string{"customer id", "buyer id", "买家ID", "买家账号", "客户ID", "会员ID", "購入者ID", "顧客ID", "会員ID", "会員番号"}
)

// specs are the kinds' fields and readers. The header names of each field
// are documented in docs/import.md; keep the two in step.
var specs = map[Kind]*spec{
	Orders: {read: readOrder, fields: []flatfile.Field{
		f("id", present, orderIDHeaders...),
		f("placed", present, "placed", "order date", "purchase date", "created", "下单时间", "下单日期", "订单时间", "创建时间", "注文日時", "注文日", "受注日時", "受注日"),
		f("paid", optional, "paid", "payment date", "paid at", "付款时间", "支付时间", "付款日期", "入金日時", "入金日", "決済日時", "支払日時"),
		f("ship_by", optional, "ship by", "latest ship date", "发货截止时间", "最晚发货时间", "最迟发货时间", "出荷期限", "発送期限", "発送期日"),
		f("status", optional, "status", "order status", "订单状态", "状态", "注文ステータス", "ステータス", "受注ステータス"),
		f("total", optional, "total", "order total", "amount", "订单金额", "订单总额", "总金额", "实付金额", "合計金額", "注文金額", "請求金額"),
		f("units", optional, "units", "quantity", "qty", "商品数量", "数量", "個数", "注文数量"),
		f("channel", optional, "channel", "fulfillment channel", "fulfilment channel", "fulfilled by", "履约方式", "发货类型", "出荷区分", "フルフィルメント"),
		f("shipped", optional, "shipped", "ship date", "shipped at", "发货时间", "发货日期", "出荷日時", "出荷日", "発送日時", "発送日"),
		f("carrier", optional, "carrier", "shipping carrier", "物流公司", "承运商", "物流商", "快递公司", "配送会社", "運送会社", "配送業者"),
		f("tracking", optional, "tracking", "tracking number", "tracking no", "跟踪号", "追踪号", "运单号", "物流单号", "快递单号", "追跡番号", "お問い合わせ番号", "伝票番号", "送り状番号"),
		f("customer", optional, customerHeaders...),
	}},
	Reviews: {read: readReview, fields: []flatfile.Field{
		f("id", optional, "review id", "评价ID", "评论ID", "レビューID", "レビュー番号"),
		f("posted", present, "posted", "review date", "date", "评价时间", "评论时间", "评价日期", "投稿日時", "投稿日", "投稿時間", "レビュー日", "評価日"),
		f("rating", present, "rating", "stars", "score", "评分", "星级", "评价星级", "評価", "評価点", "星の数", "点数"),
		f("text", optional, "text", "review", "comment", "review text", "评价内容", "评论内容", "内容", "レビュー本文", "本文", "コメント", "レビュー内容"),
		f("order", optional, orderIDHeaders...),
		f("replied", optional, "replied", "replied at", "reply date", "回复时间", "已回复", "回复状态", "返信日時", "返信日", "返信", "返信状況"),
	}},
	Tickets: {read: readTicket, fields: []flatfile.Field{
		f("id", present, "ticket id", "ticket", "inquiry id", "工单号", "工单ID", "会话ID", "チケットID", "問い合わせ番号", "問い合わせID"),
		f("opened", present, "opened", "opened at", "created", "created at", "创建时间", "咨询时间", "受付日時", "問い合わせ日時", "作成日時"),
		f("first_reply", optional, "first reply", "first reply at", "first response", "首次回复时间", "首次响应时间", "初回返信日時", "初回回答日時", "初回応答日時"),
		f("kind", optional, "kind", "type", "ticket type", "类型", "咨询类型", "工单类型", "種別", "問い合わせ種別", "区分"),
		f("lang", optional, "language", "customer language", "lang", "语言", "客户语言", "言語", "顧客言語"),
		f("customer", optional, customerHeaders...),
	}},
	Shifts: {read: readShift, fields: []flatfile.Field{
		f("agent", present, "agent", "agent id", "staff", "客服", "客服ID", "客服账号", "坐席", "担当者", "担当者ID", "オペレーター", "スタッフ"),
		f("start", present, "start", "start time", "from", "开始时间", "上班时间", "開始", "開始日時", "開始時刻"),
		f("end", present, "end", "end time", "to", "结束时间", "下班时间", "終了", "終了日時", "終了時刻"),
		f("langs", optional, "languages", "langs", "language", "语言", "服务语言", "言語", "対応言語"),
	}},
	Customs: {read: readCustoms, fields: []flatfile.Field{
		f("id", present, "entry id", "entry number", "declaration number", "报关单号", "报关单编号", "申告番号", "輸入申告番号"),
		f("declared", present, "declared", "declaration date", "申报时间", "申报日期", "申告日時", "申告日"),
		f("cleared", optional, "cleared", "clearance date", "released", "放行时间", "通关时间", "清关时间", "許可日時", "許可日", "輸入許可日"),
		f("status", optional, "status", "状态", "清关状态", "ステータス", "通関ステータス", "状況"),
		f("docs_complete", optional, "documents complete", "docs complete", "单证齐全", "资料齐全", "書類完備"),
	}},
	Listings: {read: readListing, fields: []flatfile.Field{
		f("sku", present, skuHeaders...),
		f("launched", optional, "launched", "launch date", "listed", "上架时间", "上架日期", "发布时间", "発売日", "出品日", "販売開始日"),
		f("pse_needed", optional, "pse needed", "pse required", "needs pse", "需要PSE", "PSE对象", "PSE対象"),
		f("pse_valid", optional, "pse valid", "pse certified", "PSE有效", "PSE认证", "PSE適合", "PSE届出"),
		f("label", optional, "label check", "label", "标签检查", "标签审核", "表示確認", "品質表示", "表示チェック"),
		f("price", optional, "price", "售价", "价格", "販売価格", "価格", "売価"),
	}},
	Competitors: {read: readCompetitor, fields: []flatfile.Field{
		f("sku", present, skuHeaders...),
		f("competitor", present, "competitor", "competitor name", "seller", "竞争对手", "竞品", "竞品店铺", "競合", "競合店", "競合ショップ"),
		f("observed", present, "observed", "date", "checked at", "采集时间", "抓取时间", "日期", "取得日時", "観測日時", "日付", "調査日"),
		f("price", present, "price", "competitor price", "价格", "竞品价格", "価格", "競合価格"),
		f("new_listing", optional, "new listing", "new", "新上架", "新品上架", "新規出品", "新着"),
	}},
	Inventory: {read: readInventory, fields: []flatfile.Field{
		f("sku", present, skuHeaders...),
		f("taken", present, "taken", "date", "snapshot", "as of", "日期", "快照时间", "盘点时间", "统计日期", "日付", "基準日", "集計日", "在庫日"),
		f("on_hand", present, "on hand", "available", "sellable", "可用库存", "可售库存", "在库数量", "库存", "在庫数", "有効在庫", "販売可能在庫"),
		f("inbound", optional, "inbound", "in transit", "在途", "在途库存", "在途数量", "入荷予定", "入荷予定数", "入庫予定数"),
		f("reserved", optional, "reserved", "allocated", "预留", "锁定库存", "占用库存", "引当数", "引当済み", "予約済み"),
	}},
	Ads: {read: readAd, fields: []flatfile.Field{
		f("day", present, "day", "date", "日期", "日付"),
		f("campaign", present, "campaign", "campaign name", "campaign id", "广告活动", "广告活动名称", "广告系列", "キャンペーン", "キャンペーン名", "キャンペーンID"),
		f("impressions", optional, "impressions", "imp", "展示量", "曝光量", "展示次数", "表示回数", "インプレッション", "インプレッション数"),
		f("clicks", optional, "clicks", "点击量", "点击次数", "クリック数"),
		f("spend", optional, "spend", "cost", "ad spend", "花费", "消耗", "广告花费", "実績額", "広告費", "費用", "消化金額"),
		f("sales", optional, "sales", "ad sales", "销售额", "广告销售额", "売上金額", "売上", "広告経由売上"),
		f("orders", optional, "orders", "conversions", "订单数", "订单量", "广告订单", "売上件数", "注文数", "受注件数", "コンバージョン数"),
	}},
}

// with returns the kind's fields with the caller's headers added. A header
// the caller gives a field is taken from any other field that has it by
// default; when the file's header line (line; nil if unknown) has one of
// the headers the caller gave a field, the field has only those, so that
// its column is read rather than one with a default name.
func (s *spec) with(kind Kind, extra map[string][]string, line []byte) ([]flatfile.Field, error) {
	if len(extra) == 0 {
		return s.fields, nil
	}
	byHeader := map[string]string{} // a caller's header, normalized → its field
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if !slices.ContainsFunc(s.fields, func(f flatfile.Field) bool { return f.Name == name }) {
			return nil, kpi.Errorf(kpi.Invalid, "cli.import_unknown_field",
				map[string]any{"Field": name, "Kind": string(kind), "Fields": strings.Join(Fields(kind), ", ")}, nil)
		}
		for _, h := range extra[name] {
			k := normalizeHeader(h)
			if k == "" {
				continue
			}
			if other, dup := byHeader[k]; dup && other != name {
				return nil, kpi.Errorf(kpi.Invalid, "cli.import_header_twice",
					map[string]any{"Header": h, "Fields": other + ", " + name}, nil)
			}
			byHeader[k] = name
		}
	}
	inFile := map[string]bool{}
	if line != nil {
		if fr, err := flatfile.NewReader(bytes.NewReader(line), nil); err == nil {
			for _, h := range fr.Header {
				inFile[normalizeHeader(h)] = true
			}
		}
	}
	out := make([]flatfile.Field, len(s.fields))
	for i, fd := range s.fields {
		var own []string
		found := false
		for _, h := range extra[fd.Name] {
			if k := normalizeHeader(h); k != "" {
				own = append(own, h)
				found = found || inFile[k]
			}
		}
		if !found {
			for _, h := range fd.Headers {
				if _, taken := byHeader[normalizeHeader(h)]; !taken {
					own = append(own, h)
				}
			}
		}
		fd.Headers = own
		out[i] = fd
	}
	return out, nil
}

// columns returns the column of each field the header line has, found as
// flatfile finds it: the leftmost column with one of the field's headers.
func columns(header []string, fields []flatfile.Field) map[string]int {
	first := make(map[string]int, len(header))
	for i, h := range header {
		k := normalizeHeader(h)
		if _, dup := first[k]; !dup {
			first[k] = i
		}
	}
	cols := make(map[string]int, len(fields))
	for _, fd := range fields {
		for _, h := range fd.Headers {
			if i, ok := first[normalizeHeader(h)]; ok {
				if c, have := cols[fd.Name]; !have || i < c {
					cols[fd.Name] = i
				}
			}
		}
	}
	return cols
}

// normalizeHeader folds a header name as flatfile matches it: trimmed,
// narrow, lower case, a space or an underscore a hyphen.
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(width.Fold.String(h)))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' {
			return '-'
		}
		return r
	}, h)
}
