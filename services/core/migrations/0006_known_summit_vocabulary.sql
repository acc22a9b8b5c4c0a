-- The register vocabulary of each known summit, learned from its charter
-- (ledger.summit.created v2; services/core/summits.py). NULL: a v1 charter, which declares none,
-- so the lottery refuses that summit's register and pool members (issue 10 H1/H2).
ALTER TABLE known_summits ADD COLUMN features jsonb;
