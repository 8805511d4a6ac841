CREATE TABLE inspections (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    inspector_id TEXT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    scheduled_for TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    visited_at TIMESTAMP,
    seats_declared INTEGER,
    seats_observed INTEGER,
    staff_present INTEGER,
    foreign_nationals_present INTEGER,
    findings TEXT NOT NULL,
    outcome TEXT,
    notes TEXT,
    evidence TEXT NOT NULL,
    cancel_reason TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX inspections_site ON inspections (site_id);
CREATE INDEX inspections_inspector ON inspections (inspector_id);

CREATE TABLE enforcement_items (
    id TEXT PRIMARY KEY NOT NULL,
    licence_number TEXT NOT NULL REFERENCES licences (licence_number),
    site_id TEXT NOT NULL REFERENCES sites (id),
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    status TEXT NOT NULL,
    raised_because TEXT NOT NULL,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX enforcement_items_licence ON enforcement_items (licence_number, status);
