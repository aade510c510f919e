-- Where each connector's pulls of a shop stand, per stream: the cursor the
-- next pull resumes from (kpi.SyncState). updated_at is Unix seconds.
CREATE TABLE sync_cursors (
    shop       text NOT NULL,
    stream     text NOT NULL,
    cursor     text NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (shop, stream)
);
