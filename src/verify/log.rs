//! The log of agencies' verifications. Entries are written in batches by one background task,
//! so a verification never waits on a disk flush; the list endpoint flushes first, so what an
//! admin reads includes everything this process has answered. A crash can lose at most the
//! entries of the last moments not yet written (a batch is written as soon as the writer is
//! free).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

use super::QueryType;
use crate::db::schema::verification_log;
use crate::db::{Db, DbConn};
use crate::error::AppError;

crate::stored_enum! {
    /// A logged verification's result: an answer's, or `error` for a malformed bulk item.
    #[derive(ToSchema)]
    pub enum LogResult in "verification_log.result" {
        Licensed = "licensed",
        NotLicensed = "not_licensed",
        Unknown = "unknown",
        Error = "error",
    }
}

crate::stored_enum! {
    /// A logged question's type: `invalid` for a bulk item whose type was not one of them.
    #[derive(ToSchema)]
    pub enum LoggedType in "verification_log.query_type" {
        Licence = "licence",
        Number = "number",
        Ip = "ip",
        RegistrationNumber = "registration_number",
        TaxNumber = "tax_number",
        Invalid = "invalid",
    }
}

impl From<Option<QueryType>> for LoggedType {
    fn from(t: Option<QueryType>) -> Self {
        match t {
            Some(QueryType::Licence) => LoggedType::Licence,
            Some(QueryType::Number) => LoggedType::Number,
            Some(QueryType::Ip) => LoggedType::Ip,
            Some(QueryType::RegistrationNumber) => LoggedType::RegistrationNumber,
            Some(QueryType::TaxNumber) => LoggedType::TaxNumber,
            None => LoggedType::Invalid,
        }
    }
}

impl From<super::VerifyResult> for LogResult {
    fn from(r: super::VerifyResult) -> Self {
        match r {
            super::VerifyResult::Licensed => LogResult::Licensed,
            super::VerifyResult::NotLicensed => LogResult::NotLicensed,
            super::VerifyResult::Unknown => LogResult::Unknown,
        }
    }
}

const BATCH: usize = 5_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = verification_log)]
pub struct LogRow {
    pub id: String,
    pub client_id: String,
    pub query_type: LoggedType,
    pub query: String,
    pub result: LogResult,
    pub at: NaiveDateTime,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    pub id: String,
    /// The agency client's id.
    pub client_id: String,
    #[serde(rename = "type")]
    pub query_type: LoggedType,
    pub query: String,
    pub result: LogResult,
    pub at: DateTime<Utc>,
}

impl From<LogRow> for LogEntry {
    fn from(r: LogRow) -> Self {
        LogEntry {
            id: r.id,
            client_id: r.client_id,
            query_type: r.query_type,
            query: r.query,
            result: r.result,
            at: r.at.and_utc(),
        }
    }
}

enum Msg {
    Entries(Vec<LogRow>),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct VerificationLog {
    tx: mpsc::Sender<Msg>,
    /// Entries queued or being written, not yet committed (`/metrics` shows it).
    pending: Arc<AtomicUsize>,
}

impl VerificationLog {
    /// Starts the writer on the current (actix) runtime.
    pub fn start(db: Db) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(10_000);
        let pending = Arc::new(AtomicUsize::new(0));
        let written = pending.clone();
        actix_web::rt::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut rows = Vec::new();
                let mut acks = Vec::new();
                let mut next = Some(first);
                while let Some(m) = next.take() {
                    match m {
                        Msg::Entries(e) => rows.extend(e),
                        Msg::Flush(ack) => acks.push(ack),
                    }
                    if rows.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !rows.is_empty() {
                    let n = rows.len();
                    if let Err(e) = db.write(move |conn| insert(conn, &rows)).await {
                        tracing::error!(error = %e, "could not write the verification log");
                    }
                    written.fetch_sub(n, Ordering::Relaxed);
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        });
        VerificationLog { tx, pending }
    }

    /// How many entries wait to be written (queued, or in the batch being written).
    pub fn queued(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Queues entries; waits only if the writer is far behind.
    pub async fn record(&self, rows: Vec<LogRow>) {
        let n = rows.len();
        // Counted before sending, so the writer never subtracts what was not yet added.
        self.pending.fetch_add(n, Ordering::Relaxed);
        if self.tx.send(Msg::Entries(rows)).await.is_err() {
            self.pending.fetch_sub(n, Ordering::Relaxed);
            tracing::error!("the verification log writer has stopped");
        }
    }

    /// Waits until everything queued before this call is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// Batch insert, inside the writer's transaction; MultiConnection cannot insert a Vec, so each
/// backend does it itself. SQLite runs one cached prepared single-row statement per row (no
/// round trips to save, and no 6,000-parameter statement to build and prepare per chunk);
/// PostgreSQL sends multi-row statements to save round trips.
fn insert(conn: &mut DbConn, rows: &[LogRow]) -> Result<(), AppError> {
    match conn {
        DbConn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(verification_log::table).values(row).execute(c)?;
            }
        }
        DbConn::Postgresql(c) => {
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(verification_log::table).values(chunk).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Deletes up to `batch` entries logged before `cutoff`, oldest first (retention, API.md §16);
/// answers how many went. The caller repeats until fewer than `batch` go.
pub fn prune(conn: &mut DbConn, cutoff: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ids: Vec<String> = verification_log::table
        .filter(verification_log::at.lt(cutoff))
        .order(verification_log::at.asc())
        .select(verification_log::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(verification_log::table.filter(verification_log::id.eq_any(&ids))).execute(conn)
}

pub fn list(
    conn: &mut DbConn,
    client_id: Option<String>,
    result: Option<LogResult>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<LogRow>, AppError> {
    let mut q = verification_log::table.select(LogRow::as_select()).into_boxed();
    if let Some(c) = client_id {
        q = q.filter(verification_log::client_id.eq(c));
    }
    if let Some(r) = result {
        q = q.filter(verification_log::result.eq(r));
    }
    if let Some(after) = after {
        q = q.filter(verification_log::id.gt(after));
    }
    Ok(q.order(verification_log::id.asc()).limit(limit).load(conn)?)
}
