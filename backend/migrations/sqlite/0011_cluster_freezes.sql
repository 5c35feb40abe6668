-- Clusters frozen by a person: every run start is refused with the message until unfrozen.
CREATE TABLE cluster_freezes (
    cluster TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    actor TEXT NOT NULL,
    since TEXT NOT NULL
);
