CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    site_ids TEXT NOT NULL,
    category TEXT NOT NULL,
    term_months INTEGER NOT NULL,
    renewal_of TEXT,
    status TEXT NOT NULL,
    history TEXT NOT NULL,
    licence_number TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_organisation ON applications (organisation_id);
CREATE INDEX applications_status ON applications (status);

-- status holds active, suspended, revoked or surrendered; `expired` is derived from
-- expires_at at read time, so it is right at once whatever a background job has done.
CREATE TABLE licences (
    licence_number TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    holder TEXT NOT NULL,
    site_ids TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    suspended_until TEXT,
    conditions TEXT NOT NULL,
    history TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX licences_organisation ON licences (organisation_id);

-- The change feed. seq is taken from the 'events' lock row inside the writing transaction,
-- which holds that row until commit: seqs become visible in commit order, without gaps.
CREATE TABLE licence_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    licence_number TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    at TIMESTAMP NOT NULL
);

INSERT INTO registry_locks (name, counter) VALUES ('licence_serial', 0), ('events', 0);
