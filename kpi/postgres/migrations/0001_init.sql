-- The first schema of the kpibot store, as kpi/sqlite's 0001_init.sql: the
-- same tables, columns, keys and indexes (kpi/internal/sqlstore maps the
-- records to them for both stores).
--
-- Times are Unix seconds (UTC), NULL when unknown. Every time column that a
-- rollup build selects by has a *_day twin: the JST day (kpi.Date, days since
-- 1970-01-01) that contains it, indexed with the shop. Money and counts are
-- bigint in the shop's currency; flags are smallint 0 or 1.
--
-- The primary keys of orders and shipments start with (shop, day), so that
-- a rollup build reads a run of days in key order, and a unique index on
-- (shop, id) is the key records are upserted by.

CREATE TABLE shops (
	id          text PRIMARY KEY,
	platform    text NOT NULL,
	marketplace text NOT NULL,
	name        text NOT NULL,
	currency    text NOT NULL
);

CREATE TABLE orders (
	shop         text NOT NULL,
	id           text NOT NULL,
	customer_ref text NOT NULL,
	placed       bigint NOT NULL,
	placed_day   bigint NOT NULL,
	paid         bigint,
	ship_by      bigint,
	promised_by  bigint,
	status       text NOT NULL,
	total        bigint NOT NULL,
	units        bigint NOT NULL,
	channel      text NOT NULL,
	claim        smallint NOT NULL,
	chargeback   smallint NOT NULL,
	PRIMARY KEY (shop, placed_day, id)
);
CREATE UNIQUE INDEX orders_id ON orders (shop, id);

CREATE TABLE shipments (
	shop          text NOT NULL,
	id            text NOT NULL,
	order_id      text NOT NULL,
	shipped       bigint NOT NULL,
	shipped_day   bigint NOT NULL,
	carrier       text NOT NULL,
	tracking      text NOT NULL,
	delivered     bigint,
	delivered_day bigint,
	units         bigint NOT NULL,
	PRIMARY KEY (shop, shipped_day, id)
);
CREATE UNIQUE INDEX shipments_id ON shipments (shop, id);
CREATE INDEX shipments_order ON shipments (shop, order_id);
CREATE INDEX shipments_delivered_day ON shipments (shop, delivered_day);

CREATE TABLE returns (
	shop         text NOT NULL,
	id           text NOT NULL,
	order_id     text NOT NULL,
	returned     bigint NOT NULL,
	returned_day bigint NOT NULL,
	units        bigint NOT NULL,
	reason       text NOT NULL,
	PRIMARY KEY (shop, id)
);
CREATE INDEX returns_returned_day ON returns (shop, returned_day);

-- text is stored through kpi.MaskPII.
CREATE TABLE reviews (
	shop       text NOT NULL,
	id         text NOT NULL,
	order_id   text NOT NULL,
	posted     bigint NOT NULL,
	posted_day bigint NOT NULL,
	rating     smallint NOT NULL,
	text       text NOT NULL,
	replied_at bigint,
	PRIMARY KEY (shop, id)
);
CREATE INDEX reviews_posted_day ON reviews (shop, posted_day);
CREATE INDEX reviews_order ON reviews (shop, order_id);

CREATE TABLE inventory (
	shop      text NOT NULL,
	sku       text NOT NULL,
	taken     bigint NOT NULL,
	taken_day bigint NOT NULL,
	on_hand   bigint NOT NULL,
	inbound   bigint NOT NULL,
	reserved  bigint NOT NULL,
	PRIMARY KEY (shop, sku, taken)
);
CREATE INDEX inventory_taken_day ON inventory (shop, taken_day);

CREATE TABLE inbound (
	shop        text NOT NULL,
	id          text NOT NULL,
	created     bigint NOT NULL,
	created_day bigint NOT NULL,
	received    bigint,
	units       bigint NOT NULL,
	PRIMARY KEY (shop, id)
);
CREATE INDEX inbound_created_day ON inbound (shop, created_day);

CREATE TABLE ads (
	shop        text NOT NULL,
	campaign    text NOT NULL,
	day         bigint NOT NULL,
	impressions bigint NOT NULL,
	clicks      bigint NOT NULL,
	spend       bigint NOT NULL,
	sales       bigint NOT NULL,
	orders      bigint NOT NULL,
	PRIMARY KEY (shop, campaign, day)
);
CREATE INDEX ads_day ON ads (shop, day);

CREATE TABLE customs (
	shop           text NOT NULL,
	id             text NOT NULL,
	declared       bigint NOT NULL,
	declared_day   bigint NOT NULL,
	cleared        bigint,
	status         text NOT NULL,
	docs_completed smallint NOT NULL,
	PRIMARY KEY (shop, id)
);
CREATE INDEX customs_declared_day ON customs (shop, declared_day);

CREATE TABLE tickets (
	shop         text NOT NULL,
	id           text NOT NULL,
	customer_ref text NOT NULL,
	opened       bigint NOT NULL,
	opened_day   bigint NOT NULL,
	first_reply  bigint,
	kind         text NOT NULL,
	lang         text NOT NULL,
	PRIMARY KEY (shop, id)
);
CREATE INDEX tickets_opened_day ON tickets (shop, opened_day);

-- langs is comma-joined: "ja,zh".
CREATE TABLE agent_shifts (
	shop      text NOT NULL,
	agent     text NOT NULL,
	start_at  bigint NOT NULL,
	start_day bigint NOT NULL,
	end_at    bigint NOT NULL,
	end_day   bigint NOT NULL,
	langs     text NOT NULL,
	PRIMARY KEY (shop, agent, start_at)
);
CREATE INDEX agent_shifts_start_day ON agent_shifts (shop, start_day);
CREATE INDEX agent_shifts_end_day ON agent_shifts (shop, end_day);

-- Listings and competitor observations are read live, never rolled up.
CREATE TABLE listings (
	shop      text NOT NULL,
	sku       text NOT NULL,
	launched  bigint,
	needs_pse smallint NOT NULL,
	pse_valid smallint NOT NULL,
	label     text NOT NULL,
	price     bigint NOT NULL,
	PRIMARY KEY (shop, sku)
);

CREATE TABLE competitors (
	shop         text NOT NULL,
	sku          text NOT NULL,
	competitor   text NOT NULL,
	observed     bigint NOT NULL,
	observed_day bigint NOT NULL,
	price        bigint NOT NULL,
	new_listing  smallint NOT NULL,
	PRIMARY KEY (shop, sku, competitor, observed)
);
CREATE INDEX competitors_observed_day ON competitors (shop, observed_day);

-- One row per shop and JST day: kpi.Facts.MarshalBinary of kpi.BuildFacts for
-- that day as it stood at as_of (Unix seconds).
CREATE TABLE rollups (
	shop  text NOT NULL,
	day   bigint NOT NULL,
	as_of bigint NOT NULL,
	facts bytea NOT NULL,
	PRIMARY KEY (shop, day)
);
-- A day's facts are a few KB, which PostgreSQL would compress from 2 KB on;
-- reading rollups is most of what a question costs, and uncompressing them
-- doubled it. Rows up to a page stay as they are.
ALTER TABLE rollups SET (toast_tuple_target = 8160);
