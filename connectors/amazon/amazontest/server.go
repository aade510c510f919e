// Package amazontest is a fake Login with Amazon, Selling Partner API and
// Amazon Ads on 127.0.0.1 for the connector's tests: it speaks their wire
// formats, answers from the examples of Amazon's official models, checks
// the credentials and tokens it is sent, and injects the faults a test
// asks for.
package amazontest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/amazon"
)

// The credentials the fake accepts.
var Credentials = amazon.Credentials{
	ClientID:     "amzn1.application-oa2-client.fake",
	ClientSecret: "fake-client-secret-never-logged",
	RefreshToken: "Atzr|fake-refresh-token-never-logged",
}

// Fault is what the fake answers instead of the real thing, once.
type Fault struct {
	Status int           // an HTTP status; with Body, Amazon's error JSON
	Body   string        // the answer's body; "" with Status: SP-API's error for it
	Delay  time.Duration // wait this long first (beyond a client's timeout: a timeout)
}

// Server is the fake. Its handlers are registered per operation with
// Handle; each call first takes the operation's next queued fault, if any.
type Server struct {
	URL string // the base URL of all three: token at /auth/o2/token

	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	mu     sync.Mutex
	faults map[string][]Fault
	calls  map[string]int
	tokens map[string]bool // access tokens issued
	seq    int
}

// New starts a fake that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{t: t, mux: http.NewServeMux(), faults: map[string][]Fault{}, calls: map[string]int{}, tokens: map[string]bool{}}
	s.mux.HandleFunc("POST /auth/o2/token", s.token)
	s.srv = httptest.NewServer(s.mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns a client config pointed at the fake.
func (s *Server) Config() amazon.Config {
	return amazon.Config{Credentials: Credentials, Endpoint: s.URL, TokenURL: s.URL + "/auth/o2/token"}
}

// Fail queues faults for operation op ("token", "searchOrders" …): its
// next calls get them, one each, in order.
func (s *Server) Fail(op string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], faults...)
}

// Calls returns how many times op was called, faults included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Handle registers h for op at pattern ("GET /orders/2026-01-01/orders").
// The call must carry a live access token in x-amz-access-token (auth
// "sp"), or Amazon Ads' Bearer token, client id and scope headers (auth
// "ads"), or nothing (auth "", a pre-signed document URL).
func (s *Server) Handle(op, auth, pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if s.fault(w, op) {
			return
		}
		switch auth {
		case "sp":
			if !s.live(r.Header.Get("x-amz-access-token")) {
				Error(w, http.StatusForbidden, "Unauthorized", "Access to requested resource is denied.")
				return
			}
		case "ads":
			token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !s.live(token) || r.Header.Get("Amazon-Advertising-API-ClientId") != Credentials.ClientID ||
				r.Header.Get("Amazon-Advertising-API-Scope") == "" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"code":"UNAUTHORIZED","details":"Not authorized to access scope"}`)
				return
			}
		}
		h(w, r)
	})
}

// fault answers the next queued fault of op, if there is one.
func (s *Server) fault(w http.ResponseWriter, op string) bool {
	s.mu.Lock()
	s.calls[op]++
	var f Fault
	queued := len(s.faults[op]) > 0
	if queued {
		f, s.faults[op] = s.faults[op][0], s.faults[op][1:]
	}
	s.mu.Unlock()
	if !queued {
		return false
	}
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	if f.Status == 0 {
		return false // a delay alone
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, f.Body)
		return true
	}
	code := map[int]string{429: "QuotaExceeded", 500: "InternalFailure", 503: "ServiceUnavailable", 400: "InvalidInput",
		403: "Unauthorized", 404: "NotFound"}[f.Status]
	Error(w, f.Status, code, http.StatusText(f.Status))
	return true
}

// live reports whether token is an access token the fake issued.
func (s *Server) live(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[token]
}

// token is Login with Amazon's token endpoint: a refresh token grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, "token") {
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		JSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"})
		return
	}
	// As Login with Amazon answers (OAuth 2.0, RFC 6749 5.2): a wrong
	// client is invalid_client (401), a refresh token it does not take
	// (revoked, expired, of another app) invalid_grant (400).
	if r.PostForm.Get("client_id") != Credentials.ClientID || r.PostForm.Get("client_secret") != Credentials.ClientSecret {
		JSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	if r.PostForm.Get("refresh_token") != Credentials.RefreshToken {
		JSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant",
			"error_description": "The request has an invalid grant parameter : refresh_token"})
		return
	}
	s.mu.Lock()
	s.seq++
	tok := fmt.Sprintf("Atza|fake-access-%d", s.seq)
	s.tokens[tok] = true
	s.mu.Unlock()
	JSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600,
		"refresh_token": Credentials.RefreshToken})
}

// Expire forgets every access token issued: the next SP-API call gets a
// 403 until the client asks for a new one.
func (s *Server) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// Tokens returns how many access tokens were issued.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// JSON writes v as a JSON answer.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error writes SP-API's error answer: {"errors": [{code, message}]}.
func Error(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
}
