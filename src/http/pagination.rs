//! Cursor pagination: `?limit=` (default 50, max 500) and an opaque `?cursor=`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (empty: the first page).
    #[param(pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => {
                Err(AppError::bad_request(format!("limit must be from 1 to {MAX_LIMIT}, not {n}")))
            }
        }
    }

    /// The position after which this page starts, if any.
    pub fn after(&self) -> Result<Option<String>, AppError> {
        self.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()
    }
}

pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{position}"))
}

fn decode_cursor(cursor: &str) -> Result<String, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("c1:").map(str::to_string))
        .filter(|s| !s.contains('\0'))
        .ok_or_else(|| AppError::bad_request("cursor is not one this server issued"))
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order; `position` gives a row's key.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        position: impl Fn(&R) -> String,
        view: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor =
            if more { rows.last().map(|r| encode_cursor(&position(r))) } else { None };
        Page { items: rows.into_iter().map(view).collect(), next_cursor }
    }

    /// Builds a page from at most `limit` items already viewed; `more` says whether rows
    /// follow them.
    pub fn from_views(items: Vec<T>, more: bool, position: impl Fn(&T) -> String) -> Self {
        let next_cursor =
            if more { items.last().map(|i| encode_cursor(&position(i))) } else { None };
        Page { items, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let p = PageParams { limit: None, cursor: Some(encode_cursor("abc")) };
        assert_eq!(p.after().unwrap().as_deref(), Some("abc"));
        let p = PageParams { limit: None, cursor: Some("not-a-cursor".into()) };
        assert!(p.after().is_err());
        assert!(PageParams { limit: Some(0), cursor: None }.limit().is_err());
        assert!(PageParams { limit: Some(501), cursor: None }.limit().is_err());
    }

    #[test]
    fn last_page_has_no_cursor() {
        let page = Page::from_rows(vec![1, 2, 3], 3, |n| n.to_string(), |n| n);
        assert_eq!(page.next_cursor, None);
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| n.to_string(), |n| n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor("2")));
    }
}
