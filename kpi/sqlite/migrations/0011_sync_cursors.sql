-- Where each connector's pulls of a shop stand, per stream: the cursor the
-- next pull resumes from (kpi.SyncState). updated_at is Unix seconds.
CREATE TABLE sync_cursors (
    shop       TEXT NOT NULL,
    stream     TEXT NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop, stream)
) WITHOUT ROWID;
