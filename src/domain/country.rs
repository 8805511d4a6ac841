use serde::Serialize;

use crate::error::AppError;

/// An ISO 3166-1 alpha-2 country code, checked against `isocountry`'s list, kept upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Country(#[serde(serialize_with = "alpha2")] isocountry::CountryCode);

fn alpha2<S: serde::Serializer>(c: &isocountry::CountryCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.alpha2())
}

impl Country {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        if raw.len() != 2 {
            return Err(format!("{raw:?} is not an ISO 3166-1 alpha-2 country code (two letters)"));
        }
        isocountry::CountryCode::for_alpha2_caseless(raw)
            .map(Country)
            .map_err(|_| format!("{raw:?} is not an ISO 3166-1 alpha-2 country code"))
    }

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    /// Pakistan: the region of national-form telephone numbers.
    pub fn pakistan() -> Self {
        Country(isocountry::CountryCode::PAK)
    }

    pub fn alpha2(&self) -> &'static str {
        self.0.alpha2()
    }
}

/// The spec's pattern: exactly the codes `try_new` accepts, in either case.
fn pattern() -> String {
    let caseless = |c: char| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase());
    let codes: Vec<String> = isocountry::CountryCode::iter()
        .map(|c| c.alpha2().chars().map(caseless).collect())
        .collect();
    format!("^({})$", codes.join("|"))
}

crate::string_value_type!(Country, "CountryCode", |s| Country::try_new(&s), |b| b
    .description(Some("An ISO 3166-1 alpha-2 country code (either case)"))
    .pattern(Some(pattern()))
    .examples(["PK"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries() {
        assert_eq!(Country::parse("pk", "c").unwrap().alpha2(), "PK");
        assert!(Country::parse("XX", "c").is_err());
        assert!(Country::parse("PAK", "c").is_err());
        assert!(pattern().contains("[Pp][Kk]") && !pattern().contains("[Xx][Xx]"));
    }
}
