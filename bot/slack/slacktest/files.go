// Package slacktest fakes the parts of Slack's Web API that kpibot's tests
// need and slack-go's own slacktest lacks: the file uploads
// (files.getUploadURLExternal, the upload URL it hands out, and
// files.completeUploadExternal), messages that can be edited
// (chat.postMessage, chat.update) and the token checks (auth.test,
// apps.connections.open), as Slack documents them. It checks what Slack
// checks, answers as Slack does, and keeps what it was sent.
package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"
)

// Slack's limits.
const (
	maxAltText = 1000 // alt_txt_too_large
	maxBlocks  = 50
)

// Upload is a file shared by files.completeUploadExternal: one message.
type Upload struct {
	FileID   string
	Filename string // as given to files.getUploadURLExternal
	Title    string // as given to files.completeUploadExternal
	AltText  string
	Channel  string // channel_id
	ThreadTS string
	Blocks   json.RawMessage // the message's blocks; nil: none
	Data     []byte          // the file's bytes
}

// Files is the fake's state. Register its endpoints on a loopback server's
// mux; the upload URLs it hands out are on the same server, as slack-go
// sends the bot token only there or to Slack itself.
type Files struct {
	t     testing.TB
	token string

	mu      sync.Mutex
	next    int
	pending map[string]*pending // by file id: got an upload URL, not shared yet
	shared  []Upload
	calls   map[string]int // by method, and "upload" for the upload URL
	limited map[string]int // by method: answer this many next calls with 429
	broken  map[string]int // by method: answer this many next calls with 500
	noScope bool           // the token lacks files:write
}

type pending struct {
	filename, altText string
	length            int
	data              []byte
	uploaded          bool
}

// NewFiles returns a fake that accepts token, and fails t when kpibot
// does what Slack would take but is surely a mistake (sharing no file to
// no channel).
func NewFiles(t testing.TB, token string) *Files {
	return &Files{t: t, token: token, pending: map[string]*pending{}, calls: map[string]int{},
		limited: map[string]int{}, broken: map[string]int{}}
}

// Register adds the endpoints to mux: api is the Web API's path ("/api/").
func (f *Files) Register(mux *http.ServeMux, api string) {
	mux.HandleFunc("POST "+api+"files.getUploadURLExternal", f.getUploadURL)
	mux.HandleFunc("POST /upload/{id}", f.upload)
	mux.HandleFunc("POST "+api+"files.completeUploadExternal", f.complete)
}

// RateLimit answers the next n calls of method (files.getUploadURLExternal,
// upload or files.completeUploadExternal) with 429 and Retry-After: 1.
func (f *Files) RateLimit(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limited[method] += n
}

// Break answers the next n calls of method with 500, an outage.
func (f *Files) Break(method string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken[method] += n
}

// WithoutScope makes the token lack files:write, as for an app installed
// before it asked for it: both methods answer missing_scope.
func (f *Files) WithoutScope() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noScope = true
}

// Uploads returns the files shared so far, one a message.
func (f *Files) Uploads() []Upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Upload(nil), f.shared...)
}

// Calls returns how many calls of method came, answered or not.
func (f *Files) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// answered counts a call of method and answers it with a 429 or a 500 if
// one is due; it reports whether it did. f.mu is held.
func (f *Files) answered(w http.ResponseWriter, method string) bool {
	f.calls[method]++
	if f.limited[method] > 0 {
		f.limited[method]--
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	if f.broken[method] > 0 {
		f.broken[method]--
		http.Error(w, "<html>Internal Server Error</html>", http.StatusInternalServerError)
		return true
	}
	return false
}

// authed reports whether r bears the token, as a form field or a bearer
// header, as Slack takes it; else it answers as Slack does.
func (f *Files) authed(w http.ResponseWriter, r *http.Request) bool {
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	switch {
	case tok == f.token && f.noScope:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":false,"error":"missing_scope","needed":"files:write","provided":"chat:write,commands"}`)
	case tok == f.token:
		return true
	case tok == "":
		slackError(w, "not_authed")
	default:
		slackError(w, "invalid_auth")
	}
	return false
}

func slackError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
}

func (f *Files) getUploadURL(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answered(w, "files.getUploadURLExternal") {
		return
	}
	if r.ParseForm() != nil {
		slackError(w, "invalid_form_data")
		return
	}
	if !f.authed(w, r) {
		return
	}
	filename, alt := r.PostForm.Get("filename"), r.PostForm.Get("alt_txt")
	length, err := strconv.Atoi(r.PostForm.Get("length"))
	switch {
	case filename == "" || r.PostForm.Get("length") == "" || err != nil || length < 0:
		slackError(w, "invalid_arguments")
		return
	case length == 0:
		slackError(w, "missing_argument") // "typically only occurs when the length provided is 0"
		return
	case len(utf16.Encode([]rune(alt))) > maxAltText:
		slackError(w, "alt_txt_too_large")
		return
	}
	f.next++
	id := fmt.Sprintf("F%09d", f.next)
	f.pending[id] = &pending{filename: filename, altText: alt, length: length}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "upload_url": "http://" + r.Host + "/upload/" + id, "file_id": id})
}

// upload takes a file's bytes, raw or as a multipart form's file, as
// Slack's upload URLs do, and answers 200 "OK - <length>".
func (f *Files) upload(w http.ResponseWriter, r *http.Request) {
	data, err := fileBytes(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answered(w, "upload") {
		return
	}
	p := f.pending[r.PathValue("id")]
	switch {
	case p == nil || p.uploaded:
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case len(data) != p.length:
		// Slack says only that a non-200 answer is a failure.
		http.Error(w, fmt.Sprintf("got %d bytes, %d announced", len(data), p.length), http.StatusBadRequest)
		return
	}
	p.data, p.uploaded = data, true
	fmt.Fprintf(w, "OK - %d", len(data))
}

func fileBytes(r *http.Request) ([]byte, error) {
	media, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if media != "multipart/form-data" {
		return io.ReadAll(r.Body)
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("no file in the form: %v", err)
		}
		if part.FileName() != "" {
			var buf bytes.Buffer
			_, err := io.Copy(&buf, part)
			return buf.Bytes(), err
		}
	}
}

func (f *Files) complete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.answered(w, "files.completeUploadExternal") {
		return
	}
	if r.ParseForm() != nil {
		slackError(w, "invalid_form_data")
		return
	}
	if !f.authed(w, r) {
		return
	}
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.PostForm.Get("files")), &files); err != nil || len(files) == 0 {
		slackError(w, "invalid_arguments")
		return
	}
	for _, file := range files {
		if p := f.pending[file.ID]; p == nil || !p.uploaded {
			slackError(w, "file_not_found") // unknown, shared already, or its bytes never came
			return
		}
	}
	var blocks json.RawMessage
	if b := r.PostForm.Get("blocks"); b != "" && r.PostForm.Get("initial_comment") == "" { // Slack ignores blocks with an initial_comment
		var set []json.RawMessage
		if err := json.Unmarshal([]byte(b), &set); err != nil || len(set) > maxBlocks {
			slackError(w, "invalid_blocks")
			return
		}
		blocks = json.RawMessage(b)
	}
	channel := r.PostForm.Get("channel_id")
	if channel == "" && r.PostForm.Get("channels") == "" {
		// Slack takes it, and keeps the file private: shown to nobody.
		f.t.Errorf("slacktest: files.completeUploadExternal without a channel: the file would stay private")
	}
	if r.PostForm.Get("thread_ts") != "" && strings.Contains(r.PostForm.Get("channels"), ",") {
		f.t.Errorf("slacktest: files.completeUploadExternal with thread_ts to more than one channel")
	}
	var out []map[string]string
	for _, file := range files {
		p := f.pending[file.ID]
		delete(f.pending, file.ID)
		f.shared = append(f.shared, Upload{FileID: file.ID, Filename: p.filename, Title: file.Title, AltText: p.altText,
			Channel: channel, ThreadTS: r.PostForm.Get("thread_ts"), Blocks: blocks, Data: p.data})
		out = append(out, map[string]string{"id": file.ID, "title": file.Title})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "files": out})
}
