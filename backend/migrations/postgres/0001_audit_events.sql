-- Every state change knit makes or refuses: who, when, what, from where, and how it ended.
-- Append-only: knit inserts rows and never updates or deletes them.
CREATE TABLE audit_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- RFC 3339 UTC with milliseconds, written by knit (as in SQLite).
    at          TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    address     TEXT,
    action      TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    outcome     TEXT   NOT NULL
);

CREATE INDEX audit_events_at ON audit_events (at);
