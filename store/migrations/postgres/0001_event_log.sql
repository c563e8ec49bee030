-- The event log. Column names of the first seven columns are those postgres-es reads.
-- `position` is the global position: dense, assigned in commit order while the
-- transaction holds the row lock on event_log_head (see store/src/event_log.rs).
-- `hash` chains every event to the one before it (see store/src/seal.rs).
CREATE TABLE events
(
    position       BIGINT PRIMARY KEY,
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL CHECK (sequence >= 1),
    event_type     TEXT   NOT NULL,
    event_version  TEXT   NOT NULL,
    payload        JSON   NOT NULL,
    metadata       JSON   NOT NULL,
    hash           TEXT   NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX events_by_type_and_position ON events (aggregate_type, position);

CREATE TABLE event_log_head
(
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_position BIGINT NOT NULL,
    last_hash     TEXT   NOT NULL
);

INSERT INTO event_log_head (id, last_position, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE order_reference_counters
(
    contract_id   TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    last_sequence BIGINT  NOT NULL,
    PRIMARY KEY (contract_id, month)
);
