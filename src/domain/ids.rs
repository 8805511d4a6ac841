//! Identity numbers: CNIC, passport, NTN, company registration number.

use crate::error::AppError;

fn digits_in(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A CNIC: 13 digits, written `12345-1234567-1`. Accepted with or without the dashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cnic(String);

impl Cnic {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let shape_ok = s.chars().all(|c| c.is_ascii_digit() || c == '-');
        let d = digits_in(s);
        let dashed_ok = !s.contains('-')
            || (s.len() == 15 && s.as_bytes()[5] == b'-' && s.as_bytes()[13] == b'-');
        if !shape_ok || d.len() != 13 || !dashed_ok {
            return Err("a CNIC is 13 digits, written 12345-1234567-1".into());
        }
        Ok(Cnic(format!("{}-{}-{}", &d[..5], &d[5..12], &d[12..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A passport number: 5 to 20 letters and digits, kept upper-case.
pub fn passport(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    if (5..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(s)
    } else {
        Err("a passport number is 5 to 20 letters and digits".into())
    }
}

/// A National Tax Number: 7 digits, a dash, 1 check digit (`1234567-8`). Only the format is
/// checked: FBR does not publish the check-digit algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntn(String);

impl Ntn {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let b = s.as_bytes();
        let ok = b.len() == 9
            && b[7] == b'-'
            && b[..7].iter().all(u8::is_ascii_digit)
            && b[8].is_ascii_digit();
        if ok {
            Ok(Ntn(s.to_string()))
        } else {
            Err("an NTN is 7 digits, a dash and a check digit, e.g. 1234567-8".into())
        }
    }

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::string_value_type!(Ntn, "Ntn", |s| Ntn::try_new(&s), |b| b
    .description(Some("A National Tax Number: 7 digits, a dash, a check digit"))
    .pattern(Some(r"^\s*[0-9]{7}-[0-9]\s*$"))
    .examples(["1234567-8"]));

/// A company registration number (SECP incorporation number or similar): 3 to 40 letters,
/// digits, `/` and `-`, kept upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationNumber(String);

impl RegistrationNumber {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_uppercase();
        if (3..=40).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-')
            && s.chars().any(|c| c.is_ascii_alphanumeric())
        {
            Ok(RegistrationNumber(s))
        } else {
            Err("a registration number is 3 to 40 letters, digits, '/' and '-'".into())
        }
    }

    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::string_value_type!(
    RegistrationNumber,
    "RegistrationNumber",
    |s| RegistrationNumber::try_new(&s),
    |b| b
        .description(Some("A company registration number: 3 to 40 letters, digits, '/' and '-'"))
        // Surrounding white space is trimmed before the length counts.
        .pattern(Some(r"^\s*(?=[A-Za-z0-9/-]*[A-Za-z0-9])[A-Za-z0-9/-]{3,40}\s*$"))
        .examples(["0123456"])
);

/// An id named in a request body (`site_ids[0]`, `inspector_id`): a UUID, kept in its
/// canonical form (lower-case, hyphenated) so every spelling of one id names the same row.
/// Anything else is 422 naming the field, listed with the body's other invalid fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BodyId(String);

impl BodyId {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        uuid::Uuid::try_parse(raw)
            .map(|id| BodyId(id.hyphenated().to_string()))
            .map_err(|_| "must be a UUID, such as 0190a3c4-7b1e-7000-8000-000000000000".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

crate::string_value_type!(BodyId, "Id", |s| BodyId::try_new(&s), |b| b
    .description(Some("An id: a UUID"))
    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)))
    .examples(["0190a3c4-7b1e-7000-8000-000000000000"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnic_forms() {
        assert_eq!(Cnic::try_new("12345-1234567-1").unwrap().as_str(), "12345-1234567-1");
        assert_eq!(Cnic::try_new("1234512345671").unwrap().as_str(), "12345-1234567-1");
        assert!(Cnic::try_new("12345-1234567").is_err());
        assert!(Cnic::try_new("1234-51234567-1").is_err());
        assert!(Cnic::try_new("12345-1234567-12").is_err());
        assert!(Cnic::try_new("abcde-1234567-1").is_err());
    }

    #[test]
    fn ntn_and_registration_numbers() {
        assert!(Ntn::try_new("1234567-8").is_ok());
        for bad in ["12345678", "123456-78", "1234567-", "1234567-89", "abcdefg-1"] {
            assert!(Ntn::try_new(bad).is_err(), "{bad}");
        }
        assert_eq!(RegistrationNumber::try_new(" 0012345/k ").unwrap().as_str(), "0012345/K");
        assert!(RegistrationNumber::try_new("--").is_err());
        assert_eq!(passport("ab1234567").unwrap(), "AB1234567");
        assert!(passport("AB 12").is_err());
    }

    #[test]
    fn body_ids_are_canonical_uuids() {
        let id = BodyId::try_new("0190A3C4-7B1E-7000-8000-00000000000A").unwrap();
        assert_eq!(id.as_str(), "0190a3c4-7b1e-7000-8000-00000000000a");
        for bad in ["nope", "", "0190a3c4-7b1e-7000-8000", " 0190a3c4-7b1e-7000-8000-000000000000"]
        {
            assert!(BodyId::try_new(bad).is_err(), "{bad:?}");
        }
    }
}
