-- Facts about the database itself, by key. rollup_hours names the business
-- hours and calendar the stored rollups were built with (see WithHours); the
-- rollups stored before this table existed were built with kpi.DefaultHours.
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

INSERT INTO meta (key, value) VALUES ('rollup_hours', 'kpi.DefaultHours');
