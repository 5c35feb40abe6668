-- Launches from the wizard, by client token: the same token twice launches once, even where
-- the EC2 endpoint does not honour ClientToken itself.
CREATE TABLE launches (
    client_token TEXT PRIMARY KEY,
    actor        TEXT NOT NULL,
    region       TEXT NOT NULL,
    -- JSON of knit_shared::LaunchResponse once the launch ended; NULL while it goes on.
    response     TEXT,
    started_at   TEXT NOT NULL
);
