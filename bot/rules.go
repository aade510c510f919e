package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// This file holds the alert rules in chat: /kpi rules lists them, and
// /kpi rule <metric> [shop] <settings…> changes one.
//
// A line with the rules word (rules, 规则, ルール) is read by its own
// grammar: its settings ("threshold 3%", "连续2次", "2回連続", "off",
// "runbook TEXT") mean nothing elsewhere, and its numbers are decimals and
// percentages, which the rest of the language reads as dates or ignores.
// The settings' words are the locale files' [alias] rule_* entries, in
// which {n} stands for the number.

// RunbookMax is how many characters a runbook written in chat may have.
const RunbookMax = 200

// freshnessMetric is the rule of a shop whose data stops coming (the
// alert package's Freshness): not a catalog metric, but a rule chat may
// list and change, with its threshold in hours.
const freshnessMetric = "freshness"

// The settings of a rule change: the keys of the vocabulary's rule_*
// words, less the prefix.
const (
	setTarget   = "target"   // threshold 3%
	setClear    = "clear"    // clear 2.5%
	setAfter    = "after"    // after 2: evaluations in a row
	setSample   = "sample"   // min sample 20
	setCritical = "critical" // severity
	setWarning  = "warning"
	setOff      = "off" // disabled
	setOn       = "on"
	setReset    = "reset"   // back to the default and the config file
	setRunbook  = "runbook" // the rest of the line is the runbook
	// Not settings: the words after a number in hours (6h, 6小时), the
	// freshness rule's name, and words that mean nothing in a rule change
	// (to, 的, を).
	ruleHours     = "hours"
	ruleFreshness = "freshness"
	ruleFiller    = "filler"
)

// ruleKeys tells the known rule_* keys and whether their phrases take a
// number.
var ruleKeys = map[string]bool{
	setTarget: true, setClear: true, setAfter: true, setSample: true,
	setCritical: false, setWarning: false, setOff: false, setOn: false, setReset: false, setRunbook: false,
	ruleHours: false, ruleFreshness: false, ruleFiller: false,
}

// ruleSlot is what a setting sets: a line sets each once.
func ruleSlot(key string) string {
	switch key {
	case setCritical, setWarning:
		return "severity"
	case setOff, setOn:
		return "disabled"
	}
	return key
}

// ruleWord is a phrase of the rule grammar: a word, or a template with a
// number before, after or inside it ("threshold {n}", "{n}回連続",
// "连续{n}次").
type ruleWord struct {
	key   string
	text  string         // normalised, with {n}
	pre   *regexp.Regexp // what comes before the number; nil if it comes first
	post  *regexp.Regexp // what comes after it; nil if nothing does
	num   bool           // it takes a number
	langs langSet
}

// addRuleWords adds the phrases of the rule_<key> entry.
func (p *Parser) addRuleWords(key string, words []locales.Phrase) error {
	takes, ok := ruleKeys[key]
	if !ok {
		return fmt.Errorf("bot: vocabulary: unknown rule word id %q", "rule_"+key)
	}
	for _, w := range words {
		text := Normalize(w.Text)
		if i := slices.IndexFunc(p.ruleWords, func(r ruleWord) bool { return r.text == text }); i >= 0 {
			if p.ruleWords[i].key != key {
				return fmt.Errorf("bot: vocabulary: %q is both rule_%s and rule_%s", w.Text, p.ruleWords[i].key, key)
			}
			p.ruleWords[i].langs |= langBit(w.Lang) // the same word in two languages
			continue
		}
		pre, post, num := strings.Cut(text, "{n}")
		switch {
		case takes && !num:
			return fmt.Errorf("bot: vocabulary: rule_%s %q has no number {n}", key, w.Text)
		case !takes && num:
			return fmt.Errorf("bot: vocabulary: rule_%s %q takes no number {n}", key, w.Text)
		}
		rw := ruleWord{key: key, text: text, num: num, langs: langBit(w.Lang)}
		pre, post = strings.TrimSpace(pre), strings.TrimSpace(post)
		if pre == "" && post == "" {
			return fmt.Errorf("bot: vocabulary: rule_%s %q has no word", key, w.Text)
		}
		var err error
		if pre != "" {
			if rw.pre, err = regexp.Compile("^" + literal(pre)); err != nil {
				return fmt.Errorf("bot: vocabulary: rule_%s %q: %w", key, w.Text, err)
			}
		}
		if post != "" {
			if rw.post, err = regexp.Compile(`^\s*` + literal(post)); err != nil {
				return fmt.Errorf("bot: vocabulary: rule_%s %q: %w", key, w.Text, err)
			}
		}
		p.ruleWords = append(p.ruleWords, rw)
	}
	// A fixed order, so that a tie is broken the same way every time.
	slices.SortFunc(p.ruleWords, func(a, b ruleWord) int { return cmp.Compare(a.text, b.text) })
	return nil
}

// isRuleLine tells whether a normalised line whose prefix is gone is about
// the alert rules: it has the rules word, and no help before it ("help
// rules" is help).
func (p *Parser) isRuleLine(s string, names []shopName, now time.Time) bool {
	if !slices.ContainsFunc(p.rulesNames, func(name string) bool { return strings.Contains(s, name) }) {
		return false // most lines: no need to read them twice
	}
	toks, _ := p.scan(s, names, now)
	for _, t := range toks {
		if t.kind != tokCommand {
			continue
		}
		switch Action(t.value) {
		case ActionRules:
			return true
		case ActionHelp:
			return false
		}
	}
	return false
}

// ruleKind is what a piece of a rule line is.
type ruleKind int

const (
	ruleSetting    ruleKind = iota + 1 // a setting, with its number if it takes one
	ruleMissing                        // a setting whose number is missing
	ruleNumberOnly                     // a number that belongs to no setting
	ruleOther                          // a word of the rest of the language: a metric, a shop, a command
	ruleFill                           // a word that means nothing here
	ruleUnknown                        // nothing known
)

// ruleTok is one piece of a rule line.
type ruleTok struct {
	kind     ruleKind
	key      string     // ruleSetting, ruleMissing: the setting
	num      ruleNumber // ruleSetting with a number, ruleNumberOnly
	tok      token      // ruleOther
	text     string     // what it was read from, normalised
	pos, end int        // where, in the line
	langs    langSet
}

// ruleNumber is a number of a rule line as typed: 3, 98.5, 6h.
type ruleNumber struct {
	text   string // as typed, with its unit: "6h"
	digits string // "6"
	whole  bool   // no decimal point
	hours  bool   // followed by an hours word
}

// numberRE is a number as Normalize leaves it: full-width digits folded,
// the percent sign gone.
var numberRE = regexp.MustCompile(`^\d+(?:\.\d+)?`)

// readNumber reads a number at the start of rest, and an hours word after
// it if any; it must end where a word may.
func (p *Parser) readNumber(rest string) (ruleNumber, int, bool) {
	loc := numberRE.FindStringIndex(rest)
	if loc == nil {
		return ruleNumber{}, 0, false
	}
	n := loc[1]
	num := ruleNumber{digits: rest[:n], whole: !strings.Contains(rest[:n], ".")}
	if k := p.matchRuleKey(rest, n, ruleHours); k > 0 {
		num.hours, n = true, k
	}
	// "3x" is no number; "3." ends a sentence.
	if n < len(rest) && (isWordByte(rest[n]) || rest[n] == '.' && n+1 < len(rest) && rest[n+1] != ' ') {
		return ruleNumber{}, 0, false
	}
	num.text = rest[:n]
	return num, n, true
}

// matchRuleKey returns where the longest word of key that starts at
// rest[i:] (after spaces) ends, or 0.
func (p *Parser) matchRuleKey(rest string, i int, key string) int {
	j := i
	for j < len(rest) && rest[j] == ' ' {
		j++
	}
	best := 0
	for _, w := range p.ruleWords {
		if w.key != key || w.pre == nil {
			continue
		}
		if loc := w.pre.FindStringIndex(rest[j:]); loc != nil && wordEnds(rest, j+loc[1]) {
			best = max(best, j+loc[1])
		}
	}
	return best
}

// skipFillers returns where the words that mean nothing in a rule change
// ("to", "设为", "を"), and the spaces around them, end from rest[i:].
func (p *Parser) skipFillers(rest string, i int) int {
	for {
		k := p.matchRuleKey(rest, i, ruleFiller)
		if k == 0 {
			for i < len(rest) && rest[i] == ' ' {
				i++
			}
			return i
		}
		i = k
	}
}

// wordEnds tells whether s may end a word at n: an ASCII word does not stop
// in the middle of a longer one.
func wordEnds(s string, n int) bool {
	return n > 0 && !(isWordByte(s[n-1]) && n < len(s) && isWordByte(s[n]))
}

// matchRule returns the piece of a rule line that starts at s[i:], the
// longest of a rule word, a number and a word of the rest of the language;
// a rule word wins a tie. ok is false if none starts there.
func (p *Parser) matchRule(s string, i int, names []shopName, now time.Time) (ruleTok, bool) {
	rest := s[i:]
	var best ruleTok
	bestLen := 0
	consider := func(t ruleTok, n int) {
		if n > bestLen {
			t.pos, t.end, t.text = i, i+n, rest[:n]
			best, bestLen = t, n
		}
	}
	for _, w := range p.ruleWords {
		if w.key == ruleHours {
			continue // only after a number
		}
		t := ruleTok{kind: ruleSetting, key: w.key, langs: w.langs}
		switch {
		case w.key == ruleFiller:
			t.kind = ruleFill
		case w.key == ruleFreshness:
			t = ruleTok{kind: ruleOther, tok: token{kind: tokMetric, value: freshnessMetric}, langs: w.langs}
		}
		j := 0
		if w.pre != nil {
			loc := w.pre.FindStringIndex(rest)
			if loc == nil || !wordEnds(rest, loc[1]) {
				continue
			}
			j = loc[1]
			if !w.num {
				consider(t, j)
				continue
			}
			j = p.skipFillers(rest, j)
		} else if loc := w.post.FindStringIndex(rest); loc != nil && wordEnds(rest, loc[1]) {
			consider(ruleTok{kind: ruleMissing, key: w.key, langs: w.langs}, loc[1]) // "回連続" without its number
		}
		num, n, ok := p.readNumber(rest[j:])
		if !ok {
			if w.pre != nil {
				consider(ruleTok{kind: ruleMissing, key: w.key, langs: w.langs}, len(strings.TrimRight(rest[:j], " ")))
			}
			continue
		}
		j += n
		if w.post != nil {
			if loc := w.post.FindStringIndex(rest[j:]); loc != nil && wordEnds(rest, j+loc[1]) {
				j += loc[1]
			} else if w.pre == nil {
				continue // "{n}回連続" needs its words; "连续{n}次" may drop 次
			}
		}
		t.num = num
		consider(t, j)
	}
	if num, n, ok := p.readNumber(rest); ok {
		consider(ruleTok{kind: ruleNumberOnly, num: num}, n)
	}
	if t, n := p.match(s, i, names, now); n > bestLen {
		if t.kind == tokPlatform {
			// "rakuten", a platform's name, is also a shop's id: a rule is
			// changed for a shop.
			if k := slices.IndexFunc(names, func(sh shopName) bool { return sh.name == rest[:n] }); k >= 0 {
				t = token{kind: tokShop, value: names[k].id, langs: t.langs}
			}
		}
		consider(ruleTok{kind: ruleOther, tok: t, langs: t.langs}, n)
	}
	return best, bestLen > 0
}

// scanRule splits a rule line into its pieces; after the runbook word the
// line is the runbook's, and is not read.
func (p *Parser) scanRule(s string, names []shopName, now time.Time) []ruleTok {
	var toks []ruleTok
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '.' && (i+1 == len(s) || s[i+1] == ' ') {
			i++
			continue
		}
		if t, ok := p.matchRule(s, i, names, now); ok {
			toks = append(toks, t)
			if t.kind == ruleSetting && t.key == setRunbook {
				break
			}
			i = t.end
			continue
		}
		j := i
		if s[i] < utf8.RuneSelf {
			for j < len(s) && s[j] != ' ' && s[j] < utf8.RuneSelf {
				j++
			}
		} else {
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
			for j < len(s) && s[j] != ' ' && s[j] >= utf8.RuneSelf {
				if _, ok := p.matchRule(s, j, names, now); ok {
					break
				}
				_, size := utf8.DecodeRuneInString(s[j:])
				j += size
			}
		}
		toks = append(toks, ruleTok{kind: ruleUnknown, text: s[i:j], pos: i, end: j})
		i = j
	}
	return toks
}

// readRule reads a rule line: the list of the rules, narrowed by a metric
// and a shop or platform, or a change of one. text is the line as typed,
// full the normalised line, and s its end that follows the prefix (/kpi, a
// mention). A platform stands for its shop where it has only one.
func (p *Parser) readRule(text, full, s string, shops []kpi.Shop, names []shopName, now time.Time) (Command, error) {
	toks := p.scanRule(s, names, now)
	var langs []token
	for _, t := range toks {
		langs = append(langs, token{langs: t.langs})
	}
	lang := written(langs)
	runbook := ""
	if n := len(toks); n > 0 && toks[n-1].kind == ruleSetting && toks[n-1].key == setRunbook {
		runbook = runbookText(text, full[:len(full)-len(s)+toks[n-1].end])
	}
	cmd, err := interpretRule(toks, runbook, shops)
	cmd.Written = lang
	if err != nil {
		return Command{Written: lang}, err
	}
	return cmd, nil
}

// runbookText returns what follows a runbook word in the line as typed,
// verbatim but for the spaces and a colon around it: upTo is the
// normalised line up to the end of the word. Normalize maps each prefix of
// a line to a prefix of its result, no shorter than that of a shorter
// prefix: the end of the word in text is the first rune boundary whose
// prefix normalises to upTo.
func runbookText(text, upTo string) string {
	var bounds []int
	for k := range text {
		bounds = append(bounds, k)
	}
	bounds = append(bounds, len(text))
	i := sort.Search(len(bounds), func(i int) bool { return len(Normalize(text[:bounds[i]])) >= len(upTo) })
	rest := ""
	if i < len(bounds) && Normalize(text[:bounds[i]]) == upTo {
		rest = text[bounds[i]:]
	} else {
		// Never, by the above; read what is left normalised rather than
		// nothing.
		rest = strings.TrimPrefix(Normalize(text), upTo)
	}
	rest = strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || fold(r) == ':' })
	return strings.TrimRightFunc(rest, unicode.IsSpace)
}

// interpretRule turns the pieces of a rule line into a command: rules when
// it sets nothing, rule when it does. runbook is the runbook's text, if
// the line has the word. A platform stands for its shop, where shops has
// only one on it.
func interpretRule(toks []ruleTok, runbook string, shops []kpi.Shop) (Command, error) {
	cmd := Command{Action: ActionRules}
	// A line that sets something, or means to, changes a rule: a word it
	// does not know is an error, not a word to ignore as in the list.
	changes := slices.ContainsFunc(toks, func(t ruleTok) bool { return t.kind == ruleSetting || t.kind == ruleMissing })
	var metrics, scopes []token
	var settings []ruleTok
	slots := map[string]bool{}
	for _, t := range toks { // the first thing wrong, in the line's order
		known := true
		switch t.kind {
		case ruleFill:
		case ruleMissing:
			return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_needs_number", map[string]any{"Word": t.text}, nil)
		case ruleNumberOnly:
			return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_stray_number", map[string]any{"Text": t.num.text}, nil)
		case ruleSetting:
			if slots[ruleSlot(t.key)] {
				return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_setting_twice", map[string]any{"Word": t.text}, nil)
			}
			slots[ruleSlot(t.key)] = true
			settings = append(settings, t)
		case ruleOther:
			switch {
			case t.tok.kind == tokMetric:
				if !slices.ContainsFunc(metrics, func(m token) bool { return m.value == t.tok.value }) {
					metrics = append(metrics, t.tok)
				}
			case t.tok.kind == tokShop || t.tok.kind == tokPlatform:
				if !slices.ContainsFunc(scopes, func(s token) bool { return s.kind == t.tok.kind && s.value == t.tok.value }) {
					scopes = append(scopes, t.tok)
				}
			case t.tok.kind == tokCommand && (Action(t.tok.value) == ActionRules || Action(t.tok.value) == ActionAlerts):
			default:
				known = false // a period, a language, another command
			}
		default:
			known = false
		}
		switch {
		case known:
		case changes:
			return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_unknown_word", map[string]any{"Word": t.text}, nil)
		default: // in the list, as elsewhere
			cmd.Notes = append(cmd.Notes, Note{"note.ignored", map[string]any{"Word": t.text}})
		}
	}
	if len(metrics) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.two_metrics", map[string]any{"A": ruleMetricArg(metrics[0].value), "B": ruleMetricArg(metrics[1].value)}, nil)
	}
	if len(scopes) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.two_scopes", nil, nil)
	}
	var m *kpi.Metric
	if len(metrics) == 1 {
		m = ruleMetric(metrics[0].value)
		if m.Op == "" {
			return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_no_target", map[string]any{"Metric": metricID(m.ID)}, nil)
		}
	}
	if len(settings) == 0 {
		// The list, narrowed.
		if m != nil {
			cmd.Query.Metric = m.ID
		}
		if len(scopes) == 1 {
			if scopes[0].kind == tokShop {
				cmd.Query.Scope.Shop = scopes[0].value
			} else {
				cmd.Query.Scope.Platform = kpi.Platform(scopes[0].value)
			}
		}
		return cmd, nil
	}
	if m == nil {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_needs_metric", nil, nil)
	}
	cmd.Action = ActionRule
	cmd.Rule.Metric = m.ID
	if len(scopes) == 1 {
		cmd.Rule.Shop = scopes[0].value
		if scopes[0].kind == tokPlatform {
			var ids []string
			for _, sh := range shops {
				if string(sh.Platform) == scopes[0].value {
					ids = append(ids, sh.ID)
				}
			}
			if len(ids) != 1 {
				return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_platform", nil, nil)
			}
			cmd.Rule.Shop = ids[0]
		}
	}
	if slots[setReset] && len(settings) > 1 {
		return Command{}, kpi.Errorf(kpi.Invalid, "error.rule_reset_alone", nil, nil)
	}
	for _, t := range settings {
		if err := setRule(&cmd, m, t, runbook); err != nil {
			return Command{}, err
		}
	}
	return cmd, nil
}

// setRule applies one setting of a rule line to cmd's change; m is the
// rule's metric, whose unit the numbers are in.
func setRule(cmd *Command, m *kpi.Metric, t ruleTok, runbook string) error {
	bad := kpi.Errorf(kpi.Invalid, "error.rule_bad_number", map[string]any{"Text": t.num.text}, nil)
	r := &cmd.Rule
	switch t.key {
	case setTarget, setClear:
		v, ok := ruleLevel(m.Unit, t.num)
		if !ok {
			return bad
		}
		if t.key == setTarget {
			r.Target = &v
		} else {
			r.Clear = &v
		}
	case setAfter:
		n, err := strconv.Atoi(t.num.digits)
		if err != nil || t.num.hours || n < 1 {
			return bad
		}
		r.Consecutive = &n
	case setSample:
		n, err := strconv.ParseInt(t.num.digits, 10, 64)
		if err != nil || t.num.hours {
			return bad
		}
		r.MinSample = &n
	case setCritical:
		r.Severity = kpi.SeverityCritical
	case setWarning:
		r.Severity = kpi.SeverityWarning
	case setOff, setOn:
		off := t.key == setOff
		r.Disabled = &off
	case setReset:
		cmd.RuleReset = true
	case setRunbook:
		switch n := utf8.RuneCountInString(runbook); {
		case n == 0:
			return kpi.Errorf(kpi.Invalid, "error.rule_runbook_empty", nil, nil)
		case n > RunbookMax:
			return kpi.Errorf(kpi.Invalid, "error.rule_runbook_long", map[string]any{"N": n, "Max": RunbookMax}, nil)
		}
		r.Runbook = &runbook
	default:
		return fmt.Errorf("bot: rule setting %q is set nowhere", t.key)
	}
	return nil
}

// ruleLevel is a threshold or clear level as typed in the scale of unit
// u: a rate's is a percentage (3, 3% and ３％ are 0.03), at most 100;
// counts, yen and minutes are whole; only hours take an hours word.
func ruleLevel(u kpi.Unit, n ruleNumber) (float64, bool) {
	v, err := strconv.ParseFloat(n.digits, 64)
	switch {
	case err != nil || math.IsInf(v, 0), n.hours && u != kpi.Hours:
		return 0, false
	case u == kpi.Percent:
		return v / 100, v <= 100
	case u == kpi.Count || u == kpi.Yen || u == kpi.Minutes:
		return v, n.whole
	}
	return v, true
}

// ruleMetric is the metric of a rule: a catalog metric, or the freshness
// rule's, whose level is hours since a shop's data last came and must stay
// at most its threshold.
func ruleMetric(id string) *kpi.Metric {
	if m, ok := kpi.Lookup(id); ok {
		return m
	}
	return &kpi.Metric{ID: id, Unit: kpi.Hours, Op: kpi.AtMost}
}

// ruleMetricArg is a metric in an error's arguments: a catalog metric's id
// is named in the asker's language.
func ruleMetricArg(id string) any {
	if _, ok := kpi.Lookup(id); ok {
		return metricID(id)
	}
	return id
}

// onRules answers rules, the list of the alert rules of the channel's
// shops, and rule, a change of one.
func (b *Bot) onRules(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	if cmd.Action == ActionRule {
		return b.changeRule(ctx, req, cmd, shops)
	}
	if c := req.Channel; c != nil && c.Role == "" {
		// The rules name the shops: not before the channel is set up.
		hint := "channel.unbound"
		if req.IsAdmin == nil {
			hint = "channel.unbound_code"
		}
		return func(p *locales.Printer) Reply {
			return Reply{Text: p.T(hint, nil), Err: errors.New("bot: channel not bound")}
		}
	}
	if b.alerts == nil {
		return b.errorReply(errNoAlerts())
	}
	var allowed []string
	if req.Channel != nil {
		allowed = req.Channel.Shops
	}
	views, err := b.alerts.Rules(ctx, allowed)
	if err != nil {
		return b.errorReply(fmt.Errorf("bot: alert rules: %w", err))
	}
	byID := shopsByID(shops)
	list := rulesInForce(views, cmd.Query, allowed, byID)
	return func(p *locales.Printer) Reply { return rulesReply(p, list, byID) }
}

// rulesInForce narrows the desk's rules to the allowed shops (all when
// empty) and to q's metric and scope: for a shop, each metric's rule there,
// the shop's own or else the one for every shop; for a platform, the rules
// for every shop and those of its shops. The order is the desk's.
func rulesInForce(views []RuleView, q kpi.Query, allowed []string, shops map[string]kpi.Shop) []RuleView {
	own := map[string]bool{} // the metrics the shop asked for has a rule of its own for
	for _, v := range views {
		if q.Scope.Shop != "" && v.Shop == q.Scope.Shop {
			own[v.Metric] = true
		}
	}
	var list []RuleView
	for _, v := range views {
		switch {
		case v.Shop != "" && len(allowed) > 0 && !slices.Contains(allowed, v.Shop): // the desk filters too; this makes sure
		case q.Metric != "" && v.Metric != q.Metric:
		case q.Scope.Shop != "" && v.Shop != q.Scope.Shop && (v.Shop != "" || own[v.Metric]):
		case q.Scope.Platform != "" && v.Shop != "" && shops[v.Shop].Platform != q.Scope.Platform:
		default:
			list = append(list, v)
		}
	}
	return list
}

// rulesReply lays the rules out, a row each: "metric · shop", when it
// alerts, and the rest of the rule; ❌ marks a critical rule, ⚠️ a warning
// and ➖ one that is off.
func rulesReply(p *locales.Printer, list []RuleView, shops map[string]kpi.Shop) Reply {
	if len(list) == 0 {
		return Reply{Text: p.T("alerts.rule_list_none", nil)}
	}
	rep := Reply{Title: p.T("alerts.rule_list_title", map[string]any{"N": len(list)}), Context: p.T("alerts.rule_list_context", nil)}
	for _, v := range list {
		rep.Rows = append(rep.Rows, ruleRow(p, v, shops))
	}
	return rep
}

// ruleRow is one rule: "return rate · all shops", "alert if > 5.0%", and
// "clears at ≤ 4.5% · 1 in a row · min sample 20 · warning · default ·
// what to do: …".
func ruleRow(p *locales.Printer, v RuleView, shops map[string]kpi.Shop) Row {
	m := ruleMetric(v.Metric)
	shop := p.T("scope.all", nil)
	if v.Shop != "" {
		shop = shopLabel(v.Shop, shops)
	}
	breach, clear := *m, *m
	breach.Op, breach.Target = breachOp(m.Op), v.Target
	clear.Target = v.Clear
	details := []string{
		p.T("alerts.rule_clears", map[string]any{"Level": formatTarget(p, &clear)}),
		p.T("alerts.rule_in_a_row", map[string]any{"N": max(v.Consecutive, 1)}),
	}
	if _, ok := kpi.Lookup(v.Metric); ok { // freshness counts no sample
		details = append(details, p.T("alerts.rule_min_sample", map[string]any{"N": group(v.MinSample)}))
	}
	verdict := kpi.VerdictFew // its mark is ⚠️
	switch v.Severity {
	case kpi.SeverityCritical:
		verdict = kpi.VerdictBreach
		details = append(details, p.T("alert.severity_critical", nil))
	case kpi.SeverityWarning:
		details = append(details, p.T("alert.severity_warning", nil))
	default:
		details = append(details, string(v.Severity))
	}
	if v.Disabled {
		verdict = kpi.VerdictNoData
		details = append(details, p.T("alerts.rule_off", nil))
	}
	switch v.Source {
	case "default":
		details = append(details, p.T("alerts.rule_source_default", nil))
	case "config":
		details = append(details, p.T("alerts.rule_source_config", nil))
	case "chat":
		details = append(details, p.T("alerts.rule_source_chat", map[string]any{"By": cmp.Or(v.By, "?"), "Date": kpi.DateOf(v.Updated).String()}))
	default:
		details = append(details, v.Source)
	}
	if rb := v.Runbook; rb != "" {
		if runbookIDRE.MatchString(rb) {
			rb = p.T(rb, nil)
		}
		details = append(details, p.T("alerts.rule_runbook", map[string]any{"Text": rb}))
	}
	value := p.T("alerts.rule_when", map[string]any{"Level": formatTarget(p, &breach)})
	if _, ok := kpi.Lookup(v.Metric); !ok && v.Target == 0 {
		// Freshness without a limit of its own, while nothing syncs on a
		// schedule: not watched, no level to show.
		value, details = "—", details[2:]
	}
	return Row{
		Label:   alertMetric(p, v.Metric) + " · " + shop,
		Value:   value,
		Detail:  strings.Join(details, " · "),
		Verdict: verdict,
	}
}

// runbookIDRE matches a runbook that is a message id (alert.runbook_acos),
// which is shown in the reader's language; any other is shown as written.
var runbookIDRE = regexp.MustCompile(`^alert\.runbook_[a-z0-9_]+$`)

// breachOp is the side of a target on which a rule alerts: below a target
// of at least, above one of at most.
func breachOp(op kpi.Op) kpi.Op {
	switch op {
	case kpi.AtLeast:
		return kpi.Below
	case kpi.Above:
		return kpi.AtMost
	case kpi.AtMost:
		return kpi.Above
	case kpi.Below:
		return kpi.AtLeast
	}
	return ""
}

// changeRule changes the rule cmd names, for the asker, and shows the rule
// now in force.
func (b *Bot) changeRule(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	if err := b.mayChangeRules(ctx, req); err != nil {
		return b.errorReply(err)
	}
	if b.alerts == nil {
		return b.errorReply(errNoAlerts())
	}
	byID := shopsByID(shops)
	change := cmd.Rule
	if c := req.Channel; c != nil && change.Shop != "" && len(c.Shops) > 0 && !slices.Contains(c.Shops, change.Shop) {
		return b.errorReply(kpi.Errorf(kpi.Unauthorized, "error.shop_not_visible", map[string]any{"Shop": shopLabel(change.Shop, byID)}, nil))
	}
	v, err := b.alerts.ChangeRule(ctx, change, cmd.RuleReset, req.User)
	if err != nil {
		return b.errorReply(fmt.Errorf("bot: change rule %s:%s: %w", change.Metric, change.Shop, err))
	}
	key := "alerts.rule_changed"
	if cmd.RuleReset {
		key = "alerts.rule_reset"
	}
	return func(p *locales.Printer) Reply {
		return Reply{Title: p.T(key, nil), Rows: []Row{ruleRow(p, v, byID)}}
	}
}

// mayChangeRules returns an Unauthorized error unless the asker may change
// the alert rules: on the console anyone may; where there are admins
// (Slack) an admin; elsewhere (LINE) anyone in a chat bound for HQ.
func (b *Bot) mayChangeRules(ctx context.Context, req Request) error {
	switch {
	case req.Channel == nil:
		return nil
	case req.IsAdmin != nil:
		err := b.mustBeAdmin(ctx, req)
		if kpi.ErrorCode(err) == kpi.Unauthorized {
			return kpi.Errorf(kpi.Unauthorized, "error.rule_admin_only", nil, err)
		}
		return err
	case req.Channel.Role == kpi.RoleHQ:
		return nil
	}
	return kpi.Errorf(kpi.Unauthorized, "error.rule_hq_only", nil, nil)
}
