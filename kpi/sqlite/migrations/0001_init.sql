-- The first schema of the kpibot store.
--
-- Times are Unix seconds (UTC), NULL when unknown. Every time column that a
-- rollup build selects by has a *_day twin: the JST day (kpi.Date, days since
-- 1970-01-01) that contains it, indexed with the shop. Money and counts are
-- integers in the shop's currency; booleans are 0 or 1.
--
-- Orders and shipments, the big tables, are clustered by day: their primary
-- key starts with (shop, day), so that a rollup build reads a run of days
-- sequentially, and a unique index on (shop, id) is the key records are
-- upserted by.
--
-- Without statistics SQLite guesses that shop = ? alone selects a handful of
-- rows, and may prefer the primary key to a better index: the statements
-- that look records up by id name their index (INDEXED BY), and
-- TestQueryPlans checks that none scans a whole shop.

CREATE TABLE shops (
	id          TEXT PRIMARY KEY,
	platform    TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	name        TEXT NOT NULL,
	currency    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE orders (
	shop         TEXT NOT NULL,
	id           TEXT NOT NULL,
	customer_ref TEXT NOT NULL,
	placed       INTEGER NOT NULL,
	placed_day   INTEGER NOT NULL,
	paid         INTEGER,
	ship_by      INTEGER,
	promised_by  INTEGER,
	status       TEXT NOT NULL,
	total        INTEGER NOT NULL,
	units        INTEGER NOT NULL,
	channel      TEXT NOT NULL,
	claim        INTEGER NOT NULL,
	chargeback   INTEGER NOT NULL,
	PRIMARY KEY (shop, placed_day, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX orders_id ON orders (shop, id);

CREATE TABLE shipments (
	shop          TEXT NOT NULL,
	id            TEXT NOT NULL,
	order_id      TEXT NOT NULL,
	shipped       INTEGER NOT NULL,
	shipped_day   INTEGER NOT NULL,
	carrier       TEXT NOT NULL,
	tracking      TEXT NOT NULL,
	delivered     INTEGER,
	delivered_day INTEGER,
	units         INTEGER NOT NULL,
	PRIMARY KEY (shop, shipped_day, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX shipments_id ON shipments (shop, id);
CREATE INDEX shipments_order ON shipments (shop, order_id);
CREATE INDEX shipments_delivered_day ON shipments (shop, delivered_day);

CREATE TABLE returns (
	shop         TEXT NOT NULL,
	id           TEXT NOT NULL,
	order_id     TEXT NOT NULL,
	returned     INTEGER NOT NULL,
	returned_day INTEGER NOT NULL,
	units        INTEGER NOT NULL,
	reason       TEXT NOT NULL,
	PRIMARY KEY (shop, id)
) WITHOUT ROWID;
CREATE INDEX returns_returned_day ON returns (shop, returned_day);

-- text is stored through kpi.MaskPII.
CREATE TABLE reviews (
	shop       TEXT NOT NULL,
	id         TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	posted     INTEGER NOT NULL,
	posted_day INTEGER NOT NULL,
	rating     INTEGER NOT NULL,
	text       TEXT NOT NULL,
	replied_at INTEGER,
	PRIMARY KEY (shop, id)
) WITHOUT ROWID;
CREATE INDEX reviews_posted_day ON reviews (shop, posted_day);
CREATE INDEX reviews_order ON reviews (shop, order_id);

CREATE TABLE inventory (
	shop      TEXT NOT NULL,
	sku       TEXT NOT NULL,
	taken     INTEGER NOT NULL,
	taken_day INTEGER NOT NULL,
	on_hand   INTEGER NOT NULL,
	inbound   INTEGER NOT NULL,
	reserved  INTEGER NOT NULL,
	PRIMARY KEY (shop, sku, taken)
) WITHOUT ROWID;
CREATE INDEX inventory_taken_day ON inventory (shop, taken_day);

CREATE TABLE inbound (
	shop        TEXT NOT NULL,
	id          TEXT NOT NULL,
	created     INTEGER NOT NULL,
	created_day INTEGER NOT NULL,
	received    INTEGER,
	units       INTEGER NOT NULL,
	PRIMARY KEY (shop, id)
) WITHOUT ROWID;
CREATE INDEX inbound_created_day ON inbound (shop, created_day);

CREATE TABLE ads (
	shop        TEXT NOT NULL,
	campaign    TEXT NOT NULL,
	day         INTEGER NOT NULL,
	impressions INTEGER NOT NULL,
	clicks      INTEGER NOT NULL,
	spend       INTEGER NOT NULL,
	sales       INTEGER NOT NULL,
	orders      INTEGER NOT NULL,
	PRIMARY KEY (shop, campaign, day)
) WITHOUT ROWID;
CREATE INDEX ads_day ON ads (shop, day);

CREATE TABLE customs (
	shop           TEXT NOT NULL,
	id             TEXT NOT NULL,
	declared       INTEGER NOT NULL,
	declared_day   INTEGER NOT NULL,
	cleared        INTEGER,
	status         TEXT NOT NULL,
	docs_completed INTEGER NOT NULL,
	PRIMARY KEY (shop, id)
) WITHOUT ROWID;
CREATE INDEX customs_declared_day ON customs (shop, declared_day);

CREATE TABLE tickets (
	shop         TEXT NOT NULL,
	id           TEXT NOT NULL,
	customer_ref TEXT NOT NULL,
	opened       INTEGER NOT NULL,
	opened_day   INTEGER NOT NULL,
	first_reply  INTEGER,
	kind         TEXT NOT NULL,
	lang         TEXT NOT NULL,
	PRIMARY KEY (shop, id)
) WITHOUT ROWID;
CREATE INDEX tickets_opened_day ON tickets (shop, opened_day);

-- langs is comma-joined: "ja,zh".
CREATE TABLE agent_shifts (
	shop      TEXT NOT NULL,
	agent     TEXT NOT NULL,
	start_at  INTEGER NOT NULL,
	start_day INTEGER NOT NULL,
	end_at    INTEGER NOT NULL,
	end_day   INTEGER NOT NULL,
	langs     TEXT NOT NULL,
	PRIMARY KEY (shop, agent, start_at)
) WITHOUT ROWID;
CREATE INDEX agent_shifts_start_day ON agent_shifts (shop, start_day);
CREATE INDEX agent_shifts_end_day ON agent_shifts (shop, end_day);

-- Listings and competitor observations are read live, never rolled up.
CREATE TABLE listings (
	shop      TEXT NOT NULL,
	sku       TEXT NOT NULL,
	launched  INTEGER,
	needs_pse INTEGER NOT NULL,
	pse_valid INTEGER NOT NULL,
	label     TEXT NOT NULL,
	price     INTEGER NOT NULL,
	PRIMARY KEY (shop, sku)
) WITHOUT ROWID;

CREATE TABLE competitors (
	shop         TEXT NOT NULL,
	sku          TEXT NOT NULL,
	competitor   TEXT NOT NULL,
	observed     INTEGER NOT NULL,
	observed_day INTEGER NOT NULL,
	price        INTEGER NOT NULL,
	new_listing  INTEGER NOT NULL,
	PRIMARY KEY (shop, sku, competitor, observed)
) WITHOUT ROWID;
CREATE INDEX competitors_observed_day ON competitors (shop, observed_day);

-- One row per shop and JST day: kpi.Facts.MarshalBinary of kpi.BuildFacts for
-- that day as it stood at as_of (Unix seconds).
CREATE TABLE rollups (
	shop  TEXT NOT NULL,
	day   INTEGER NOT NULL,
	as_of INTEGER NOT NULL,
	facts BLOB NOT NULL,
	PRIMARY KEY (shop, day)
) WITHOUT ROWID;
