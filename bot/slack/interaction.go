package slack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/locales"
)

// click is what kpibot reads of a block_actions payload. The message's
// blocks stay raw JSON, so that the message goes back to Slack as Slack
// sent it, whatever slack-go makes of its blocks.
type click struct {
	Type string `json:"type"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	User struct {
		ID     string `json:"id"`
		TeamID string `json:"team_id"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
	Message struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	} `json:"message"`
}

// clickAnswer is what goes to a click's response_url: the message updated in
// place, or a message for the clicker alone beside it.
type clickAnswer struct {
	ResponseType    string            `json:"response_type,omitempty"`
	ReplaceOriginal bool              `json:"replace_original"`
	Text            string            `json:"text"`
	Blocks          []json.RawMessage `json:"blocks"`
}

var errBadPayload = errors.New("slack: malformed interaction payload")

// interaction takes button clicks (block_actions) over HTTP: it answers 200
// at once, and the click's command runs in the background.
func (h *Handler) interaction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := h.Interaction([]byte(form.Get("payload"))); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Interaction takes one interaction payload, over HTTP or Socket Mode. A
// click on one of kpibot's buttons (action_id "kpi:<n>") runs the button's
// command, its value, as if the clicker had sent it in the message's
// channel; other interactions are ignored. It returns at once, within
// Slack's 3 seconds, and the command runs in the background (see Wait).
//
// When the command succeeds, the message clicked is updated in place
// through the payload's response_url, for everyone in the channel: its
// blocks as they were, without their buttons, and a context line with the
// bot's answer ("#12 acknowledged: …"). When it fails (or its answer is
// private), the answer goes to the clicker alone and the message is kept.
//
// Running the value as the clicker's own command gives a click no more
// rights than the clicker has: the same channel binding, the same admin
// check, as when they type it.
func (h *Handler) Interaction(payload []byte) error {
	var c click
	if err := json.Unmarshal(payload, &c); err != nil {
		return errBadPayload
	}
	if c.Type != string(slackapi.InteractionTypeBlockActions) {
		return nil
	}
	command, action := "", ""
	for _, a := range c.Actions {
		if !strings.HasPrefix(a.ActionID, actionPrefix) || command != "" {
			h.log.Debug("slack: button ignored", "action", a.ActionID, "user", c.User.ID)
			continue
		}
		command, action = strings.TrimSpace(a.Value), a.ActionID
	}
	if command == "" {
		return nil
	}
	channel := cmp.Or(c.Channel.ID, c.Container.ChannelID)
	h.log.Info("slack: button", "action", action, "user", c.User.ID, "channel", channel)
	req := bot.Request{Text: command, User: userKey(cmp.Or(c.Team.ID, c.User.TeamID), c.User.ID)}
	h.work.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		defer cancel()
		var reply bot.Reply
		if err := h.where(ctx, &req, channel, c.User.ID); err != nil {
			h.log.Error("slack: read channel binding", "err", err, "channel", channel)
			reply = bot.Reply{Err: err, Text: h.text.Printer(locales.Guess(req.Text)).T("error.unavailable", nil)}
		} else {
			reply = h.bot.Handle(ctx, req)
		}
		answer, err := h.clickAnswer(c, reply)
		switch {
		case err != nil:
			h.log.Error("slack: answer a button", "err", err, "action", action)
			return
		case answer == nil:
			h.log.Warn("slack: blank answer to a button", "action", action)
			return
		}
		if err := h.respond(c.ResponseURL, answer); err != nil {
			h.log.Error("slack: answer a button through response_url", "err", err, "action", action)
		}
	})
	return nil
}

// clickAnswer is the answer to a click: the message clicked, updated with
// the command's answer; or, if the command failed or its answer is private,
// the answer for the clicker alone. It is nil, with no error, when the
// answer is blank.
func (h *Handler) clickAnswer(c click, reply bot.Reply) (*clickAnswer, error) {
	if state := oneLine(reply.Summary()); reply.Err == nil && !reply.Private && state != "" {
		line, err := json.Marshal(slackapi.NewContextBlock("", mrkdwn(clip(state, sectionTextLimit))))
		if err != nil {
			return nil, err
		}
		return &clickAnswer{ReplaceOriginal: true, Text: cmp.Or(c.Message.Text, FallbackText(reply)),
			Blocks: withoutActions(c.Message.Blocks, line)}, nil
	}
	blocks, err := rawBlocks(Blocks(reply, h.more(reply.Lang)))
	if err != nil || len(blocks) == 0 {
		return nil, err
	}
	return &clickAnswer{ResponseType: "ephemeral", Text: FallbackText(reply), Blocks: blocks}, nil
}

// withoutActions is blocks without their actions blocks and the hint
// that goes with them, ending with last, within Slack's 50 blocks: what
// Amended makes of the reply, so that a click's answer and the edit the
// outbox makes of the same message agree.
func withoutActions(blocks []json.RawMessage, last json.RawMessage) []json.RawMessage {
	kept := make([]json.RawMessage, 0, len(blocks)+1)
	for _, b := range blocks {
		var t struct {
			Type    string `json:"type"`
			BlockID string `json:"block_id"`
		}
		if json.Unmarshal(b, &t) == nil && (t.Type == string(slackapi.MBTAction) || t.BlockID == hintBlockID) {
			continue
		}
		kept = append(kept, b)
	}
	kept = kept[:min(len(kept), blockLimit-1)]
	return append(kept, last)
}

// rawBlocks is blocks as JSON, one by one.
func rawBlocks(blocks []slackapi.Block) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(blocks))
	for _, b := range blocks {
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}
