//! Who the caller is and what they may do: roles, the `Principal`, the one role policy,
//! passwords, signing keys and tokens.

pub mod cache;
pub mod guard;
pub mod passwords;
pub mod policy;
pub mod routes;
pub mod secrets;
pub mod signin;
pub mod store;
pub mod visible;

pub use crate::domain::role::{Role, StaffRole};
/// The signing keys, where tests and older code look for them.
pub use crate::keys;

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};

use crate::error::AppError;

/// The authenticated caller, put in the request by the guard.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user's id, or the agency client's id.
    pub id: String,
    /// The role as stored now (not as the token claimed when issued).
    pub role: Role,
    pub jti: String,
}

impl Principal {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| AppError::unauthorized("sign in first: send a bearer access token")),
        )
    }
}
