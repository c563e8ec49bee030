-- A view that cannot apply an event stops at it, alone, and says so on its checkpoint row
-- (projections/src/projector.rs): the position of the event it cannot apply, the event and
-- why, and since when (RFC 3339 UTC). All NULL while the view follows the log.
ALTER TABLE projection_checkpoints ADD COLUMN stalled_at INTEGER;
ALTER TABLE projection_checkpoints ADD COLUMN stall_reason TEXT;
ALTER TABLE projection_checkpoints ADD COLUMN stalled_since TEXT;
