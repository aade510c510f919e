// Package shopify pulls a Shopify shop's orders, with their fulfillments
// and returns, from the Admin GraphQL API into the store.
//
// It is a thin client over net/http. Shopify limits GraphQL calls by their
// calculated cost, with a leaky bucket per app and shop: every answer says
// what its query cost and how full the bucket is (extensions.cost), and
// the client waits before a query the bucket cannot pay for yet instead of
// being throttled. A throttled query, answered either way Shopify does it
// (HTTP 200 with a THROTTLED error, or HTTP 429 with Retry-After), is tried
// again after the wait; 5xx and network errors are tried again after
// doubling, jittered waits; other errors are reported with Shopify's code.
// The access token never reaches a log or an error. Customer names,
// e-mails, phones and addresses are never asked for.
package shopify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/internal/pace"
)

// DefaultAPIVersion is the Admin API version the client asks for: a stable
// version, supported by Shopify for a year after its release.
const DefaultAPIVersion = "2025-10"

// Config is what a Client works with.
type Config struct {
	// Store is the shop's handle, "myshop", or its domain,
	// "myshop.myshopify.com".
	Store string
	// AccessToken is the Admin API access token of the app installed on the
	// shop (shpat_…). It needs the read_orders and read_returns scopes.
	AccessToken string
	APIVersion  string       // "": DefaultAPIVersion
	Endpoint    string       // the base URL; "": https://{store}.myshopify.com
	HTTP        *http.Client // nil: one with a 60-second timeout
	Now         func() time.Time
	// Sleep waits between retries and for the cost bucket to fill; nil: a
	// timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Retries is how many times a query that was throttled or failed on a
	// 5xx or the network is tried again; 0: 5.
	Retries int
}

// Client calls the Admin GraphQL API of one shop.
type Client struct {
	c      Config
	url    string // the GraphQL endpoint
	log    *slog.Logger
	bucket *costBucket
}

var (
	handleRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	versionRE = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)
)

// NewClient checks c and fills in its defaults.
func NewClient(c Config) (*Client, error) {
	if c.AccessToken == "" {
		return nil, errors.New("shopify: an access token is required")
	}
	handle, err := storeHandle(c.Store)
	if err != nil {
		return nil, err
	}
	c.Store = handle
	c.APIVersion = cmp.Or(c.APIVersion, DefaultAPIVersion)
	if !versionRE.MatchString(c.APIVersion) {
		return nil, fmt.Errorf("shopify: %q is not an API version (YYYY-MM)", c.APIVersion)
	}
	c.Endpoint = strings.TrimRight(cmp.Or(c.Endpoint, "https://"+handle+".myshopify.com"), "/")
	if p, err := url.Parse(c.Endpoint); err != nil || p.Scheme == "" || p.Host == "" {
		return nil, fmt.Errorf("shopify: %q is not a base URL", c.Endpoint)
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
		c:      c,
		url:    c.Endpoint + "/admin/api/" + c.APIVersion + "/graphql.json",
		log:    c.Log.With("connector", "shopify", "store", handle),
		bucket: &costBucket{cost: map[string]float64{}},
	}, nil
}

// storeHandle returns the handle of a shop given by its handle or its
// myshopify.com domain (with or without https://).
func storeHandle(store string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(store))
	s = strings.TrimPrefix(s, "https://")
	s = strings.TrimRight(s, "/")
	s = strings.TrimSuffix(s, ".myshopify.com")
	if !handleRE.MatchString(s) {
		return "", fmt.Errorf("shopify: %q is not a shop: want its handle (myshop) or myshop.myshopify.com", store)
	}
	return s, nil
}

// APIError is an answer of Shopify's that is not a success: its HTTP
// status, and the code and message of its first GraphQL error (never the
// access token).
type APIError struct {
	Op      string
	Status  int
	Code    string // THROTTLED, ACCESS_DENIED, MAX_COST_EXCEEDED, INTERNAL_SERVER_ERROR …; "" if none
	Message string
}

func (e *APIError) Error() string {
	switch {
	case e.Code != "":
		return fmt.Sprintf("shopify: %s: HTTP %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	case e.Message != "":
		return fmt.Sprintf("shopify: %s: HTTP %d: %s", e.Op, e.Status, e.Message)
	}
	return fmt.Sprintf("shopify: %s: HTTP %d", e.Op, e.Status)
}

// Unauthorized reports whether Shopify refused the access token (401) or
// its scopes (403, ACCESS_DENIED): trying again will not help.
func (e *APIError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == "ACCESS_DENIED"
}

// Throttled reports whether the query was throttled, with HTTP 429 or
// with a THROTTLED error.
func (e *APIError) Throttled() bool {
	return e.Status == http.StatusTooManyRequests || e.Code == "THROTTLED"
}

// Temporary reports whether trying again later may succeed: throttled, or
// a server error.
func (e *APIError) Temporary() bool {
	return e.Throttled() || e.Status >= 500 || e.Code == "INTERNAL_SERVER_ERROR"
}

// throttled is a throttled answer, with how long Shopify said to wait
// (Retry-After; 0 if it did not say).
type throttled struct {
	*APIError
	retryAfter time.Duration
}

func (e *throttled) Unwrap() error { return e.APIError }

// query runs a GraphQL query, named op in logs and errors, with its
// variables, and decodes its data into out. It waits first if the cost
// bucket cannot pay for what op cost last time, and tries again what may
// succeed later.
func (c *Client) query(ctx context.Context, op, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("shopify: %s: %w", op, err)
	}
	wait := time.Second // the backoff of 5xx and network errors
	for attempt := 0; ; attempt++ {
		if d := c.bucket.need(op, c.c.Now()); d > 0 {
			c.log.Debug("shopify: waiting for the cost bucket", "op", op, "for", d)
			if err := c.c.Sleep(ctx, d); err != nil {
				return fmt.Errorf("shopify: %s: %w", op, err)
			}
		}
		err := c.send(ctx, op, body, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("shopify: %s: %w", op, ctx.Err())
		}
		var ae *APIError
		temporary := !errors.As(err, &ae) || ae.Temporary()
		if !temporary || attempt >= c.c.Retries {
			if ae == nil {
				return fmt.Errorf("shopify: %s: %w", op, err)
			}
			return ae
		}
		// A throttled query waits as long as Retry-After says, or else
		// for the bucket to hold its cost (the wait at the top of the
		// loop); the rest, and throttling that says neither, back off.
		var te *throttled
		isThrottled := errors.As(err, &te)
		d, forBucket := time.Duration(0), c.bucket.need(op, c.c.Now())
		switch {
		case isThrottled && te.retryAfter > 0:
			d = te.retryAfter
		case isThrottled && forBucket > 0:
		default:
			d = wait/2 + rand.N(wait)
			wait = min(2*wait, time.Minute)
		}
		c.log.Warn("shopify: retrying", "op", op, "attempt", attempt+1, "in", max(d, forBucket).Round(time.Millisecond), "err", err)
		if d > 0 {
			if err := c.c.Sleep(ctx, d); err != nil {
				return fmt.Errorf("shopify: %s: %w", op, err)
			}
		}
	}
}

// response is a GraphQL answer.
type response struct {
	Data       json.RawMessage `json:"data"`
	Errors     gqlErrors       `json:"errors"`
	Extensions struct {
		Cost *queryCost `json:"cost"`
	} `json:"extensions"`
}

// queryCost is extensions.cost: what a query cost and how full the bucket
// is after it.
type queryCost struct {
	RequestedQueryCost float64  `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"` // null when throttled
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

// gqlError is a GraphQL error; Shopify puts its code in extensions.code.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// gqlErrors are a GraphQL answer's errors: a list of errors, or, for a
// refused token or scope, a string.
type gqlErrors []gqlError

func (e *gqlErrors) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*e = gqlErrors{{Message: s}}
		return nil
	}
	var list []gqlError
	if err := json.Unmarshal(b, &list); err != nil {
		// Something else (an object of REST's kind): kept as a message.
		*e = gqlErrors{{Message: string(b)}}
		return nil
	}
	*e = list
	return nil
}

// send posts one query and decodes its answer. A network error never
// carries the request's headers.
func (c *Client) send(ctx context.Context, op string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Shopify-Access-Token", c.c.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kpibot/1.0")
	res, err := c.c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", req.URL.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read: %w", req.URL.Path, err)
	}

	var r response
	decodeErr := json.Unmarshal(data, &r)
	if decodeErr == nil && r.Extensions.Cost != nil {
		c.bucket.update(op, r.Extensions.Cost, c.c.Now())
	}
	if res.StatusCode/100 != 2 {
		e := &APIError{Op: op, Status: res.StatusCode}
		if decodeErr == nil && len(r.Errors) > 0 {
			e.Code, e.Message = r.Errors[0].Extensions.Code, clip(r.Errors[0].Message, 300)
		}
		if e.Throttled() {
			return &throttled{APIError: e, retryAfter: retryAfter(res.Header.Get("Retry-After"), c.c.Now())}
		}
		return e
	}
	if decodeErr != nil {
		return fmt.Errorf("POST %s: decode: %w", req.URL.Path, decodeErr)
	}
	if len(r.Errors) > 0 {
		// A query with errors fails as a whole, even with part of its
		// data: a record decoded from part of it would be wrong.
		e := &APIError{Op: op, Status: res.StatusCode, Code: r.Errors[0].Extensions.Code, Message: clip(r.Errors[0].Message, 300)}
		if e.Code == "" && strings.EqualFold(e.Message, "Throttled") {
			e.Code = "THROTTLED" // older versions said it in the message only
		}
		if e.Throttled() {
			return &throttled{APIError: e}
		}
		return e
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return fmt.Errorf("POST %s: decode data: %w", req.URL.Path, err)
	}
	return nil
}

// retryAfter reads a Retry-After header (seconds, or an HTTP date); 0 if
// it has none, and at most a minute.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.ParseFloat(h, 64); err == nil && s > 0 && !math.IsInf(s, 0) {
		d = time.Duration(math.Ceil(s * float64(time.Second)))
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Minute)
}

// costBucket is the client's picture of Shopify's leaky bucket for this
// app and shop, from the last answer's throttleStatus, and what each query
// asked for the last time.
type costBucket struct {
	mu        sync.Mutex
	known     bool
	max, rate float64
	available float64   // at time at
	at        time.Time //
	cost      map[string]float64
}

// update takes in what an answer to op said.
func (b *costBucket) update(op string, c *queryCost, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := c.ThrottleStatus
	if ts.RestoreRate <= 0 || ts.MaximumAvailable <= 0 {
		return
	}
	b.known = true
	b.max, b.rate, b.available, b.at = ts.MaximumAvailable, ts.RestoreRate, ts.CurrentlyAvailable, now
	if c.RequestedQueryCost > 0 {
		b.cost[op] = c.RequestedQueryCost
	}
}

// need returns how long to wait before op can be paid for: (cost −
// available) / restoreRate, with what has been restored since the last
// answer counted in; 0 if the bucket or op's cost is not known yet.
func (b *costBucket) need(op string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	cost, ok := b.cost[op]
	if !b.known || !ok {
		return 0
	}
	cost = min(cost, b.max) // a query dearer than the bucket fails at once, waiting or not
	available := min(b.max, b.available+b.rate*max(now.Sub(b.at).Seconds(), 0))
	if cost <= available {
		return 0
	}
	// In whole milliseconds, rounded up (less a hair, so that a float's
	// last bit does not add one).
	ms := math.Ceil((cost-available)/b.rate*1000 - 1e-6)
	return time.Duration(ms) * time.Millisecond
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
