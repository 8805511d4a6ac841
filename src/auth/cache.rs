//! Verified access tokens, so a request on the hot path costs no signature check and no
//! database trip. An entry is the token's principal as the database had it when first
//! seen, kept until the token expires (checked against the injected clock on every hit).
//!
//! Anything that takes access away (a revoked token, a deactivated user, a changed role, a
//! deleted agency client) is an audit entry; the follower ([`crate::index::follow`]) clears
//! the whole cache when it applies one: at once in the process that made the change, within
//! the poll interval in every other. A generation number stops a check that read the database
//! before such a clear from caching what it read after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use super::Principal;

/// Entries at most; when full, the cache starts again empty (tokens are re-verified once).
pub const CAPACITY: usize = 20_000;

#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    expires_at: i64,
}

#[derive(Debug, Default)]
pub struct TokenCache {
    /// Hashed with foldhash (randomly seeded): SipHash over a 450-byte token cost more than the
    /// rest of the lookup.
    entries: RwLock<crate::index::Map<Box<str>, Entry>>,
    generation: AtomicU64,
}

impl TokenCache {
    pub fn new() -> Self {
        TokenCache::default()
    }

    /// The principal of a token verified before, if it has not expired by `now` (seconds).
    pub fn get(&self, token: &str, now: i64) -> Option<Principal> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(token)?;
        (e.expires_at > now).then(|| e.principal.clone())
    }

    /// Read before checking a token against the database; pass to [`TokenCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Remembers a verified token, unless the cache was cleared since `generation` was read.
    pub fn put(&self, token: &str, principal: Principal, expires_at: i64, generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.into(), Entry { principal, expires_at });
    }

    /// Forgets every token (something that grants access changed).
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn who() -> Principal {
        Principal { id: "u".into(), role: Role::Agency, jti: "j".into() }
    }

    #[test]
    fn hits_until_expiry() {
        let c = TokenCache::new();
        c.put("t", who(), 100, c.generation());
        assert!(c.get("t", 99).is_some());
        assert!(c.get("t", 100).is_none());
        assert!(c.get("other", 0).is_none());
    }

    #[test]
    fn a_clear_wins_over_a_check_that_began_before_it() {
        let c = TokenCache::new();
        let g = c.generation();
        c.clear();
        c.put("t", who(), 100, g);
        assert!(c.get("t", 0).is_none());
        c.put("t", who(), 100, c.generation());
        assert!(c.get("t", 0).is_some());
        c.clear();
        assert!(c.get("t", 0).is_none());
    }

    #[test]
    fn bounded() {
        let c = TokenCache::new();
        for i in 0..CAPACITY + 5 {
            c.put(&format!("t{i}"), who(), 100, c.generation());
        }
        assert!(c.len() <= CAPACITY);
    }
}
