DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE auth_failures;
DROP TABLE revoked_access_tokens;
DROP TABLE refresh_tokens;
DROP TABLE agency_clients;
DROP TABLE users;
