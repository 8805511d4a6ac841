//! Retention of personal data (API.md §16): verification-log entries older than
//! `CCREG_VERIFICATION_LOG_DAYS` and webhook delivery attempts older than
//! `CCREG_WEBHOOK_DELIVERY_DAYS` are deleted by every `ccreg serve` process, a minute after
//! start and then every hour, in batches of [`BATCH`] rows, each batch its own short write
//! transaction, so pruning a large backlog never holds a table for long. The cut-off is read
//! from the injected clock. The audit log is never pruned.
//!
//! Tests run passes themselves with [`Retention::run_once`]. Several processes pruning at once
//! are harmless: a row deleted by one is simply not there for the other.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::clock::SharedClock;
use crate::config;
use crate::db::{Db, DbConn};
use crate::error::AppError;

/// Rows deleted per statement (and per transaction).
pub const BATCH: i64 = 1_000;
/// How long after start the first pass runs.
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub verification_log: usize,
    pub webhook_deliveries: usize,
}

/// This process's pruning; cheap to clone.
#[derive(Clone)]
pub struct Retention {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    clock: SharedClock,
    policy: config::Retention,
}

/// A table's one-batch delete: (connection, cut-off, batch size) → rows deleted.
type Prune = fn(&mut DbConn, NaiveDateTime, i64) -> QueryResult<usize>;

impl Retention {
    pub fn new(db: Db, clock: SharedClock, policy: config::Retention) -> Self {
        Retention { inner: Arc::new(Inner { db, clock, policy }) }
    }

    /// Runs a pass a minute after start and then every `policy.every`, until dropped; nothing
    /// when `every` is `None`.
    pub fn spawn(&self) {
        let Some(every) = self.inner.policy.every else { return };
        crate::periodic::spawn(&self.inner, FIRST_PASS_AFTER, every, "retention", |inner| async {
            Retention { inner }.run_once().await
        });
    }

    /// One pass, now: deletes every verification-log entry and webhook delivery older than its
    /// retention period (by the injected clock), batch by batch until none is left.
    pub async fn run_once(&self) -> Result<Pruned, AppError> {
        let (policy, now) = (&self.inner.policy, crate::clock::db_now(&*self.inner.clock));
        let pruned = Pruned {
            verification_log: self
                .prune(crate::verify::log::prune, cutoff(now, policy.verification_log_days))
                .await?,
            webhook_deliveries: self
                .prune(
                    crate::webhooks::store::prune_deliveries,
                    cutoff(now, policy.webhook_delivery_days),
                )
                .await?,
        };
        if pruned != Pruned::default() {
            tracing::info!(
                verification_log = pruned.verification_log,
                webhook_deliveries = pruned.webhook_deliveries,
                "pruned rows past their retention period"
            );
        }
        Ok(pruned)
    }

    /// Deletes batches of one table's rows older than `cutoff` until a batch comes back short.
    async fn prune(&self, prune: Prune, cutoff: Option<NaiveDateTime>) -> Result<usize, AppError> {
        let Some(cutoff) = cutoff else { return Ok(0) };
        let mut total = 0;
        loop {
            let n = self.inner.db.write(move |conn| Ok(prune(conn, cutoff, BATCH)?)).await?;
            total += n;
            if n < BATCH as usize {
                return Ok(total);
            }
        }
    }
}

/// `days` before `now`; `None` when that is before any representable time (nothing is old
/// enough to go).
fn cutoff(now: NaiveDateTime, days: u64) -> Option<NaiveDateTime> {
    let days = i64::try_from(days).ok()?;
    now.checked_sub_signed(chrono::Duration::try_days(days)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_cutoff_is_whole_days_before_now_and_absurd_periods_keep_everything() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let year_before = NaiveDate::from_ymd_opt(2025, 11, 22).unwrap().and_hms_opt(10, 0, 0);
        assert_eq!(cutoff(now, 365), year_before);
        assert_eq!(cutoff(now, 1), now.checked_sub_signed(chrono::Duration::days(1)));
        assert_eq!(cutoff(now, u64::MAX), None);
        assert_eq!(cutoff(now, 100_000_000), None);
    }
}
