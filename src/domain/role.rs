//! Who a caller is to the registry: the roles of API.md §2.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::stored_enum! {
    /// A caller's role. Users hold the first four (stored in `users.role`); `agency` is the
    /// role of agency clients' tokens.
    #[derive(ToSchema)]
    pub enum Role in "users.role" {
        Admin = "admin",
        Regulator = "regulator",
        Inspector = "inspector",
        Operator = "operator",
        Agency = "agency",
    }
}

impl Role {
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
