-- An uploaded file belongs to the contract it was uploaded for: a change may list, and its
-- readers download, only files uploaded for the change's own contract. The bytes stay
-- stored once per digest in `attachment_blobs`; this table says which contracts own them.
CREATE TABLE attachment_uploads
(
    contract_id TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (contract_id, sha256)
);

-- Files uploaded before this migration were stored without their contract. Each goes to
-- the contracts whose changes already list it (from the log: the contract a change's
-- first event names, the attachments every draft or submission of it lists), so every
-- change keeps its attachments downloadable. A file no change lists stays unowned: it
-- can be listed again only once uploaded again for a contract.
INSERT INTO attachment_uploads (contract_id, sha256, uploaded_by, uploaded_at)
WITH change_contracts AS (
    SELECT aggregate_id,
           coalesce(payload -> 'ChangeDraftSaved' ->> 'contract',
                    payload -> 'ChangeSubmitted' ->> 'contract') AS contract_id
    FROM events
    WHERE aggregate_type = 'Change' AND sequence = 1
),
listings AS (
    SELECT aggregate_id,
           coalesce(payload -> 'ChangeDraftSaved' -> 'form' -> 'attachments',
                    payload -> 'ChangeDraftEdited' -> 'form' -> 'attachments',
                    payload -> 'ChangeSubmitted' -> 'attachments') AS attachments
    FROM events
    WHERE aggregate_type = 'Change'
      AND event_type IN ('ChangeDraftSaved', 'ChangeDraftEdited', 'ChangeSubmitted')
)
SELECT change_contracts.contract_id, blob.sha256, blob.uploaded_by, blob.uploaded_at
FROM listings
JOIN change_contracts ON change_contracts.aggregate_id = listings.aggregate_id
CROSS JOIN LATERAL json_array_elements(
    CASE WHEN json_typeof(listings.attachments) = 'array' THEN listings.attachments ELSE '[]'::json END
) AS item
JOIN attachment_blobs AS blob ON blob.sha256 = lower(item ->> 'sha256')
WHERE change_contracts.contract_id IS NOT NULL
GROUP BY change_contracts.contract_id, blob.sha256;

-- Idempotency records expire: the server deletes those older than its retention.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Records now belong to the token's id (they were keyed by a hash of the Authorization
-- header, checked after the record was written); the old ones can never be matched again.
DELETE FROM idempotency_keys;
