-- Alert episodes: a rule breached for one shop, from opened to resolved.
-- id is the short number shown in chat (#12), never reused. Times are Unix
-- seconds, 0 for none; value and notified_value are NULL when undefined
-- (NaN). channels are the chat channels the episode went to,
-- "platform:id" separated by commas.
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    key            TEXT NOT NULL,
    metric         TEXT NOT NULL,
    shop           TEXT NOT NULL,
    severity       TEXT NOT NULL,
    state          TEXT NOT NULL,
    opened_at      INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    resolved_at    INTEGER NOT NULL DEFAULT 0,
    snoozed_until  INTEGER NOT NULL DEFAULT 0,
    acked_by       TEXT NOT NULL DEFAULT '',
    escalations    INTEGER NOT NULL DEFAULT 0,
    value          REAL,
    target         REAL NOT NULL,
    sample         INTEGER NOT NULL DEFAULT 0,
    channels       TEXT NOT NULL DEFAULT '',
    notified_at    INTEGER NOT NULL DEFAULT 0,
    notified_value REAL,
    updates        INTEGER NOT NULL DEFAULT 0
);
-- A key has at most one episode that is not over.
CREATE UNIQUE INDEX alerts_active ON alerts (key) WHERE state <> 'resolved';

-- Each rule's consecutive evaluations per shop beyond the alert level and
-- within the clear level; hold is 1 after an episode was resolved by hand
-- while still breached.
CREATE TABLE alert_streaks (
    key      TEXT PRIMARY KEY,
    breached INTEGER NOT NULL,
    cleared  INTEGER NOT NULL,
    hold     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Who acknowledged, snoozed or resolved an alert or changed a rule, and
-- when; the rowid keeps the order of entries made in the same second.
CREATE TABLE audit_log (
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target);

-- When records of each shop were last written: how fresh its data is.
CREATE TABLE shop_writes (
    shop       TEXT PRIMARY KEY,
    written_at INTEGER NOT NULL
) WITHOUT ROWID;
