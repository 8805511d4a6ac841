//! Identity numbers: CNIC, passport, NTN, company registration number; and how much of a
//! person's identity number each reader sees (API.md §16).

use crate::domain::role::Role;
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

/// An identity number with all but its last 4 characters replaced by `*` (a number of 4
/// characters or fewer is shown as it is: there is nothing before its last 4).
pub fn mask_identity(number: &str) -> String {
    let count = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if i + 4 < count { '*' } else { c }).collect()
}

/// How a reader sees a person's identity number (CNIC, passport, permit): the one rule of
/// API.md §16, applied where a response is built for its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityView {
    Full,
    Masked,
}

impl IdentityView {
    /// In full to regulators, admins and operators (an operator reads only its own
    /// organisations' people: every other is 404 before a response is built); masked to
    /// inspectors and agencies.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Admin | Role::Regulator | Role::Operator => IdentityView::Full,
            Role::Inspector | Role::Agency => IdentityView::Masked,
        }
    }

    /// The number as this reader sees it.
    pub fn show(self, number: String) -> String {
        match self {
            IdentityView::Full => number,
            IdentityView::Masked => mask_identity(&number),
        }
    }
}

/// Reads an identity number's text from a request body. A value of another type is refused
/// without quoting it back (serde's own message would print a number sent as one).
pub fn identity_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<String, E> {
            Err(E::custom("invalid type: number, expected a string"))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<String, E> {
            Err(E::custom("invalid type: number, expected a string"))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<String, E> {
            Err(E::custom("invalid type: number, expected a string"))
        }
    }
    // `any`, not `string`: a JSON value deserialiser answers a number asked for as a string
    // with serde's own message, quoting it, before the visitor is called.
    d.deserialize_any(Text)
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
    fn masking_keeps_only_the_last_four_characters() {
        assert_eq!(mask_identity("12345-1234567-1"), "***********67-1");
        assert_eq!(mask_identity("AB1234567"), "*****4567");
        assert_eq!(mask_identity("12345"), "*2345");
        assert_eq!(mask_identity("1234"), "1234");
        assert_eq!(mask_identity(""), "");
        // Characters, not bytes.
        assert_eq!(mask_identity("ÄÖÜ12345"), "****2345");
    }

    #[test]
    fn identity_text_refuses_other_types_without_quoting_them() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "identity_text")]
            id_number: String,
        }
        let ok: Body = serde_json::from_str(r#"{"id_number": "35202-1234567-1"}"#).unwrap();
        assert_eq!(ok.id_number, "35202-1234567-1");
        for bad in [
            r#"{"id_number": 3520212345671}"#,
            r#"{"id_number": -3520212345671}"#,
            r#"{"id_number": 3.5}"#,
        ] {
            let e = serde_json::from_str::<Body>(bad).unwrap_err().to_string();
            assert!(!e.contains("3520212345671") && !e.contains("3.5"), "{e}");
            assert!(e.contains("expected a string"), "{e}");
        }
    }

    #[test]
    fn inspectors_and_agencies_see_identity_numbers_masked() {
        let shown = |role| IdentityView::of(role).show("35202-1234567-1".to_string());
        for role in [Role::Admin, Role::Regulator, Role::Operator] {
            assert_eq!(shown(role), "35202-1234567-1", "{role:?}");
        }
        for role in [Role::Inspector, Role::Agency] {
            assert_eq!(shown(role), "***********67-1", "{role:?}");
        }
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
