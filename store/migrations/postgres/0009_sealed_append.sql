-- Appends sealed by the writer (store/src/group_commit.rs): the process that last moved the
-- head knows it, so it computes the positions and the hash chain itself (store/src/seal.rs),
-- and the server only checks that the head is still where the writer left it, checks the
-- read set, and inserts the rows: one row update, one insert, no JSON to take apart.
--
-- Returns FALSE, writing nothing, when the head has moved (another process appended): the
-- writer then appends through `sablier_append_group`, which seals on the server. A stale
-- read set raises SB001 and a sequence already taken raises unique_violation, either of
-- which undoes the whole statement; the writer then goes the same way, which tells which
-- command it was.
CREATE FUNCTION sablier_append_sealed(
    expected_position BIGINT,
    expected_hash     TEXT,
    new_position      BIGINT,
    new_hash          TEXT,
    read_set          JSON,
    positions         BIGINT[],
    aggregate_types   TEXT[],
    aggregate_ids     TEXT[],
    sequences         BIGINT[],
    event_types       TEXT[],
    event_versions    TEXT[],
    payload_texts     TEXT[],
    metadata_texts    TEXT[],
    hashes            TEXT[]
) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    stale INT;
BEGIN
    UPDATE event_log_head
       SET last_position = new_position, last_hash = new_hash
     WHERE id = 1 AND last_position = expected_position AND last_hash = expected_hash;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    IF json_array_length(read_set) > 0 THEN
        stale := sablier_stale_entry(read_set);
        IF stale IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SB001',
                MESSAGE = 'a stream the command read has changed since',
                DETAIL = stale::TEXT;
        END IF;
    END IF;
    INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type,
                        event_version, payload, metadata, hash)
    SELECT * FROM unnest(positions, aggregate_types, aggregate_ids, sequences, event_types,
                         event_versions, payload_texts::JSON[], metadata_texts::JSON[], hashes);
    RETURN TRUE;
END;
$$;
