//! The regulator's enforcement work: the enforcement queue (dismiss an item, or act on its
//! licence), violations (resolve with a reason) and the public's reports (triage: a complaint
//! inspection, or dismissal). Each list links to the item's page, whose one form calls the
//! API route's own domain function.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html, Markup};

use super::super::form::{self, options, Field, Kind, Values};
use super::super::organisations::{Page, Posted};
use super::super::views::{self, Invalid, SmallForm};
use super::super::{done, done_message, opened_on, SignedIn};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::domain::record_id::{EnforcementItemId, UserId};
use crate::error::AppError;
use crate::inspections::enforcement::{self, ItemRow, ItemStatus};
use crate::pages::page;
use crate::reports::{self, Report, ReportStatus, Triage};
use crate::state::AppState;
use crate::violations::store::ViolationRow;
use crate::violations::{self, Resolve, Violation, ViolationStatus};

pub const QUEUE: &str = "/desk/enforcement";
pub const ITEM: &str = "/desk/enforcement/{id}";
pub const VIOLATIONS: &str = "/desk/violations";
pub const VIOLATION: &str = "/desk/violations/{id}";
pub const REPORTS: &str = "/desk/reports";
pub const REPORT: &str = "/desk/reports/{id}";

const ROWS: i64 = 500;

/// A list page: its title, what each row links to, and a line about each.
fn list_page(
    who: &SignedIn,
    title: &str,
    empty: &str,
    rows: Vec<(String, String, String)>,
    done: Option<&str>,
) -> Markup {
    views::signed_in(
        &who.session,
        title,
        done,
        html! {
            (views::back(super::super::DESK, "Back to the desk"))
            h1 { (title) }
            @if rows.is_empty() { p class="muted" { (empty) } }
            ul class="items" { @for (href, name, detail) in &rows { li { a href=(href) { (name) } " — " (detail) } } }
        },
    )
}

/// An item's page: its facts and its one form.
fn item_page(
    who: &SignedIn,
    title: &str,
    back: (&str, &str),
    facts: Markup,
    form: Option<SmallForm<'_>>,
    invalid: Option<Invalid<'_>>,
) -> Markup {
    views::signed_in(
        &who.session,
        title,
        None,
        html! {
            (views::back(back.0, back.1))
            @if let Some(i) = &invalid { (form::error_summary(i.fields, i.errors)) }
            h1 { (title) }
            (facts)
            @if let Some(f) = &form { (views::small_form(&who.session, f, invalid.as_ref())) }
        },
    )
}

fn reason_fields() -> Vec<Field> {
    vec![Field::new("reason", "Reason", Kind::Area)]
}

/// How a refused form is answered: its status, or the error as a page of its own.
fn refused(e: AppError) -> Result<(StatusCode, AppError), AppError> {
    match form::refusal_status(&e) {
        Some(status) => Ok((status, e)),
        None => Err(e),
    }
}

// ---- the enforcement queue ----

/// `GET /desk/enforcement`: the open items, oldest first.
pub async fn queue(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let items =
        state.db.read(|conn| enforcement::list(conn, Some(ItemStatus::Open), None, ROWS)).await?;
    let rows = items
        .into_iter()
        .map(|i| {
            (
                format!("/desk/enforcement/{}", i.id),
                format!("Licence {}", i.licence_number),
                format!("{}: {}", views::words(&i.cause), i.raised_because),
            )
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        list_page(&who, "Enforcement queue", "Nothing is waiting.", rows, done_message(&req)),
    ))
}

async fn item(state: &AppState, id: String) -> Result<ItemRow, AppError> {
    state
        .db
        .read(move |conn| {
            enforcement::find(conn, &id)?
                .ok_or_else(|| AppError::not_found("no such enforcement item"))
        })
        .await
}

fn item_view(
    who: &SignedIn,
    i: &ItemRow,
    values: &Values,
    invalid_errors: Option<&[crate::error::FieldError]>,
) -> Markup {
    let fields = reason_fields();
    let version = i.version.to_string();
    let action = format!("/desk/enforcement/{}", i.id);
    let facts = html! {
        dl class="facts" {
            dt { "Licence" } dd { a href={ "/desk/licences/" (i.licence_number) } { (i.licence_number) } }
            dt { "Cause" } dd { (views::words(&i.cause)) }
            dt { "Raised because" } dd { (i.raised_because) }
            dt { "Status" } dd { (views::words(&i.status)) }
            @if let Some(r) = &i.resolution { dt { "Resolution" } dd { (r) } }
        }
        p { "To suspend or revoke the licence, open its page. To take the item off the queue without acting, dismiss it with a reason." }
    };
    let hidden = [("version", version.as_str())];
    let form = (i.status == ItemStatus::Open).then_some(SmallForm {
        action: &action,
        name: "dismiss",
        fields: &fields,
        hidden: &hidden,
        button: "Dismiss item",
    });
    let invalid =
        invalid_errors.map(|errors| Invalid { form: "dismiss", fields: &fields, values, errors });
    item_page(
        who,
        &format!("Enforcement item: licence {}", i.licence_number),
        (QUEUE, "Back to the enforcement queue"),
        facts,
        form,
        invalid,
    )
}

/// `GET /desk/enforcement/{id}`.
pub async fn show_item(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let i = item(&state, id.into_inner()).await?;
    Ok(page(StatusCode::OK, item_view(&who, &i, &Values::default(), None)))
}

/// `POST /desk/enforcement/{id}`: `enforcement::dismiss`.
pub async fn dismiss(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let (id, values) = (id.into_inner(), Values(form.fields));
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let result = match form::parse::<Resolve>(&reason_fields(), &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(body) => {
            let (now, actor, item_id) = (
                state.now(),
                UserId::from(who.session.user_id.as_str()),
                EnforcementItemId::new(id.clone()),
            );
            state
                .db
                .write(move |conn| {
                    enforcement::dismiss(
                        conn,
                        now,
                        &actor,
                        &item_id,
                        opened_on(version),
                        body.reason.into_string(),
                    )
                })
                .await
        }
    };
    let (status, e) = match result {
        Ok(_) => return Ok(done(QUEUE, "item-dismissed")),
        Err(e) => refused(e)?,
    };
    let errors = form::field_errors(&reason_fields(), e);
    let i = item(&state, id).await?;
    Ok(page(status, item_view(&who, &i, &values, Some(&errors))))
}

// ---- violations ----

/// `GET /desk/violations`: open and overdue violations.
pub async fn violations(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let now = state.now();
    let rows = state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            for status in [ViolationStatus::Overdue, ViolationStatus::Open] {
                let f = violations::store::Filter { status: Some(status), ..Default::default() };
                all.extend(violations::store::list(conn, &f, now.date(), None, ROWS)?);
            }
            Ok(all)
        })
        .await?;
    let rows = rows
        .into_iter()
        .map(|r| Violation::view(r, now))
        .map(|v| {
            (
                format!("/desk/violations/{}", v.id),
                v.code.clone(),
                format!(
                    "{} ({}), {}",
                    views::words(&v.severity),
                    views::words(&v.status),
                    v.description
                ),
            )
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        list_page(&who, "Violations", "No open violations.", rows, done_message(&req)),
    ))
}

fn violation(conn: &mut DbConn, who: &Principal, id: &str) -> Result<ViolationRow, AppError> {
    Ok(resolve::<ViolationRow>(conn, who, id)?.into_inner())
}

fn violation_view(
    who: &SignedIn,
    v: &Violation,
    values: &Values,
    invalid_errors: Option<&[crate::error::FieldError]>,
) -> Markup {
    let fields = reason_fields();
    let version = v.version.to_string();
    let action = format!("/desk/violations/{}", v.id);
    let facts = html! {
        dl class="facts" {
            dt { "Code" } dd { (v.code) }
            dt { "Severity" } dd { (views::words(&v.severity)) }
            dt { "Description" } dd { (v.description) }
            dt { "Status" } dd { (views::words(&v.status)) }
            @if let Some(d) = v.due_by { dt { "Due by" } dd { (d.format("%-d %B %Y")) } }
            @if let Some(n) = &v.licence_number { dt { "Licence" } dd { a href={ "/desk/licences/" (n) } { (n) } } }
            @if let Some(r) = &v.resolution { dt { "Resolution" } dd { (r) } }
        }
    };
    let hidden = [("version", version.as_str())];
    let open = v.status != ViolationStatus::Resolved;
    let form = open.then_some(SmallForm {
        action: &action,
        name: "resolve",
        fields: &fields,
        hidden: &hidden,
        button: "Resolve violation",
    });
    let invalid =
        invalid_errors.map(|errors| Invalid { form: "resolve", fields: &fields, values, errors });
    item_page(
        who,
        &format!("Violation {}", v.code),
        (VIOLATIONS, "Back to the violations"),
        facts,
        form,
        invalid,
    )
}

/// `GET /desk/violations/{id}`.
pub async fn show_violation(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> Page {
    let (id, caller, now) = (id.into_inner(), who.principal(), state.now());
    let row = state.db.read(move |conn| violation(conn, &caller, &id)).await?;
    Ok(page(
        StatusCode::OK,
        violation_view(&who, &Violation::view(row, now), &Values::default(), None),
    ))
}

/// `POST /desk/violations/{id}`: `violations::resolve`.
pub async fn resolve_violation(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let (id, values) = (id.into_inner(), Values(form.fields));
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let result = match form::parse::<Resolve>(&reason_fields(), &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(body) => {
            let (now, caller, v) = (state.now(), who.principal(), id.clone());
            state
                .db
                .write(move |conn| {
                    let row = resolve::<ViolationRow>(conn, &caller, &v)?;
                    violations::resolve(conn, now, &caller, row, opened_on(version), body.reason)
                })
                .await
        }
    };
    let (status, e) = match result {
        Ok(_) => return Ok(done(VIOLATIONS, "violation-resolved")),
        Err(e) => refused(e)?,
    };
    let errors = form::field_errors(&reason_fields(), e);
    let (caller, now) = (who.principal(), state.now());
    let row = state.db.read(move |conn| violation(conn, &caller, &id)).await?;
    Ok(page(status, violation_view(&who, &Violation::view(row, now), &values, Some(&errors))))
}

// ---- the public's reports ----

/// `GET /desk/reports`: new reports, with the reports on the same site in 30 days.
pub async fn reports(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let now = state.now();
    let views_ = state
        .db
        .read(move |conn| {
            let rows = reports::store::list(conn, Some(ReportStatus::New), None, None, ROWS)?;
            reports::views(conn, rows, now)
        })
        .await?;
    let rows = views_
        .into_iter()
        .map(|r| {
            let site = r.site.as_ref().map_or("no registered site".to_string(), |s| {
                format!("{}, {} ({} reports in 30 days)", s.name, s.city, r.site_reports_30d)
            });
            (
                format!("/desk/reports/{}", r.id),
                r.number.clone(),
                format!("{}: {}", views::words(&r.category), site),
            )
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        list_page(&who, "Reports from the public", "No new reports.", rows, done_message(&req)),
    ))
}

/// The report and the active inspectors it may be given to.
async fn report(state: &AppState, id: String) -> Result<(Report, Vec<(String, String)>), AppError> {
    let now = state.now();
    state
        .db
        .read(move |conn| {
            let row = reports::store::find(conn, &id)?
                .ok_or_else(|| AppError::not_found("no such report"))?;
            let filter = crate::users::store::Filter {
                role: Some(Role::Inspector),
                active: Some(true),
                email: None,
            };
            let mut inspectors = vec![(String::new(), "None (to dismiss)".to_string())];
            inspectors.extend(
                crate::users::store::list(conn, &filter, None, 500)?
                    .into_iter()
                    .map(|u| (u.id, u.full_name)),
            );
            Ok((reports::view(conn, row, now)?, inspectors))
        })
        .await
}

fn triage_fields(inspectors: &[(String, String)]) -> Vec<Field> {
    vec![
        Field::new(
            "action",
            "Action",
            Kind::Radios(options(&[
                ("inspect", "Inspect: schedule a complaint inspection of the site"),
                ("dismiss", "Dismiss"),
            ])),
        ),
        Field::new("reason", "Reason", Kind::Area),
        Field::new(
            "inspector_id",
            "Inspector ID: who inspects (for an inspection)",
            Kind::Select(inspectors.to_vec()),
        ),
    ]
}

fn report_view(
    who: &SignedIn,
    r: &Report,
    inspectors: &[(String, String)],
    values: &Values,
    invalid_errors: Option<&[crate::error::FieldError]>,
) -> Markup {
    let fields = triage_fields(inspectors);
    let version = r.version.to_string();
    let action = format!("/desk/reports/{}", r.id);
    let facts = html! {
        dl class="facts" {
            dt { "Number" } dd { (r.number) }
            dt { "Called at" } dd { (r.called_at.format("%-d %B %Y %H:%M")) }
            dt { "Category" } dd { (views::words(&r.category)) }
            dt { "Description" } dd { (r.description) }
            @if let Some(s) = &r.site { dt { "Site" } dd { (s.name) ", " (s.city) " (" (r.site_reports_30d) " reports in 30 days)" } }
            @if let Some(n) = &r.licence_number { dt { "Licence" } dd { a href={ "/desk/licences/" (n) } { (n) } } }
            dt { "Status" } dd { (views::words(&r.status)) }
        }
    };
    let hidden = [("version", version.as_str())];
    let form = (r.status == ReportStatus::New).then_some(SmallForm {
        action: &action,
        name: "triage",
        fields: &fields,
        hidden: &hidden,
        button: "Record triage",
    });
    let invalid =
        invalid_errors.map(|errors| Invalid { form: "triage", fields: &fields, values, errors });
    item_page(
        who,
        &format!("Report of a call from {}", r.number),
        (REPORTS, "Back to the reports"),
        facts,
        form,
        invalid,
    )
}

/// `GET /desk/reports/{id}`.
pub async fn show_report(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let (r, inspectors) = report(&state, id.into_inner()).await?;
    Ok(page(StatusCode::OK, report_view(&who, &r, &inspectors, &Values::default(), None)))
}

/// `POST /desk/reports/{id}`: `reports::triage`.
pub async fn triage(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let (r, inspectors) = report(&state, id.clone()).await?;
    let (values, fields) = (Values(form.fields), triage_fields(&inspectors));
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let result: Result<_, AppError> = match form::parse::<Triage>(&fields, &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(body) => {
            let (now, caller, rid) = (state.now(), who.principal(), id.clone());
            state
                .db
                .write(move |conn| {
                    reports::triage(conn, now, &caller, &rid, opened_on(version), body)
                })
                .await
        }
    };
    let (status, e) = match result {
        Ok(_) => return Ok(done(REPORTS, "report-triaged")),
        Err(e) => refused(e)?,
    };
    let errors = form::field_errors(&fields, e);
    Ok(page(status, report_view(&who, &r, &inspectors, &values, Some(&errors))))
}
