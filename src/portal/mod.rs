//! The portal (API.md §14): the registry's work on the web for people with accounts. This
//! part holds the foundation: accounts (sign-in, sign-up, sign-out, password), database
//! sessions, CSRF, and the two landing pages, `/portal` (operators) and `/desk` (staff).
//!
//! Who may open which page is the role policy table itself ([`crate::auth::policy`], rules of
//! kind `Session`); the bearer guard lets those routes through, and [`SignedIn`] checks the
//! session cookie and the rule. Every POST reads its body through [`csrf::PortalForm`], the one
//! place CSRF is checked. Pages reuse the public register's layout, stylesheet and headers.

pub mod account;
mod applications;
mod checklist;
pub mod csrf;
mod desk;
mod documents;
mod form;
mod organisations;
pub mod session;
mod sites;
mod views;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;

use crate::auth::policy::{self, Access};
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::state::AppState;
pub use session::Session;

/// The session cookie: 256 random bits, kept in the database only as their hash.
pub const SESSION_COOKIE: &str = "ccreg_session";
/// Before sign-in, the cookie the sign-in and sign-up forms' CSRF tokens are bound to.
pub const PRESESSION_COOKIE: &str = "ccreg_presession";

pub const SIGN_IN: &str = "/account/sign-in";
pub const SIGN_UP: &str = "/account/sign-up";
pub const SIGN_OUT: &str = "/account/sign-out";
pub const PASSWORD: &str = "/account/password";
pub const PORTAL: &str = "/portal";
pub const DESK: &str = "/desk";

/// Every portal route, as registered by [`configure`]; each has its rule in the policy table
/// (a test checks both ways).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", SIGN_IN),
    ("POST", SIGN_IN),
    ("GET", SIGN_UP),
    ("POST", SIGN_UP),
    ("POST", SIGN_OUT),
    ("GET", PASSWORD),
    ("POST", PASSWORD),
    ("GET", PORTAL),
    ("GET", DESK),
    ("GET", organisations::NEW),
    ("POST", organisations::NEW),
    ("GET", organisations::SHOW),
    ("GET", organisations::EDIT),
    ("POST", organisations::EDIT),
    ("GET", organisations::NEW_PERSON),
    ("POST", organisations::NEW_PERSON),
    ("POST", organisations::REMOVE_PERSON),
    ("GET", sites::NEW),
    ("POST", sites::NEW),
    ("GET", sites::SHOW),
    ("POST", sites::NUMBERS),
    ("POST", sites::REMOVE_NUMBER),
    ("POST", sites::IP_RANGES),
    ("POST", sites::REMOVE_IP_RANGE),
    ("GET", documents::NEW),
    ("POST", documents::NEW),
    ("POST", documents::DELETE),
    ("GET", applications::NEW),
    ("POST", applications::NEW),
    ("GET", applications::SHOW),
    ("GET", applications::SUBMIT),
    ("POST", applications::SUBMIT),
    ("POST", applications::WITHDRAW),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(SIGN_IN, web::get().to(account::sign_in_form))
        .route(SIGN_IN, web::post().to(account::sign_in))
        .route(SIGN_UP, web::get().to(account::sign_up_form))
        .route(SIGN_UP, web::post().to(account::sign_up))
        .route(SIGN_OUT, web::post().to(account::sign_out))
        .route(PASSWORD, web::get().to(account::password_form))
        .route(PASSWORD, web::post().to(account::change_password))
        .route(PORTAL, web::get().to(account::dashboard))
        .route(DESK, web::get().to(desk::landing))
        // `new` before `{id}`: the literal segment wins.
        .route(organisations::NEW, web::get().to(organisations::new_form))
        .route(organisations::NEW, web::post().to(organisations::create))
        .route(organisations::SHOW, web::get().to(organisations::show))
        .route(organisations::EDIT, web::get().to(organisations::edit_form))
        .route(organisations::EDIT, web::post().to(organisations::save))
        .route(organisations::NEW_PERSON, web::get().to(organisations::new_person_form))
        .route(organisations::NEW_PERSON, web::post().to(organisations::add_person))
        .route(organisations::REMOVE_PERSON, web::post().to(organisations::remove_person))
        .route(sites::NEW, web::get().to(sites::new_form))
        .route(sites::NEW, web::post().to(sites::create))
        .route(sites::SHOW, web::get().to(sites::show))
        .route(sites::NUMBERS, web::post().to(sites::add_number))
        .route(sites::REMOVE_NUMBER, web::post().to(sites::remove_number))
        .route(sites::IP_RANGES, web::post().to(sites::add_ip_range))
        .route(sites::REMOVE_IP_RANGE, web::post().to(sites::remove_ip_range))
        .route(documents::NEW, web::get().to(documents::new_form))
        .route(documents::NEW, web::post().to(documents::upload))
        .route(documents::DELETE, web::post().to(documents::delete))
        .route(applications::NEW, web::get().to(applications::new_form))
        .route(applications::NEW, web::post().to(applications::create))
        .route(applications::SHOW, web::get().to(applications::show))
        .route(applications::SUBMIT, web::get().to(applications::check_form))
        .route(applications::SUBMIT, web::post().to(applications::submit))
        .route(applications::WITHDRAW, web::post().to(applications::withdraw))
        .configure(desk::configure);
}

/// Every portal route: the operators' and accounts' ([`ROUTES`]) and the desk's.
pub fn all_routes() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    ROUTES.iter().chain(desk::ROUTES.iter())
}

/// Where a person lands after signing in: operators on their dashboard, staff at the desk.
pub fn landing(role: Role) -> &'static str {
    if role == Role::Operator {
        PORTAL
    } else {
        DESK
    }
}

/// A cookie the portal sets: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the
/// registry is reached over https (`CCREG_PUBLIC_URL`).
fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(state.settings.public_url.starts_with("https://"))
        .finish()
}

/// The same cookie, expired: the browser forgets it.
fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new());
    c.set_max_age(time::Duration::ZERO);
    c.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    c
}

/// A 303 to `to` (after a form's success, or to the sign-in page).
fn see_other(to: &str) -> actix_web::HttpResponseBuilder {
    let mut res = crate::pages::secured(StatusCode::SEE_OTHER);
    res.insert_header((header::LOCATION, to.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

/// What a portal request could not get past, shown as a page (never problem+json).
#[derive(Debug)]
pub enum PageError {
    /// No live session: to the sign-in page (303).
    SignIn,
    /// A role's forbidden page (403).
    Forbidden,
    /// A cross-site or tampered form post (403); nothing was changed.
    Csrf,
    /// Anything else, as its status with a page.
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn => f.write_str("not signed in"),
            PageError::Forbidden => f.write_str("forbidden to this role"),
            PageError::Csrf => f.write_str("CSRF check failed"),
            PageError::App(e) => e.fmt(f),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn => StatusCode::SEE_OTHER,
            PageError::Forbidden | PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, detail) = match self {
            PageError::SignIn => return see_other(SIGN_IN).finish(),
            PageError::Forbidden => {
                ("You cannot open this page", "Your account's role does not give access to it.")
            }
            PageError::Csrf => (
                "This form was not accepted",
                "It did not come from this registry's own page, or the page was too old. \
                 Nothing was changed. Go back, reload the page and try again.",
            ),
            PageError::App(AppError::TooManyRequests { .. }) => (
                "Too many failed sign-ins",
                "This account is locked for a while after too many wrong passwords. \
                 Wait a few minutes and try again.",
            ),
            PageError::App(AppError::NotFound(_)) => (
                "Page not found",
                "There is no such page, or it is not one you can see. Check the address, or go \
                 back to your dashboard.",
            ),
            PageError::App(AppError::Forbidden(_)) => {
                ("You cannot do this", "Your account's role does not allow it.")
            }
            PageError::App(
                e @ (AppError::Conflict(_)
                | AppError::PreconditionFailed(_)
                | AppError::BadRequest(_)
                | AppError::Validation { .. }
                | AppError::PayloadTooLarge(_)
                | AppError::UnsupportedMediaType(_)),
            ) => {
                let detail = e.problem().detail;
                let mut res = crate::pages::page(
                    status,
                    views::message(
                        "This could not be done",
                        &format!("{detail}. Nothing was changed."),
                    ),
                );
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
                return res;
            }
            PageError::App(other) => {
                tracing::error!(error = %other, "portal page failed");
                ("Something went wrong", "The page could not be made. Try again later.")
            }
        };
        let mut res = crate::pages::page(status, views::message(title, detail));
        if let PageError::App(AppError::TooManyRequests { retry_after_secs, .. }) = self {
            if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.max(&1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// Who is at the browser: the live session its cookie names, if any, and its pre-session
/// cookie, if any. Looking the session up records its use (idle expiry starts again).
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session cookie's value and its live session.
    pub session: Option<(String, Session)>,
    pub presession: Option<String>,
}

impl Visitor {
    async fn of(req: &HttpRequest) -> Result<Visitor, PageError> {
        let state = app_state(req)?;
        let presession = req.cookie(PRESESSION_COOKIE).map(|c| c.value().to_string());
        let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Ok(Visitor { session: None, presession });
        };
        let (now, idle) =
            (state.now(), chrono::Duration::seconds(state.settings.session_idle_secs));
        let t = token.clone();
        // A write: finding a session records its use, or deletes it once expired.
        let found = state.db.write(move |conn| Ok(session::find(conn, &t, now, idle)?)).await?;
        Ok(Visitor { session: found.map(|s| (token, s)), presession })
    }
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Visitor::of(&req).await })
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| PageError::App(AppError::internal("application state missing")))
}

/// A person signed in to the portal whose role the route's `Session` rule allows; without a
/// live session, the answer is a 303 to the sign-in page; with a role the rule leaves out, a
/// 403 page. A bearer token is not a session and is not looked at.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub session: Session,
}

impl SignedIn {
    /// The signed-in person as the domain functions' caller: the same rules as their API calls.
    pub fn principal(&self) -> Principal {
        Principal { id: self.session.user_id.clone(), role: self.session.role, jti: String::new() }
    }
}

/// A version check for an edit form: the version the form was opened on must still be the
/// stored one (412 otherwise, shown again with the current values).
pub fn opened_on(version: i64) -> impl FnOnce(i64) -> Result<(), AppError> {
    move |stored| {
        if stored == version {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed(
                "changed by someone else since you opened this form".into(),
            ))
        }
    }
}

/// The short messages a page shows after a change (`?done=`): only these, never the query's
/// own text.
const DONE: &[(&str, &str)] = &[
    ("password", "Your password has been changed."),
    ("organisation-created", "The organisation has been registered."),
    ("organisation-saved", "The organisation has been saved."),
    ("person-added", "The person has been added."),
    ("person-removed", "The person has been removed."),
    ("site-added", "The site has been added."),
    ("number-added", "The number has been added."),
    ("number-removed", "The number has been removed."),
    ("ip-range-added", "The IP range has been added."),
    ("ip-range-removed", "The IP range has been removed."),
    ("document-uploaded", "The document has been uploaded."),
    ("document-deleted", "The document has been deleted."),
    ("application-created", "The application has been started."),
    ("application-submitted", "The application has been submitted."),
    ("application-withdrawn", "The application has been withdrawn."),
    ("application-approved", "The application has been approved: the licence is issued, provisional until the pre-licence visit."),
    ("application-rejected", "The application has been rejected."),
    ("information-requested", "The operator has been asked for more information."),
    ("payment-recorded", "The payment has been recorded."),
    ("inspection-scheduled", "The inspection has been scheduled."),
    ("licence-suspend", "The licence has been suspended."),
    ("licence-reinstate", "The licence has been reinstated."),
    ("licence-revoke", "The licence has been revoked."),
    ("visit-recorded", "The visit has been recorded."),
    ("evidence-uploaded", "The photo has been attached."),
    ("user-created", "The user has been created."),
    ("user-saved", "The user has been saved."),
    ("client-deleted", "The agency client has been deleted."),
    ("item-dismissed", "The enforcement item has been dismissed."),
    ("violation-resolved", "The violation has been resolved."),
    ("report-triaged", "The report has been triaged."),
];

/// The message for the page's `?done=`, if it names one.
pub fn done_message(req: &HttpRequest) -> Option<&'static str> {
    let wanted = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())?;
    DONE.iter().find(|(k, _)| *k == wanted).map(|(_, m)| *m)
}

/// A 303 to a changed object's page, with the message of what was done.
pub fn done(to: &str, what: &str) -> HttpResponse {
    see_other(&format!("{to}?done={what}")).finish()
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some((token, session)) = Visitor::of(&req).await?.session else {
                return Err(PageError::SignIn);
            };
            let pattern = req.match_pattern().unwrap_or_default();
            match policy::access(req.method(), &pattern) {
                Access::Session(roles) if roles.contains(&session.role) => {
                    Ok(SignedIn { token, session })
                }
                _ => Err(PageError::Forbidden),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portal_route_has_its_rule_and_every_session_rule_is_a_portal_route() {
        for (method, path) in all_routes() {
            assert!(policy::has_rule(method, path), "no policy rule for {method} {path}");
        }
        for (method, path) in policy::session_routes() {
            assert!(
                all_routes().any(|r| r == &(method, path)),
                "{method} {path} is not a portal route"
            );
        }
    }

    #[test]
    fn operators_land_on_the_portal_and_staff_at_the_desk() {
        assert_eq!(landing(Role::Operator), PORTAL);
        for staff in [Role::Admin, Role::Regulator, Role::Inspector] {
            assert_eq!(landing(staff), DESK);
        }
    }
}
