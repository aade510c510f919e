package slack

import (
	"context"
	"errors"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
)

// ErrNotEditable is Amend's error when Slack will not edit the message:
// it was deleted, is not the bot's, or is too old to edit.
var ErrNotEditable = errors.New("slack: the message cannot be edited")

// Amend edits message ts of channel, which showed r, to show note (what
// became of what it reported, such as an alert acknowledged from LINE)
// in place of its buttons. Editing again is harmless, so a retry after an
// outage does no harm. It keeps the channel's pace and retries as Post
// does.
func (p *Poster) Amend(ctx context.Context, channel, ts string, r bot.Reply, more func(int) string, note string) error {
	err := p.Update(ctx, channel, ts, Amended(r, more, note), FallbackText(r))
	var refused slackapi.SlackErrorResponse
	if errors.As(err, &refused) {
		switch refused.Err {
		case "message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found", "is_archived":
			return errors.Join(ErrNotEditable, err)
		}
	}
	return err
}

// Amended lays out r, a message posted before, as it reads once note is
// known: as Blocks does, without its buttons and their hint, ending with
// note.
func Amended(r bot.Reply, more func(int) string, note string) []slackapi.Block {
	r.Buttons, r.Hint = nil, ""
	out := Blocks(r, more)
	out = out[:min(len(out), blockLimit-1)]
	return append(out, slackapi.NewContextBlock("", mrkdwn(clip(oneLine(note), sectionTextLimit))))
}
