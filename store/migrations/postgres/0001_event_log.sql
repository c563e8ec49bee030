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

-- Appends one command's events in one round trip: takes the head row (serializing appends),
-- assigns positions and chains hashes exactly as store/src/seal.rs does, and returns the
-- positions. `events` is a JSON array of objects with aggregate_type, aggregate_id,
-- sequence, event_type, event_version, and payload / metadata as their exact JSON text.
CREATE FUNCTION sablier_append(events JSON) RETURNS SETOF BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    event         JSON;
    next_position BIGINT;
    head_hash     TEXT;
    payload       TEXT;
    metadata      TEXT;
BEGIN
    UPDATE event_log_head
       SET last_position = last_position + json_array_length(events)
     WHERE id = 1
 RETURNING last_position - json_array_length(events), last_hash
      INTO next_position, head_hash;
    FOR event IN SELECT value FROM json_array_elements(events) LOOP
        next_position := next_position + 1;
        payload := event ->> 'payload';
        metadata := event ->> 'metadata';
        head_hash := encode(sha256(convert_to(
            head_hash || E'\n' || next_position::text
            || E'\n' || (event ->> 'aggregate_type')
            || E'\n' || (event ->> 'aggregate_id')
            || E'\n' || (event ->> 'sequence')
            || E'\n' || (event ->> 'event_type')
            || E'\n' || (event ->> 'event_version')
            || E'\n' || octet_length(convert_to(payload, 'UTF8'))::text || ':' || payload
            || E'\n' || octet_length(convert_to(metadata, 'UTF8'))::text || ':' || metadata,
            'UTF8')), 'hex');
        INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type,
                            event_version, payload, metadata, hash)
        VALUES (next_position, event ->> 'aggregate_type', event ->> 'aggregate_id',
                (event ->> 'sequence')::BIGINT, event ->> 'event_type', event ->> 'event_version',
                payload::JSON, metadata::JSON, head_hash);
        RETURN NEXT next_position;
    END LOOP;
    UPDATE event_log_head SET last_hash = head_hash WHERE id = 1;
END;
$$;
