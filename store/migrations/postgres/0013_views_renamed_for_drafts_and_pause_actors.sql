-- Two views are renamed because what they hold changed, so each is rebuilt from the log by
-- its own rules when the projector next starts (a view without a checkpoint backfills):
-- `request_list` becomes `request_list_v2` (change drafts are listed, for their author
-- and the Services managers of their contract) and `sla_clocks_v2` becomes
-- `sla_clocks_v3` (a pause names its actor). The old names' checkpoints go.
DELETE FROM projection_checkpoints WHERE name IN ('request_list', 'sla_clocks_v2');
