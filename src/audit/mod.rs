//! The tamper-evident audit log: every change appends an entry in the same transaction, and
//! each entry's `hash = SHA-256(prev_hash ‖ canonical entry)`, so an edit anywhere breaks the
//! chain from that entry on.

pub mod routes;
pub mod store;

use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use store::append;

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change a concept records in the log. Each concept names its changes once, as its own type
/// (an enum of its events, beside its rules): the action names, the entity type and the
/// summary's wording live in that one `impl`, and a call site says only which event happened,
/// `audit::record(conn, now, Some(&who.id), &SiteEvent::Created(&row))`.
pub trait Event {
    /// The action as stored, `"<entity>.<verb>"`: `"site.created"`.
    fn action(&self) -> &'static str;
    /// The kind of record changed: `"site"`.
    fn entity_type(&self) -> &'static str;
    /// The changed record's id.
    fn entity_id(&self) -> &str;
    /// One line for people; never an identity number, secret or token (§16).
    fn summary(&self) -> String;
}

/// Appends `event`, done by `actor` (None for the system) at `at`; call inside the transaction
/// that makes the change. Returns the entry's sequence number.
pub fn record(
    conn: &mut crate::db::DbConn,
    at: NaiveDateTime,
    actor: Option<&str>,
    event: &impl Event,
) -> Result<i64, crate::error::AppError> {
    append(
        conn,
        at,
        Change {
            actor_id: actor,
            action: event.action(),
            entity_type: event.entity_type(),
            entity_id: event.entity_id(),
            summary: event.summary(),
        },
    )
}

/// What a change says about itself, as the store writes it; built by [`record`] from an
/// [`Event`], not at call sites.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub summary: String,
}

/// One stored audit entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical bytes of an entry: a JSON object with its fields in a fixed order.
pub fn canonical(
    seq: i64,
    at: NaiveDateTime,
    actor_id: Option<&str>,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    summary: &str,
) -> String {
    serde_json::json!([
        seq,
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        actor_id,
        action,
        entity_type,
        entity_id,
        summary
    ])
    .to_string()
}

pub fn chain_hash(prev_hash: &str, canonical_entry: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_entry.as_bytes());
    hex::encode(h.finalize())
}

/// The result of walking the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The hash of the last entry (the genesis hash when the log is empty).
    pub head_hash: String,
    /// The first entry whose hash or link does not hold; null when `ok`.
    pub first_bad_seq: Option<i64>,
}
