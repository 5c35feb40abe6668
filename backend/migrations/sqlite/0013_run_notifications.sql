-- How each notification of a run went: one row per event and receiver (its place in the
-- definition's notify list, and its host name; never its URL).
CREATE TABLE run_notifications (
    run_id   BIGINT  NOT NULL REFERENCES runs (id),
    event    TEXT    NOT NULL,
    position INTEGER NOT NULL,
    receiver TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    attempts INTEGER NOT NULL,
    error    TEXT,
    PRIMARY KEY (run_id, event, position)
);
