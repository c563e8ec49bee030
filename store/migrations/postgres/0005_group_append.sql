-- Group commit (store/src/group_commit.rs): the appends of several commands in one
-- transaction, each in a subtransaction of its own, so that a command whose sequence was
-- already taken leaves the others' events in. `commands` is a JSON array of what
-- `sablier_append` takes (one array of events per command); one row per command, in
-- order: its index from 0 and its positions, or NULL positions when it conflicted.
CREATE FUNCTION sablier_append_group(commands JSON)
    RETURNS TABLE (command INT, positions BIGINT[])
LANGUAGE plpgsql AS $$
DECLARE
    events JSON;
BEGIN
    command := 0;
    FOR events IN SELECT value FROM json_array_elements(commands) LOOP
        BEGIN
            positions := ARRAY(SELECT sablier_append(events));
        EXCEPTION WHEN unique_violation THEN
            positions := NULL;
        END;
        RETURN NEXT;
        command := command + 1;
    END LOOP;
END;
$$;
