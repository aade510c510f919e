// Package openapi checks HTTP requests and JSON documents against an
// OpenAPI 3.0 description — the subset the LINE Messaging API and webhook
// models use — so that test fakes hold our requests to the official specs.
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Spec is a parsed and compiled OpenAPI 3.0 document. It is safe for
// concurrent use: validation only reads it.
//
// Validation is stricter than OpenAPI in two ways, always: an object may only
// hold properties that some schema applying to it declares (its own
// properties, those of its allOf parts, through $refs, and those of the
// subtype its discriminator selects), unless it declares none or sets
// additionalProperties to true or a schema; and a request's query may only
// hold declared parameters. The LINE specs never set additionalProperties to
// false, yet our tests want misspelt or invented fields caught.
//
// Supported schema keywords: $ref (local), type, nullable, enum, properties,
// required, additionalProperties, items, minItems, maxItems, uniqueItems,
// minLength, maxLength (in characters), pattern, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, allOf, oneOf, anyOf, not and
// discriminator (with or without mapping), and the formats int32, int64,
// uuid, uri and date-time. Other keywords and formats (multipleOf,
// minProperties, readOnly, date, ...) are ignored; remote $refs are refused.
type Spec struct {
	routes    []*route           // path templates, most specific first
	schemas   map[string]*schema // components/schemas by name
	schemeSet map[string]*securityScheme
}

// Problems lists everything wrong with a request or document, one entry per
// problem, each written "<where>: <what is wrong>". For JSON bodies <where> is
// a JSON pointer such as /messages/0/text ("(root)" for the document
// itself); for request parts it names the part, such as
// "header X-Line-Retry-Key" or "query limit".
type Problems []string

// Error lists the problems, one per line when there are several.
func (p Problems) Error() string {
	if len(p) == 1 {
		return p[0]
	}
	return fmt.Sprintf("%d problems:\n\t%s", len(p), strings.Join(p, "\n\t"))
}

// Parse reads an OpenAPI 3.0 document in YAML or JSON.
//
// All schemas, $refs, patterns and path templates are resolved and compiled
// here, so that validation afterwards is cheap.
func Parse(data []byte) (*Spec, error) {
	s, err := compile(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return s, nil
}

// ValidateRequest finds the operation for r's method and path and checks the
// request against it: the security requirement (Bearer tokens), header, query
// and path parameters, the Content-Type and the JSON body. body is the request
// body, already read; r.Body is not touched.
//
// Path templates such as /v2/bot/group/{groupId}/member/{userId} are matched
// against r.URL.Path alone; the document's servers (and any base path in them)
// are ignored. A request that matches no operation gives the error
// "no operation <METHOD> <path>". Otherwise every problem found is reported,
// in a Problems wrapped with the operation's name.
func (s *Spec) ValidateRequest(r *http.Request, body []byte) error {
	op, pathParams := s.find(r)
	if op == nil {
		return fmt.Errorf("no operation %s %s", r.Method, r.URL.Path)
	}
	c := newChecker()
	c.checkSecurity(s, op, r)
	c.checkParams(s, op, r, pathParams)
	c.checkBody(op, r, body)
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s (operation %s): %w", r.Method, r.URL.Path, op.id, c.problems)
}

// OperationID returns the operationId that r maps to, or "" if none.
func (s *Spec) OperationID(r *http.Request) string {
	op, _ := s.find(r)
	if op == nil {
		return ""
	}
	return op.id
}

// ValidateSchema validates a JSON document against components/schemas/<name>.
// Every problem found is reported, in a Problems wrapped with the schema name.
func (s *Spec) ValidateSchema(name string, doc []byte) error {
	sc, ok := s.schemas[name]
	if !ok {
		return fmt.Errorf("openapi: no schema %q in components/schemas", name)
	}
	v, err := decodeJSON(doc)
	if err != nil {
		return fmt.Errorf("schema %s: %w", name, err)
	}
	c := newChecker()
	c.check(sc, v, "", 0)
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("schema %s: %w", name, c.problems)
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number so
// that integers and fractions can be told apart exactly.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return v, nil
}
