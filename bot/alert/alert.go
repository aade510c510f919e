// Package alert watches the KPIs against their rules and turns breaches
// into alert episodes that reach the right channels once, in their
// language, at the right hour.
//
// Evaluate computes each rule's KPI for every shop and keeps a streak per
// rule and shop: an episode opens after Consecutive breaches, is updated
// while it lasts (a message only when it gets materially worse, or once a
// day), and resolves once the KPI is back within the rule's clear level
// for Consecutive evaluations. Every message goes through the persistent
// outbox under a key that names the alert, the event and the channel, so
// that it is delivered once per channel whatever is retried. Escalate
// re-sends the critical alerts nobody acknowledged; Ack, Snooze and
// Resolve change an alert from chat and tell every channel that got it.
package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Computer computes a metric; *kpi.Engine is one.
type Computer interface {
	Compute(ctx context.Context, q kpi.Query) (*kpi.Result, error)
}

// ShopLister lists the shops.
type ShopLister interface {
	Shops(ctx context.Context) ([]kpi.Shop, error)
}

// Calendar tells the business days; *calendar.Calendar is one (weekdays
// that are neither national holidays nor logistics pauses).
type Calendar interface {
	BusinessDay(d kpi.Date) bool
}

// Config is what a Manager works with.
type Config struct {
	Engine   Computer
	Store    kpi.AlertStore
	Source   kpi.AlertSource
	Shops    ShopLister
	Channels kpi.ChannelLister
	Outbox   kpi.Outbox
	Calendar Calendar // nil: Monday to Friday
	Text     *locales.Catalog
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: no logs
	Rules    []Rule           // nil: DefaultRules()
	// Overrides change the rules, from the config file; the store's
	// overrides, made from chat, go on top of them.
	Overrides []kpi.RuleOverride
	// Routes send the alerts of some metrics or shops elsewhere than the
	// default routing (Routes): the first that matches an alert decides.
	Routes []Route
	// ResendAfter is how long a critical alert may stay unacknowledged
	// before it is sent again; 0: 30 minutes.
	ResendAfter time.Duration
	// Managers are who a critical alert is escalated to when it is still
	// unacknowledged EscalateAfter after it opened: mentioned in the Slack
	// channels that got it, pushed to in LINE. EscalateAfter 0: 1 hour.
	Managers      []Contact
	EscalateAfter time.Duration
	// SyncEvery is how often the shops' data is pulled: a shop whose last
	// write is older than three of them raises a Freshness alert. 0: no
	// freshness alerts.
	SyncEvery time.Duration
	// Hours are the business hours (JST) in which warnings go out, on
	// business days; zero: 09:00–18:00.
	Open, Close time.Duration
}

// Manager evaluates the rules and keeps the alert episodes. Its methods
// run one at a time.
type Manager struct {
	c    Config
	base ruleBook // the default rules with the config file's overrides
	now  func() time.Time
	log  *slog.Logger

	mu     sync.Mutex
	rules  ruleBook // base with the store's overrides, as refresh last read them
	queued func()   // WhenQueued's; nil: none
}

// WhenQueued makes the Manager call f after an acknowledgement, a snooze
// or a resolve from chat has put its notices, if any, in the outbox, so
// that they go out now rather than at the outbox's next flush (serve gives the
// scheduler's FlushSoon). f must not call the Manager.
func (m *Manager) WhenQueued(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued = f
}

// The chat commands (/kpi alerts, ack, snooze, resolve) work with a Manager.
var _ bot.AlertDesk = (*Manager)(nil)

// Report says what an evaluation did.
type Report struct {
	Opened   []kpi.Alert // new episodes, announced
	Updated  []kpi.Alert // episodes whose update message went out
	Resolved []kpi.Alert // episodes over, their resolve notice sent
}

// New checks c, fills in its defaults and returns a Manager.
func New(c Config) (*Manager, error) {
	if c.Engine == nil || c.Store == nil || c.Source == nil || c.Shops == nil || c.Channels == nil || c.Outbox == nil || c.Text == nil {
		return nil, errors.New("alert: an engine, an alert store and source, shops, channels, an outbox and the texts are required")
	}
	if c.Rules == nil {
		c.Rules = DefaultRules()
	}
	defaults, err := newRuleBook(c.Rules)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	base, err := defaults.withOverrides(c.Overrides, nil)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	for i, r := range c.Routes {
		if err := r.Check(); err != nil {
			return nil, fmt.Errorf("alert: route %d: %w", i+1, err)
		}
	}
	for i, p := range c.Managers {
		if err := p.Check(); err != nil {
			return nil, fmt.Errorf("alert: manager %d (%s): %w", i+1, p.Name, err)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.ResendAfter = cmp.Or(c.ResendAfter, 30*time.Minute)
	c.EscalateAfter = cmp.Or(c.EscalateAfter, time.Hour)
	if c.Open == 0 && c.Close == 0 {
		c.Open, c.Close = kpi.DefaultHours.Open, kpi.DefaultHours.Close
	}
	if c.ResendAfter < 0 || c.EscalateAfter < 0 || c.SyncEvery < 0 || c.Open < 0 || c.Close <= c.Open || c.Close > 24*time.Hour {
		return nil, fmt.Errorf("alert: ResendAfter %v, SyncEvery %v, hours %v–%v: want positive durations and hours within a day",
			c.ResendAfter, c.SyncEvery, c.Open, c.Close)
	}
	return &Manager{c: c, base: base, rules: base, now: c.Now, log: c.Log.With("component", "alert")}, nil
}

// refresh reads the rule changes made from chat and puts them on top of
// the base rules. The caller holds m.mu.
func (m *Manager) refresh(ctx context.Context) error {
	chat, err := m.c.Store.RuleOverrides(ctx)
	if err != nil {
		return fmt.Errorf("alert: rules: %w", err)
	}
	book, err := m.base.withOverrides(nil, chat)
	if err != nil {
		return fmt.Errorf("alert: rules: %w", err)
	}
	m.rules = book
	return nil
}

// outcome is how one evaluation of a rule for a shop came out.
type outcome int

const (
	unknown outcome = iota // no data, or too small a sample: neither breach nor clear
	breach                 // beyond the target
	between                // within the target, not yet within the clear level
	clear                  // within the clear level
)

// reading is one evaluation of a rule for a shop.
type reading struct {
	rule    Rule
	shop    string
	outcome outcome
	level   float64 // the value judged: the busiest day's for PerDay metrics, hours since the last write for Freshness
	target  float64
	sample  int64
}

// Evaluate computes every rule's KPI for every shop, opens, updates and
// resolves the episodes, and puts their messages in the outbox: the
// episodes opened for one shop go to each channel as one message. A rule
// whose KPI cannot be computed does not keep the others from theirs: the
// error says which failed. An active episode whose rule is gone or
// disabled, or whose shop is gone, is resolved.
func (m *Manager) Evaluate(ctx context.Context) (Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var rep Report
	if err := m.refresh(ctx); err != nil {
		return rep, err
	}
	shops, err := m.c.Shops.Shops(ctx)
	if err != nil {
		return rep, fmt.Errorf("alert: evaluate: %w", err)
	}
	readings, errs := m.read(ctx, shops, now)
	for _, r := range readings {
		key := Key(r.rule.Metric, r.shop)
		if err := m.apply(ctx, r, now, &rep); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	active, err := m.c.Store.ActiveAlerts(ctx)
	if err != nil {
		return rep, fmt.Errorf("alert: evaluate: %w", errors.Join(append(errs, err)...))
	}
	known := map[string]bool{}
	for _, s := range shops {
		known[s.ID] = true
	}
	for _, a := range active {
		if r, ok := m.rules.rule(a.Metric, a.Shop); ok && known[a.Shop] && (a.Metric != Freshness || r.freshLimit(m.c.SyncEvery) > 0) {
			continue
		}
		if err := m.resolve(ctx, &a, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Key, err))
			continue
		}
		m.log.Info("alert: resolved: its rule or shop is gone", "id", a.ID, "key", a.Key)
		rep.Resolved = append(rep.Resolved, a)
	}
	opened, err := m.announce(ctx, shops, now)
	if err != nil {
		errs = append(errs, err)
	}
	rep.Opened = opened
	if len(errs) > 0 {
		return rep, fmt.Errorf("alert: evaluate: %w", errors.Join(errs...))
	}
	return rep, nil
}

// Tick evaluates the rules and escalates what nobody acknowledged: what a
// scheduler runs after every sync and every few minutes. It logs what it
// did.
func (m *Manager) Tick(ctx context.Context) error {
	rep, err := m.Evaluate(ctx)
	if n := len(rep.Opened) + len(rep.Updated) + len(rep.Resolved); n > 0 {
		m.log.Info("alert: evaluated", "opened", len(rep.Opened), "updated", len(rep.Updated), "resolved", len(rep.Resolved))
	}
	resent, eerr := m.Escalate(ctx)
	if len(resent) > 0 {
		m.log.Info("alert: re-sent unacknowledged", "alerts", len(resent))
	}
	return errors.Join(err, eerr)
}

// read evaluates every enabled rule for every shop: each metric is
// computed once per window its rules ask for, for every shop at once.
func (m *Manager) read(ctx context.Context, shops []kpi.Shop, now time.Time) ([]reading, []error) {
	var out []reading
	var errs []error
	for _, id := range m.rules.metrics {
		if id == Freshness {
			rs, err := m.readFreshness(ctx, shops, now)
			out = append(out, rs...)
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		met, _ := kpi.Lookup(id) // the rules were checked
		type shopRule struct {
			shop string
			rule Rule
		}
		byWindow := map[kpi.Period][]shopRule{}
		var windows []kpi.Period
		for _, s := range shops {
			r, ok := m.rules.rule(id, s.ID)
			if !ok {
				continue
			}
			w := r.window(now)
			if _, seen := byWindow[w]; !seen {
				windows = append(windows, w)
			}
			byWindow[w] = append(byWindow[w], shopRule{s.ID, r})
		}
		for _, w := range windows {
			res, err := m.c.Engine.Compute(ctx, kpi.Query{Metric: id, Period: w})
			if err != nil {
				errs = append(errs, fmt.Errorf("compute %s: %w", id, err))
				continue
			}
			lines := make(map[string]kpi.ShopResult, len(res.Breakdown))
			for _, l := range res.Breakdown {
				lines[l.Shop.ID] = l
			}
			for _, sr := range byWindow[w] {
				if l, ok := lines[sr.shop]; ok {
					out = append(out, judge(sr.rule, met, sr.shop, l.Value))
				}
			}
		}
	}
	return out, errs
}

// judge tells how a shop's value stands against a rule of metric m.
func judge(r Rule, m *kpi.Metric, shop string, v kpi.Value) reading {
	x := v.V
	if m.PerDay {
		x = v.Secondary
	}
	rd := reading{rule: r, shop: shop, level: x, target: r.target(m), sample: v.Sample}
	switch {
	case !v.Defined() || math.IsNaN(x) || v.Sample < cmp.Or(r.MinSample, m.MinSample):
		rd.outcome = unknown
	case !m.Op.Holds(x, rd.target):
		rd.outcome = breach
	case m.Op.Holds(x, r.clear(m)):
		rd.outcome = clear
	default:
		rd.outcome = between
	}
	return rd
}

// readFreshness evaluates the Freshness rule: a shop whose records were
// last written longer ago than the rule's limit (by default three sync
// intervals) breaches it; a shop never written is not judged, nor one
// whose rule has no limit (no target, and no syncs on a schedule).
func (m *Manager) readFreshness(ctx context.Context, shops []kpi.Shop, now time.Time) ([]reading, error) {
	var out []reading
	var errs []error
	for _, s := range shops {
		r, ok := m.rules.rule(Freshness, s.ID)
		limit := r.freshLimit(m.c.SyncEvery)
		if !ok || limit <= 0 {
			continue
		}
		at, ok, err := m.c.Source.LastWrite(ctx, s.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("freshness of %s: %w", s.ID, err))
			continue
		}
		if !ok {
			continue
		}
		rd := reading{rule: r, shop: s.ID, outcome: clear, level: now.Sub(at).Hours(), target: limit.Hours(), sample: 1}
		if now.Sub(at) > limit {
			rd.outcome = breach
		}
		out = append(out, rd)
	}
	return out, errors.Join(errs...)
}

// apply moves a rule's streak for a shop on by one reading, and opens,
// updates or resolves its episode. A new episode is saved unannounced:
// announce sends it.
func (m *Manager) apply(ctx context.Context, r reading, now time.Time, rep *Report) error {
	key := Key(r.rule.Metric, r.shop)
	n := r.rule.consecutive()
	st, err := m.c.Store.Streak(ctx, key)
	if err != nil {
		return err
	}
	prev := st
	st.Key = key
	switch r.outcome {
	case breach:
		st.Breached, st.Cleared = min(st.Breached+1, n), 0
	case clear:
		st.Breached, st.Cleared, st.Hold = 0, min(st.Cleared+1, n), false
	case between:
		st.Breached, st.Cleared = 0, 0
	}
	if st != prev {
		if err := m.c.Store.SaveStreak(ctx, st); err != nil {
			return err
		}
	}
	a, active, err := m.c.Store.ActiveAlert(ctx, key)
	if err != nil {
		return err
	}
	if !active {
		if r.outcome != breach || st.Breached < n || st.Hold {
			return nil
		}
		a = kpi.Alert{Key: key, Metric: r.rule.Metric, Shop: r.shop, Severity: r.rule.Severity, State: kpi.AlertOpen,
			Opened: now, Updated: now, Value: r.level, Target: r.target, Sample: r.sample, NotifiedValue: math.NaN()}
		if err := m.c.Store.SaveAlert(ctx, &a); err != nil {
			return err
		}
		m.log.Info("alert: opened", "id", a.ID, "key", key, "severity", a.Severity, "value", a.Value, "target", a.Target)
		return nil
	}
	m.wake(&a, now)
	if r.outcome != unknown {
		a.Value, a.Target, a.Sample, a.Updated = r.level, r.target, r.sample, now
	}
	switch {
	case st.Cleared >= n:
		if err := m.resolve(ctx, &a, now); err != nil {
			return err
		}
		m.log.Info("alert: resolved", "id", a.ID, "key", key, "value", a.Value)
		rep.Resolved = append(rep.Resolved, a)
		return nil
	case r.outcome == breach && a.State != kpi.AlertSnoozed && !a.Notified.IsZero():
		worse := m.worse(a)
		if worse || now.Sub(a.Notified) >= 24*time.Hour {
			if err := m.update(ctx, &a, worse, now); err != nil {
				return err
			}
			m.log.Info("alert: updated", "id", a.ID, "key", key, "value", a.Value, "worse", worse)
			rep.Updated = append(rep.Updated, a)
			return nil
		}
	}
	return m.c.Store.SaveAlert(ctx, &a)
}

// worse reports whether an episode's value is materially worse than the
// channels were last shown: half as far again from the target, and at
// least 5% of the target further. A stale shop only gets staler: its
// reminders are the escalation's and the daily update's.
func (m *Manager) worse(a kpi.Alert) bool {
	met, ok := kpi.Lookup(a.Metric)
	if !ok {
		return false
	}
	dist := func(v float64) float64 {
		if met.Op.HigherIsBetter() {
			return a.Target - v
		}
		return v - a.Target
	}
	was, is := dist(a.NotifiedValue), dist(a.Value)
	if math.IsNaN(was) || math.IsNaN(is) || math.IsInf(was, 1) || was < 0 {
		return false
	}
	return is >= 1.5*was && is-was >= 0.05*math.Abs(a.Target) && is > was
}

// wake ends a snooze whose time has come: the episode is open again.
func (m *Manager) wake(a *kpi.Alert, now time.Time) bool {
	if a.State == kpi.AlertSnoozed && !a.SnoozedUntil.IsZero() && !now.Before(a.SnoozedUntil) {
		a.State = kpi.AlertOpen
		return true
	}
	return false
}

// announce sends the active episodes that were never announced (those just
// opened, and any that a failure kept from their channels before): the
// episodes of one shop go to each channel they are for as one message.
// It returns the episodes announced.
func (m *Manager) announce(ctx context.Context, shops []kpi.Shop, now time.Time) ([]kpi.Alert, error) {
	active, err := m.c.Store.ActiveAlerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	byShop := map[string][]kpi.Alert{}
	var order []string
	for _, a := range active {
		if !a.Notified.IsZero() {
			continue
		}
		if _, seen := byShop[a.Shop]; !seen {
			order = append(order, a.Shop)
		}
		byShop[a.Shop] = append(byShop[a.Shop], a)
	}
	if len(order) == 0 {
		return nil, nil
	}
	chans, err := m.c.Channels.ChatChannelList(ctx)
	if err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	names := shopNames(shops)
	var out []kpi.Alert
	var errs []error
	for _, shop := range order {
		group := byShop[shop]
		items := make([]item, len(group))
		for i, a := range group {
			items[i] = m.item(ctx, a, now, true)
		}
		got, keys := map[int64][]string{}, map[int64][]string{}
		failed := false
		for _, ch := range chans {
			var sel []item
			for _, it := range items {
				if m.routes(ch, it.a.Metric, it.a.Shop) {
					sel = append(sel, it)
				}
			}
			if len(sel) == 0 {
				continue
			}
			ids := make([]string, len(sel))
			sev := kpi.SeverityWarning
			for i, it := range sel {
				ids[i] = strconv.FormatInt(it.a.ID, 10)
				if it.a.Severity == kpi.SeverityCritical {
					sev = kpi.SeverityCritical
				}
			}
			key := "alert:" + strings.Join(ids, "+") + ":open:" + ch.Platform + ":" + ch.ID
			render := func(p *locales.Printer) bot.Reply { return openReply(p, names.of(shop), sel, now) }
			if err := m.send(ctx, key, ch, render, m.release(now, sev), now); err != nil {
				errs = append(errs, err)
				failed = true
				continue
			}
			for _, it := range sel {
				got[it.a.ID] = append(got[it.a.ID], channelID(ch))
				if len(sel) == 1 { // a message of several alerts has no buttons, and is not edited
					keys[it.a.ID] = append(keys[it.a.ID], key)
				}
			}
		}
		if failed {
			continue // announced again next time; the keys sent keep those channels from a second copy
		}
		for _, a := range group {
			a.Channels, a.Notified, a.NotifiedValue = got[a.ID], now, a.Value
			a.Messages = union(a.Messages, keys[a.ID])
			if err := m.c.Store.SaveAlert(ctx, &a); err != nil {
				errs = append(errs, fmt.Errorf("announce %s: %w", a.Key, err))
				continue
			}
			out = append(out, a)
		}
	}
	return out, errors.Join(errs...)
}

// update tells the channels an episode goes on: materially worse, or
// still there a day later.
func (m *Manager) update(ctx context.Context, a *kpi.Alert, worse bool, now time.Time) error {
	n := a.Updates + 1
	it := m.item(ctx, *a, now, false)
	sent, keys, err := m.broadcast(ctx, *a, fmt.Sprintf("update-%d", n), m.release(now, a.Severity), now,
		func(p *locales.Printer, shop string) bot.Reply { return updateReply(p, shop, it, worse) })
	if err != nil {
		return err
	}
	a.Updates, a.Notified, a.NotifiedValue = n, now, a.Value
	a.Channels, a.Messages = union(a.Channels, sent), union(a.Messages, keys)
	return m.c.Store.SaveAlert(ctx, a)
}

// broadcast queues a message about an episode, event names it in the
// outbox key, for every channel it is routed to now, to go out at release;
// it returns the channels and the messages' keys.
func (m *Manager) broadcast(ctx context.Context, a kpi.Alert, event string, release, now time.Time,
	reply func(p *locales.Printer, shop string) bot.Reply) (sent, keys []string, err error) {
	chans, names, err := m.audience(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, ch := range chans {
		if !m.routes(ch, a.Metric, a.Shop) {
			continue
		}
		key := fmt.Sprintf("alert:%d:%s:%s:%s", a.ID, event, ch.Platform, ch.ID)
		render := func(p *locales.Printer) bot.Reply { return reply(p, names.of(a.Shop)) }
		if err := m.send(ctx, key, ch, render, release, now); err != nil {
			return nil, nil, err
		}
		sent, keys = append(sent, channelID(ch)), append(keys, key)
	}
	return sent, keys, nil
}

// resolve ends an episode: its resolve notice goes to every channel that
// got it, then it is saved resolved.
func (m *Manager) resolve(ctx context.Context, a *kpi.Alert, now time.Time) error {
	a.Resolved = now
	if err := m.notify(ctx, *a, "resolve", "resolve", "", "", now); err != nil {
		return err
	}
	a.State, a.Updated = kpi.AlertResolved, now
	return m.c.Store.SaveAlert(ctx, a)
}

// Escalate sends again each critical episode that is open — not
// acknowledged, not snoozed (a snooze that has ended counts as open) — and
// that the channels last heard of ResendAfter ago or longer; one still open
// EscalateAfter after it opened is escalated to the managers instead, once.
// It returns the episodes sent again or escalated.
func (m *Manager) Escalate(ctx context.Context) ([]kpi.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	active, err := m.c.Store.ActiveAlerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("alert: escalate: %w", err)
	}
	var out []kpi.Alert
	var errs []error
	for _, a := range active {
		woke := m.wake(&a, now)
		if m.pageDue(a, now) {
			if err := m.page(ctx, &a, now); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.Key, err))
				continue
			}
			m.log.Info("alert: escalated to the managers", "id", a.ID, "key", a.Key)
			out = append(out, a)
			continue
		}
		if a.Severity != kpi.SeverityCritical || a.State != kpi.AlertOpen || a.Notified.IsZero() || now.Sub(a.Notified) < m.c.ResendAfter {
			if woke {
				if err := m.c.Store.SaveAlert(ctx, &a); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		if err := m.resend(ctx, &a, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Key, err))
			continue
		}
		m.log.Info("alert: re-sent unacknowledged", "id", a.ID, "key", a.Key, "times", a.Escalations)
		out = append(out, a)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("alert: escalate: %w", errors.Join(errs...))
	}
	return out, nil
}

// resend sends an unacknowledged episode again to the channels it is for.
func (m *Manager) resend(ctx context.Context, a *kpi.Alert, now time.Time) error {
	n := a.Escalations + 1
	it := m.item(ctx, *a, now, false)
	sent, keys, err := m.broadcast(ctx, *a, fmt.Sprintf("resend-%d", n), now, now,
		func(p *locales.Printer, shop string) bot.Reply { return resendReply(p, shop, it, n, now) })
	if err != nil {
		return err
	}
	a.Escalations, a.Notified = n, now
	a.Channels, a.Messages = union(a.Channels, sent), union(a.Messages, keys)
	return m.c.Store.SaveAlert(ctx, a)
}

// pageDue reports whether episode a is to be escalated to the managers
// now: critical, open, announced, EscalateAfter old, not escalated yet,
// and some manager covers its shop.
func (m *Manager) pageDue(a kpi.Alert, now time.Time) bool {
	return a.Severity == kpi.SeverityCritical && a.State == kpi.AlertOpen && !a.Notified.IsZero() && a.Paged.IsZero() &&
		now.Sub(a.Opened) >= m.c.EscalateAfter && len(m.managers(a.Shop)) > 0
}

// managers lists the managers who hear of the alerts of shop.
func (m *Manager) managers(shop string) []Contact {
	var out []Contact
	for _, c := range m.c.Managers {
		if c.covers(shop) {
			out = append(out, c)
		}
	}
	return out
}

// page escalates episode a to the managers: a message mentioning them in
// every Slack channel that got the episode, and a push to each one's LINE.
// Their LINE chats join the episode's channels: they hear how it ends.
func (m *Manager) page(ctx context.Context, a *kpi.Alert, now time.Time) error {
	chans, names, err := m.audience(ctx)
	if err != nil {
		return err
	}
	contacts := m.managers(a.Shop)
	var who, slackIDs []string
	for _, c := range contacts {
		who = append(who, c.Name)
		if c.Slack != "" {
			slackIDs = append(slackIDs, c.Slack)
		}
	}
	it := m.item(ctx, *a, now, false)
	render := func(p *locales.Printer) bot.Reply {
		return pageReply(p, names.of(a.Shop), it, strings.Join(who, ", "), now)
	}
	var keys []string
	if len(slackIDs) > 0 {
		for _, ch := range chans {
			if ch.Platform != "slack" || !slices.Contains(a.Channels, channelID(ch)) {
				continue
			}
			key := fmt.Sprintf("alert:%d:page:%s:%s", a.ID, ch.Platform, ch.ID)
			withMentions := func(p *locales.Printer) bot.Reply {
				rep := render(p)
				rep.Mentions = slackIDs
				return rep
			}
			if err := m.send(ctx, key, ch, withMentions, now, now); err != nil {
				return err
			}
			keys = append(keys, key)
		}
	}
	var sent []string
	for _, c := range contacts {
		if c.LINE == "" {
			continue
		}
		ch := c.channel()
		key := fmt.Sprintf("alert:%d:page:line:%s", a.ID, c.LINE)
		if err := m.send(ctx, key, ch, render, now, now); err != nil {
			return err
		}
		sent, keys = append(sent, channelID(ch)), append(keys, key)
	}
	a.Paged, a.Notified = now, now
	a.Channels, a.Messages = union(a.Channels, sent), union(a.Messages, keys)
	return m.c.Store.SaveAlert(ctx, a)
}

// Ack records that by is on the alert: it is not escalated any more. The
// channels that got it are told (see notify for by.Chat, the chat the
// command came from). Acknowledging an acknowledged alert changes nothing.
func (m *Manager) Ack(ctx context.Context, id int64, by bot.Actor) (kpi.Alert, error) {
	return m.act(ctx, id, by, "ack", time.Time{})
}

// Snooze quiets the alert until until (zero: until it resolves): no
// updates, no escalation. The channels that got it are told.
func (m *Manager) Snooze(ctx context.Context, id int64, by bot.Actor, until time.Time) (kpi.Alert, error) {
	return m.act(ctx, id, by, "snooze", until)
}

// Resolve ends the alert by hand; the channels that got it are told. No
// new episode of its rule opens for the shop until the KPI has cleared.
func (m *Manager) Resolve(ctx context.Context, id int64, by bot.Actor) (kpi.Alert, error) {
	return m.act(ctx, id, by, "resolve", time.Time{})
}

// act does action (ack, snooze, resolve) to alert id for by, writes the
// audit log (by.User: the id, which stays) and tells the channels that got
// the alert (by.Label(): the name, which people read).
func (m *Manager) act(ctx context.Context, id int64, by bot.Actor, action string, until time.Time) (kpi.Alert, error) {
	actor := by.User
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	a, ok, err := m.c.Store.Alert(ctx, id)
	if err != nil {
		return kpi.Alert{}, fmt.Errorf("alert: %s %d: %w", action, id, err)
	}
	if !ok {
		return kpi.Alert{}, kpi.Errorf(kpi.NotFound, "error.alert_unknown", map[string]any{"ID": id}, nil)
	}
	if !a.Active() {
		return a, kpi.Errorf(kpi.Invalid, "error.alert_over", map[string]any{"ID": id}, nil)
	}
	m.wake(&a, now)
	detail := ""
	switch action {
	case "ack":
		if a.State == kpi.AlertAcked {
			return a, nil
		}
		a.State = kpi.AlertAcked
	case "snooze":
		if !until.IsZero() && !until.After(now) {
			return a, kpi.Errorf(kpi.Invalid, "error.alert_snooze_past", map[string]any{"ID": id}, nil)
		}
		until = until.Truncate(time.Second) // as the store keeps it
		if a.State == kpi.AlertSnoozed && a.SnoozedUntil.Equal(until) {
			return a, nil
		}
		a.State, a.SnoozedUntil = kpi.AlertSnoozed, until
		detail = "until resolved"
		if !until.IsZero() {
			detail = "until " + until.In(kpi.Tokyo).Format(time.RFC3339)
		}
	case "resolve":
		st, err := m.c.Store.Streak(ctx, a.Key)
		if err != nil {
			return a, fmt.Errorf("alert: resolve %d: %w", id, err)
		}
		st.Key, st.Breached, st.Hold = a.Key, 0, true
		if err := m.c.Store.SaveStreak(ctx, st); err != nil {
			return a, fmt.Errorf("alert: resolve %d: %w", id, err)
		}
		a.State, a.Resolved = kpi.AlertResolved, now
	}
	a.AckedBy, a.Updated = actor, now
	if err := m.c.Store.SaveAlert(ctx, &a); err != nil {
		return a, fmt.Errorf("alert: %s %d: %w", action, id, err)
	}
	target := "alert:" + strconv.FormatInt(id, 10)
	if err := m.c.Store.Audit(ctx, kpi.AuditEntry{At: now, Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		return a, fmt.Errorf("alert: %s %d: %w", action, id, err)
	}
	event := "resolve" // once per episode
	if action != "resolve" {
		log, err := m.c.Store.AuditLog(ctx, target)
		if err != nil {
			return a, fmt.Errorf("alert: %s %d: %w", action, id, err)
		}
		event = fmt.Sprintf("%s-%d", action, len(log))
	}
	if err := m.notify(ctx, a, action, event, by.Label(), by.Chat, now); err != nil {
		return a, fmt.Errorf("alert: %s %d: %w", action, id, err)
	}
	if m.queued != nil {
		m.queued()
	}
	m.log.Info("alert: "+action, "id", id, "key", a.Key, "actor", actor, "detail", detail)
	return a, nil
}

// notify tells every channel that got episode a of a change (action ack,
// snooze or resolve; its event in the outbox key: ack-N, snooze-N or
// resolve) made by actor ("" for kpibot itself). A warning's notice waits
// for business hours, as the warning did. Each notice amends the messages
// the channel got about the episode (Reply.Amends): on Slack they are
// edited to show what became of it, and lose their buttons. The chat the
// change was made from (where, "slack:C123"; "" for none) has the
// command's reply for news: a LINE chat there gets no notice, which would
// say it again and spend a push of the monthly quota; a Slack channel
// gets it, for the edits, in the alert's thread.
func (m *Manager) notify(ctx context.Context, a kpi.Alert, action, event, actor, where string, now time.Time) error {
	if len(a.Channels) == 0 {
		return nil
	}
	chans, names, err := m.audience(ctx)
	if err != nil {
		return err
	}
	it := m.item(ctx, a, now, false)
	for _, ch := range chans {
		if !slices.Contains(a.Channels, channelID(ch)) {
			continue // not told of it, or unbound since
		}
		if channelID(ch) == where && ch.Platform != "slack" {
			continue // the command's reply told it
		}
		key := fmt.Sprintf("alert:%d:%s:%s:%s", a.ID, event, ch.Platform, ch.ID)
		var amends []string
		for _, k := range a.Messages {
			if strings.HasSuffix(k, ":"+ch.Platform+":"+ch.ID) {
				amends = append(amends, k)
			}
		}
		render := func(p *locales.Printer) bot.Reply {
			rep := noticeReply(p, names.of(a.Shop), it, action, actor)
			rep.Amends = amends
			return rep
		}
		if err := m.send(ctx, key, ch, render, m.release(now, a.Severity), now); err != nil {
			return err
		}
	}
	return nil
}

// Active lists the episodes not over, oldest first: those of the allowed
// shops when allowed is not empty. A snooze whose time has come shows as
// open.
func (m *Manager) Active(ctx context.Context, allowed []string) ([]kpi.Alert, error) {
	list, err := m.c.Store.ActiveAlerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("alert: active: %w", err)
	}
	now := m.now()
	out := list[:0]
	for _, a := range list {
		if len(allowed) > 0 && !slices.Contains(allowed, a.Shop) {
			continue
		}
		m.wake(&a, now)
		out = append(out, a)
	}
	return out, nil
}

// audience lists the bound channels and the managers' LINE chats (which
// no route names: they hear of the episodes escalated to them), and names
// the shops.
func (m *Manager) audience(ctx context.Context) ([]kpi.ChatChannel, shopNameMap, error) {
	chans, err := m.c.Channels.ChatChannelList(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range m.c.Managers {
		if ch := c.channel(); c.LINE != "" && !slices.ContainsFunc(chans, func(b kpi.ChatChannel) bool { return channelID(b) == channelID(ch) }) {
			chans = append(chans, ch)
		}
	}
	shops, err := m.c.Shops.Shops(ctx)
	if err != nil {
		return nil, nil, err
	}
	return chans, shopNames(shops), nil
}

// send renders a message for channel ch in its language and puts it in
// the outbox under key, due at at; a key enqueued before is left alone.
func (m *Manager) send(ctx context.Context, key string, ch kpi.ChatChannel, render func(*locales.Printer) bot.Reply, at, now time.Time) error {
	if done, err := m.c.Outbox.Enqueued(ctx, key); err != nil || done {
		return err
	}
	data, err := bot.EncodeOutgoing(ch, bot.Localize(m.c.Text, Lang(ch), render))
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if _, err := m.c.Outbox.Enqueue(ctx, kpi.OutboxItem{Key: key, Platform: ch.Platform, Channel: ch.ID, Payload: data,
		NextTry: at, Created: now}); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// release is when a message about an alert of severity sev made at now
// may go out: a critical one at once; a warning within business hours
// (Open to Close JST on a business day), else at Open of the next business
// day.
func (m *Manager) release(now time.Time, sev kpi.Severity) time.Time {
	if sev == kpi.SeverityCritical {
		return now
	}
	d := kpi.DateOf(now)
	for range 366 { // a year without a business day is a broken calendar: send now
		if m.businessDay(d) {
			open, close := d.Start().Add(m.c.Open), d.Start().Add(m.c.Close)
			switch {
			case now.Before(open):
				return open
			case now.Before(close):
				return now
			}
		}
		d++
	}
	return now
}

func (m *Manager) businessDay(d kpi.Date) bool {
	if m.c.Calendar != nil {
		return m.c.Calendar.BusinessDay(d)
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// channelID names a channel in Alert.Channels: "slack:C123".
func channelID(ch kpi.ChatChannel) string { return ch.Platform + ":" + ch.ID }

// union returns a with the elements of b it lacks added.
func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
