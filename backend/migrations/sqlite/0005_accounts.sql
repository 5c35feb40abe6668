-- People who sign in to the console. Only an argon2id hash of each password is kept.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Signed-in browsers, by the SHA-256 of the cookie's secret: a copy of this table signs no one in.
CREATE TABLE sessions (
    secret_hash   TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_name);

-- Tokens for scripts, by the SHA-256 of their secret, shown once when created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name    TEXT NOT NULL,
    label        TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
