-- The licensing dossier (API.md §10): documents, invoices and payments, clearances, and the
-- provisional licence.

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL,
    person_id TEXT REFERENCES people (id),
    site_id TEXT REFERENCES sites (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    CHECK (kind IN ('incorporation_certificate', 'tax_certificate', 'identity_document',
                    'premises_proof', 'bank_letter', 'fee_receipt', 'other')),
    CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    CHECK (kind <> 'identity_document' OR person_id IS NOT NULL),
    CHECK (kind <> 'premises_proof' OR site_id IS NOT NULL)
);
CREATE INDEX documents_organisation ON documents (organisation_id);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL UNIQUE REFERENCES applications (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    currency TEXT NOT NULL CHECK (currency = 'PKR'),
    lines TEXT NOT NULL,
    total_minor BIGINT NOT NULL CHECK (total_minor >= 0),
    paid_minor BIGINT NOT NULL CHECK (paid_minor >= 0 AND paid_minor <= total_minor),
    issued_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX invoices_organisation ON invoices (organisation_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    paid_at TIMESTAMP NOT NULL,
    channel TEXT NOT NULL,
    reference TEXT NOT NULL,
    receipt_document_id TEXT REFERENCES documents (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id);

CREATE TABLE clearances (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    agency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'objected')),
    requested_at TIMESTAMP NOT NULL,
    due_by TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT,
    reference TEXT,
    reason TEXT,
    version BIGINT NOT NULL,
    UNIQUE (application_id, agency)
);
CREATE INDEX clearances_agency ON clearances (agency, status);

ALTER TABLE agency_clients ADD COLUMN clears TEXT;
ALTER TABLE applications ADD COLUMN invoice_id TEXT;
ALTER TABLE licences ADD COLUMN provisional_until TIMESTAMP;

-- The enum checks of 000006 widen for the provisional licence (triggers, as there).
DROP TRIGGER licences_status_check_insert;
CREATE TRIGGER licences_status_check_insert BEFORE INSERT ON licences
    WHEN NOT (NEW.status IN ('provisional', 'active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
DROP TRIGGER licences_status_check_update;
CREATE TRIGGER licences_status_check_update BEFORE UPDATE OF status ON licences
    WHEN NOT (NEW.status IN ('provisional', 'active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
CREATE TRIGGER licences_provisional_check_insert BEFORE INSERT ON licences
    WHEN NEW.status = 'provisional' AND NEW.provisional_until IS NULL
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_provisional_check'); END;
CREATE TRIGGER licences_provisional_check_update BEFORE UPDATE ON licences
    WHEN NEW.status = 'provisional' AND NEW.provisional_until IS NULL
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_provisional_check'); END;
DROP TRIGGER licence_events_event_type_check_insert;
CREATE TRIGGER licence_events_event_type_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'confirmed', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
DROP TRIGGER licence_events_event_type_check_update;
CREATE TRIGGER licence_events_event_type_check_update BEFORE UPDATE OF event_type ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'confirmed', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
DROP TRIGGER licence_events_status_check_insert;
CREATE TRIGGER licence_events_status_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.status IN ('provisional', 'active', 'suspended', 'revoked', 'expired', 'lapsed', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
DROP TRIGGER licence_events_status_check_update;
CREATE TRIGGER licence_events_status_check_update BEFORE UPDATE OF status ON licence_events
    WHEN NOT (NEW.status IN ('provisional', 'active', 'suspended', 'revoked', 'expired', 'lapsed', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
ALTER TABLE licence_events ADD COLUMN provisional_until TIMESTAMP;

-- A bulk item of no known type is logged as `invalid`.
DROP TRIGGER verification_log_query_type_check_insert;
CREATE TRIGGER verification_log_query_type_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
DROP TRIGGER verification_log_query_type_check_update;
CREATE TRIGGER verification_log_query_type_check_update BEFORE UPDATE OF query_type ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
