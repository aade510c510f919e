package openapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// find returns the operation for r's method and URL path, with the path
// parameters it binds (still percent-decoded), or nil.
func (s *Spec) find(r *http.Request) (*operation, map[string]string) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	parts := strings.Split(path[1:], "/")
	// Routes are sorted most specific first, so the first match wins.
	for _, rt := range s.routes {
		op := rt.ops[r.Method]
		if op == nil || len(rt.segs) != len(parts) {
			continue
		}
		if params, ok := rt.match(parts); ok {
			return op, params
		}
	}
	return nil, nil
}

// match matches the escaped path segments parts against the template.
func (rt *route) match(parts []string) (map[string]string, bool) {
	var params map[string]string
	bind := func(name, escaped string) bool {
		value, err := url.PathUnescape(escaped)
		if err != nil || value == "" {
			return false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[name] = value
		return true
	}
	for i, seg := range rt.segs {
		part := parts[i]
		switch {
		case seg.re != nil:
			m := seg.re.FindStringSubmatch(part)
			if m == nil {
				return nil, false
			}
			for j, name := range seg.names {
				if !bind(name, m[j+1]) {
					return nil, false
				}
			}
		case seg.param != "":
			if !bind(seg.param, part) {
				return nil, false
			}
		default:
			if part != seg.lit {
				return nil, false
			}
		}
	}
	return params, true
}

// checkSecurity checks that r carries the credentials the operation's
// security requirements ask for. Only the presence and shape of credentials
// are checked, never their value.
func (c *checker) checkSecurity(s *Spec, op *operation, r *http.Request) {
	if len(op.security) == 0 {
		return
	}
	var first []string // what the first requirement misses
	for i, req := range op.security {
		var missing []string
		for _, name := range req {
			if msg := credentialProblem(s.schemeSet[name], name, r); msg != "" {
				missing = append(missing, msg)
			}
		}
		if len(missing) == 0 {
			return // any one satisfied requirement is enough
		}
		if i == 0 {
			first = missing
		}
	}
	for _, msg := range first {
		c.problems = append(c.problems, msg)
	}
}

// credentialProblem describes what r lacks for the security scheme, or "".
func credentialProblem(sch *securityScheme, name string, r *http.Request) string {
	authScheme := ""
	switch sch.typ {
	case "http":
		authScheme = sch.scheme
	case "oauth2", "openIdConnect":
		authScheme = "bearer"
	case "apiKey":
		present := false
		switch sch.in {
		case "header":
			present = r.Header.Get(sch.name) != ""
		case "query":
			present = r.URL.Query().Has(sch.name)
		case "cookie":
			_, err := r.Cookie(sch.name)
			present = err == nil
		}
		if !present {
			return sch.in + " " + sch.name + ": missing (security scheme " + name + ")"
		}
		return ""
	default:
		return "" // not something we know how to check
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "header Authorization: missing (security scheme " + name + " needs " + authScheme + " credentials)"
	}
	got, credentials, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(got, authScheme) || strings.TrimSpace(credentials) == "" {
		// The credentials are not echoed: they may be real tokens.
		return "header Authorization: want \"" + canonicalAuthScheme(authScheme) + " <credentials>\" (security scheme " + name + ")"
	}
	return ""
}

func canonicalAuthScheme(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkParams checks the operation's parameters, and that the query holds no
// parameter the operation does not declare (API keys of its security schemes
// excepted).
func (c *checker) checkParams(s *Spec, op *operation, r *http.Request, pathParams map[string]string) {
	query := r.URL.Query()
	declaredQuery := map[string]bool{}
	for _, req := range op.security {
		for _, name := range req {
			if sch := s.schemeSet[name]; sch.typ == "apiKey" && sch.in == "query" {
				declaredQuery[sch.name] = true
			}
		}
	}
	for _, p := range op.params {
		where := p.in + " " + p.name
		var values []string
		switch p.in {
		case "path":
			if v, ok := pathParams[p.name]; ok {
				values = []string{v}
			}
		case "query":
			declaredQuery[p.name] = true
			values = query[p.name]
		case "header":
			values = r.Header.Values(p.name)
		case "cookie":
			if ck, err := r.Cookie(p.name); err == nil {
				values = []string{ck.Value}
			}
		}
		if len(values) == 0 {
			if p.required {
				c.add(where, "missing required parameter")
			}
			continue
		}
		if p.schema == nil {
			continue
		}
		c.checkParam(p, values, where)
	}
	for _, name := range sortedKeys(query) {
		if !declaredQuery[name] {
			c.add("query "+name, "unknown parameter")
		}
	}
}

// checkParam converts a parameter's text to the JSON value its schema
// describes and validates it. Arrays come from repeated query parameters
// (style form, explode) or comma-separated lists (style simple).
func (c *checker) checkParam(p *param, values []string, where string) {
	s := p.schema
	for s.ref != nil {
		s = s.ref
	}
	if s.typ == "array" {
		if p.in != "query" {
			values = strings.Split(strings.Join(values, ","), ",")
		}
		items := make([]any, len(values))
		for i, text := range values {
			v, ok := c.fromText(s.items, text, where)
			if !ok {
				return
			}
			items[i] = v
		}
		c.check(s, items, where, 0)
		return
	}
	if len(values) > 1 {
		c.add(where, "given %d times, want once", len(values))
		return
	}
	if v, ok := c.fromText(s, values[0], where); ok {
		c.check(s, v, where, 0)
	}
}

var numberText = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// fromText turns parameter text into a value of the type s expects, as if it
// had been decoded from JSON, or reports that it cannot be one.
func (c *checker) fromText(s *schema, text, where string) (any, bool) {
	typ := ""
	if s != nil {
		for s.ref != nil {
			s = s.ref
		}
		typ = s.typ
	}
	switch typ {
	case "integer":
		if !isIntegerText(text) {
			c.add(where, "expected integer, got %q", text)
			return nil, false
		}
		return json.Number(text), true
	case "number":
		if !numberText.MatchString(text) {
			c.add(where, "expected number, got %q", text)
			return nil, false
		}
		return json.Number(text), true
	case "boolean":
		if text != "true" && text != "false" {
			c.add(where, "expected boolean, got %q", text)
			return nil, false
		}
		return text == "true", true
	}
	return text, true
}

// checkBody checks the Content-Type against the declared media types and a
// JSON body against its schema.
func (c *checker) checkBody(op *operation, r *http.Request, body []byte) {
	if op.body == nil {
		if len(body) > 0 {
			c.add("body", "the operation takes no request body")
		}
		return
	}
	if len(body) == 0 {
		if op.body.required {
			c.add("body", "missing required request body")
		}
		return
	}
	declared := make([]string, len(op.body.media))
	for i, mt := range op.body.media {
		declared[i] = mt.raw
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		c.add("header Content-Type", "missing; declared: %s", strings.Join(declared, ", "))
		return
	}
	essence, _, err := mime.ParseMediaType(ct)
	if err != nil {
		c.add("header Content-Type", "cannot parse %q: %v", ct, err)
		return
	}
	mt := op.body.mediaFor(essence)
	if mt == nil {
		c.add("header Content-Type", "%q is not declared; declared: %s", essence, strings.Join(declared, ", "))
		return
	}
	if !mt.json || mt.schema == nil {
		return // binary uploads and the like: nothing to validate
	}
	v, err := decodeJSON(body)
	if err != nil {
		c.add("body", "%v", err)
		return
	}
	c.check(mt.schema, v, "", 0)
}

// mediaFor returns the declared media type that best matches essence
// (type/subtype, lower case): exact first, then type/*, then */*.
func (rb *requestBody) mediaFor(essence string) *mediaType {
	typ, _, _ := strings.Cut(essence, "/")
	var best *mediaType
	for i := range rb.media {
		mt := &rb.media[i]
		ok := mt.essence == essence ||
			mt.wildcards == 1 && strings.HasPrefix(mt.essence, typ+"/") ||
			mt.wildcards == 2
		if ok && (best == nil || mt.wildcards < best.wildcards) {
			best = mt
		}
	}
	return best
}
