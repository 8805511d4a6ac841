use crate::error::AppError;

/// What [`Name`] accepts, for the spec: some visible text, no control characters.
pub const NAME_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

/// A human-readable name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("may not be empty".into());
        }
        if s.chars().count() > 200 {
            return Err("must be at most 200 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("may not contain control characters".into());
        }
        Ok(Name(s.to_string()))
    }

    /// Parses a value that arrived outside a JSON body (CLI, configuration).
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(|m| AppError::invalid(field, m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

crate::string_value_type!(Name, "Name", |s| Name::try_new(&s), |b| b
    .description(Some("A name: 1 to 200 characters, trimmed, no control characters"))
    .min_length(Some(1))
    .max_length(Some(200))
    .pattern(Some(NAME_PATTERN))
    .examples(["Ayesha Khan"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Name::parse("  Ayesha Khan ", "full_name").unwrap().as_str(), "Ayesha Khan");
        assert!(Name::parse("   ", "full_name").is_err());
        assert!(Name::parse("a\u{7}b", "full_name").is_err());
        assert!(Name::parse(&"x".repeat(201), "full_name").is_err());
        assert!(serde_json::from_str::<Name>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<Name>("\" Sara \"").unwrap().as_str(), "Sara");
    }
}

/// What [`Reason`] accepts, for the spec: some visible text, no control characters but line
/// breaks and tabs.
pub const REASON_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// Free text giving a reason or message: trimmed, 1 to 2000 characters, no control characters
/// but line breaks and tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("may not be empty".into());
        }
        if s.chars().count() > 2000 {
            return Err("must be at most 2000 characters".into());
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err("may not contain control characters".into());
        }
        Ok(Reason(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

crate::string_value_type!(Reason, "Reason", |s| Reason::try_new(&s), |b| b
    .description(Some("Free text: 1 to 2000 characters"))
    .min_length(Some(1))
    .max_length(Some(2000))
    .pattern(Some(REASON_PATTERN))
    .examples(["Unlicensed outbound calling found at inspection"]));
