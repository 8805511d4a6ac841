use crate::error::AppError;

/// A human-readable name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(AppError::invalid(field, "may not be empty"));
        }
        if s.chars().count() > 200 {
            return Err(AppError::invalid(field, "must be at most 200 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(AppError::invalid(field, "may not contain control characters"));
        }
        Ok(Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Name::parse("  Ayesha Khan ", "full_name").unwrap().as_str(), "Ayesha Khan");
        assert!(Name::parse("   ", "full_name").is_err());
        assert!(Name::parse("a\u{7}b", "full_name").is_err());
        assert!(Name::parse(&"x".repeat(201), "full_name").is_err());
    }
}
