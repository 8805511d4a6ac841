//! The Ed25519 signing key: generated into `CCREG_KEY_DIR` on first start (mode 0600), reused
//! after, published in the JWKS with its RFC 7638 thumbprint as `kid`. Access tokens are signed
//! and verified here; verification pins `EdDSA` and checks times against the injected clock.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AppError;

const KEY_FILE: &str = "ed25519-signing-key.pem";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 30;

pub struct Keys {
    kid: String,
    x: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
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
    /// Loads the key from `dir`, creating it (and `dir`) on first start.
    pub fn load_or_create(dir: &Path, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            create_key_file(dir, &path)?;
        }
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read signing key {}: {e}", path.display()))?;
        let signing = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key: {e}", path.display()))?;
        Self::from_signing_key(&signing, issuer, audience)
    }

    fn from_signing_key(
        signing: &SigningKey,
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
            x,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
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

fn create_key_file(dir: &Path, path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| anyhow::anyhow!("cannot create key directory {}: {e}", dir.display()))?;
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = signing
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("pkcs8: {e}"))?;
    // Written aside, then linked into place: two processes starting at once keep one key.
    let tmp = dir.join(format!(".{KEY_FILE}.{}", uuid::Uuid::new_v4()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new Ed25519 signing key");
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
    }
}
