CREATE TABLE verification_log (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    query_type TEXT NOT NULL,
    query TEXT NOT NULL,
    result TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX verification_log_client ON verification_log (client_id);
CREATE INDEX verification_log_at ON verification_log (at);
CREATE TRIGGER verification_log_query_type_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
CREATE TRIGGER verification_log_query_type_check_update BEFORE UPDATE OF query_type ON verification_log
    WHEN NOT (NEW.query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_query_type_check'); END;
CREATE TRIGGER verification_log_result_check_insert BEFORE INSERT ON verification_log
    WHEN NOT (NEW.result IN ('licensed', 'not_licensed', 'unknown', 'error'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_result_check'); END;
CREATE TRIGGER verification_log_result_check_update BEFORE UPDATE OF result ON verification_log
    WHEN NOT (NEW.result IN ('licensed', 'not_licensed', 'unknown', 'error'))
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: verification_log_result_check'); END;
INSERT INTO verification_log (id, client_id, query_type, query, result, at)
SELECT e.value ->> 0, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4, e.value ->> 5
FROM verification_log_batches b, json_each(b.body) e;
DROP TABLE verification_log_batches;
