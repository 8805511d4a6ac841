DROP INDEX webhook_deliveries_attempted_at;
DROP INDEX verification_log_at;
