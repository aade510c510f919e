-- Chat channels bound to kpibot: role, language and the shops they see
-- (comma-separated; empty for every shop).
CREATE TABLE chat_channels (
    platform text NOT NULL,
    id       text NOT NULL,
    role     text NOT NULL,
    lang     text NOT NULL,
    shops    text NOT NULL,
    PRIMARY KEY (platform, id)
);
