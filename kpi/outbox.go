package kpi

import (
	"context"
	"time"
)

// OutboxItem is a rendered message waiting in the outbox to go to one chat
// channel.
type OutboxItem struct {
	Key       string // unique, e.g. "digest:2026-11-28:slack:C123"
	Platform  string // slack, line
	Channel   string // the platform's channel, group or user id
	Payload   []byte // the rendered message
	Attempts  int    // failed deliveries so far
	NextTry   time.Time
	LastError string // why the last delivery failed
	Created   time.Time
	Sent      time.Time // zero while unsent
	// Ref is the platform's own reference to the message once sent, what
	// an edit of it names (Slack: its ts); "" when the platform gives none.
	Ref string
}

// Outbox keeps the messages to send until they are sent, across restarts.
// Its keys make a message go out once: a key enqueued once is never enqueued
// again, even after the message was sent.
type Outbox interface {
	// Enqueue adds an item, unless its key was ever enqueued: added is
	// false then, and the outbox is unchanged.
	Enqueue(ctx context.Context, it OutboxItem) (added bool, err error)
	// Enqueued reports whether key was ever enqueued, sent or not: what
	// lets a caller skip building a message that would not be added.
	Enqueued(ctx context.Context, key string) (bool, error)
	// Due returns up to limit unsent items whose NextTry is not after now,
	// oldest (by Created) first.
	Due(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	// Claim is Due for a sender that is about to deliver the items: in
	// the same step it moves their NextTry to now+lease, so that no other
	// sender (another replica, a kpibot digest run by hand) takes them
	// before the lease runs out; the sender then marks each sent or
	// failed. Claims made at the same time never return the same item.
	// The items come back with NextTry at the lease's end.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	// Extend moves the NextTry of the unsent items of keys to until: a
	// sender still delivering what it claimed renews its lease, so that
	// the lease can be short and a dead sender's items soon taken again.
	Extend(ctx context.Context, keys []string, until time.Time) error
	// MarkSent records that the item was delivered at at, as the
	// platform's message ref ("" for none); it is never due again. The
	// first delivery's time and ref stay if it is marked twice.
	MarkSent(ctx context.Context, key string, at time.Time, ref string) error
	// Item returns the item of key, sent or not; ok is false when key was
	// never enqueued.
	Item(ctx context.Context, key string) (it OutboxItem, ok bool, err error)
	// MarkFailed records a failed delivery: Attempts goes up by one,
	// LastError becomes reason and the item is due again at next.
	MarkFailed(ctx context.Context, key string, next time.Time, reason string) error
	// Pending returns the number of unsent items.
	Pending(ctx context.Context) (int, error)
}
