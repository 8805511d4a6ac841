//! Machine clients of other agencies (telecom regulator, cybercrime agency, banks), which sign
//! in with `client_credentials`. The secret is shown once at creation and stored as SHA-256:
//! it is 256 random bits, so a slow hash adds nothing.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::db::DbConn;
use crate::error::AppError;
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

/// The clearing agency a client is to decide for, as sent (any case, blank for none): one of
/// `agencies` (`CCREG_CLEARANCE_AGENCIES`), lower-case, or 422 naming `clears`.
pub fn clearing_agency(
    clears: Option<&str>,
    agencies: &[String],
) -> Result<Option<String>, AppError> {
    let clears = clears.map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty());
    match clears {
        Some(code) if !agencies.contains(&code) => Err(AppError::invalid(
            "clears",
            format!("{code:?} is not a clearing agency; use one of {}", agencies.join(", ")),
        )),
        other => Ok(other),
    }
}

/// Creates a client and its audit entry (inside a write transaction); returns it with its
/// secret, which is never stored. `clears` has passed [`clearing_agency`].
#[tracing::instrument(skip_all, fields(actor = actor), err)]
pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    name: crate::domain::Name,
    agency: crate::domain::Name,
    clears: Option<String>,
) -> Result<(ClientRow, String), AppError> {
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
    audit::record(conn, now, Some(actor), &AgencyClientEvent::Created(&row))?;
    Ok((row, secret))
}

/// Deletes (deactivates) the client `id`: its tokens stop working at once; the record stays
/// for the audit trail and the verification log.
#[tracing::instrument(skip_all, fields(agency_client = id), err)]
pub fn delete(
    conn: &mut DbConn,
    now: NaiveDateTime,
    actor: &str,
    id: &str,
) -> Result<(), AppError> {
    if store::deactivate(conn, id, now)? == 0 {
        return Err(AppError::not_found("no such active agency client"));
    }
    audit::record(conn, now, Some(actor), &AgencyClientEvent::Deleted { id })?;
    Ok(())
}

/// An agency client's changes as the audit log records them.
enum AgencyClientEvent<'a> {
    Created(&'a ClientRow),
    Deleted { id: &'a str },
}

impl audit::Event for AgencyClientEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created(_) => "agency_client.created",
            Self::Deleted { .. } => "agency_client.deleted",
        }
    }
    fn entity_type(&self) -> &'static str {
        "agency_client"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created(row) => &row.id,
            Self::Deleted { id } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Created(r) => format!(
                "client {:?} of {:?} created ({}){}",
                r.name,
                r.agency,
                r.client_id,
                r.clears.as_deref().map(|c| format!(", clears for {c}")).unwrap_or_default()
            ),
            Self::Deleted { .. } => "client deactivated; its tokens no longer work".into(),
        }
    }
}
