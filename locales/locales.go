// Package locales holds every user-visible text of kpibot in Chinese,
// Japanese and English, embedded in the binary, and looks it up by language.
package locales

import (
	"embed"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed active.*.toml
var files embed.FS

// Lang is a language a person reads.
type Lang string

// The languages of kpibot.
const (
	Chinese  Lang = "zh"
	Japanese Lang = "ja"
	English  Lang = "en"
	// Bilingual is Chinese and Japanese together, for channels that HQ and
	// the Japan team share.
	Bilingual Lang = "zh+ja"
)

// Langs lists the languages of the message files.
var Langs = []Lang{Chinese, Japanese, English}

// ParseLang reads a language name or tag: zh, zh-CN, zh-Hans, cn, ja, ja-JP,
// jp, en, en-US, and the like.
func ParseLang(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s, _, _ = strings.Cut(s, ".") // ja_JP.UTF-8
	s = strings.ReplaceAll(s, "_", "-")
	switch {
	case s == "zh+ja" || s == "bilingual" || s == "bi":
		return Bilingual, true
	case s == "cn" || s == "zh" || strings.HasPrefix(s, "zh-"):
		return Chinese, true
	case s == "jp" || s == "ja" || strings.HasPrefix(s, "ja-"):
		return Japanese, true
	case s == "en" || strings.HasPrefix(s, "en-"):
		return English, true
	}
	return "", false
}

func (l Lang) tag() string {
	if l == Chinese {
		return "zh-Hans"
	}
	return string(l)
}

// Catalog is the loaded message files, with a printer for each language.
type Catalog struct {
	printers map[Lang]*Printer
}

// Load parses the embedded message files.
func Load() (*Catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, l := range Langs {
		name := "active." + l.tag() + ".toml"
		if _, err := b.LoadMessageFileFS(files, name); err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
	}
	c := &Catalog{printers: make(map[Lang]*Printer, len(Langs))}
	for _, l := range Langs {
		c.printers[l] = &Printer{Lang: l, loc: i18n.NewLocalizer(b, l.tag(), "en")}
	}
	return c, nil
}

// Printer returns the localizer for one language; unknown languages read
// English. Bilingual text is two replies put together by their user, so
// Bilingual reads Chinese here.
func (c *Catalog) Printer(lang Lang) *Printer {
	switch l, ok := ParseLang(string(lang)); {
	case !ok:
		return c.printers[English]
	case l == Bilingual:
		return c.printers[Chinese]
	default:
		return c.printers[l]
	}
}

// Printer localizes messages into one language; it is safe for concurrent
// use.
type Printer struct {
	Lang Lang
	loc  *i18n.Localizer
}

// T returns message id filled with data (a map or a struct). A missing id
// returns the id itself, so that a gap shows instead of hiding.
func (p *Printer) T(id string, data any) string {
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		return id
	}
	return s
}
