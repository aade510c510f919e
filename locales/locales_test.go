package locales

import (
	"testing"

	"github.com/BurntSushi/toml"
)

// flatten returns the dotted message ids of a parsed TOML file.
func flatten(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		id := k
		if prefix != "" {
			id = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			flatten(id, v, out)
		case string:
			out[id] = v
		}
	}
}

func ids(t *testing.T, l Lang) map[string]string {
	t.Helper()
	data, err := files.ReadFile("active." + l.tag() + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	out := map[string]string{}
	flatten("", raw, out)
	return out
}

func TestEveryLanguageHasEveryMessage(t *testing.T) {
	en := ids(t, English)
	if len(en) < 100 {
		t.Fatalf("English has only %d messages", len(en))
	}
	for _, l := range []Lang{Chinese, Japanese} {
		other := ids(t, l)
		for id := range en {
			if _, ok := other[id]; !ok {
				t.Errorf("%s lacks %s", l, id)
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				t.Errorf("%s has %s, which English lacks", l, id)
			}
		}
	}
}

func TestPrinterLocalizes(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang Lang
		id   string
		data map[string]any
		want string
	}{
		{Chinese, "metric.return_rate.name", nil, "退货率"},
		{Japanese, "metric.return_rate.name", nil, "返品率"},
		{English, "metric.return_rate.name", nil, "return rate"},
		{Japanese, "period.last_days", map[string]any{"N": 7}, "過去7日間"},
		{Chinese, "unit.hours", map[string]any{"N": "1.5"}, "1.5 小时"},
		{Lang("fr"), "scope.all", nil, "all shops"},
		{English, "no.such.message", nil, "no.such.message"},
	}
	for in, want := range map[Lang]Lang{"ja-JP": Japanese, "zh-CN": Chinese, Bilingual: Chinese, "fr": English} {
		if got := c.Printer(in).Lang; got != want {
			t.Errorf("Printer(%q).Lang = %q, want %q", in, got, want)
		}
	}
	for _, tt := range tests {
		if got := c.Printer(tt.lang).T(tt.id, tt.data); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]Lang{
		"zh": Chinese, "zh-CN": Chinese, "zh_Hans": Chinese, "cn": Chinese,
		"ja": Japanese, "ja_JP.UTF-8": Japanese, "jp": Japanese,
		"en": English, "en-US": English, "C.UTF-8": "", "fr": "",
	} {
		if got, _ := ParseLang(in); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", in, got, want)
		}
	}
}
