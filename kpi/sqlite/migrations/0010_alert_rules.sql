-- Alert rule changes made from chat, per metric and shop ('' for every
-- shop), on top of the default rules and the config file's. spec is the
-- kpi.RuleOverride as JSON; updated_at is Unix seconds, updated_by the
-- actor (the audit log has the history).
CREATE TABLE alert_rules (
    metric     TEXT NOT NULL,
    shop       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (metric, shop)
) WITHOUT ROWID;

-- When an alert was escalated to the managers (Unix seconds; 0: not).
ALTER TABLE alerts ADD COLUMN paged_at INTEGER NOT NULL DEFAULT 0;
