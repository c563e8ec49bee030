-- Where a server that found its storage full tries a write of some size before it says
-- it is ready again (`EventLog::probe_write`): the row is written, then deleted.
CREATE TABLE storage_probe (
    id INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);
