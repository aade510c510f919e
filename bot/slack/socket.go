package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// eventTimeout bounds the remembering of one Socket Mode event, which goes
// on after RunSocketMode's context ends: the event is acknowledged already,
// and Slack will not send it again.
const eventTimeout = 10 * time.Second

// RunSocketMode connects to Slack over Socket Mode with the app-level token
// (xapp-…) and serves the same slash commands, events and interactions as
// the HTTP endpoints until ctx ends. apiURL overrides Slack's Web API base
// URL (for tests and proxies; it must end with a slash); botToken is the
// client's default token, though answers to events go through the
// Handler's Poster.
//
// It returns nil when ctx ends, after the envelopes being handled are
// acknowledged (the answers still being worked on are for Wait), and an
// error when Slack refuses the connection for good (a bad or revoked app
// token); other connection failures are retried with backoff.
//
// Socket Mode requests carry no signature: the app-level token authenticates
// the WebSocket connection itself (apps.connections.open), so there is no
// signing secret to check here, unlike on the HTTP endpoints.
func (h *Handler) RunSocketMode(ctx context.Context, appToken, botToken, apiURL string) error {
	h.socket.Store(false)
	opts := []slackapi.Option{slackapi.OptionAppLevelToken(appToken)}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	client := socketmode.New(slackapi.New(botToken, opts...))

	// The client never closes Events: read it until RunContext returns,
	// so that none of its sends is left blocked.
	ran := make(chan error, 1)
	go func() { ran <- client.RunContext(ctx) }()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	defer h.socket.Store(false)
	for {
		select {
		case err := <-ran:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt := <-client.Events:
			h.socketEvent(ctx, client, evt, &inflight)
		}
	}
}

// SocketConnected reports whether RunSocketMode is connected to Slack: Slack
// has said hello, and the connection has not failed since.
func (h *Handler) SocketConnected() bool { return h.socket.Load() }

// socketEvent handles one event of the Socket Mode client. Every envelope is
// acknowledged within Slack's 3 seconds: at once, or for a slash command
// within answerWithin, and the work that may take longer runs in the
// background, tracked by inflight, so that one envelope never holds up the
// next one's acknowledgement.
func (h *Handler) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event, inflight *sync.WaitGroup) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		h.socket.Store(false)
		if c, ok := evt.Data.(*slackapi.ConnectingEvent); ok {
			h.log.Debug("slack: socket mode connecting", "attempt", c.Attempt, "connection", c.ConnectionCount)
		}
	case socketmode.EventTypeConnected:
		// Not the event's Info: its URL holds the connection's ticket.
		h.log.Debug("slack: socket mode connected")
	case socketmode.EventTypeHello:
		h.socket.Store(true)
		args := []any{}
		if evt.Request != nil {
			args = append(args, "connections", evt.Request.NumConnections, "app", evt.Request.ConnectionInfo.AppID,
				"host", evt.Request.DebugInfo.Host)
		}
		h.log.Info("slack: socket mode ready", args...)
	case socketmode.EventTypeConnectionError:
		h.socket.Store(false)
		if c, ok := evt.Data.(*slackapi.ConnectionErrorEvent); ok {
			h.log.Info("slack: socket mode connection failed, retrying", "err", c.ErrorObj, "attempt", c.Attempt, "backoff", c.Backoff)
		}
	case socketmode.EventTypeInvalidAuth:
		h.socket.Store(false)
		h.log.Error("slack: socket mode refused the app token")
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slackapi.IncomingEventError); ok {
			h.log.Debug("slack: socket mode read", "err", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			h.log.Error("slack: socket mode acknowledgement lost", "err", e.Cause, "envelope_id", e.Response.EnvelopeID)
		}
	case socketmode.EventTypeErrorBadMessage:
		h.badMessage(ctx, client, evt)

	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackapi.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		req := *evt.Request
		inflight.Go(func() { h.socketCommand(ctx, client, req, cmd) })

	case socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		req := *evt.Request
		retry := ""
		if req.RetryAttempt > 0 {
			retry = strconv.Itoa(req.RetryAttempt)
		}
		inflight.Go(func() {
			// Remember the event before acknowledging it, as over HTTP: if
			// that fails, no ack makes Slack send it again, and the
			// event_id keeps a second delivery from being answered twice.
			// Event only records it and starts the answer, well within 3 s.
			ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventTimeout)
			defer cancel()
			_, err := h.Event(ectx, req.Payload, retry)
			if errors.Is(err, errBadEvent) {
				h.log.Warn("slack: malformed socket mode event", "envelope_id", req.EnvelopeID)
			}
			if err == nil || errors.Is(err, errBadEvent) {
				h.ack(ctx, client, req.EnvelopeID, nil)
			}
		})

	case socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		// Acknowledged at once, empty; a click's command runs in the
		// background and answers through the payload's response_url.
		h.ack(ctx, client, evt.Request.EnvelopeID, nil)
		if err := h.Interaction(evt.Request.Payload); err != nil {
			h.log.Warn("slack: malformed socket mode interaction", "envelope_id", evt.Request.EnvelopeID)
		}
	}
}

// socketCommand answers a slash command: the answer rides on the
// acknowledgement when it is ready within answerWithin (Socket Mode lets an
// ack carry the response), else the ack is empty and SlashCommand sends the
// answer to response_url when it is ready. The answer's chart, if any,
// follows the answer.
func (h *Handler) socketCommand(ctx context.Context, client *socketmode.Client, req socketmode.Request, cmd slackapi.SlashCommand) {
	form := url.Values{
		"command":      {cmd.Command},
		"text":         {cmd.Text},
		"team_id":      {cmd.TeamID},
		"user_id":      {cmd.UserID},
		"channel_id":   {cmd.ChannelID},
		"response_url": {cmd.ResponseURL},
	}
	msg := h.SlashCommand(form)
	if msg == nil {
		h.ack(ctx, client, req.EnvelopeID, nil)
		return
	}
	err := client.AckCtx(ctx, req.EnvelopeID, msg)
	if err == nil {
		h.chartAfter(msg)
		return
	}
	if ctx.Err() != nil {
		return
	}
	// Slack drops acks of 20 KB or more: a long answer goes to response_url.
	h.log.Info("slack: answer too large for the acknowledgement, sent through response_url", "err", err)
	h.ack(ctx, client, req.EnvelopeID, nil)
	h.work.Go(func() {
		if err := h.respond(cmd.ResponseURL, msg); err != nil {
			h.log.Error("slack: answer through response_url", "err", err)
			return // no chart without its answer
		}
		h.uploadChart(msg.chart)
	})
}

// badMessage acknowledges an envelope the client could not parse (an event
// of a type slack-go does not know, say), so that Slack does not send it
// again and again; nothing else is done with it.
func (h *Handler) badMessage(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	_ = json.Unmarshal(bad.Message, &env) // at worst, nothing to acknowledge
	h.log.Warn("slack: socket mode message not understood", "err", bad.Cause, "type", env.Type, "envelope_id", env.EnvelopeID)
	if env.EnvelopeID != "" {
		h.ack(ctx, client, env.EnvelopeID, nil)
	}
}

// ack acknowledges an envelope, with payload if it is not nil.
func (h *Handler) ack(ctx context.Context, client *socketmode.Client, envelopeID string, payload any) {
	if err := client.AckCtx(ctx, envelopeID, payload); err != nil && ctx.Err() == nil {
		h.log.Error("slack: socket mode acknowledgement", "err", err, "envelope_id", envelopeID)
	}
}
