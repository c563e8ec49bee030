-- A billing line whose amount is above Cents::MAX (a quote written before amounts were
-- bounded) is not billed and no longer stops the billing view: it keeps no amount
-- (`amount_cents` NULL) and the amount as written, in decimal digits, in
-- `refused_amount_cents`, until an administrator's quote correction gives it one. Exactly
-- one of the two is set.
ALTER TABLE billing_lines ALTER COLUMN amount_cents DROP NOT NULL;
ALTER TABLE billing_lines ADD COLUMN refused_amount_cents TEXT;
ALTER TABLE billing_lines ADD CONSTRAINT billing_lines_amount_or_refusal
    CHECK ((amount_cents IS NULL) <> (refused_amount_cents IS NULL));
