//! Accounts on the web: sign-in (the token endpoint's lock-out, one counter for both), sign-up
//! (the API's account creation and rules), sign-out, password change, and the landing pages.
//!
//! Answers: an invalid form 422, wrong credentials 401 (one message whatever was wrong, so no
//! page tells which accounts exist), a locked account 429 with `Retry-After`, a success 303.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::csrf::PortalForm;
use super::views::{self, Item};
use super::{done_message, landing, removal, see_other, session, PageError, SignedIn, Visitor};
use super::{PRESESSION_COOKIE, SESSION_COOKIE, SIGN_IN};
use crate::auth::passwords::Password;
use crate::auth::{signin, Role};
use crate::domain::{Email, Name};
use crate::error::{AppError, FieldError};
use crate::pages::page;
use crate::state::{blocking, AppState};
use crate::users::{self, NewAccount};

type Page = Result<HttpResponse, PageError>;

#[derive(Debug, Deserialize)]
pub struct SignInFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct SignUpFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    full_name: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

fn invalid(body: Markup) -> Page {
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, body))
}

/// A value parsed by the API's own rules; its error goes beside its field, worded as
/// "<Label> <rule>".
fn parsed<T>(r: Result<T, AppError>, label: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(AppError::Validation { errors: found, .. }) => {
            errors.extend(
                found
                    .into_iter()
                    .map(|e| FieldError::new(e.field, format!("{label} {}", e.message))),
            );
            None
        }
        Err(other) => {
            errors.push(FieldError::new("", other.to_string()));
            None
        }
    }
}

/// Signs the browser in with a new session: to its landing page, the pre-session forgotten.
fn signed_in(state: &AppState, role: Role, token: String, done: Option<&str>) -> HttpResponse {
    let to = match done {
        Some(done) => format!("{}?done={done}", landing(role)),
        None => landing(role).to_string(),
    };
    see_other(&to)
        .cookie(super::cookie(state, SESSION_COOKIE, token))
        .cookie(removal(state, PRESESSION_COOKIE))
        .finish()
}

/// A form shown before sign-in: the signed-in go to their landing page; others get a
/// pre-session cookie (if they have none) for the form's CSRF token.
fn signed_out_form(state: &AppState, mut visitor: Visitor, form: impl Fn(&str) -> Markup) -> Page {
    if let Some((_, s)) = &visitor.session {
        return Ok(see_other(landing(s.role)).finish());
    }
    let set = visitor.presession(state);
    let token = visitor.form_token(&state.keys).unwrap_or_default();
    let mut res = page(StatusCode::OK, form(&token));
    if let Some(c) = set {
        res.add_cookie(&c).map_err(|e| AppError::internal(format!("cookie: {e}")))?;
    }
    Ok(res)
}

/// `GET /account/sign-in`.
pub async fn sign_in_form(state: web::Data<AppState>, visitor: Visitor) -> Page {
    signed_out_form(&state, visitor, |token| views::sign_in(token, "", &[]))
}

/// `POST /account/sign-in`.
pub async fn sign_in(state: web::Data<AppState>, form: PortalForm<SignInFields>) -> Page {
    let PortalForm { visitor, fields } = form;
    let token = visitor.form_token(&state.keys).unwrap_or_default();
    let email = fields.email.trim().to_string();
    let mut errors = Vec::new();
    if email.is_empty() {
        errors.push(FieldError::new("email", "Enter your email address"));
    }
    if fields.password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password"));
    }
    if !errors.is_empty() {
        return invalid(views::sign_in(&token, &email, &errors));
    }
    let now = state.now();
    match signin::check_password(&state.db, now, email.clone(), fields.password).await {
        Ok((user_id, role)) => {
            let session =
                state.db.write(move |conn| Ok(session::start(conn, &user_id, now)?)).await?;
            Ok(signed_in(&state, role, session, None))
        }
        Err(AppError::Unauthorized { .. }) => {
            let wrong = [FieldError::new("email", "The email address or password is not right")];
            Ok(page(StatusCode::UNAUTHORIZED, views::sign_in(&token, &email, &wrong)))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /account/sign-up`.
pub async fn sign_up_form(state: web::Data<AppState>, visitor: Visitor) -> Page {
    signed_out_form(&state, visitor, |token| views::sign_up(token, "", "", &[]))
}

/// `POST /account/sign-up`: a new operator account, made by the API's own function under the
/// API's rules, then signed in.
pub async fn sign_up(state: web::Data<AppState>, form: PortalForm<SignUpFields>) -> Page {
    let PortalForm { visitor, fields } = form;
    let token = visitor.form_token(&state.keys).unwrap_or_default();
    let mut errors = Vec::new();
    let email = parsed(Email::parse(&fields.email, "email"), "Email", &mut errors);
    let password = parsed(Password::parse(fields.password, "password"), "Password", &mut errors);
    let full_name = parsed(Name::parse(&fields.full_name, "full_name"), "Full name", &mut errors);
    let again = |errors: &[FieldError]| {
        invalid(views::sign_up(&token, fields.email.trim(), fields.full_name.trim(), errors))
    };
    let (Some(email), Some(password), Some(full_name)) = (email, password, full_name) else {
        return again(&errors);
    };
    let password_hash = blocking(move || password.hash()).await?;
    let now = state.now();
    let account = NewAccount { email, password_hash, full_name, role: Role::Operator };
    let created = state
        .db
        .write(move |conn| {
            let user = users::create_account(conn, now, None, account)?;
            Ok(session::start(conn, &user.id, now)?)
        })
        .await;
    match created {
        Ok(session) => Ok(signed_in(&state, Role::Operator, session, None)),
        Err(AppError::Conflict(_)) => {
            again(&[FieldError::new("email", "An account with this email address already exists")])
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/sign-out`: this session ends everywhere; to the sign-in page.
pub async fn sign_out(
    state: web::Data<AppState>,
    who: SignedIn,
    _form: PortalForm<NoFields>,
) -> Page {
    let token = who.token;
    state.db.write(move |conn| Ok(session::end(conn, &token)?)).await?;
    Ok(see_other(SIGN_IN).cookie(removal(&state, SESSION_COOKIE)).finish())
}

/// `GET /account/password`.
pub async fn password_form(who: SignedIn) -> Page {
    Ok(page(StatusCode::OK, views::password(&who.session, &[])))
}

/// `POST /account/password`: the current password is checked under the sign-in lock-out; the
/// change ends every session of the account, and this browser gets a new one.
pub async fn change_password(
    state: web::Data<AppState>,
    who: SignedIn,
    form: PortalForm<PasswordFields>,
) -> Page {
    let (fields, session) = (form.fields, who.session);
    let mut errors = Vec::new();
    if fields.current_password.is_empty() {
        errors.push(FieldError::new("current_password", "Enter your current password"));
    }
    let new =
        parsed(Password::parse(fields.new_password, "new_password"), "New password", &mut errors);
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return invalid(views::password(&session, &errors));
    };
    let now = state.now();
    let checked =
        signin::check_password(&state.db, now, session.email.clone(), fields.current_password)
            .await;
    match checked {
        Ok(_) => {}
        Err(AppError::Unauthorized { .. }) => {
            let wrong = [FieldError::new("current_password", "Your current password is not right")];
            return invalid(views::password(&session, &wrong));
        }
        Err(e) => return Err(e.into()),
    }
    let password_hash = blocking(move || new.hash()).await?;
    let user_id = session.user_id.clone();
    let token = state
        .db
        .write(move |conn| {
            users::change_password(conn, now, &user_id, password_hash)?;
            Ok(session::start(conn, &user_id, now)?)
        })
        .await?;
    Ok(signed_in(&state, session.role, token, Some("password")))
}

/// How many of an operator's organisations and applications the dashboard lists.
const DASHBOARD_ROWS: i64 = 100;

/// `GET /portal`: the operator's organisations, and each application with its next step.
pub async fn dashboard(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let (owner, now) = (who.session.user_id.clone(), state.now());
    let (organisations, applications) = state
        .db
        .read(move |conn| {
            let orgs = crate::organisations::store::list(
                conn,
                &crate::organisations::store::Filter {
                    owner_id: Some(owner.clone()),
                    ..Default::default()
                },
                None,
                DASHBOARD_ROWS,
            )?;
            let apps = crate::applications::store::list(
                conn,
                &crate::applications::store::Filter { owner_id: Some(owner), ..Default::default() },
                None,
                DASHBOARD_ROWS,
            )?;
            let mut progress = Vec::new();
            for app in apps {
                let facts = super::checklist::of(conn, app, now)?;
                let items = super::checklist::items(&facts);
                let next = super::checklist::next_steps(&facts, &items);
                progress.push((facts, next));
            }
            Ok((orgs, progress))
        })
        .await?;
    let orgs: Vec<Item> = organisations
        .iter()
        .map(|o| Item {
            href: format!("/portal/organisations/{}", o.id),
            name: o.legal_name.clone(),
            detail: format!("registration number {}", o.registration_number),
        })
        .collect();
    let mut licences = Vec::new();
    let apps: Vec<Item> = applications
        .iter()
        .map(|(f, next)| {
            if let Some(l) = &f.licence {
                let status = crate::licences::effective_status(l, f.now);
                licences.push((l.licence_number.clone(), f.org.legal_name.clone(), status));
            }
            Item {
                href: format!("/portal/applications/{}", f.app.id),
                name: format!("{} application for {}", f.app.category.as_str(), f.org.legal_name),
                detail: format!("{}. {}", f.app.status.as_str().replace('_', " "), next.join(" ")),
            }
        })
        .collect();
    let body = views::dashboard(&who.session, done_message(&req), &orgs, &apps, &licences);
    Ok(page(StatusCode::OK, body))
}
