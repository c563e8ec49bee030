-- Where a server that found its storage full tries a write of some size before it says
-- it is ready again (`EventLog::probe_write`): the row is written, then deleted. Stored
-- uncompressed, so the write takes the room it says.
CREATE TABLE storage_probe (
    id BIGINT PRIMARY KEY,
    payload BYTEA NOT NULL
);
ALTER TABLE storage_probe ALTER COLUMN payload SET STORAGE EXTERNAL;
