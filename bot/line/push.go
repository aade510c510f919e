package line

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Push is a scheduled message for one LINE chat: a digest, an alert.
type Push struct {
	Chat  string // a user, group or room id
	Key   string // what it is, unique per chat and send, e.g. "digest:2026-11-28"; its retry key derives from it
	Reply bot.Reply
}

// Delivery is what Deliver did.
type Delivery struct {
	Sent     []string // the keys of the pushes sent
	Held     []string // the keys held back for lack of quota, to send when there is quota again
	Combined bool     // the pushes of each chat went together to save quota
	Need     int64    // the messages the pushes would have cost one by one
	Left     int64    // the messages left this month before sending; -1 without a limit
	Warned   bool     // the hq chat was told the quota is short
}

// Pusher sends scheduled pushes within the monthly message quota.
type Pusher struct {
	client *Client
	seen   Deduper
	text   *locales.Catalog
	now    func() time.Time
	log    *slog.Logger
	charts *chartImages
}

// NewPusher returns a Pusher; seen remembers the months whose quota
// warning went out.
func NewPusher(client *Client, seen Deduper, text *locales.Catalog, now func() time.Time, log *slog.Logger) *Pusher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pusher{client: client, seen: seen, text: text, now: now, log: log, charts: &chartImages{log: log}}
}

// WithCharts makes the pushes of replies with a chart carry its picture,
// linked by links; without, they go without it. It returns p, and is
// called before p is used.
func (p *Pusher) WithCharts(links *ChartLinks) *Pusher {
	p.charts = &chartImages{links: links, log: p.log}
	return p
}

// request is one push request: a chat, up to five messages, the keys of the
// pushes it carries and its retry key.
type request struct {
	chat     string
	msgs     []messaging_api.MessageInterface
	keys     []string
	retryKey string
}

// Deliver sends the pushes. A push costs one message per person in its
// chat, so Deliver first reads the month's quota: when sending them one by
// one would exceed what is left, it sends each chat's pushes together in as
// few requests as LINE allows (five messages each), tells the hq chat once
// a month, and holds back — hq first, then in the given order — the chats
// for which there is no quota left. Held pushes are returned, not dropped.
// hq is the hq channel's LINE chat; zero if it is not on LINE.
func (p *Pusher) Deliver(ctx context.Context, pushes []Push, hq kpi.ChatChannel) (Delivery, error) {
	var d Delivery
	if len(pushes) == 0 {
		return d, nil
	}
	q, err := p.client.Quota(ctx)
	if err != nil {
		return d, err
	}
	d.Left = q.Left()
	cost := map[string]int64{} // recipients of each chat
	for _, x := range pushes {
		if _, ok := cost[x.Chat]; ok {
			continue
		}
		n, err := p.client.Recipients(ctx, x.Chat)
		if err != nil {
			return d, err
		}
		cost[x.Chat] = n
	}
	for _, x := range pushes {
		d.Need += cost[x.Chat]
	}
	var reqs []request
	budget := int64(-1)
	if !q.Limited || d.Need <= d.Left {
		for _, x := range pushes {
			reqs = append(reqs, request{chat: x.Chat, msgs: p.messages(x.Reply), keys: []string{x.Key}, retryKey: RetryKey("push:" + x.Chat + ":" + x.Key)})
		}
	} else {
		d.Combined = true
		reqs = p.combine(pushes, hq.ID)
		budget = d.Left
		if hq.ID != "" {
			n, ok := cost[hq.ID]
			if !ok {
				if n, err = p.client.Recipients(ctx, hq.ID); err != nil {
					return d, err
				}
			}
			if n > budget {
				p.log.Error("line: the month's messages are spent; not even the quota warning can be pushed", "left", d.Left)
			} else if warned, err := p.warn(ctx, hq, d); err != nil {
				p.log.Error("line: quota warning", "err", err)
			} else if warned {
				d.Warned = true
				budget -= n
			}
		}
	}
	held := map[string]bool{} // a chat held back keeps its later pushes back too, in order
	for _, r := range reqs {
		if held[r.chat] || budget >= 0 && cost[r.chat] > budget {
			held[r.chat] = true
			d.Held = append(d.Held, r.keys...)
			continue
		}
		if err := p.client.Push(ctx, r.chat, r.msgs, r.retryKey); err != nil {
			return d, fmt.Errorf("line: push %v to %s: %w", r.keys, r.chat, err)
		}
		if budget >= 0 {
			budget -= cost[r.chat]
		}
		d.Sent = append(d.Sent, r.keys...)
	}
	if len(d.Held) > 0 {
		p.log.Warn("line: pushes held back for lack of quota", "held", len(d.Held), "left", d.Left, "need", d.Need)
	}
	return d, nil
}

// messages is a push's reply as LINE messages, in its own language, with
// its chart's picture after them.
func (p *Pusher) messages(r bot.Reply) []messaging_api.MessageInterface {
	return p.charts.add(r, Messages(r, func(id string, n int) string {
		return p.text.Printer(r.Lang).T(id, map[string]any{"N": n})
	}))
}

// combine puts each chat's pushes into as few requests as possible, the hq
// chat's first, then the chats in the order of their first push.
func (p *Pusher) combine(pushes []Push, hq string) []request {
	var order []string
	byChat := map[string][]Push{}
	for _, x := range pushes {
		if _, ok := byChat[x.Chat]; !ok {
			if x.Chat == hq {
				order = append([]string{x.Chat}, order...)
			} else {
				order = append(order, x.Chat)
			}
		}
		byChat[x.Chat] = append(byChat[x.Chat], x)
	}
	var reqs []request
	for _, chat := range order {
		var cur request
		flush := func() {
			if len(cur.msgs) > 0 {
				cur.retryKey = RetryKey("push:" + chat + ":" + fmt.Sprint(cur.keys))
				reqs = append(reqs, cur)
			}
			cur = request{chat: chat}
		}
		flush()
		for _, x := range byChat[chat] {
			msgs := p.messages(x.Reply)
			if len(cur.msgs)+len(msgs) > maxMessages {
				flush()
			}
			cur.msgs = append(cur.msgs, msgs...)
			cur.keys = append(cur.keys, x.Key)
		}
		flush()
	}
	return reqs
}

// warn tells the hq chat, once a month, that the quota will not carry the
// scheduled pushes; it reports whether it sent the warning now.
func (p *Pusher) warn(ctx context.Context, hq kpi.ChatChannel, d Delivery) (bool, error) {
	month := p.now().In(kpi.Tokyo).Format("2006-01")
	first, err := p.seen.FirstSeen(ctx, "line:quota-warning:"+month)
	if err != nil || !first {
		return false, err
	}
	lang, ok := locales.ParseLang(hq.Lang)
	if !ok {
		lang = locales.Chinese
	}
	args := map[string]any{"Left": strconv.FormatInt(d.Left, 10), "Need": strconv.FormatInt(d.Need, 10), "Month": month}
	var text string
	if lang == locales.Bilingual {
		text = p.text.Printer(locales.Chinese).T("line.quota_warning", args) + "\n\n" + p.text.Printer(locales.Japanese).T("line.quota_warning", args)
	} else {
		text = p.text.Printer(lang).T("line.quota_warning", args)
	}
	msgs := []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: clipUnits(text, maxTextUnits)}}
	if err := p.client.Push(ctx, hq.ID, msgs, RetryKey("quota-warning:"+month)); err != nil {
		return false, err
	}
	return true, nil
}
