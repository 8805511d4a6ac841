-- The portal's sessions (API.md §14): the cookie's value is kept only as its SHA-256, so a
-- copy of this table signs nobody in; every process reads the same rows.
CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
