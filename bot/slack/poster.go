package slack

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf16"

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

// PosterOption changes how NewPoster builds its Poster.
type PosterOption func(*[]slackapi.Option)

// WithHTTPClient makes the Poster call Slack's Web API (and upload files)
// through hc, such as a client whose transport measures the calls.
func WithHTTPClient(hc *http.Client) PosterOption {
	return func(opts *[]slackapi.Option) { *opts = append(*opts, slackapi.OptionHTTPClient(hc)) }
}

// NewPoster returns a Poster for the bot token; apiURL (SLACK_API_URL, for
// tests and proxies) overrides Slack's, and must end with a slash.
func NewPoster(token, apiURL string, options ...PosterOption) *Poster {
	var opts []slackapi.Option
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	for _, o := range options {
		o(&opts)
	}
	return &Poster{api: slackapi.New(token, opts...), sleep: sleepCtx, now: time.Now, next: map[string]time.Time{}}
}

// Post posts blocks, with text for notifications, to channel, in thread if
// it is set; to user alone if user is set (an ephemeral message). It
// returns the message's ts, what an edit of it names ("" for an ephemeral
// one).
func (p *Poster) Post(ctx context.Context, channel, thread, user string, blocks []slackapi.Block, text string) (string, error) {
	opts := []slackapi.MsgOption{slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	var ts string
	err := p.try(ctx, channel, "post to", func() error {
		if user != "" {
			_, err := p.api.PostEphemeralContext(ctx, channel, user, opts...)
			return err
		}
		var err error
		_, ts, err = p.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// Update replaces the message ts of channel with blocks and text
// (chat.update): an edit made again is harmless. It keeps the channel's
// pace and retries as Post does; Slack's refusal (message_not_found,
// cant_update_message, edit_window_closed) is returned at once.
func (p *Poster) Update(ctx context.Context, channel, ts string, blocks []slackapi.Block, text string) error {
	return p.try(ctx, channel, "update a message in", func() error {
		_, _, _, err := p.api.UpdateMessageContext(ctx, channel, ts, slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionText(text, false))
		return err
	})
}

// Image is a picture to go with a message.
type Image struct {
	Name  string // the file's name, such as "kpi-chart.png"
	Title string // shown with the picture
	Data  []byte
}

// maxAltText is the most characters Slack takes for a picture's
// description (alt_txt_too_large).
const maxAltText = 1000

// Upload posts blocks with img to channel, in thread if it is set: one
// message, the blocks above the picture, shared in one go by
// files.completeUploadExternal, so that a retry never leaves a message
// without its picture or posts one twice. Slack takes no notification text
// with a file: text, the reply's fallback text, is the picture's
// description for screen readers (cut to 1,000 characters). With no blocks
// the picture goes alone, under its title. It keeps the channel's pace and
// retries as Post does.
func (p *Poster) Upload(ctx context.Context, channel, thread string, blocks []slackapi.Block, text string, img Image) error {
	if len(img.Data) == 0 || img.Name == "" {
		return fmt.Errorf("slack: upload to %s: no file", channel)
	}
	params := slackapi.UploadFileParameters{
		Filename:        img.Name,
		FileSize:        len(img.Data),
		Title:           img.Title,
		AltTxt:          cut(text, maxAltText),
		Channel:         channel,
		ThreadTimestamp: thread,
		Blocks:          slackapi.Blocks{BlockSet: blocks},
	}
	return p.try(ctx, channel, "upload to", func() error {
		// Each try starts over: a new upload URL and file id, the file
		// sent again. The files of failed tries are never completed, so
		// Slack drops them unshared.
		params.Reader = bytes.NewReader(img.Data)
		_, err := p.api.UploadFileContext(ctx, params)
		if err != nil && !apiError(err) {
			// slack-go's own checks, such as a completion that shared no
			// file: the message may be out already, so no second try.
			return final{err}
		}
		return err
	})
}

// try calls send until it succeeds, each time in the channel's next slot:
// again after Retry-After on 429, after a growing wait on an outage (5xx,
// failed connection), at most maxTries times; what names the call in
// errors ("post to").
func (p *Poster) try(ctx context.Context, channel, what string, send func() error) error {
	var err error
	for try := 1; try <= maxTries; try++ {
		if err = p.sleep(ctx, p.wait(channel)); err != nil {
			return err
		}
		err = send()
		var limited *slackapi.RateLimitedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &limited):
			p.hold(channel, limited.RetryAfter)
		case retryable(err):
			p.hold(channel, time.Duration(try)*time.Second)
		default:
			return fmt.Errorf("slack: %s %s: %w", what, channel, err)
		}
	}
	return fmt.Errorf("slack: %s %s: gave up after %d tries: %w", what, channel, maxTries, err)
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
	var stop final
	// A Slack error ("channel_not_found") is final.
	return !errors.As(err, &slackErr) && !errors.As(err, &stop)
}

// apiError reports whether err came from Slack or the way to it: a Slack
// error, an HTTP status, a 429, a failed connection.
func apiError(err error) bool {
	var status slackapi.StatusCodeError
	var slackErr slackapi.SlackErrorResponse
	var limited *slackapi.RateLimitedError
	var conn *url.Error
	return errors.As(err, &status) || errors.As(err, &slackErr) || errors.As(err, &limited) || errors.As(err, &conn)
}

// final is an error that no retry can mend.
type final struct{ err error }

func (f final) Error() string { return f.err.Error() }
func (f final) Unwrap() error { return f.err }

// cut returns s, or its first n characters (as Slack counts them, in
// UTF-16) with an ellipsis in place of the rest.
func cut(s string, n int) string {
	if len(s) <= n || len(utf16.Encode([]rune(s))) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > n-1 { // room for the ellipsis
			return s[:i] + "…"
		}
	}
	return s
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

// UserName is the name Slack shows for user: their display name, else
// their full name, else their handle.
func (p *Poster) UserName(ctx context.Context, user string) (string, error) {
	u, err := p.api.GetUserInfoContext(ctx, user)
	if err != nil {
		return "", fmt.Errorf("slack: users.info: %w", err)
	}
	return cmp.Or(u.Profile.DisplayName, u.RealName, u.Name), nil
}
