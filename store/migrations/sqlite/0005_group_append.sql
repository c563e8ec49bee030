-- Group commit needs no schema on SQLite (store/src/group_commit.rs uses savepoints); this
-- migration keeps both backends' migration numbers aligned with PostgreSQL's 0005.
SELECT 1;
