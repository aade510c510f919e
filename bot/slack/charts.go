package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	slackapi "github.com/slack-go/slack"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
)

// ChartDrawer draws the chart of a reply as a PNG; *bot.Bot is one.
type ChartDrawer interface {
	DrawChart(ctx context.Context, w io.Writer, c bot.ChartRequest, s chart.Size) error
}

// chartFile is the name of a chart's file in Slack.
const chartFile = "kpi-chart.png"

// ChartImage draws the chart of r with d at chart.Large: the picture to
// Upload with r, titled as r is.
func ChartImage(ctx context.Context, d ChartDrawer, r bot.Reply) (Image, error) {
	if r.Chart == nil {
		return Image{}, fmt.Errorf("slack: the reply has no chart")
	}
	var buf bytes.Buffer
	if err := d.DrawChart(ctx, &buf, *r.Chart, chart.Large); err != nil {
		return Image{}, err
	}
	return Image{Name: chartFile, Title: r.Title, Data: buf.Bytes()}, nil
}

// PostReply posts r to channel, in thread if it is set, laid out by Blocks
// (more says how many lines a long reply left out): with its chart in the
// same message when it has one and charts is not nil (Upload), else
// without (Post). A chart that cannot be drawn, or that Slack refuses, is
// logged to log, if not nil, and the reply goes without it. It returns the
// message's ts when Slack gave it: a message shared with a file comes back
// without one.
func (p *Poster) PostReply(ctx context.Context, channel, thread string, r bot.Reply, more func(int) string, charts ChartDrawer, log *slog.Logger) (string, error) {
	blocks, text := Blocks(r, more), FallbackText(r)
	if r.Chart == nil || charts == nil {
		return p.Post(ctx, channel, thread, "", blocks, text)
	}
	img, err := ChartImage(ctx, charts, r)
	if err != nil {
		if log != nil {
			log.Error("slack: draw a chart; the reply goes without it", "err", err, "channel", channel)
		}
		return p.Post(ctx, channel, thread, "", blocks, text)
	}
	err = p.Upload(ctx, channel, thread, blocks, text, img)
	var refused slackapi.SlackErrorResponse
	if errors.As(err, &refused) {
		// Slack refused the file (missing_scope: an app installed without
		// files:write; file_uploads_disabled), so nothing was shared: the
		// reply still goes, without it.
		if log != nil {
			log.Error("slack: upload a chart; the reply goes without it", "err", err, "channel", channel)
		}
		return p.Post(ctx, channel, thread, "", blocks, text)
	}
	return "", err
}
