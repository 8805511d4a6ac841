//! Keeping the index and the token cache current: the follower reads the audit log past the
//! last entry it applied, reloads each organisation, site, licence or range an entry names,
//! and clears the token cache when an entry touches who may sign in.
//!
//! - **This process's writes**: every request that may write (any method but GET, HEAD and
//!   OPTIONS) catches up before its answer leaves ([`catch_up_after_writes`]), so the writer's
//!   next request, and everyone's, sees the change (read your writes).
//! - **Other processes' writes** (another `ccreg serve` on the same PostgreSQL, or the CLI on
//!   the same SQLite file): a task polls the audit log every `CCREG_INDEX_POLL_MS`
//!   milliseconds (250 by default), so they are seen within that time.
//! - Audit appends are serialised by the `audit_head` row lock and take their sequence number
//!   under it, so the log has no gaps in commit order: "after the last entry applied" never
//!   skips a change.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use diesel::prelude::*;

use super::{load, Index};
use crate::auth::cache::TokenCache;
use crate::db::schema::{audit_head, audit_log};
use crate::db::{Db, DbConn};
use crate::error::AppError;

/// Entries read per round; more registry changes than this in one round reload everything.
const BATCH: i64 = 5_000;

pub struct Follower {
    db: Db,
    index: Arc<Index>,
    tokens: Arc<TokenCache>,
    /// The last audit sequence applied; locked while applying, so rounds never interleave.
    last: Mutex<i64>,
}

#[derive(Debug, PartialEq, Eq, Hash)]
enum Touched {
    Org(String),
    Site(String),
    Licence(String),
    Number(String),
    Ip(String),
}

impl Follower {
    /// Loads the whole index (blocking; call before serving) and follows from the audit head
    /// read before loading, so a change committed during the load is applied again.
    pub fn load(db: Db, tokens: Arc<TokenCache>) -> Result<Arc<Follower>, AppError> {
        let mut conn = db.get()?;
        let head = head(&mut conn)?;
        let started = std::time::Instant::now();
        let registry = load::all(&mut conn)?;
        let (orgs, sites, licences, ranges) = registry.sizes();
        tracing::info!(
            orgs,
            sites,
            licences,
            ranges,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "verification index loaded"
        );
        Ok(Arc::new(Follower {
            db,
            index: Arc::new(Index::new(registry)),
            tokens,
            last: Mutex::new(head),
        }))
    }

    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// Applies every audit entry committed since the last round.
    pub async fn catch_up(self: &Arc<Self>) -> Result<(), AppError> {
        let this = self.clone();
        self.db.read(move |conn| this.catch_up_on(conn).map(|_| ())).await
    }

    /// One round on `conn`; returns the entries read. While a round fails the index refuses
    /// to answer (fail closed), and the next round (the poll, or the next write) tries again.
    pub fn catch_up_on(&self, conn: &mut DbConn) -> Result<usize, AppError> {
        match self.round(conn) {
            Ok(n) => {
                self.index.set_behind(None);
                Ok(n)
            }
            Err(e) => {
                self.index.set_behind(Some(e.problem().detail));
                Err(e)
            }
        }
    }

    fn round(&self, conn: &mut DbConn) -> Result<usize, AppError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let mut read = 0;
        loop {
            let entries: Vec<(i64, String, String, String)> = audit_log::table
                .filter(audit_log::seq.gt(*last))
                .order(audit_log::seq.asc())
                .limit(BATCH)
                .select((
                    audit_log::seq,
                    audit_log::action,
                    audit_log::entity_type,
                    audit_log::entity_id,
                ))
                .load(conn)?;
            let Some(newest) = entries.last().map(|e| e.0) else { break };
            read += entries.len();
            let batch = Batch::of(&entries);
            if batch.full || batch.touched.len() > BATCH as usize / 2 {
                let registry = load::all(conn)?;
                self.index.replace(registry);
            } else if !batch.touched.is_empty() {
                self.apply(conn, &batch.touched)?;
            }
            if batch.auth {
                self.tokens.clear();
            }
            *last = newest;
        }
        Ok(read)
    }

    /// Reads the records `touched` names and puts them in the index.
    fn apply(&self, conn: &mut DbConn, touched: &[Touched]) -> Result<(), AppError> {
        let mut updates = Vec::with_capacity(touched.len());
        for t in touched {
            updates.push(match t {
                Touched::Org(id) => load::org(conn, id)?,
                Touched::Site(id) => load::site(conn, id)?,
                Touched::Licence(n) => load::licence(conn, n)?,
                Touched::Number(id) => load::number_range(conn, id)?,
                Touched::Ip(id) => load::ip_range(conn, id)?,
            });
        }
        let mut registry = self.index.write();
        for u in updates {
            registry.apply(u);
        }
        Ok(())
    }

    /// Polls the audit log every `every` until the follower is dropped.
    pub fn spawn_polling(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Follower> = Arc::downgrade(self);
        actix_web::rt::spawn(async move {
            let mut tick = actix_web::rt::time::interval(every);
            loop {
                tick.tick().await;
                let Some(follower) = weak.upgrade() else { break };
                if let Err(e) = follower.catch_up().await {
                    tracing::warn!(error = %e, "could not follow the audit log; retrying");
                }
            }
        });
    }
}

/// Organisations before sites before licences before ranges: what a later one refers to is
/// in place first.
fn order(t: &Touched) -> u8 {
    match t {
        Touched::Org(_) => 0,
        Touched::Site(_) => 1,
        Touched::Licence(_) => 2,
        Touched::Number(_) => 3,
        Touched::Ip(_) => 4,
    }
}

fn head(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(audit_head::table
        .find(1)
        .select(audit_head::seq)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Middleware: after any request that may have written, catch up before answering, so this
/// process's own writes are in its next answers. Verification requests write only the log.
pub async fn catch_up_after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !req.path().starts_with("/api/v1/verify/");
    let follower = if writes { req.app_data::<web::Data<Follower>>().cloned() } else { None };
    let res = next.call(req).await?;
    if let Some(f) = follower {
        let f: Arc<Follower> = f.into_inner();
        if let Err(e) = f.catch_up().await {
            tracing::error!(error = %e, "could not bring the verification index up to date");
        }
    }
    Ok(res)
}

/// What a batch of audit entries means for the index.
struct Batch {
    /// The records changed, each once, in the order they are applied.
    touched: Vec<Touched>,
    /// Whether the whole registry must be read again (bulk seeding writes many rows under one
    /// entry).
    full: bool,
    /// Whether who may sign in, or as what, changed: a revoked token, a deactivated user or a
    /// changed role, a deleted client. Creations take nothing away.
    auth: bool,
}

impl Batch {
    fn of(entries: &[(i64, String, String, String)]) -> Self {
        let mut seen = HashSet::new();
        let (mut full, mut auth) = (false, false);
        for (_, action, entity_type, id) in entries {
            let t = match entity_type.as_str() {
                "organisation" => Touched::Org(id.clone()),
                "site" => Touched::Site(id.clone()),
                "licence" => Touched::Licence(id.clone()),
                "phone_number" => Touched::Number(id.clone()),
                "ip_range" => Touched::Ip(id.clone()),
                "seed" => {
                    full = true;
                    continue;
                }
                "user" | "agency_client" | "access_token" | "refresh_token_family" => {
                    auth |= !action.ends_with(".created");
                    continue;
                }
                _ => continue,
            };
            seen.insert(t);
        }
        let mut touched: Vec<Touched> = seen.into_iter().collect();
        touched.sort_by_key(order);
        Batch { touched, full, auth }
    }
}
