-- What lets a message be edited after it went out: the platform's own
-- reference to a sent outbox item (Slack: the message's ts; '' when the
-- platform gives none), and the outbox keys of the messages an alert
-- episode went out in, joined by commas.
ALTER TABLE outbox ADD COLUMN ref TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN messages TEXT NOT NULL DEFAULT '';
