package csvimport

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// The years a date may be in: a typo such as 0226 or 20266 is rejected
// rather than stored far from every KPI period.
const (
	firstYear = 2000
	lastYear  = 2099
)

// parseTime parses a date or a date and time as flatfile.ParseTime does,
// in loc when the value names no zone, and reports false for anything
// else or a year outside [firstYear, lastYear]. The common forms
// 2026-11-20, 2026/11/20, 2026-11-20 09:30 and 2026-11-20 09:30:00 are read
// without trying each layout.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	t, ok := parseTimeFast(s, loc)
	if !ok {
		var err error
		if t, err = flatfile.ParseTime(s, loc); err != nil {
			return time.Time{}, false
		}
	}
	if y := t.Year(); y < firstYear || y > lastYear {
		return time.Time{}, false
	}
	return t, true
}

// parseTimeFast reads YYYY-MM-DD or YYYY/MM/DD, alone or followed by a
// space or a T and hh:mm or hh:mm:ss, all digits ASCII. It reports false
// for any other form, and for a date or time that does not exist, so that
// the caller tries the other layouts or rejects it.
func parseTimeFast(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != 10 && len(s) != 16 && len(s) != 19 {
		return time.Time{}, false
	}
	sep := s[4]
	if (sep != '-' && sep != '/') || s[7] != sep {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) {
		return time.Time{}, false
	}
	var h, mi, sec int
	if len(s) > 10 {
		if (s[10] != ' ' && s[10] != 'T') || s[13] != ':' {
			return time.Time{}, false
		}
		var ok4, ok5 bool
		h, ok4 = digits(s[11:13])
		mi, ok5 = digits(s[14:16])
		if !ok4 || !ok5 || h > 23 || mi > 59 {
			return time.Time{}, false
		}
		if len(s) == 19 {
			var ok6 bool
			sec, ok6 = digits(s[17:19])
			if s[16] != ':' || !ok6 || sec > 59 {
				return time.Time{}, false
			}
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc), true
}

// digits reads a string of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseInt reads a whole number as flatfile.ParseInt does (full-width
// digits, 1,234), plain ASCII digits without its work.
func parseInt(s string) (int64, bool) {
	if n, ok := digits(s); ok && len(s) <= 18 {
		return int64(n), true
	}
	n, err := flatfile.ParseInt(s)
	return n, err == nil
}

// currencyMarks are the signs and codes an amount may be written with.
var currencyMarks = strings.NewReplacer("¥", "", "円", "", "元", "", "$", "", "JPY", "", "CNY", "", "RMB", "", "USD", "", " ", "")

// amountRE is a number with its thousands perhaps grouped and a fraction.
var amountRE = regexp.MustCompile(`^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$`)

// parseAmount reads an amount of money in the shop currency's major unit:
// digits (full-width too) with a currency sign or code (¥1,980, 1980円,
// JPY 1980), thousands grouped by commas, a fraction rounded to the
// nearest unit (kpi amounts are whole).
func parseAmount(s string) (int64, bool) {
	if n, ok := digits(s); ok && len(s) <= 18 {
		return int64(n), true
	}
	v := currencyMarks.Replace(strings.ToUpper(width.Narrow.String(s)))
	if !amountRE.MatchString(v) {
		return 0, false
	}
	v = strings.ReplaceAll(v, ",", "")
	if !strings.Contains(v, ".") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		return n, true
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.Abs(x) > 1e15 {
		return 0, false
	}
	return int64(math.Round(x)), true
}

// fold makes a word comparable: narrow, lower case, without spaces,
// hyphens, underscores or dots.
func fold(s string) string {
	s = strings.ToLower(width.Fold.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' || r == '・' {
			return -1
		}
		return r
	}, s)
}

// words builds a table of folded words from the words of each value.
func words[T comparable](byValue map[T][]string) map[string]T {
	m := make(map[string]T)
	for v, ws := range byValue {
		for _, w := range ws {
			k := fold(w)
			if prev, dup := m[k]; dup && prev != v {
				panic("csvimport: the word " + w + " means two things")
			}
			m[k] = v
		}
	}
	return m
}

// yesNo are the words for yes and no in flag columns.
var yesNo = words(map[bool][]string{
	true:  {"yes", "y", "true", "1", "○", "〇", "✓", "✔", "ok", "是", "有", "对", "はい", "あり", "有り", "済", "済み", "要", "対象"},
	false: {"no", "n", "false", "0", "×", "-", "否", "无", "不", "いいえ", "なし", "無し", "無", "未", "不要", "対象外"},
})

// orderStatuses are the order status words of ERPs and marketplaces, in
// English, Chinese and Japanese (Rakuten's order progress names too).
var orderStatuses = words(map[kpi.OrderStatus][]string{
	kpi.StatusPending: {"pending", "unpaid", "awaiting payment", "待付款", "未付款", "待支付",
		"入金待ち", "未入金", "支払い待ち", "注文確認待ち", "楽天処理中", "新規受付"},
	kpi.StatusUnshipped: {"unshipped", "paid", "awaiting shipment", "to ship", "processing", "待发货", "已付款", "待处理", "待审核", "配货中",
		"未発送", "発送待ち", "出荷待ち", "入金済み", "変更確定待ち"},
	kpi.StatusShipped: {"shipped", "in transit", "已发货", "运输中", "発送済み", "発送済", "出荷済み", "出荷済", "配送中",
		"支払手続き中", "支払手続き済"},
	kpi.StatusDelivered: {"delivered", "completed", "已签收", "已妥投", "已完成", "交易完成", "配達完了", "配達済み", "完了", "取引完了"},
	kpi.StatusCancelled: {"cancelled", "canceled", "已取消", "取消", "已关闭", "キャンセル", "キャンセル済み", "キャンセル確定", "キャンセル確定待ち"},
	kpi.StatusSellerCancelled: {"seller cancelled", "seller canceled", "seller_cancelled", "卖家取消", "商家取消",
		"店舗キャンセル", "出品者キャンセル"},
})

// channels are the words for who fulfils an order.
var channels = words(map[kpi.Channel][]string{
	kpi.ByMerchant: {"merchant", "seller", "self", "mfn", "fbm", "自发货", "自配送", "海外仓", "卖家", "自社出荷", "出品者出荷", "店舗発送", "自社"},
	kpi.ByPlatform: {"platform", "fba", "afn", "amazon", "rsl", "平台", "平台仓", "平台配送", "楽天スーパーロジスティクス", "amazon出荷", "プラットフォーム"},
})

// customsStatuses are the words of forwarders for where an entry stands.
var customsStatuses = words(map[kpi.CustomsStatus][]string{
	kpi.CustomsPending:  {"pending", "declared", "in progress", "申报中", "待清关", "清关中", "申告中", "審査中", "通関中"},
	kpi.CustomsCleared:  {"cleared", "released", "已放行", "已清关", "放行", "清关完成", "許可", "輸入許可", "通関済み", "許可済み"},
	kpi.CustomsHeld:     {"held", "on hold", "inspection", "查验", "查验中", "扣留", "暂扣", "保留", "検査", "検査中"},
	kpi.CustomsRejected: {"rejected", "refused", "退运", "拒绝", "不予放行", "不許可", "却下", "積戻し"},
})

// ticketKinds are the words for inquiries before and after a purchase.
var ticketKinds = words(map[kpi.TicketKind][]string{
	kpi.PreSale:   {"presale", "pre-sale", "before purchase", "售前", "售前咨询", "購入前", "購入前問い合わせ", "事前"},
	kpi.AfterSale: {"aftersale", "after-sale", "after purchase", "售后", "售后咨询", "購入後", "購入後問い合わせ", "アフター"},
})

// labelChecks are the words for a labelling check's result.
var labelChecks = words(map[kpi.LabelCheck][]string{
	kpi.LabelPassed:    {"passed", "pass", "ok", "合格", "通过", "已通过", "済", "適合"},
	kpi.LabelFailed:    {"failed", "fail", "ng", "不合格", "未通过", "不適合"},
	kpi.LabelUnchecked: {"unchecked", "not checked", "-", "未检查", "未確認", "未チェック"},
})

// languages are the names of the languages customers write in, by code.
var languages = words(map[string][]string{
	"ja": {"ja", "jp", "japanese", "日本語", "日语", "日文", "にほんご"},
	"zh": {"zh", "cn", "chinese", "中文", "中国語", "汉语", "华语", "简体中文", "繁體中文", "繁体中文"},
	"en": {"en", "english", "英語", "英语", "英文"},
	"ko": {"ko", "kr", "korean", "韓国語", "韩语", "韓国"},
})

// langCodeRE is a language code kpibot has no name for: ISO 639-1 or -3.
var langCodeRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// lang reads a language's name or code; "" and false for neither.
func lang(s string) (string, bool) {
	k := fold(s)
	if code, ok := languages[k]; ok {
		return code, true
	}
	if langCodeRE.MatchString(k) {
		return k, true
	}
	return "", false
}

// langSeparators split a list of languages: ja,zh / ja・zh / ja、zh / ja+zh.
var langSeparators = regexp.MustCompile(`[,;/、，+\s]+`)
