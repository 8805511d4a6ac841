use std::str::FromStr;

use crate::error::AppError;

/// An e-mail address, checked by `email_address` (RFC 5322 addr-spec) and kept in lower case,
/// so one address cannot sign up twice in different cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err(AppError::invalid(field, "must be at most 254 characters"));
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| AppError::invalid(field, format!("is not an e-mail address: {e}")))?;
        if !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err(AppError::invalid(field, "needs a domain name such as example.pk"));
        }
        Ok(Email(parsed.as_str().to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
