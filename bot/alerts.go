package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// AlertDesk is what the chat commands do with alerts.
type AlertDesk interface {
	Active(ctx context.Context, allowed []string) ([]kpi.Alert, error)
	// Ack, Snooze and Resolve change an alert for by.
	Ack(ctx context.Context, id int64, by Actor) (kpi.Alert, error)
	Snooze(ctx context.Context, id int64, by Actor, until time.Time) (kpi.Alert, error) // zero until: until resolved
	Resolve(ctx context.Context, id int64, by Actor) (kpi.Alert, error)
	// Rules lists the rules in force for the allowed shops (nil: every
	// shop): one per metric for every shop, and one per shop and metric
	// where a shop's differs.
	Rules(ctx context.Context, allowed []string) ([]RuleView, error)
	// ChangeRule applies change to the rule of (change.Metric,
	// change.Shop) as an override from chat, on top of the overrides made
	// before; reset removes that override instead, back to the default
	// and the config file. It is audited under actor and returns the rule
	// now in force. Bad values are kpi.Invalid errors with a message id.
	ChangeRule(ctx context.Context, change kpi.RuleOverride, reset bool, actor string) (RuleView, error)
}

// Actor is who changes an alert from chat, and from where.
type Actor struct {
	User string // their user key ("line:U4af…", "slack:T1:U2"): what the audit log keeps
	Name string // their display name on the platform, for the notices; "": unknown
	Chat string // the chat the command came from ("slack:C123"), which its reply tells; "": none
}

// Label is how the notices name the actor: their name, else their key.
func (a Actor) Label() string { return cmp.Or(a.Name, a.User) }

// RuleView is an alert rule as chat shows it.
type RuleView struct {
	Metric      string
	Shop        string // "": every shop
	Severity    kpi.Severity
	Target      float64 // the alert fires beyond it, by the metric's Op
	Clear       float64 // the episode resolves back within it
	Consecutive int
	MinSample   int64
	Runbook     string // a message id (alert.runbook_…) or a line shown as it is; "": none
	Disabled    bool
	Source      string    // where it comes from: "default", "config" or "chat"
	Updated     time.Time // for Source "chat": when, and by whom
	By          string
}

// SetAlerts lets the alert commands (alerts, ack, snooze, resolve) work;
// without a desk they answer that alerts are not set up here.
func (b *Bot) SetAlerts(d AlertDesk) { b.alerts = d }

// AlertList lists the active alerts of the allowed shops (nil: every shop)
// in lang, as /kpi alerts does.
func (b *Bot) AlertList(ctx context.Context, allowed []string, lang locales.Lang) (Reply, error) {
	shops, err := b.shops.Shops(ctx)
	if err != nil {
		return Reply{}, fmt.Errorf("bot: alert list: %w", err)
	}
	render, err := b.alertList(ctx, kpi.Query{Allowed: allowed}, shops)
	if err != nil {
		return Reply{}, err
	}
	return b.in(lang, render), nil
}

// errNoAlerts says that no alert desk is set.
func errNoAlerts() error { return kpi.Errorf(kpi.Invalid, "error.alerts_unavailable", nil, nil) }

// alertList lists the active alerts of q.Allowed's shops (all when empty),
// narrowed to q's metric and scope if any, in sortAlerts' order.
func (b *Bot) alertList(ctx context.Context, q kpi.Query, shops []kpi.Shop) (func(*locales.Printer) Reply, error) {
	if b.alerts == nil {
		return nil, errNoAlerts()
	}
	active, err := b.alerts.Active(ctx, q.Allowed)
	if err != nil {
		return nil, fmt.Errorf("bot: active alerts: %w", err)
	}
	byID := shopsByID(shops)
	var list []kpi.Alert
	for _, a := range active {
		switch {
		case !a.Active():
		case len(q.Allowed) > 0 && !slices.Contains(q.Allowed, a.Shop): // the desk filters too; this makes sure
		case q.Metric != "" && a.Metric != q.Metric:
		case q.Scope.Shop != "" && a.Shop != q.Scope.Shop:
		case q.Scope.Platform != "" && byID[a.Shop].Platform != q.Scope.Platform:
		default:
			list = append(list, a)
		}
	}
	sortAlerts(list)
	now := b.now()
	return func(p *locales.Printer) Reply { return alertsReply(p, list, byID, now) }, nil
}

// sortAlerts orders alerts as chat lists them: the critical ones first,
// then the open ones before those someone is on or snoozed, then the
// oldest first.
func sortAlerts(list []kpi.Alert) {
	slices.SortStableFunc(list, func(x, y kpi.Alert) int {
		return cmp.Or(cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)),
			cmp.Compare(stateRank(x.State), stateRank(y.State)), x.Opened.Compare(y.Opened))
	})
}

func severityRank(s kpi.Severity) int {
	if s == kpi.SeverityCritical {
		return 0
	}
	return 1
}

func stateRank(s kpi.AlertState) int {
	switch s {
	case kpi.AlertOpen:
		return 0
	case kpi.AlertAcked:
		return 1
	}
	return 2
}

func shopsByID(shops []kpi.Shop) map[string]kpi.Shop {
	m := make(map[string]kpi.Shop, len(shops))
	for _, s := range shops {
		m[s.ID] = s
	}
	return m
}

// alertsReply lays the list out: a row per alert, "#12 · shop · metric",
// its value against its target, its state and since when; ❌ marks a
// critical alert, ⚠️ a warning.
func alertsReply(p *locales.Printer, list []kpi.Alert, shops map[string]kpi.Shop, now time.Time) Reply {
	if len(list) == 0 {
		return Reply{Text: p.T("alerts.none", nil)}
	}
	rep := Reply{Title: p.T("alerts.title", map[string]any{"N": len(list)}), Verdict: kpi.VerdictFew, Context: p.T("alerts.context", nil)}
	for _, a := range list {
		row := alertRow(p, a, shops, alertState(p, a, now), now)
		if row.Verdict == kpi.VerdictBreach {
			rep.Verdict = kpi.VerdictBreach
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

// alertRow lays one alert out: "#12 · shop · metric", its value against
// its target, then state and since when (JST: the time if it opened on
// now's day, else the date); ❌ marks a critical alert, ⚠️ a warning.
func alertRow(p *locales.Printer, a kpi.Alert, shops map[string]kpi.Shop, state string, now time.Time) Row {
	v := kpi.VerdictFew // its mark is ⚠️
	if a.Severity == kpi.SeverityCritical {
		v = kpi.VerdictBreach
	}
	value, target := alertValue(p, a)
	since := a.Opened.In(kpi.Tokyo).Format("15:04")
	if kpi.DateOf(a.Opened) != kpi.DateOf(now) {
		since = kpi.DateOf(a.Opened).String()
	}
	return Row{
		Label:   alertLabel(p, a, shops),
		Value:   p.T("alerts.value", map[string]any{"Value": value, "Target": target}),
		Detail:  p.T("alerts.detail", map[string]any{"State": state, "Since": since}),
		Verdict: v,
	}
}

// alertState says where an alert stands: open, acknowledged, snoozed until
// when (JST) or until it resolves.
func alertState(p *locales.Printer, a kpi.Alert, now time.Time) string {
	switch {
	case a.State == kpi.AlertAcked:
		return p.T("alerts.state_acked", nil)
	case a.State == kpi.AlertSnoozed && a.SnoozedUntil.IsZero():
		return p.T("alerts.state_snoozed_resolved", nil)
	case a.State == kpi.AlertSnoozed:
		return p.T("alerts.state_snoozed", map[string]any{"Until": when(a.SnoozedUntil, now)})
	}
	return p.T("alerts.state_open", nil)
}

// alertLabel names an alert: "#12 · Rakuten Flagship · return rate".
func alertLabel(p *locales.Printer, a kpi.Alert, shops map[string]kpi.Shop) string {
	return "#" + strconv.FormatInt(a.ID, 10) + " · " + shopLabel(a.Shop, shops) + " · " + alertMetric(p, a.Metric)
}

func shopLabel(id string, shops map[string]kpi.Shop) string {
	if s, ok := shops[id]; ok && s.Name != "" {
		return s.Name
	}
	return id
}

// alertMetric names what an alert is about in the printer's language: a
// catalog metric, or the shop's data no longer coming in.
func alertMetric(p *locales.Printer, id string) string {
	if _, ok := kpi.Lookup(id); ok {
		return p.T("metric."+id+".name", nil)
	}
	if id == "freshness" {
		return p.T("alerts.freshness", nil)
	}
	return id
}

// alertValue writes an alert's value at its last evaluation and its rule's
// target in the metric's unit; a freshness alert's are hours since the
// shop's data last came in.
func alertValue(p *locales.Printer, a kpi.Alert) (value, target string) {
	m, ok := kpi.Lookup(a.Metric)
	if !ok {
		m = &kpi.Metric{Unit: kpi.Hours, Op: kpi.AtMost}
	}
	rule := *m
	rule.Target = a.Target
	return formatValue(p, m.Unit, a.Value), formatTarget(p, &rule)
}

// when writes an instant in JST: its time of day if it falls on now's day,
// else its date and time.
func when(t, now time.Time) string {
	if kpi.DateOf(t) == kpi.DateOf(now) {
		return t.In(kpi.Tokyo).Format("15:04")
	}
	return t.In(kpi.Tokyo).Format("2006-01-02 15:04")
}

// onAlert acknowledges, snoozes or resolves the alert cmd names, for the
// asker, and confirms it naming the alert's shop and metric. In a channel
// that sees some shops only, the alert must be an active one of them.
func (b *Bot) onAlert(ctx context.Context, req Request, cmd Command, shops []kpi.Shop) func(*locales.Printer) Reply {
	if b.alerts == nil {
		return b.errorReply(errNoAlerts())
	}
	if allowed := cmd.Query.Allowed; len(allowed) > 0 {
		active, err := b.alerts.Active(ctx, allowed)
		if err != nil {
			return b.errorReply(fmt.Errorf("bot: active alerts: %w", err))
		}
		if !slices.ContainsFunc(active, func(a kpi.Alert) bool { return a.ID == cmd.AlertID && slices.Contains(allowed, a.Shop) }) {
			return b.errorReply(kpi.Errorf(kpi.NotFound, "error.alert_not_here", map[string]any{"ID": cmd.AlertID}, nil))
		}
	}
	var a kpi.Alert
	var err error
	key := ""
	by := Actor{User: req.User}
	if req.Channel != nil { // this reply is the chat's news
		by.Chat = req.Channel.Platform + ":" + req.Channel.ID
	}
	if req.Name != nil {
		by.Name = req.Name(ctx)
	}
	switch cmd.Action {
	case ActionAck:
		a, err = b.alerts.Ack(ctx, cmd.AlertID, by)
		key = "alerts.acked"
	case ActionSnooze:
		a, err = b.alerts.Snooze(ctx, cmd.AlertID, by, cmd.Snooze.Until(b.now()))
		key = "alerts.snoozed"
		if a.SnoozedUntil.IsZero() {
			key = "alerts.snoozed_resolved"
		}
	case ActionResolve:
		a, err = b.alerts.Resolve(ctx, cmd.AlertID, by)
		key = "alerts.resolved"
	default:
		return b.errorReply(fmt.Errorf("bot: %q is done to no alert", cmd.Action))
	}
	if err != nil {
		return b.errorReply(fmt.Errorf("bot: %s alert %d: %w", cmd.Action, cmd.AlertID, err))
	}
	byID := shopsByID(shops)
	now := b.now()
	return func(p *locales.Printer) Reply {
		return Reply{Text: p.T(key, map[string]any{"ID": cmd.AlertID, "Shop": shopLabel(a.Shop, byID), "Metric": alertMetric(p, a.Metric),
			"Until": when(a.SnoozedUntil, now)})}
	}
}
