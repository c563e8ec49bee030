-- The views a rebuild writes most, keyed by their primary key alone (WITHOUT ROWID): a
-- rowid table keeps its rows in a b-tree by rowid and its primary key in a second one,
-- so each row written was written twice. Rows are copied: no view needs a rebuild.

CREATE TABLE audit_trail_keyed
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
) STRICT, WITHOUT ROWID;
INSERT INTO audit_trail_keyed
SELECT aggregate_id, sequence, aggregate_type, position, at, actor, actor_role, on_behalf_of,
       channel, request_id, event_type, summary
FROM audit_trail;
DROP TABLE audit_trail;
ALTER TABLE audit_trail_keyed RENAME TO audit_trail;

CREATE TABLE sla_clocks_keyed
(
    request_id             TEXT    NOT NULL,
    metric                 TEXT    NOT NULL,
    request_kind           TEXT    NOT NULL,
    contract_id            TEXT    NOT NULL,
    tier                   TEXT,
    policy_version         TEXT,
    priority               TEXT,
    calendar               TEXT    NOT NULL,
    time_zone              TEXT    NOT NULL,
    pausable               INTEGER NOT NULL,
    initial_target_seconds INTEGER,
    target_seconds         INTEGER,
    transitions            TEXT    NOT NULL,
    state                  TEXT    NOT NULL,
    deadline               TEXT,
    at_risk_from           TEXT,
    breached_at            TEXT,
    last_position          INTEGER NOT NULL,
    PRIMARY KEY (request_id, metric)
) STRICT, WITHOUT ROWID;
INSERT INTO sla_clocks_keyed
SELECT request_id, metric, request_kind, contract_id, tier, policy_version, priority, calendar,
       time_zone, pausable, initial_target_seconds, target_seconds, transitions, state,
       deadline, at_risk_from, breached_at, last_position
FROM sla_clocks;
DROP TABLE sla_clocks;
ALTER TABLE sla_clocks_keyed RENAME TO sla_clocks;
CREATE INDEX sla_clocks_by_deadline ON sla_clocks (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX sla_clocks_by_contract_deadline ON sla_clocks (contract_id, deadline) WHERE deadline IS NOT NULL;

CREATE TABLE request_list_keyed
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
) STRICT, WITHOUT ROWID;
INSERT INTO request_list_keyed
SELECT request_id, kind, contract_id, contract_name, name, reference, created_at, created_by,
       created_on_behalf_of, detailed_status, portal_status, last_update_at, last_position
FROM request_list;
DROP TABLE request_list;
ALTER TABLE request_list_keyed RENAME TO request_list;
