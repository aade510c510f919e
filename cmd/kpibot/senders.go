package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/line"
	"github.com/kpibot/kpibot/bot/schedule"
	"github.com/kpibot/kpibot/bot/slack"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// slackSender delivers scheduled reports to Slack channels, one message
// each, paced by the poster, each marked sent as soon as it is out (a
// schedule.EachSender): a report with a chart (the daily digest's) is
// uploaded with it in the same message when charts is set. A message that
// amends earlier ones (Reply.Amends: an alert acknowledged, snoozed or
// resolved) edits them first, and goes in the thread of the last.
type slackSender struct {
	poster *slack.Poster
	text   *locales.Catalog
	sent   outboxItems       // the earlier messages, for their ts
	charts slack.ChartDrawer // nil: reports go without their charts
	log    *slog.Logger      // for the charts that cannot be drawn or uploaded; nil: not logged
}

// outboxItems reads an outbox item by key; kpi.Outbox does.
type outboxItems interface {
	Item(ctx context.Context, key string) (kpi.OutboxItem, bool, error)
}

var _ schedule.EachSender = slackSender{}

func (s slackSender) Send(ctx context.Context, msgs []schedule.Message) ([]string, error) {
	var sent []string
	err := s.SendEach(ctx, msgs, func(key, _ string) { sent = append(sent, key) })
	return sent, err
}

// SendEach tells of each message as soon as Slack took it, with its ts:
// Slack takes no idempotency key, so the outbox marks it sent at once, and
// a replica that dies in the middle of a batch leaves at most the message
// in flight to be posted again.
// A message whose amended messages are not all out yet waits: it is left
// for the next flush, and the others go.
func (s slackSender) SendEach(ctx context.Context, msgs []schedule.Message, delivered func(key, ref string)) error {
	waiting := 0
	for _, m := range msgs {
		thread, err := s.amend(ctx, m)
		if errors.Is(err, errAmendsUnsent) {
			waiting++
			continue
		}
		if err != nil {
			return fmt.Errorf("slack: amend for %s: %w", m.Key, err)
		}
		ts, err := s.poster.PostReply(ctx, m.Channel.ID, thread, m.Reply, s.more(m.Reply.Lang), s.charts, s.log)
		if err != nil {
			return fmt.Errorf("slack: post %s: %w", m.Key, err)
		}
		delivered(m.Key, ts)
	}
	if waiting > 0 {
		return fmt.Errorf("slack: %d messages: %w", waiting, errAmendsUnsent)
	}
	return nil
}

// errAmendsUnsent: a message amends one not out yet. It waits, so that the
// news never comes before what it is news of (an acknowledgement before
// the alert, whose buttons would then be live).
var errAmendsUnsent = errors.New("a message they amend is not out yet")

func (s slackSender) more(lang locales.Lang) func(int) string {
	return func(n int) string { return s.text.Printer(lang).T("reply.more_lines", map[string]any{"N": n}) }
}

// amend edits the messages m amends that are out in m's channel, to carry
// m's summary instead of their buttons, and returns the ts of the first
// one edited (the alert's opening), the thread m goes in ("" when none
// was). It returns errAmendsUnsent, editing nothing, while one of them is
// not out yet. A message out without a ts (shared with a file) is left
// alone, and one Slack will not edit any more is logged and left.
func (s slackSender) amend(ctx context.Context, m schedule.Message) (string, error) {
	if len(m.Reply.Amends) == 0 || s.sent == nil {
		return "", nil
	}
	note := m.Reply.Summary()
	if t := strings.TrimSpace(m.Reply.Text); t != "" && m.Reply.Title != "" {
		note += " — " + t
	}
	var out []kpi.OutboxItem
	for _, key := range m.Reply.Amends {
		it, ok, err := s.sent.Item(ctx, key)
		if err != nil {
			return "", err
		}
		if !ok || it.Platform != m.Channel.Platform || it.Channel != m.Channel.ID {
			continue
		}
		if it.Sent.IsZero() {
			return "", errAmendsUnsent
		}
		if it.Ref != "" {
			out = append(out, it)
		}
	}
	thread := ""
	for _, it := range out {
		_, earlier, err := bot.DecodeOutgoing(it.Payload)
		if err != nil {
			return "", err
		}
		err = s.poster.Amend(ctx, it.Channel, it.Ref, earlier, s.more(earlier.Lang), note)
		if errors.Is(err, slack.ErrNotEditable) {
			if s.log != nil {
				s.log.Warn("slack: an earlier message cannot be edited; the news goes as a new message", "key", it.Key, "err", err)
			}
			continue
		}
		if err != nil {
			return "", err
		}
		thread = cmp.Or(thread, it.Ref)
	}
	return thread, nil
}

// lineSender delivers scheduled reports to LINE chats through the pusher,
// which keeps to the monthly quota and warns the hq chat when it is short.
type lineSender struct {
	pusher *line.Pusher
}

func (s lineSender) Send(ctx context.Context, msgs []schedule.Message) ([]string, error) {
	var pushes []line.Push
	var hq kpi.ChatChannel
	for _, m := range msgs {
		pushes = append(pushes, line.Push{Chat: m.Channel.ID, Key: m.Key, Reply: m.Reply})
		if m.Channel.Role == kpi.RoleHQ && hq.ID == "" {
			hq = m.Channel
		}
	}
	d, err := s.pusher.Deliver(ctx, pushes, hq)
	return d.Sent, err
}

// chat is what serve and digest need of the chat platforms configured in
// the environment: the senders of scheduled reports, and the clients.
type chat struct {
	slack   slackEnv
	line    lineEnv
	poster  *slack.Poster
	client  *line.Client
	links   *line.ChartLinks // LINE's chart URLs; nil without KPIBOT_PUBLIC_URL
	senders map[string]schedule.Sender
}

// errPublicURL reports a KPIBOT_PUBLIC_URL that LINE cannot fetch from.
var errPublicURL = errors.New("KPIBOT_PUBLIC_URL")

// newChat builds the clients and senders of the platforms configured;
// charts draws the pictures that go with their messages.
func newChat(e env, text *locales.Catalog, store kpiStore, charts *bot.Bot, log *slog.Logger) (*chat, error) {
	return newChatWith(e, text, store, charts, log, chatHTTP{})
}

// chatHTTP are the HTTP clients the platforms' APIs are called through;
// nil: each client's default.
type chatHTTP struct {
	slack, line *http.Client
}

// newChatWith is newChat with the clients of hc (serve's measure the
// calls).
func newChatWith(e env, text *locales.Catalog, store kpiStore, charts *bot.Bot, log *slog.Logger, hc chatHTTP) (*chat, error) {
	c := &chat{slack: readSlackEnv(e.getenv), line: readLineEnv(e.getenv), senders: map[string]schedule.Sender{}}
	if c.slack.enabled() {
		var opts []slack.PosterOption
		if hc.slack != nil {
			opts = append(opts, slack.WithHTTPClient(hc.slack))
		}
		c.poster = slack.NewPoster(c.slack.botToken, c.slack.apiURL, opts...)
		c.senders["slack"] = slackSender{poster: c.poster, text: text, sent: store, charts: charts, log: log}
	}
	if c.line.enabled() {
		client, err := line.NewClient(line.ClientConfig{Token: c.line.token, BaseURL: c.line.apiURL, HTTP: hc.line, Log: log})
		if err != nil {
			return nil, err
		}
		c.client = client
		if c.line.publicURL != "" {
			if c.links, err = line.NewChartLinks(c.line.secret, c.line.publicURL, charts, e.now, log); err != nil {
				return nil, fmt.Errorf("%w: %w", errPublicURL, err)
			}
		}
		c.senders[line.Platform] = lineSender{pusher: line.NewPusher(client, store, text, e.now, log).WithCharts(c.links)}
	}
	return c, nil
}
