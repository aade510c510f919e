package kpi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// CustomerRef is the opaque key of a customer in Order.CustomerRef and
// Ticket.CustomerRef: the first 16 bytes of SHA-256(source + ":" + shop +
// ":" + id), in hex, where id is the platform's own key of the customer (a
// relay e-mail, an account id); "" without one. The id is never kept.
// Callers that compare ids without case fold them first.
func CustomerRef(source, shop, id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(source + ":" + shop + ":" + id))
	return hex.EncodeToString(sum[:16])
}

// Carrier names a Japanese carrier as Shipment.Carrier does (yamato,
// sagawa, japanpost) from how platforms, ERPs and merchants write it, in
// English, Japanese or Chinese ("Yamato Transport", "ヤマト運輸", "クロネコ",
// "黑猫", "佐川急便", "Japan Post", "日本郵便", "ゆうパック", "日本邮政"); any
// other carrier keeps its name.
func Carrier(name string) string {
	name = strings.TrimSpace(name)
	key := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, width.Fold.String(name))
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(key, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("yamato", "kuroneko", "ヤマト", "クロネコ", "黑猫"):
		return "yamato"
	case has("sagawa", "佐川"):
		return "sagawa"
	case has("japanpost", "jppost", "yupack", "日本郵便", "ゆうパック", "ゆうパケット", "日本邮政"):
		return "japanpost"
	}
	return name
}

// Money errors of ParseMoney.
var (
	ErrOtherCurrency = errors.New("an amount in another currency")
	ErrNotAnAmount   = errors.New("not an amount")
)

// ParseMoney reads a platform's decimal amount ("3980", "154.99") in
// currency as a whole amount of the shop's currency (JPY when ""), rounded:
// JPY has no minor unit. An amount in another currency, or not a
// non-negative number, is an error.
func ParseMoney(amount, currency, shopCurrency string) (int64, error) {
	if shopCurrency == "" {
		shopCurrency = "JPY"
	}
	if !strings.EqualFold(currency, shopCurrency) {
		return 0, ErrOtherCurrency
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(amount), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, ErrNotAnAmount
	}
	return int64(math.Round(v)), nil
}
