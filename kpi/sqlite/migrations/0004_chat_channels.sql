-- Chat channels bound to kpibot: role, language and the shops they see
-- (comma-separated; empty for every shop).
CREATE TABLE chat_channels (
    platform TEXT NOT NULL,
    id       TEXT NOT NULL,
    role     TEXT NOT NULL,
    lang     TEXT NOT NULL,
    shops    TEXT NOT NULL,
    PRIMARY KEY (platform, id)
) WITHOUT ROWID;
