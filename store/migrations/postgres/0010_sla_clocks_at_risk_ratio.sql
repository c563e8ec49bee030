-- Each SLA clock keeps the at-risk ratio of the policy it is pinned to, beside its tier,
-- policy version and target, as an exact fraction (sla-rules `RiskRatio`): readers flag a
-- clock at risk at its own policy's share of the target (projections/src/sla_clocks).
-- Existing rows get 3/4, the ratio of default-2026, the only policy shipped so far, and the
-- engine's default, which change delivery clocks use. The projection is renamed
-- `sla_clocks_v2` all the same, so the view is rebuilt from the log by its own rules; the
-- old name's checkpoint goes.
ALTER TABLE sla_clocks ADD COLUMN at_risk_numerator BIGINT NOT NULL DEFAULT 3;
ALTER TABLE sla_clocks ADD COLUMN at_risk_denominator BIGINT NOT NULL DEFAULT 4;
DELETE FROM projection_checkpoints WHERE name = 'sla_clocks_v1';
