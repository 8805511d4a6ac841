//! Opaque secrets (refresh tokens, agency client secrets): 256 random bits, shown once and
//! stored only as SHA-256. They are random, so a slow hash would add nothing.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new secret: 256 random bits, URL-safe base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored in place of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time; `None` still does the
/// work, so an unknown client costs the same as a wrong secret.
pub fn secret_matches(secret: &str, stored_hash: Option<&str>) -> bool {
    let presented = hash_secret(secret);
    let dummy = "0".repeat(64);
    let stored = stored_hash.unwrap_or(&dummy);
    bool::from(presented.as_bytes().ct_eq(stored.as_bytes())) && stored_hash.is_some()
}
