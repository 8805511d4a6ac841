use std::str::FromStr;

use crate::error::AppError;

/// An e-mail address, checked by `email_address` (RFC 5322 addr-spec) with a dotted domain,
/// and kept in lower case, so one address cannot sign up twice in different cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| format!("is not an e-mail address: {e}"))?;
        if !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err("needs a domain name such as example.pk".into());
        }
        Ok(Email(parsed.as_str().to_lowercase()))
    }

    /// Parses a value that arrived outside a JSON body (CLI, configuration).
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::string_value_type!(Email, "Email", |s| Email::try_new(&s), |b| b
    .description(Some("An e-mail address (kept in lower case)"))
    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Email)))
    .max_length(Some(254))
    .examples(["officer@pta.gov.pk"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_lowercased() {
        assert_eq!(Email::parse(" Ali@Example.PK ", "email").unwrap().as_str(), "ali@example.pk");
        assert!(Email::parse("not-an-email", "email").is_err());
        assert!(Email::parse("a@localhost", "email").is_err());
        assert!(Email::parse("", "email").is_err());
    }
}
