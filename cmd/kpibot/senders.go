package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

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
// uploaded with it in the same message when charts is set.
type slackSender struct {
	poster *slack.Poster
	text   *locales.Catalog
	charts slack.ChartDrawer // nil: reports go without their charts
	log    *slog.Logger      // for the charts that cannot be drawn or uploaded; nil: not logged
}

var _ schedule.EachSender = slackSender{}

func (s slackSender) Send(ctx context.Context, msgs []schedule.Message) ([]string, error) {
	var sent []string
	err := s.SendEach(ctx, msgs, func(key string) { sent = append(sent, key) })
	return sent, err
}

// SendEach tells of each message as soon as Slack took it: Slack takes no
// idempotency key, so the outbox marks it sent at once, and a replica that
// dies in the middle of a batch leaves at most the message in flight to be
// posted again.
func (s slackSender) SendEach(ctx context.Context, msgs []schedule.Message, delivered func(key string)) error {
	for _, m := range msgs {
		more := func(n int) string { return s.text.Printer(m.Reply.Lang).T("reply.more_lines", map[string]any{"N": n}) }
		if err := s.poster.PostReply(ctx, m.Channel.ID, "", m.Reply, more, s.charts, s.log); err != nil {
			return fmt.Errorf("slack: post %s: %w", m.Key, err)
		}
		delivered(m.Key)
	}
	return nil
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
		c.senders["slack"] = slackSender{poster: c.poster, text: text, charts: charts, log: log}
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
