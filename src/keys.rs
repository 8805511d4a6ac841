//! The keys in `CCREG_KEY_DIR`, each generated there on first start (mode 0600) and reused
//! after:
//! - the Ed25519 signing key, published in the JWKS with its RFC 7638 thumbprint as `kid`.
//!   Access tokens are signed and verified here (verification pins `EdDSA` and checks times
//!   against the injected clock); webhook deliveries are signed with it too (`v1a`).
//! - the sealing key (256 bits, XChaCha20-Poly1305), which encrypts the secrets the registry
//!   must be able to read back (webhook signing secrets), so none rests in plaintext.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;

const KEY_FILE: &str = "ed25519-signing-key.pem";
const SEALING_KEY_FILE: &str = "secret-sealing-key";
/// The prefix of a sealed value (the version of the format): `v1:` + base64(nonce ‖ ciphertext).
const SEALED_PREFIX: &str = "v1:";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 30;

pub struct Keys {
    kid: String,
    x: String,
    signing: SigningKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
    sealing: XChaCha20Poly1305,
    pub issuer: String,
    pub audience: String,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub role: String,
}

impl Keys {
    /// Loads the keys from `dir`, creating them (and `dir`) on first start.
    pub fn load_or_create(dir: &Path, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            let signing = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = signing
                .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("pkcs8: {e}"))?;
            create_key_file(dir, KEY_FILE, pem.as_bytes(), "Ed25519 signing key")?;
        }
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read signing key {}: {e}", path.display()))?;
        let signing = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key: {e}", path.display()))?;
        let sealing = load_or_create_sealing_key(dir)?;
        Self::from_keys(signing, sealing, issuer, audience)
    }

    fn from_keys(
        signing: SigningKey,
        sealing: XChaCha20Poly1305,
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Self> {
        let der = signing.to_pkcs8_der().map_err(|e| anyhow::anyhow!("pkcs8: {e}"))?;
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        let thumbprint_input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Ok(Keys {
            kid,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_components(&x)?,
            signing,
            sealing,
            x,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// The raw Ed25519 signature of `message` with the key published in the JWKS.
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Encrypts `secret` for storage, bound to `context` (the row it belongs to: a sealed
    /// value copied to another row does not open there).
    pub fn seal(&self, secret: &str, context: &str) -> Result<String, AppError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
        let sealed = self
            .sealing
            .encrypt(&nonce, Payload { msg: secret.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| AppError::internal("sealing a secret failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Decrypts what [`Keys::seal`] made for the same `context`; `None` when it does not open
    /// (another sealing key, another row, or tampered with).
    pub fn unseal(&self, sealed: &str, context: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(24)?;
        let nonce = XNonce::from(<[u8; 24]>::try_from(nonce).ok()?);
        let plain = self
            .sealing
            .decrypt(&nonce, Payload { msg: ciphertext, aad: context.as_bytes() })
            .ok()?;
        String::from_utf8(plain).ok()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JSON Web Key Set publishing the public key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid,
            "alg": "EdDSA", "use": "sig"
        }]})
    }

    /// Signs claims as a compact JWS with `alg: EdDSA` and this key's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, AppError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing failed: {e}")))
    }

    /// Checks signature, algorithm, issuer and audience of a token signed by this key; the
    /// caller checks times. Any failure is 401 with a generic reason.
    pub fn decode<T: DeserializeOwned>(&self, token: &str, audience: &str) -> Result<T, AppError> {
        let invalid = || AppError::unauthorized("the access token is invalid");
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::EdDSA || header.kid.as_deref().is_some_and(|k| k != self.kid) {
            return Err(invalid());
        }
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[audience]);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.leeway = 0;
        jsonwebtoken::decode::<T>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|_| invalid())
    }

    /// Verifies an access token at `now` (unix seconds), with [`LEEWAY_SECS`] of skew.
    pub fn verify_access(&self, token: &str, now: i64) -> Result<AccessClaims, AppError> {
        let claims: AccessClaims = self.decode(token, &self.audience)?;
        if claims.exp + LEEWAY_SECS < now {
            return Err(AppError::unauthorized("the access token has expired"));
        }
        if claims.nbf - LEEWAY_SECS > now || claims.iat - LEEWAY_SECS > now {
            return Err(AppError::unauthorized("the access token is not valid yet"));
        }
        Ok(claims)
    }
}

/// The sealing key: 32 random bytes, kept base64-encoded in [`SEALING_KEY_FILE`].
fn load_or_create_sealing_key(dir: &Path) -> anyhow::Result<XChaCha20Poly1305> {
    let path = dir.join(SEALING_KEY_FILE);
    if !path.exists() {
        let key = XChaCha20Poly1305::generate_key(&mut rand::rngs::OsRng);
        let text = format!("{}\n", STANDARD.encode(key));
        create_key_file(dir, SEALING_KEY_FILE, text.as_bytes(), "secret sealing key")?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read sealing key {}: {e}", path.display()))?;
    let key = STANDARD
        .decode(text.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| anyhow::anyhow!("{} is not 32 base64-encoded bytes", path.display()))?;
    XChaCha20Poly1305::new_from_slice(&key).map_err(|e| anyhow::anyhow!("sealing key: {e}"))
}

/// Creates `dir/name` (mode 0600, `dir` 0700 if new) holding `contents`.
fn create_key_file(dir: &Path, name: &str, contents: &[u8], what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| anyhow::anyhow!("cannot create key directory {}: {e}", dir.display()))?;
    let path = dir.join(name);
    // Written aside, then linked into place: two processes starting at once keep one key.
    let tmp = dir.join(format!(".{name}.{}", uuid::Uuid::new_v4()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new {what}");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Keys::load_or_create(dir.path(), "ccreg", "ccreg-api").unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Keys::load_or_create(dir.path(), "ccreg", "ccreg-api").unwrap();
        assert_eq!(a.kid(), b.kid());
        let mode =
            std::fs::metadata(dir.path().join(SEALING_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = a.seal("whsec_abc", "row-1").unwrap();
        assert_eq!(b.unseal(&sealed, "row-1").as_deref(), Some("whsec_abc"));
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path(), "ccreg", "ccreg-api").unwrap();
        let sealed = keys.seal("whsec_abc", "row-1").unwrap();
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, keys.seal("whsec_abc", "row-1").unwrap(), "nonces differ");
        assert_eq!(keys.unseal(&sealed, "row-2"), None);
        let other = tempfile::tempdir().unwrap();
        let other = Keys::load_or_create(other.path(), "ccreg", "ccreg-api").unwrap();
        assert_eq!(other.unseal(&sealed, "row-1"), None);
        assert_eq!(keys.unseal("v1:AAAA", "row-1"), None);
    }
}
