-- Each chat user's chosen language.
CREATE TABLE user_prefs (
    user_id TEXT PRIMARY KEY,
    lang    TEXT NOT NULL
) WITHOUT ROWID;
