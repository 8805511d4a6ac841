//! Statuses, roles and kinds are stored as text through one mapping: [`stored_enum!`] makes
//! a Rust enum whose `FromSql` refuses any value it does not name (crates.io does the same for
//! its enums). An unknown stored value is a deserialisation error naming the column, which
//! surfaces as a logged 500, never as a default; CHECK constraints (triggers on SQLite) keep
//! such values out in the first place.

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
