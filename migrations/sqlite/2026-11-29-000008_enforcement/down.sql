DELETE FROM registry_locks WHERE name = 'reports';
DROP TABLE report_alerts;
DELETE FROM enforcement_items WHERE inspection_id IS NULL;
CREATE TABLE enforcement_items_old (
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
INSERT INTO enforcement_items_old SELECT id, licence_number, site_id, inspection_id, status,
    raised_because, resolution, resolved_by, resolved_at, version, created_at FROM enforcement_items;
DROP TABLE enforcement_items;
ALTER TABLE enforcement_items_old RENAME TO enforcement_items;
CREATE INDEX enforcement_items_licence ON enforcement_items (licence_number, status);
CREATE TRIGGER enforcement_items_status_check_insert BEFORE INSERT ON enforcement_items
    WHEN NOT (NEW.status IN ('open', 'dismissed', 'resolved'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: enforcement_items_status_check'); END;
CREATE TRIGGER enforcement_items_status_check_update BEFORE UPDATE OF status ON enforcement_items
    WHEN NOT (NEW.status IN ('open', 'dismissed', 'resolved'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: enforcement_items_status_check'); END;
DROP TABLE reports;
DROP TABLE barred_persons;
DROP TABLE violations;
