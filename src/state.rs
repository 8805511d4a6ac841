//! What every handler shares.

use std::sync::Arc;

use crate::auth::keys::Keys;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;

pub struct AppState {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Now, as the database stores it.
    pub fn now(&self) -> chrono::NaiveDateTime {
        crate::clock::db_now(&*self.clock)
    }
}

/// Runs CPU-heavy work (argon2) on the blocking pool, off the actix workers.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f).await.map_err(|_| AppError::internal("blocking task was cancelled"))?
}
