-- A billing line whose amount is above Cents::MAX (a quote written before amounts were
-- bounded) is not billed and no longer stops the billing view: it keeps no amount
-- (`amount_cents` NULL) and the amount as written, in decimal digits, in
-- `refused_amount_cents`, until an administrator's quote correction gives it one. Exactly
-- one of the two is set. SQLite cannot drop a NOT NULL in place: the table is copied.
CREATE TABLE billing_lines_with_refusals
(
    kind                 TEXT    NOT NULL CHECK (kind IN ('order', 'change')),
    source_id            TEXT    NOT NULL,
    contract_id          TEXT    NOT NULL,
    month                TEXT    NOT NULL,
    effective_on         TEXT    NOT NULL,
    reference            TEXT,
    label                TEXT    NOT NULL,
    amount_cents         INTEGER CHECK (amount_cents >= 0),
    refused_amount_cents TEXT,
    position             INTEGER NOT NULL,
    PRIMARY KEY (kind, source_id),
    CHECK ((amount_cents IS NULL) <> (refused_amount_cents IS NULL))
) STRICT;
INSERT INTO billing_lines_with_refusals
SELECT kind, source_id, contract_id, month, effective_on, reference, label, amount_cents, NULL,
       position
FROM billing_lines;
DROP TABLE billing_lines;
ALTER TABLE billing_lines_with_refusals RENAME TO billing_lines;
CREATE INDEX billing_lines_by_month ON billing_lines (contract_id, month, effective_on, position);
