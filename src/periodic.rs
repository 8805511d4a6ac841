//! The one loop behind the periodic background tasks (retention, the overdue sweep): a pass
//! shortly after start, then one every period, until the task's owner is dropped. Each pass
//! reads the injected clock itself; a failed pass is logged and retried at the next.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::AppError;

/// Runs `pass` `first` after start (at most `every`) and then every `every`, for as long as
/// `owner` lives.
pub fn spawn<T, F, Fut, R>(
    owner: &Arc<T>,
    first: Duration,
    every: Duration,
    task: &'static str,
    pass: F,
) where
    T: 'static,
    F: Fn(Arc<T>) -> Fut + 'static,
    Fut: Future<Output = Result<R, AppError>> + 'static,
{
    let weak = Arc::downgrade(owner);
    actix_web::rt::spawn(async move {
        let mut wait = first.min(every);
        loop {
            actix_web::rt::time::sleep(wait).await;
            wait = every;
            let Some(inner) = weak.upgrade() else { break };
            if let Err(e) = pass(inner).await {
                tracing::warn!(error = %e, task, "a background pass failed; retrying at the next");
            }
        }
    });
}
