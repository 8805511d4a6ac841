use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One step of a history: who moved what from which status to which, when and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    /// Null for the creation.
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    /// The acting user's id.
    pub by: String,
    pub reason: Option<String>,
}

/// Appends a step to a history stored as a JSON array.
pub fn push(
    history_json: &str,
    from: Option<&str>,
    to: &str,
    at: NaiveDateTime,
    by: &str,
    reason: Option<String>,
) -> String {
    let mut history: Vec<Transition> = serde_json::from_str(history_json).unwrap_or_default();
    history.push(Transition {
        from: from.map(str::to_string),
        to: to.to_string(),
        at: at.and_utc(),
        by: by.to_string(),
        reason,
    });
    serde_json::to_string(&history).unwrap_or_else(|_| "[]".into())
}

pub fn parse(history_json: &str) -> Vec<Transition> {
    serde_json::from_str(history_json).unwrap_or_default()
}
