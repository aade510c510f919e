// Package linetest is a fake LINE Messaging API for tests, served on
// loopback: it holds every request to the official OpenAPI model and to
// LINE's size limits, answers as LINE does, and keeps what it accepted.
//
// testdata/ holds LINE's own models (messaging-api.yml, webhook.yml, Apache
// 2.0, see testdata/LICENSE), copied from github.com/line/line-openapi.
package linetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	_ "embed"

	"github.com/kpibot/kpibot/internal/openapi"
)

//go:embed testdata/messaging-api.yml
var messagingAPI []byte

//go:embed testdata/webhook.yml
var webhookAPI []byte

// Token is the channel access token the fake accepts.
const Token = "test-channel-token"

// LINE's limits that its model does not state.
const (
	maxTextUnits    = 5000
	maxAltTextUnits = 1500
	maxBubbleBytes  = 30 * 1024
	maxCarouselSize = 50 * 1024
	maxBubbles      = 12
	maxImageURL     = 2000 // an image message's originalContentUrl and previewImageUrl
)

var (
	specOnce                 sync.Once
	messagingSpec, hookSpec  *openapi.Spec
	errMessaging, errWebhook error
)

func specs() (*openapi.Spec, *openapi.Spec, error) {
	specOnce.Do(func() {
		messagingSpec, errMessaging = openapi.Parse(messagingAPI)
		hookSpec, errWebhook = openapi.Parse(webhookAPI)
	})
	if errMessaging != nil {
		return nil, nil, fmt.Errorf("linetest: messaging-api.yml: %w", errMessaging)
	}
	if errWebhook != nil {
		return nil, nil, fmt.Errorf("linetest: webhook.yml: %w", errWebhook)
	}
	return messagingSpec, hookSpec, nil
}

// ValidateWebhook checks a webhook body against LINE's webhook model.
func ValidateWebhook(body []byte) error {
	_, hook, err := specs()
	if err != nil {
		return err
	}
	return hook.ValidateSchema("CallbackRequest", body)
}

// Sent is a reply or push the fake accepted.
type Sent struct {
	Op         string // replyMessage or pushMessage
	To         string // the push's chat
	ReplyToken string
	RetryKey   string
	Messages   []json.RawMessage
}

// Image is an image message the fake accepted: LINE would fetch its URLs.
type Image struct {
	Op         string // replyMessage or pushMessage
	To         string // the push's chat
	ReplyToken string
	Index      int // its place among the request's messages
	Original   string
	Preview    string
}

// Images returns the image messages of the replies and pushes accepted so
// far, in order, for a test to fetch.
func (s *Server) Images() []Image {
	var out []Image
	for _, sent := range s.Sent() {
		for i, raw := range sent.Messages {
			var m struct {
				Type               string `json:"type"`
				OriginalContentURL string `json:"originalContentUrl"`
				PreviewImageURL    string `json:"previewImageUrl"`
			}
			if json.Unmarshal(raw, &m) != nil || m.Type != "image" {
				continue
			}
			out = append(out, Image{Op: sent.Op, To: sent.To, ReplyToken: sent.ReplyToken, Index: i,
				Original: m.OriginalContentURL, Preview: m.PreviewImageURL})
		}
	}
	return out
}

// Server is the fake. Every request that breaks LINE's model or limits is
// answered 400 as LINE would and recorded; the test fails at its end if
// there was any.
type Server struct {
	URL string

	srv *httptest.Server
	t   testing.TB

	mu        sync.Mutex
	sent      []Sent
	problems  []string
	faults    map[string][]fault
	calls     map[string]int
	limited   bool
	limit     int64
	used      int64
	members   map[string]int
	names     map[string]string // display names by user id; others' profiles are 404
	retryKeys map[string]bool
	tokens    map[string]bool // reply tokens used or expired
}

type fault struct {
	status  int
	message string
	accept  bool // the request takes effect before the failure is answered
}

// NewServer starts a fake on 127.0.0.1, stopped when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	spec, _, err := specs()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, faults: map[string][]fault{}, calls: map[string]int{}, members: map[string]int{}, names: map[string]string{},
		retryKeys: map[string]bool{}, tokens: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(spec, w, r) }))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		s.srv.Close()
		if p := s.Problems(); len(p) > 0 {
			t.Errorf("fake LINE: requests that break LINE's model or limits:\n%s", strings.Join(p, "\n"))
		}
	})
	return s
}

// Fail makes the next n calls of the operation (an operationId such as
// pushMessage) fail with status and LINE's message.
func (s *Server) Fail(op string, n, status int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], fault{status: status, message: message})
	}
}

// FailAfterAccepting makes the next call of op take effect but answer
// status, as when LINE's answer is lost on the way.
func (s *Server) FailAfterAccepting(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], fault{status: status, message: "Internal Server Error", accept: true})
}

// SetQuota gives the channel a monthly limit with used messages already sent.
func (s *Server) SetQuota(limit, used int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.limit, s.used = true, limit, used
}

// Used is the messages counted against the quota so far.
func (s *Server) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// SetMembers sets how many people a group or room has.
func (s *Server) SetMembers(chat string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[chat] = n
}

// SetName gives user a display name, what the profile calls (getProfile,
// getGroupMemberProfile, getRoomMemberProfile) answer; a user without one
// is not found, as one who left.
func (s *Server) SetName(user, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[user] = name
}

// ExpireToken makes a reply token invalid, as after its minute.
func (s *Server) ExpireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// Sent returns the replies and pushes accepted so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Calls counts the requests made of an operation, failed ones included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Problems lists the requests refused for breaking LINE's model or limits.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Server) serve(spec *openapi.Spec, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := spec.OperationID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	w.Header().Set("X-Line-Request-Id", fmt.Sprintf("req-%d", s.calls[op]))
	if r.Header.Get("Authorization") != "Bearer "+Token {
		answer(w, http.StatusUnauthorized, map[string]any{"message": "Authentication failed. Confirm that the access token in the authorization header is valid."})
		return
	}
	if err := spec.ValidateRequest(r, body); err != nil {
		s.refuse(w, r, err.Error())
		return
	}
	if err := limits(op, body); err != nil {
		s.refuse(w, r, err.Error())
		return
	}
	var f *fault
	if q := s.faults[op]; len(q) > 0 {
		f, s.faults[op] = &q[0], q[1:]
		if !f.accept {
			answer(w, f.status, map[string]any{"message": f.message})
			return
		}
	}
	status, out := s.do(op, r, body)
	if f != nil && status/100 == 2 {
		status, out = f.status, map[string]any{"message": f.message}
	}
	answer(w, status, out)
}

// refuse answers a request that breaks the model and records why.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, why string) {
	s.problems = append(s.problems, r.Method+" "+r.URL.Path+": "+why)
	answer(w, http.StatusBadRequest, map[string]any{"message": "The request body has 1 error(s)",
		"details": []map[string]string{{"message": why, "property": ""}}})
}

// do carries out a valid request; the lock is held.
func (s *Server) do(op string, r *http.Request, body []byte) (int, any) {
	switch op {
	case "replyMessage":
		var req struct {
			ReplyToken string            `json:"replyToken"`
			Messages   []json.RawMessage `json:"messages"`
		}
		_ = json.Unmarshal(body, &req) // valid: checked against the model
		if s.tokens[req.ReplyToken] {
			return http.StatusBadRequest, map[string]any{"message": "Invalid reply token"}
		}
		s.tokens[req.ReplyToken] = true
		s.sent = append(s.sent, Sent{Op: op, ReplyToken: req.ReplyToken, Messages: req.Messages})
		return http.StatusOK, sentMessages(len(req.Messages))
	case "pushMessage":
		var req struct {
			To       string            `json:"to"`
			Messages []json.RawMessage `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		key := r.Header.Get("X-Line-Retry-Key")
		if key != "" && s.retryKeys[key] {
			return http.StatusConflict, map[string]any{"message": "The retry key is already accepted"}
		}
		cost := int64(s.recipients(req.To))
		if s.limited && s.used+cost > s.limit {
			return http.StatusTooManyRequests, map[string]any{"message": "You have reached your monthly limit."}
		}
		s.used += cost
		if key != "" {
			s.retryKeys[key] = true
		}
		s.sent = append(s.sent, Sent{Op: op, To: req.To, RetryKey: key, Messages: req.Messages})
		return http.StatusOK, sentMessages(len(req.Messages))
	case "getMessageQuota":
		if !s.limited {
			return http.StatusOK, map[string]any{"type": "none"}
		}
		return http.StatusOK, map[string]any{"type": "limited", "value": s.limit}
	case "getMessageQuotaConsumption":
		return http.StatusOK, map[string]any{"totalUsage": s.used}
	case "getGroupMemberCount", "getRoomMemberCount":
		id := strings.Split(r.URL.Path, "/")[4] // /v2/bot/group/{id}/members/count
		return http.StatusOK, map[string]any{"count": s.recipients(id)}
	case "getProfile", "getGroupMemberProfile", "getRoomMemberProfile":
		parts := strings.Split(r.URL.Path, "/") // …/profile/{userId}, …/member/{userId}
		user := parts[len(parts)-1]
		name, ok := s.names[user]
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Not found"}
		}
		return http.StatusOK, map[string]any{"displayName": name, "userId": user}
	case "getBotInfo":
		return http.StatusOK, map[string]any{"userId": "Ubot0000000000000000000000000000", "basicId": "@kpibot",
			"displayName": "kpibot", "chatMode": "bot", "markAsReadMode": "auto"}
	}
	return http.StatusNotFound, map[string]any{"message": "Not found"}
}

// recipients is what a push to chat costs; the lock is held.
func (s *Server) recipients(chat string) int {
	if n, ok := s.members[chat]; ok {
		return n
	}
	if strings.HasPrefix(chat, "C") || strings.HasPrefix(chat, "R") {
		return 3
	}
	return 1
}

func sentMessages(n int) map[string]any {
	var sent []map[string]string
	for i := range n {
		sent = append(sent, map[string]string{"id": fmt.Sprintf("4611%012d", i), "quoteToken": "q" + fmt.Sprint(i)})
	}
	return map[string]any{"sentMessages": sent}
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limits checks what LINE's model leaves unsaid: text length, altText
// length, the size of Flex bubbles and carousels, and the URLs of images.
func limits(op string, body []byte) error {
	if op != "replyMessage" && op != "pushMessage" {
		return nil
	}
	var req struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	var problems []string
	for i, raw := range req.Messages {
		var m struct {
			Type     string          `json:"type"`
			Text     string          `json:"text"`
			AltText  string          `json:"altText"`
			Contents json.RawMessage `json:"contents"`
			Original string          `json:"originalContentUrl"`
			Preview  string          `json:"previewImageUrl"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		switch m.Type {
		case "text":
			if n := len(utf16.Encode([]rune(m.Text))); n > maxTextUnits {
				problems = append(problems, fmt.Sprintf("/messages/%d/text: %d characters, more than %d", i, n, maxTextUnits))
			}
		case "flex":
			if n := len(utf16.Encode([]rune(m.AltText))); n > maxAltTextUnits {
				problems = append(problems, fmt.Sprintf("/messages/%d/altText: %d characters, more than %d", i, n, maxAltTextUnits))
			}
			problems = append(problems, flexSize(fmt.Sprintf("/messages/%d/contents", i), m.Contents)...)
		case "image":
			if err := imageURL(m.Original); err != nil {
				problems = append(problems, fmt.Sprintf("/messages/%d/originalContentUrl: %v", i, err))
			}
			if err := imageURL(m.Preview); err != nil {
				problems = append(problems, fmt.Sprintf("/messages/%d/previewImageUrl: %v", i, err))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// flexSize checks a Flex container's size: a bubble at most 30 KB, a
// carousel at most 50 KB and 12 bubbles of at most 30 KB each.
func flexSize(at string, raw json.RawMessage) []string {
	var c struct {
		Type     string            `json:"type"`
		Contents []json.RawMessage `json:"contents"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return []string{at + ": " + err.Error()}
	}
	size := func(raw json.RawMessage) int {
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return len(raw)
		}
		return b.Len()
	}
	var problems []string
	switch c.Type {
	case "bubble":
		if n := size(raw); n > maxBubbleBytes {
			problems = append(problems, fmt.Sprintf("%s: bubble of %d bytes, more than %d", at, n, maxBubbleBytes))
		}
	case "carousel":
		if n := size(raw); n > maxCarouselSize {
			problems = append(problems, fmt.Sprintf("%s: carousel of %d bytes, more than %d", at, n, maxCarouselSize))
		}
		if len(c.Contents) > maxBubbles {
			problems = append(problems, fmt.Sprintf("%s: carousel of %d bubbles, more than %d", at, len(c.Contents), maxBubbles))
		}
		for i, b := range c.Contents {
			if n := size(b); n > maxBubbleBytes {
				problems = append(problems, fmt.Sprintf("%s/contents/%d: bubble of %d bytes, more than %d", at, i, n, maxBubbleBytes))
			}
		}
	}
	return problems
}

// imageURL checks an image message's URL as LINE does: https, at most
// 2,000 characters. An http URL on a loopback host (the test's own
// server) passes too, since a test has no certificate LINE would trust.
func imageURL(raw string) error {
	if n := len([]rune(raw)); n > maxImageURL {
		return fmt.Errorf("URL of %d characters, more than %d", n, maxImageURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%q is not https: LINE fetches images only over https", raw)
}
