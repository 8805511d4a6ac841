use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::stored::StoredJson;
use crate::error::AppError;

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

/// The history with one more step, to store.
pub fn push(
    history: &[Transition],
    from: Option<&str>,
    to: &str,
    at: NaiveDateTime,
    by: &str,
    reason: Option<String>,
) -> Result<StoredJson<Vec<Transition>>, AppError> {
    let mut history = history.to_vec();
    history.push(Transition {
        from: from.map(str::to_string),
        to: to.to_string(),
        at: at.and_utc(),
        by: by.to_string(),
        reason,
    });
    StoredJson::new(history)
}
