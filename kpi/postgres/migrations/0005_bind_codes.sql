-- One-time codes that bind a chat channel: the SHA-256 of the code (never
-- the code), the role, language and shops (comma-separated; empty for every
-- shop) it binds to, when it expires and when it was used (Unix seconds;
-- NULL while unused).
CREATE TABLE bind_codes (
    hash       text PRIMARY KEY,
    role       text NOT NULL,
    lang       text NOT NULL,
    shops      text NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);
