//! The operator's site pages: a new site under an organisation; a site's page with its numbers
//! and IP ranges, and the forms that add and remove them (the API's `sites::create`,
//! `telephony::register_number`, `register_ip_range`, `remove_number`, `remove_ip_range`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html, Markup};
use serde_json::Value;

use super::csrf::PortalForm;
use super::form::{self, options, Field, Kind, Values};
use super::organisations::{address_fields, link as organisation_link, Page, Posted};
use super::views::{self, FormView, Invalid, SmallForm};
use super::{done, done_message, SignedIn};
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::organisations::OrgRow;
use crate::pages::page;
use crate::sites::store::SiteRow;
use crate::sites::{self, NewSite};
use crate::state::AppState;
use crate::telephony::store::{IpRangeRow, PhoneRangeRow};
use crate::telephony::{self, NewIpRange, NewNumber, PhoneNumberResource};

pub const NEW: &str = "/portal/organisations/{id}/sites/new";
pub const SHOW: &str = "/portal/sites/{id}";
pub const NUMBERS: &str = "/portal/sites/{id}/numbers";
pub const REMOVE_NUMBER: &str = "/portal/sites/{id}/numbers/{number_id}/delete";
pub const IP_RANGES: &str = "/portal/sites/{id}/ip-ranges";
pub const REMOVE_IP_RANGE: &str = "/portal/sites/{id}/ip-ranges/{range_id}/delete";

pub fn link(id: &str) -> String {
    format!("/portal/sites/{id}")
}

fn site_fields() -> Vec<Field> {
    let mut fields =
        vec![Field::text("name", "Name")
            .hint("What the site is called, e.g. Clifton contact centre.")];
    fields.extend(address_fields("address"));
    fields.push(Field::new("seat_count", "Seat count", Kind::Whole));
    fields.push(Field::new(
        "services",
        "Services",
        Kind::Checks(options(&[
            ("inbound", "Inbound"),
            ("outbound", "Outbound"),
            ("telemarketing", "Telemarketing"),
            ("bpo", "BPO"),
            ("collections", "Collections"),
            ("technical_support", "Technical support"),
        ])),
    ));
    fields.push(
        Field::new("markets", "Markets (country codes, separated by commas)", Kind::List)
            .hint("The countries the site calls or serves, e.g. PK, GB, US."),
    );
    fields
}

fn purposes() -> Vec<(String, String)> {
    options(&[("inbound", "Inbound"), ("outbound", "Outbound"), ("both", "Both")])
}

fn number_fields() -> Vec<Field> {
    vec![
        Field::text("e164", "E164 number").hint("For example +92 21 34567890 or 021 34567890."),
        Field::new("purpose", "Purpose", Kind::Select(purposes())),
    ]
}

fn range_fields() -> Vec<Field> {
    vec![
        Field::text("first", "First number"),
        Field::text("last", "Last number")
            .hint("Of the same length as the first; at most 100000 numbers."),
        Field::new("purpose", "Purpose", Kind::Select(purposes())).id("range-purpose"),
    ]
}

fn ip_range_fields() -> Vec<Field> {
    vec![Field::text("cidr", "CIDR").hint("An IPv4 or IPv6 network, e.g. 203.0.113.0/24.")]
}

fn site_form(who: &SignedIn, org_id: &str, values: &Values, errors: &[FieldError]) -> Markup {
    let fields = site_fields();
    let (action, back) =
        (format!("{}/sites/new", organisation_link(org_id)), organisation_link(org_id));
    views::form_page(
        &who.session,
        FormView {
            title: "Add a site",
            intro: Some(html! { p { "A call-centre location the licence is to cover." } }),
            action: &action,
            fields: &fields,
            values,
            errors,
            hidden: &[],
            button: "Add site",
            back: (&back, "Back to the organisation"),
            multipart: false,
        },
    )
}

/// `GET /portal/organisations/{id}/sites/new`.
pub async fn new_form(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let org =
        state.db.read(move |conn| Ok(resolve::<OrgRow>(conn, &caller, &id)?.into_inner())).await?;
    let mut values = Values::default();
    values.set("address.country", "PK");
    values.set("markets", "PK");
    Ok(page(StatusCode::OK, site_form(&who, &org.id, &values, &[])))
}

/// `POST /portal/organisations/{id}/sites/new`: `sites::create`.
pub async fn create(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let (caller, org_id) = (who.principal(), id.clone());
    state.db.read(move |conn| resolve::<OrgRow>(conn, &caller, &org_id).map(drop)).await?;
    let values = Values(form.fields);
    let fields = site_fields();
    let show = |errors: &[FieldError]| {
        Ok(page(StatusCode::UNPROCESSABLE_ENTITY, site_form(&who, &id, &values, errors)))
    };
    let new = match form::parse::<NewSite>(&fields, &values, &[]) {
        Ok(new) => new,
        Err(errors) => return show(&errors),
    };
    let (now, caller, org_id) = (state.now(), who.principal(), id.clone());
    let created = state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &org_id)?;
            sites::create(conn, now, &caller, &org, new)
        })
        .await;
    match created {
        Ok(row) => Ok(done(&link(&row.id), "site-added")),
        Err(e) if form::is_form_error(&e) => show(&form::field_errors(&fields, e)),
        Err(e) => Err(e.into()),
    }
}

/// A site with what is registered to it.
struct Premises {
    site: SiteRow,
    organisation: String,
    numbers: Vec<PhoneRangeRow>,
    ip_ranges: Vec<IpRangeRow>,
}

const ROWS: i64 = 1000;

fn premises(conn: &mut DbConn, who: &Principal, id: &str) -> Result<Premises, AppError> {
    let site = resolve::<SiteRow>(conn, who, id)?.into_inner();
    let organisation = crate::organisations::store::find(conn, &site.organisation_id)?
        .map(|o| o.legal_name)
        .unwrap_or_default();
    let numbers = telephony::store::list_numbers(conn, &site.id, None, ROWS)?;
    let ip_ranges = telephony::store::list_ip_ranges(conn, &site.id, None, ROWS)?;
    Ok(Premises { site, organisation, numbers, ip_ranges })
}

/// `GET /portal/sites/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let p = state.db.read(move |conn| premises(conn, &caller, &id)).await?;
    Ok(page(StatusCode::OK, site_page(&who, &p, done_message(&req), None)))
}

fn numbers_list(p: &Premises, token: &str) -> Markup {
    html! {
        @if p.numbers.is_empty() { p class="muted" { "No numbers registered yet." } }
        ul class="items" {
            @for n in &p.numbers {
                @let view = PhoneNumberResource::from(n.clone());
                li {
                    @if let Some(e) = &view.e164 { strong { (e) } }
                    @if let (Some(f), Some(l)) = (&view.first, &view.last) { strong { (f) " to " (l) } " (" (view.count) " numbers)" }
                    " — " (views::words(&view.purpose))
                    (views::button_form(&format!("{}/numbers/{}/delete", link(&p.site.id), n.id), token, "Remove", &format!("number {}", view.e164.clone().or(view.first.clone()).unwrap_or_default())))
                }
            }
        }
    }
}

fn ip_ranges_list(p: &Premises, token: &str) -> Markup {
    html! {
        @if p.ip_ranges.is_empty() { p class="muted" { "No IP ranges registered yet." } }
        ul class="items" {
            @for r in &p.ip_ranges {
                li {
                    strong { (r.cidr) }
                    (views::button_form(&format!("{}/ip-ranges/{}/delete", link(&p.site.id), r.id), token, "Remove", &format!("IP range {}", r.cidr)))
                }
            }
        }
    }
}

fn site_page(
    who: &SignedIn,
    p: &Premises,
    done: Option<&str>,
    invalid: Option<Invalid<'_>>,
) -> Markup {
    let (s, token) = (&p.site, who.session.csrf_token.as_str());
    let base = link(&s.id);
    let (numbers, ranges, ips) = (number_fields(), range_fields(), ip_range_fields());
    let inv = invalid.as_ref();
    views::signed_in(
        &who.session,
        &s.name,
        done,
        html! {
            (views::back(&organisation_link(&s.organisation_id), &format!("Back to {}", p.organisation)))
            @if let Some(i) = inv { (form::error_summary(i.fields, i.errors)) }
            h1 { (s.name) }
            dl class="facts" {
                dt { "Address" } dd { (s.address.line1.as_str()) ", " (s.address.city.as_str()) ", " (s.address.country.alpha2()) }
                dt { "Seats" } dd { (s.seat_count) }
                dt { "Services" } dd { (s.services.iter().map(views::words).collect::<Vec<_>>().join(", ")) }
                dt { "Markets" } dd { (s.markets.iter().map(|c| c.alpha2()).collect::<Vec<_>>().join(", ")) }
                dt { "Status" } dd { (s.status.as_str()) }
            }
            h2 { "Numbers" }
            (numbers_list(p, token))
            h3 { "Add a number" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/numbers"), name: "number", fields: &numbers, hidden: &[("kind", "number")], button: "Add number" }, inv))
            h3 { "Add a range" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/numbers"), name: "range", fields: &ranges, hidden: &[("kind", "range")], button: "Add range" }, inv))
            h2 { "IP ranges" }
            (ip_ranges_list(p, token))
            h3 { "Add an IP range" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/ip-ranges"), name: "ip", fields: &ips, hidden: &[], button: "Add IP range" }, inv))
        },
    )
}

/// How a site page's form registers what it carries: `telephony::register_number` or
/// `telephony::register_ip_range`.
type Register<T, R> = fn(
    &mut DbConn,
    chrono::NaiveDateTime,
    &Principal,
    &crate::auth::visible::Visible<SiteRow>,
    T,
) -> Result<R, AppError>;

/// One of the site page's forms as sent: which, its fields and values, the JSON fields the
/// form does not show, the domain function, and the message of its success.
struct SiteForm<T, R> {
    name: &'static str,
    fields: Vec<Field>,
    values: Values,
    extra: Vec<(&'static str, Value)>,
    register: Register<T, R>,
    done: &'static str,
}

/// Runs one of the site page's forms: parses `T`, registers it; a refusal shows the site page
/// again (422) with that form's values and errors.
async fn register<T, R>(
    state: web::Data<AppState>,
    who: SignedIn,
    site_id: String,
    f: SiteForm<T, R>,
) -> Page
where
    T: serde::de::DeserializeOwned + utoipa::ToSchema + crate::http::BodyRules + Send + 'static,
    R: Send + 'static,
{
    let (caller, id) = (who.principal(), site_id.clone());
    let p = state.db.read(move |conn| premises(conn, &caller, &id)).await?;
    let errors = match form::parse::<T>(&f.fields, &f.values, &f.extra) {
        Err(errors) => errors,
        Ok(new) => {
            let (now, caller, id, register) =
                (state.now(), who.principal(), site_id.clone(), f.register);
            let made = state
                .db
                .write(move |conn| {
                    let site = resolve::<SiteRow>(conn, &caller, &id)?;
                    register(conn, now, &caller, &site, new)
                })
                .await;
            match made {
                Ok(_) => return Ok(done(&link(&site_id), f.done)),
                Err(e) if form::is_form_error(&e) => form::field_errors(&f.fields, e),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let invalid = Invalid { form: f.name, fields: &f.fields, values: &f.values, errors: &errors };
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, site_page(&who, &p, None, Some(invalid))))
}

/// `POST /portal/sites/{id}/numbers`: one number (`kind=number`) or a range (`kind=range`).
pub async fn add_number(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let values = Values(form.fields);
    let range = values.get("kind") == "range";
    let (name, fields) =
        if range { ("range", range_fields()) } else { ("number", number_fields()) };
    let extra = vec![("kind", Value::from(name))];
    let f = SiteForm {
        name,
        fields,
        values,
        extra,
        register: telephony::register_number,
        done: "number-added",
    };
    register::<NewNumber, _>(state, who, id.into_inner(), f).await
}

/// `POST /portal/sites/{id}/ip-ranges`.
pub async fn add_ip_range(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let f = SiteForm {
        name: "ip",
        fields: ip_range_fields(),
        values: Values(form.fields),
        extra: Vec::new(),
        register: telephony::register_ip_range,
        done: "ip-range-added",
    };
    register::<NewIpRange, _>(state, who, id.into_inner(), f).await
}

/// `POST /portal/sites/{id}/numbers/{number_id}/delete`.
pub async fn remove_number(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    _form: PortalForm<super::account::NoFields>,
) -> Page {
    let (site_id, number_id) = path.into_inner();
    let (now, caller, id) = (state.now(), who.principal(), site_id.clone());
    state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &caller, &id)?;
            let number = site.child::<PhoneRangeRow>(conn, &number_id)?;
            telephony::remove_number(conn, now, &caller, &site, number)
        })
        .await?;
    Ok(done(&link(&site_id), "number-removed"))
}

/// `POST /portal/sites/{id}/ip-ranges/{range_id}/delete`.
pub async fn remove_ip_range(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    _form: PortalForm<super::account::NoFields>,
) -> Page {
    let (site_id, range_id) = path.into_inner();
    let (now, caller, id) = (state.now(), who.principal(), site_id.clone());
    state
        .db
        .write(move |conn| {
            let site = resolve::<SiteRow>(conn, &caller, &id)?;
            let range = site.child::<IpRangeRow>(conn, &range_id)?;
            telephony::remove_ip_range(conn, now, &caller, &site, range)
        })
        .await?;
    Ok(done(&link(&site_id), "ip-range-removed"))
}
