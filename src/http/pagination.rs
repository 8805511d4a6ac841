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

/// `?sort=field` (ascending) or `?sort=-field` (descending), on a list that offers it (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub desc: bool,
}

impl<F: Copy> Sort<F> {
    /// Parses `raw` against the fields a list can sort by (`(name, field)`); 400 otherwise.
    pub fn parse(raw: Option<&str>, fields: &[(&str, F)]) -> Result<Option<Self>, AppError> {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
        let (desc, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        match fields.iter().find(|(n, _)| *n == name) {
            Some((_, field)) => Ok(Some(Sort { field: *field, desc })),
            None => Err(AppError::bad_request(format!(
                "cannot sort by {name:?}; sort by {} (prefix - for descending)",
                fields.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

/// Where a sorted page ends: the sort it was made for, the sort key's value and the row's id
/// (the tie-break), kept in the opaque cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortedPosition {
    pub sort: String,
    pub value: String,
    pub id: String,
}

impl SortedPosition {
    pub fn encode(&self) -> String {
        format!("s:{}", serde_json::to_string(self).unwrap_or_default())
    }

    /// The position in a cursor made for `sort` (the `?sort=` value as sent, trimmed).
    pub fn decode(position: &str, sort: &str) -> Result<Self, AppError> {
        let p: SortedPosition = position
            .strip_prefix("s:")
            .and_then(|json| serde_json::from_str(json).ok())
            .ok_or_else(|| {
                AppError::bad_request("this cursor was issued for another sort order")
            })?;
        if p.sort != sort {
            return Err(AppError::bad_request("this cursor was issued for another sort order"));
        }
        Ok(p)
    }
}

/// Orders a boxed query `$q` by `$col` then `$id` (both ways, as `$sort.desc` says) and, given
/// the previous page's last position `$after`, keeps only the rows after it: the keyset page
/// of a sorted list. `$value` turns the position's text back into `$col`'s value.
#[macro_export]
macro_rules! keyset_page {
    ($q:ident, $sort:expr, $after:expr, $id:expr, $col:expr, $value:expr) => {{
        if let Some(p) = $after {
            let v = $value(&p.value)?;
            $q = if $sort.desc {
                $q.filter($col.lt(v.clone()).or($col.eq(v).and($id.lt(p.id.clone()))))
            } else {
                $q.filter($col.gt(v.clone()).or($col.eq(v).and($id.gt(p.id.clone()))))
            };
        }
        if $sort.desc {
            $q.order(($col.desc(), $id.desc()))
        } else {
            $q.order(($col.asc(), $id.asc()))
        }
    }};
}

/// The text of a position as a text column's value.
pub fn text_key(v: &str) -> Result<String, AppError> {
    Ok(v.to_string())
}

/// A stored timestamp as a sort key in a cursor, and back.
pub fn time_key(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

pub fn parse_time_key(s: &str) -> Result<chrono::NaiveDateTime, AppError> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6f")
        .map_err(|_| AppError::bad_request("cursor is not one this server issued"))
}

/// `%text%` for a case-insensitive contains filter, with LIKE's wildcards escaped (`\`).
pub fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
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
