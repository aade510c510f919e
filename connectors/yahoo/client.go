// Package yahoo pulls a Yahoo! Shopping store's orders and their shipments
// from the Store API (注文API: orderList, orderInfo) into the store.
//
// It is a thin client over net/http and encoding/xml: each call carries the
// store's YConnect access token and a public-key signature (X-sws-signature),
// runs within a gentle rate (one request a second, 50,000 a day), and is
// tried again on a 429, a 5xx or a network error with doubling, jittered
// waits; other answers are reported with Yahoo's error code. A refused
// access token (HTTP 401) is reported as such and not tried again: the
// store has to be authorized again. The access token never reaches a log or
// an error, and buyer names, e-mails, phones and addresses in Yahoo's
// answers are never kept.
package yahoo

import (
	"bytes"
	"cmp"
	"context"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
)

// DefaultEndpoint is the Store API's production host.
const DefaultEndpoint = "https://circus.shopping.yahooapis.jp"

// apiPath is where the order operations live under the endpoint.
const apiPath = "/ShoppingWebService/V1/"

// Yahoo's error codes the client tells apart.
const (
	// CodeTokenExpired is Yahoo's answer to an access token it no longer
	// takes: "AccessToken has been expired. This API session is shorter
	// than another API." (HTTP 401).
	CodeTokenExpired = "px-04102"
	// CodeNotPermitted is Yahoo's answer when the public-key
	// authentication is refused: a wrong key, a wrong key version, a stale
	// signature ("Use of API is not permitted.").
	CodeNotPermitted = "px-14303"
)

// Config is what a Client works with.
type Config struct {
	SellerID string // the store account (ストアアカウント)
	// AccessToken is the store's YConnect access token, sent as a Bearer
	// token. The client does not renew it: Yahoo's 401 says it expired.
	AccessToken string
	// PublicKey is the store's public key for the Store API, as
	// Store Creator Pro issues it (PEM, "-----BEGIN PUBLIC KEY-----"), and
	// KeyVersion its version. Each call is signed with them.
	PublicKey  string
	KeyVersion string
	Endpoint   string       // "": DefaultEndpoint; a test or a proxy may change it
	HTTP       *http.Client // nil: one with a 60-second timeout
	Now        func() time.Time
	// Sleep waits between retries and for the rate; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Retries is how many times a call that failed on a 429, a 5xx or the
	// network is tried again; 0: 5.
	Retries int
	// Rate is how many calls a second the client makes at most; 0: 1.
	Rate float64
	// DailyLimit is how many calls the client makes in a day (Japan
	// time) at most; 0: 50,000, Yahoo's default allowance per
	// application. It must allow a page of orders: more than 100 calls.
	DailyLimit int
}

// Client calls the Store API for one store.
type Client struct {
	c     Config
	key   *rsa.PublicKey
	limit *limiter
	log   *slog.Logger
}

// NewClient checks c, reads its public key and fills in its defaults.
func NewClient(c Config) (*Client, error) {
	if c.SellerID == "" || c.AccessToken == "" {
		return nil, errors.New("yahoo: the seller id and the access token are required")
	}
	if c.PublicKey == "" || c.KeyVersion == "" {
		return nil, errors.New("yahoo: the store's public key and its version are required")
	}
	key, err := parsePublicKey(c.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("yahoo: public key: %w", err)
	}
	c.Endpoint = strings.TrimRight(cmp.Or(c.Endpoint, DefaultEndpoint), "/")
	if p, err := url.Parse(c.Endpoint); err != nil || p.Scheme == "" || p.Host == "" {
		return nil, fmt.Errorf("yahoo: %q is not a base URL", c.Endpoint)
	}
	if c.Rate < 0 || c.DailyLimit < 0 || c.Retries < 0 {
		return nil, errors.New("yahoo: the rate, the daily limit and the retries cannot be negative")
	}
	if c.DailyLimit != 0 && c.DailyLimit <= ordersPerPage {
		// A page of orderList and an orderInfo call for each of its orders
		// must fit in a day, or the pull never gets past it.
		return nil, fmt.Errorf("yahoo: a daily limit of %d calls is less than a page of orders takes (%d)", c.DailyLimit, ordersPerPage+1)
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = pace.Sleep
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Retries = cmp.Or(c.Retries, 5)
	c.Rate = cmp.Or(c.Rate, 1)
	c.DailyLimit = cmp.Or(c.DailyLimit, 50000)
	return &Client{
		c:     c,
		key:   key,
		limit: newLimiter(c.Now, c.Sleep, c.Rate, c.DailyLimit),
		log:   c.Log.With("connector", "yahoo"),
	}, nil
}

// parsePublicKey reads an RSA public key: PEM with a PKIX ("PUBLIC KEY")
// or PKCS #1 ("RSA PUBLIC KEY") block, or the bare base64 of a PKIX key
// (the PEM's body, as it is sometimes pasted into a variable).
func parsePublicKey(s string) (*rsa.PublicKey, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\n`, "\n") // a PEM kept on one line
	var der []byte
	pkcs1 := false
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der, pkcs1 = block.Bytes, block.Type == "RSA PUBLIC KEY"
	} else {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, errors.New("neither PEM nor base64")
		}
		der = b
	}
	if pkcs1 {
		key, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("not an RSA public key: %w", err)
		}
		return key, nil
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a public key: %w", err)
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", key)
	}
	return rk, nil
}

// signature is the X-sws-signature header: the seller id and the current
// Unix time, "sellerId:unixtime", encrypted with the store's public key
// (RSA, PKCS #1 v1.5 padding) and base64-encoded, as Yahoo's public-key
// authentication asks. PKCS #1 v1.5 encryption is deprecated in Go, but it
// is what Yahoo decrypts.
func (c *Client) signature() (string, error) {
	msg := c.c.SellerID + ":" + strconv.FormatInt(c.c.Now().Unix(), 10)
	ct, err := rsa.EncryptPKCS1v15(cryptorand.Reader, c.key, []byte(msg))
	if err != nil {
		return "", fmt.Errorf("sign: %w: %w", err, errLocal)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// APIError is an answer of Yahoo's that is not a success: its HTTP status
// and Yahoo's error code and message (never a secret).
type APIError struct {
	Op      string // orderList, orderInfo
	Status  int    // the HTTP status; 200 with a <Status>NG</Status> answer
	Code    string // px-04102, px-14303, od… ; "" if Yahoo gave none
	Message string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("yahoo: %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	switch {
	case e.SignatureRefused():
		s += " (the public-key authentication was refused: check the store's public key, its version and the clock)"
	case e.Unauthorized():
		s += " (the access token was refused: authorize the store again)"
	}
	return s
}

// Temporary reports whether trying again later may succeed: throttled, or
// a server error.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Unauthorized reports whether Yahoo refused the access token: it expired
// or was revoked. Trying again does not help.
func (e *APIError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized && !e.SignatureRefused()
}

// SignatureRefused reports whether Yahoo refused the X-sws-signature: a
// public key or key version it does not know, or a signature too old.
func (e *APIError) SignatureRefused() bool { return e.Code == CodeNotPermitted }

// post calls operation op with req as its XML body and decodes Yahoo's OK
// answer into out, within the rate, retrying what may succeed later.
func (c *Client) post(ctx context.Context, op string, req, out any) error {
	body, err := xml.Marshal(req)
	if err != nil {
		return fmt.Errorf("yahoo: %s: %w", op, err)
	}
	body = append([]byte(xml.Header), body...)
	u := c.c.Endpoint + apiPath + op
	return c.retry(ctx, op, func() error {
		if err := c.limit.wait(ctx); err != nil {
			return err
		}
		sig, err := c.signature()
		if err != nil {
			return err
		}
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+c.c.AccessToken)
		r.Header.Set("X-sws-signature", sig)
		r.Header.Set("X-sws-signature-version", c.c.KeyVersion)
		r.Header.Set("Content-Type", "application/xml; charset=UTF-8")
		r.Header.Set("Accept", "application/xml")
		r.Header.Set("User-Agent", "kpibot/1.0 (Go)")
		return c.send(r, op, out)
	})
}

// retry runs try until it succeeds, fails for good, or has been tried
// Retries times more: a 429, a 5xx or a network error is tried again after
// a doubling wait with jitter (1 s, 2 s, 4 s … at most a minute); the
// day's allowance spent and the client's own failures are not.
func (c *Client) retry(ctx context.Context, op string, try func() error) error {
	r := pace.Retry{Name: "yahoo", Tries: c.c.Retries, Sleep: c.c.Sleep, Log: c.log}
	return r.Do(ctx, op, try, func(err error) (temporary, typed bool) {
		if temporary, typed = pace.ByType[*APIError](err); typed {
			return temporary, true
		}
		return !errors.Is(err, ErrDailyLimit) && !errors.Is(err, errLocal), false
	})
}

// errLocal marks a failure of the client's own that trying again cannot
// mend, such as an answer it cannot read.
var errLocal = errors.New("not retried")

// send does r and decodes Yahoo's OK answer into out; any other answer is
// an *APIError with Yahoo's code. A network error carries neither the
// request's headers nor its body.
func (c *Client) send(r *http.Request, op string, out any) error {
	res, err := c.c.HTTP.Do(r)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", r.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read: %w", r.URL.Path, err)
	}
	head := readHead(body)
	if res.StatusCode/100 != 2 || head.status() != "OK" {
		return head.apiError(op, res.StatusCode) // an HTTP error, <Status>NG</Status>, or no status at all
	}
	if err := xml.Unmarshal(body, out); err != nil {
		return fmt.Errorf("POST %s: decode: %w: %w", r.URL.Path, err, errLocal)
	}
	return nil
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
