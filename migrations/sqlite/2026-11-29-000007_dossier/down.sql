DROP TRIGGER verification_log_query_type_check_insert;
CREATE TRIGGER verification_log_query_type_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
DROP TRIGGER verification_log_query_type_check_update;
CREATE TRIGGER verification_log_query_type_check_update BEFORE UPDATE OF query_type ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
ALTER TABLE licence_events DROP COLUMN provisional_until;
DROP TRIGGER licences_provisional_check_insert;
DROP TRIGGER licences_provisional_check_update;
DROP TRIGGER licences_status_check_insert;
CREATE TRIGGER licences_status_check_insert BEFORE INSERT ON licences
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
DROP TRIGGER licences_status_check_update;
CREATE TRIGGER licences_status_check_update BEFORE UPDATE OF status ON licences
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
DROP TRIGGER licence_events_event_type_check_insert;
CREATE TRIGGER licence_events_event_type_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
DROP TRIGGER licence_events_event_type_check_update;
CREATE TRIGGER licence_events_event_type_check_update BEFORE UPDATE OF event_type ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
DROP TRIGGER licence_events_status_check_insert;
CREATE TRIGGER licence_events_status_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
DROP TRIGGER licence_events_status_check_update;
CREATE TRIGGER licence_events_status_check_update BEFORE UPDATE OF status ON licence_events
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
ALTER TABLE licences DROP COLUMN provisional_until;
ALTER TABLE applications DROP COLUMN invoice_id;
ALTER TABLE agency_clients DROP COLUMN clears;
DROP TABLE clearances;
DROP TABLE payments;
DROP TABLE invoices;
DROP TABLE documents;
