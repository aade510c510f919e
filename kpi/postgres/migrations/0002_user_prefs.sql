-- Each chat user's chosen language.
CREATE TABLE user_prefs (
    user_id text PRIMARY KEY,
    lang    text NOT NULL
);
