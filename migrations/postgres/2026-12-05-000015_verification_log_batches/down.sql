CREATE TABLE verification_log (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    query_type TEXT NOT NULL CONSTRAINT verification_log_query_type_check
        CHECK (query_type IN ('licence', 'number', 'ip', 'registration_number', 'tax_number', 'invalid')),
    query TEXT NOT NULL,
    result TEXT NOT NULL CONSTRAINT verification_log_result_check
        CHECK (result IN ('licensed', 'not_licensed', 'unknown', 'error')),
    at TIMESTAMP NOT NULL
);
CREATE INDEX verification_log_client ON verification_log (client_id);
CREATE INDEX verification_log_at ON verification_log (at);
INSERT INTO verification_log (id, client_id, query_type, query, result, at)
SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, e ->> 4, (e ->> 5)::timestamp
FROM verification_log_batches b, json_array_elements(b.body::json) e;
DROP TABLE verification_log_batches;
