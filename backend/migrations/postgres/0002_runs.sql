-- Runs of a scenario on a cluster, and every event of each run (cells starting and ending, each
-- line of output), written as they happen so a run is never lost.
CREATE TABLE runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cluster     TEXT   NOT NULL,
    scenario    TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    status      TEXT   NOT NULL DEFAULT 'running',
    -- The steps and hosts of the run (JSON of knit_shared::RunPlan).
    plan        TEXT   NOT NULL,
    -- The process running it and its machine's hostname: a run whose process is gone, or
    -- that has not said it was alive (alive_at_ms) for long, was interrupted.
    pid         BIGINT NOT NULL,
    hostname    TEXT   NOT NULL,
    alive_at_ms BIGINT NOT NULL,
    started_at  TEXT   NOT NULL,
    finished_at TEXT
);

-- The lock: one running run per cluster, held across every process sharing the database.
CREATE UNIQUE INDEX runs_one_running_per_cluster ON runs (cluster) WHERE status = 'running';
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE run_events (
    run_id  BIGINT NOT NULL REFERENCES runs (id),
    seq     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL,
    -- JSON of knit_shared::RunEventBody.
    body    TEXT   NOT NULL,
    PRIMARY KEY (run_id, seq)
);
