-- SQLite cannot add a CHECK constraint to an existing table without rebuilding it (and a
-- rebuild would cascade through the foreign keys), so each rule is a pair of triggers that
-- refuse the write exactly as a CHECK would: <table>_<column>_check_insert / _update.
CREATE TRIGGER users_role_check_insert BEFORE INSERT ON users
    WHEN NOT (NEW.role IN ('admin', 'regulator', 'inspector', 'operator'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: users_role_check'); END;
CREATE TRIGGER users_role_check_update BEFORE UPDATE OF role ON users
    WHEN NOT (NEW.role IN ('admin', 'regulator', 'inspector', 'operator'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: users_role_check'); END;
CREATE TRIGGER people_id_type_check_insert BEFORE INSERT ON people
    WHEN NOT (NEW.id_type IN ('cnic', 'passport'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: people_id_type_check'); END;
CREATE TRIGGER people_id_type_check_update BEFORE UPDATE OF id_type ON people
    WHEN NOT (NEW.id_type IN ('cnic', 'passport'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: people_id_type_check'); END;
CREATE TRIGGER sites_status_check_insert BEFORE INSERT ON sites
    WHEN NOT (NEW.status IN ('active', 'closed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: sites_status_check'); END;
CREATE TRIGGER sites_status_check_update BEFORE UPDATE OF status ON sites
    WHEN NOT (NEW.status IN ('active', 'closed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: sites_status_check'); END;
CREATE TRIGGER phone_ranges_kind_check_insert BEFORE INSERT ON phone_ranges
    WHEN NOT (NEW.kind IN ('number', 'range'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: phone_ranges_kind_check'); END;
CREATE TRIGGER phone_ranges_kind_check_update BEFORE UPDATE OF kind ON phone_ranges
    WHEN NOT (NEW.kind IN ('number', 'range'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: phone_ranges_kind_check'); END;
CREATE TRIGGER phone_ranges_purpose_check_insert BEFORE INSERT ON phone_ranges
    WHEN NOT (NEW.purpose IN ('inbound', 'outbound', 'both'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: phone_ranges_purpose_check'); END;
CREATE TRIGGER phone_ranges_purpose_check_update BEFORE UPDATE OF purpose ON phone_ranges
    WHEN NOT (NEW.purpose IN ('inbound', 'outbound', 'both'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: phone_ranges_purpose_check'); END;
CREATE TRIGGER applications_category_check_insert BEFORE INSERT ON applications
    WHEN NOT (NEW.category IN ('inbound', 'outbound', 'bpo', 'mixed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: applications_category_check'); END;
CREATE TRIGGER applications_category_check_update BEFORE UPDATE OF category ON applications
    WHEN NOT (NEW.category IN ('inbound', 'outbound', 'bpo', 'mixed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: applications_category_check'); END;
CREATE TRIGGER applications_status_check_insert BEFORE INSERT ON applications
    WHEN NOT (NEW.status IN ('draft', 'submitted', 'info_requested', 'approved', 'rejected', 'withdrawn'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: applications_status_check'); END;
CREATE TRIGGER applications_status_check_update BEFORE UPDATE OF status ON applications
    WHEN NOT (NEW.status IN ('draft', 'submitted', 'info_requested', 'approved', 'rejected', 'withdrawn'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: applications_status_check'); END;
CREATE TRIGGER licences_category_check_insert BEFORE INSERT ON licences
    WHEN NOT (NEW.category IN ('inbound', 'outbound', 'bpo', 'mixed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_category_check'); END;
CREATE TRIGGER licences_category_check_update BEFORE UPDATE OF category ON licences
    WHEN NOT (NEW.category IN ('inbound', 'outbound', 'bpo', 'mixed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_category_check'); END;
CREATE TRIGGER licences_status_check_insert BEFORE INSERT ON licences
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
CREATE TRIGGER licences_status_check_update BEFORE UPDATE OF status ON licences
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licences_status_check'); END;
CREATE TRIGGER licence_events_event_type_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
CREATE TRIGGER licence_events_event_type_check_update BEFORE UPDATE OF event_type ON licence_events
    WHEN NOT (NEW.event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_event_type_check'); END;
CREATE TRIGGER licence_events_status_check_insert BEFORE INSERT ON licence_events
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
CREATE TRIGGER licence_events_status_check_update BEFORE UPDATE OF status ON licence_events
    WHEN NOT (NEW.status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: licence_events_status_check'); END;
CREATE TRIGGER inspections_kind_check_insert BEFORE INSERT ON inspections
    WHEN NOT (NEW.kind IN ('pre_licence', 'routine', 'complaint', 'follow_up', 'unannounced'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_kind_check'); END;
CREATE TRIGGER inspections_kind_check_update BEFORE UPDATE OF kind ON inspections
    WHEN NOT (NEW.kind IN ('pre_licence', 'routine', 'complaint', 'follow_up', 'unannounced'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_kind_check'); END;
CREATE TRIGGER inspections_status_check_insert BEFORE INSERT ON inspections
    WHEN NOT (NEW.status IN ('scheduled', 'recorded', 'cancelled'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_status_check'); END;
CREATE TRIGGER inspections_status_check_update BEFORE UPDATE OF status ON inspections
    WHEN NOT (NEW.status IN ('scheduled', 'recorded', 'cancelled'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_status_check'); END;
CREATE TRIGGER inspections_outcome_check_insert BEFORE INSERT ON inspections
    WHEN NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('compliant', 'minor_issues', 'major_issues', 'critical'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_outcome_check'); END;
CREATE TRIGGER inspections_outcome_check_update BEFORE UPDATE OF outcome ON inspections
    WHEN NEW.outcome IS NOT NULL AND NOT (NEW.outcome IN ('compliant', 'minor_issues', 'major_issues', 'critical'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: inspections_outcome_check'); END;
CREATE TRIGGER enforcement_items_status_check_insert BEFORE INSERT ON enforcement_items
    WHEN NOT (NEW.status IN ('open', 'dismissed', 'resolved'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: enforcement_items_status_check'); END;
CREATE TRIGGER enforcement_items_status_check_update BEFORE UPDATE OF status ON enforcement_items
    WHEN NOT (NEW.status IN ('open', 'dismissed', 'resolved'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: enforcement_items_status_check'); END;
CREATE TRIGGER verification_log_query_type_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
CREATE TRIGGER verification_log_query_type_check_update BEFORE UPDATE OF query_type ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
CREATE TRIGGER verification_log_result_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.result IN ('licensed', 'not_licensed', 'unknown', 'error'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_result_check'); END;
CREATE TRIGGER verification_log_result_check_update BEFORE UPDATE OF result ON verification_log
    WHEN NOT (NEW.result IN ('licensed', 'not_licensed', 'unknown', 'error'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_result_check'); END;
