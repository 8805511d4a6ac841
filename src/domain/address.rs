use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Country, Name};

/// A postal address. `city` is what site lists filter on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[schema(example = "Plot 12, Shahrah-e-Faisal")]
    pub line1: Name,
    pub line2: Option<Name>,
    #[schema(example = "Karachi")]
    pub city: Name,
    #[schema(example = "Sindh")]
    pub province: Name,
    #[schema(value_type = String, example = "75400", pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9 -]{1,14}\s*$")]
    pub postal_code: PostalCode,
    pub country: Country,
}

/// A postal code: 2 to 15 letters, digits, spaces and dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_uppercase();
        let ok = (2..=15).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if ok {
            Ok(PostalCode(s))
        } else {
            Err("a postal code is 2 to 15 letters, digits, spaces and dashes".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PostalCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PostalCode::try_new(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for PostalCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
