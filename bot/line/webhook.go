// Package line is the LINE adapter of the bot: a signed webhook for 1:1
// chats, groups and rooms, answers by reply token or idempotent push, Flex
// rendering, and scheduled pushes that keep to the monthly message quota.
package line

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
	"golang.org/x/text/width"

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

// ChannelBook finds the binding of a chat; *sqlite.Store is one.
type ChannelBook interface {
	ChatChannel(ctx context.Context, platform, id string) (kpi.ChatChannel, bool, error)
}

// Platform is the name LINE chats are bound under.
const Platform = "line"

// maxBody bounds a webhook request; LINE's are a few kilobytes.
const maxBody = 1 << 20

// replyWithin is how long after its event a reply token is still tried;
// LINE keeps one about a minute.
const replyWithin = 50 * time.Second

// answerTimeout bounds the work of one answer, push included.
const answerTimeout = 2 * time.Minute

// Handler serves POST /line/webhook. A request's signature is checked
// before anything is parsed; each event is handled once, whatever LINE
// redelivers, and answered in the background.
type Handler struct {
	bot    Answerer
	secret string
	seen   Deduper
	book   ChannelBook
	client *Client
	text   *locales.Catalog
	now    func() time.Time
	log    *slog.Logger
	charts *chartImages

	forged atomic.Int64   // requests refused for their signature
	work   sync.WaitGroup // answers still being worked on
}

// Config is what a Handler needs.
type Config struct {
	Bot           Answerer
	ChannelSecret string
	Seen          Deduper
	Channels      ChannelBook // nil: chats see every shop and need no binding
	Client        *Client
	Text          *locales.Catalog
	Charts        *ChartLinks // nil: a reply's chart goes without its picture
	Now           func() time.Time
	Log           *slog.Logger
}

// NewHandler returns a Handler.
func NewHandler(c Config) *Handler {
	h := &Handler{bot: c.Bot, secret: c.ChannelSecret, seen: c.Seen, book: c.Channels, client: c.Client,
		text: c.Text, now: c.Now, log: c.Log}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.charts = &chartImages{links: c.Charts, log: h.log}
	return h
}

// Register adds the webhook to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /line/webhook", h)
}

// SignatureFailures counts the requests refused for their signature.
func (h *Handler) SignatureFailures() int64 { return h.forged.Load() }

// Wait waits for the answers still being worked on, as at shutdown.
func (h *Handler) Wait() { h.work.Wait() }

// ServeHTTP takes one webhook request: 401 for a bad signature, 400 for a
// body that is not LINE's JSON, 500 when an event could not be recorded
// (LINE redelivers, and what was recorded is not answered twice), else 200.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !webhook.ValidateSignature(h.secret, r.Header.Get("x-line-signature"), body) {
		h.forged.Add(1)
		h.log.Warn("line: refused a request with a bad signature", "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	var cb webhook.CallbackRequest
	if err := json.Unmarshal(body, &cb); err != nil {
		h.log.Warn("line: malformed webhook", "err", err)
		http.Error(w, "malformed webhook", http.StatusBadRequest)
		return
	}
	if err := h.Events(r.Context(), cb.Events); err != nil {
		h.log.Error("line: take events", "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// job is an event worth answering.
type job struct {
	id    string    // webhookEventId
	chat  string    // the user, group or room to push to
	token string    // the reply token, if any
	at    time.Time // when the event happened
	req   bot.Request
	greet bool // a follow or join: say hello instead of answering
}

// Events takes a webhook's events: text messages meant for the bot, the
// postbacks of its buttons, and follows and joins, which get a greeting.
// Each is recorded under its webhookEventId before it is answered, so a
// redelivery is not answered again; an error means some events were not
// recorded and LINE should send them again.
func (h *Handler) Events(ctx context.Context, events []webhook.EventInterface) error {
	for _, ev := range events {
		j, ok := h.job(ev)
		if !ok {
			continue
		}
		// Read the chat's binding before recording the event: a failure
		// then means a redelivery, not a lost answer.
		if err := h.where(ctx, &j); err != nil {
			return err
		}
		first, err := h.seen.FirstSeen(ctx, "line:"+j.id)
		if err != nil {
			return fmt.Errorf("line: remember event: %w", err)
		}
		if !first {
			h.log.Info("line: duplicate event", "event", j.id)
			continue
		}
		h.work.Add(1)
		go func() {
			defer h.work.Done()
			h.answer(j)
		}()
	}
	return nil
}

// job picks the events worth answering out of a webhook: text messages
// meant for the bot, postbacks whose data starts with PostbackPrefix,
// follows and joins.
func (h *Handler) job(ev webhook.EventInterface) (job, bool) {
	var (
		j      job
		mode   webhook.EventMode
		source webhook.SourceInterface
		ts     int64
	)
	switch e := ev.(type) {
	case webhook.MessageEvent:
		msg, ok := e.Message.(webhook.TextMessageContent)
		if !ok {
			return j, false
		}
		text, ok := command(msg.Text, msg.Mention, isDirect(e.Source))
		if !ok {
			return j, false
		}
		j = job{id: e.WebhookEventId, token: e.ReplyToken, req: bot.Request{Text: text}}
		mode, source, ts = e.Mode, e.Source, e.Timestamp
	case webhook.PostbackEvent:
		// A button of ours: its data is PostbackPrefix and the command,
		// run as if the presser had sent it in this chat.
		if e.Postback == nil {
			return j, false
		}
		text, ok := strings.CutPrefix(e.Postback.Data, PostbackPrefix)
		if text = strings.TrimSpace(text); !ok || text == "" {
			return j, false
		}
		j = job{id: e.WebhookEventId, token: e.ReplyToken, req: bot.Request{Text: text}}
		mode, source, ts = e.Mode, e.Source, e.Timestamp
	case webhook.FollowEvent:
		j = job{id: e.WebhookEventId, token: e.ReplyToken, greet: true}
		mode, source, ts = e.Mode, e.Source, e.Timestamp
	case webhook.JoinEvent:
		j = job{id: e.WebhookEventId, token: e.ReplyToken, greet: true}
		mode, source, ts = e.Mode, e.Source, e.Timestamp
	default:
		return j, false
	}
	if mode == webhook.EventMode_STANDBY || j.id == "" {
		return j, false // another channel answers in standby mode
	}
	var user string
	switch s := source.(type) {
	case webhook.UserSource:
		j.chat, user = s.UserId, s.UserId
	case webhook.GroupSource:
		j.chat, user = s.GroupId, s.UserId
	case webhook.RoomSource:
		j.chat, user = s.RoomId, s.UserId
	}
	if j.chat == "" {
		return j, false
	}
	if user != "" {
		j.req.User = "line:" + user
		if h.client != nil {
			chat := j.chat
			j.req.Name = func(ctx context.Context) string {
				name, err := h.client.MemberName(ctx, chat, user)
				if err != nil {
					h.log.Warn("line: the asker's display name", "err", err)
				}
				return name
			}
		}
	}
	j.at = time.UnixMilli(ts)
	return j, true
}

func isDirect(s webhook.SourceInterface) bool {
	_, ok := s.(webhook.UserSource)
	return ok
}

// command is the text of a message meant for the bot, without the bot's
// mention or the "/kpi" or "kpi" it starts with. In a 1:1 chat every
// message is for the bot; in a group or room only one that starts with
// /kpi or kpi or mentions the bot.
func command(text string, mention *webhook.Mention, direct bool) (string, bool) {
	mentioned := false
	if mention != nil {
		u := utf16.Encode([]rune(text))
		// Cut the bot's mentions from the end so earlier indexes stay right.
		for i := len(mention.Mentionees) - 1; i >= 0; i-- {
			m, ok := mention.Mentionees[i].(webhook.UserMentionee)
			if !ok || !m.IsSelf {
				continue
			}
			start, end := int(m.Index), int(m.Index)+int(m.Length)
			if start < 0 || end > len(u) || start > end {
				continue
			}
			u = append(u[:start:start], u[end:]...)
			mentioned = true
		}
		text = string(utf16.Decode(u))
	}
	text = strings.TrimSpace(text)
	if rest, ok := cutPrefix(text); ok {
		return rest, true
	}
	if !direct && !mentioned {
		return "", false
	}
	return text, true
}

// cutPrefix removes a leading "/kpi" or "kpi" (any case, full-width too)
// that is not the start of a longer word.
func cutPrefix(text string) (string, bool) {
	runes := []rune(text)
	folded := strings.ToLower(width.Fold.String(string(runes[:min(len(runes), 4)])))
	for _, p := range []string{"/kpi", "kpi"} {
		if !strings.HasPrefix(folded, p) {
			continue
		}
		rest := runes[len(p):]
		if len(rest) > 0 && rest[0] < utf8.RuneSelf && (unicode.IsLetter(rest[0]) || unicode.IsDigit(rest[0])) {
			return "", false // "kpibot", "kpis": another word
		}
		return strings.TrimSpace(string(rest)), true
	}
	return "", false
}

// where fills in the chat's binding. An unbound chat is answered in
// Chinese and Japanese, since nobody has said yet who reads it.
func (h *Handler) where(ctx context.Context, j *job) error {
	if h.book == nil {
		return nil
	}
	c, ok, err := h.book.ChatChannel(ctx, Platform, j.chat)
	if err != nil {
		return fmt.Errorf("line: chat binding: %w", err)
	}
	if !ok || c.Role == "" {
		c = kpi.ChatChannel{Platform: Platform, ID: j.chat}
		j.req.ChannelLang = locales.Bilingual
	}
	j.req.Channel = &c
	return nil
}

// answer works out the reply to an event and sends it.
func (h *Handler) answer(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	var reply bot.Reply
	if j.greet {
		reply = h.greeting(j)
	} else {
		reply = h.bot.Handle(ctx, j.req)
	}
	msgs := h.charts.add(reply, Messages(reply, h.more(reply.Lang)))
	if err := h.send(ctx, j, msgs, TextMessages(reply)); err != nil {
		h.log.Error("line: answer", "err", err, "chat", j.chat, "event", j.id)
	}
}

// greeting introduces the bot to a new friend or group, in the chat's
// language, or in Chinese and Japanese when the chat is not bound.
func (h *Handler) greeting(j job) bot.Reply {
	lang := j.req.ChannelLang
	if c := j.req.Channel; c != nil && c.Role != "" {
		lang = locales.Lang(c.Lang)
	}
	if lang == "" {
		lang = locales.Bilingual
	}
	key := "line.welcome"
	if c := j.req.Channel; c == nil || c.Role == "" {
		key = "line.welcome_unbound"
	}
	if lang == locales.Bilingual {
		zh, ja := h.text.Printer(locales.Chinese).T(key, nil), h.text.Printer(locales.Japanese).T(key, nil)
		return bot.Reply{Text: zh + "\n\n" + ja, Lang: lang}
	}
	p := h.text.Printer(lang)
	return bot.Reply{Text: p.T(key, nil), Lang: p.Lang}
}

// send delivers an answer: by reply token while it lives (free), else by
// push under a retry key derived from the event, so that a redelivery or a
// retry is not shown twice. When LINE refuses the Flex layout (or the
// chart's picture) the plain text goes instead, without the picture.
//
// A reply that failed on the network or with a 5xx may still have arrived;
// LINE gives replies no retry key, so the push that follows can, rarely,
// show the answer twice — better than not at all.
func (h *Handler) send(ctx context.Context, j job, msgs, plain []messaging_api.MessageInterface) error {
	if j.token != "" && h.now().Sub(j.at) < replyWithin {
		err := h.client.Reply(ctx, j.token, msgs)
		if refusedContent(err) {
			h.log.Warn("line: Flex refused, replying in plain text", "err", err)
			msgs = plain
			err = h.client.Reply(ctx, j.token, msgs)
		}
		if err == nil {
			return nil
		}
		h.log.Warn("line: reply failed, pushing", "err", err, "event", j.id)
	}
	err := h.client.Push(ctx, j.chat, msgs, RetryKey("answer:"+j.id))
	if refusedContent(err) {
		h.log.Warn("line: Flex refused, pushing plain text", "err", err)
		err = h.client.Push(ctx, j.chat, plain, RetryKey("answer-text:"+j.id))
	}
	return err
}

// more says, in the reply's language, how many lines or sections a long
// reply left out.
func (h *Handler) more(lang locales.Lang) func(string, int) string {
	return func(id string, n int) string {
		return h.text.Printer(lang).T(id, map[string]any{"N": n})
	}
}
