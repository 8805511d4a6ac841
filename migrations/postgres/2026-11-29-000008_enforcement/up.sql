-- Enforcement intelligence (API.md §11): violations, barred persons, public reports, and an
-- enforcement queue whose items may come from a violation or from reports, not only from an
-- inspection.

CREATE TABLE violations (
    id TEXT PRIMARY KEY NOT NULL,
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    licence_number TEXT REFERENCES licences (licence_number),
    code TEXT NOT NULL,
    severity TEXT NOT NULL CONSTRAINT violations_severity_check
        CHECK (severity IN ('info', 'minor', 'major', 'critical')),
    description TEXT NOT NULL,
    due_by DATE,
    status TEXT NOT NULL CONSTRAINT violations_status_check CHECK (status IN ('open', 'resolved')),
    resolved_at TIMESTAMP,
    resolved_by TEXT,
    resolution TEXT,
    -- Set once, by the sweep that put the overdue violation's licence on the queue.
    queued_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX violations_site ON violations (site_id, status);
CREATE INDEX violations_organisation ON violations (organisation_id);

CREATE TABLE barred_persons (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    full_name TEXT NOT NULL,
    licence_number TEXT NOT NULL REFERENCES licences (licence_number),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    barred_at TIMESTAMP NOT NULL,
    barred_until TIMESTAMP NOT NULL
);
CREATE INDEX barred_persons_identity ON barred_persons (id_type, id_number);

CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL,
    site_id TEXT REFERENCES sites (id),
    called_at TIMESTAMP NOT NULL,
    category TEXT NOT NULL CONSTRAINT reports_category_check
        CHECK (category IN ('fraud', 'impersonation', 'harassment', 'spam', 'other')),
    description TEXT NOT NULL,
    contact TEXT,
    status TEXT NOT NULL CONSTRAINT reports_status_check CHECK (status IN ('new', 'triaged', 'dismissed')),
    triage_reason TEXT,
    triaged_by TEXT,
    triaged_at TIMESTAMP,
    inspection_id TEXT REFERENCES inspections (id),
    version BIGINT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_site ON reports (site_id, received_at);

ALTER TABLE enforcement_items ALTER COLUMN inspection_id DROP NOT NULL;
ALTER TABLE enforcement_items ADD COLUMN cause TEXT NOT NULL DEFAULT 'inspection'
    CONSTRAINT enforcement_items_cause_check CHECK (cause IN ('inspection', 'violation', 'reports'));
ALTER TABLE enforcement_items ADD COLUMN violation_id TEXT UNIQUE REFERENCES violations (id);
ALTER TABLE enforcement_items ADD CONSTRAINT enforcement_items_inspection_check
    CHECK (cause <> 'inspection' OR inspection_id IS NOT NULL);
ALTER TABLE enforcement_items ADD CONSTRAINT enforcement_items_violation_check
    CHECK (cause <> 'violation' OR violation_id IS NOT NULL);

-- One item per licence for its reports, ever: the primary key is the second lock.
CREATE TABLE report_alerts (
    licence_number TEXT PRIMARY KEY NOT NULL REFERENCES licences (licence_number),
    site_id TEXT NOT NULL REFERENCES sites (id),
    enforcement_item_id TEXT NOT NULL REFERENCES enforcement_items (id),
    raised_at TIMESTAMP NOT NULL
);
INSERT INTO registry_locks (name, counter) VALUES ('reports', 0);
