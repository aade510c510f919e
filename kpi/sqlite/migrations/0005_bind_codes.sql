-- One-time codes that bind a chat channel: the SHA-256 of the code (never
-- the code), the role, language and shops (comma-separated; empty for every
-- shop) it binds to, when it expires and when it was used (Unix seconds;
-- NULL while unused).
CREATE TABLE bind_codes (
    hash       TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    shops      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
