-- Which summit a quarantined event claimed to belong to (when it could be parsed), so a summit's
-- log can show what was refused for it.
ALTER TABLE quarantine ADD COLUMN summit_id uuid;
CREATE INDEX quarantine_by_summit ON quarantine (summit_id) WHERE summit_id IS NOT NULL;
