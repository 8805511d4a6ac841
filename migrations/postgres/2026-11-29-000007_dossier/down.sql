ALTER TABLE verification_log DROP CONSTRAINT verification_log_query_type_check;
ALTER TABLE verification_log ADD CONSTRAINT verification_log_query_type_check
    CHECK (query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'));
ALTER TABLE licence_events DROP COLUMN provisional_until;
ALTER TABLE licence_events DROP CONSTRAINT licence_events_status_check;
ALTER TABLE licence_events ADD CONSTRAINT licence_events_status_check
    CHECK (status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'));
ALTER TABLE licence_events DROP CONSTRAINT licence_events_event_type_check;
ALTER TABLE licence_events ADD CONSTRAINT licence_events_event_type_check
    CHECK (event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'));
ALTER TABLE licences DROP CONSTRAINT licences_provisional_check;
ALTER TABLE licences DROP CONSTRAINT licences_status_check;
ALTER TABLE licences ADD CONSTRAINT licences_status_check
    CHECK (status IN ('active', 'suspended', 'revoked', 'surrendered'));
ALTER TABLE licences DROP COLUMN provisional_until;
ALTER TABLE applications DROP COLUMN invoice_id;
ALTER TABLE agency_clients DROP COLUMN clears;
DROP TABLE clearances;
DROP TABLE payments;
DROP TABLE invoices;
DROP TABLE documents;
