package shopify

import (
	"strings"
	"unicode"
)

// carrier names a Japanese carrier as kpi.Shipment does (yamato, sagawa,
// japanpost) from a fulfillment's tracking company, as Shopify lists them
// ("Yamato (JA)", "Sagawa (EN)", "Japan Post (JA)") or as a merchant types
// them, in English or Japanese ("ヤマト運輸", "クロネコヤマト", "佐川急便",
// "日本郵便", "ゆうパック", "Yu-Packet"); any other carrier keeps its name.
func carrier(name string) string {
	key := letters(name)
	switch {
	case strings.Contains(key, "yamato"), strings.Contains(key, "kuroneko"),
		strings.Contains(name, "ヤマト"), strings.Contains(name, "クロネコ"):
		return "yamato"
	case strings.Contains(key, "sagawa"), strings.Contains(name, "佐川"):
		return "sagawa"
	case strings.Contains(key, "japanpost"), strings.Contains(key, "jppost"), strings.Contains(key, "yupack"),
		strings.Contains(name, "日本郵便"), strings.Contains(name, "ゆうパック"),
		strings.Contains(name, "ゆうパケット"):
		return "japanpost"
	}
	return strings.TrimSpace(name)
}

// letters returns the letters and digits of s, in lower case.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}
