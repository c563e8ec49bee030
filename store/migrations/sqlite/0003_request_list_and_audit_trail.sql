-- The request list and the audit trail (projections/src/request_list.rs, audit_trail.rs).
-- Rebuilt from the log alone. Instants are RFC 3339 UTC text (`YYYY-MM-DDTHH:MM:SSZ`),
-- which sorts like time; keys compare byte by byte (BINARY), as in Rust and PostgreSQL's
-- "C" collation, so keyset cursors and prefix ranges mean the same on both backends.

-- One row per incident, submitted change and order.
CREATE TABLE request_list
(
    request_id           TEXT    NOT NULL PRIMARY KEY,
    kind                 TEXT    NOT NULL,
    contract_id          TEXT    NOT NULL,
    contract_name        TEXT,
    name                 TEXT    NOT NULL,
    reference            TEXT,
    created_at           TEXT    NOT NULL,
    created_by           TEXT    NOT NULL,
    created_on_behalf_of TEXT,
    detailed_status      TEXT    NOT NULL,
    portal_status        TEXT    NOT NULL,
    last_update_at       TEXT    NOT NULL,
    last_position        INTEGER NOT NULL
) STRICT;

-- Every filter combination a request satisfies (`scope|kind|status`, 12 per request): a
-- page of any filters is one keyset seek on this key, in either direction.
CREATE TABLE request_list_facets
(
    facet      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    PRIMARY KEY (facet, created_at, request_id)
) STRICT, WITHOUT ROWID;

-- Prefix-searchable terms of each request's id, name and reference.
CREATE TABLE request_list_terms
(
    term       TEXT NOT NULL,
    request_id TEXT NOT NULL,
    PRIMARY KEY (term, request_id)
) STRICT, WITHOUT ROWID;

-- The view's own copy of contract names, and their prefix-searchable terms (id, name).
CREATE TABLE request_list_contracts
(
    contract_id TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL
) STRICT;

CREATE TABLE request_list_contract_terms
(
    term        TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    PRIMARY KEY (term, contract_id)
) STRICT, WITHOUT ROWID;

-- Every event of every aggregate, with who, how and a one-line summary.
CREATE TABLE audit_trail
(
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL,
    aggregate_type TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    at             TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    actor_role     TEXT    NOT NULL,
    on_behalf_of   TEXT,
    channel        TEXT    NOT NULL,
    request_id     TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    PRIMARY KEY (aggregate_id, sequence)
) STRICT;
