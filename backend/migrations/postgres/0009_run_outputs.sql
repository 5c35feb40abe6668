-- What each host reported in a run (`::knit-output name=value`), for the hosts whose steps all
-- ended well: the cluster's page shows each host's latest as what it runs now.
CREATE TABLE run_outputs (
    run_id BIGINT NOT NULL,
    host   TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, host, name)
);
