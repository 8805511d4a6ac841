//! Machine clients of other agencies (telecom regulator, cybercrime agency, banks), which sign
//! in with `client_credentials`. The secret is shown once at creation and stored as SHA-256:
//! it is 256 random bits, so a slow hash adds nothing.

pub mod routes;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use store::ClientRow;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgencyClient {
    pub id: String,
    pub name: String,
    pub agency: String,
    /// The `client_id` of the client_credentials grant.
    pub client_id: String,
    /// False once deleted: its tokens stop working at once.
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The clearing agency this client decides clearances for, if any.
    pub clears: Option<String>,
}

impl From<ClientRow> for AgencyClient {
    fn from(r: ClientRow) -> Self {
        AgencyClient {
            id: r.id,
            name: r.name,
            agency: r.agency,
            client_id: r.client_id,
            active: r.active,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
            clears: r.clears,
        }
    }
}

/// Creates a client and its audit entry (inside a write transaction); returns it with its
/// secret, which is never stored.
pub fn create(
    conn: &mut crate::db::DbConn,
    now: chrono::NaiveDateTime,
    actor: &str,
    name: crate::domain::Name,
    agency: crate::domain::Name,
    clears: Option<String>,
) -> Result<(ClientRow, String), crate::error::AppError> {
    let secret = crate::auth::secrets::new_secret();
    let row = ClientRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.into_string(),
        agency: agency.into_string(),
        client_id: format!("ccreg-{}", uuid::Uuid::new_v4().simple()),
        secret_hash: crate::auth::secrets::hash_secret(&secret),
        active: true,
        version: 1,
        created_by: actor.to_string(),
        created_at: now,
        updated_at: now,
        revoked_at: None,
        clears,
    };
    store::insert(conn, &row)?;
    crate::audit::append(
        conn,
        now,
        crate::audit::Change {
            actor_id: Some(actor),
            action: "agency_client.created",
            entity_type: "agency_client",
            entity_id: &row.id,
            summary: format!(
                "client {:?} of {:?} created ({}){}",
                row.name,
                row.agency,
                row.client_id,
                row.clears.as_deref().map(|c| format!(", clears for {c}")).unwrap_or_default()
            ),
        },
    )?;
    Ok((row, secret))
}
