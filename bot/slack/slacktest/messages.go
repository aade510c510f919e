package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Message is a message as the fake keeps it: as chat.postMessage posted
// it, with the changes chat.update made since.
type Message struct {
	Channel  string
	TS       string // the fake's own, one per message
	ThreadTS string // the thread it was posted in; "": none
	Text     string
	Blocks   json.RawMessage // nil: none
	Edits    int             // how many times chat.update changed it
}

// Messages fakes chat.postMessage and chat.update as Slack documents them
// (docs.slack.dev/reference/methods/chat.postMessage and chat.update):
// each message posted gets a ts of its own, and an update replaces the
// text and blocks of a message posted before, or answers
// message_not_found. Register its endpoints beside Files'.
type Messages struct {
	files *Files // for the token check and the 429s and 500s

	mu      sync.Mutex
	posted  []*Message
	updates []Message // each chat.update taken, as asked
	refuse  map[string]string
}

// NewMessages returns a fake that accepts token.
func NewMessages(t testing.TB, token string) *Messages {
	return &Messages{files: NewFiles(t, token), refuse: map[string]string{}}
}

// Register adds the endpoints to mux: api is the Web API's path ("/api/").
func (m *Messages) Register(mux *http.ServeMux, api string) {
	mux.HandleFunc("POST "+api+"chat.postMessage", m.post)
	mux.HandleFunc("POST "+api+"chat.update", m.update)
}

// RateLimit answers the next n calls of method (chat.postMessage or
// chat.update) with 429 and Retry-After: 1.
func (m *Messages) RateLimit(method string, n int) { m.files.RateLimit(method, n) }

// Break answers the next n calls of method with 500, an outage.
func (m *Messages) Break(method string, n int) { m.files.Break(method, n) }

// Refuse makes every chat.update of the message ts answer Slack's error
// code, such as cant_update_message or edit_window_closed.
func (m *Messages) Refuse(ts, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refuse[ts] = code
}

// Posted returns the messages posted so far, in order, as they are now.
func (m *Messages) Posted() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Message, len(m.posted))
	for i, p := range m.posted {
		out[i] = *p
	}
	return out
}

// Updates returns the chat.update calls taken, in order, as asked.
func (m *Messages) Updates() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.updates...)
}

// Calls returns how many calls of method came, answered or not.
func (m *Messages) Calls(method string) int { return m.files.Calls(method) }

// form reads a call of method: it counts it, answers a 429 or 500 if one
// is due, and checks the form and the token; ok is false when it answered.
func (m *Messages) form(w http.ResponseWriter, r *http.Request, method string) (ok bool) {
	m.files.mu.Lock()
	defer m.files.mu.Unlock()
	if m.files.answered(w, method) {
		return false
	}
	if r.ParseForm() != nil {
		slackError(w, "invalid_form_data")
		return false
	}
	return m.files.authed(w, r)
}

// message reads the text and blocks of a post or an update; ok is false
// when it answered with Slack's error.
func message(w http.ResponseWriter, r *http.Request) (text string, blocks json.RawMessage, ok bool) {
	text = r.PostForm.Get("text")
	if b := r.PostForm.Get("blocks"); b != "" {
		var list []json.RawMessage
		if json.Unmarshal([]byte(b), &list) != nil {
			slackError(w, "invalid_blocks_format")
			return "", nil, false
		}
		if len(list) > maxBlocks {
			slackError(w, "invalid_blocks")
			return "", nil, false
		}
		blocks = json.RawMessage(b)
	}
	if text == "" && blocks == nil {
		slackError(w, "no_text")
		return "", nil, false
	}
	return text, blocks, true
}

func (m *Messages) post(w http.ResponseWriter, r *http.Request) {
	if !m.form(w, r, "chat.postMessage") {
		return
	}
	channel := r.PostForm.Get("channel")
	if channel == "" {
		slackError(w, "channel_not_found")
		return
	}
	text, blocks, ok := message(w, r)
	if !ok {
		return
	}
	m.mu.Lock()
	msg := &Message{Channel: channel, TS: fmt.Sprintf("1700000000.%06d", len(m.posted)+1),
		ThreadTS: r.PostForm.Get("thread_ts"), Text: text, Blocks: blocks}
	m.posted = append(m.posted, msg)
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": msg.TS})
}

func (m *Messages) update(w http.ResponseWriter, r *http.Request) {
	if !m.form(w, r, "chat.update") {
		return
	}
	channel, ts := r.PostForm.Get("channel"), r.PostForm.Get("ts")
	text, blocks, ok := message(w, r)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if code := m.refuse[ts]; code != "" {
		slackError(w, code)
		return
	}
	for _, p := range m.posted {
		if p.Channel == channel && p.TS == ts {
			p.Text, p.Blocks = text, blocks
			p.Edits++
			m.updates = append(m.updates, Message{Channel: channel, TS: ts, Text: text, Blocks: blocks})
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": ts, "text": text})
			return
		}
	}
	slackError(w, "message_not_found")
}
