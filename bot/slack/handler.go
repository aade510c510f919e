package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Answerer answers a chat line; *bot.Bot is one.
type Answerer interface {
	Handle(ctx context.Context, req bot.Request) bot.Reply
}

// Deduper remembers what was already handled: FirstSeen reports true the
// first time it sees key, also across restarts.
type Deduper interface {
	FirstSeen(ctx context.Context, key string) (bool, error)
}

// ChannelBook finds the binding of a chat channel; *sqlite.Store is one.
type ChannelBook interface {
	ChatChannel(ctx context.Context, platform, id string) (kpi.ChatChannel, bool, error)
}

// answerWithin is how long a slash command may take before it is
// acknowledged and answered later through response_url; Slack gives 3 s.
const answerWithin = 2 * time.Second

// answerTimeout bounds the work of one answer.
const answerTimeout = 25 * time.Second

// Handler serves Slack's HTTP endpoints: /slack/commands, /slack/events and
// /slack/interactions. Every request's signature is checked before anything
// is parsed.
type Handler struct {
	bot    Answerer
	secret string
	seen   Deduper
	book   ChannelBook
	poster *Poster
	charts ChartDrawer
	text   *locales.Catalog
	hc     *http.Client
	now    func() time.Time
	log    *slog.Logger

	forged atomic.Int64   // requests refused for their signature
	work   sync.WaitGroup // answers still being worked on
	socket atomic.Bool    // Socket Mode is connected: Slack said hello
}

// Config is what a Handler needs.
type Config struct {
	Bot           Answerer
	SigningSecret string
	Seen          Deduper
	Channels      ChannelBook      // nil: channels see every shop and need no binding
	Poster        *Poster          // posts answers to events
	Charts        ChartDrawer      // draws the charts of replies; nil: replies go without them
	Text          *locales.Catalog // for the notes the adapter adds itself
	HTTP          *http.Client     // for response_url; http.DefaultClient if nil
	Now           func() time.Time
	Log           *slog.Logger
}

// NewHandler returns a Handler.
func NewHandler(c Config) *Handler {
	h := &Handler{bot: c.Bot, secret: c.SigningSecret, seen: c.Seen, book: c.Channels, poster: c.Poster, charts: c.Charts, text: c.Text,
		hc: c.HTTP, now: c.Now, log: c.Log}
	if h.hc == nil {
		h.hc = http.DefaultClient
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Register adds the endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /slack/commands", h.signed(h.command))
	mux.Handle("POST /slack/events", h.signed(h.event))
	mux.Handle("POST /slack/interactions", h.signed(h.interaction))
}

// SignatureFailures counts the requests refused for their signature.
func (h *Handler) SignatureFailures() int64 { return h.forged.Load() }

// Wait waits for the answers still being worked on, as at shutdown.
func (h *Handler) Wait() { h.work.Wait() }

// signed checks the signature of a request and passes its body on; a bad,
// stale or missing signature gets 401 and nothing else happens.
func (h *Handler) signed(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !verify(r.Header, body, h.secret, h.now()) {
			h.forged.Add(1)
			h.log.Warn("slack: refused a request with a bad signature", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// command answers the /kpi slash command over HTTP.
func (h *Handler) command(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if msg := h.SlashCommand(form); msg != nil {
		writeJSON(w, msg)
		// Send the answer now (else it goes when command returns), so
		// that its chart comes after it.
		_ = http.NewResponseController(w).Flush()
		h.chartAfter(msg)
		return
	}
	w.WriteHeader(http.StatusOK) // acknowledged; the answer follows
}

// SlashCommand answers a /kpi form, over HTTP or Socket Mode: it returns the
// message when the answer is ready within answerWithin, else nil, and the
// answer goes to the form's response_url when it is ready. The chart of an
// answer to the channel follows it as a message of its own (a command's
// answer cannot carry a file): through response_url, it is uploaded after
// the answer; the caller who delivers the returned message calls
// chartAfter.
func (h *Handler) SlashCommand(form url.Values) *Message {
	req := bot.Request{Text: form.Get("text"), User: userKey(form.Get("team_id"), form.Get("user_id"))}
	responseURL := form.Get("response_url")
	done := make(chan bot.Reply, 1)
	h.work.Add(1)
	go func() {
		defer h.work.Done()
		// No deadline of its own: a second timer per request showed up as a
		// tenth of a busy handler's time, and the store bounds its waits.
		ctx := context.Background()
		if err := h.where(ctx, &req, form.Get("channel_id"), form.Get("user_id")); err != nil {
			done <- bot.Reply{Err: err, Text: h.text.Printer(locales.Guess(req.Text)).T("error.unavailable", nil)}
			return
		}
		done <- h.bot.Handle(ctx, req)
	}()
	timer := time.NewTimer(answerWithin)
	defer timer.Stop()
	channel := form.Get("channel_id")
	select {
	case reply := <-done:
		return h.commandMessage(reply, channel)
	case <-timer.C:
		h.work.Add(1)
		go func() {
			defer h.work.Done()
			msg := h.commandMessage(<-done, channel)
			if err := h.respond(responseURL, msg); err != nil {
				h.log.Error("slack: answer through response_url", "err", err)
				return // no chart without its answer
			}
			h.uploadChart(msg.chart)
		}()
		return nil
	}
}

// commandMessage is the message of the answer to a command sent in
// channel, with the chart to upload after it when the answer is for the
// channel.
func (h *Handler) commandMessage(reply bot.Reply, channel string) *Message {
	msg := h.message(reply)
	if msg.ResponseType == "in_channel" && reply.Chart != nil && h.charts != nil && h.poster != nil && channel != "" {
		msg.chart = &commandChart{channel: channel, reply: reply}
	}
	return msg
}

// commandChart is the chart of a command's answer, to upload to the
// command's channel once the answer is delivered.
type commandChart struct {
	channel string
	reply   bot.Reply
}

// chartAfter uploads the chart of a command's answer, if it has one, in
// the background: call it once the answer is delivered.
func (h *Handler) chartAfter(msg *Message) {
	if msg == nil || msg.chart == nil {
		return
	}
	h.work.Go(func() { h.uploadChart(msg.chart) })
}

// uploadChart draws and uploads c, if not nil, to its channel: a message of
// its own, the picture under the answer's title. Failures are logged: the
// answer stands without it.
func (h *Handler) uploadChart(c *commandChart) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	img, err := ChartImage(ctx, h.charts, c.reply)
	if err == nil {
		err = h.poster.Upload(ctx, c.channel, "", nil, FallbackText(c.reply), img)
	}
	if err != nil {
		h.log.Error("slack: chart of a command's answer", "err", err, "channel", c.channel)
	}
}

// Message is a reply as Slack takes it from a slash command, its
// response_url or a Socket Mode acknowledgement.
type Message struct {
	ResponseType string           `json:"response_type"` // in_channel, or ephemeral for the asker alone
	Text         string           `json:"text"`          // for notifications
	Blocks       []slackapi.Block `json:"blocks"`

	chart *commandChart // to upload once the message is delivered; nil: none
}

// message is the JSON Slack wants for a reply: visible to the channel, or
// to the asker alone when it reports an error or holds a secret.
func (h *Handler) message(reply bot.Reply) *Message {
	kind := "in_channel"
	if reply.Err != nil || reply.Private {
		kind = "ephemeral"
	}
	return &Message{ResponseType: kind, Text: FallbackText(reply), Blocks: Blocks(reply, h.more(reply.Lang))}
}

// more says, in the reply's language, how many lines a long reply left out.
func (h *Handler) more(lang locales.Lang) func(int) string {
	return func(n int) string {
		return h.text.Printer(lang).T("reply.more_lines", map[string]any{"N": n})
	}
}

// respond posts a message to the response_url of a slash command or a
// click.
func (h *Handler) respond(responseURL string, msg any) error {
	if !strings.HasPrefix(responseURL, "https://") && !strings.HasPrefix(responseURL, "http://") {
		return fmt.Errorf("slack: bad response_url %q", responseURL)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("slack: response_url answered %s", resp.Status)
	}
	return nil
}

// envelope is what the Events API posts.
type envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	TeamID    string `json:"team_id"`
	EventID   string `json:"event_id"`
	Event     struct {
		Type        string `json:"type"`
		Subtype     string `json:"subtype"`
		User        string `json:"user"`
		BotID       string `json:"bot_id"`
		Text        string `json:"text"`
		Channel     string `json:"channel"`
		ChannelType string `json:"channel_type"`
		TS          string `json:"ts"`
		ThreadTS    string `json:"thread_ts"`
	} `json:"event"`
}

// event handles the Events API over HTTP.
func (h *Handler) event(w http.ResponseWriter, r *http.Request, body []byte) {
	challenge, err := h.Event(r.Context(), body, r.Header.Get("X-Slack-Retry-Num"))
	switch {
	case errors.Is(err, errBadEvent):
		http.Error(w, "bad event", http.StatusBadRequest)
	case err != nil:
		// Slack will retry: better a retry than an answer lost.
		http.Error(w, "try again", http.StatusServiceUnavailable)
	case challenge != "":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, challenge)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

var errBadEvent = errors.New("slack: malformed event")

// Event takes one Events API payload, over HTTP or Socket Mode: it returns
// the challenge of a URL check, and answers mentions of the bot and direct
// messages in the background, once per event_id whatever Slack retries.
func (h *Handler) Event(ctx context.Context, body []byte, retry string) (challenge string, err error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return "", errBadEvent
	}
	if env.Type == "url_verification" {
		return env.Challenge, nil
	}
	ev := env.Event
	wanted := env.Type == "event_callback" && (ev.Type == "app_mention" || ev.Type == "message" && ev.ChannelType == "im")
	if !wanted || ev.BotID != "" || ev.Subtype != "" || env.EventID == "" {
		return "", nil // not for us, or our own message
	}
	// Read the channel's binding before remembering the event: a failure
	// then makes Slack send it again instead of losing the answer.
	req := bot.Request{Text: ev.Text, User: userKey(env.TeamID, ev.User)}
	if err := h.where(ctx, &req, ev.Channel, ev.User); err != nil {
		h.log.Error("slack: read channel binding", "err", err, "channel", ev.Channel)
		return "", err
	}
	first, err := h.seen.FirstSeen(ctx, "slack:"+env.EventID)
	if err != nil {
		h.log.Error("slack: remember event", "err", err)
		return "", err
	}
	if !first {
		h.log.Info("slack: duplicate event", "event_id", env.EventID, "retry", retry)
		return "", nil
	}
	thread := ev.ThreadTS
	if thread == "" && ev.Type == "app_mention" {
		thread = ev.TS // answer a mention in its thread
	}
	h.work.Add(1)
	go func() {
		defer h.work.Done()
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		defer cancel()
		reply := h.bot.Handle(ctx, req)
		var err error
		if reply.Err != nil || reply.Private {
			// An error or a secret goes to the asker alone, and a file
			// cannot: without a chart.
			_, err = h.poster.Post(ctx, ev.Channel, thread, ev.User, Blocks(reply, h.more(reply.Lang)), FallbackText(reply))
		} else {
			_, err = h.poster.PostReply(ctx, ev.Channel, thread, reply, h.more(reply.Lang), h.charts, h.log)
		}
		if err != nil {
			h.log.Error("slack: post answer", "err", err, "channel", ev.Channel)
		}
	}()
	return "", nil
}

// where tells req which channel it came from, with the channel's binding,
// and how to ask Slack whether the asker is a workspace admin.
func (h *Handler) where(ctx context.Context, req *bot.Request, channel, user string) error {
	if h.book == nil {
		return nil
	}
	c, ok, err := h.book.ChatChannel(ctx, "slack", channel)
	if err != nil {
		return fmt.Errorf("slack: channel binding: %w", err)
	}
	if !ok {
		c = kpi.ChatChannel{Platform: "slack", ID: channel}
	}
	req.Channel = &c
	req.IsAdmin = func(ctx context.Context) (bool, error) { return h.poster.IsAdmin(ctx, user) }
	req.Name = func(ctx context.Context) string {
		name, err := h.poster.UserName(ctx, user)
		if err != nil {
			h.log.Warn("slack: the asker's display name", "err", err, "user", user)
		}
		return name
	}
	return nil
}

func userKey(team, user string) string {
	if user == "" {
		return ""
	}
	return "slack:" + team + ":" + user
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a client gone away cannot be told
}
