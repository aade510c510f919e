package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// Auth fakes the Web API methods that tell whether tokens are good, as
// Slack documents them (docs.slack.dev/reference/methods/auth.test and
// apps.connections.open): auth.test answers who a bot token is, with its
// scopes in the x-oauth-scopes header; apps.connections.open hands an
// app-level token a Socket Mode URL (nobody listens there). An unknown
// token is invalid_auth, none not_authed, as Slack answers.
type Auth struct {
	botToken, appToken string

	mu     sync.Mutex
	scopes []string // nil: no x-oauth-scopes header
	calls  map[string]int
}

// The workspace and bot user auth.test answers with.
const (
	Team   = "kpibot test"
	TeamID = "T0KPIBOT1"
	User   = "kpibot"
	UserID = "U0KPIBOT1"
	BotID  = "B0KPIBOT1"
)

// Scopes are the scopes of the app manifest: the bot token's unless a test
// sets others.
var Scopes = []string{"commands", "chat:write", "files:write", "app_mentions:read", "im:history", "im:read", "im:write", "users:read"}

// NewAuth returns a fake that accepts botToken in auth.test and appToken
// ("" none) in apps.connections.open; the bot token has Scopes.
func NewAuth(botToken, appToken string) *Auth {
	return &Auth{botToken: botToken, appToken: appToken, scopes: append([]string(nil), Scopes...), calls: map[string]int{}}
}

// SetScopes sets the bot token's scopes; nil sends no x-oauth-scopes
// header.
func (a *Auth) SetScopes(scopes []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scopes = scopes
}

// Calls returns how many calls of method came.
func (a *Auth) Calls(method string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[method]
}

// Register adds the endpoints to mux: api is the Web API's path ("/api/").
func (a *Auth) Register(mux *http.ServeMux, api string) {
	mux.HandleFunc("POST "+api+"auth.test", a.authTest)
	mux.HandleFunc("POST "+api+"apps.connections.open", a.connectionsOpen)
}

func (a *Auth) authTest(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.calls["auth.test"]++
	scopes := a.scopes
	a.mu.Unlock()
	if r.ParseForm() != nil {
		slackError(w, "invalid_form_data")
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	switch {
	case tok == "":
		slackError(w, "not_authed")
		return
	case tok != a.botToken:
		slackError(w, "invalid_auth")
		return
	}
	if scopes != nil {
		w.Header().Set("X-OAuth-Scopes", strings.Join(scopes, ","))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "https://kpibot-test.slack.com/", "team": Team, "user": User,
		"team_id": TeamID, "user_id": UserID, "bot_id": BotID, "is_enterprise_install": false})
}

func (a *Auth) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.calls["apps.connections.open"]++
	a.mu.Unlock()
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case tok == "":
		slackError(w, "not_authed")
	case a.appToken != "" && tok == a.appToken:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "wss://wss-primary.slack.com/link/?ticket=slacktest-fake"})
	case tok == a.botToken:
		slackError(w, "not_allowed_token_type") // a bot token where an app-level one is needed
	default:
		slackError(w, "invalid_auth")
	}
}
