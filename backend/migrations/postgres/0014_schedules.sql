-- Occurrences of scheduled scenarios, each claimed by the one server that starts its run: with
-- several servers on one database, the key lets exactly one insert win.
CREATE TABLE schedule_claims (
    cluster TEXT NOT NULL,
    scenario TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    PRIMARY KEY (cluster, scenario, occurrence)
);

-- Schedules an admin paused: their occurrences pass without a run until resumed.
CREATE TABLE schedule_pauses (
    cluster TEXT NOT NULL,
    scenario TEXT NOT NULL,
    actor TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (cluster, scenario)
);
