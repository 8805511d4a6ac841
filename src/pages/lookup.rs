//! What the pages show, gathered from the verification index (statuses as of now, by the one
//! rule in [`LicenceStatus::as_of`]) and, for what the index does not hold, from the database.

use chrono::NaiveDateTime;

use crate::domain::{Country, LicenceNumber, RegistrationNumber, E164};
use crate::error::AppError;
use crate::index::Registry;
use crate::licences::LicenceStatus;
use crate::state::AppState;
use crate::verify::{Parsed, QueryType, VerifyResult};

/// The most companies one search lists.
pub const MAX_COMPANIES: usize = 50;
/// The shortest text searched for in company names.
pub const MIN_NAME_QUERY: usize = 2;

/// A licence's public status page.
#[derive(Debug, Clone)]
pub struct LicenceView {
    pub number: String,
    pub holder: String,
    pub status: LicenceStatus,
    /// `None` only if the database no longer has the row the index still holds.
    pub valid_from: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
    pub provisional_until: Option<NaiveDateTime>,
    pub sites: Vec<SiteView>,
    pub checked_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct SiteView {
    pub name: String,
    pub city: String,
    pub open: bool,
}

/// A licence as a search result lists it.
#[derive(Debug, Clone)]
pub struct LicenceLink {
    pub number: String,
    pub holder: String,
    pub status: LicenceStatus,
}

#[derive(Debug, Clone)]
pub struct CompanyHit {
    pub name: String,
    pub registration_number: String,
    pub licences: Vec<LicenceLink>,
}

/// The answer for a telephone number.
#[derive(Debug, Clone)]
pub struct NumberHit {
    pub e164: String,
    pub licensed: bool,
    /// The licence that speaks for the site holding the number, if any.
    pub licence: Option<LicenceLink>,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Why part of the query could not be read (a licence number with wrong check digits…).
    pub notes: Vec<String>,
    pub number: Option<NumberHit>,
    pub companies: Vec<CompanyHit>,
    /// More companies matched than are listed.
    pub truncated: bool,
    /// Whether a company search ran (the text was long enough).
    pub searched_companies: bool,
}

/// What a search leads to.
#[derive(Debug, Clone)]
pub enum Search {
    /// A licence on the register: its status page.
    Licence(String),
    Found(Found),
}

/// The status page of `number`: `Ok(None)` when the register has no such licence.
pub async fn licence(
    state: &AppState,
    number: &LicenceNumber,
) -> Result<Option<LicenceView>, AppError> {
    let now = state.now();
    let query =
        vec![(number.as_str().to_string(), QueryType::Licence, Parsed::Licence(number.clone()))];
    let answer = state.index.answer_all(&query, now)?.pop();
    let Some(answer) = answer.filter(|a| a.result != VerifyResult::Unknown) else {
        return Ok(None);
    };
    let mut view = {
        let r = state.index.read();
        let Some(l) = r.licences.get(number.as_str()) else { return Ok(None) };
        let sites = l
            .sites
            .iter()
            .filter_map(|ix| r.sites.get(*ix as usize))
            .map(|s| SiteView { name: s.name.to_string(), city: s.city.to_string(), open: s.open })
            .collect();
        LicenceView {
            number: number.as_str().to_string(),
            holder: answer.holder.unwrap_or_else(|| l.holder.to_string()),
            status: l.status.as_of(l.expires_at, l.provisional_until, now),
            valid_from: None,
            expires_at: l.expires_at,
            provisional_until: l.provisional_until,
            sites,
            checked_at: now,
        }
    };
    let n = number.as_str().to_string();
    let row = state.db.read(move |conn| crate::licences::store::find(conn, &n)).await?;
    view.valid_from = row.map(|r| r.valid_from);
    Ok(Some(view))
}

/// Whether `q` reads as a telephone number rather than a name or a registration number.
fn looks_like_phone(q: &str) -> bool {
    let digits = q.chars().filter(char::is_ascii_digit).count();
    q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && (digits >= 9 || q.starts_with('+'))
}

/// Reads `q` as a licence number, a telephone number (E.164 or Pakistani national form), a
/// company's registration number or part of its legal name, and looks it up.
pub fn search(state: &AppState, q: &str) -> Result<Search, AppError> {
    // Like every answer from the index: none while it is known to be behind.
    state.index.ensure_current()?;
    let now = state.now();
    let mut found = Found::default();
    let looks_like_licence = q.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CCL-"));
    match LicenceNumber::try_new(q) {
        Ok(n) if state.index.read().licences.contains_key(n.as_str()) => {
            return Ok(Search::Licence(n.as_str().to_string()))
        }
        Ok(n) => found.notes.push(format!("No licence {} is on the register.", n.as_str())),
        Err(e) if looks_like_licence => found.notes.push(e),
        Err(_) => {}
    }
    if looks_like_phone(q) {
        match E164::try_new(q, Country::try_new("PK").ok()) {
            Ok(e) => found.number = Some(number(state, e, now)?),
            Err(e) => found.notes.push(e),
        }
    }
    if !looks_like_licence && q.chars().count() >= MIN_NAME_QUERY {
        found.searched_companies = true;
        let r = state.index.read();
        let (companies, truncated) = companies(&r, q, now);
        found.companies = companies;
        found.truncated = truncated;
    }
    Ok(Search::Found(found))
}

fn number(state: &AppState, e: E164, now: NaiveDateTime) -> Result<NumberHit, AppError> {
    let query = vec![(e.to_string(), QueryType::Number, Parsed::Number(e))];
    let a = state
        .index
        .answer_all(&query, now)?
        .pop()
        .ok_or_else(|| AppError::internal("no answer"))?;
    let licence = match (a.licence_number, a.status) {
        (Some(number), Some(status)) => {
            Some(LicenceLink { number, holder: a.holder.unwrap_or_default(), status })
        }
        _ => None,
    };
    Ok(NumberHit { e164: e.to_string(), licensed: a.result == VerifyResult::Licensed, licence })
}

/// Companies that hold or held a licence, matched by registration number or by a
/// case-insensitive part of their legal name: a scan of the index (no database trip), sorted
/// by name, at most [`MAX_COMPANIES`]. Companies that never held a licence are not public.
fn companies(r: &Registry, q: &str, now: NaiveDateTime) -> (Vec<CompanyHit>, bool) {
    let needle = q.to_lowercase();
    let registration = RegistrationNumber::try_new(q).ok();
    let mut hits: Vec<CompanyHit> = r
        .orgs
        .values()
        .filter(|o| !o.licences.is_empty())
        .filter(|o| {
            registration.as_ref().is_some_and(|n| *o.registration_number == *n.as_str())
                || o.legal_name.to_lowercase().contains(&needle)
        })
        .map(|o| {
            let mut licences: Vec<LicenceLink> = o
                .licences
                .iter()
                .filter_map(|n| r.licences.get(n).map(|l| (n, l)))
                .map(|(n, l)| LicenceLink {
                    number: n.to_string(),
                    holder: o.legal_name.to_string(),
                    status: l.status.as_of(l.expires_at, l.provisional_until, now),
                })
                .collect();
            licences.sort_by(|a, b| b.number.cmp(&a.number));
            CompanyHit {
                name: o.legal_name.to_string(),
                registration_number: o.registration_number.to_string(),
                licences,
            }
        })
        .collect();
    hits.sort_by(|a, b| {
        (a.name.to_lowercase(), &a.registration_number)
            .cmp(&(b.name.to_lowercase(), &b.registration_number))
    });
    let truncated = hits.len() > MAX_COMPANIES;
    hits.truncate(MAX_COMPANIES);
    (hits, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_told_from_names_and_registration_numbers() {
        for phone in ["021 3456 7890", "+922134567890", "(021) 3456-7890", "+92 300 1234567"] {
            assert!(looks_like_phone(phone), "{phone}");
        }
        for other in ["0000001", "Karachi Contact", "CCL-2026-000001-16", "0123/2020"] {
            assert!(!looks_like_phone(other), "{other}");
        }
    }
}
