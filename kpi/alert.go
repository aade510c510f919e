package kpi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Severity is how urgent an alert is.
type Severity string

// Severities. A critical alert reaches people at any hour and is escalated
// while nobody acknowledges it; a warning waits for business hours.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
)

// AlertState is where an alert episode stands.
type AlertState string

// Alert states. An episode opens when a rule is breached, stays open (and
// is updated) while it lasts, and resolves once when the KPI recovers (or
// someone resolves it by hand).
const (
	AlertOpen     AlertState = "open"
	AlertAcked    AlertState = "acked"    // someone is on it: no escalation
	AlertSnoozed  AlertState = "snoozed"  // quiet until SnoozedUntil (zero: until resolved)
	AlertResolved AlertState = "resolved" // over
)

// Alert is one episode of a rule breached for one shop: a KPI out of
// bounds, or a shop whose data stopped coming (Metric "freshness").
type Alert struct {
	ID       int64  // short, shown in chat: #12
	Key      string // the rule and shop it is about: "return_rate:rakuten"
	Metric   string // a catalog metric id, or "freshness"
	Shop     string
	Severity Severity
	State    AlertState

	Opened, Updated, Resolved time.Time
	SnoozedUntil              time.Time // zero while snoozed: until resolved
	AckedBy                   string    // who acknowledged, snoozed or resolved it last ("slack:T1:U2")
	Escalations               int       // times it was re-sent unacknowledged
	Paged                     time.Time // when it was escalated to the managers; zero: not (yet)

	Value, Target float64 // at the last evaluation
	Sample        int64

	// What the chat channels were told: the channels the episode went to
	// ("slack:C123"), when they last heard of it (opened, updated or
	// re-sent; zero until its opening is in the outbox), the value they
	// were shown then, and how many update messages went out.
	Channels []string
	// Messages are the outbox keys of the messages that showed the episode
	// with its buttons (its opening, updates and reminders): what an
	// acknowledgement, a snooze or the resolve edits where the platform
	// lets a message be edited (Slack).
	Messages      []string
	Notified      time.Time
	NotifiedValue float64
	Updates       int
}

// Active reports whether the episode is not over.
func (a Alert) Active() bool { return a.State != AlertResolved && a.State != "" }

// AlertStreak counts a rule's consecutive evaluations for one shop, for
// "breached N times in a row" and for the separate clear level.
type AlertStreak struct {
	Key      string
	Breached int // consecutive evaluations beyond the alert level
	Cleared  int // consecutive evaluations back within the clear level
	// Hold is set when an episode is resolved by hand while the rule is
	// still breached: no new episode opens until the KPI clears.
	Hold bool
}

// AuditEntry records who did what to an alert or a rule, and when.
type AuditEntry struct {
	At     time.Time
	Actor  string // "slack:T1:U2", "line:U…", "console:alice", "kpibot"
	Action string // ack, snooze, resolve, rule
	Target string // "alert:12", "rule:return_rate:rakuten"
	Detail string
}

// AlertStore keeps alert episodes, the rules' streaks and the audit log.
type AlertStore interface {
	// ActiveAlert returns the episode of key that is not resolved, if any.
	ActiveAlert(ctx context.Context, key string) (Alert, bool, error)
	// Alert returns an episode by its id.
	Alert(ctx context.Context, id int64) (Alert, bool, error)
	// ActiveAlerts lists the episodes not resolved, oldest first.
	ActiveAlerts(ctx context.Context) ([]Alert, error)
	// SaveAlert inserts a (when a.ID is 0, setting it) or updates it.
	SaveAlert(ctx context.Context, a *Alert) error
	Streak(ctx context.Context, key string) (AlertStreak, error)
	SaveStreak(ctx context.Context, s AlertStreak) error
	Audit(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, target string) ([]AuditEntry, error)
	// RuleOverrides lists the rule changes made from chat, by metric then
	// shop.
	RuleOverrides(ctx context.Context) ([]RuleOverride, error)
	// SaveRuleOverride replaces the override of (o.Metric, o.Shop) and
	// writes the audit entry with it, in one transaction.
	SaveRuleOverride(ctx context.Context, o RuleOverride, e AuditEntry) error
	// DeleteRuleOverride removes the override of (metric, shop), writing
	// the audit entry with it; false if there was none (and no entry is
	// written).
	DeleteRuleOverride(ctx context.Context, metric, shop string, e AuditEntry) (bool, error)
}

// RuleOverride changes the alert rule of a metric for one shop or, with
// Shop "", for every shop: each field set replaces the rule's, the nil
// ones keep it. Rates are fractions (0.03 for 3%).
type RuleOverride struct {
	Metric      string   `json:"metric"`
	Shop        string   `json:"shop,omitempty"`
	Severity    Severity `json:"severity,omitempty"`
	Target      *float64 `json:"target,omitempty"`      // the alert fires beyond it
	Clear       *float64 `json:"clear,omitempty"`       // the episode resolves back within it
	Consecutive *int     `json:"consecutive,omitempty"` // evaluations in a row
	MinSample   *int64   `json:"min_sample,omitempty"`
	Runbook     *string  `json:"runbook,omitempty"` // what to do, shown as it is
	Disabled    *bool    `json:"disabled,omitempty"`

	Updated time.Time `json:"-"` // when it was last changed from chat
	By      string    `json:"-"` // who changed it: an AuditEntry.Actor
}

// String lists the fields the override sets, as the audit log keeps them:
// "target=0.03 clear=0.025 consecutive=2".
func (o RuleOverride) String() string {
	var parts []string
	add := func(name string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", name, v)) }
	if o.Severity != "" {
		add("severity", o.Severity)
	}
	if o.Target != nil {
		add("target", *o.Target)
	}
	if o.Clear != nil {
		add("clear", *o.Clear)
	}
	if o.Consecutive != nil {
		add("consecutive", *o.Consecutive)
	}
	if o.MinSample != nil {
		add("min_sample", *o.MinSample)
	}
	if o.Runbook != nil {
		add("runbook", strconv.Quote(*o.Runbook))
	}
	if o.Disabled != nil {
		add("disabled", *o.Disabled)
	}
	return strings.Join(parts, " ")
}

// AlertSource is what alert evaluation reads besides the facts: the
// reviews an alert quotes, and when a shop's data last came in.
type AlertSource interface {
	// NegativeReviews returns a shop's 1-2 star reviews posted in [from,
	// to), newest first, at most limit; their text is stored masked.
	NegativeReviews(ctx context.Context, shop string, from, to time.Time, limit int) ([]Review, error)
	// LastWrite returns when records of the shop were last written; false
	// if never.
	LastWrite(ctx context.Context, shop string) (time.Time, bool, error)
}
