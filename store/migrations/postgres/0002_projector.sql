-- Each projection's checkpoint: the last feed position applied to its view. Moved in the
-- same transaction as the view changes it covers.
CREATE TABLE projection_checkpoints
(
    name     TEXT    PRIMARY KEY,
    position BIGINT NOT NULL
);

-- SLA clocks: one row per request and metric, with the transitions the events carried.
-- State, remaining time and verdict are computed by sablier-sla at read time for any
-- instant; `deadline`, `at_risk_from` and `breached_at` are as of the last transition
-- (they hold until the next one) and feed the breach watch. Instants are RFC 3339 UTC
-- text (`YYYY-MM-DDTHH:MM:SSZ`), which sorts like time.
CREATE TABLE sla_clocks
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
    pausable               BIGINT  NOT NULL,
    initial_target_seconds BIGINT,
    target_seconds         BIGINT,
    transitions            TEXT    NOT NULL,
    state                  TEXT    NOT NULL,
    deadline               TEXT,
    at_risk_from           TEXT,
    breached_at            TEXT,
    last_position          BIGINT  NOT NULL,
    PRIMARY KEY (request_id, metric)
);

CREATE INDEX sla_clocks_by_deadline ON sla_clocks (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX sla_clocks_by_contract_deadline ON sla_clocks (contract_id, deadline) WHERE deadline IS NOT NULL;

-- The contract directory: what the API authorizes from.
CREATE TABLE directory_contracts
(
    contract_id   TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    offer         TEXT    NOT NULL,
    company       TEXT    NOT NULL,
    time_zone     TEXT    NOT NULL,
    referent      TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    last_position BIGINT NOT NULL
);

CREATE TABLE directory_users
(
    contract_id TEXT NOT NULL,
    login       TEXT NOT NULL,
    email       TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    roles       TEXT NOT NULL,
    PRIMARY KEY (contract_id, login)
);

CREATE INDEX directory_users_by_login ON directory_users (login);

-- SLA tier timeline: `tier` applies from `effective_at`; billing dates alongside.
CREATE TABLE directory_tiers
(
    contract_id          TEXT    NOT NULL,
    effective_at         TEXT    NOT NULL,
    tier                 TEXT    NOT NULL,
    change               TEXT    NOT NULL,
    decided_at           TEXT    NOT NULL,
    billing_effective_on TEXT    NOT NULL,
    position             BIGINT  NOT NULL,
    PRIMARY KEY (contract_id, position)
);
