-- Alert episodes: a rule breached for one shop, from opened to resolved.
-- id is the short number shown in chat (#12), never reused. Times are Unix
-- seconds, 0 for none; value and notified_value are NULL when undefined
-- (NaN). channels are the chat channels the episode went to,
-- "platform:id" separated by commas.
CREATE TABLE alerts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key            text NOT NULL,
    metric         text NOT NULL,
    shop           text NOT NULL,
    severity       text NOT NULL,
    state          text NOT NULL,
    opened_at      bigint NOT NULL,
    updated_at     bigint NOT NULL,
    resolved_at    bigint NOT NULL DEFAULT 0,
    snoozed_until  bigint NOT NULL DEFAULT 0,
    acked_by       text NOT NULL DEFAULT '',
    escalations    bigint NOT NULL DEFAULT 0,
    value          double precision,
    target         double precision NOT NULL,
    sample         bigint NOT NULL DEFAULT 0,
    channels       text NOT NULL DEFAULT '',
    notified_at    bigint NOT NULL DEFAULT 0,
    notified_value double precision,
    updates        bigint NOT NULL DEFAULT 0
);
-- A key has at most one episode that is not over.
CREATE UNIQUE INDEX alerts_active ON alerts (key) WHERE state <> 'resolved';

-- Each rule's consecutive evaluations per shop beyond the alert level and
-- within the clear level; hold is true after an episode was resolved by
-- hand while still breached.
CREATE TABLE alert_streaks (
    key      text PRIMARY KEY,
    breached bigint NOT NULL,
    cleared  bigint NOT NULL,
    hold     boolean NOT NULL DEFAULT false
);

-- Who acknowledged, snoozed or resolved an alert or changed a rule, and
-- when; seq keeps the order of entries made in the same second (SQLite's
-- rowid does).
CREATE TABLE audit_log (
    at     bigint NOT NULL,
    actor  text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail text NOT NULL,
    seq    bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX audit_log_target ON audit_log (target);

-- When records of each shop were last written: how fresh its data is.
CREATE TABLE shop_writes (
    shop       text PRIMARY KEY,
    written_at bigint NOT NULL
);
