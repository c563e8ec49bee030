-- Appends conditioned on the command's read set (store/src/read_set.rs): the streams its
-- decision read, each with the last sequence seen. A read set is a JSON array of objects
-- with aggregate_type, aggregate_id and sequence (0: the stream did not exist).

-- The index from 0 of the first stream of `read_set` that has grown since it was read, or
-- NULL. Meaningful only once the head row is taken: every append takes it before writing,
-- so from then on no stream grows until the transaction ends.
-- PL/pgSQL rather than SQL: its statements keep their plans from call to call, where a SQL
-- function called from PL/pgSQL is planned at every call (that cost 0.27 ms per append).
CREATE FUNCTION sablier_stale_entry(read_set JSON) RETURNS INT
LANGUAGE plpgsql AS $$
DECLARE
    read  JSON;
    entry INT := 0;
BEGIN
    FOR read IN SELECT value FROM json_array_elements(read_set) LOOP
        IF COALESCE((SELECT max(sequence) FROM events
                      WHERE aggregate_type = read ->> 'aggregate_type'
                        AND aggregate_id = read ->> 'aggregate_id'), 0)
           <> (read ->> 'sequence')::BIGINT THEN
            RETURN entry;
        END IF;
        entry := entry + 1;
    END LOOP;
    RETURN NULL;
END;
$$;

-- `sablier_append` conditioned on a read set: when a stream read has grown, nothing is
-- written and the error SB001 names the entry (its index from 0) in its detail. The read
-- set is checked right after the head row is taken (each statement, in READ COMMITTED,
-- sees every append committed before); `sablier_append` becomes the unconditioned case.
CREATE FUNCTION sablier_append_checked(events JSON, read_set JSON) RETURNS SETOF BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    event         JSON;
    next_position BIGINT;
    head_hash     TEXT;
    payload       TEXT;
    metadata      TEXT;
    stale         INT;
BEGIN
    UPDATE event_log_head
       SET last_position = last_position + json_array_length(events)
     WHERE id = 1
 RETURNING last_position - json_array_length(events), last_hash
      INTO next_position, head_hash;
    IF json_array_length(read_set) > 0 THEN
        stale := sablier_stale_entry(read_set);
        IF stale IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SB001',
                MESSAGE = 'a stream the command read has changed since',
                DETAIL = stale::TEXT;
        END IF;
    END IF;
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

CREATE OR REPLACE FUNCTION sablier_append(events JSON) RETURNS SETOF BIGINT
LANGUAGE sql AS $$
    SELECT sablier_append_checked(events, '[]'::JSON)
$$;

-- Group commit with read sets (store/src/group_commit.rs): the appends of several commands
-- in one transaction, each in a subtransaction of its own, so that a command that cannot
-- be written leaves the others' events in. `commands` is a JSON array of objects with
-- `events` (what `sablier_append` takes) and `read_set`. One row per command, in order:
-- its index from 0, its positions, or NULL positions when a sequence it wanted was taken
-- (stale_entry NULL) or a stream it read had grown (stale_entry: which).
--
-- Tried and not kept: checking each command's sequences before it writes, with no
-- subtransaction (one index look-up per event); it was slower in the one comparison made.
DROP FUNCTION sablier_append_group(JSON);
CREATE FUNCTION sablier_append_group(commands JSON)
    RETURNS TABLE (command INT, positions BIGINT[], stale_entry INT)
LANGUAGE plpgsql AS $$
DECLARE
    appended JSON;
BEGIN
    command := 0;
    FOR appended IN SELECT value FROM json_array_elements(commands) LOOP
        stale_entry := NULL;
        BEGIN
            positions := ARRAY(SELECT sablier_append_checked(appended -> 'events',
                                                             appended -> 'read_set'));
        EXCEPTION
            WHEN unique_violation THEN
                positions := NULL;
            WHEN SQLSTATE 'SB001' THEN
                positions := NULL;
                GET STACKED DIAGNOSTICS stale_entry = PG_EXCEPTION_DETAIL;
        END;
        RETURN NEXT;
        command := command + 1;
    END LOOP;
END;
$$;
