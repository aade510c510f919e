package bot

import (
	"encoding/json"
	"fmt"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// outgoing is an outbox item's Payload: the channel's binding and the
// reply, as JSON. The reply is marshalled whole, so that a field added to
// Reply travels without a change here; its Err is dropped (an error
// interface does not round-trip, and what a message says is in its text).
type outgoing struct {
	Channel kpi.ChatChannel
	Reply   Reply
}

// EncodeOutgoing is the outbox Payload of a message to channel ch: what
// the scheduler's Flush delivers, whoever enqueued it (digests, reviews,
// alerts).
func EncodeOutgoing(ch kpi.ChatChannel, r Reply) ([]byte, error) {
	r.Err = nil
	data, err := json.Marshal(outgoing{Channel: ch, Reply: r})
	if err != nil {
		return nil, fmt.Errorf("bot: encode outgoing message: %w", err)
	}
	return data, nil
}

// DecodeOutgoing reads a Payload that EncodeOutgoing made.
func DecodeOutgoing(data []byte) (kpi.ChatChannel, Reply, error) {
	var o outgoing
	if err := json.Unmarshal(data, &o); err != nil {
		return kpi.ChatChannel{}, Reply{}, fmt.Errorf("bot: decode outgoing message: %w", err)
	}
	return o.Channel, o.Reply, nil
}

// Localize renders a reply in lang with text, as the bot does its own:
// Bilingual puts the Chinese and the Japanese reply together. It is for
// the messages written outside Handle (alerts).
func Localize(text *locales.Catalog, lang locales.Lang, render func(*locales.Printer) Reply) Reply {
	var rep Reply
	if lang == locales.Bilingual {
		rep = merge(render(text.Printer(locales.Chinese)), render(text.Printer(locales.Japanese)))
	} else {
		p := text.Printer(lang)
		rep = render(p)
		lang = p.Lang
	}
	rep.Lang = lang
	return rep
}

// FormatValue shows v in unit u as the bot's replies do: ¥12,345, 97.3%,
// 18.2 h.
func FormatValue(p *locales.Printer, u kpi.Unit, v float64) string { return formatValue(p, u, v) }

// FormatTarget shows a metric's target as the bot's replies do: ≥ 98.0%.
func FormatTarget(p *locales.Printer, m *kpi.Metric) string { return formatTarget(p, m) }

// FormatLevel shows another level of metric m the way its target is shown
// (a rule's own target, or its clear level): "≤ 3.0%", "≤ 2 a day".
func FormatLevel(p *locales.Printer, m *kpi.Metric, level float64) string {
	return formatLevel(p, m, level)
}
