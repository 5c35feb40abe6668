-- The values of a run's scenario parameters, as JSON (secret ones already hidden).
ALTER TABLE runs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
