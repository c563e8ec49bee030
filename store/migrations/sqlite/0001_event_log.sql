-- The event log. Column names of the first seven columns are those sqlite-es reads.
-- `position` is the global position: dense, assigned in commit order under the write lock.
-- `hash` chains every event to the one before it (see store/src/seal.rs).
CREATE TABLE events
(
    position       INTEGER PRIMARY KEY,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE INDEX events_by_type_and_position ON events (aggregate_type, position);

-- One row: the last position written and the hash of that event (the chain's head).
CREATE TABLE event_log_head
(
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_position INTEGER NOT NULL,
    last_hash     TEXT    NOT NULL
) STRICT;

INSERT INTO event_log_head (id, last_position, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Order reference sequences, unique per contract and month (gaps allowed, never reused).
CREATE TABLE order_reference_counters
(
    contract_id   TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    last_sequence INTEGER NOT NULL,
    PRIMARY KEY (contract_id, month)
) STRICT;
