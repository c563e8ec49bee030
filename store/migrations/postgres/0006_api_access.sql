-- Bearer tokens of the HTTP API. Only the SHA-256 of a token is kept: the token itself is
-- shown once, when it is created. `token_id` names a token for listing and revocation.
CREATE TABLE api_tokens
(
    token_hash TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL UNIQUE,
    login      TEXT NOT NULL,
    role       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT
);

-- The first answer to each command sent with an Idempotency-Key, per caller. A row without
-- a status is a command still in progress.
CREATE TABLE idempotency_keys
(
    caller      TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      BIGINT,
    body        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (caller, key)
);

-- Files attached to changes, stored once by content (SHA-256 of the bytes).
CREATE TABLE attachment_blobs
(
    sha256      TEXT   PRIMARY KEY,
    media_type  TEXT   NOT NULL,
    size_bytes  BIGINT NOT NULL,
    content     BYTEA  NOT NULL,
    uploaded_by TEXT   NOT NULL,
    uploaded_at TEXT   NOT NULL
);
