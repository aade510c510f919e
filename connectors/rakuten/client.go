// Package rakuten pulls a Rakuten Ichiba shop's orders and shipments from
// the RMS RakutenPay order API (RakutenPayOrderAPI) into the store.
//
// It is a thin client over net/http: JSON POSTs to searchOrder and
// getOrder, signed with the shop's service secret and license key (ESA
// auth), about one request a second (a token bucket), 429s, 5xx and
// network errors retried with doubling, jittered waits, other errors
// reported with RMS's message code. A refused license key (401/403) is an
// error that matches ErrKeyExpired and is not retried: RMS license keys
// expire every 90 days (see KeyWarning). Secrets never reach a log or an
// error. The orderer's and the receivers' names, e-mails, phones and
// addresses in RMS's answers are never kept: only a hash of the orderer's
// (masked) e-mail.
package rakuten

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
)

// DefaultEndpoint is the RMS web API's base URL.
const DefaultEndpoint = "https://api.rms.rakuten.co.jp"

// Config is what a Client works with.
type Config struct {
	// ServiceSecret and LicenseKey are the shop's RMS web API credentials
	// (issued in RMS, under its web API service). The license key
	// expires 90 days after it is issued.
	ServiceSecret string
	LicenseKey    string
	Endpoint      string       // "": DefaultEndpoint; a test server or a proxy
	HTTP          *http.Client // nil: one with a 60-second timeout
	Now           func() time.Time
	// Sleep waits between retries and for the rate limit; nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Retries is how many times a call that failed on a 429, a 5xx or the
	// network is tried again; 0: 5.
	Retries int
}

// Client calls the RMS RakutenPay order API for one shop.
type Client struct {
	c     Config
	auth  string // the Authorization header: never logged
	limit *pace.Bucket
	log   *slog.Logger
}

// NewClient checks c and fills in its defaults.
func NewClient(c Config) (*Client, error) {
	if c.ServiceSecret == "" || c.LicenseKey == "" {
		return nil, errors.New("rakuten: the RMS service secret and license key are required")
	}
	c.Endpoint = strings.TrimRight(cmp.Or(c.Endpoint, DefaultEndpoint), "/")
	if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("rakuten: %q is not a base URL", c.Endpoint)
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
	return &Client{
		c:     c,
		auth:  "ESA " + base64.StdEncoding.EncodeToString([]byte(c.ServiceSecret+":"+c.LicenseKey)),
		limit: pace.NewBucket(requestsPerSecond, 1, c.Now, c.Sleep),
		log:   c.Log.With("connector", "rakuten"),
	}, nil
}

// ErrKeyExpired is matched (errors.Is) by the error of a call that RMS
// refused with 401 or 403: the license key is expired or wrong, or the
// service secret is. Trying again does not help; a new key does.
var ErrKeyExpired = errors.New("rakuten: the RMS license key is expired or wrong")

// APIError is an answer of RMS's that is not a success: its HTTP status and
// RMS's message code and message (never a secret).
type APIError struct {
	Op     string // searchOrder, getOrder
	Status int    // the HTTP status; 200 for an ERROR message in a 200 answer
	// Code is the messageCode of the first ERROR of MessageModelList
	// (ORDER_EXT_API_SEARCH_ORDER_ERROR_011 …) or the API gateway's
	// errorCode (ES01-01 …).
	Code    string
	Message string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("rakuten: %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.keyRefused() {
		s += " (the RMS license key is expired or wrong: issue a new one in RMS and update the shop's config)"
	}
	return s
}

// Is makes a 401 or 403 match ErrKeyExpired.
func (e *APIError) Is(target error) bool { return target == ErrKeyExpired && e.keyRefused() }

// Temporary reports whether trying again later may succeed: throttled, or
// a server error.
func (e *APIError) Temporary() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

func (e *APIError) keyRefused() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// message is an element of MessageModelList.
type message struct {
	MessageType string `json:"messageType"` // INFO, WARNING, ERROR
	MessageCode string `json:"messageCode"`
	Message     string `json:"message"`
	OrderNumber string `json:"orderNumber"` // getOrder's, when about one order
}

// post calls operation op: a JSON POST of body to path, within the rate
// limit, retrying what may succeed later, and decodes a 2xx answer into
// out.
func (c *Client) post(ctx context.Context, op, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("rakuten: %s: %w", op, err)
	}
	u := c.c.Endpoint + path
	return c.retry(ctx, op, func() error {
		if err := c.limit.Wait(ctx); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", c.auth)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "kpibot/1.0")
		err = c.send(req, op, out)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
			c.limit.Empty() // RMS counts our calls ahead of us
		}
		return err
	})
}

// retry runs try until it succeeds, fails for good, or has been tried
// Retries times more: a 429, a 5xx or a network error is tried again after
// a doubling wait with jitter (1 s, 2 s, 4 s … at most a minute).
func (c *Client) retry(ctx context.Context, op string, try func() error) error {
	r := pace.Retry{Name: "rakuten", Tries: c.c.Retries, Sleep: c.c.Sleep, Log: c.log}
	return r.Do(ctx, op, try, pace.ByType[*APIError])
}

// send does req and decodes a 2xx JSON answer into out; any other answer
// is an *APIError with RMS's code. A network error never carries the
// request's headers.
func (c *Client) send(req *http.Request, op string, out any) error {
	res, err := c.c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
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
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// apiError reads RMS's error answer: the order API's MessageModelList (its
// first ERROR), or the API gateway's {"Results": {errorCode, message}}.
func apiError(op string, status int, body []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var res struct {
		MessageModelList []message `json:"MessageModelList"`
		Results          struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
		} `json:"Results"`
	}
	if json.Unmarshal(body, &res) == nil {
		if m, ok := firstError(res.MessageModelList); ok {
			e.Code, e.Message = m.MessageCode, m.Message
		} else if res.Results.ErrorCode != "" {
			e.Code, e.Message = res.Results.ErrorCode, res.Results.Message
		}
	}
	e.Message = clip(e.Message, 300)
	return e
}

// firstError returns the first message of type ERROR.
func firstError(messages []message) (message, bool) {
	for _, m := range messages {
		if m.MessageType == "ERROR" {
			return m, true
		}
	}
	return message{}, false
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
