-- Alert rule changes made from chat, per metric and shop ('' for every
-- shop), on top of the default rules and the config file's. spec is the
-- kpi.RuleOverride as JSON; updated_at is Unix seconds, updated_by the
-- actor (the audit log has the history).
CREATE TABLE alert_rules (
    metric     text NOT NULL,
    shop       text NOT NULL,
    spec       text NOT NULL,
    updated_at bigint NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (metric, shop)
);

-- When an alert was escalated to the managers (Unix seconds; 0: not).
ALTER TABLE alerts ADD COLUMN paged_at bigint NOT NULL DEFAULT 0;
