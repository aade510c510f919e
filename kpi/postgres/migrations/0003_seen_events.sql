-- Webhook deliveries already handled (Slack event_id, LINE webhookEventId),
-- so that a redelivery or a restart never answers twice.
CREATE TABLE seen_events (
    key     text PRIMARY KEY,
    seen_at bigint NOT NULL
);
