//! Inspections at the desk: an inspector's own (today's first, then the coming ones, then the
//! past), and the visit form made for a phone: §6's fields, findings as rows (one more row
//! with "Add another finding", no script needed), outcome and private notes, recorded by
//! `inspections::record_visit` (the API route's function).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDateTime;
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::super::csrf::PortalUpload;
use super::super::form::{self, options, Field, Kind, Values};
use super::super::organisations::{Page, Posted};
use super::super::views::{self};
use super::super::{done, done_message, opened_on, SignedIn};
use crate::auth::visible::resolve;
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::inspections::evidence::{self, EvidenceForm, EvidenceRow};
use crate::inspections::store::InspectionRow;
use crate::inspections::{self, Record, Status};
use crate::pages::page;
use crate::sites::store::SiteRow;
use crate::state::AppState;

pub const LIST: &str = "/desk/inspections";
pub const SHOW: &str = "/desk/inspections/{id}";
pub const EVIDENCE: &str = "/desk/inspections/{id}/evidence";
pub const PHOTO: &str = "/desk/inspections/{id}/evidence/{evidence_id}";

pub fn link(id: &str) -> String {
    format!("/desk/inspections/{id}")
}

/// The most finding rows a visit form shows.
const MAX_ROWS: usize = 10;

/// The names of the fields of finding row `i` (`findings.0.code` …), for ten rows.
const ROWS: [[&str; 4]; MAX_ROWS] = [
    ["findings.0.code", "findings.0.severity", "findings.0.description", "findings.0.due_by"],
    ["findings.1.code", "findings.1.severity", "findings.1.description", "findings.1.due_by"],
    ["findings.2.code", "findings.2.severity", "findings.2.description", "findings.2.due_by"],
    ["findings.3.code", "findings.3.severity", "findings.3.description", "findings.3.due_by"],
    ["findings.4.code", "findings.4.severity", "findings.4.description", "findings.4.due_by"],
    ["findings.5.code", "findings.5.severity", "findings.5.description", "findings.5.due_by"],
    ["findings.6.code", "findings.6.severity", "findings.6.description", "findings.6.due_by"],
    ["findings.7.code", "findings.7.severity", "findings.7.description", "findings.7.due_by"],
    ["findings.8.code", "findings.8.severity", "findings.8.description", "findings.8.due_by"],
    ["findings.9.code", "findings.9.severity", "findings.9.description", "findings.9.due_by"],
];

fn visit_fields() -> Vec<Field> {
    vec![
        Field::new("visited_at", "Visited at", Kind::DateTime)
            .hint("In UTC: Pakistan time less 5 hours."),
        Field::new("seats_observed", "Seats observed", Kind::Whole),
        Field::new("staff_present", "Staff present", Kind::Whole),
        Field::new("foreign_nationals_present", "Foreign nationals present", Kind::Whole),
        Field::new(
            "outcome",
            "Outcome",
            Kind::Radios(options(&[
                ("compliant", "Compliant"),
                ("minor_issues", "Minor issues"),
                ("major_issues", "Major issues"),
                ("critical", "Critical"),
            ])),
        ),
        Field::new("notes", "Notes (private: never shown to the operator)", Kind::Area),
    ]
}

fn row_fields(i: usize) -> Vec<Field> {
    let [code, severity, description, due_by] = ROWS[i];
    vec![
        Field::text(code, "Code").hint("Letters, digits, - _ or . e.g. UNDECLARED-SEATS."),
        Field::new(
            severity,
            "Severity",
            Kind::Select(options(&[
                ("minor", "Minor"),
                ("major", "Major"),
                ("critical", "Critical"),
            ])),
        ),
        Field::text(description, "Description"),
        Field::new(due_by, "Due by (optional)", Kind::Date),
    ]
}

/// The form's fields with `rows` finding rows.
fn all_fields(rows: usize) -> Vec<Field> {
    let mut fields = visit_fields();
    (0..rows.min(MAX_ROWS)).for_each(|i| fields.extend(row_fields(i)));
    fields
}

/// How many finding rows the posted form had, one more if it asked for another.
fn rows_of(values: &Values) -> usize {
    let shown = values.get("rows").parse::<usize>().unwrap_or(1).clamp(1, MAX_ROWS);
    if values.get("add_row") == "true" {
        (shown + 1).min(MAX_ROWS)
    } else {
        shown
    }
}

/// The findings the rows hold (an empty row is no finding), as the API's JSON.
fn findings(values: &Values, rows: usize) -> Value {
    let mut list = Vec::new();
    for row in ROWS.iter().take(rows) {
        let mut finding = Map::new();
        for (name, key) in row.iter().zip(["code", "severity", "description", "due_by"]) {
            let v = values.get(name).trim();
            if !v.is_empty() {
                finding.insert(key.to_string(), Value::from(v));
            }
        }
        let only_severity = finding.len() == 1 && finding.contains_key("severity");
        if !finding.is_empty() && !only_severity {
            list.push(Value::Object(finding));
        }
    }
    Value::Array(list)
}

/// An inspection with its site (and, on its own page, its photos).
struct Visit {
    inspection: InspectionRow,
    site: Option<SiteRow>,
    photos: Vec<EvidenceRow>,
}

fn visits(conn: &mut DbConn, who: &Principal) -> Result<Vec<Visit>, AppError> {
    let filter = inspections::store::Filter {
        inspector_scope: who.is(Role::Inspector).then(|| who.id.clone()),
        ..Default::default()
    };
    let rows = inspections::store::list(conn, &filter, None, 500)?;
    let sites = crate::sites::store::find_many(
        conn,
        &rows.iter().map(|r| r.site_id.clone()).collect::<Vec<_>>(),
    )?;
    Ok(rows
        .into_iter()
        .map(|inspection| {
            let site = sites.iter().find(|s| s.id == inspection.site_id).cloned();
            Visit { inspection, site, photos: Vec::new() }
        })
        .collect())
}

/// Today's first, then the coming ones (soonest first), then the rest (latest first).
fn order(visits: &mut [Visit], now: NaiveDateTime) {
    let today = now.date();
    visits.sort_by_key(|v| {
        let at = v.inspection.scheduled_for;
        let open = v.inspection.status == Status::Scheduled;
        match (at.date() == today && open, open && at >= now) {
            (true, _) => (0, at.and_utc().timestamp()),
            (false, true) => (1, at.and_utc().timestamp()),
            _ => (2, -at.and_utc().timestamp()),
        }
    });
}

/// `GET /desk/inspections`.
pub async fn list(state: web::Data<AppState>, who: SignedIn) -> Page {
    let (caller, now) = (who.principal(), state.now());
    let mut rows = state.db.read(move |conn| visits(conn, &caller)).await?;
    order(&mut rows, now);
    let today = now.date();
    Ok(page(
        StatusCode::OK,
        views::signed_in(
            &who.session,
            "Inspections",
            None,
            html! {
                (views::back(super::super::DESK, "Back to the desk"))
                h1 { "Inspections" }
                @if rows.is_empty() { p class="muted" { "No inspections." } }
                ul class="items" {
                    @for v in &rows {
                        @let i = &v.inspection;
                        li {
                            a href=(link(&i.id)) { (v.site.as_ref().map_or("a site", |s| s.name.as_str())) }
                            @if let Some(s) = &v.site { ", " (s.address.city.as_str()) }
                            " — " (views::words(&i.kind)) ", " (i.scheduled_for.format("%-d %B %Y %H:%M"))
                            @if i.scheduled_for.date() == today && i.status == Status::Scheduled { " " (views::tag("Today", "tag-pending")) }
                            " " (views::words(&i.status))
                        }
                    }
                }
            },
        ),
    ))
}

fn visit(conn: &mut DbConn, who: &Principal, id: &str) -> Result<Visit, AppError> {
    let inspection = resolve::<InspectionRow>(conn, who, id)?.into_inner();
    let site = crate::sites::store::find(conn, &inspection.site_id)?;
    let mut photos = evidence::of_inspections(conn, std::slice::from_ref(&inspection.id))?;
    let photos = photos.remove(&inspection.id).unwrap_or_default();
    Ok(Visit { inspection, site, photos })
}

async fn load(state: &AppState, who: &SignedIn, id: String) -> Result<Visit, AppError> {
    let caller = who.principal();
    state.db.read(move |conn| visit(conn, &caller, &id)).await
}

/// `GET /desk/inspections/{id}`: the inspection, and its visit form for its inspector.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let v = load(&state, &who, id.into_inner()).await?;
    let mut values = Values::default();
    values.set("visited_at", state.now().format("%Y-%m-%dT%H:%M").to_string());
    Ok(page(StatusCode::OK, visit_page(&who, &v, &values, &[], 1, done_message(&req))))
}

fn summary(v: &Visit) -> Markup {
    let i = &v.inspection;
    html! {
        dl class="facts" {
            @if let Some(s) = &v.site {
                dt { "Site" } dd { (s.name) ", " (s.address.line1.as_str()) ", " (s.address.city.as_str()) }
                dt { "Seats declared" } dd { (s.seat_count) }
            }
            dt { "Kind" } dd { (views::words(&i.kind)) }
            dt { "Scheduled for" } dd { (i.scheduled_for.format("%-d %B %Y %H:%M")) }
            dt { "Status" } dd { (views::words(&i.status)) }
            @if let Some(o) = &i.outcome { dt { "Outcome" } dd { (views::words(o)) } }
        }
        @if !i.findings.is_empty() {
            h2 { "Findings" }
            ul class="items" { @for f in i.findings.iter() { li { strong { (f.code) } " (" (views::words(&f.severity)) "): " (f.description.as_str()) } } }
        }
    }
}

fn photo_fields() -> Vec<Field> {
    vec![
        Field::text("description", "Description: what the photo shows"),
        Field::new("file", "File (a PNG or JPEG photo, at most 10 MiB)", Kind::File),
    ]
}

/// The inspection's photos, each opening in the browser, and for its inspector the form that
/// attaches another (evidence is fixed once the visit is recorded).
fn photos(who: &SignedIn, v: &Visit, mine: bool, errors: &[FieldError]) -> Markup {
    let i = &v.inspection;
    html! {
        h2 { "Evidence photos" }
        @if v.photos.is_empty() { p class="muted" { "No photos attached." } }
        ul class="items" {
            @for p in &v.photos {
                li { a href={ (link(&i.id)) "/evidence/" (p.id) } { (p.description) } " — " (p.content_type.as_str()) ", " (p.size_bytes) " bytes" }
            }
        }
        @if mine {
            form method="post" action={ (link(&i.id)) "/evidence" } enctype="multipart/form-data" novalidate {
                (views::hidden_token(&who.session.csrf_token))
                (form::render(&photo_fields(), &Values::default(), errors))
                button type="submit" class="secondary" { "Attach photo" }
            }
        }
    }
}

fn visit_page(
    who: &SignedIn,
    v: &Visit,
    values: &Values,
    errors: &[FieldError],
    rows: usize,
    done: Option<&str>,
) -> Markup {
    let photo_errors: &[FieldError] =
        if errors.iter().any(|e| e.field == "file" || e.field == "description") {
            errors
        } else {
            &[]
        };
    let i = &v.inspection;
    let mine = i.inspector_id == who.session.user_id && i.status == Status::Scheduled;
    let fields = all_fields(rows);
    let title = format!("Visit to {}", v.site.as_ref().map_or("a site", |s| s.name.as_str()));
    views::signed_in(
        &who.session,
        &title,
        done,
        html! {
            (views::back(LIST, "Back to the inspections"))
            (form::error_summary(&fields, errors))
            h1 { (title) }
            (summary(v))
            (photos(who, v, mine, photo_errors))
            @if mine {
                h2 { "Record the visit" }
                form method="post" action=(link(&i.id)) novalidate class="visit" {
                    (views::hidden_token(&who.session.csrf_token))
                    input type="hidden" name="version" value=(i.version);
                    input type="hidden" name="rows" value=(rows);
                    (form::render(&visit_fields(), values, errors))
                    @for r in 0..rows.min(MAX_ROWS) {
                        fieldset class="finding" {
                            legend { "Finding " (r + 1) }
                            (form::render(&row_fields(r), values, errors))
                        }
                    }
                    @if rows < MAX_ROWS { button type="submit" name="add_row" value="true" class="secondary" { "Add another finding" } }
                    " "
                    button type="submit" { "Record visit" }
                }
            }
        },
    )
}

/// `POST /desk/inspections/{id}`: "Add another finding" shows the form again with one more row;
/// otherwise `inspections::record`.
pub async fn record(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let values = Values(form.fields);
    let rows = rows_of(&values);
    let v = load(&state, &who, id.clone()).await?;
    if values.get("add_row") == "true" {
        return Ok(page(StatusCode::OK, visit_page(&who, &v, &values, &[], rows, None)));
    }
    let fields = all_fields(rows);
    let extra = [("findings", findings(&values, rows))];
    let result = match form::parse::<Record>(&visit_fields(), &values, &extra) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(rec) => {
            let (now, caller, i) = (state.now(), who.principal(), id.clone());
            let version = values.get("version").parse::<i64>().unwrap_or(0);
            state
                .db
                .write(move |conn| {
                    let inspection = resolve::<InspectionRow>(conn, &caller, &i)?;
                    inspections::record_visit(
                        conn,
                        now,
                        &caller,
                        inspection,
                        opened_on(version),
                        rec,
                    )
                })
                .await
        }
    };
    let e = match result {
        Ok(_) => return Ok(done(&link(&id), "visit-recorded")),
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let errors = form::field_errors(&fields, e);
    Ok(page(status, visit_page(&who, &v, &values, &errors, rows, None)))
}

/// `POST /desk/inspections/{id}/evidence`: `inspections::evidence::upload`, the API's own
/// function (the assigned inspector, while the inspection is scheduled).
pub async fn attach(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: PortalUpload<EvidenceForm>,
) -> Page {
    let id = id.into_inner();
    let (now, caller, i) = (state.now(), who.principal(), id.clone());
    let upload = form.upload;
    let stored = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &caller, &i)?;
            evidence::upload(conn, now, &caller, &inspection, &upload)
        })
        .await;
    let (status, errors) = match stored {
        Ok(_) => return Ok(done(&link(&id), "evidence-uploaded")),
        Err(AppError::UnsupportedMediaType(m)) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, vec![FieldError::new("file", m)])
        }
        Err(e) => match form::refusal_status(&e) {
            Some(status) => (status, form::field_errors(&photo_fields(), e)),
            None => return Err(e.into()),
        },
    };
    let v = load(&state, &who, id).await?;
    let mut values = Values::default();
    values.set("visited_at", state.now().format("%Y-%m-%dT%H:%M").to_string());
    Ok(page(status, visit_page(&who, &v, &values, &errors, 1, None)))
}

/// `GET /desk/inspections/{id}/evidence/{evidence_id}`: a photo in the browser, its reading
/// audited (`inspections::evidence::read_content`).
pub async fn photo(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<actix_web::HttpResponse, super::super::PageError> {
    let ((id, evidence_id), now, caller) = (path.into_inner(), state.now(), who.principal());
    let (row, bytes) = state
        .db
        .write(move |conn| {
            let inspection = resolve::<InspectionRow>(conn, &caller, &id)?;
            evidence::read_content(conn, now, &caller, &inspection, &evidence_id)
        })
        .await?;
    Ok(crate::pages::secured(StatusCode::OK)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::CONTENT_TYPE, row.content_type.as_str()))
        .body(bytes))
}
