-- When a chat channel gets the daily digest, "HH:MM" JST; '' for the
-- default (09:00). A bind code carries it to the channel that uses it.
ALTER TABLE chat_channels ADD COLUMN digest_at text NOT NULL DEFAULT '';
ALTER TABLE bind_codes ADD COLUMN digest_at text NOT NULL DEFAULT '';
