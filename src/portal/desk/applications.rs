//! The regulator's applications: the queue (oldest first, days waiting, fee and clearances at
//! a glance, filters by status and city) and one application's whole dossier with the
//! decisions (approve, reject, request information), the fee's payment and the scheduling of
//! an inspection, each through the API route's own domain function.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use maud::{html, Markup};
use serde_json::Value;

use super::super::checklist::{self, Facts};
use super::super::form::{self, options, Field, Kind, Values};
use super::super::organisations::{Page, Posted};
use super::super::views::{self, Invalid, SmallForm};
use super::super::{done, done_message, opened_on, SignedIn};
use crate::applications::routes::{InfoRequest, Rejection};
use crate::applications::store::ApplicationRow;
use crate::applications::{self, Approval, Status};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::barred::Flag;
use crate::clearances::ClearanceStatus;
use crate::db::DbConn;
use crate::documents::DocumentRow;
use crate::error::AppError;
use crate::inspections::NewInspection;
use crate::invoices::{rupees, InvoiceStatus, NewPayment};
use crate::organisations::{Person, PersonRow};
use crate::pages::page;
use crate::state::AppState;

pub const QUEUE: &str = "/desk/applications";
pub const SHOW: &str = "/desk/applications/{id}";
pub const APPROVE: &str = "/desk/applications/{id}/approve";
pub const REJECT: &str = "/desk/applications/{id}/reject";
pub const REQUEST_INFO: &str = "/desk/applications/{id}/request-info";
pub const PAYMENT: &str = "/desk/applications/{id}/payment";
pub const SCHEDULE: &str = "/desk/applications/{id}/inspections";
pub const DOCUMENT: &str = "/desk/documents/{id}";

pub fn link(id: &str) -> String {
    format!("/desk/applications/{id}")
}

/// One row of the queue.
struct Queued {
    facts: Facts,
    waiting_since: NaiveDateTime,
}

const QUEUE_ROWS: i64 = 500;

fn queue_rows(
    conn: &mut DbConn,
    status: Option<Status>,
    city: &str,
    now: NaiveDateTime,
) -> Result<Vec<Queued>, AppError> {
    let mut rows = Vec::new();
    let statuses = match status {
        Some(s) => vec![s],
        None => vec![Status::Submitted, Status::InfoRequested],
    };
    for s in statuses {
        let filter = crate::applications::store::Filter { status: Some(s), ..Default::default() };
        for app in crate::applications::store::list(conn, &filter, None, QUEUE_ROWS)? {
            let facts = checklist::of(conn, app, now)?;
            let city_matches = city.is_empty()
                || facts.sites.iter().any(|s| s.address.city.as_str().eq_ignore_ascii_case(city));
            if city_matches {
                let submitted =
                    facts.app.history.iter().rev().find(|t| t.to == Status::Submitted.as_str());
                let waiting_since = submitted.map_or(facts.app.created_at, |t| t.at.naive_utc());
                rows.push(Queued { facts, waiting_since });
            }
        }
    }
    rows.sort_by_key(|q| q.waiting_since);
    Ok(rows)
}

fn filter_fields() -> Vec<Field> {
    let mut statuses =
        vec![(String::new(), "Under review (submitted or information requested)".to_string())];
    statuses
        .extend(Status::ALL.iter().map(|s| (s.as_str().to_string(), s.as_str().replace('_', " "))));
    vec![Field::new("status", "Status", Kind::Select(statuses)), Field::text("city", "City")]
}

/// `GET /desk/applications?status=&city=`: the queue, oldest first.
pub async fn queue(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let mut values = Values::default();
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        values.set(&k, v.trim().to_string());
    }
    let status = Status::parse(values.get("status"));
    let (city, now) = (values.get("city").to_string(), state.now());
    let rows = state.db.read(move |conn| queue_rows(conn, status, &city, now)).await?;
    Ok(page(StatusCode::OK, queue_page(&who, &rows, &values, now)))
}

fn fee(f: &Facts) -> String {
    match &f.invoice {
        Some(i) if i.status == InvoiceStatus::Paid => "paid".into(),
        Some(i) => format!(
            "{}: Rs {} of {} paid",
            views::words(&i.status),
            rupees(i.paid_minor),
            rupees(i.total_minor)
        ),
        None => "no invoice".into(),
    }
}

/// The application's sites' cities, each once.
fn cities(f: &Facts) -> String {
    let mut cities: Vec<&str> = f.sites.iter().map(|s| s.address.city.as_str()).collect();
    cities.sort_unstable();
    cities.dedup();
    cities.join(", ")
}

fn clearances(f: &Facts) -> String {
    let granted = f.clearances.iter().filter(|c| c.status == ClearanceStatus::Granted).count();
    let objected = f.clearances.iter().filter(|c| c.status == ClearanceStatus::Objected).count();
    let mut s = format!("{granted} of {} granted", f.clearances.len());
    if objected > 0 {
        s.push_str(&format!(", {objected} objected"));
    }
    s
}

fn queue_page(who: &SignedIn, rows: &[Queued], values: &Values, now: NaiveDateTime) -> Markup {
    let fields = filter_fields();
    views::signed_in(
        &who.session,
        "Applications",
        None,
        html! {
            (views::back(super::super::DESK, "Back to the desk"))
            h1 { "Applications" }
            form method="get" action=(QUEUE) class="filters" {
                (form::render(&fields, values, &[]))
                button type="submit" { "Filter" }
            }
            @if rows.is_empty() { p class="muted" { "No applications match." } }
            div class="table-scroll" {
                table {
                    caption class="visually-hidden" { "Applications, oldest first" }
                    thead { tr { th scope="col" { "Applicant" } th scope="col" { "Status" } th scope="col" { "Days waiting" } th scope="col" { "Cities" } th scope="col" { "Fee" } th scope="col" { "Clearances" } } }
                    tbody {
                        @for q in rows {
                            @let f = &q.facts;
                            tr {
                                th scope="row" { a href=(link(&f.app.id)) { (f.org.legal_name) } br; span class="hint" { (views::words(&f.app.category)) " licence" } }
                                td { (f.app.status.as_str().replace('_', " ")) }
                                td { ((now - q.waiting_since).num_days()) }
                                td { (cities(f)) }
                                td { (fee(f)) }
                                td { (clearances(f)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// An application's whole dossier as the regulator sees it.
struct Dossier {
    facts: Facts,
    people: Vec<PersonRow>,
    flags: Vec<Flag>,
    documents: Vec<DocumentRow>,
    inspectors: Vec<(String, String)>,
}

fn dossier(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    now: NaiveDateTime,
) -> Result<Dossier, AppError> {
    let facts = checklist::facts(conn, who, id, now)?;
    let people = crate::organisations::store::list_people(conn, &facts.org.id, None, 500)?;
    let flags = applications::flags_for_viewer(conn, who, std::slice::from_ref(&facts.app), now)?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    let documents = crate::documents::store::list(conn, &facts.org.id, None, None, 500)?;
    let filter = crate::users::store::Filter {
        role: Some(Role::Inspector),
        active: Some(true),
        email: None,
    };
    let inspectors = crate::users::store::list(conn, &filter, None, 500)?
        .into_iter()
        .map(|u| (u.id, format!("{} ({})", u.full_name, u.email)))
        .collect();
    Ok(Dossier { facts, people, flags, documents, inspectors })
}

async fn load(state: &AppState, who: &SignedIn, id: String) -> Result<Dossier, AppError> {
    let (caller, now) = (who.principal(), state.now());
    state.db.read(move |conn| dossier(conn, &caller, &id, now)).await
}

/// `GET /desk/applications/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let d = load(&state, &who, id.into_inner()).await?;
    Ok(page(StatusCode::OK, dossier_page(&who, &d, done_message(&req), None)))
}

fn approve_fields(flagged: bool) -> Vec<Field> {
    let mut fields = Vec::new();
    if flagged {
        fields.push(Field::new(
            "override_flags",
            "Override flags: approve although a person is barred",
            Kind::Tick,
        ));
        fields.push(Field::new("reason", "Reason for the override", Kind::Area));
    }
    fields
}

fn reject_fields() -> Vec<Field> {
    vec![Field::new("reason", "Reason", Kind::Area).id("reject-reason")]
}

fn request_fields() -> Vec<Field> {
    vec![Field::new("message", "Message: what the operator must supply", Kind::Area)]
}

fn payment_fields() -> Vec<Field> {
    vec![
        Field::new("amount_minor", "Amount (Rs)", Kind::Rupees)
            .hint("In rupees, e.g. 20000 or 20000.50."),
        Field::new("paid_at", "Paid at", Kind::Date),
        Field::text("channel", "Channel").hint("How it was paid: psid, 1link, bank_branch."),
        Field::text("reference", "Reference").hint("The payment system's reference."),
    ]
}

fn schedule_fields(d: &Dossier) -> Vec<Field> {
    let sites = d.facts.sites.iter().map(|s| (s.id.clone(), s.name.clone())).collect();
    vec![
        Field::new("site_id", "Site ID: the site to visit", Kind::Select(sites)),
        Field::new("inspector_id", "Inspector ID: who visits", Kind::Select(d.inspectors.clone())),
        Field::new("scheduled_for", "Scheduled for", Kind::DateTime)
            .hint("In UTC: Pakistan time less 5 hours."),
        Field::new(
            "kind",
            "Kind",
            Kind::Select(options(&[
                ("pre_licence", "Pre-licence"),
                ("routine", "Routine"),
                ("complaint", "Complaint"),
                ("follow_up", "Follow-up"),
                ("unannounced", "Unannounced"),
            ])),
        )
        .id("inspection-kind"),
    ]
}

fn people_list(d: &Dossier, who: &Principal) -> Markup {
    html! {
        ul class="items" {
            @for p in &d.people {
                @let view = Person::for_reader(p.clone(), who);
                @let barred = d.flags.iter().filter(|f| f.person_id == p.id).collect::<Vec<_>>();
                li {
                    strong { (view.full_name) } " — " (view.roles.iter().map(views::words).collect::<Vec<_>>().join(", "))
                    ", " (view.id_type.as_str().to_uppercase()) " " (view.id_number) ", " (view.nationality)
                    @for f in barred {
                        " " (views::tag("Barred", "tag-refused")) " until " (f.barred_until.format("%-d %B %Y")) " (licence " (f.licence_number) " revoked)"
                    }
                }
            }
        }
    }
}

fn documents_list(d: &Dossier) -> Markup {
    html! {
        ul class="items" {
            @for doc in &d.documents {
                li {
                    a href={ "/desk/documents/" (doc.id) } { (doc.kind.as_str().replace('_', " ")) }
                    " — " (doc.file_name) " (" (doc.content_type.as_str()) ", " (doc.size_bytes) " bytes)"
                }
            }
        }
    }
}

fn clearances_list(f: &Facts) -> Markup {
    html! {
        ul class="items" {
            @for c in &f.clearances {
                li {
                    strong { (c.agency.to_uppercase()) } " — " (views::words(&c.status))
                    @if let Some(r) = &c.reference { ", reference " (r) }
                    @if let Some(r) = &c.reason { ": " (r) }
                }
            }
        }
    }
}

fn dossier_page(
    who: &SignedIn,
    d: &Dossier,
    done: Option<&str>,
    invalid: Option<Invalid<'_>>,
) -> Markup {
    let f = &d.facts;
    let (app, inv) = (&f.app, invalid.as_ref());
    let base = link(&app.id);
    let title =
        format!("{} — {} licence application", f.org.legal_name, views::words(&app.category));
    views::signed_in(
        &who.session,
        &title,
        done,
        html! {
            (views::back(QUEUE, "Back to the applications"))
            @if let Some(i) = inv { (form::error_summary(i.fields, i.errors)) }
            h1 { (title) }
            dl class="facts" {
                dt { "Status" } dd { (app.status.as_str().replace('_', " ")) }
                dt { "Registration number" } dd { (f.org.registration_number) }
                dt { "Tax number" } dd { (f.org.tax_number) }
                dt { "Term months" } dd { (app.term_months) }
                dt { "Fee" } dd { (fee(f)) }
                dt { "Clearances" } dd { (clearances(f)) }
            }
            @if !d.flags.is_empty() { div class="warning" { p { strong { "Flagged: " } (d.flags.len()) " barred person(s) among the organisation's people. Approving needs an override with a reason." } } }
            h2 { "People" } (people_list(d, &who.principal()))
            h2 { "Sites" }
            ul class="items" { @for s in &f.sites { li { strong { (s.name) } " — " (s.address.line1.as_str()) ", " (s.address.city.as_str()) ", " (s.seat_count) " seats" } } }
            h2 { "Documents" } (documents_list(d))
            h2 { "Clearances" } (clearances_list(f))
            (decisions(who, d, inv))
            (fee_form(who, d, inv))
            h2 { "Schedule an inspection" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/inspections"), name: "schedule", fields: &schedule_fields(d), hidden: &[], button: "Schedule inspection" }, inv))
            h2 { "History" }
            ul class="items" { @for t in app.history.iter() { li { (t.at.format("%-d %B %Y %H:%M")) " — " (t.to.replace('_', " ")) @if let Some(r) = &t.reason { ": " (r) } } } }
        },
    )
}

fn decisions(who: &SignedIn, d: &Dossier, inv: Option<&Invalid<'_>>) -> Markup {
    let app = &d.facts.app;
    let base = link(&app.id);
    let version = app.version.to_string();
    let hidden = [("version", version.as_str())];
    html! {
        @if app.status == Status::Submitted {
            h2 { "Decide" }
            h3 { "Approve" }
            @if d.flags.is_empty() { p { "The licence is issued at once, provisional until the pre-licence visit." } }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/approve"), name: "approve", fields: &approve_fields(!d.flags.is_empty()), hidden: &hidden, button: "Approve" }, inv))
            h3 { "Request information" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/request-info"), name: "request-info", fields: &request_fields(), hidden: &hidden, button: "Request information" }, inv))
            h3 { "Reject" }
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/reject"), name: "reject", fields: &reject_fields(), hidden: &hidden, button: "Reject" }, inv))
        }
    }
}

fn fee_form(who: &SignedIn, d: &Dossier, inv: Option<&Invalid<'_>>) -> Markup {
    let base = link(&d.facts.app.id);
    html! {
        @if let Some(i) = d.facts.invoice.as_ref().filter(|i| i.status == InvoiceStatus::Open) {
            h2 { "Record a payment" }
            p { "Invoice " (i.id) ": Rs " (rupees(i.total_minor - i.paid_minor)) " outstanding." }
            @let version = i.version.to_string();
            (views::small_form(&who.session, &SmallForm { action: &format!("{base}/payment"), name: "payment", fields: &payment_fields(), hidden: &[("version", version.as_str())], button: "Record payment" }, inv))
        }
    }
}

/// One of the dossier's forms as sent: which, its fields and values.
struct Sent {
    name: &'static str,
    fields: Vec<Field>,
    values: Values,
}

/// The outcome of one of the dossier's forms: on success a 303 back to the dossier with its
/// message; a refusal shows the dossier again with that form's values and errors (422, 412
/// when stale, 409 when the step is not open).
async fn answer<R>(
    state: &AppState,
    who: &SignedIn,
    id: String,
    sent: Sent,
    result: Result<R, AppError>,
    what: &str,
) -> Page {
    let e = match result {
        Ok(_) => return Ok(done(&link(&id), what)),
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let errors = form::field_errors(&sent.fields, e);
    let d = load(state, who, id).await?;
    let invalid =
        Invalid { form: sent.name, fields: &sent.fields, values: &sent.values, errors: &errors };
    Ok(page(status, dossier_page(who, &d, None, Some(invalid))))
}

fn version_of(values: &Values) -> i64 {
    values.get("version").parse().unwrap_or(0)
}

/// A decision on the application `id` at the version the form was opened on, with the form's
/// body.
type Step<T, R> = fn(&mut DbConn, NaiveDateTime, &Principal, String, i64, T) -> Result<R, AppError>;

/// Parses the form as `T`, then runs `step` on the application in a write transaction.
async fn decide<T, R>(
    state: web::Data<AppState>,
    who: SignedIn,
    id: String,
    sent: Sent,
    extra: Vec<(&'static str, Value)>,
    step: Step<T, R>,
    what: &str,
) -> Page
where
    T: serde::de::DeserializeOwned + utoipa::ToSchema + crate::http::BodyRules + Send + 'static,
    R: Send + 'static,
{
    let body = match form::parse::<T>(&sent.fields, &sent.values, &extra) {
        Ok(b) => b,
        Err(errors) => {
            return answer::<R>(&state, &who, id, sent, Err(AppError::validation(errors)), what)
                .await
        }
    };
    let (now, caller, app_id, version) =
        (state.now(), who.principal(), id.clone(), version_of(&sent.values));
    let result = state.db.write(move |conn| step(conn, now, &caller, app_id, version, body)).await;
    answer(&state, &who, id, sent, result, what).await
}

fn approve_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: String,
    version: i64,
    body: Approval,
) -> Result<ApplicationRow, AppError> {
    let app = resolve::<ApplicationRow>(conn, who, &id)?;
    applications::approve(conn, now, who, app, opened_on(version), body)
}

fn reject_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: String,
    version: i64,
    body: Rejection,
) -> Result<ApplicationRow, AppError> {
    let app = resolve::<ApplicationRow>(conn, who, &id)?;
    applications::reject(conn, now, who, app, opened_on(version), body.reason)
}

fn request_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: String,
    version: i64,
    body: InfoRequest,
) -> Result<ApplicationRow, AppError> {
    let app = resolve::<ApplicationRow>(conn, who, &id)?;
    applications::request_info(conn, now, who, app, opened_on(version), body.message)
}

fn payment_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: String,
    version: i64,
    body: NewPayment,
) -> Result<(), AppError> {
    let app = resolve::<ApplicationRow>(conn, who, &id)?;
    let invoice_id = app
        .invoice_id
        .clone()
        .ok_or_else(|| AppError::conflict("the application has no invoice yet"))?;
    let invoice = resolve::<crate::invoices::store::InvoiceRow>(conn, who, &invoice_id)?;
    crate::invoices::record_payment(conn, now, &who.id, invoice, opened_on(version), body).map(drop)
}

fn schedule_step(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    id: String,
    _version: i64,
    body: NewInspection,
) -> Result<(), AppError> {
    let app = resolve::<ApplicationRow>(conn, who, &id)?;
    if !app.site_ids.iter().any(|s| s == body.site_id.as_str()) {
        return Err(AppError::invalid("site_id", "is not a site of this application"));
    }
    crate::inspections::schedule(conn, now, who, body).map(drop)
}

/// `POST /desk/applications/{id}/approve` (`applications::approve`; an override with its
/// reason when the application is flagged).
pub async fn approve(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let values = Values(form.fields);
    let sent = Sent { name: "approve", fields: approve_fields(true), values };
    decide::<Approval, _>(
        state,
        who,
        id.into_inner(),
        sent,
        Vec::new(),
        approve_step,
        "application-approved",
    )
    .await
}

/// `POST /desk/applications/{id}/reject`.
pub async fn reject(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let sent = Sent { name: "reject", fields: reject_fields(), values: Values(form.fields) };
    decide::<Rejection, _>(
        state,
        who,
        id.into_inner(),
        sent,
        Vec::new(),
        reject_step,
        "application-rejected",
    )
    .await
}

/// `POST /desk/applications/{id}/request-info`.
pub async fn request_info(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let sent = Sent { name: "request-info", fields: request_fields(), values: Values(form.fields) };
    decide::<InfoRequest, _>(
        state,
        who,
        id.into_inner(),
        sent,
        Vec::new(),
        request_step,
        "information-requested",
    )
    .await
}

/// `POST /desk/applications/{id}/payment`: `invoices::record_payment` on its invoice.
pub async fn payment(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let sent = Sent { name: "payment", fields: payment_fields(), values: Values(form.fields) };
    decide::<NewPayment, _>(
        state,
        who,
        id.into_inner(),
        sent,
        Vec::new(),
        payment_step,
        "payment-recorded",
    )
    .await
}

/// `POST /desk/applications/{id}/inspections`: `inspections::schedule` for one of its sites.
pub async fn schedule(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let d = load(&state, &who, id.clone()).await?;
    let sent = Sent { name: "schedule", fields: schedule_fields(&d), values: Values(form.fields) };
    decide::<NewInspection, _>(
        state,
        who,
        id,
        sent,
        Vec::new(),
        schedule_step,
        "inspection-scheduled",
    )
    .await
}

/// `GET /desk/documents/{id}`: a document opened in the browser (inline, with the type
/// recognised at upload), its reading audited as `document.read` like the API's download.
pub async fn document(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, super::super::PageError> {
    let (id, now, caller) = (id.into_inner(), state.now(), who.principal());
    let (row, bytes) = state
        .db
        .write(move |conn| {
            let doc = resolve::<DocumentRow>(conn, &caller, &id)?;
            crate::documents::read_content(conn, now, &caller, doc)
        })
        .await?;
    Ok(crate::pages::secured(StatusCode::OK)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_TYPE, row.content_type.as_str()))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(bytes))
}
