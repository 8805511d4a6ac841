//! Who the caller is and what they may do: roles, the `Principal`, the one role policy,
//! passwords, signing keys and tokens.

pub mod guard;
pub mod keys;
pub mod passwords;
pub mod policy;
pub mod routes;
pub mod store;

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Regulator,
    Inspector,
    Operator,
    Agency,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Regulator => "regulator",
            Role::Inspector => "inspector",
            Role::Operator => "operator",
            Role::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "regulator" => Role::Regulator,
            "inspector" => Role::Inspector,
            "operator" => Role::Operator,
            "agency" => Role::Agency,
            _ => return None,
        })
    }

    /// Roles an admin may give to staff accounts.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Regulator | Role::Inspector)
    }
}

/// The roles an admin may give a staff account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Admin,
    Regulator,
    Inspector,
}

impl From<StaffRole> for Role {
    fn from(r: StaffRole) -> Role {
        match r {
            StaffRole::Admin => Role::Admin,
            StaffRole::Regulator => Role::Regulator,
            StaffRole::Inspector => Role::Inspector,
        }
    }
}

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
