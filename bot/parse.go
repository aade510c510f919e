package bot

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Action is what a command asks for.
type Action string

// Actions.
const (
	ActionMetric Action = "metric"
	ActionHelp   Action = "help"
	ActionList   Action = "list"
	ActionStatus Action = "status"
	// The scheduled reports, on demand: the daily digest (of the period's
	// day, else yesterday) and the weekly and monthly reviews (of the week
	// or month asked, else the last one).
	ActionDigest  Action = "digest"
	ActionWeekly  Action = "weekly"
	ActionMonthly Action = "monthly"
	ActionLang    Action = "lang"
	ActionBind    Action = "bind"
	// ActionBindCode makes a one-time code that binds a channel elsewhere.
	ActionBindCode Action = "bind_code"
	// The alerts: the list of the active ones, and what someone does to
	// one of them, named by its number (#12): acknowledge it (someone is on
	// it, no escalation), snooze it, resolve it by hand.
	ActionAlerts  Action = "alerts"
	ActionAck     Action = "ack"
	ActionSnooze  Action = "snooze"
	ActionResolve Action = "resolve"
	// The alert rules: the list of those in force, and a change of one
	// from chat (Command.Rule, Command.RuleReset).
	ActionRules Action = "rules"
	ActionRule  Action = "rule"
)

// onAlert tells whether an action is done to one alert, which the line
// names by its number.
func (a Action) onAlert() bool {
	return a == ActionAck || a == ActionSnooze || a == ActionResolve
}

// DefaultSnooze is how long snooze quiets an alert when the line does not
// say.
const DefaultSnooze = 2 * time.Hour

// snoozeMorning is when a snooze "until tomorrow" ends: 09:00 JST, when the
// working day starts.
const snoozeMorning = 9 * time.Hour

// SnoozeKind says how a snooze ends.
type SnoozeKind string

// Snooze kinds.
const (
	SnoozeFor      SnoozeKind = "for"      // after Snooze.For
	SnoozeClock    SnoozeKind = "clock"    // at Snooze.Clock JST, today or else tomorrow
	SnoozeTomorrow SnoozeKind = "tomorrow" // at 09:00 JST the next day
	SnoozeResolved SnoozeKind = "resolved" // when the alert resolves
)

// Snooze is how long a snooze quiets an alert.
type Snooze struct {
	Kind  SnoozeKind
	For   time.Duration // SnoozeFor: how long
	Clock time.Duration // SnoozeClock: the time of day, since midnight JST
}

// Until is when a snooze asked for at now ends; the zero time for one that
// lasts until the alert resolves.
func (s Snooze) Until(now time.Time) time.Time {
	switch s.Kind {
	case SnoozeResolved:
		return time.Time{}
	case SnoozeTomorrow:
		return (kpi.DateOf(now) + 1).Start().Add(snoozeMorning)
	case SnoozeClock:
		at := kpi.DateOf(now).Start().Add(s.Clock)
		if !at.After(now) {
			at = (kpi.DateOf(now) + 1).Start().Add(s.Clock)
		}
		return at
	}
	return now.Add(cmp.Or(s.For, DefaultSnooze))
}

// Command is a parsed chat line.
type Command struct {
	Action Action
	Query  kpi.Query    // the metric, scope and periods; for status, the scope and period
	Topic  string       // help: a command or metric id to explain
	Lang   locales.Lang // lang: the language to keep; bind and bind_code: the channel's
	Role   kpi.Role     // bind and bind_code: the channel's role
	// Code is bind's one-time code (ABCDEFGH), which stands for the role,
	// the language, the shops and the digest's time.
	Code string
	// DigestAt is the daily digest's time that bind and bind_code give the
	// channel, "HH:MM" JST; "" for the default.
	DigestAt string
	// AlertID is the alert that ack, snooze and resolve are about.
	AlertID int64
	// Snooze is how long snooze quiets the alert.
	Snooze Snooze
	// Rule is the change rule makes: the rule's metric and shop ("": every
	// shop) and the settings the line sets. RuleReset asks instead to undo
	// the changes made from chat, back to the default and the config file.
	Rule      kpi.RuleOverride
	RuleReset bool
	// Shops and Platforms are what bind gives the channel to see.
	Shops     []string
	Platforms []kpi.Platform
	Notes     []Note // what the parser corrected or ignored
	// Chart asks for the answer drawn too: a metric's day-by-day trend, or
	// the overview of a status or digest.
	Chart bool
	// Written is the language the line's words belong to, when they all
	// belong to one (返品率 is Japanese even without kana); empty otherwise.
	Written locales.Lang
}

// metricID is a metric id in an error's arguments, which the reply names in
// the asker's language.
type metricID string

// Note is a remark on how a line was read, as a locale message.
type Note struct {
	Key  string
	Args map[string]any
}

type kind int

const (
	tokMetric kind = iota + 1
	tokPlatform
	tokShop
	tokPeriod
	tokCommand
	tokLang
	tokVs
	tokRangeSep
	tokBad // a date or month that does not exist (2026-02-30)
	tokRole
	tokChart // "chart", 图表, グラフ: draw the answer too
	// Only the alert commands read these; elsewhere they are ignored words.
	tokNumber   // a word of digits: an alert's number (#12 is normalised to 12)
	tokDuration // a snooze's length: 2h, 2小时, 30分
	tokSnooze   // a snooze's end: tomorrow, until resolved (value)
)

// reads tells whether action a reads tokens of kind k.
func (a Action) reads(k kind) bool {
	switch k {
	case tokNumber:
		return a.onAlert()
	case tokDuration, tokSnooze:
		return a == ActionSnooze
	}
	return true
}

// token is one recognised piece of a line.
type token struct {
	kind   kind
	value  string        // metric id, platform, shop id, command, language
	period kpi.Period    // tokPeriod
	date   bool          // tokPeriod: a single date, which a range may join
	pos    int           // byte offset in the normalised line
	text   string        // what it was read from, normalised
	dur    time.Duration // tokDuration
	langs  langSet       // the languages whose vocabulary has the phrase
}

// langSet is a set of languages, one bit each.
type langSet uint8

func langBit(l locales.Lang) langSet {
	for i, x := range locales.Langs {
		if x == l {
			return 1 << i
		}
	}
	return 0
}

// phrase is a fixed word of the vocabulary and what it means.
type phrase struct {
	text  string
	runes []rune // text, for edit distances
	tok   token
	// month is set for month names (October): the period depends on now.
	month time.Month
	// period is set for period words (today, 先週).
	period kpi.PeriodKind
}

// pattern is a template with numbers, compiled.
type pattern struct {
	re    *regexp.Regexp
	kind  string  // last_days, month, year_month, date, month_day
	langs langSet // empty for the built-in forms
	lead  rune    // the first character a match starts with; 0 for a digit
}

// Parser reads chat lines in Chinese, Japanese and English. It is built once
// from the locale files' vocabulary and is safe for concurrent use.
type Parser struct {
	byRune   map[rune][]phrase // by first rune, longest first
	byLen    map[int][]int     // indexes into phrases by rune count, for typo search
	phrases  []phrase
	patterns []pattern
	// ruleWords are the settings of a rule change and the other words
	// only a rule line reads (rules.go); rulesNames are the rules
	// command's phrases, which a rule line has.
	ruleWords  []ruleWord
	rulesNames []string
}

// Built-in numeric forms, the same in every language.
var builtins = []pattern{
	{regexp.MustCompile(`^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})`), "date", 0, 0},
	{regexp.MustCompile(`^(?P<y>\d{4})[-/.](?P<m>\d{1,2})`), "year_month", 0, 0},
	{regexp.MustCompile(`^(?P<m>\d{1,2})/(?P<d>\d{1,2})`), "month_day", 0, 0},
	{regexp.MustCompile(`^(?P<n>\d{1,3})d`), "last_days", 0, 0},
}

// NewParser builds a parser from the vocabulary of every language.
func NewParser(v locales.Vocabulary) (*Parser, error) {
	p := &Parser{byRune: map[rune][]phrase{}}
	seen := map[string]int{} // text → index in p.phrases
	add := func(w locales.Phrase, ph phrase) {
		text := Normalize(w.Text)
		if w.Text == "-" {
			text = "-" // a range separator, which Normalize reads as a space
		}
		if text == "" {
			return
		}
		ph.text = text
		ph.tok.langs = langBit(w.Lang)
		if i, ok := seen[text]; ok && same(p.phrases[i], ph) {
			p.phrases[i].tok.langs |= ph.tok.langs // the same word in two languages
			return
		}
		seen[text] = len(p.phrases)
		p.phrases = append(p.phrases, ph)
	}
	for id, names := range v.Metrics {
		if _, ok := kpi.Lookup(id); !ok {
			return nil, fmt.Errorf("bot: vocabulary names unknown metric %q", id)
		}
		add(locales.Phrase{Text: id}, phrase{tok: token{kind: tokMetric, value: id}})
		for _, n := range names {
			add(n, phrase{tok: token{kind: tokMetric, value: id}})
		}
	}
	periods := map[string]kpi.PeriodKind{"today": kpi.KindToday, "yesterday": kpi.KindYesterday,
		"this_week": kpi.KindThisWeek, "last_week": kpi.KindLastWeek, "this_month": kpi.KindThisMonth, "last_month": kpi.KindLastMonth}
	for id, words := range v.Words {
		var ph phrase
		switch {
		case periods[id] != "":
			ph = phrase{tok: token{kind: tokPeriod}, period: periods[id]}
		case strings.HasPrefix(id, "month_"):
			m, err := strconv.Atoi(strings.TrimPrefix(id, "month_"))
			if err != nil || m < 1 || m > 12 {
				return nil, fmt.Errorf("bot: vocabulary: bad month %q", id)
			}
			ph = phrase{tok: token{kind: tokPeriod}, month: time.Month(m)}
		case strings.HasPrefix(id, "platform_"):
			ph = phrase{tok: token{kind: tokPlatform, value: strings.TrimPrefix(id, "platform_")}}
		case strings.HasPrefix(id, "lang_"):
			ph = phrase{tok: token{kind: tokLang, value: strings.TrimPrefix(id, "lang_")}}
		case id == "vs":
			ph = phrase{tok: token{kind: tokVs}}
		case id == "chart":
			ph = phrase{tok: token{kind: tokChart}}
		case id == "range_sep":
			ph = phrase{tok: token{kind: tokRangeSep}}
		case id == "snooze_"+string(SnoozeTomorrow) || id == "snooze_"+string(SnoozeResolved):
			ph = phrase{tok: token{kind: tokSnooze, value: strings.TrimPrefix(id, "snooze_")}}
		case strings.HasPrefix(id, "role_"):
			ph = phrase{tok: token{kind: tokRole, value: strings.ReplaceAll(strings.TrimPrefix(id, "role_"), "_", "-")}}
		case id == "help" || id == "list" || id == "status" || id == "lang" || id == "bind" || id == "bind_code" ||
			id == "digest" || id == "weekly" || id == "monthly" ||
			id == "alerts" || id == "ack" || id == "snooze" || id == "resolve" || id == "rules":
			ph = phrase{tok: token{kind: tokCommand, value: id}}
		case strings.HasPrefix(id, "rule_"):
			// Only a rule line reads them: elsewhere "关闭" resolves an
			// alert and "on" is an ignored word.
			if err := p.addRuleWords(strings.TrimPrefix(id, "rule_"), words); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, fmt.Errorf("bot: vocabulary: unknown word id %q", id)
		}
		for _, w := range words {
			add(w, ph)
		}
	}
	for _, sep := range []string{"..", "~", "-", "to"} {
		add(locales.Phrase{Text: sep}, phrase{tok: token{kind: tokRangeSep}})
	}
	for _, pl := range kpi.Platforms {
		add(locales.Phrase{Text: string(pl)}, phrase{tok: token{kind: tokPlatform, value: string(pl)}})
	}
	slices.SortFunc(p.phrases, func(a, b phrase) int { return len(b.text) - len(a.text) })
	p.byLen = map[int][]int{}
	for i := range p.phrases {
		p.phrases[i].runes = []rune(p.phrases[i].text)
		p.byLen[len(p.phrases[i].runes)] = append(p.byLen[len(p.phrases[i].runes)], i)
	}
	for _, ph := range p.phrases {
		r, _ := utf8.DecodeRuneInString(ph.text)
		p.byRune[r] = append(p.byRune[r], ph)
		if ph.tok.kind == tokCommand && Action(ph.tok.value) == ActionRules {
			p.rulesNames = append(p.rulesNames, ph.text)
		}
	}
	for kind, templates := range v.Patterns {
		for _, t := range templates {
			re, err := compileTemplate(Normalize(t.Text))
			if err != nil {
				return nil, fmt.Errorf("bot: vocabulary: pattern %s %q: %w", kind, t.Text, err)
			}
			lead, _ := utf8.DecodeRuneInString(Normalize(t.Text))
			if lead == '{' {
				lead = 0
			}
			p.patterns = append(p.patterns, pattern{re, kind, langBit(t.Lang), lead})
		}
	}
	// Longer templates first, so that "最近{n}天" wins over "{n}天".
	slices.SortStableFunc(p.patterns, func(a, b pattern) int { return len(b.re.String()) - len(a.re.String()) })
	p.patterns = append(p.patterns, builtins...)
	return p, nil
}

// compileTemplate turns "last {n} days" into ^last\s*(?P<n>\d{1,3})\s*days.
func compileTemplate(t string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for t != "" {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(literal(t))
			break
		}
		b.WriteString(literal(t[:i]))
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		switch name := t[i+1 : i+j]; name {
		case "n":
			b.WriteString(`\s*(?P<n>\d{1,3})\s*`)
		case "y":
			b.WriteString(`\s*(?P<y>\d{4})\s*`)
		case "m", "d":
			b.WriteString(`\s*(?P<` + name + `>\d{1,2})\s*`)
		default:
			return nil, fmt.Errorf("unknown placeholder {%s}", name)
		}
		t = t[i+j+1:]
	}
	return regexp.Compile(b.String())
}

func literal(s string) string {
	var parts []string
	for _, f := range strings.Fields(s) {
		parts = append(parts, regexp.QuoteMeta(f))
	}
	out := strings.Join(parts, `\s*`)
	if strings.HasPrefix(s, " ") && out != "" {
		out = `\s*` + out
	}
	return out
}

// Normalize folds full-width letters, digits and spaces (ｋｐｉ　返品率) to
// ASCII, lower-cases, reads - and _ between words as spaces, drops
// punctuation but a colon between digits (８：３０ is 8:30) and collapses
// white space.
func Normalize(text string) string {
	if ascii(text) {
		return normalizeASCII(text)
	}
	var b strings.Builder
	b.Grow(len(text))
	space := true // at the start: drop leading space
	runes := []rune(text)
	for i, r := range runes {
		switch {
		case r == '\u3000':
			r = ' '
		case r == '\u301c': // wave dash, as in 10/1〜10/15
			r = '~'
		case r >= '\uff01' && r <= '\uff5e':
			r -= 0xfee0
		}
		r = unicode.ToLower(r)
		betweenDigits := i > 0 && i+1 < len(runes) && isDigit(fold(runes[i-1])) && isDigit(fold(runes[i+1]))
		if (r == '-' || r == '_') && !betweenDigits {
			r = ' '
		}
		if r != '-' && r != '.' && r != '/' && r != '~' && r != '{' && r != '}' && r != '@' && r != '<' && r != '>' &&
			!(r == ':' && betweenDigits) && (unicode.IsPunct(r) || unicode.IsSymbol(r) && r != '+') {
			r = ' '
		}
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeASCII is Normalize for text without a non-ASCII byte, which is
// most of what is typed and every shop id.
func normalizeASCII(text string) string {
	b := make([]byte, 0, len(text))
	space := true
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		betweenDigits := i > 0 && i+1 < len(text) && isDigit(rune(text[i-1])) && isDigit(rune(text[i+1]))
		if (c == '-' || c == '_') && !betweenDigits {
			c = ' '
		}
		if c != '-' && c != '.' && c != '/' && c != '~' && c != '{' && c != '}' && c != '@' && c != '<' && c != '>' && c != '+' &&
			!(c == ':' && betweenDigits) && (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			c = ' '
		}
		if c == ' ' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = append(b, c)
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func fold(r rune) rune {
	if r >= '\uff01' && r <= '\uff5e' {
		return r - 0xfee0
	}
	return r
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isWordByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// dateLikeRE matches what was meant as a date or a month but is none
// (2026-13, 2026-02-30).
var dateLikeRE = regexp.MustCompile(`^\d+[-/.]\d+(?:[-/.]\d+)?$`)

// mentionRE matches a leading mention of the bot: <@U123ABC> (Slack) or @name.
var mentionRE = regexp.MustCompile(`^(?:<@[a-z0-9]+(?:\|[^>]*)?>|@\S+)\s*`)

// Parse reads one chat line: "/kpi <metric> [shop|platform] [period] [vs
// <period>]", also without the slash, as a mention or a bare "kpi …", in
// any order; help, list, status, lang, bind and bind_code, which may name
// the daily digest's time (08:30); alerts, and ack, snooze or resolve with
// an alert's number (12, #12, ＃１２), snooze with how long (2h, tomorrow,
// until resolved, 18:00; DefaultSnooze if none); rules, and rule with a
// metric and its settings (see rules.go). Errors are *kpi.Error with a
// locale key; what it guessed or ignored comes back as Notes.
func (p *Parser) Parse(text string, shops []kpi.Shop, now time.Time) (Command, error) {
	cmd, err := p.parse(text, shops, now)
	if err == nil && cmd.Action == ActionSnooze && cmd.Snooze == (Snooze{}) {
		cmd.Snooze = Snooze{Kind: SnoozeFor, For: DefaultSnooze}
	}
	return cmd, err
}

func (p *Parser) parse(text string, shops []kpi.Shop, now time.Time) (Command, error) {
	full := Normalize(text)
	s := full
	for {
		loc := mentionRE.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = s[loc[1]:]
	}
	for _, prefix := range []string{"/kpi", "kpi"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok && (rest == "" || !isWordByte(rest[0])) {
			s = strings.TrimLeft(rest, " ")
			break
		}
	}
	s = strings.TrimPrefix(s, "/")
	names := make([]shopName, 0, 2*len(shops))
	for _, sh := range shops {
		names = append(names, shopName{Normalize(sh.ID), sh.ID}, shopName{Normalize(sh.Name), sh.ID})
	}
	// A rule line has a grammar of its own, and a runbook that is read as
	// typed: it is read before anything is cut out of it.
	if p.isRuleLine(s, names, now) {
		return p.readRule(text, full, s, shops, names, now)
	}
	// "bind hq zh 08:30": the time is cut out first, so that its digits are
	// not read as words; it is the digest's time of a bind or a bind_code,
	// the end of a snooze ("snooze 12 18:00"), and means nothing elsewhere:
	// a line that is none of them once the time is cut out is read whole.
	if clock, from, to := findClock(s); clock != "" {
		cmd, err := p.readCode(text, s[:from]+" "+s[to:], names, now)
		if err == nil && (cmd.Action == ActionBind || cmd.Action == ActionBindCode || cmd.Action == ActionSnooze) {
			at, err := kpi.ParseClock(clock)
			if err != nil {
				return Command{}, err
			}
			if cmd.Action == ActionSnooze {
				if cmd.Snooze != (Snooze{}) {
					return Command{}, kpi.Errorf(kpi.Invalid, "error.snooze_choice", nil, nil)
				}
				cmd.Snooze = Snooze{Kind: SnoozeClock, Clock: at}
				return cmd, nil
			}
			cmd.DigestAt = kpi.FormatClock(at)
			return cmd, nil
		}
	}
	return p.readCode(text, s, names, now)
}

// readCode reads a normalised line whose prefix is gone. "bind ABCD-EFGH":
// the code is cut out first, so that its letters are not read as words. A
// line that is no bind without a role once the code is cut out is read
// whole.
func (p *Parser) readCode(text, s string, names []shopName, now time.Time) (Command, error) {
	if code, from, to := findCode(s); code != "" {
		if cmd, err := p.read(text, s[:from]+" "+s[to:], names, now, code); err == nil && cmd.Code != "" {
			return cmd, nil
		}
	}
	return p.read(text, s, names, now, "")
}

// read reads a normalised line whose prefix is gone; code is the bind code
// cut out of it, if any.
func (p *Parser) read(text, s string, names []shopName, now time.Time, code string) (Command, error) {
	toks, unknown := p.scan(s, names, now)
	var notes []Note
	for _, u := range unknown {
		if dateLikeRE.MatchString(u.text) {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.bad_period", map[string]any{"Text": u.text}, nil)
		}
		t, meant, dist := p.closest(u.text, names, now)
		if dist == 1 && utf8.RuneCountInString(u.text) >= minFuzzyRunes(u.text) {
			t.pos, t.text = u.pos, u.text
			toks = append(toks, t)
			notes = append(notes, Note{"note.read_as", map[string]any{"Typed": u.text, "Meant": meant}})
			continue
		}
		// Two edits make another word of a short one ("abcd" is no "ack").
		if dist <= 2 && meant != "" && utf8.RuneCountInString(u.text) >= 3 && (dist < 2 || utf8.RuneCountInString(meant) >= 4) {
			return Command{}, kpi.Errorf(kpi.NotFound, "error.did_you_mean", map[string]any{"Word": u.text, "Suggestion": meant}, nil)
		}
		notes = append(notes, Note{"note.ignored", map[string]any{"Word": u.text}})
	}
	slices.SortFunc(toks, func(a, b token) int { return a.pos - b.pos })
	toks = joinRanges(toks)
	cmd, err := interpret(toks, code)
	if err != nil {
		return Command{Written: written(toks)}, err // its error in the language of its words
	}
	understood := len(toks)
	for _, t := range toks {
		if !cmd.Action.reads(t.kind) { // a number or a snooze's length in a line about something else
			notes = append(notes, Note{"note.ignored", map[string]any{"Word": t.text}})
			understood--
		}
	}
	if cmd.Action == ActionHelp && understood == 0 && len(notes) > 0 {
		// Nothing understood at all: say so rather than show help.
		return Command{}, kpi.Errorf(kpi.NotFound, "error.not_understood", map[string]any{"Text": strings.TrimSpace(text)}, nil)
	}
	cmd.Notes = notes
	cmd.Written = written(toks)
	return cmd, nil
}

// findCode finds a bind code in a normalised line: a word of two runs of
// four of the code alphabet, lower-cased, with a space (a dash, normalised),
// a dash (between digits) or a long vowel mark (ー, typed for a dash)
// between them, or nothing. It returns the code, upper-cased, and where it
// is in s; "" if there is none.
func findCode(s string) (code string, from, to int) {
	four := func(i int) bool {
		if i+4 > len(s) {
			return false
		}
		for _, c := range []byte(s[i : i+4]) {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if strings.IndexByte(codeAlphabet, c) < 0 {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 <= len(s); i++ {
		if i > 0 && isWordByte(s[i-1]) || !four(i) {
			continue
		}
		for _, sep := range []string{"", " ", "-", "ー"} {
			j := i + 4 + len(sep)
			if strings.HasPrefix(s[i+4:], sep) && four(j) && (j+4 == len(s) || !isWordByte(s[j+4])) {
				return strings.ToUpper(s[i:i+4] + s[j:j+4]), i, j + 4
			}
		}
	}
	return "", 0, 0
}

// findClock finds what may be a time of day in a normalised line: a word of
// digits and colons (Normalize keeps a colon between digits) with a colon in
// it: 8:30, 08:30, and also 24:00 or 8:30:00, which kpi.ParseClock refuses.
// It returns the word and where it is in s; "" if there is none.
func findClock(s string) (clock string, from, to int) {
	for i := 0; i < len(s); {
		if !isDigit(rune(s[i])) || i > 0 && isWordByte(s[i-1]) {
			i++
			continue
		}
		j, colon := i, false
		for j < len(s) && (isDigit(rune(s[j])) || s[j] == ':') {
			colon = colon || s[j] == ':'
			j++
		}
		if colon && (j == len(s) || !isWordByte(s[j])) {
			return s[i:j], i, j
		}
		i = j
	}
	return "", 0, 0
}

// written returns the one language all the words of toks belong to, if any.
func written(toks []token) locales.Lang {
	all := langSet(1<<len(locales.Langs) - 1)
	common := all
	for _, t := range toks {
		if t.langs != 0 {
			common &= t.langs
		}
	}
	if common == all || common == 0 || common&(common-1) != 0 {
		return "" // no words with a language, or in more than one
	}
	for i, l := range locales.Langs {
		if common == 1<<i {
			return l
		}
	}
	return ""
}

func minFuzzyRunes(s string) int {
	if s != "" && s[0] < utf8.RuneSelf {
		return 4
	}
	return 3
}

// shopName is a shop's id or name, normalised, and its id.
type shopName struct{ name, id string }

type span struct {
	text string
	pos  int
}

// scan splits s into tokens and the spans it did not recognise; adjacent
// unknown ASCII words form one span ("retrun rate").
func (p *Parser) scan(s string, shops []shopName, now time.Time) ([]token, []span) {
	var toks []token
	var unknown []span
	lastUnknownEnd := -1
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		if t, n := p.match(s, i, shops, now); n > 0 {
			t.pos, t.text = i, s[i:i+n]
			toks = append(toks, t)
			i += n
			continue
		}
		j := i
		if isWordByte(s[i]) {
			for j < len(s) && s[j] != ' ' && s[j] < utf8.RuneSelf {
				j++
			}
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			j += size
			for j < len(s) && s[j] != ' ' && s[j] >= utf8.RuneSelf {
				if _, n := p.match(s, j, shops, now); n > 0 {
					break
				}
				_, size := utf8.DecodeRuneInString(s[j:])
				j += size
			}
		}
		if lastUnknownEnd >= 0 && strings.TrimSpace(s[lastUnknownEnd:i]) == "" && len(unknown) > 0 && isWordByte(s[i]) {
			u := &unknown[len(unknown)-1]
			u.text = s[u.pos:j]
		} else {
			unknown = append(unknown, span{s[i:j], i})
		}
		lastUnknownEnd = j
		i = j
	}
	return toks, unknown
}

// match returns the longest token that starts at s[i:] and its length.
func (p *Parser) match(s string, i int, shops []shopName, now time.Time) (token, int) {
	rest := s[i:]
	var best token
	bestLen := 0
	boundary := func(n int) bool {
		// An ASCII word must not stop in the middle of a longer one.
		return !(isWordByte(rest[n-1]) && n < len(rest) && isWordByte(rest[n]))
	}
	r, _ := utf8.DecodeRuneInString(rest)
	for _, ph := range p.byRune[r] {
		if strings.HasPrefix(rest, ph.text) && boundary(len(ph.text)) {
			best, bestLen = p.resolve(ph, now), len(ph.text)
			break
		}
	}
	// A shop whose id or name is also a word ("rakuten") is the platform:
	// only a longer name ("rakuten flagship") means the shop.
	for _, sh := range shops {
		if sh.name != "" && len(sh.name) > bestLen && strings.HasPrefix(rest, sh.name) && boundary(len(sh.name)) {
			best, bestLen = token{kind: tokShop, value: sh.id}, len(sh.name)
		}
	}
	badLen := 0
	for _, pt := range p.patterns {
		if pt.lead == 0 && !isDigit(r) || pt.lead != 0 && pt.lead != r {
			continue
		}
		loc := pt.re.FindStringSubmatchIndex(rest)
		if loc == nil || loc[1] <= bestLen || !boundary(loc[1]) {
			continue
		}
		if t, ok := periodOf(pt, rest, loc, now); ok {
			t.langs = pt.langs
			best, bestLen = t, loc[1]
		} else {
			badLen = max(badLen, loc[1])
		}
	}
	if badLen > bestLen {
		return token{kind: tokBad, value: rest[:badLen]}, badLen
	}
	// A word of digits that is nothing else: an alert's number. It ends
	// where an ASCII word would ("12番", "确认12" and "12 h" have one).
	if isDigit(r) {
		n := 1
		for n < len(rest) && isDigit(rune(rest[n])) {
			n++
		}
		if n > bestLen && (n == len(rest) || rest[n] == ' ' || rest[n] >= utf8.RuneSelf) {
			return token{kind: tokNumber, value: rest[:n]}, n
		}
	}
	return best, bestLen
}

// resolve fills in the period of a period word at now.
func (p *Parser) resolve(ph phrase, now time.Time) token {
	t := ph.tok
	switch {
	case ph.period != "":
		t.period = kpi.PeriodOf(ph.period, 0, now)
	case ph.month != 0:
		t.period = monthAt(0, ph.month, now)
	}
	return t
}

// monthAt is month m of year y, or of the latest year in which it has begun.
func monthAt(y int, m time.Month, now time.Time) kpi.Period {
	today := kpi.DateOf(now)
	if y == 0 {
		y = today.Year()
		if m > today.Month() {
			y--
		}
	}
	return kpi.Month(y, m)
}

func periodOf(pt pattern, s string, loc []int, now time.Time) (token, bool) {
	num := func(name string) int {
		i := pt.re.SubexpIndex(name)
		if i < 0 || loc[2*i] < 0 {
			return 0
		}
		n, _ := strconv.Atoi(s[loc[2*i]:loc[2*i+1]])
		return n
	}
	y, m, d, n := num("y"), num("m"), num("d"), num("n")
	today := kpi.DateOf(now)
	switch pt.kind {
	case "snooze_hours":
		return token{kind: tokDuration, dur: time.Duration(n) * time.Hour}, true
	case "snooze_minutes":
		return token{kind: tokDuration, dur: time.Duration(n) * time.Minute}, true
	case "last_days":
		if n < 1 || n > 366 {
			return token{}, false
		}
		return token{kind: tokPeriod, period: kpi.LastDays(now, n)}, true
	case "month", "year_month":
		if m < 1 || m > 12 || (y != 0 && (y < 2000 || y > 2100)) {
			return token{}, false
		}
		return token{kind: tokPeriod, period: monthAt(y, time.Month(m), now)}, true
	case "date", "month_day":
		if y == 0 {
			y = today.Year()
			if kpi.NewDate(y, time.Month(m), min(d, 28)) > today {
				y--
			}
		}
		date, err := kpi.ParseDate(fmt.Sprintf("%d-%d-%d", y, m, d))
		if err != nil {
			return token{}, false
		}
		return token{kind: tokPeriod, period: kpi.Day(date), date: true}, true
	}
	return token{}, false
}

// joinRanges turns date, separator, date into one range.
func joinRanges(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokPeriod && t.date && i+2 < len(toks) && toks[i+1].kind == tokRangeSep &&
			toks[i+2].kind == tokPeriod && toks[i+2].date {
			t.period = kpi.Range(t.period.From, toks[i+2].period.From)
			t.date = false
			i += 2
		}
		out = append(out, t)
	}
	return out
}

// interpret turns tokens, and the bind code cut out of the line if any, into
// a command.
func interpret(toks []token, code string) (Command, error) {
	var cmd Command
	var metrics, scopes []token
	var periods, compare []token
	var numbers, choices []token // an alert's number; a snooze's length or end
	afterVs := false
	for _, t := range toks {
		switch t.kind {
		case tokCommand:
			switch {
			case cmd.Action == "":
				cmd.Action = Action(t.value)
			case cmd.Action == ActionHelp && cmd.Topic == "":
				cmd.Topic = t.value
			case cmd.Action == ActionAlerts && Action(t.value).onAlert():
				cmd.Action = Action(t.value) // "アラート12を確認": what is done to it
			}
		case tokNumber:
			numbers = append(numbers, t)
		case tokDuration, tokSnooze:
			choices = append(choices, t)
		case tokMetric:
			if !slices.ContainsFunc(metrics, func(m token) bool { return m.value == t.value }) {
				metrics = append(metrics, t)
			}
		case tokShop, tokPlatform:
			if !slices.ContainsFunc(scopes, func(s token) bool { return s.kind == t.kind && s.value == t.value }) {
				scopes = append(scopes, t)
			}
		case tokPeriod:
			if afterVs {
				compare = append(compare, t)
			} else {
				periods = append(periods, t)
			}
		case tokVs:
			afterVs = true
		case tokChart:
			cmd.Chart = true
		case tokLang:
			cmd.Lang = locales.Lang(t.value)
			if t.value == "bi" {
				cmd.Lang = locales.Bilingual
			}
		case tokRole:
			cmd.Role = kpi.Role(t.value)
		case tokBad:
			return Command{}, kpi.Errorf(kpi.Invalid, "error.bad_period", map[string]any{"Text": t.value}, nil)
		}
	}
	if cmd.Action.onAlert() && len(numbers) == 0 && (len(metrics) > 0 || len(scopes) > 0 || len(periods) > 0 && cmd.Action != ActionSnooze) {
		// "返品率を確認", "收到的差评 上周": a word that may mean ack in a
		// question about a metric, which names no alert.
		cmd.Action = ""
	}
	switch cmd.Action {
	case ActionAck, ActionSnooze, ActionResolve:
		return alertCommand(cmd, numbers, choices, periods)
	case ActionAlerts, ActionRules:
		// "/kpi alerts rakuten", "返品率のアラート": the list, narrowed. A
		// rules line is read by readRule; this one had the word mistyped
		// ("rulse").
		if len(metrics) > 1 {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.two_metrics", map[string]any{"A": metricID(metrics[0].value), "B": metricID(metrics[1].value)}, nil)
		}
		if len(scopes) > 1 {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.two_scopes", nil, nil)
		}
		if len(metrics) == 1 {
			cmd.Query.Metric = metrics[0].value
		}
		if len(scopes) == 1 {
			if scopes[0].kind == tokShop {
				cmd.Query.Scope.Shop = scopes[0].value
			} else {
				cmd.Query.Scope.Platform = kpi.Platform(scopes[0].value)
			}
		}
		return cmd, nil
	case ActionHelp:
		if cmd.Topic == "" && len(metrics) > 0 {
			cmd.Topic = metrics[0].value
		}
		if cmd.Topic == string(ActionRules) {
			cmd.Topic = string(ActionAlerts) // the rules are explained with the alerts
		}
		return cmd, nil
	case ActionList:
		return cmd, nil
	case ActionDigest, ActionWeekly, ActionMonthly:
		if len(periods) > 1 {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.two_periods", nil, nil)
		}
		if len(periods) == 1 {
			cmd.Query.Period = periods[0].period
		}
		return cmd, nil
	case ActionLang:
		if cmd.Lang == "" {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.lang_needs_language", nil, nil)
		}
		return cmd, nil
	case ActionBind, ActionBindCode:
		if cmd.Action == ActionBind && cmd.Role == "" && code != "" {
			cmd.Code = code // it says the rest
			return cmd, nil
		}
		if cmd.Role == "" && cmd.Action == ActionBindCode {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.bind_code_needs_role", nil, nil)
		}
		if cmd.Role == "" {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.bind_needs_role", nil, nil)
		}
		for _, s := range scopes {
			if s.kind == tokShop {
				cmd.Shops = append(cmd.Shops, s.value)
			} else {
				cmd.Platforms = append(cmd.Platforms, kpi.Platform(s.value))
			}
		}
		return cmd, nil
	}
	if len(metrics) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.two_metrics", map[string]any{"A": metricID(metrics[0].value), "B": metricID(metrics[1].value)}, nil)
	}
	if len(scopes) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.two_scopes", nil, nil)
	}
	if afterVs && len(compare) == 0 && len(periods) == 2 {
		// "今月 先月と比較": the comparison came before its word.
		periods, compare = periods[:1], periods[1:]
	}
	if afterVs && len(compare) == 0 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.vs_needs_period", nil, nil)
	}
	if len(periods) > 1 || len(compare) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.two_periods", nil, nil)
	}
	if len(scopes) == 1 {
		if scopes[0].kind == tokShop {
			cmd.Query.Scope.Shop = scopes[0].value
		} else {
			cmd.Query.Scope.Platform = kpi.Platform(scopes[0].value)
		}
	}
	if len(periods) == 1 {
		cmd.Query.Period = periods[0].period
	}
	if len(compare) == 1 {
		cmd.Query.Compare = compare[0].period
	}
	switch {
	case len(metrics) == 1:
		cmd.Action = ActionMetric
		cmd.Query.Metric = metrics[0].value
	case cmd.Action == ActionStatus:
	case len(scopes) > 0 || len(periods) > 0:
		cmd.Action = ActionStatus // "楽天 先週": how is Rakuten doing
	default:
		cmd.Action = ActionHelp
	}
	return cmd, nil
}

// alertCommand completes ack, snooze or resolve: the one alert's number,
// and how long a snooze lasts: a length (2h, 30分; "3 days" reads as a
// period of the last days), tomorrow or until resolved; none is the
// default, which Parse fills in.
func alertCommand(cmd Command, numbers, choices, periods []token) (Command, error) {
	switch {
	case len(numbers) == 0:
		return Command{}, kpi.Errorf(kpi.Invalid, "error.alert_needs_id", nil, nil)
	case len(numbers) > 1:
		return Command{}, kpi.Errorf(kpi.Invalid, "error.alert_two_ids", map[string]any{"A": numbers[0].value, "B": numbers[1].value}, nil)
	}
	id, err := strconv.ParseInt(numbers[0].value, 10, 64)
	if err != nil || id <= 0 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.alert_bad_id", map[string]any{"Text": numbers[0].value}, nil)
	}
	cmd.AlertID = id
	if cmd.Action != ActionSnooze {
		return cmd, nil
	}
	for _, per := range periods {
		if per.period.Kind != kpi.KindLastDays {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.snooze_choice", nil, nil)
		}
		choices = append(choices, token{kind: tokDuration, dur: time.Duration(per.period.Days()) * 24 * time.Hour})
	}
	if len(choices) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.snooze_choice", nil, nil)
	}
	if len(choices) == 1 {
		switch c := choices[0]; {
		case c.kind == tokSnooze:
			cmd.Snooze = Snooze{Kind: SnoozeKind(c.value)}
		case c.dur <= 0:
			return Command{}, kpi.Errorf(kpi.Invalid, "error.snooze_choice", nil, nil)
		default:
			cmd.Snooze = Snooze{Kind: SnoozeFor, For: c.dur}
		}
	}
	return cmd, nil
}

// closest finds the phrase nearest to word, by edit distance with
// transpositions, and the token it stands for. Ties between different
// meanings count as no match.
func (p *Parser) closest(word string, shops []shopName, now time.Time) (token, string, int) {
	best, bestDist := phrase{}, 3
	tie := false
	w := []rune(word)
	var rows [3][]int
	var wbag [64]int
	for _, r := range w {
		wbag[r&63]++
	}
	consider := func(ph *phrase) {
		if abs(len(ph.runes)-len(w)) > bestDist || bagDistance(&wbag, len(w), ph.runes) > bestDist {
			return
		}
		d := distance(w, ph.runes, bestDist+1, &rows) // exact up to bestDist
		switch {
		case d < bestDist:
			best, bestDist, tie = *ph, d, false
		case d == bestDist && best.tok.kind != 0 && !same(best, *ph):
			tie = true
		}
	}
	for n := len(w) - 2; n <= len(w)+2; n++ {
		for _, i := range p.byLen[n] {
			if p.phrases[i].tok.kind != tokRangeSep {
				consider(&p.phrases[i])
			}
		}
	}
	for _, sh := range shops {
		consider(&phrase{text: sh.name, runes: []rune(sh.name), tok: token{kind: tokShop, value: sh.id}})
	}
	if best.tok.kind == 0 || tie || bestDist > 2 {
		return token{}, "", 3
	}
	return p.resolve(best, now), best.text, bestDist
}

// bagDistance is a lower bound of the edit distance between a word of n
// runes whose rune counts (folded into 64 bins) are in bag and b: the runes
// one has and the other lacks, whichever side has more. bag is restored.
func bagDistance(bag *[64]int, n int, b []rune) int {
	matched := 0
	for _, r := range b {
		if bag[r&63] > 0 {
			matched++
		}
		bag[r&63]--
	}
	for _, r := range b {
		bag[r&63]++
	}
	return max(n-matched, len(b)-matched)
}

func same(a, b phrase) bool {
	return a.tok.kind == b.tok.kind && a.tok.value == b.tok.value && a.period == b.period && a.month == b.month
}

func abs(n int) int { return max(n, -n) }

// distance is the optimal string alignment distance between ra and rb, or
// limit if it is at least limit. rows is scratch space kept between calls.
func distance(ra, rb []rune, limit int, rows *[3][]int) int {
	if abs(len(ra)-len(rb)) >= limit {
		return limit
	}
	for i := range rows {
		if cap(rows[i]) < len(rb)+1 {
			rows[i] = make([]int, len(rb)+1)
		}
		rows[i] = rows[i][:len(rb)+1]
	}
	prev2, prev, cur := rows[0], rows[1], rows[2]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], limit)
}
