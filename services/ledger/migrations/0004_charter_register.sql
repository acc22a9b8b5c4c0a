-- The register vocabulary a summit's charter declares (ledger.summit.created v2, docs/ledger.md):
-- the allow-list of feature names and values. NULL for summits chartered before v2.
ALTER TABLE summits ADD COLUMN register jsonb;
