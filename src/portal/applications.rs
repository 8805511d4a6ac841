//! The operator's application pages: start one (`applications::create`), follow it as the
//! regime's checklist, check the answers and submit (`applications::submit`, also after an
//! information request), withdraw (`applications::withdraw`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html, Markup};
use serde_json::Value;

use super::checklist::{self, Facts, Item};
use super::csrf::PortalForm;
use super::form::{self, options, Field, Kind, Values};
use super::organisations::{link as organisation_link, Page, Posted};
use super::views::{self, FormView};
use super::{done, done_message, opened_on, SignedIn};
use crate::applications::store::ApplicationRow;
use crate::applications::{self, NewApplication, Status};
use crate::auth::visible::resolve;
use crate::error::{AppError, FieldError};
use crate::invoices::rupees;
use crate::organisations::OrgRow;
use crate::pages::page;
use crate::sites::SiteStatus;
use crate::state::AppState;

pub const NEW: &str = "/portal/organisations/{id}/applications/new";
pub const SHOW: &str = "/portal/applications/{id}";
pub const SUBMIT: &str = "/portal/applications/{id}/submit";
pub const WITHDRAW: &str = "/portal/applications/{id}/withdraw";

pub fn link(id: &str) -> String {
    format!("/portal/applications/{id}")
}

fn fields(sites: Vec<(String, String)>) -> Vec<Field> {
    vec![
        Field::new("site_ids", "Site IDs: the sites the licence is to cover", Kind::Checks(sites)),
        Field::new(
            "category",
            "Category",
            Kind::Radios(options(&[
                ("inbound", "Inbound"),
                ("outbound", "Outbound"),
                ("bpo", "BPO"),
                ("mixed", "Mixed"),
            ])),
        ),
        Field::new(
            "term_months",
            "Term months",
            Kind::Radios(options(&[("12", "12 months"), ("24", "24 months"), ("36", "36 months")])),
        ),
    ]
}

/// The organisation and its active sites as choices.
async fn organisation(
    state: &AppState,
    who: &SignedIn,
    id: String,
) -> Result<(OrgRow, Vec<(String, String)>), AppError> {
    let caller = who.principal();
    state
        .db
        .read(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &id)?.into_inner();
            let filter = crate::sites::store::Filter {
                organisation_id: Some(org.id.clone()),
                status: Some(SiteStatus::Active),
                ..Default::default()
            };
            let sites = crate::sites::store::list(conn, &filter, None, 500)?;
            Ok((org, sites.into_iter().map(|s| (s.id, s.name)).collect()))
        })
        .await
}

fn application_form(
    who: &SignedIn,
    org: &OrgRow,
    sites: Vec<(String, String)>,
    values: &Values,
    errors: &[FieldError],
) -> Markup {
    let no_sites = sites.is_empty();
    let fields = fields(sites);
    let (action, back) =
        (format!("{}/applications/new", organisation_link(&org.id)), organisation_link(&org.id));
    views::form_page(
        &who.session,
        FormView {
            title: "Start an application",
            intro: Some(html! {
                p { "A licence for " (org.legal_name) ". You can add documents after starting it; nothing is sent to the regulator until you submit." }
                @if no_sites { p class="warning" { "Add a site to the organisation first." } }
            }),
            action: &action,
            fields: &fields,
            values,
            errors,
            hidden: &[],
            button: "Create application",
            back: (&back, "Back to the organisation"),
            multipart: false,
        },
    )
}

/// `GET /portal/organisations/{id}/applications/new`.
pub async fn new_form(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let (org, sites) = organisation(&state, &who, id.into_inner()).await?;
    let mut values = Values::default();
    sites.iter().for_each(|(id, _)| values.set("site_ids", id.clone()));
    values.set("term_months", "12");
    Ok(page(StatusCode::OK, application_form(&who, &org, sites, &values, &[])))
}

/// `POST /portal/organisations/{id}/applications/new`: `applications::create`.
pub async fn create(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let (org, sites) = organisation(&state, &who, id.into_inner()).await?;
    let values = Values(form.fields);
    let fields = fields(sites.clone());
    let mut extra = vec![("organisation_id", Value::from(org.id.clone()))];
    if let Ok(term) = values.get("term_months").parse::<i64>() {
        extra.push(("term_months", Value::from(term)));
    }
    let show = |errors: &[FieldError]| {
        Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            application_form(&who, &org, sites.clone(), &values, errors),
        ))
    };
    let new = match form::parse::<NewApplication>(&fields, &values, &extra) {
        Ok(new) => new,
        Err(errors) => return show(&errors),
    };
    let (now, caller) = (state.now(), who.principal());
    match state.db.write(move |conn| applications::create(conn, now, &caller, new)).await {
        Ok(row) => Ok(done(&link(&row.id), "application-created")),
        Err(e) if form::is_form_error(&e) => show(&form::field_errors(&fields, e)),
        Err(e) => Err(e.into()),
    }
}

async fn facts(state: &AppState, who: &SignedIn, id: String) -> Result<Facts, AppError> {
    let (caller, now) = (who.principal(), state.now());
    state.db.read(move |conn| checklist::facts(conn, &caller, &id, now)).await
}

/// `GET /portal/applications/{id}`: the checklist.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let f = facts(&state, &who, id.into_inner()).await?;
    Ok(page(StatusCode::OK, application_page(&who, &f, done_message(&req), &[])))
}

fn title(f: &Facts) -> String {
    let category = views::words(&f.app.category);
    let mut chars = category.chars();
    let category: String =
        chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
    format!("{category} licence application for {}", f.org.legal_name)
}

/// The checklist as a task list.
pub fn checklist_list(items: &[Item]) -> Markup {
    html! {
        ol class="checklist" {
            @for i in items {
                @let (tag, class) = i.state.tag();
                li {
                    span class="task" {
                        @match &i.action {
                            Some((href, text)) if i.state != checklist::State::Done => { (i.name) " — " a href=(href) { (text) } },
                            _ => { (i.name) },
                        }
                        @if let Some(d) = &i.detail { span class="hint" { (d) } }
                    }
                    (views::tag(tag, class))
                }
            }
        }
    }
}

fn application_page(
    who: &SignedIn,
    f: &Facts,
    done: Option<&str>,
    errors: &[FieldError],
) -> Markup {
    let items = checklist::items(f);
    let next = checklist::next_steps(f, &items);
    let app = &f.app;
    let request = app.history.iter().rev().find(|s| s.to == Status::InfoRequested.as_str());
    let can_submit = matches!(app.status, Status::Draft | Status::InfoRequested);
    let can_withdraw =
        matches!(app.status, Status::Draft | Status::Submitted | Status::InfoRequested);
    views::signed_in(
        &who.session,
        &title(f),
        done,
        html! {
            (views::back(&organisation_link(&f.org.id), &format!("Back to {}", f.org.legal_name)))
            (form::error_summary(&[], errors))
            h1 { (title(f)) }
            p { "Status: " strong { (app.status.as_str().replace('_', " ")) } }
            @if let (Status::InfoRequested, Some(step)) = (app.status, request) {
                div class="warning" { h2 { "The regulator asked for more information" } p { (step.reason.clone().unwrap_or_default()) } }
            }
            div class="notice next" { h2 { "What to do next" } ul { @for n in &next { li { (n) } } } }
            (checklist_list(&items))
            @if can_submit { p { a class="button" href={ (link(&app.id)) "/submit" } { "Check and submit" } } }
            (invoice_section(f))
            (licence_section(f))
            @if can_withdraw {
                h2 { "Withdraw the application" }
                form method="post" action={ (link(&app.id)) "/withdraw" } {
                    (views::hidden_token(&who.session.csrf_token))
                    input type="hidden" name="version" value=(app.version);
                    button type="submit" class="secondary" { "Withdraw application" }
                }
            }
        },
    )
}

fn invoice_section(f: &Facts) -> Markup {
    html! {
        @if let Some(i) = &f.invoice {
            h2 { "Invoice" }
            dl class="facts" {
                dt { "Invoice" } dd { (i.id) }
                dt { "Amount (Rs)" } dd { (rupees(i.total_minor)) }
                dt { "Paid (Rs)" } dd { (rupees(i.paid_minor)) }
                dt { "Status" } dd { (views::words(&i.status)) }
                dt { "Due by" } dd { (i.due_at.format("%-d %B %Y")) }
            }
            @if i.payments.is_empty() { p class="muted" { "No payment seen yet." } }
            ul class="items" {
                @for p in &i.payments {
                    li { "Rs " (rupees(p.amount_minor)) " — reference " (p.reference) ", " (p.paid_at.format("%-d %B %Y")) }
                }
            }
        }
    }
}

fn licence_section(f: &Facts) -> Markup {
    html! {
        @if let Some(l) = &f.licence {
            @let status = crate::licences::effective_status(l, f.now);
            h2 { "Licence " (l.licence_number) }
            p { "Status: " strong { (status.as_str()) } }
            p {
                a href={ "/register/licences/" (l.licence_number) } { "Status page" } " · "
                a href={ "/register/licences/" (l.licence_number) "/certificate" } { "Certificate" }
            }
        }
    }
}

/// `GET /portal/applications/{id}/submit`: check your answers.
pub async fn check_form(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let f = facts(&state, &who, id.into_inner()).await?;
    Ok(page(StatusCode::OK, check_page(&who, &f)))
}

fn check_page(who: &SignedIn, f: &Facts) -> Markup {
    let items = checklist::items(f);
    let missing: Vec<&Item> = items
        .iter()
        .filter(|i| i.state == checklist::State::Missing && !i.name.starts_with("Submitted"))
        .collect();
    let app = &f.app;
    views::signed_in(
        &who.session,
        "Check your answers before submitting",
        None,
        html! {
            (views::back(&link(&app.id), "Back to the application"))
            h1 { "Check your answers before submitting" }
            dl class="facts" {
                dt { "Organisation" } dd { (f.org.legal_name) " (" (f.org.registration_number) ")" }
                dt { "Category" } dd { (views::words(&app.category)) }
                dt { "Term months" } dd { (app.term_months) }
                dt { "People" } dd { (f.people) }
                dt { "Sites" } dd { (f.sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")) }
                dt { "Documents" } dd { (f.requirements.iter().filter(|r| r.on_file).count()) " of " (f.requirements.len()) " required on file" }
            }
            @if !missing.is_empty() {
                div class="warning" {
                    h2 { "Still missing" }
                    ul { @for i in &missing { li { (i.name) @if let Some(d) = &i.detail { ": " (d) } } } }
                }
            }
            p { "By submitting you declare that the information is true. The fee invoice is raised and the agencies are asked for their clearances." }
            form method="post" action={ (link(&app.id)) "/submit" } {
                (views::hidden_token(&who.session.csrf_token))
                input type="hidden" name="version" value=(app.version);
                button type="submit" { "Submit application" }
            }
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct VersionField {
    #[serde(default)]
    version: String,
}

/// `POST /portal/applications/{id}/submit`: `applications::submit`; what is missing is shown
/// on the application page (422).
pub async fn submit(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: PortalForm<VersionField>,
) -> Page {
    let id = id.into_inner();
    let version = form.fields.version.parse::<i64>().unwrap_or(0);
    let (now, caller, app_id, licensing) =
        (state.now(), who.principal(), id.clone(), state.settings.licensing.clone());
    let submitted = state
        .db
        .write(move |conn| {
            let app = resolve::<ApplicationRow>(conn, &caller, &app_id)?;
            applications::submit(conn, now, &caller, app, opened_on(version), &licensing)
        })
        .await;
    let (status, errors) = match submitted {
        Ok(row) => return Ok(done(&link(&row.id), "application-submitted")),
        Err(e @ AppError::PreconditionFailed(_)) => {
            (StatusCode::PRECONDITION_FAILED, form::field_errors(&[], e))
        }
        Err(e) if form::is_form_error(&e) => {
            (StatusCode::UNPROCESSABLE_ENTITY, form::field_errors(&[], e))
        }
        Err(e) => return Err(e.into()),
    };
    let f = facts(&state, &who, id).await?;
    Ok(page(status, application_page(&who, &f, None, &errors)))
}

/// `POST /portal/applications/{id}/withdraw`: `applications::withdraw`.
pub async fn withdraw(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: PortalForm<VersionField>,
) -> Page {
    let version = form.fields.version.parse::<i64>().unwrap_or(0);
    let (now, caller, app_id) = (state.now(), who.principal(), id.into_inner());
    let row = state
        .db
        .write(move |conn| {
            let app = resolve::<ApplicationRow>(conn, &caller, &app_id)?;
            applications::withdraw(conn, now, &caller, app, opened_on(version))
        })
        .await?;
    Ok(done(&link(&row.id), "application-withdrawn"))
}
