-- Appends conditioned on the command's read set (store/src/read_set.rs): the streams its
-- decision read, each with the last sequence seen. A read set is a JSON array of objects
-- with aggregate_type, aggregate_id and sequence (0: the stream did not exist).

-- The index from 0 of the first stream of `read_set` that has grown since it was read, or
-- NULL. Meaningful only once the head row is taken: every append takes it before writing,
-- so from then on no stream grows until the transaction ends.
CREATE FUNCTION sablier_stale_entry(read_set JSON) RETURNS INT
LANGUAGE sql AS $$
    SELECT (entry.ordinality - 1)::INT
      FROM json_array_elements(read_set) WITH ORDINALITY AS entry (read, ordinality)
     WHERE COALESCE((SELECT max(sequence) FROM events
                      WHERE aggregate_type = entry.read ->> 'aggregate_type'
                        AND aggregate_id = entry.read ->> 'aggregate_id'), 0)
           <> (entry.read ->> 'sequence')::BIGINT
     ORDER BY entry.ordinality
     LIMIT 1
$$;

-- `sablier_append` conditioned on a read set: when a stream read has grown, nothing is
-- written and the error SB001 names the entry (its index from 0) in its detail.
CREATE FUNCTION sablier_append_checked(events JSON, read_set JSON) RETURNS SETOF BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    stale INT;
BEGIN
    -- Each statement below (READ COMMITTED, a snapshot per statement) sees every append
    -- committed before the head row became ours.
    PERFORM 1 FROM event_log_head WHERE id = 1 FOR UPDATE;
    stale := sablier_stale_entry(read_set);
    IF stale IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SB001',
            MESSAGE = 'a stream the command read has changed since',
            DETAIL = stale::TEXT;
    END IF;
    RETURN QUERY SELECT sablier_append(events);
END;
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
