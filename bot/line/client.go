package line

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// DefaultAPIURL is where the Messaging API lives.
const DefaultAPIURL = "https://api.line.me"

// Client calls the Messaging API through the SDK: replies, pushes, the
// monthly quota and member counts. It retries a 429 (unless the monthly
// quota is spent) and a 5xx or network failure with growing, jittered
// waits; any other answer is reported as an *APIError, not retried.
type Client struct {
	token   string
	base    string
	hc      *http.Client
	backoff time.Duration // the first retry's wait, doubled after each
	tries   int
	log     *slog.Logger
}

// ClientConfig is what a Client needs.
type ClientConfig struct {
	Token   string        // the channel access token
	BaseURL string        // DefaultAPIURL if empty (LINE_API_URL)
	HTTP    *http.Client  // a client with a 30 s timeout if nil
	Backoff time.Duration // the first retry's wait; 500 ms if zero
	Log     *slog.Logger
}

// tries is how many times a call is made before it fails.
const tries = 5

// NewClient returns a Client.
func NewClient(c ClientConfig) (*Client, error) {
	if c.Token == "" {
		return nil, errors.New("line: no channel access token")
	}
	cl := &Client{token: c.Token, base: strings.TrimRight(c.BaseURL, "/"), hc: c.HTTP, backoff: c.Backoff, tries: tries, log: c.Log}
	if cl.base == "" {
		cl.base = DefaultAPIURL
	}
	if cl.hc == nil {
		cl.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if cl.backoff == 0 {
		cl.backoff = 500 * time.Millisecond
	}
	if cl.log == nil {
		cl.log = slog.New(slog.DiscardHandler)
	}
	if _, err := cl.api(context.Background()); err != nil {
		return nil, fmt.Errorf("line: API URL %q: %w", cl.base, err)
	}
	return cl, nil
}

// api is an SDK client for one call: the SDK keeps the context in the
// client itself, so a shared one would mix the calls' contexts.
func (c *Client) api(ctx context.Context) (*messaging_api.MessagingApiAPI, error) {
	api, err := messaging_api.NewMessagingApiAPI(c.token, messaging_api.WithEndpoint(c.base), messaging_api.WithHTTPClient(c.hc))
	if err != nil {
		return nil, err
	}
	return api.WithContext(ctx), nil
}

// APIError is an answer from LINE other than success.
type APIError struct {
	Status  int
	Message string   // LINE's message, e.g. "Invalid reply token"
	Details []string // "property: message" of each detail
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("line: %d %s", e.Status, e.Message)
	if len(e.Details) > 0 {
		s += " (" + strings.Join(e.Details, "; ") + ")"
	}
	return s
}

// temporary tells whether trying again may help: a 429 that is not the
// spent monthly quota, a 5xx.
func (e *APIError) temporary() bool {
	return e.Status == http.StatusTooManyRequests && !e.QuotaSpent() || e.Status >= 500
}

// QuotaSpent tells whether LINE refused because the month's messages are used up.
func (e *APIError) QuotaSpent() bool {
	return e.Status == http.StatusTooManyRequests && strings.Contains(strings.ToLower(e.Message), "monthly limit")
}

// badReplyToken tells whether a reply was refused for its token: used,
// expired or unknown.
func badReplyToken(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "reply token")
}

// refusedContent tells whether LINE refused the messages themselves; plain
// text may then get through.
func refusedContent(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && !badReplyToken(err)
}

// apiError reads LINE's error body from a failed call's response.
func apiError(res *http.Response) *APIError {
	e := &APIError{Status: res.StatusCode, Message: res.Status}
	data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var body messaging_api.ErrorResponse
	if json.Unmarshal(data, &body) == nil && body.Message != "" {
		e.Message = body.Message
		for _, d := range body.Details {
			e.Details = append(e.Details, d.Property+": "+d.Message)
		}
	}
	return e
}

// do makes a call, and again after a wait while LINE's answer or the
// network says it may work later.
func (c *Client) do(ctx context.Context, what string, call func(api *messaging_api.MessagingApiAPI) (*http.Response, error)) error {
	wait := c.backoff
	for try := 1; ; try++ {
		api, err := c.api(ctx)
		if err != nil {
			return fmt.Errorf("line: %s: %w", what, err)
		}
		res, err := call(api)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("line: %s: %w", what, ctx.Err())
		}
		var failure error
		retry := true
		if res != nil {
			e := apiError(res)
			res.Body.Close()
			failure, retry = e, e.temporary()
		} else {
			failure = fmt.Errorf("line: %s: %w", what, err)
		}
		if !retry || try == c.tries {
			return failure
		}
		d := wait/2 + rand.N(wait) // jitter: half to one and a half times the wait
		c.log.Warn("line: retrying", "call", what, "try", try, "in", d, "err", failure)
		select {
		case <-ctx.Done():
			return fmt.Errorf("line: %s: %w", what, ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

// Reply answers with a reply token: free, single use, about a minute long.
func (c *Client) Reply(ctx context.Context, token string, msgs []messaging_api.MessageInterface) error {
	return c.do(ctx, "reply", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.ReplyMessageWithHttpInfo(&messaging_api.ReplyMessageRequest{ReplyToken: token, Messages: msgs})
		return res, err
	})
}

// Push sends messages to a user, group or room; it counts against the
// monthly quota once per recipient. The retry key makes it idempotent: the
// same key is delivered once, however often the push is retried, and a
// push LINE has already accepted under its key counts as sent.
func (c *Client) Push(ctx context.Context, to string, msgs []messaging_api.MessageInterface, retryKey string) error {
	err := c.do(ctx, "push", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{To: to, Messages: msgs, CustomAggregationUnits: []string{}}, retryKey)
		return res, err
	})
	var e *APIError
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		return nil // accepted before, under the same key
	}
	return err
}

// Quota is the month's message allowance.
type Quota struct {
	Limited bool  // false: no monthly limit
	Limit   int64 // messages a month, when limited
	Used    int64 // messages sent this month
}

// Left is what remains of the month's messages; -1 when there is no limit.
func (q Quota) Left() int64 {
	if !q.Limited {
		return -1
	}
	return max(q.Limit-q.Used, 0)
}

// Quota reads the monthly allowance and what is used of it.
func (c *Client) Quota(ctx context.Context) (Quota, error) {
	var q Quota
	err := c.do(ctx, "quota", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, body, err := api.GetMessageQuotaWithHttpInfo()
		if err == nil {
			q.Limited, q.Limit = body.Type == messaging_api.QuotaType_LIMITED, body.Value
		}
		return res, err
	})
	if err != nil || !q.Limited {
		return q, err
	}
	err = c.do(ctx, "quota consumption", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, body, err := api.GetMessageQuotaConsumptionWithHttpInfo()
		if err == nil {
			q.Used = body.TotalUsage
		}
		return res, err
	})
	return q, err
}

// Recipients is how many people a push to chat reaches, which is what it
// costs: the members of a group (ids start with C) or a room (R), else 1.
func (c *Client) Recipients(ctx context.Context, chat string) (int64, error) {
	var n int64 = 1
	var err error
	switch {
	case strings.HasPrefix(chat, "C"):
		err = c.do(ctx, "group members", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
			res, body, err := api.GetGroupMemberCountWithHttpInfo(chat)
			if err == nil {
				n = int64(body.Count)
			}
			return res, err
		})
	case strings.HasPrefix(chat, "R"):
		err = c.do(ctx, "room members", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
			res, body, err := api.GetRoomMemberCountWithHttpInfo(chat)
			if err == nil {
				n = int64(body.Count)
			}
			return res, err
		})
	}
	return n, err
}

// MemberName is the display name of user as chat shows it: a group's
// (ids start with C) or a room's (R) member profile, else the user's own
// profile (a 1:1 chat). LINE answers 404 for a user who left or is not a
// friend.
func (c *Client) MemberName(ctx context.Context, chat, user string) (string, error) {
	var name string
	err := c.do(ctx, "member profile", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		switch {
		case strings.HasPrefix(chat, "C"):
			res, body, err := api.GetGroupMemberProfileWithHttpInfo(chat, user)
			if err == nil {
				name = body.DisplayName
			}
			return res, err
		case strings.HasPrefix(chat, "R"):
			res, body, err := api.GetRoomMemberProfileWithHttpInfo(chat, user)
			if err == nil {
				name = body.DisplayName
			}
			return res, err
		}
		res, body, err := api.GetProfileWithHttpInfo(user)
		if err == nil {
			name = body.DisplayName
		}
		return res, err
	})
	return name, err
}

// RetryKey is the X-Line-Retry-Key for what key names: a UUID derived from
// it, so that the same message gets the same key even after a restart.
func RetryKey(key string) string {
	sum := sha256.Sum256([]byte("kpibot/line:" + key))
	sum[6] = sum[6]&0x0f | 0x50 // version 5: name-based
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
