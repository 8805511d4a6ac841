-- Retention (API.md §16): the server deletes verification-log entries and webhook delivery
-- attempts past their retention period, oldest first, in batches; these indexes let each batch
-- find its rows without reading the whole table.
CREATE INDEX verification_log_at ON verification_log (at);
CREATE INDEX webhook_deliveries_attempted_at ON webhook_deliveries (attempted_at);
