-- Who approved or rejected a run that needed approval, and what they said.
ALTER TABLE runs ADD COLUMN decided_by TEXT;
ALTER TABLE runs ADD COLUMN decision TEXT;
