package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// schema is one compiled schema object. Keywords that are absent keep their
// zero value, or -1 for the length and item counts.
type schema struct {
	loc  string // where the schema is defined, such as "#/components/schemas/Message"
	name string // its name when defined directly under components/schemas

	// ref is the target of a $ref. As in OpenAPI 3.0, a schema with a $ref
	// is only that reference; its other keywords are ignored.
	ref *schema

	typ      string // "", object, array, string, integer, number or boolean
	nullable bool
	format   string
	enum     []any // values normalised like decoded JSON (numbers as json.Number)

	minLength, maxLength int // in Unicode code points; -1 when absent
	pattern              *regexp.Regexp

	minimum, maximum                   *big.Rat
	exclusiveMinimum, exclusiveMaximum bool

	items              *schema
	minItems, maxItems int // -1 when absent
	uniqueItems        bool

	properties map[string]*schema
	required   []string
	// additionalProperties: a schema (addl), true (addlAllowed with addl
	// nil), false (addlForbidden) or absent (all three zero).
	addl          *schema
	addlAllowed   bool
	addlForbidden bool

	allOf, oneOf, anyOf []*schema
	not                 *schema
	disc                *discriminator

	// Computed once everything is compiled.
	props     *propSet    // properties declared by this schema and its parts
	subtypeOf []subtypeOf // discriminators of allOf bases that map to this schema
}

// discriminator dispatches an object to a schema chosen by the value of one
// of its properties.
type discriminator struct {
	prop    string
	mapping map[string]*schema // value -> schema; nil: the value names a schema
	byName  map[string]*schema // all components/schemas, used when mapping is nil
	allowed []string           // sorted values of mapping, for messages
}

// lookup returns the schema that value selects, or nil.
func (d *discriminator) lookup(value string) *schema {
	if d.mapping != nil {
		return d.mapping[value]
	}
	return d.byName[value]
}

// subtypeOf records that a schema is the target of a base's discriminator:
// when the schema is used directly (not reached by dispatch), the property
// must still hold one of the values that select it.
type subtypeOf struct {
	prop    string
	allowed []string
}

// propSet is what a schema, merged with all of its allOf, oneOf and anyOf
// parts, says about an object's property names.
type propSet struct {
	names  map[string]bool // declared property names
	open   bool            // some part sets additionalProperties to true or a schema
	closed bool            // some part sets additionalProperties to false
}

// operation is one compiled operation of a path.
type operation struct {
	method, template, id string
	params               []*param
	body                 *requestBody // nil when the operation takes no body
	security             []securityRequirement
}

type param struct {
	name, in string // in: path, query, header or cookie
	required bool
	schema   *schema // nil when the parameter has no schema
}

type requestBody struct {
	required bool
	media    []mediaType
}

// mediaType is one entry of a request body's content map.
type mediaType struct {
	raw       string // as written in the document, e.g. "application/json" or "*/*"
	essence   string // lower-case type/subtype without parameters
	json      bool   // the body is JSON and must be decoded and validated
	schema    *schema
	wildcards int // 0 for type/subtype, 1 for type/*, 2 for */*
}

// securityRequirement names the schemes that must all be satisfied; an
// operation passes when any one of its requirements is satisfied.
type securityRequirement []string

type securityScheme struct {
	typ    string // http, apiKey, oauth2 or openIdConnect
	scheme string // for http: bearer, basic, ...
	in     string // for apiKey: header, query or cookie
	name   string // for apiKey: the header, query or cookie name
}

// route is one path template with its operations by HTTP method.
type route struct {
	template string
	segs     []segment
	ops      map[string]*operation
}

// segment is one "/"-separated piece of a path template: a literal, a whole
// parameter like {groupId}, or a mix like {name}.json matched by re.
type segment struct {
	lit   string
	param string
	re    *regexp.Regexp
	names []string // parameter names of re's groups
}

// rank orders segments for matching: literals beat mixed segments, which beat
// whole parameters.
func (s segment) rank() int {
	switch {
	case s.re != nil:
		return 1
	case s.param != "":
		return 0
	}
	return 2
}

// compiler turns the decoded document into a Spec.
type compiler struct {
	doc   map[string]any
	refs  map[string]*schema // compiled schemas by $ref
	named map[string]*schema // components/schemas by name
	all   []*schema
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func compile(data []byte) (*Spec, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	doc, ok := normalize(raw).(map[string]any)
	if !ok {
		return nil, errors.New("parse: the document is not a mapping")
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0") {
		return nil, fmt.Errorf("parse: not an OpenAPI 3.0 document (openapi: %q)", v)
	}
	c := &compiler{doc: doc, refs: map[string]*schema{}, named: map[string]*schema{}}
	spec := &Spec{schemas: c.named, schemeSet: map[string]*securityScheme{}}

	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for _, name := range sortedKeys(schemas) {
		if _, err := c.ref("#/components/schemas/" + escapePointer(name)); err != nil {
			return nil, err
		}
	}
	schemes, _ := components["securitySchemes"].(map[string]any)
	for name, raw := range schemes {
		m, _ := raw.(map[string]any)
		spec.schemeSet[name] = &securityScheme{
			typ:    str(m["type"]),
			scheme: strings.ToLower(str(m["scheme"])),
			in:     str(m["in"]),
			name:   str(m["name"]),
		}
	}
	defaultSecurity, err := parseSecurity(doc["security"], spec.schemeSet, "#/security")
	if err != nil {
		return nil, err
	}

	paths, _ := doc["paths"].(map[string]any)
	for _, tmpl := range sortedKeys(paths) {
		rt, err := c.route(tmpl, paths[tmpl], defaultSecurity, spec.schemeSet)
		if err != nil {
			return nil, err
		}
		spec.routes = append(spec.routes, rt)
	}
	sort.SliceStable(spec.routes, func(i, j int) bool { return moreSpecific(spec.routes[i], spec.routes[j]) })

	// Everything is compiled: compute the merged property sets and the
	// discriminator values that subtypes must carry.
	for _, s := range c.all {
		declare(s, map[*schema]bool{})
	}
	for _, t := range c.named {
		t.subtypeOf = subtypeChecks(t)
	}
	return spec, nil
}

// route compiles one entry of paths.
func (c *compiler) route(tmpl string, raw any, defaultSecurity []securityRequirement, schemes map[string]*securityScheme) (*route, error) {
	loc := "#/paths/" + escapePointer(tmpl)
	if !strings.HasPrefix(tmpl, "/") {
		return nil, fmt.Errorf("%s: a path must start with /", loc)
	}
	item, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a path item must be a mapping", loc)
	}
	if _, ok := item["$ref"]; ok {
		return nil, fmt.Errorf("%s: $ref in a path item is not supported", loc)
	}
	rt := &route{template: tmpl, ops: map[string]*operation{}}
	for _, part := range strings.Split(tmpl[1:], "/") {
		seg, err := parseSegment(part)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
		rt.segs = append(rt.segs, seg)
	}
	shared, err := c.params(item["parameters"], loc+"/parameters")
	if err != nil {
		return nil, err
	}
	for _, method := range methods {
		rawOp, ok := item[method].(map[string]any)
		if !ok {
			continue
		}
		opLoc := loc + "/" + method
		op := &operation{method: strings.ToUpper(method), template: tmpl, id: str(rawOp["operationId"])}
		own, err := c.params(rawOp["parameters"], opLoc+"/parameters")
		if err != nil {
			return nil, err
		}
		op.params = mergeParams(shared, own)
		if rb, ok := rawOp["requestBody"]; ok {
			if op.body, err = c.requestBody(rb, opLoc+"/requestBody"); err != nil {
				return nil, err
			}
		}
		op.security = defaultSecurity
		if sec, ok := rawOp["security"]; ok {
			if op.security, err = parseSecurity(sec, schemes, opLoc+"/security"); err != nil {
				return nil, err
			}
		}
		rt.ops[op.method] = op
	}
	return rt, nil
}

var segmentParam = regexp.MustCompile(`\{([^{}]+)\}`)

func parseSegment(part string) (segment, error) {
	locs := segmentParam.FindAllStringSubmatchIndex(part, -1)
	switch {
	case len(locs) == 0:
		if strings.ContainsAny(part, "{}") {
			return segment{}, fmt.Errorf("bad path segment %q", part)
		}
		return segment{lit: part}, nil
	case len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(part):
		return segment{param: part[1 : len(part)-1]}, nil
	}
	// A segment mixing literal text and parameters, like {name}.json.
	var expr strings.Builder
	var names []string
	last := 0
	for _, l := range locs {
		expr.WriteString(regexp.QuoteMeta(part[last:l[0]]))
		expr.WriteString("(.+)")
		names = append(names, part[l[2]:l[3]])
		last = l[1]
	}
	expr.WriteString(regexp.QuoteMeta(part[last:]))
	re, err := regexp.Compile("^" + expr.String() + "$")
	if err != nil {
		return segment{}, fmt.Errorf("bad path segment %q: %w", part, err)
	}
	return segment{re: re, names: names}, nil
}

// moreSpecific orders routes so that, of two templates matching the same
// path, the one with a literal where the other has a parameter comes first
// (/v2/bot/richmenu/list before /v2/bot/richmenu/{richMenuId}).
func moreSpecific(a, b *route) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if ra, rb := a.segs[i].rank(), b.segs[i].rank(); ra != rb {
			return ra > rb
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.template < b.template
}

// params compiles a list of parameter objects.
func (c *compiler) params(raw any, loc string) ([]*param, error) {
	list, _ := raw.([]any)
	var out []*param
	for i, item := range list {
		itemLoc := fmt.Sprintf("%s/%d", loc, i)
		m, err := c.deref(item, itemLoc)
		if err != nil {
			return nil, err
		}
		p := &param{name: str(m["name"]), in: str(m["in"]), required: m["required"] == true}
		switch p.in {
		case "path", "query", "header", "cookie":
		default:
			return nil, fmt.Errorf("%s: parameter %q has unknown location %q", itemLoc, p.name, p.in)
		}
		if p.name == "" {
			return nil, fmt.Errorf("%s: parameter without a name", itemLoc)
		}
		if p.in == "path" {
			p.required = true // path parameters always are
		}
		if sc, ok := m["schema"]; ok {
			if p.schema, err = c.inline(sc, itemLoc+"/schema"); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// mergeParams combines a path item's parameters with an operation's; the
// operation's win when both define the same name and location.
func mergeParams(shared, own []*param) []*param {
	key := func(p *param) string {
		if p.in == "header" {
			return "header:" + strings.ToLower(p.name)
		}
		return p.in + ":" + p.name
	}
	seen := map[string]bool{}
	var out []*param
	for _, p := range own {
		seen[key(p)] = true
		out = append(out, p)
	}
	for _, p := range shared {
		if !seen[key(p)] {
			out = append(out, p)
		}
	}
	return out
}

func (c *compiler) requestBody(raw any, loc string) (*requestBody, error) {
	m, err := c.deref(raw, loc)
	if err != nil {
		return nil, err
	}
	rb := &requestBody{required: m["required"] == true}
	content, _ := m["content"].(map[string]any)
	for _, raw := range sortedKeys(content) {
		mtLoc := loc + "/content/" + escapePointer(raw)
		essence := strings.ToLower(strings.TrimSpace(strings.SplitN(raw, ";", 2)[0]))
		typ, sub, ok := strings.Cut(essence, "/")
		if !ok {
			return nil, fmt.Errorf("%s: bad media type %q", mtLoc, raw)
		}
		mt := mediaType{raw: raw, essence: essence}
		switch {
		case typ == "*":
			mt.wildcards = 2
		case sub == "*":
			mt.wildcards = 1
		}
		mt.json = essence == "application/json" || strings.HasSuffix(sub, "+json")
		entry, _ := content[raw].(map[string]any)
		if sc, ok := entry["schema"]; ok {
			if mt.schema, err = c.inline(sc, mtLoc+"/schema"); err != nil {
				return nil, err
			}
		}
		rb.media = append(rb.media, mt)
	}
	return rb, nil
}

func parseSecurity(raw any, schemes map[string]*securityScheme, loc string) ([]securityRequirement, error) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: security must be a list", loc)
	}
	out := []securityRequirement{}
	for _, item := range list {
		m, _ := item.(map[string]any)
		req := securityRequirement{}
		for _, name := range sortedKeys(m) {
			if schemes[name] == nil {
				return nil, fmt.Errorf("%s: unknown security scheme %q", loc, name)
			}
			req = append(req, name)
		}
		out = append(out, req)
	}
	return out, nil
}

// deref returns the mapping at raw, following a local $ref if raw is one.
func (c *compiler) deref(raw any, loc string) (map[string]any, error) {
	for range 10 { // $refs to $refs, but not forever
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected a mapping", loc)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		if raw, ok = lookupPointer(c.doc, ref); !ok {
			return nil, fmt.Errorf("%s: $ref %q not found", loc, ref)
		}
		loc = ref
	}
	return nil, fmt.Errorf("%s: too many nested $refs", loc)
}

// ref returns the compiled schema a local $ref points to, compiling it on
// first use. The schema is registered before its keywords are compiled, so
// recursive schemas (a FlexBox containing FlexComponents) terminate.
func (c *compiler) ref(ref string) (*schema, error) {
	if s, ok := c.refs[ref]; ok {
		return s, nil
	}
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q: only local references (#/...) are supported", ref)
	}
	raw, ok := lookupPointer(c.doc, ref)
	if !ok {
		return nil, fmt.Errorf("$ref %q not found", ref)
	}
	s := c.newSchema(ref)
	c.refs[ref] = s
	if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok && !strings.Contains(name, "/") {
		s.name = unescapePointer(name)
		c.named[s.name] = s
	}
	if err := c.fill(s, raw); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *compiler) newSchema(loc string) *schema {
	s := &schema{loc: loc, minLength: -1, maxLength: -1, minItems: -1, maxItems: -1}
	c.all = append(c.all, s)
	return s
}

// inline compiles a schema written in place.
func (c *compiler) inline(raw any, loc string) (*schema, error) {
	s := c.newSchema(loc)
	if err := c.fill(s, raw); err != nil {
		return nil, err
	}
	return s, nil
}

// inlineList compiles the list of schemas of allOf, oneOf or anyOf.
func (c *compiler) inlineList(raw any, loc string) ([]*schema, error) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a list of schemas", loc)
	}
	out := make([]*schema, 0, len(list))
	for i, item := range list {
		s, err := c.inline(item, fmt.Sprintf("%s/%d", loc, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var knownTypes = map[string]bool{"object": true, "array": true, "string": true, "integer": true, "number": true, "boolean": true}

// fill compiles the keywords of raw into s.
func (c *compiler) fill(s *schema, raw any) (err error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: a schema must be a mapping", s.loc)
	}
	if ref, ok := m["$ref"]; ok {
		r, ok := ref.(string)
		if !ok {
			return fmt.Errorf("%s: $ref must be a string", s.loc)
		}
		if s.ref, err = c.ref(r); err != nil {
			return fmt.Errorf("%s: %w", s.loc, err)
		}
		return nil
	}
	// kw wraps an error with the keyword's location.
	kw := func(name string, err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s/%s: %w", s.loc, name, err)
	}

	if t, ok := m["type"]; ok {
		s.typ, _ = t.(string)
		if !knownTypes[s.typ] {
			return kw("type", fmt.Errorf("unsupported type %v", t))
		}
	}
	s.nullable = m["nullable"] == true
	s.format = str(m["format"])
	if e, ok := m["enum"]; ok {
		list, ok := e.([]any)
		if !ok {
			return kw("enum", errors.New("must be a list"))
		}
		s.enum = list
	}
	for name, dst := range map[string]*int{
		"minLength": &s.minLength, "maxLength": &s.maxLength,
		"minItems": &s.minItems, "maxItems": &s.maxItems,
	} {
		if *dst, err = intKeyword(m, name); err != nil {
			return kw(name, err)
		}
	}
	if p, ok := m["pattern"]; ok {
		// JSON Schema patterns are ECMA-262 regexps searched anywhere in the
		// string; the ones in the LINE specs are also valid Go (RE2) syntax.
		if s.pattern, err = regexp.Compile(str(p)); err != nil {
			return kw("pattern", err)
		}
	}
	if s.minimum, err = ratKeyword(m, "minimum"); err != nil {
		return kw("minimum", err)
	}
	if s.maximum, err = ratKeyword(m, "maximum"); err != nil {
		return kw("maximum", err)
	}
	s.exclusiveMinimum = m["exclusiveMinimum"] == true
	s.exclusiveMaximum = m["exclusiveMaximum"] == true
	s.uniqueItems = m["uniqueItems"] == true
	if it, ok := m["items"]; ok {
		if s.items, err = c.inline(it, s.loc+"/items"); err != nil {
			return err
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		s.properties = make(map[string]*schema, len(props))
		for _, name := range sortedKeys(props) {
			if s.properties[name], err = c.inline(props[name], s.loc+"/properties/"+escapePointer(name)); err != nil {
				return err
			}
		}
	}
	if req, ok := m["required"]; ok {
		list, ok := req.([]any)
		if !ok {
			return kw("required", errors.New("must be a list"))
		}
		for _, r := range list {
			s.required = append(s.required, str(r))
		}
	}
	switch ap := m["additionalProperties"].(type) {
	case nil:
	case bool:
		s.addlAllowed, s.addlForbidden = ap, !ap
	default:
		s.addlAllowed = true
		if s.addl, err = c.inline(ap, s.loc+"/additionalProperties"); err != nil {
			return err
		}
	}
	if s.allOf, err = c.inlineList(m["allOf"], s.loc+"/allOf"); err != nil {
		return err
	}
	if s.oneOf, err = c.inlineList(m["oneOf"], s.loc+"/oneOf"); err != nil {
		return err
	}
	if s.anyOf, err = c.inlineList(m["anyOf"], s.loc+"/anyOf"); err != nil {
		return err
	}
	if n, ok := m["not"]; ok {
		if s.not, err = c.inline(n, s.loc+"/not"); err != nil {
			return err
		}
	}
	if d, ok := m["discriminator"]; ok {
		if s.disc, err = c.discriminator(s, d); err != nil {
			return kw("discriminator", err)
		}
	}
	return nil
}

// discriminator compiles s's discriminator. Without a mapping, the value
// names the schema: one of s's oneOf/anyOf $refs if it has any, otherwise
// any schema under components/schemas.
func (c *compiler) discriminator(s *schema, raw any) (*discriminator, error) {
	m, ok := raw.(map[string]any)
	if !ok || str(m["propertyName"]) == "" {
		return nil, errors.New("needs a propertyName")
	}
	d := &discriminator{prop: str(m["propertyName"])}
	if mapping, ok := m["mapping"].(map[string]any); ok {
		d.mapping = map[string]*schema{}
		for value, target := range mapping {
			ref := str(target)
			if !strings.HasPrefix(ref, "#") {
				ref = "#/components/schemas/" + escapePointer(ref)
			}
			t, err := c.ref(ref)
			if err != nil {
				return nil, fmt.Errorf("mapping %q: %w", value, err)
			}
			d.mapping[value] = t
		}
	} else {
		for _, part := range append(append([]*schema{}, s.oneOf...), s.anyOf...) {
			if part.ref != nil && part.ref.name != "" {
				if d.mapping == nil {
					d.mapping = map[string]*schema{}
				}
				d.mapping[part.ref.name] = part.ref
			}
		}
		if d.mapping == nil {
			d.byName = c.named
		}
	}
	d.allowed = sortedKeys(d.mapping)
	return d, nil
}

// declare computes (once) the property names s declares, merged over its
// allOf, oneOf and anyOf parts and through $refs.
func declare(s *schema, visiting map[*schema]bool) *propSet {
	if s.props != nil {
		return s.props
	}
	if visiting[s] {
		return &propSet{} // a cycle through allOf: nothing new on this path
	}
	visiting[s] = true
	defer delete(visiting, s)
	if s.ref != nil {
		s.props = declare(s.ref, visiting)
		return s.props
	}
	set := &propSet{names: map[string]bool{}, open: s.addlAllowed, closed: s.addlForbidden}
	for name := range s.properties {
		set.names[name] = true
	}
	for _, parts := range [][]*schema{s.allOf, s.oneOf, s.anyOf} {
		for _, p := range parts {
			ps := declare(p, visiting)
			for name := range ps.names {
				set.names[name] = true
			}
			set.open = set.open || ps.open
			set.closed = set.closed || ps.closed
		}
	}
	s.props = set
	return set
}

// subtypeChecks finds the discriminators, among t's allOf bases, that map
// values to t.
func subtypeChecks(t *schema) []subtypeOf {
	var out []subtypeOf
	walkAllOf(t, func(base *schema) {
		if base.disc == nil {
			return
		}
		var allowed []string
		if base.disc.mapping == nil {
			allowed = []string{t.name}
		}
		for _, value := range base.disc.allowed {
			if base.disc.mapping[value] == t {
				allowed = append(allowed, value)
			}
		}
		if len(allowed) > 0 {
			out = append(out, subtypeOf{prop: base.disc.prop, allowed: allowed})
		}
	})
	return out
}

// walkAllOf calls fn for every schema reached from s through allOf parts
// (and $refs), not counting s itself.
func walkAllOf(s *schema, fn func(*schema)) {
	seen := map[*schema]bool{}
	var walk func(*schema)
	walk = func(s *schema) {
		for s.ref != nil {
			s = s.ref
		}
		for _, p := range s.allOf {
			for p.ref != nil {
				p = p.ref
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			fn(p)
			walk(p)
		}
	}
	walk(s)
}

// inherits reports whether base is one of t's allOf parts, directly or not.
func inherits(t, base *schema) bool {
	found := false
	walkAllOf(t, func(p *schema) { found = found || p == base })
	return found
}

// normalize turns YAML-decoded values into the shapes encoding/json would
// give: maps keyed by strings, numbers as json.Number, dates as strings.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case int:
		return json.Number(strconv.Itoa(x))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case time.Time:
		// YAML reads unquoted dates as timestamps; JSON would have strings.
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}

func intKeyword(m map[string]any, name string) (int, error) {
	v, ok := m[name]
	if !ok {
		return -1, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("expected an integer, got %v", v)
	}
	i, err := strconv.Atoi(string(n))
	if err != nil || i < 0 {
		return 0, fmt.Errorf("expected a non-negative integer, got %v", v)
	}
	return i, nil
}

func ratKeyword(m map[string]any, name string) (*big.Rat, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("expected a number, got %v", v)
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil, fmt.Errorf("expected a number, got %v", v)
	}
	return r, nil
}

// lookupPointer resolves a local reference "#/a/b" in doc.
func lookupPointer(doc map[string]any, ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	var cur any = doc
	if rest == "" {
		return cur, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		tok = unescapePointer(tok)
		switch x := cur.(type) {
		case map[string]any:
			if cur, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
