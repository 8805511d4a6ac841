//! Isolation by construction (API.md §16). A route that names an owned record turns the id into
//! a [`Visible<T>`] before anything else: the one lookup that applies the record's owner rule.
//! Domain operations take a `Visible<T>`, never a bare id, so no route can reach them without
//! that lookup; children are looked up inside their parent with [`Visible::child`]. A record
//! the caller may not see is answered exactly as a missing one: the same 404, the same detail.

use std::ops::Deref;

use super::Principal;
use crate::db::DbConn;
use crate::error::AppError;

/// A record the principal may see. Only [`resolve`] and [`Visible::child`] make one.
#[derive(Debug)]
pub struct Visible<T>(T);

/// A kind of record with an owner rule.
pub trait Owned: Sized {
    /// How the record is named in a path (a UUID string, or a licence number).
    type Key: ?Sized;
    /// The 404's detail, the same for a missing record and one the caller may not see.
    const MISSING: &'static str;
    /// The record when it exists and `who` may see it: the owner-scoped lookup.
    fn find_visible(
        conn: &mut DbConn,
        who: &Principal,
        key: &Self::Key,
    ) -> Result<Option<Self>, AppError>;
}

/// A kind of record that lives inside a parent record (`/sites/{id}/numbers/{number_id}`).
pub trait Child<P>: Sized {
    /// The 404's detail for a child that is not in this parent.
    const MISSING: &'static str;
    /// The child with this id inside `parent`, never one of another parent.
    fn find_in(conn: &mut DbConn, parent: &P, id: &str) -> Result<Option<Self>, AppError>;
}

/// The record named `key` if `who` may see it; 404 otherwise, whatever the reason.
pub fn resolve<T: Owned>(
    conn: &mut DbConn,
    who: &Principal,
    key: &T::Key,
) -> Result<Visible<T>, AppError> {
    T::find_visible(conn, who, key)?.map(Visible).ok_or_else(|| AppError::not_found(T::MISSING))
}

/// The record named `key` if `who` may see it, `None` otherwise: for ids given in a body, where
/// a missing record is a field error rather than a 404 (a database failure stays an error).
pub fn find<T: Owned>(
    conn: &mut DbConn,
    who: &Principal,
    key: &T::Key,
) -> Result<Option<Visible<T>>, AppError> {
    Ok(T::find_visible(conn, who, key)?.map(Visible))
}

/// Whether `who` may see the record named `key` (for rules that only need a yes or no).
pub fn can_see<T: Owned>(
    conn: &mut DbConn,
    who: &Principal,
    key: &T::Key,
) -> Result<bool, AppError> {
    Ok(T::find_visible(conn, who, key)?.is_some())
}

impl<T> Visible<T> {
    /// The child named `id` inside this record; 404 when it is not there.
    pub fn child<C: Child<T>>(&self, conn: &mut DbConn, id: &str) -> Result<Visible<C>, AppError> {
        C::find_in(conn, &self.0, id)?.map(Visible).ok_or_else(|| AppError::not_found(C::MISSING))
    }

    /// The child named `id` inside this record, `None` when it is not there.
    pub fn find_child<C: Child<T>>(
        &self,
        conn: &mut DbConn,
        id: &str,
    ) -> Result<Option<Visible<C>>, AppError> {
        Ok(C::find_in(conn, &self.0, id)?.map(Visible))
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Visible<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Implements [`Owned`] for a record read by `$find(conn, key)` and seen when
/// `$can_see(conn, who, &row)` says so.
#[macro_export]
macro_rules! owned_by_rule {
    ($row:ty, $key:ty, $missing:literal, $find:expr, $can_see:expr) => {
        impl $crate::auth::visible::Owned for $row {
            type Key = $key;
            const MISSING: &'static str = $missing;

            fn find_visible(
                conn: &mut $crate::db::DbConn,
                who: &$crate::auth::Principal,
                key: &$key,
            ) -> Result<Option<Self>, $crate::error::AppError> {
                match $find(conn, key)? {
                    Some(row) if $can_see(conn, who, &row)? => Ok(Some(row)),
                    _ => Ok(None),
                }
            }
        }
    };
}

/// Implements [`Owned`] for a record that belongs to an organisation: staff see every one,
/// operators those of their own organisations. `$find(conn, key)` reads the record.
#[macro_export]
macro_rules! owned_by_organisation {
    ($row:ty, $key:ty, $missing:literal, $find:expr) => {
        $crate::owned_by_rule!($row, $key, $missing, $find, |conn: &mut $crate::db::DbConn,
                                                             who: &$crate::auth::Principal,
                                                             row: &$row|
         -> Result<
            bool,
            $crate::error::AppError,
        > {
            Ok(!who.is($crate::auth::Role::Operator)
                || $crate::organisations::can_see(conn, who, &row.organisation_id)?)
        });
    };
}
