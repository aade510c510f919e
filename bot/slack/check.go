package slack

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	slackapi "github.com/slack-go/slack"
)

// ManifestScopes are the bot token scopes the app manifest
// (docs/slack-app-manifest.yaml) asks for: what kpibot uses.
var ManifestScopes = []string{"commands", "chat:write", "files:write", "app_mentions:read", "im:history", "im:read", "im:write", "users:read"}

// Identity is what Slack's auth.test says of a token.
type Identity struct {
	URL, Team, TeamID string
	User, UserID      string // the bot user
	BotID             string // "": not a bot token
	// Scopes are the token's scopes, as the x-oauth-scopes header lists
	// them; nil when Slack did not say.
	Scopes []string
}

// MissingScopes returns the scopes of ManifestScopes the token lacks; nil
// when Slack did not list the token's scopes.
func (id Identity) MissingScopes() []string {
	if id.Scopes == nil {
		return nil
	}
	var out []string
	for _, s := range ManifestScopes {
		if !slices.Contains(id.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// options are the Web API client's options: apiURL (SLACK_API_URL, ending
// with a slash) and hc, when set.
func options(apiURL string, hc *http.Client) []slackapi.Option {
	var opts []slackapi.Option
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	if hc != nil {
		opts = append(opts, slackapi.OptionHTTPClient(hc))
	}
	return opts
}

// CheckToken asks Slack who token is (auth.test): the workspace, the bot
// user and the token's scopes. apiURL overrides Slack's Web API base URL
// (it must end with a slash); hc is the HTTP client (nil: slack-go's).
// Slack's refusal is an error ErrorCode reads.
func CheckToken(ctx context.Context, token, apiURL string, hc *http.Client) (Identity, error) {
	res, err := slackapi.New(token, options(apiURL, hc)...).AuthTestContext(ctx)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{URL: res.URL, Team: res.Team, TeamID: res.TeamID, User: res.User, UserID: res.UserID, BotID: res.BotID}
	if res.Header != nil {
		if h, ok := res.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
			id.Scopes = []string{}
			for _, s := range strings.Split(strings.Join(h, ","), ",") {
				if s = strings.TrimSpace(s); s != "" {
					id.Scopes = append(id.Scopes, s)
				}
			}
		}
	}
	return id, nil
}

// CheckAppToken asks Slack for a Socket Mode connection with the app-level
// token (apps.connections.open), as RunSocketMode does first, without
// connecting to it. Slack's refusal is an error ErrorCode reads.
func CheckAppToken(ctx context.Context, appToken, apiURL string, hc *http.Client) error {
	opts := append(options(apiURL, hc), slackapi.OptionAppLevelToken(appToken))
	_, _, err := slackapi.New("", opts...).StartSocketModeContext(ctx)
	return err
}

// ErrorCode returns Slack's error code of err (invalid_auth, not_authed,
// missing_scope …) and, for missing_scope, the scope needed; ok is false
// when err is not Slack's answer (a network failure, an HTTP status).
func ErrorCode(err error) (code, needed string, ok bool) {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err, se.Needed, true
	}
	return "", "", false
}

// Refused reports whether Slack's error code says the token itself is no
// good: unknown, revoked, expired, or of a deactivated account or app.
func Refused(code string) bool {
	switch code {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type":
		return true
	}
	return false
}
