package locales

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// Vocabulary is what people may type, gathered from every language's file:
// the parser understands 退货率, 返品率 and "return rate" whatever the
// asker's language.
type Vocabulary struct {
	// Metrics maps a metric id to its names and aliases.
	Metrics map[string][]Phrase
	// Words maps a word id (the keys of [alias]: today, help, vs,
	// platform_amazon, lang_ja, month_10, ...) to its phrases.
	Words map[string][]Phrase
	// Patterns maps a pattern id (the keys of [grammar]: last_days, month,
	// date, ...) to templates in which {n}, {y}, {m} and {d} stand for numbers.
	Patterns map[string][]Phrase
}

// Phrase is a word or template of one language.
type Phrase struct {
	Text string
	Lang Lang
}

// Vocabulary reads the vocabulary of every language file.
func (c *Catalog) Vocabulary() (Vocabulary, error) {
	v := Vocabulary{Metrics: map[string][]Phrase{}, Words: map[string][]Phrase{}, Patterns: map[string][]Phrase{}}
	for _, l := range Langs {
		name := "active." + l.tag() + ".toml"
		data, err := files.ReadFile(name)
		if err != nil {
			return v, fmt.Errorf("locales: %s: %w", name, err)
		}
		var raw struct {
			Metric  map[string]map[string]string
			Alias   map[string]string
			Grammar map[string]string
		}
		if err := toml.Unmarshal(data, &raw); err != nil {
			return v, fmt.Errorf("locales: %s: %w", name, err)
		}
		for id, m := range raw.Metric {
			v.Metrics[id] = append(v.Metrics[id], split(m["name"]+","+m["aliases"], l)...)
		}
		for id, s := range raw.Alias {
			v.Words[id] = append(v.Words[id], split(s, l)...)
		}
		for id, s := range raw.Grammar {
			v.Patterns[id] = append(v.Patterns[id], split(s, l)...)
		}
	}
	return v, nil
}

func split(s string, l Lang) []Phrase {
	var out []Phrase
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, Phrase{p, l})
		}
	}
	return out
}

// Guess tells the language of a message from its script: kana means
// Japanese, Han characters without kana mean Chinese, anything else English.
func Guess(text string) Lang {
	han := false
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana) || r == '\u30fc': // the prolonged sound mark
			return Japanese
		case unicode.Is(unicode.Han, r):
			han = true
		}
	}
	if han {
		return Chinese
	}
	return English
}
