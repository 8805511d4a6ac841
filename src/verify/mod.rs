//! Verification: is this licence, company, number or IP address registered to a validly
//! licensed operator? One function answers any mix of questions with a fixed number of queries, so a
//! single check and a 10,000-item bulk request take the same path.

pub mod log;
pub mod lookup;
pub mod routes;
pub mod store;

/// The most items one bulk request may ask about.
pub const MAX_BULK: usize = 10_000;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::ip::addr_key;
use crate::domain::{Country, LicenceNumber, Ntn, RegistrationNumber, E164};
use crate::error::{AppError, Problem};
use crate::http::body::{parse_body, parse_strict_each};
use crate::licences::LicenceStatus;

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum QueryType in "verification_log.query_type" {
        Licence = "licence",
        Number = "number",
        Ip = "ip",
        RegistrationNumber = "registration_number",
        TaxNumber = "tax_number",
    }
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum VerifyResult in "verification_log.result" {
        /// Covered by a licence in force.
        Licensed = "licensed",
        /// Known, but the licence is suspended, revoked, expired or surrendered, or none was
        /// issued.
        NotLicensed = "not_licensed",
        /// The registry holds no such thing.
        Unknown = "unknown",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteRef {
    pub name: String,
    pub city: String,
}

/// One answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Answer {
    /// The value asked about, as sent.
    pub query: String,
    #[serde(rename = "type")]
    pub query_type: QueryType,
    pub result: VerifyResult,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub checked_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<LicenceStatus>,
    /// The organisation's legal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::domain::timestamp::serialize_option"
    )]
    pub expires_at: Option<DateTime<Utc>>,
    /// For numbers and IP addresses: the site that holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteRef>,
}

/// A question, parsed.
#[derive(Debug, Clone)]
pub enum Parsed {
    Licence(LicenceNumber),
    Number(E164),
    /// Family and the 32-hex-digit key of the address.
    Ip(i32, String),
    RegistrationNumber(RegistrationNumber),
    TaxNumber(Ntn),
}

/// Parses a value of a type; the error says what is wrong with it.
pub fn parse(query_type: QueryType, value: &str) -> Result<Parsed, String> {
    Ok(match query_type {
        QueryType::Licence => Parsed::Licence(LicenceNumber::try_new(value)?),
        // National forms are Pakistan's (§12): 021 3456 7890.
        QueryType::Number => Parsed::Number(E164::try_new(value, Some(Country::pakistan()))?),
        QueryType::Ip => {
            let addr: std::net::IpAddr = value
                .trim()
                .parse()
                .map_err(|_| format!("{value:?} is not an IPv4 or IPv6 address"))?;
            Parsed::Ip(if addr.is_ipv4() { 4 } else { 6 }, addr_key(addr))
        }
        QueryType::RegistrationNumber => {
            Parsed::RegistrationNumber(RegistrationNumber::try_new(value)?)
        }
        QueryType::TaxNumber => Parsed::TaxNumber(Ntn::try_new(value)?),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    #[serde(rename = "type")]
    pub query_type: QueryType,
    pub value: String,
}

/// Up to 10,000 questions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    #[schema(max_items = 10000)]
    pub items: Vec<BulkItem>,
}

/// A malformed item's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkError {
    /// The item's `value` as sent (a non-string value as its JSON text).
    pub query: String,
    /// The item's `type`, when it is one of the types.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub query_type: Option<QueryType>,
    pub error: Problem,
}

/// One item of a bulk request, read on its own.
pub enum BulkItemRead {
    Question(String, QueryType, Parsed),
    Malformed(BulkError),
}

/// The items of a bulk request, each read on its own so that a malformed one, whatever it
/// holds, is answered in place; each is read as the body is, never all held as JSON at once.
/// The envelope itself must be `{"items": [...]}` (422).
pub fn bulk_items(body: &[u8]) -> Result<Vec<BulkItemRead>, AppError> {
    let mut items = Vec::new();
    let mut sent = 0usize;
    let envelope = parse_strict_each(body, "items", &mut |raw| {
        sent += 1;
        if sent <= MAX_BULK {
            items.push(bulk_item(raw));
        }
    })?;
    parse_body::<BulkRequest>(envelope)?;
    if sent > MAX_BULK {
        return Err(AppError::invalid(
            "items",
            format!("at most {MAX_BULK} items per request ({sent} sent); split the batch"),
        ));
    }
    Ok(items)
}

fn bulk_item(raw: Value) -> BulkItemRead {
    let query = match raw.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let query_type = raw.get("type").and_then(Value::as_str).and_then(QueryType::parse);
    let malformed = |error: AppError| {
        BulkItemRead::Malformed(BulkError {
            query: query.clone(),
            query_type,
            error: error.problem(),
        })
    };
    let item = match parse_body::<BulkItem>(raw) {
        Ok(item) => item.into_inner(),
        Err(e) => return malformed(e),
    };
    match parse(item.query_type, &item.value) {
        Ok(parsed) => BulkItemRead::Question(item.value, item.query_type, parsed),
        Err(message) => malformed(AppError::invalid("value", message)),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BulkAnswer {
    Answer(Answer),
    Error(BulkError),
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResponse {
    /// In the order of the request's items.
    pub results: Vec<BulkAnswer>,
}

/// What the public may see of a licence.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicAnswer {
    pub result: VerifyResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<LicenceStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Attestation {
    /// A compact JWS (EdDSA; the key is in /.well-known/jwks.json).
    pub token: String,
}

/// The claims of an attestation.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttestationClaims {
    pub iss: String,
    /// The licence number.
    pub sub: String,
    pub result: VerifyResult,
    pub status: Option<LicenceStatus>,
    pub holder: Option<String>,
    pub expires_at: Option<i64>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// What the registry holds about the thing asked about. The database lookup (the oracle) and
/// the in-memory index both gather these, and [`answer`] turns them into the answer, so the
/// two cannot disagree on the rule.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    pub org: Option<OrgFacts<'a>>,
    pub licence: Option<LicenceFacts<'a>>,
    pub site: Option<SiteFacts<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct OrgFacts<'a> {
    pub legal_name: &'a str,
    pub registration_number: &'a str,
}

/// A licence as stored; its status as of the question is derived by [`answer`].
#[derive(Debug, Clone, Copy)]
pub struct LicenceFacts<'a> {
    pub number: &'a str,
    pub holder: &'a str,
    pub status: LicenceStatus,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub provisional_until: Option<NaiveDateTime>,
}

impl LicenceFacts<'_> {
    pub fn status_at(&self, now: NaiveDateTime) -> LicenceStatus {
        self.status.as_of(self.expires_at, self.provisional_until, now)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SiteFacts<'a> {
    pub name: &'a str,
    pub city: &'a str,
    pub open: bool,
}

/// The licence that speaks for a site or a company: one in force if any, else the latest
/// issued (ties broken by the higher licence number, so every source picks the same one).
pub fn best<'a>(
    candidates: impl Iterator<Item = LicenceFacts<'a>>,
    now: NaiveDateTime,
) -> Option<LicenceFacts<'a>> {
    candidates.max_by(|a, b| {
        (a.status_at(now).in_force(), a.issued_at, a.number).cmp(&(
            b.status_at(now).in_force(),
            b.issued_at,
            b.number,
        ))
    })
}

/// The city of a site's address.
pub fn site_city(address: &crate::domain::Address) -> String {
    address.city.as_str().to_string()
}

/// An answer that borrows its text from the index: what a single verification writes out,
/// copying nothing. [`AnswerView::to_owned`] is the [`Answer`] with the same fields, serialised
/// the same (the test `views_serialise_as_their_answers` holds them equal).
#[derive(Debug, Serialize)]
pub struct AnswerView<'a> {
    pub query: &'a str,
    #[serde(rename = "type")]
    pub query_type: QueryType,
    pub result: VerifyResult,
    #[serde(serialize_with = "crate::domain::timestamp::serialize")]
    pub checked_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<LicenceStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<&'a str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::domain::timestamp::serialize_option"
    )]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteView<'a>>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SiteView<'a> {
    pub name: &'a str,
    pub city: &'a str,
}

impl AnswerView<'_> {
    pub fn to_owned(&self) -> Answer {
        Answer {
            query: self.query.to_string(),
            query_type: self.query_type,
            result: self.result,
            checked_at: self.checked_at,
            licence_number: self.licence_number.map(str::to_string),
            status: self.status,
            holder: self.holder.map(str::to_string),
            registration_number: self.registration_number.map(str::to_string),
            expires_at: self.expires_at,
            site: self.site.map(|s| SiteRef { name: s.name.to_string(), city: s.city.to_string() }),
        }
    }
}

/// The answer to one question: `licensed` only when the licence that speaks for it is in
/// force as of `now` and, for numbers and addresses, the site that holds it is open.
pub fn view<'a>(
    query: &'a str,
    query_type: QueryType,
    known: Option<Facts<'a>>,
    now: NaiveDateTime,
) -> AnswerView<'a> {
    let mut a = AnswerView {
        query,
        query_type,
        result: VerifyResult::Unknown,
        checked_at: now.and_utc(),
        licence_number: None,
        status: None,
        holder: None,
        registration_number: None,
        expires_at: None,
        site: None,
    };
    let Some(k) = known else { return a };
    let status = k.licence.map(|l| l.status_at(now));
    let site_open = k.site.is_none_or(|s| s.open);
    a.result = if status.is_some_and(LicenceStatus::in_force) && site_open {
        VerifyResult::Licensed
    } else {
        VerifyResult::NotLicensed
    };
    a.status = status;
    a.licence_number = k.licence.map(|l| l.number);
    a.expires_at = k.licence.map(|l| l.expires_at.and_utc());
    a.holder = k.org.map(|o| o.legal_name).or(k.licence.map(|l| l.holder));
    a.registration_number = k.org.map(|o| o.registration_number);
    a.site = k.site.map(|s| SiteView { name: s.name, city: s.city });
    a
}

/// [`view`], owned.
pub fn answer(
    query: &str,
    query_type: QueryType,
    known: Option<Facts<'_>>,
    now: NaiveDateTime,
) -> Answer {
    view(query, query_type, known, now).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a single verification writes (the view) is what its [`Answer`] serialises to,
    /// for every shape an answer takes.
    #[test]
    fn views_serialise_as_their_answers() {
        let at =
            |s: i64, n: u32| DateTime::from_timestamp(1_780_000_000 + s, n).unwrap().naive_utc();
        let org = OrgFacts {
            legal_name: "Ali & \"Sons\" (Pvt) Ltd — کراچی",
            registration_number: "0012345",
        };
        let mut shapes = Vec::new();
        for status in [LicenceStatus::Active, LicenceStatus::Suspended, LicenceStatus::Provisional]
        {
            let licence = LicenceFacts {
                number: "CCL-2026-000001-16",
                holder: "Holder\nLtd",
                status,
                issued_at: at(-86_400, 0),
                expires_at: at(86_400 * 300, 123_456_000),
                provisional_until: Some(at(86_400, 0)),
            };
            for site in [None, Some(SiteFacts { name: "Site \\1", city: "Lahore", open: false })] {
                for o in [None, Some(org)] {
                    shapes.push(Some(Facts { org: o, licence: Some(licence), site }));
                    shapes.push(Some(Facts { org: o, licence: None, site }));
                }
            }
        }
        shapes.push(None);
        let mut licensed = 0;
        for (i, known) in shapes.into_iter().enumerate() {
            for t in [QueryType::Licence, QueryType::Number, QueryType::Ip] {
                let now = at(i as i64, (i as u32 % 3) * 500_000);
                let v = view("+92 21 \"3456\" 7890", t, known, now);
                licensed += usize::from(v.result == VerifyResult::Licensed);
                let owned = serde_json::to_string(&v.to_owned()).unwrap();
                assert_eq!(serde_json::to_string(&v).unwrap(), owned);
                let back: Answer = serde_json::from_str(&owned).unwrap();
                assert_eq!(serde_json::to_string(&back).unwrap(), owned);
            }
        }
        assert!(licensed > 0, "some shapes answer licensed");
    }
}
