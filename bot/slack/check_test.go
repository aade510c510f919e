package slack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kpibot/kpibot/bot/slack/slacktest"
)

// ManifestScopes, and the fake's, are the scopes the app manifest asks for.
func TestManifestScopes(t *testing.T) {
	data, err := os.ReadFile("../../docs/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(m.OAuth.Scopes.Bot))
	if got := slices.Sorted(slices.Values(ManifestScopes)); !slices.Equal(got, want) {
		t.Errorf("ManifestScopes %v, the manifest's %v", got, want)
	}
	if got := slices.Sorted(slices.Values(slacktest.Scopes)); !slices.Equal(got, want) {
		t.Errorf("slacktest.Scopes %v, the manifest's %v", got, want)
	}
}

func TestCheckToken(t *testing.T) {
	const bot, app = "xoxb-check-bot", "xapp-check-app"
	fake := slacktest.NewAuth(bot, app)
	mux := http.NewServeMux()
	fake.Register(mux, "/api/")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api := srv.URL + "/api/"
	ctx := context.Background()

	id, err := CheckToken(ctx, bot, api, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Team != slacktest.Team || id.UserID != slacktest.UserID || id.BotID != slacktest.BotID || len(id.MissingScopes()) != 0 {
		t.Errorf("identity %+v, missing %v", id, id.MissingScopes())
	}
	fake.SetScopes([]string{"commands", "chat:write"})
	if id, err = CheckToken(ctx, bot, api, nil); err != nil || !slices.Contains(id.MissingScopes(), "files:write") {
		t.Errorf("missing %v, err %v; want files:write among them", id.MissingScopes(), err)
	}
	fake.SetScopes(nil)
	if id, err = CheckToken(ctx, bot, api, nil); err != nil || id.Scopes != nil || id.MissingScopes() != nil {
		t.Errorf("without the header: scopes %v, missing %v, err %v", id.Scopes, id.MissingScopes(), err)
	}

	for _, tok := range []string{"xoxb-wrong", ""} {
		_, err := CheckToken(ctx, tok, api, nil)
		code, _, ok := ErrorCode(err)
		if !ok || !Refused(code) {
			t.Errorf("token %q: err %v, code %q", tok, err, code)
		}
	}

	if err := CheckAppToken(ctx, app, api, nil); err != nil {
		t.Errorf("app token: %v", err)
	}
	err = CheckAppToken(ctx, "xapp-wrong", api, nil)
	if code, _, _ := ErrorCode(err); code != "invalid_auth" {
		t.Errorf("a wrong app token: %v", err)
	}
	srv.Close()
	if _, err := CheckToken(ctx, bot, api, nil); err == nil {
		t.Error("no error from a Slack that is gone")
	} else if _, _, ok := ErrorCode(err); ok {
		t.Errorf("a network failure read as Slack's answer: %v", err)
	}
}
