// Package amazon pulls an Amazon JP shop's orders, shipments, returns,
// inventory, seller feedback and ads from the Selling Partner API and
// Amazon Ads into the store.
//
// It is a thin client over net/http: Login with Amazon tokens cached until
// shortly before they expire, a token bucket per operation as Amazon
// publishes the limits, 429s, 5xx and network errors retried with
// doubling, jittered waits, other errors reported with Amazon's code.
// Secrets never reach a log or an error. Buyer names, e-mails, phones and
// addresses in Amazon's answers are never kept.
package amazon

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
)

// Japan's marketplace and the endpoints that serve it.
const (
	MarketplaceJP      = "A1VC38T7YXB528"
	DefaultEndpoint    = "https://sellingpartnerapi-fe.amazon.com"
	DefaultTokenURL    = "https://api.amazon.com/auth/o2/token"
	DefaultAdsEndpoint = "https://advertising-api-fe.amazon.com"
)

// Credentials are a Login with Amazon app's and a seller's authorization
// of it.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// Config is what a Client works with. Every base URL can be changed: for
// tests, a proxy, or the SP-API sandbox.
type Config struct {
	Credentials Credentials
	Marketplace string       // "": MarketplaceJP
	Endpoint    string       // SP-API; "": DefaultEndpoint
	TokenURL    string       // Login with Amazon; "": DefaultTokenURL
	HTTP        *http.Client // nil: one with a 60-second timeout
	Now         func() time.Time
	// Sleep waits between retries and for the rate limits; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Retries is how many times a call that failed on a 429, a 5xx or the
	// network is tried again; 0: 5.
	Retries int
}

// Client calls the SP-API for one seller.
type Client struct {
	c       Config
	limits  *buckets
	log     *slog.Logger
	tokenMu sync.Mutex
	token   string
	expires time.Time
}

// NewClient checks c and fills in its defaults.
func NewClient(c Config) (*Client, error) {
	cr := c.Credentials
	if cr.ClientID == "" || cr.ClientSecret == "" || cr.RefreshToken == "" {
		return nil, errors.New("amazon: the Login with Amazon client id, client secret and refresh token are required")
	}
	c.Marketplace = cmp.Or(c.Marketplace, MarketplaceJP)
	c.Endpoint = strings.TrimRight(cmp.Or(c.Endpoint, DefaultEndpoint), "/")
	c.TokenURL = cmp.Or(c.TokenURL, DefaultTokenURL)
	for _, u := range []string{c.Endpoint, c.TokenURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			return nil, fmt.Errorf("amazon: %q is not a base URL", u)
		}
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
	return &Client{c: c, limits: newBuckets(c.Now, c.Sleep), log: c.Log.With("connector", "amazon")}, nil
}

// Marketplace is the marketplace the client asks about.
func (c *Client) Marketplace() string { return c.c.Marketplace }

// APIError is an answer of Amazon's that is not a success: its HTTP status
// and Amazon's error code and message (never a secret).
type APIError struct {
	Op      string
	Status  int
	Code    string // InvalidInput, Unauthorized, QuotaExceeded …
	Message string
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("amazon: %s: HTTP %d", e.Op, e.Status)
	}
	return fmt.Sprintf("amazon: %s: HTTP %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// Temporary reports whether trying again later may succeed: throttled, or
// a server error.
func (e *APIError) Temporary() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

// accessToken returns a Login with Amazon access token, asking for a new
// one a minute before the cached one expires.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if c.token != "" && c.c.Now().Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {c.c.Credentials.RefreshToken},
		"client_id":     {c.c.Credentials.ClientID},
		"client_secret": {c.c.Credentials.ClientSecret},
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	err := c.retry(ctx, "token", func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.c.TokenURL, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
		return c.send(req, "token", &out)
	})
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", errors.New("amazon: token: Login with Amazon answered without an access token")
	}
	c.token, c.expires = out.AccessToken, c.c.Now().Add(time.Duration(max(out.ExpiresIn, 60))*time.Second)
	return c.token, nil
}

// get calls an SP-API operation op with GET path?query and decodes its
// JSON answer into out.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, out any) error {
	return c.call(ctx, op, http.MethodGet, path, query, nil, out)
}

// post calls an SP-API operation op with a JSON body.
func (c *Client) post(ctx context.Context, op, path string, body, out any) error {
	return c.call(ctx, op, http.MethodPost, path, nil, body, out)
}

// call calls an SP-API operation within its rate limit, retrying what may
// succeed later.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return fmt.Errorf("amazon: %s: %w", op, err)
		}
	}
	u := c.c.Endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	renewed := false // a 403 drops the cached token and tries again, once
	return c.retry(ctx, op, func() error {
		for {
			if err := c.limits.wait(ctx, op); err != nil {
				return err
			}
			token, err := c.accessToken(ctx)
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(data))
			if err != nil {
				return err
			}
			req.Header.Set("x-amz-access-token", token)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", "kpibot/1.0 (Language=Go)")
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			err = c.send(req, op, out)
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusForbidden && !renewed {
				// Amazon may refuse a token before the time it said
				// (revoked, rotated, a clock ahead of ours).
				renewed = true
				c.forgetToken(token)
				c.log.Info("amazon: access token refused, asking for a new one", "op", op)
				continue
			}
			if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
				c.limits.empty(op)
			}
			return err
		}
	})
}

// forgetToken drops the cached access token if it is still token, so that
// the next call asks Login with Amazon for a new one.
func (c *Client) forgetToken(token string) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if c.token == token {
		c.token, c.expires = "", time.Time{}
	}
}

// retry runs try until it succeeds, fails for good, or has been tried
// Retries times more: a 429, a 5xx or a network error is tried again after
// a doubling wait with jitter (1 s, 2 s, 4 s … at most a minute).
func (c *Client) retry(ctx context.Context, op string, try func() error) error {
	r := pace.Retry{Name: "amazon", Tries: c.c.Retries, Sleep: c.c.Sleep, Log: c.log}
	return r.Do(ctx, op, try, pace.ByType[*APIError])
}

// send does req and decodes a 2xx JSON answer into out (nil: the body is
// dropped); any other answer is an *APIError with Amazon's code. A network
// error never carries the request's URL query or headers.
func (c *Client) send(req *http.Request, op string, out any) error {
	res, err := c.c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a pre-signed query
		}
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode/100 != 2 {
		return apiError(op, res.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// apiError reads Amazon's error answer: SP-API's {"errors": [{code,
// message}]}, Login with Amazon's {"error", "error_description"}, Amazon
// Ads' {"code", "details"}.
func apiError(op string, status int, body []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var sp struct {
		Errors []struct {
			Code, Message string
		} `json:"errors"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Code             string `json:"code"`
		Details          string `json:"details"`
	}
	if json.Unmarshal(body, &sp) == nil {
		switch {
		case len(sp.Errors) > 0:
			e.Code, e.Message = sp.Errors[0].Code, sp.Errors[0].Message
		case sp.Error != "":
			e.Code, e.Message = sp.Error, sp.ErrorDescription
		case sp.Code != "":
			e.Code, e.Message = sp.Code, sp.Details
		}
	}
	e.Message = clip(e.Message, 300)
	return e
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// download fetches a report document from its pre-signed URL (no
// SP-API token: the URL is the credential, and never logged).
func (c *Client) download(ctx context.Context, op, rawURL string) ([]byte, error) {
	var data []byte
	err := c.retry(ctx, op, func() error {
		if err := c.limits.wait(ctx, op); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return errors.New("bad document URL")
		}
		res, err := c.c.HTTP.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("GET document: %w", err)
		}
		defer res.Body.Close()
		if res.StatusCode/100 != 2 {
			b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			return apiError(op, res.StatusCode, b)
		}
		data, err = io.ReadAll(io.LimitReader(res.Body, 1<<30))
		return err
	})
	return data, err
}

// itoa is strconv.Itoa, for query values.
func itoa(n int) string { return strconv.Itoa(n) }
