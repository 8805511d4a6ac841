//! The regulator's licence page: the licence as it stands, its history, and suspend,
//! reinstate and revoke with a reason (`licences::suspend`, `reinstate`, `revoke`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDateTime;
use maud::{html, Markup};

use super::super::form::{self, Field, Kind, Values};
use super::super::organisations::{Page, Posted};
use super::super::views::{self, Invalid, SmallForm};
use super::super::{done, done_message, opened_on, see_other, SignedIn};
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::domain::{LicenceNumber, LicenceStatus};
use crate::error::AppError;
use crate::licences::store::LicenceRow;
use crate::licences::{self, LicenceChange};
use crate::pages::page;
use crate::state::AppState;

pub const FIND: &str = "/desk/licences";
pub const SHOW: &str = "/desk/licences/{licence_number}";
pub const SUSPEND: &str = "/desk/licences/{licence_number}/suspend";
pub const REINSTATE: &str = "/desk/licences/{licence_number}/reinstate";
pub const REVOKE: &str = "/desk/licences/{licence_number}/revoke";

pub fn link(number: &str) -> String {
    format!("/desk/licences/{number}")
}

/// `GET /desk/licences?licence_number=`: to that licence's page.
pub async fn find(_who: SignedIn, req: HttpRequest) -> Page {
    let wanted = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "licence_number")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    Ok(see_other(&link(licence_number(&wanted)?.as_str())).finish())
}

/// A licence number from a page's path or form: a malformed one is no licence (404 page).
fn licence_number(raw: &str) -> Result<LicenceNumber, AppError> {
    LicenceNumber::try_new(raw).map_err(|_| AppError::not_found("no such licence"))
}

fn reason_fields(id: &'static str) -> Vec<Field> {
    vec![Field::new("reason", "Reason", Kind::Area).id(id)]
}

fn suspend_fields() -> Vec<Field> {
    vec![
        Field::new("reason", "Reason", Kind::Area).id("suspend-reason"),
        Field::new("until", "Until (optional): when the suspension is expected to end", Kind::Date),
    ]
}

struct Shown {
    licence: LicenceRow,
    status: LicenceStatus,
}

fn shown(
    conn: &mut DbConn,
    who: &Principal,
    number: &str,
    now: NaiveDateTime,
) -> Result<Shown, AppError> {
    let licence = resolve::<LicenceRow>(conn, who, &licence_number(number)?)?.into_inner();
    let status = licences::effective_status(&licence, now);
    Ok(Shown { licence, status })
}

async fn load(state: &AppState, who: &SignedIn, number: String) -> Result<Shown, AppError> {
    let (caller, now) = (who.principal(), state.now());
    state.db.read(move |conn| shown(conn, &caller, &number, now)).await
}

/// `GET /desk/licences/{licence_number}`.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let s = load(&state, &who, number.into_inner()).await?;
    Ok(page(StatusCode::OK, licence_page(&who, &s, done_message(&req), None)))
}

fn licence_page(
    who: &SignedIn,
    s: &Shown,
    done: Option<&str>,
    invalid: Option<Invalid<'_>>,
) -> Markup {
    let l = &s.licence;
    let base = link(&l.licence_number);
    let version = l.version.to_string();
    let hidden = [("version", version.as_str())];
    let inv = invalid.as_ref();
    let live = matches!(s.status, LicenceStatus::Active | LicenceStatus::Provisional);
    views::signed_in(
        &who.session,
        &format!("Licence {}", l.licence_number),
        done,
        html! {
            (views::back(super::super::DESK, "Back to the desk"))
            @if let Some(i) = inv { (form::error_summary(i.fields, i.errors)) }
            h1 { "Licence " (l.licence_number) }
            dl class="facts" {
                dt { "Holder" } dd { (l.holder) }
                dt { "Status" } dd { strong { (s.status.as_str()) } }
                dt { "Category" } dd { (views::words(&l.category)) }
                dt { "Valid" } dd { (l.valid_from.format("%-d %B %Y")) " to " (l.expires_at.format("%-d %B %Y")) }
            }
            p { a href={ "/register/licences/" (l.licence_number) } { "Public status page" } " · " a href={ "/desk/applications/" (l.application_id) } { "The application" } }
            @if live {
                h2 { "Suspend" }
                (views::small_form(&who.session, &SmallForm { action: &format!("{base}/suspend"), name: "suspend", fields: &suspend_fields(), hidden: &hidden, button: "Suspend licence" }, inv))
            }
            @if s.status == LicenceStatus::Suspended {
                h2 { "Reinstate" }
                (views::small_form(&who.session, &SmallForm { action: &format!("{base}/reinstate"), name: "reinstate", fields: &reason_fields("reinstate-reason"), hidden: &hidden, button: "Reinstate licence" }, inv))
            }
            @if live || s.status == LicenceStatus::Suspended {
                h2 { "Revoke" }
                p { "Revoking is final, and bars the holder's people from new licences." }
                (views::small_form(&who.session, &SmallForm { action: &format!("{base}/revoke"), name: "revoke", fields: &reason_fields("revoke-reason"), hidden: &hidden, button: "Revoke licence" }, inv))
            }
            h2 { "History" }
            ul class="items" { @for t in l.history.iter() { li { (t.at.format("%-d %B %Y %H:%M")) " — " (t.to) @if let Some(r) = &t.reason { ": " (r) } } } }
        },
    )
}

/// Which change a form makes.
#[derive(Clone, Copy)]
enum Change {
    Suspend,
    Reinstate,
    Revoke,
}

impl Change {
    fn name(self) -> &'static str {
        match self {
            Change::Suspend => "suspend",
            Change::Reinstate => "reinstate",
            Change::Revoke => "revoke",
        }
    }

    fn fields(self) -> Vec<Field> {
        match self {
            Change::Suspend => suspend_fields(),
            Change::Reinstate => reason_fields("reinstate-reason"),
            Change::Revoke => reason_fields("revoke-reason"),
        }
    }
}

async fn change(
    state: web::Data<AppState>,
    who: SignedIn,
    number: String,
    form: Posted,
    c: Change,
) -> Page {
    let values = Values(form.fields);
    let fields = c.fields();
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let result = match form::parse::<LicenceChange>(&fields, &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(body) => {
            let (now, caller, n, bar_years) =
                (state.now(), who.principal(), number.clone(), state.settings.licensing.bar_years);
            state
                .db
                .write(move |conn| {
                    let licence = resolve::<LicenceRow>(conn, &caller, &licence_number(&n)?)?;
                    let check = opened_on(version);
                    match c {
                        Change::Suspend => {
                            licences::suspend(conn, now, &caller, licence, check, body)
                        }
                        Change::Reinstate => {
                            licences::reinstate(conn, now, &caller, licence, check, body)
                        }
                        Change::Revoke => {
                            licences::revoke(conn, now, &caller, licence, check, body, bar_years)
                        }
                    }
                })
                .await
        }
    };
    let e = match result {
        Ok(_) => return Ok(done(&link(&number), &format!("licence-{}", c.name()))),
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let errors = form::field_errors(&fields, e);
    let s = load(&state, &who, number).await?;
    let invalid = Invalid { form: c.name(), fields: &fields, values: &values, errors: &errors };
    Ok(page(status, licence_page(&who, &s, None, Some(invalid))))
}

/// `POST /desk/licences/{licence_number}/suspend`.
pub async fn suspend(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
    form: Posted,
) -> Page {
    change(state, who, number.into_inner(), form, Change::Suspend).await
}

/// `POST /desk/licences/{licence_number}/reinstate`.
pub async fn reinstate(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
    form: Posted,
) -> Page {
    change(state, who, number.into_inner(), form, Change::Reinstate).await
}

/// `POST /desk/licences/{licence_number}/revoke`.
pub async fn revoke(
    state: web::Data<AppState>,
    who: SignedIn,
    number: web::Path<String>,
    form: Posted,
) -> Page {
    change(state, who, number.into_inner(), form, Change::Revoke).await
}
