-- Which machine runs a run, and when its process last said it was alive: with a database shared
-- by several machines, a process id only means something on its own machine. Rows from before
-- have an empty hostname and count as this machine's.
ALTER TABLE runs ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN alive_at_ms INTEGER NOT NULL DEFAULT 0;
