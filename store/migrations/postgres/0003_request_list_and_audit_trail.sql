-- The request list and the audit trail (projections/src/request_list.rs, audit_trail.rs).
-- Rebuilt from the log alone. Instants are RFC 3339 UTC text (`YYYY-MM-DDTHH:MM:SSZ`),
-- which sorts like time. Key columns use the "C" collation: they compare byte by byte, as
-- in Rust and SQLite, so keyset cursors and prefix ranges mean the same on both backends
-- whatever the database's locale.

-- One row per incident, submitted change and order.
CREATE TABLE request_list
(
    request_id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    kind                 TEXT   NOT NULL,
    contract_id          TEXT COLLATE "C" NOT NULL,
    contract_name        TEXT,
    name                 TEXT   NOT NULL,
    reference            TEXT,
    created_at           TEXT COLLATE "C" NOT NULL,
    created_by           TEXT   NOT NULL,
    created_on_behalf_of TEXT,
    detailed_status      TEXT   NOT NULL,
    portal_status        TEXT   NOT NULL,
    last_update_at       TEXT   NOT NULL,
    last_position        BIGINT NOT NULL
);

-- Every filter combination a request satisfies (`scope|kind|status`, 12 per request): a
-- page of any filters is one keyset seek on this key, in either direction.
CREATE TABLE request_list_facets
(
    facet      TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (facet, created_at, request_id)
);

-- Prefix-searchable terms of each request's id, name and reference.
CREATE TABLE request_list_terms
(
    term       TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (term, request_id)
);

-- The view's own copy of contract names, and their prefix-searchable terms (id, name).
CREATE TABLE request_list_contracts
(
    contract_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL
);

CREATE TABLE request_list_contract_terms
(
    term        TEXT COLLATE "C" NOT NULL,
    contract_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (term, contract_id)
);

-- Every event of every aggregate, with who, how and a one-line summary.
CREATE TABLE audit_trail
(
    aggregate_id   TEXT COLLATE "C" NOT NULL,
    sequence       BIGINT NOT NULL,
    aggregate_type TEXT   NOT NULL,
    position       BIGINT NOT NULL,
    at             TEXT   NOT NULL,
    actor          TEXT   NOT NULL,
    actor_role     TEXT   NOT NULL,
    on_behalf_of   TEXT,
    channel        TEXT   NOT NULL,
    request_id     TEXT   NOT NULL,
    event_type     TEXT   NOT NULL,
    summary        TEXT   NOT NULL,
    PRIMARY KEY (aggregate_id, sequence)
);
