-- Every status, role and kind column holds only the values its Rust enum names (the second
-- lock behind the enums' FromSql, which refuses anything else). Named <table>_<column>_check.
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'regulator', 'inspector', 'operator'));
ALTER TABLE people ADD CONSTRAINT people_id_type_check CHECK (id_type IN ('cnic', 'passport'));
ALTER TABLE sites ADD CONSTRAINT sites_status_check CHECK (status IN ('active', 'closed'));
ALTER TABLE phone_ranges ADD CONSTRAINT phone_ranges_kind_check CHECK (kind IN ('number', 'range'));
ALTER TABLE phone_ranges ADD CONSTRAINT phone_ranges_purpose_check CHECK (purpose IN ('inbound', 'outbound', 'both'));
ALTER TABLE applications ADD CONSTRAINT applications_category_check CHECK (category IN ('inbound', 'outbound', 'bpo', 'mixed'));
ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN ('draft', 'submitted', 'info_requested', 'approved', 'rejected', 'withdrawn'));
ALTER TABLE licences ADD CONSTRAINT licences_category_check CHECK (category IN ('inbound', 'outbound', 'bpo', 'mixed'));
ALTER TABLE licences ADD CONSTRAINT licences_status_check CHECK (status IN ('active', 'suspended', 'revoked', 'surrendered'));
ALTER TABLE licence_events ADD CONSTRAINT licence_events_event_type_check CHECK (event_type IN ('issued', 'suspended', 'reinstated', 'revoked', 'surrendered', 'renewed'));
ALTER TABLE licence_events ADD CONSTRAINT licence_events_status_check CHECK (status IN ('active', 'suspended', 'revoked', 'expired', 'surrendered'));
ALTER TABLE inspections ADD CONSTRAINT inspections_kind_check CHECK (kind IN ('pre_licence', 'routine', 'complaint', 'follow_up', 'unannounced'));
ALTER TABLE inspections ADD CONSTRAINT inspections_status_check CHECK (status IN ('scheduled', 'recorded', 'cancelled'));
ALTER TABLE inspections ADD CONSTRAINT inspections_outcome_check CHECK (outcome IS NULL OR outcome IN ('compliant', 'minor_issues', 'major_issues', 'critical'));
ALTER TABLE enforcement_items ADD CONSTRAINT enforcement_items_status_check CHECK (status IN ('open', 'dismissed', 'resolved'));
ALTER TABLE verification_log ADD CONSTRAINT verification_log_query_type_check CHECK (query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number'));
ALTER TABLE verification_log ADD CONSTRAINT verification_log_result_check CHECK (result IN ('licensed', 'not_licensed', 'unknown', 'error'));
