//! The overdue sweep as a background task: every `ccreg serve` process puts the licence of each
//! newly overdue major or critical violation on the enforcement queue, a few seconds after start
//! and then every [`Settings::overdue_sweep_every`](crate::config::Settings), by the injected
//! clock. Reads never sweep: a `GET` of the violations or of the queue writes nothing.
//!
//! Tests run passes themselves with [`Sweeper::run_once`]. Several processes sweeping at once
//! are harmless: only the transaction whose conditional UPDATE claims a violation's
//! `queued_at` raises its item.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::db::Db;
use crate::error::AppError;

/// How long after start the first pass runs (at most `every`).
const FIRST_PASS_AFTER: Duration = Duration::from_secs(5);

/// This process's overdue sweep; cheap to clone.
#[derive(Clone)]
pub struct Sweeper {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: SharedClock,
}

impl Sweeper {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Sweeper { inner: Arc::new(Inner { db, clock }) }
    }

    /// Runs a pass shortly after start and then every `every`, until dropped; nothing when
    /// `every` is `None`.
    pub fn spawn(&self, every: Option<Duration>) {
        let Some(every) = every else { return };
        crate::periodic::spawn(
            &self.inner,
            FIRST_PASS_AFTER,
            every,
            "overdue sweep",
            |inner| async { Sweeper { inner }.run_once().await },
        );
    }

    /// One pass, now (by the injected clock): a cheap read first, and the write transaction
    /// only when some violation is newly overdue. Returns whether it had anything to do.
    pub async fn run_once(&self) -> Result<bool, AppError> {
        let now = crate::clock::db_now(&*self.inner.clock);
        if !self.inner.db.read(move |conn| super::sweep_pending(conn, now)).await? {
            return Ok(false);
        }
        self.inner.db.write(move |conn| super::sweep(conn, now)).await?;
        Ok(true)
    }
}
