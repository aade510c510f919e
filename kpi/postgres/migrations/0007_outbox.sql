-- The outbox: rendered messages (digests, reviews) waiting to go to a chat
-- channel, kept after they are sent so that a key is enqueued once. Times
-- are Unix seconds; sent_at is NULL while unsent. seq orders items enqueued
-- in the same second (SQLite's rowid does).
CREATE TABLE outbox (
    key        text PRIMARY KEY,
    platform   text NOT NULL,
    channel    text NOT NULL,
    payload    bytea NOT NULL,
    attempts   bigint NOT NULL DEFAULT 0,
    next_try   bigint NOT NULL,
    last_error text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    sent_at    bigint,
    seq        bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX outbox_due ON outbox (next_try) WHERE sent_at IS NULL;
