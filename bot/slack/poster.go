package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// perChannel is the pace of posting to one channel: Slack allows about one
// message a second, with short bursts.
const perChannel = time.Second

// maxTries bounds the posts of one message through 429s and outages.
const maxTries = 5

// Poster posts messages through the Slack Web API, honouring Retry-After on
// 429 and keeping to about one message a second per channel.
type Poster struct {
	api   *slackapi.Client
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time

	mu   sync.Mutex
	next map[string]time.Time // when each channel may get its next message
}

// NewPoster returns a Poster for the bot token; apiURL (SLACK_API_URL, for
// tests and proxies) overrides Slack's, and must end with a slash.
func NewPoster(token, apiURL string) *Poster {
	var opts []slackapi.Option
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	return &Poster{api: slackapi.New(token, opts...), sleep: sleepCtx, now: time.Now, next: map[string]time.Time{}}
}

// Post posts blocks, with text for notifications, to channel, in thread if
// it is set; to user alone if user is set (an ephemeral message).
func (p *Poster) Post(ctx context.Context, channel, thread, user string, blocks []slackapi.Block, text string) error {
	opts := []slackapi.MsgOption{slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	var err error
	for try := 1; try <= maxTries; try++ {
		if err = p.sleep(ctx, p.wait(channel)); err != nil {
			return err
		}
		if user != "" {
			_, err = p.api.PostEphemeralContext(ctx, channel, user, opts...)
		} else {
			_, _, err = p.api.PostMessageContext(ctx, channel, opts...)
		}
		var limited *slackapi.RateLimitedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &limited):
			p.hold(channel, limited.RetryAfter)
		case retryable(err):
			p.hold(channel, time.Duration(try)*time.Second)
		default:
			return fmt.Errorf("slack: post to %s: %w", channel, err)
		}
	}
	return fmt.Errorf("slack: post to %s: gave up after %d tries: %w", channel, maxTries, err)
}

// wait reserves the channel's next slot and returns how long until it.
func (p *Poster) wait(channel string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	at := p.next[channel]
	if at.Before(now) {
		at = now
	}
	p.next[channel] = at.Add(perChannel)
	return at.Sub(now)
}

// hold keeps the channel quiet for d.
func (p *Poster) hold(channel string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at := p.now().Add(d); at.After(p.next[channel]) {
		p.next[channel] = at
	}
}

// retryable reports whether err is an outage worth trying again: Slack's 5xx
// answers and failed connections.
func retryable(err error) bool {
	var status slackapi.StatusCodeError
	if errors.As(err, &status) {
		return status.Code >= 500
	}
	var slackErr slackapi.SlackErrorResponse
	return !errors.As(err, &slackErr) // a Slack error ("channel_not_found") is final
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsAdmin asks Slack whether user is an admin or an owner of the workspace.
func (p *Poster) IsAdmin(ctx context.Context, user string) (bool, error) {
	u, err := p.api.GetUserInfoContext(ctx, user)
	if err != nil {
		return false, fmt.Errorf("slack: users.info: %w", err)
	}
	return u.IsAdmin || u.IsOwner || u.IsPrimaryOwner, nil
}
