//! Password rules and hashing: argon2id, m = 12288 KiB, t = 3, p = 1, one of the configurations
//! OWASP's Password Storage Cheat Sheet lists as equal in defence to its minimum (19 MiB, t = 2),
//! chosen for the smaller working memory; hashes made with other parameters (earlier ones at
//! m = 19456, t = 2) still verify, each with its own. Call
//! these on the blocking pool, never on an actix worker.

use std::sync::LazyLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Secret;
use crate::error::AppError;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Password hashes computed at once in this process, each holding argon2's 12 MiB while it
/// runs: a burst of sign-ins queues here instead of growing the process by 12 MiB a sign-in.
pub const AT_ONCE: usize = 2;

static SLOTS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// Runs `f` holding one of the [`AT_ONCE`] slots (on a blocking thread, never a worker).
fn in_slot<T>(f: impl FnOnce() -> T) -> T {
    struct Slot;
    impl Drop for Slot {
        fn drop(&mut self) {
            let mut busy = SLOTS.0.lock().unwrap_or_else(|p| p.into_inner());
            *busy -= 1;
            SLOTS.1.notify_one();
        }
    }
    {
        let mut busy = SLOTS.0.lock().unwrap_or_else(|p| p.into_inner());
        while *busy >= AT_ONCE {
            busy = SLOTS.1.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy += 1;
    }
    let _slot = Slot;
    f()
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's limits, so this cannot fail.
    let params = Params::new(12_288, 3, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password that meets the rules (12 to 128 characters). It never prints.
#[derive(Debug)]
pub struct Password(Secret);

crate::string_value_type!(Password, "Password", |s| Password::try_new(s), |b| b
    .description(Some("A password: 12 to 128 characters"))
    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
        utoipa::openapi::KnownFormat::Password
    )))
    .min_length(Some(MIN_LEN))
    .max_length(Some(MAX_LEN))
    .examples(["a long passphrase here"]));

impl Password {
    pub fn try_new(raw: String) -> Result<Self, String> {
        let n = raw.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&n) {
            return Err(format!("must be {MIN_LEN} to {MAX_LEN} characters long (it has {n})"));
        }
        Ok(Password(Secret::new(raw)))
    }

    /// Parses a value that arrived outside a JSON body (CLI, configuration).
    pub fn parse(raw: String, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    pub fn hash(&self) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        in_slot(|| argon2().hash_password(self.0.expose().as_bytes(), &salt).map(|h| h.to_string()))
            .map_err(|e| AppError::internal(format!("argon2: {e}")))
    }
}

/// Verifies `password` against a stored hash; `None` checks against a dummy hash so an unknown
/// account costs the same time as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let salt = SaltString::generate(&mut OsRng);
        in_slot(|| argon2().hash_password(b"ccreg dummy password for timing", &salt))
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    in_slot(|| argon2().verify_password(password.as_bytes(), &parsed).is_ok()) && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_at_once_hashes_run_together() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..4 * AT_ONCE)
            .map(|_| {
                std::thread::spawn(|| {
                    in_slot(|| {
                        let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(n, Ordering::SeqCst);
                        for _ in 0..2_000 {
                            std::thread::yield_now();
                        }
                        NOW.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let most = MOST.load(Ordering::SeqCst);
        assert!((1..=AT_ONCE).contains(&most), "{most} ran at once");
    }

    #[test]
    fn length_rules() {
        assert!(Password::parse("short".into(), "password").is_err());
        assert!(Password::parse("x".repeat(129), "password").is_err());
        assert!(Password::parse("twelve chars".into(), "password").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let p = Password::parse("correct horse battery".into(), "password").unwrap();
        let h = p.hash().unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("correct horse battery", None));

        // A hash stored by an earlier version (m = 19456 KiB, t = 2) verifies with its own.
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19_456, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");
        assert!(verify("correct horse battery", Some(&old)));
        assert!(!verify("wrong horse battery", Some(&old)));
    }
}
