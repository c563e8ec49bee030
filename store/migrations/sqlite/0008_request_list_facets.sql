-- The request list keeps 4 facets per request instead of one per filter combination (12):
-- a filter by kind or status unites the seeks of the facets it covers
-- (projections/src/request_list.rs). The view is emptied and its checkpoint removed, so the
-- projector rebuilds it from the log as a new projection.
DELETE FROM request_list_facets;
DELETE FROM request_list_terms;
DELETE FROM request_list;
DELETE FROM request_list_contract_terms;
DELETE FROM request_list_contracts;
DELETE FROM projection_checkpoints WHERE name = 'request_list';
