-- Runs by status: every start looks for the unfinished ones (interrupted runs, the cluster's
-- queue); without it each start reads every run ever recorded.
CREATE INDEX runs_by_status ON runs (status, cluster);
