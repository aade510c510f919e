// Package yahootest is a fake Yahoo! Shopping Store API on 127.0.0.1 for
// the connector's tests: orderList and orderInfo over lists of orders the
// test sets, answered in Yahoo's XML with the buyers' names, addresses,
// phones and e-mails in them. It checks the Bearer token, decrypts the
// X-sws-signature with the store's private key (the client holds the
// public one) and refuses a wrong or stale signature, and injects the
// faults a test asks for, per operation.
//
// Where Yahoo does not document an answer, the fake says so: its own
// refusals of malformed requests carry codes starting "yahootest-".
package yahootest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kpibot/kpibot/connectors/yahoo"
)

// The store the fake serves, and its credentials.
const (
	SellerID   = "kpibot-test-store"
	Token      = "fake-yconnect-access-token-never-logged"
	KeyVersion = "3"
)

// storeKey is the test store's key pair, made once per test binary.
var storeKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// StoreKey returns the test store's RSA key pair: the fake decrypts with
// its private half.
func StoreKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := storeKey()
	if err != nil {
		t.Fatalf("yahootest: generate the store's key: %v", err)
	}
	return k
}

// NewKey returns a new RSA key pair: not the store's.
func NewKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("yahootest: generate a key: %v", err)
	}
	return k
}

// PublicKeyPEM returns the PEM of key's public half, as Store Creator Pro
// gives the store's public key.
func PublicKeyPEM(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatalf("yahootest: marshal a public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Fault is what the fake answers instead of the real thing, once.
type Fault struct {
	// Status is the answer's HTTP status; 0 with Delay: a delay alone.
	// With 200 the answer is <Status>NG</Status> with Code and Message.
	Status  int
	Code    string // Yahoo's error code; "" leaves it out
	Message string // "": the status's text
	Delay   time.Duration
}

// Server is the fake.
type Server struct {
	URL string

	// Now is the fake's clock, set before the first call: a signature
	// more than MaxSkew away from it is refused, and orderList shows an
	// order from its PublicationTime on. nil: time.Now.
	Now func() time.Time
	// MaxSkew is how far a signature's time may be from Now; 0: 5
	// minutes. Yahoo does not publish its own.
	MaxSkew time.Duration
	// AllFields answers every field of an order, the buyer's name,
	// address, phone and e-mail among them, whatever Field asks for: what
	// a careless server might send.
	AllFields bool

	t   testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey

	mu         sync.Mutex
	faults     map[string][]Fault
	calls      map[string]int
	bodies     map[string][]string
	signatures []string
	expired    bool
	orders     []Order
}

// New starts a fake that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{t: t, key: StoreKey(t), faults: map[string][]Fault{}, calls: map[string]int{}, bodies: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.serve)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns a client config pointed at the fake, with its
// credentials.
func (s *Server) Config() yahoo.Config {
	return yahoo.Config{SellerID: SellerID, AccessToken: Token, PublicKey: PublicKeyPEM(s.t, s.key), KeyVersion: KeyVersion,
		Endpoint: s.URL}
}

// Fail queues faults for operation op ("orderList", "orderInfo"): its
// next calls get them, one each, in order.
func (s *Server) Fail(op string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], faults...)
}

// Calls returns how many times op was called, faults and refusals
// included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Bodies returns the XML bodies of the calls of op that were answered
// (not faults nor refusals), in order.
func (s *Server) Bodies(op string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies[op]...)
}

// Signatures returns every X-sws-signature the fake was sent.
func (s *Server) Signatures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.signatures...)
}

// Expire makes the fake refuse the access token from now on, as Yahoo
// does once it expired.
func (s *Server) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// serve answers POST /ShoppingWebService/V1/{orderList,orderInfo}.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, "/ShoppingWebService/V1/")
	if !ok || (op != "orderList" && op != "orderInfo") {
		Error(w, http.StatusNotFound, "yahootest-not-found", "no such operation: "+r.URL.Path)
		return
	}
	if s.fault(w, op) {
		return
	}
	if r.Method != http.MethodPost {
		Error(w, http.StatusMethodNotAllowed, "yahootest-method", "POST only")
		return
	}
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		Error(w, http.StatusBadRequest, "yahootest-body", "unreadable body")
		return
	}
	s.mu.Lock()
	s.bodies[op] = append(s.bodies[op], string(body))
	s.mu.Unlock()
	if op == "orderList" {
		s.orderList(w, body)
		return
	}
	s.orderInfo(w, body)
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
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	if f.Status == http.StatusOK {
		NG(w, f.Status, f.Code, msg)
		return true
	}
	Error(w, f.Status, f.Code, msg)
	return true
}

// authorized checks the Bearer token, then the signature: it refuses a
// token it does not know (or once expired) with 401 px-04102, and a
// signature that does not decrypt with the store's key, names another
// store, is too old or too new, or comes with another key version with
// 403 px-14303.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	expired := s.expired
	s.signatures = append(s.signatures, r.Header.Get("X-sws-signature"))
	s.mu.Unlock()
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || token != Token || expired {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yahooapis.jp", error="invalid_token"`)
		Error(w, http.StatusUnauthorized, yahoo.CodeTokenExpired, "AccessToken has been expired. This API session is shorter than another API.")
		return false
	}
	if why := s.badSignature(r); why != "" {
		Error(w, http.StatusForbidden, yahoo.CodeNotPermitted, "Use of API is not permitted. (yahootest: "+why+")")
		return false
	}
	return true
}

// badSignature says what is wrong with the request's signature; "" if
// nothing is.
func (s *Server) badSignature(r *http.Request) string {
	if v := r.Header.Get("X-sws-signature-version"); v != KeyVersion {
		return fmt.Sprintf("key version %q, want %q", v, KeyVersion)
	}
	ct, err := base64.StdEncoding.DecodeString(r.Header.Get("X-sws-signature"))
	if err != nil {
		return "the signature is not base64"
	}
	pt, err := rsa.DecryptPKCS1v15(nil, s.key, ct)
	if err != nil {
		return "the signature does not decrypt with the store's key"
	}
	seller, unix, ok := strings.Cut(string(pt), ":")
	if !ok || seller != SellerID {
		return "the signature names another store"
	}
	sec, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		return "the signature's time is not a Unix time"
	}
	skew := s.MaxSkew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	if d := s.now().Sub(time.Unix(sec, 0)); d > skew || d < -skew {
		return fmt.Sprintf("the signature is %v away from the fake's clock", d.Round(time.Second))
	}
	return ""
}

// Error writes an error answer as Yahoo's front refuses a call:
// <Error><Message>…</Message><Code>…</Code></Error>.
func Error(w http.ResponseWriter, status int, code, message string) {
	var b strings.Builder
	b.WriteString("<Error>")
	element(&b, "Message", message)
	if code != "" {
		element(&b, "Code", code)
	}
	b.WriteString("</Error>")
	write(w, status, b.String())
}

// NG writes an operation's refusal: <Result><Status>NG</Status><Error>…
func NG(w http.ResponseWriter, status int, code, message string) {
	var b strings.Builder
	b.WriteString("<Result><Status>NG</Status><Error>")
	if code != "" {
		element(&b, "Code", code)
	}
	element(&b, "Message", message)
	b.WriteString("</Error></Result>")
	write(w, status, b.String())
}

func write(w http.ResponseWriter, status int, doc string) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+doc)
}
