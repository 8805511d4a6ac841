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
    content BYTEA NOT NULL,
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

ALTER TABLE licences DROP CONSTRAINT licences_status_check;
ALTER TABLE licences ADD CONSTRAINT licences_status_check
    CHECK (status IN ('provisional', 'active', 'suspended', 'revoked', 'surrendered'));
ALTER TABLE licences ADD CONSTRAINT licences_provisional_check
    CHECK (status <> 'provisional' OR provisional_until IS NOT NULL);
ALTER TABLE licence_events DROP CONSTRAINT licence_events_event_type_check;
ALTER TABLE licence_events ADD CONSTRAINT licence_events_event_type_check
    CHECK (event_type IN ('issued', 'confirmed', 'suspended', 'reinstated', 'revoked',
                          'surrendered', 'renewed'));
ALTER TABLE licence_events DROP CONSTRAINT licence_events_status_check;
ALTER TABLE licence_events ADD CONSTRAINT licence_events_status_check
    CHECK (status IN ('provisional', 'active', 'suspended', 'revoked', 'expired', 'lapsed',
                      'surrendered'));
ALTER TABLE licence_events ADD COLUMN provisional_until TIMESTAMP;

-- A bulk item of no known type is logged as `invalid`.
ALTER TABLE verification_log DROP CONSTRAINT verification_log_query_type_check;
ALTER TABLE verification_log ADD CONSTRAINT verification_log_query_type_check
    CHECK (query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid'));
