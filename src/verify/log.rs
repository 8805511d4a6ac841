//! The log of agencies' verifications, written off the answer's path.
//!
//! An answer appends its entries to its thread's shard of a buffer (a mutex no other answer
//! takes: each worker thread has its own shard) and goes on; nothing on the answer's path waits
//! on a channel, a connection or the disk. One writer thread takes every shard's entries when a
//! shard fills (`SHARD_WAKE`), when asked to flush, or every `TICK`, and stores them in one
//! transaction, a few thousand rows per statement (the rows travel as one JSON parameter,
//! unpacked by `json_each` / `json_array_elements`). A write that fails is retried with the
//! same rows, never dropped; while the writer is `HIGH_WATER` entries behind, answers wait for
//! it (so memory stays bounded and nothing is lost when the database is slow).
//!
//! The list endpoint flushes first, so what an admin reads includes everything this process has
//! answered. A process that stops normally writes everything ([`VerificationLog::close`]); one
//! killed outright loses what it answered in its last moments (at most a tick, or a shard).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, Notify};
use utoipa::ToSchema;

use super::QueryType;
use crate::db::schema::verification_log;
use crate::db::{write_tx, Db, DbConn};
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

/// How often the writer looks for entries when nothing wakes it.
const TICK: Duration = Duration::from_millis(50);
/// A shard holding this many entries wakes the writer.
const SHARD_WAKE: usize = 1_024;
/// Answers wait while this many entries are unwritten.
const HIGH_WATER: usize = 200_000;
/// Rows per insert statement.
const ROWS_PER_STATEMENT: usize = 5_000;
/// Shards of the buffer: more than the worker threads of any machine it runs on, so each
/// thread's mutex is its own (a thread takes shard `n mod SHARDS`, `n` counting threads).
const SHARDS: usize = 64;

struct Shared {
    shards: Box<[Mutex<Vec<LogRow>>]>,
    /// Entries appended and not yet committed.
    pending: AtomicUsize,
    /// Flush requests, answered once everything appended before them is written.
    flushes: Mutex<Vec<oneshot::Sender<()>>>,
    /// Signalled after every write, for answers waiting at the high-water mark.
    written: Notify,
    writer: OnceLock<std::thread::Thread>,
    closing: AtomicBool,
}

impl Shared {
    fn wake_writer(&self) {
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }

    fn take_all(&self) -> Vec<LogRow> {
        let mut rows = Vec::new();
        for shard in self.shards.iter() {
            let mut s = shard.lock().unwrap_or_else(|p| p.into_inner());
            if rows.is_empty() {
                rows = std::mem::take(&mut *s);
            } else {
                rows.append(&mut s);
            }
        }
        rows
    }
}

fn my_shard() -> usize {
    static THREADS: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = THREADS.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

/// A handle on this process's verification log; clones share one buffer and one writer.
#[derive(Clone)]
pub struct VerificationLog {
    shared: Arc<Shared>,
    writer: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl VerificationLog {
    /// Starts the writer thread; it stops when the last handle is dropped or closed.
    pub fn start(db: Db) -> Self {
        let shared = Arc::new(Shared {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            pending: AtomicUsize::new(0),
            flushes: Mutex::new(Vec::new()),
            written: Notify::new(),
            writer: OnceLock::new(),
            closing: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&shared);
        let handle = std::thread::Builder::new()
            .name("verification-log".into())
            .spawn(move || write_loop(&weak, &db))
            .ok();
        if let Some(h) = &handle {
            let _ = shared.writer.set(h.thread().clone());
        } else {
            tracing::error!("could not start the verification log writer");
        }
        VerificationLog { shared, writer: Arc::new(Mutex::new(handle)) }
    }

    /// How many entries wait to be written (buffered, or in the batch being written).
    pub fn queued(&self) -> usize {
        self.shared.pending.load(Ordering::Relaxed)
    }

    /// Appends entries to this thread's shard; waits only while the writer is far behind.
    pub async fn record(&self, rows: impl IntoIterator<Item = LogRow>) {
        while self.shared.pending.load(Ordering::Relaxed) >= HIGH_WATER
            && !self.shared.closing.load(Ordering::Relaxed)
        {
            let written = self.shared.written.notified();
            tokio::pin!(written);
            written.as_mut().enable();
            if self.shared.pending.load(Ordering::Relaxed) < HIGH_WATER {
                break;
            }
            self.shared.wake_writer();
            // Bounded, so a writer that is gone cannot hold an answer forever.
            let _ = tokio::time::timeout(TICK, written).await;
        }
        let (before, after) = {
            let mut shard =
                self.shared.shards[my_shard()].lock().unwrap_or_else(|p| p.into_inner());
            let before = shard.len();
            shard.extend(rows);
            // Counted under the shard's lock, so the writer never subtracts what is not added.
            self.shared.pending.fetch_add(shard.len() - before, Ordering::Relaxed);
            (before, shard.len())
        };
        if before < SHARD_WAKE && after >= SHARD_WAKE {
            self.shared.wake_writer();
        }
    }

    /// Waits until everything appended before this call is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        self.shared.flushes.lock().unwrap_or_else(|p| p.into_inner()).push(ack);
        self.shared.wake_writer();
        let _ = done.await;
    }

    /// Writes everything appended so far and stops the writer (a server's last step).
    pub fn close(&self) {
        self.shared.closing.store(true, Ordering::Relaxed);
        self.shared.wake_writer();
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// The writer: takes what the shards hold, writes it, answers the flushes that were waiting
/// before the take; ends when closed (after a last write) or when no handle is left.
fn write_loop(shared: &Weak<Shared>, db: &Db) {
    let mut carried: Vec<LogRow> = Vec::new();
    let mut failures = 0u32;
    loop {
        let Some(s) = shared.upgrade() else { return };
        let closing = s.closing.load(Ordering::Relaxed);
        let acks = std::mem::take(&mut *s.flushes.lock().unwrap_or_else(|p| p.into_inner()));
        let mut rows = std::mem::take(&mut carried);
        rows.append(&mut s.take_all());
        if !rows.is_empty() {
            match db.get().and_then(|mut conn| write_tx(&mut conn, |c| insert(c, &rows))) {
                Ok(()) => {
                    failures = 0;
                    s.pending.fetch_sub(rows.len(), Ordering::Relaxed);
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %e, entries = rows.len(), attempt = failures,
                        "could not write the verification log; retrying with the same entries");
                    carried = rows;
                }
            }
            s.written.notify_waiters();
        }
        for ack in acks {
            let _ = ack.send(());
        }
        if closing && (carried.is_empty() || failures >= 5) {
            return;
        }
        drop(s);
        // After a failure, back off (up to 2 s) rather than hammer the database.
        let wait = if failures > 0 { TICK * failures.min(40) } else { TICK };
        std::thread::park_timeout(wait);
    }
}

/// The timestamp as diesel writes it to SQLite (`%F %T%.f`), read by PostgreSQL alike; the
/// format is parsed once.
fn timestamp_text(at: NaiveDateTime) -> String {
    static ITEMS: OnceLock<Vec<chrono::format::Item<'static>>> = OnceLock::new();
    let items = ITEMS.get_or_init(|| {
        chrono::format::StrftimeItems::new("%F %T%.f").parse_to_owned().unwrap_or_default()
    });
    at.format_with_items(items.iter()).to_string()
}

/// Inserts rows inside the writer's transaction: a statement per `ROWS_PER_STATEMENT`, its rows
/// one JSON parameter (MultiConnection cannot insert a Vec; this is also far cheaper per row
/// than binding six parameters a row).
fn insert(conn: &mut DbConn, rows: &[LogRow]) -> Result<(), AppError> {
    use diesel::sql_types::Text;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let json: Vec<(&str, &str, &str, &str, &str, String)> = chunk
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.client_id.as_str(),
                    r.query_type.as_str(),
                    r.query.as_str(),
                    r.result.as_str(),
                    timestamp_text(r.at),
                )
            })
            .collect();
        let json = serde_json::to_string(&json).map_err(|e| AppError::internal(e.to_string()))?;
        match conn {
            DbConn::Sqlite(c) => {
                diesel::sql_query(
                    "INSERT INTO verification_log (id, client_id, query_type, query, result, at) \
                     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                            value ->> 5 FROM json_each(?)",
                )
                .bind::<Text, _>(json)
                .execute(c)?;
            }
            DbConn::Postgresql(c) => {
                diesel::sql_query(
                    "INSERT INTO verification_log (id, client_id, query_type, query, result, at) \
                     SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4, (r ->> 5)::timestamp \
                     FROM json_array_elements($1::json) AS r",
                )
                .bind::<Text, _>(json)
                .execute(c)?;
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
