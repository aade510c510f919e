package kpi

import (
	"errors"
	"testing"
)

// Carrier names the three big Japanese carriers however platforms, ERPs
// and merchants write them; any other keeps its name, trimmed.
func TestCarrier(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Yamato (JA)", "yamato"},
		{"Yamato (EN)", "yamato"},
		{"YAMATO TRANSPORT", "yamato"},
		{"ヤマト運輸", "yamato"},
		{"クロネコヤマト", "yamato"},
		{"Kuroneko", "yamato"},
		{"Sagawa (JA)", "sagawa"},
		{"SAGAWA EXPRESS", "sagawa"},
		{"佐川急便", "sagawa"},
		{"Japan Post (EN)", "japanpost"},
		{"JP Post", "japanpost"},
		{"日本郵便", "japanpost"},
		{"ゆうパック", "japanpost"},
		{"ゆうパケット", "japanpost"},
		{"Yu-Pack", "japanpost"},
		{"Yu-Packet", "japanpost"},
		{" DHL Express ", "DHL Express"},
		{"西濃運輸", "西濃運輸"},
		{"ヤマト運輸（宅急便）", "yamato"},
		{"黑猫宅急便", "yamato"},
		{"ＳＡＧＡＷＡ", "sagawa"},
		{"日本邮政", "japanpost"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Carrier(tt.name); got != tt.want {
			t.Errorf("carrier(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// CustomerRef is stable, differs by source and shop, never shows the id,
// and is empty without one.
func TestCustomerRef(t *testing.T) {
	a := CustomerRef("amazon", "amz", "buyer@marketplace.amazon.co.jp")
	if len(a) != 32 || a != CustomerRef("amazon", "amz", " buyer@marketplace.amazon.co.jp ") {
		t.Errorf("CustomerRef = %q: want 32 hex digits, the same for the same id", a)
	}
	for _, other := range []string{CustomerRef("rakuten", "amz", "buyer@marketplace.amazon.co.jp"),
		CustomerRef("amazon", "amz2", "buyer@marketplace.amazon.co.jp"), CustomerRef("amazon", "amz", "other@x.jp")} {
		if other == a {
			t.Errorf("two customers share the ref %q", a)
		}
	}
	if got := CustomerRef("amazon", "amz", "  "); got != "" {
		t.Errorf("CustomerRef of no id = %q", got)
	}
}

// ParseMoney reads whole amounts of the shop's currency, rounded, and
// refuses other currencies and what is not an amount.
func TestParseMoney(t *testing.T) {
	tests := []struct {
		amount, currency, shop string
		want                   int64
		err                    error
	}{
		{"3980", "JPY", "", 3980, nil},
		{" 154.5 ", "jpy", "JPY", 155, nil},
		{"154.99", "USD", "USD", 155, nil},
		{"3980", "USD", "JPY", 0, ErrOtherCurrency},
		{"abc", "JPY", "", 0, ErrNotAnAmount},
		{"-1", "JPY", "", 0, ErrNotAnAmount},
		{"NaN", "JPY", "", 0, ErrNotAnAmount},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.amount, tt.currency, tt.shop)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseMoney(%q, %q, %q) = %d, %v; want %d, %v", tt.amount, tt.currency, tt.shop, got, err, tt.want, tt.err)
		}
	}
}
