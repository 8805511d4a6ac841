-- Webhooks (API.md §13): endpoints that receive the change feed, and every delivery attempt.
-- The signing secret is stored sealed (XChaCha20-Poly1305 under the key in CCREG_KEY_DIR).
-- `position` is the feed seq up to which the endpoint is served; the event after it (among
-- those it subscribes to) is the one being delivered, `attempts` times failed so far.
-- `lease_until`/`lease_holder` let one process at a time deliver to an endpoint.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT webhook_endpoints_status_check
        CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    position BIGINT NOT NULL,
    last_delivered_seq BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    lease_holder TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_id, id);
CREATE INDEX webhook_endpoints_due ON webhook_endpoints (status, next_attempt_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    outcome TEXT NOT NULL CONSTRAINT webhook_deliveries_outcome_check
        CHECK (outcome IN ('delivered', 'failed')),
    error TEXT,
    next_attempt_at TIMESTAMP,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
