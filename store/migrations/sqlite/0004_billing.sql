-- The billing effective dates view (projections/src/billing.rs). Rebuilt from the log
-- alone: the projection keeps its own copy of every fact it needs (time zones, who a
-- change or an order belongs to) and never reads another view's tables.
-- Dates are local dates of the contract's time zone, `YYYY-MM-DD`; months `YYYY-MM`.

-- A contract as billing sees it: its time zone and its first billed day.
CREATE TABLE billing_contracts
(
    contract_id TEXT NOT NULL PRIMARY KEY,
    time_zone   TEXT NOT NULL,
    created_on  TEXT NOT NULL
) STRICT;

-- The billed tier from `effective_on` on, until the contract's next row. A later decision
-- for the same day replaces the earlier one (an upgrade cancelling a scheduled downgrade).
CREATE TABLE billing_tier_schedule
(
    contract_id  TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    tier         TEXT NOT NULL,
    PRIMARY KEY (contract_id, effective_on)
) STRICT;

-- Expert minutes logged per billing month.
CREATE TABLE billing_expert_minutes
(
    contract_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    used_minutes INTEGER NOT NULL CHECK (used_minutes >= 0),
    PRIMARY KEY (contract_id, month)
) STRICT;

-- Every submitted change: its rank among the contract's submissions of that month
-- (contract time zone) and whether that rank made it billable, decided at submission.
CREATE TABLE billing_changes
(
    change_id             TEXT    NOT NULL PRIMARY KEY,
    contract_id           TEXT    NOT NULL,
    submitted_month       TEXT    NOT NULL,
    rank_in_month         INTEGER NOT NULL CHECK (rank_in_month >= 1),
    billable              INTEGER NOT NULL CHECK (billable IN (0, 1)),
    catalogue_price_cents INTEGER CHECK (catalogue_price_cents >= 0),
    label                 TEXT    NOT NULL,
    customer_reference    TEXT
) STRICT;

CREATE INDEX billing_changes_by_month ON billing_changes (contract_id, submitted_month);

-- Every placed order: whose it is and how a line names it.
CREATE TABLE billing_orders
(
    order_id    TEXT NOT NULL PRIMARY KEY,
    contract_id TEXT NOT NULL,
    reference   TEXT NOT NULL,
    label       TEXT NOT NULL
) STRICT;

-- One-off lines (a completed order, a completed billable change), in the month of their
-- effective date. `position` is the feed position of the event that made the line.
CREATE TABLE billing_lines
(
    kind         TEXT    NOT NULL CHECK (kind IN ('order', 'change')),
    source_id    TEXT    NOT NULL,
    contract_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    effective_on TEXT    NOT NULL,
    reference    TEXT,
    label        TEXT    NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    position     INTEGER NOT NULL,
    PRIMARY KEY (kind, source_id)
) STRICT;

CREATE INDEX billing_lines_by_month ON billing_lines (contract_id, month, effective_on, position);
