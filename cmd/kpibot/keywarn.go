package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/alert"
	"github.com/kpibot/kpibot/connectors/rakuten"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// keyWarner is what warnExpiringKeys works with: the channels and the
// outbox (the store).
type keyWarner interface {
	kpi.ChannelLister
	kpi.Outbox
}

// warnExpiringKeys tells the hq channels, in their language, of each
// Rakuten shop whose license key expires within 14 days (or has expired):
// once per channel and expiry, through the outbox. A shop without the
// key's issue day in the config file is not watched.
func warnExpiringKeys(ctx context.Context, now time.Time, s configSettings, store keyWarner, text *locales.Catalog) error {
	var chans []kpi.ChatChannel // listed once, when a key needs a warning
	var errs []error
	for _, sh := range s.shops {
		if sh.rakuten == nil || sh.issued.IsZero() {
			continue
		}
		expires, warn := rakuten.KeyWarning(now, sh.issued)
		if !warn {
			continue
		}
		if chans == nil {
			var err error
			if chans, err = store.ChatChannelList(ctx); err != nil {
				return fmt.Errorf("key warning: %w", err)
			}
		}
		days := int(expires.Sub(now).Hours() / 24)
		env := cmp.Or(sh.rakuten.LicenseKeyEnv, "RAKUTEN_LICENSE_KEY")
		for _, ch := range chans {
			if ch.Role != kpi.RoleHQ {
				continue
			}
			key := fmt.Sprintf("rakuten-key:%s:%s:%s:%s", sh.shop.ID, kpi.DateOf(expires), ch.Platform, ch.ID)
			if done, err := store.Enqueued(ctx, key); err != nil || done {
				errs = append(errs, err)
				continue
			}
			reply := bot.Localize(text, alert.Lang(ch), func(p *locales.Printer) bot.Reply {
				data := map[string]any{"Shop": sh.shop.Name, "Date": kpi.DateOf(expires).String(), "Days": max(days, 0), "Env": env}
				title := "alert.key_expiring_title"
				if !expires.After(now) {
					title = "alert.key_expired_title"
				}
				return bot.Reply{Title: p.T(title, data), Verdict: kpi.VerdictBreach, Text: p.T("alert.key_expiring", data)}
			})
			data, err := bot.EncodeOutgoing(ch, reply)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := store.Enqueue(ctx, kpi.OutboxItem{Key: key, Platform: ch.Platform, Channel: ch.ID, Payload: data,
				NextTry: now, Created: now}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
