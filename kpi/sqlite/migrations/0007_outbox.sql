-- The outbox: rendered messages (digests, reviews) waiting to go to a chat
-- channel, kept after they are sent so that a key is enqueued once. Times
-- are Unix seconds; sent_at is NULL while unsent. The rowid orders items
-- enqueued in the same second.
CREATE TABLE outbox (
    key        TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    payload    BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_try   INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    sent_at    INTEGER
);
CREATE INDEX outbox_due ON outbox (next_try) WHERE sent_at IS NULL;
