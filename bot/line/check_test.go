package line

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/kpibot/kpibot/bot/line/linetest"
)

func TestBotInfo(t *testing.T) {
	fake := linetest.NewServer(t)
	c, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.BotInfo(context.Background())
	if err != nil || info.BasicID != "@kpibot" || info.UserID == "" {
		t.Errorf("bot info %+v, %v", info, err)
	}
	wrong, err := NewClient(ClientConfig{Token: "not-the-token", BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.BotInfo(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("a wrong token: %v, want a 401", err)
	}
	if n := fake.Calls("getBotInfo"); n != 2 {
		t.Errorf("%d calls of getBotInfo, want 2 (a 401 is not retried)", n)
	}
}

func TestCheckPublicURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://kpibot.example.com":         true,
		"https://kpibot.example.com/kpibot":  true,
		"http://127.0.0.1:8080":              true,
		"http://kpibot.example.com":          false,
		"kpibot.example.com":                 false,
		"https://user:pw@kpibot.example.com": false,
		"":                                   false,
	} {
		if err := CheckPublicURL(raw); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}
