//! Value types that parse themselves: once a value has its type, nobody checks it again. Each
//! deserialises by parsing (so a bad value is a 422 naming its field) and describes its own
//! OpenAPI schema, so the spec states exactly what the parser accepts.

pub mod address;
pub mod country;
pub mod email;
pub mod ids;
pub mod ip;
pub mod licence_number;
pub mod licence_status;
pub mod phone;
pub mod record_id;
pub mod role;
pub mod text;
pub mod timestamp;
pub mod transition;

pub use address::Address;
pub use country::Country;
pub use email::Email;
pub use ids::{mask_identity, BodyId, Cnic, IdentityView, Ntn, RegistrationNumber};
pub use ip::IpRange;
pub use licence_number::LicenceNumber;
pub use licence_status::LicenceStatus;
pub use phone::E164;
pub use record_id::{ApplicationId, InvoiceId, OrganisationId, PersonId, SiteId, UserId};
pub use text::{Name, Reason};

/// Implements `Deserialize` (through `FromStr`-like parsing) and a string `ToSchema` for a
/// value type.
#[macro_export]
macro_rules! string_value_type {
    ($ty:ty, $name:literal, |$s:ident| $parse:expr, |$b:ident| $schema:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let $s = <String as serde::Deserialize>::deserialize(d)?;
                $parse.map_err(serde::de::Error::custom)
            }
        }
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let $b = utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String);
                $schema.into()
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}
