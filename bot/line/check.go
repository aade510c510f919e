package line

import (
	"context"
	"net/http"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// BotInfo is the bot's account as LINE knows it.
type BotInfo struct {
	UserID      string
	BasicID     string // @…, the account's id people add as a friend
	DisplayName string
	ChatMode    string // bot, or chat when the Official Account Manager's chat is on
}

// BotInfo asks LINE who the channel access token belongs to
// (GET /v2/bot/info): the cheapest call that proves the token. A refused
// token is an *APIError with Status 401.
func (c *Client) BotInfo(ctx context.Context) (BotInfo, error) {
	var info BotInfo
	err := c.do(ctx, "bot info", func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, body, err := api.GetBotInfoWithHttpInfo()
		if err == nil && body != nil {
			info = BotInfo{UserID: body.UserId, BasicID: body.BasicId, DisplayName: body.DisplayName, ChatMode: string(body.ChatMode)}
		}
		return res, err
	})
	return info, err
}

// CheckPublicURL checks KPIBOT_PUBLIC_URL as NewChartLinks does: an
// absolute https URL (http only on a loopback host), without a user,
// query or fragment.
func CheckPublicURL(raw string) error {
	_, err := publicBase(raw)
	return err
}
