//! Statuses, roles and kinds are stored as text through one mapping: [`stored_enum!`] makes
//! a Rust enum whose `FromSql` refuses any value it does not name (crates.io does the same for
//! its enums). An unknown stored value is a deserialisation error naming the column, which
//! surfaces as a logged 500, never as a default; CHECK constraints (triggers on SQLite) keep
//! such values out in the first place. JSON columns (addresses, site ids, findings, roles,
//! histories) are [`StoredJson`], which fails the same way on text it cannot read, and
//! [`RowContext`] names the object whose row it was.

/// Declares a stored enum: `enum Name in "table.column" { Variant = "wire", … }`.
///
/// The wire name is the JSON name and the stored text alike. The enum gets `as_str`, `parse`,
/// `ALL`, `Display`, serde, and diesel `Text` mapping on both backends.
#[macro_export]
macro_rules! stored_enum {
    (@sql $name:ident, $column:literal, $backend:ty) => {
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for $name {
            fn from_sql(
                bytes: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    $backend,
                >>::from_sql(bytes)?;
                Self::parse(&s).ok_or_else(|| {
                    format!("unknown value {:?} stored in {}", s, $column).into()
                })
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $backend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $backend>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $column:literal {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // Wire names are the variants in snake_case; rename_all says so to the OpenAPI schema.
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// The value a wire or stored name stands for, if any.
            #[allow(dead_code)]
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::stored_enum!(@sql $name, $column, $crate::db::Backend);
        $crate::stored_enum!(@sql $name, $column, diesel::sqlite::Sqlite);
        $crate::stored_enum!(@sql $name, $column, diesel::pg::Pg);
    };
}

/// JSON stored in a text column, as a type: written from a `T`, and read back only as a `T`.
/// Text that is not JSON for `T` (a bad restore, a hand edit) is a deserialisation error
/// naming the column, like an unknown stored enum value: it surfaces as a logged 500 for the
/// object that holds it, never as an empty or default value. The text written is kept beside
/// the value, so a row is written as it was read.
#[derive(
    Debug, Clone, PartialEq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct StoredJson<T> {
    value: T,
    text: String,
}

impl<T: serde::Serialize> StoredJson<T> {
    pub fn new(value: T) -> Result<Self, crate::error::AppError> {
        let text = serde_json::to_string(&value)
            .map_err(|e| crate::error::AppError::internal(format!("cannot write JSON: {e}")))?;
        Ok(StoredJson { value, text })
    }
}

impl<T> StoredJson<T> {
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The stored text.
    pub fn as_text(&self) -> &str {
        &self.text
    }
}

impl<T> std::ops::Deref for StoredJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Reads stored JSON text as a `T`; diesel names the column around the error.
fn read_json<T: serde::de::DeserializeOwned>(
    text: String,
) -> diesel::deserialize::Result<StoredJson<T>> {
    match serde_json::from_str(&text) {
        Ok(value) => Ok(StoredJson { value, text }),
        Err(e) => Err(format!("stored text is not the JSON this column holds: {e}").into()),
    }
}

macro_rules! stored_json_sql {
    ($backend:ty) => {
        impl<T: serde::de::DeserializeOwned>
            diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for StoredJson<T>
        {
            fn from_sql(
                bytes: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                read_json(<String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    $backend,
                >>::from_sql(bytes)?)
            }
        }

        impl<T: std::fmt::Debug> diesel::serialize::ToSql<diesel::sql_types::Text, $backend>
            for StoredJson<T>
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $backend>>::to_sql(
                    &self.text, out,
                )
            }
        }
    };
}

stored_json_sql!(crate::db::Backend);
stored_json_sql!(diesel::sqlite::Sqlite);
stored_json_sql!(diesel::pg::Pg);

/// A stored value that cannot be read is an internal error that names the object it belongs
/// to, so the log says which row to mend; other errors map as usual.
pub trait RowContext<T> {
    fn of_row(self, table: &str, id: &str) -> Result<T, crate::error::AppError>;
}

impl<T> RowContext<T> for diesel::QueryResult<T> {
    fn of_row(self, table: &str, id: &str) -> Result<T, crate::error::AppError> {
        self.map_err(|e| match e {
            diesel::result::Error::DeserializationError(cause) => crate::error::AppError::internal(
                format!("{table} {id} cannot be read: {}", crate::error::chain(&*cause)),
            ),
            other => other.into(),
        })
    }
}
