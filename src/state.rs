//! What every handler shares.

use std::sync::Arc;

use crate::auth::cache::TokenCache;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;
use crate::index::Index;
use crate::keys::Keys;

pub struct AppState {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    /// The verification index (kept current by `index::follow::Follower`).
    pub index: Arc<Index>,
    /// Verified access tokens (cleared by the follower when access is taken away).
    pub tokens: Arc<TokenCache>,
    /// Register exports running at once (each holds a pooled connection while it streams).
    pub exports: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Now, as the database stores it.
    pub fn now(&self) -> chrono::NaiveDateTime {
        crate::clock::db_now(&*self.clock)
    }
}

pub use crate::db::blocking;
