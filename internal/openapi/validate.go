package openapi

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// mode tells check how a schema is being applied to a value.
type mode uint8

const (
	// noDispatch: the schema is one allOf part of a larger schema, typically
	// the base that holds a discriminator, reached from the subtype the
	// discriminator chose. Dispatching again would recurse forever.
	noDispatch mode = 1 << iota
	// noUnknown: the caller checks the object's property names against the
	// larger schema this one is a part of.
	noUnknown
)

// checker collects the problems found while validating one request or
// document.
type checker struct {
	problems Problems
	seen     map[string]bool // "where: what", to report each problem once
	flagged  map[string]bool // places that already have a problem
}

func newChecker() *checker {
	return &checker{seen: map[string]bool{}, flagged: map[string]bool{}}
}

// add records a problem at ptr, a JSON pointer ("" for the document root) or
// a request part such as "header Authorization".
func (c *checker) add(ptr, format string, args ...any) {
	where := ptr
	if where == "" {
		where = "(root)"
	}
	p := where + ": " + fmt.Sprintf(format, args...)
	if c.seen[p] {
		return // the same rule reached through several allOf parts
	}
	c.seen[p] = true
	c.flagged[ptr] = true
	c.problems = append(c.problems, p)
}

// check validates v, a value decoded by decodeJSON, against s.
func (c *checker) check(s *schema, v any, ptr string, m mode) {
	for s.ref != nil {
		s = s.ref
	}
	if v == nil {
		if s.nullable {
			return
		}
		if s.typ != "" {
			c.add(ptr, "expected %s, got null", s.typ)
			return
		}
	}
	if s.typ != "" && !hasType(v, s.typ) {
		c.add(ptr, "expected %s, got %s", s.typ, typeOf(v))
		return // the other keywords would only repeat the mismatch
	}
	obj, isObj := v.(map[string]any)
	if isObj && s.disc != nil && m&noDispatch == 0 {
		c.dispatch(s, obj, ptr, m)
		return
	}

	if s.enum != nil && !inEnum(v, s.enum) {
		c.add(ptr, "%s is not one of %s", show(v), listValues(s.enum))
	}
	switch x := v.(type) {
	case string:
		c.checkString(s, x, ptr)
	case json.Number:
		c.checkNumber(s, x, ptr)
	case []any:
		c.checkArray(s, x, ptr)
	case map[string]any:
		c.checkObject(s, x, ptr, m)
	}

	for _, part := range s.allOf {
		c.check(part, v, ptr, noDispatch|noUnknown)
	}
	if len(s.oneOf) > 0 {
		if n, why := c.matches(s.oneOf, v, ptr); n != 1 {
			c.add(ptr, "matches %d of the %d oneOf schemas, want exactly 1%s", n, len(s.oneOf), why)
		}
	}
	if len(s.anyOf) > 0 {
		if n, why := c.matches(s.anyOf, v, ptr); n == 0 {
			c.add(ptr, "matches none of the %d anyOf schemas%s", len(s.anyOf), why)
		}
	}
	if s.not != nil {
		if n, _ := c.matches([]*schema{s.not}, v, ptr); n == 1 {
			c.add(ptr, "must not match the schema in not")
		}
	}
}

// dispatch validates obj against the schema its discriminator property
// selects. base is the schema holding the discriminator.
func (c *checker) dispatch(base *schema, obj map[string]any, ptr string, m mode) {
	d := base.disc
	at := ptr + "/" + escapePointer(d.prop)
	raw, present := obj[d.prop]
	value, isString := raw.(string)
	var target *schema
	if isString {
		target = d.lookup(value)
	}
	if target == nil {
		switch {
		case !present:
			c.add(at, "missing discriminator property; %s", allowedValues(d))
		case !isString:
			c.add(at, "expected string, got %s; %s", typeOf(raw), allowedValues(d))
		default:
			c.add(at, "unknown value %q; %s", value, allowedValues(d))
		}
		// Without a subtype, check what the base alone says. The unknown
		// property check is skipped: the subtype's properties are not known.
		c.check(base, obj, ptr, m|noDispatch|noUnknown)
		return
	}
	if inherits(target, base) {
		// The usual case: the subtype is allOf [base, own properties].
		c.check(target, obj, ptr, m)
		return
	}
	// The subtype does not extend the base, yet both apply: check each and
	// the union of their property names.
	c.check(target, obj, ptr, m|noUnknown)
	c.check(base, obj, ptr, m|noDispatch|noUnknown)
	if m&noUnknown == 0 {
		c.checkUnknown(obj, ptr, propsOf(target), propsOf(base))
	}
}

// matches counts the schemas v satisfies, each checked on its own. When none
// does, why summarises the first problem with each of them.
func (c *checker) matches(list []*schema, v any, ptr string) (n int, why string) {
	var reasons []string
	for i, s := range list {
		sub := newChecker()
		sub.check(s, v, ptr, noUnknown)
		if len(sub.problems) == 0 {
			n++
			continue
		}
		reasons = append(reasons, fmt.Sprintf("[%d] %s", i, sub.problems[0]))
	}
	if n == 0 {
		why = " (" + strings.Join(reasons, "; ") + ")"
	}
	return n, why
}

func (c *checker) checkString(s *schema, v, ptr string) {
	if s.minLength >= 0 || s.maxLength >= 0 {
		// LINE counts characters, not bytes or UTF-16 units.
		n := utf8.RuneCountInString(v)
		if s.minLength >= 0 && n < s.minLength {
			c.add(ptr, "length %d is less than minLength %d", n, s.minLength)
		}
		if s.maxLength >= 0 && n > s.maxLength {
			c.add(ptr, "length %d is more than maxLength %d", n, s.maxLength)
		}
	}
	if s.pattern != nil && !s.pattern.MatchString(v) {
		c.add(ptr, "%s does not match pattern %s", show(v), s.pattern)
	}
	switch s.format {
	case "uuid":
		if !uuidPattern.MatchString(v) {
			c.add(ptr, "%s is not a valid uuid", show(v))
		}
	case "uri":
		if u, err := url.Parse(v); err != nil || !u.IsAbs() {
			c.add(ptr, "%s is not an absolute URI", show(v))
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			c.add(ptr, "%s is not an RFC 3339 date-time", show(v))
		}
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Ranges of the integer formats.
var (
	minInt32 = big.NewInt(-1 << 31)
	maxInt32 = big.NewInt(1<<31 - 1)
	minInt64 = big.NewInt(-1 << 63)
	maxInt64 = big.NewInt(1<<63 - 1)
)

func (c *checker) checkNumber(s *schema, v json.Number, ptr string) {
	if s.typ == "integer" {
		if lo, hi := intRange(s.format); lo != nil {
			n, _ := new(big.Int).SetString(string(v), 10)
			if n == nil || n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
				c.add(ptr, "%s is out of the %s range", v, s.format)
			}
		}
	}
	if s.minimum == nil && s.maximum == nil {
		return
	}
	r, ok := new(big.Rat).SetString(string(v))
	if !ok {
		return // cannot happen for a decoded JSON number
	}
	if s.minimum != nil {
		if cmp := r.Cmp(s.minimum); cmp < 0 || cmp == 0 && s.exclusiveMinimum {
			c.add(ptr, "%s is less than the minimum %s%s", v, s.minimum.RatString(), exclusive(s.exclusiveMinimum))
		}
	}
	if s.maximum != nil {
		if cmp := r.Cmp(s.maximum); cmp > 0 || cmp == 0 && s.exclusiveMaximum {
			c.add(ptr, "%s is more than the maximum %s%s", v, s.maximum.RatString(), exclusive(s.exclusiveMaximum))
		}
	}
}

func intRange(format string) (lo, hi *big.Int) {
	switch format {
	case "int32":
		return minInt32, maxInt32
	case "int64":
		return minInt64, maxInt64
	}
	return nil, nil
}

func exclusive(b bool) string {
	if b {
		return " (exclusive)"
	}
	return ""
}

func (c *checker) checkArray(s *schema, v []any, ptr string) {
	if s.minItems >= 0 && len(v) < s.minItems {
		c.add(ptr, "%d items, fewer than minItems %d", len(v), s.minItems)
	}
	if s.maxItems >= 0 && len(v) > s.maxItems {
		c.add(ptr, "%d items, more than maxItems %d", len(v), s.maxItems)
	}
	if s.uniqueItems {
		first := map[string]int{}
		for i, item := range v {
			key, _ := json.Marshal(item) // canonical: json sorts map keys
			if j, dup := first[string(key)]; dup {
				c.add(ptr, "items %d and %d are equal but uniqueItems is set", j, i)
			} else {
				first[string(key)] = i
			}
		}
	}
	if s.items != nil {
		for i, item := range v {
			c.check(s.items, item, fmt.Sprintf("%s/%d", ptr, i), 0)
		}
	}
}

func (c *checker) checkObject(s *schema, v map[string]any, ptr string, m mode) {
	keys := sortedKeys(v)
	for _, name := range s.required {
		at := ptr + "/" + escapePointer(name)
		// A missing discriminator has already been reported at the same place.
		if _, ok := v[name]; !ok && !c.flagged[at] {
			c.add(at, "missing required property")
		}
	}
	for _, name := range keys {
		at := ptr + "/" + escapePointer(name)
		if ps, ok := s.properties[name]; ok {
			c.check(ps, v[name], at, 0)
		} else if s.addl != nil {
			c.check(s.addl, v[name], at, 0)
		}
	}
	if m&noDispatch == 0 {
		// Used as a subtype directly (a FlexBox as a bubble's body): its
		// base's discriminator must still select it.
		for _, st := range s.subtypeOf {
			raw, ok := v[st.prop]
			if value, isString := raw.(string); ok && (!isString || !contains(st.allowed, value)) {
				c.add(ptr+"/"+escapePointer(st.prop), "%s does not select %s; want %s", show(raw), schemaName(s), quoteList(st.allowed))
			}
		}
	}
	if m&noUnknown == 0 {
		c.checkUnknown(v, ptr, propsOf(s))
	}
}

// checkUnknown reports properties that none of sets declares. This is
// stricter than OpenAPI, where undeclared properties are allowed unless
// additionalProperties is false: the LINE specs never say false, and our tests
// want to catch misspelt and invented fields. Schemas that declare no
// properties at all, or allow additional ones explicitly, are left open.
func (c *checker) checkUnknown(v map[string]any, ptr string, sets ...*propSet) {
	declared, closed := false, false
	for _, ps := range sets {
		if ps.open {
			return
		}
		declared = declared || len(ps.names) > 0
		closed = closed || ps.closed
	}
	if !declared && !closed {
		return
	}
	for _, name := range sortedKeys(v) {
		known := false
		for _, ps := range sets {
			known = known || ps.names[name]
		}
		if !known {
			c.add(ptr+"/"+escapePointer(name), "unknown property")
		}
	}
}

// propsOf returns the property names s declares, merged over its parts.
func propsOf(s *schema) *propSet {
	if s.props == nil { // computed by compile for every schema; this is a safety net
		declare(s, map[*schema]bool{})
	}
	return s.props
}

// hasType reports whether v is of the OpenAPI type typ.
func hasType(v any, typ string) bool {
	switch typ {
	case "integer":
		n, ok := v.(json.Number)
		return ok && isIntegerText(string(n))
	case "number":
		_, ok := v.(json.Number)
		return ok
	}
	return typeOf(v) == typ
}

// typeOf names the JSON type of v; numbers without a fraction or exponent are
// "integer".
func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if isIntegerText(string(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

var integerText = regexp.MustCompile(`^-?[0-9]+$`)

// isIntegerText reports whether a JSON number is written as an integer. 1.0
// and 1e3 are not: Go's encoding/json refuses them for integer fields too.
func isIntegerText(s string) bool { return integerText.MatchString(s) }

func inEnum(v any, enum []any) bool {
	for _, e := range enum {
		if equalJSON(v, e) {
			return true
		}
	}
	return false
}

// equalJSON compares decoded JSON values, numbers by value.
func equalJSON(a, b any) bool {
	na, aNum := a.(json.Number)
	nb, bNum := b.(json.Number)
	if aNum || bNum {
		if !aNum || !bNum {
			return false
		}
		ra, ok1 := new(big.Rat).SetString(string(na))
		rb, ok2 := new(big.Rat).SetString(string(nb))
		return ok1 && ok2 && ra.Cmp(rb) == 0
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			if yv, ok := y[k]; !ok || !equalJSON(xv, yv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// show renders a value for a message, shortening long strings.
func show(v any) string {
	if s, ok := v.(string); ok {
		if utf8.RuneCountInString(s) > 60 {
			s = string([]rune(s)[:57]) + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// listValues renders enum values, at most 20 of them.
func listValues(values []any) string {
	const max = 20
	var parts []string
	for i, v := range values {
		if i == max {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(values)-max))
			break
		}
		parts = append(parts, show(v))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func allowedValues(d *discriminator) string {
	if d.mapping == nil {
		return "the value must name a schema in components/schemas"
	}
	return "allowed: " + quoteList(d.allowed)
}

func quoteList(values []string) string {
	sorted := append([]string(nil), values...)
	sort.Strings(sorted)
	parts := make([]string, len(sorted))
	for i, v := range sorted {
		parts[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(parts, ", ")
}

func schemaName(s *schema) string {
	if s.name != "" {
		return s.name
	}
	return s.loc
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
