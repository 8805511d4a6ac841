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
use crate::db::schema::verification_log_batches as batches;
use crate::db::{parse_timestamp_text, write_tx, Db, DbConn};
use crate::error::AppError;

crate::stored_enum! {
    /// A logged verification's result: an answer's, or `error` for a malformed bulk item.
    #[derive(ToSchema)]
    pub enum LogResult in "verification_log_batches.body" {
        Licensed = "licensed",
        NotLicensed = "not_licensed",
        Unknown = "unknown",
        Error = "error",
    }
}

crate::stored_enum! {
    /// A logged question's type: `invalid` for a bulk item whose type was not one of them.
    #[derive(ToSchema)]
    pub enum LoggedType in "verification_log_batches.body" {
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

/// One entry: what an answer appends, and what the list reads back out of a batch.
#[derive(Debug, Clone)]
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
/// Answers wait while this many entries are unwritten: about 12 MiB of them, or most of a
/// second of answers at full speed, which rides out a checkpoint or a vacuum of the database.
/// (At 200,000, a writer held up on a freshly seeded PostgreSQL let them take 60 MiB.)
const HIGH_WATER: usize = 50_000;
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

/// A stored batch: its entries as one JSON array of `[id, client_id, type, query, result, at]`,
/// with the bounds the list and the pruning select batches by.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = batches)]
struct Batch {
    first_id: String,
    last_id: String,
    first_at: NaiveDateTime,
    last_at: NaiveDateTime,
    entries: i32,
    /// The distinct client ids and results, between commas (`,a,b,`).
    clients: String,
    results: String,
    body: String,
}

/// `,a,b,`: the distinct values, each between commas, for a `LIKE '%,a,%'` test.
fn between_commas<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let distinct: std::collections::BTreeSet<&str> = values.collect();
    let mut out = String::from(",");
    for v in distinct {
        out.push_str(v);
        out.push(',');
    }
    out
}

type Packed = (String, String, String, String, String, String);

/// Appends `s` as a JSON string (quotes, backslashes and control characters escaped).
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b'"' || b == b'\\' || b < 0x20 {
            out.push_str(&s[plain..i]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                _ => out.push_str(&format!("\\u{b:04x}")),
            }
            plain = i + 1;
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

impl Batch {
    /// A batch of entries (not empty). The body is written directly, not through serde: the
    /// writer does this for every answer, and [`Batch::rows`] reads it back with serde_json.
    fn of(rows: &[LogRow]) -> Result<Batch, AppError> {
        let mut body = String::with_capacity(rows.len() * 160 + 2);
        body.push('[');
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push('[');
            for text in [
                r.id.as_str(),
                r.client_id.as_str(),
                r.query_type.as_str(),
                r.query.as_str(),
                r.result.as_str(),
            ] {
                push_json_str(&mut body, text);
                body.push(',');
            }
            body.push('"');
            crate::domain::timestamp::push_sql_text(&mut body, r.at);
            body.push_str("\"]");
        }
        body.push(']');
        let ids = || rows.iter().map(|r| r.id.as_str());
        let ats = || rows.iter().map(|r| r.at);
        match (ids().min(), ids().max(), ats().min(), ats().max()) {
            (Some(first_id), Some(last_id), Some(first_at), Some(last_at)) => Ok(Batch {
                first_id: first_id.to_string(),
                last_id: last_id.to_string(),
                first_at,
                last_at,
                entries: i32::try_from(rows.len())
                    .map_err(|e| AppError::internal(e.to_string()))?,
                clients: between_commas(rows.iter().map(|r| r.client_id.as_str())),
                results: between_commas(rows.iter().map(|r| r.result.as_str())),
                body,
            }),
            _ => Err(AppError::internal("an empty verification-log batch")),
        }
    }

    fn rows(&self) -> Result<Vec<LogRow>, String> {
        let packed: Vec<Packed> = serde_json::from_str(&self.body)
            .map_err(|e| format!("verification-log batch {}: {e}", self.first_id))?;
        packed
            .into_iter()
            .map(|(id, client_id, t, query, result, at)| {
                let bad =
                    |what: &str, v: &str| format!("verification-log entry {id}: {what} {v:?}");
                Ok(LogRow {
                    query_type: LoggedType::parse(&t).ok_or_else(|| bad("type", &t))?,
                    result: LogResult::parse(&result).ok_or_else(|| bad("result", &result))?,
                    at: parse_timestamp_text(&at).ok_or_else(|| bad("time", &at))?,
                    client_id,
                    query,
                    id,
                })
            })
            .collect()
    }
}

fn unreadable(e: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(e.into())
}

/// Stores rows inside the writer's transaction: one batch row per `ROWS_PER_STATEMENT`.
fn insert(conn: &mut DbConn, rows: &[LogRow]) -> Result<(), AppError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        diesel::insert_into(batches::table).values(Batch::of(chunk)?).execute(conn)?;
    }
    Ok(())
}

/// Deletes entries logged before `cutoff` (retention, API.md §16), batch by batch, oldest
/// first, until at least `batch` entries went or none is left; answers how many went. A batch
/// wholly older goes; one that straddles the cut-off is stored again with its newer entries.
pub fn prune(conn: &mut DbConn, cutoff: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let mut gone = 0usize;
    while (gone as i64) < batch {
        let old: Vec<Batch> = batches::table
            .filter(batches::first_at.lt(cutoff))
            .order(batches::first_at.asc())
            .select(Batch::as_select())
            .limit(16)
            .load(conn)?;
        if old.is_empty() {
            break;
        }
        for b in old {
            diesel::delete(batches::table.find(&b.first_id)).execute(conn)?;
            if b.last_at < cutoff {
                gone += usize::try_from(b.entries).unwrap_or(0);
                continue;
            }
            let rows = b.rows().map_err(unreadable)?;
            let kept: Vec<LogRow> = rows.iter().filter(|r| r.at >= cutoff).cloned().collect();
            gone += rows.len() - kept.len();
            if !kept.is_empty() {
                let again = Batch::of(&kept)
                    .map_err(|e| unreadable(format!("re-storing a verification-log batch: {e}")))?;
                diesel::insert_into(batches::table).values(again).execute(conn)?;
            }
        }
    }
    Ok(gone)
}

/// Up to `limit` entries after `after` in id order, of one client and one result if given.
/// Batches are read in order of their first id; batches of several processes (or a slow
/// thread's entry) may overlap, so reading stops only at a batch whose first id is past the
/// `limit`-th entry found.
pub fn list(
    conn: &mut DbConn,
    client_id: Option<String>,
    result: Option<LogResult>,
    after: Option<String>,
    limit: i64,
) -> Result<Vec<LogRow>, AppError> {
    let limit = usize::try_from(limit.max(0)).unwrap_or(0);
    let after = after.unwrap_or_default();
    let mut found: Vec<LogRow> = Vec::new();
    let mut read_past: Option<String> = None;
    'pages: loop {
        let mut q = batches::table
            .filter(batches::last_id.gt(&after))
            .select(Batch::as_select())
            .order(batches::first_id.asc())
            .limit(32)
            .into_boxed();
        if let Some(past) = &read_past {
            q = q.filter(batches::first_id.gt(past.clone()));
        }
        // Client ids and results hold no comma (ids are checked, results are names).
        if let Some(c) = &client_id {
            q = q.filter(batches::clients.like(format!("%,{c},%")));
        }
        if let Some(r) = result {
            q = q.filter(batches::results.like(format!("%,{},%", r.as_str())));
        }
        let page: Vec<Batch> = q.load(conn)?;
        if page.is_empty() {
            break;
        }
        for b in page {
            if found.len() >= limit && found.last().is_some_and(|last| b.first_id > last.id) {
                break 'pages;
            }
            found.extend(b.rows().map_err(AppError::internal)?.into_iter().filter(|r| {
                r.id > after
                    && client_id.as_ref().is_none_or(|c| &r.client_id == c)
                    && result.is_none_or(|want| r.result == want)
            }));
            found.sort_by(|x, y| x.id.cmp(&y.id));
            found.truncate(limit);
            read_past = Some(b.first_id);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DatabaseUrl;

    fn row(id: &str, client: &str, result: LogResult, day: u32) -> LogRow {
        LogRow {
            id: id.to_string(),
            client_id: client.to_string(),
            query_type: LoggedType::Licence,
            query: format!("query {id}"),
            result,
            at: chrono::NaiveDate::from_ymd_opt(2026, 1, day)
                .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 123_456))
                .unwrap(),
        }
    }

    fn ids(rows: &[LogRow]) -> Vec<&str> {
        rows.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn overlapping_batches_list_in_id_order_and_prune_to_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db").to_string_lossy().to_string();
        let db = Db::connect(&DatabaseUrl::Sqlite { path }, 1).unwrap();
        db.migrate().unwrap();
        let mut conn = db.get().unwrap();
        use LogResult::{Licensed, NotLicensed};
        // Two batches whose ids interleave (two processes), the second straddling day 10.
        insert(&mut conn, &[row("a1", "x", Licensed, 1), row("a4", "y", Licensed, 2)]).unwrap();
        let mut odd = row("a2", "y", NotLicensed, 3);
        odd.query = "\"quoted\" back\\slash \u{1}\t\n tab, Urdu اردو, emoji 📞".to_string();
        let second = [odd.clone(), row("a3", "x", Licensed, 4), row("a5", "x", NotLicensed, 20)];
        insert(&mut conn, &second).unwrap();
        let summary = Batch::of(&second).unwrap();
        assert_eq!(
            (summary.clients.as_str(), summary.results.as_str()),
            (",x,y,", ",licensed,not_licensed,")
        );

        let all = list(&mut conn, None, None, None, 10).unwrap();
        assert_eq!(ids(&all), ["a1", "a2", "a3", "a4", "a5"]);
        assert_eq!(all[4].at, second[2].at, "times come back to the microsecond");
        assert_eq!(all[1].query, odd.query, "any text comes back as it went");
        assert_eq!(ids(&list(&mut conn, None, None, None, 2).unwrap()), ["a1", "a2"]);
        let after = Some("a2".to_string());
        assert_eq!(ids(&list(&mut conn, None, None, after, 2).unwrap()), ["a3", "a4"]);
        let x = Some("x".to_string());
        assert_eq!(ids(&list(&mut conn, x.clone(), None, None, 10).unwrap()), ["a1", "a3", "a5"]);
        let refused = list(&mut conn, x, Some(NotLicensed), None, 10).unwrap();
        assert_eq!(ids(&refused), ["a5"]);

        // Day 10 as the cut-off: the first batch goes whole, the second keeps its day-20 entry.
        let cutoff = row("", "", Licensed, 10).at;
        assert_eq!(prune(&mut conn, cutoff, 1_000).unwrap(), 4);
        assert_eq!(ids(&list(&mut conn, None, None, None, 10).unwrap()), ["a5"]);
        assert_eq!(prune(&mut conn, cutoff, 1_000).unwrap(), 0);
    }
}
