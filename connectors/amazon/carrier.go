package amazon

import (
	"strings"
	"unicode"
)

// carrier names a Japanese carrier as kpi.Shipment does (yamato, sagawa,
// japanpost) from how Amazon's answers and reports write it, in English or
// Japanese ("Yamato Transport", "ヤマト運輸", "JP Post", "ゆうパック"); any
// other carrier keeps its name.
func carrier(name string) string {
	key := letters(name)
	switch {
	case strings.Contains(key, "yamato"), strings.Contains(name, "ヤマト"):
		return "yamato"
	case strings.Contains(key, "sagawa"), strings.Contains(name, "佐川"):
		return "sagawa"
	case strings.Contains(key, "japanpost"), strings.Contains(key, "jppost"), key == "yupack",
		strings.Contains(name, "日本郵便"), strings.Contains(name, "ゆうパック"):
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
