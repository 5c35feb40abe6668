-- The run this one retries on the hosts it left undone, if any.
ALTER TABLE runs ADD COLUMN retry_of INTEGER;
