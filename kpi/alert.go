package kpi

import (
	"context"
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
	Escalations               int       // times it was re-sent or escalated unacknowledged

	Value, Target float64 // at the last evaluation
	Sample        int64

	// What the chat channels were told: the channels the episode went to
	// ("slack:C123"), when they last heard of it (opened, updated or
	// re-sent; zero until its opening is in the outbox), the value they
	// were shown then, and how many update messages went out.
	Channels      []string
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
