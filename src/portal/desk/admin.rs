//! The admins' pages: staff users (create, change role, deactivate: their sessions end at
//! once, in the same transaction) and agency clients (create, the secret shown once on the
//! page that answers the creation; delete), through the API's own functions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html, Markup};
use serde_json::Value;

use super::super::csrf::PortalForm;
use super::super::form::{self, options, Field, Kind, Values};
use super::super::organisations::{Page, Posted};
use super::super::views::{self, Invalid, SmallForm};
use super::super::{done, done_message, opened_on, SignedIn};
use crate::agency_clients::{self, routes::CreateClient, ClientRow};
use crate::auth::Role;
use crate::domain::record_id::UserId;
use crate::error::{AppError, FieldError};
use crate::pages::page;
use crate::state::{blocking, AppState};
use crate::users::routes::CreateUser;
use crate::users::{self, NewAccount, UserPatch, UserRow};

pub const USERS: &str = "/desk/users";
pub const USER: &str = "/desk/users/{id}";
pub const CLIENTS: &str = "/desk/agency-clients";
pub const DELETE_CLIENT: &str = "/desk/agency-clients/{id}/delete";

fn staff_roles() -> Vec<(String, String)> {
    options(&[("admin", "Admin"), ("regulator", "Regulator"), ("inspector", "Inspector")])
}

fn new_user_fields() -> Vec<Field> {
    vec![
        Field::new("email", "Email", Kind::Email),
        Field::text("full_name", "Full name"),
        Field::new(
            "password",
            "Password (12 to 128 characters; give it to the person in person)",
            Kind::Password,
        ),
        Field::new("role", "Role", Kind::Radios(staff_roles())),
    ]
}

fn user_fields(staff: bool) -> Vec<Field> {
    let mut fields = vec![Field::text("full_name", "Full name")];
    if staff {
        fields.push(Field::new("role", "Role", Kind::Select(staff_roles())));
    }
    fields.push(Field::new(
        "active",
        "Active",
        Kind::Radios(options(&[
            ("true", "Active"),
            ("false", "Deactivated: every session and token ends at once"),
        ])),
    ));
    fields
}

fn client_fields(agencies: &[String]) -> Vec<Field> {
    let mut clears = vec![(String::new(), "None: the client only verifies".to_string())];
    clears.extend(agencies.iter().map(|a| (a.clone(), a.to_uppercase())));
    vec![
        Field::text("name", "Name").hint("What the client is, e.g. HBL verification service."),
        Field::text("agency", "Agency").hint("Who it belongs to, e.g. State Bank of Pakistan."),
        Field::new("clears", "Clears: the clearing agency it decides for", Kind::Select(clears)),
    ]
}

/// `GET /desk/users`.
pub async fn users(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let rows =
        state.db.read(|conn| users::store::list(conn, &Default::default(), None, 1000)).await?;
    Ok(page(StatusCode::OK, users_page(&who, &rows, done_message(&req), None)))
}

fn users_page(
    who: &SignedIn,
    rows: &[UserRow],
    done: Option<&str>,
    invalid: Option<Invalid<'_>>,
) -> Markup {
    let fields = new_user_fields();
    views::signed_in(
        &who.session,
        "Users",
        done,
        html! {
            (views::back(super::super::DESK, "Back to the desk"))
            @if let Some(i) = &invalid { (form::error_summary(i.fields, i.errors)) }
            h1 { "Users" }
            div class="table-scroll" {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Status" } } }
                    tbody {
                        @for u in rows {
                            tr {
                                th scope="row" { a href={ "/desk/users/" (u.id) } { (u.full_name) } }
                                td { (u.email) } td { (u.role.as_str()) } td { @if u.active { "active" } @else { "deactivated" } }
                            }
                        }
                    }
                }
            }
            h2 { "Create a staff user" }
            (views::small_form(&who.session, &SmallForm { action: USERS, name: "create", fields: &fields, hidden: &[], button: "Create user" }, invalid.as_ref()))
        },
    )
}

/// `POST /desk/users`: `users::create_account`, as `POST /api/v1/users`.
pub async fn create_user(state: web::Data<AppState>, who: SignedIn, form: Posted) -> Page {
    let values = Values(form.fields);
    let fields = new_user_fields();
    let created = match form::parse::<CreateUser>(&fields, &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(CreateUser { email, password, full_name, role }) => {
            let password_hash = blocking(move || password.hash()).await?;
            let (now, actor) = (state.now(), who.session.user_id.clone());
            let account = NewAccount { email, password_hash, full_name, role: role.into() };
            state
                .db
                .write(move |conn| users::create_account(conn, now, Some(&actor), account))
                .await
        }
    };
    let e = match created {
        Ok(row) => return Ok(done(&format!("/desk/users/{}", row.id), "user-created")),
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let mut errors = form::field_errors(&fields, e);
    errors
        .iter_mut()
        .filter(|e| e.field.is_empty() && e.message.contains("e-mail"))
        .for_each(|e| e.field = "email".into());
    let rows =
        state.db.read(|conn| users::store::list(conn, &Default::default(), None, 1000)).await?;
    let invalid = Invalid { form: "create", fields: &fields, values: &values, errors: &errors };
    Ok(page(status, users_page(&who, &rows, None, Some(invalid))))
}

async fn find_user(state: &AppState, id: String) -> Result<UserRow, AppError> {
    state
        .db
        .read(move |conn| {
            users::store::find(conn, &id)?.ok_or_else(|| AppError::not_found("no such user"))
        })
        .await
}

fn user_page(
    who: &SignedIn,
    u: &UserRow,
    values: &Values,
    errors: &[FieldError],
    done: Option<&str>,
) -> Markup {
    let fields = user_fields(u.role != Role::Operator);
    let version = u.version.to_string();
    views::signed_in(
        &who.session,
        &u.full_name,
        done,
        html! {
            (views::back(USERS, "Back to the users"))
            (form::error_summary(&fields, errors))
            h1 { (u.full_name) }
            dl class="facts" {
                dt { "Email" } dd { (u.email) }
                dt { "Role" } dd { (u.role.as_str()) }
                dt { "Status" } dd { @if u.active { "active" } @else { "deactivated" } }
            }
            (views::small_form(&who.session, &SmallForm { action: &format!("/desk/users/{}", u.id), name: "user", fields: &fields, hidden: &[("version", version.as_str())], button: "Save" }, Some(&Invalid { form: "user", fields: &fields, values, errors })))
        },
    )
}

fn current(u: &UserRow) -> Values {
    let mut v = Values::default();
    v.set("full_name", u.full_name.clone());
    v.set("role", u.role.as_str());
    v.set("active", if u.active { "true" } else { "false" });
    v
}

/// `GET /desk/users/{id}`.
pub async fn user(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let u = find_user(&state, id.into_inner()).await?;
    Ok(page(StatusCode::OK, user_page(&who, &u, &current(&u), &[], done_message(&req))))
}

/// `POST /desk/users/{id}`: `users::update_account`, as `PATCH /api/v1/users/{id}`; a
/// deactivation or a role change ends the user's sessions in the same transaction.
pub async fn save_user(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let u = find_user(&state, id.into_inner()).await?;
    let values = Values(form.fields);
    let fields = user_fields(u.role != Role::Operator);
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let active = [("active", Value::Bool(values.get("active") != "false"))];
    let saved = match form::parse::<UserPatch>(&fields, &values, &active) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(patch) => {
            let (now, caller, user_id) =
                (state.now(), who.principal(), UserId::from(u.id.as_str()));
            state
                .db
                .write(move |conn| {
                    users::update_account(conn, now, &caller, &user_id, opened_on(version), patch)
                })
                .await
        }
    };
    let e = match saved {
        Ok(row) => return Ok(done(&format!("/desk/users/{}", row.id), "user-saved")),
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let errors = form::field_errors(&fields, e);
    let (u, values) = if status == StatusCode::PRECONDITION_FAILED {
        let fresh = find_user(&state, u.id.clone()).await?;
        let v = current(&fresh);
        (fresh, v)
    } else {
        (u, values)
    };
    Ok(page(status, user_page(&who, &u, &values, &errors, None)))
}

/// `GET /desk/agency-clients`.
pub async fn clients(state: web::Data<AppState>, who: SignedIn, req: HttpRequest) -> Page {
    let rows = state.db.read(|conn| agency_clients::store::list(conn, None, None, 1000)).await?;
    Ok(page(StatusCode::OK, clients_page(&who, &state, &rows, done_message(&req), None, None)))
}

fn clients_page(
    who: &SignedIn,
    state: &AppState,
    rows: &[ClientRow],
    done: Option<&str>,
    invalid: Option<Invalid<'_>>,
    created: Option<(&ClientRow, &str)>,
) -> Markup {
    let fields = client_fields(&state.settings.licensing.clearance_agencies);
    views::signed_in(
        &who.session,
        "Agency clients",
        done,
        html! {
            (views::back(super::super::DESK, "Back to the desk"))
            @if let Some(i) = &invalid { (form::error_summary(i.fields, i.errors)) }
            @if let Some((c, secret)) = created {
                div class="notice" role="status" {
                    h2 { "Agency client created" }
                    p { "Give these to " (c.agency) ". The secret is shown this once only: it is not stored and cannot be shown again." }
                    dl class="facts" { dt { "Client ID" } dd { code { (c.client_id) } } dt { "Client secret" } dd { code { (secret) } } }
                }
            }
            h1 { "Agency clients" }
            ul class="items" {
                @for c in rows {
                    li {
                        strong { (c.name) } " — " (c.agency) ", " code { (c.client_id) }
                        @if let Some(a) = &c.clears { ", clears for " (a.to_uppercase()) }
                        @if c.active { (views::button_form(&format!("/desk/agency-clients/{}/delete", c.id), &who.session.csrf_token, "Delete", &format!("agency client {}", c.name))) } @else { " (deleted)" }
                    }
                }
            }
            h2 { "Create an agency client" }
            (views::small_form(&who.session, &SmallForm { action: CLIENTS, name: "create", fields: &fields, hidden: &[], button: "Create client" }, invalid.as_ref()))
        },
    )
}

/// `POST /desk/agency-clients`: `agency_clients::create`; the answer (200, never cached) is the
/// one page that shows the secret.
pub async fn create_client(state: web::Data<AppState>, who: SignedIn, form: Posted) -> Page {
    let values = Values(form.fields);
    let fields = client_fields(&state.settings.licensing.clearance_agencies);
    let created = match form::parse::<CreateClient>(&fields, &values, &[]) {
        Err(errors) => Err(AppError::validation(errors)),
        Ok(CreateClient { name, agency, clears }) => {
            match agency_clients::clearing_agency(
                clears.as_deref(),
                &state.settings.licensing.clearance_agencies,
            ) {
                Err(e) => Err(e),
                Ok(clears) => {
                    let (now, actor) = (state.now(), who.session.user_id.clone());
                    state
                        .db
                        .write(move |conn| {
                            agency_clients::create(conn, now, &actor, name, agency, clears)
                        })
                        .await
                }
            }
        }
    };
    let rows = state.db.read(|conn| agency_clients::store::list(conn, None, None, 1000)).await?;
    let e = match created {
        Ok((row, secret)) => {
            return Ok(page(
                StatusCode::OK,
                clients_page(&who, &state, &rows, None, None, Some((&row, &secret))),
            ))
        }
        Err(e) => e,
    };
    let Some(status) = form::refusal_status(&e) else { return Err(e.into()) };
    let errors = form::field_errors(&fields, e);
    let invalid = Invalid { form: "create", fields: &fields, values: &values, errors: &errors };
    Ok(page(status, clients_page(&who, &state, &rows, None, Some(invalid), None)))
}

/// `POST /desk/agency-clients/{id}/delete`: `agency_clients::delete`; its tokens stop at once.
pub async fn delete_client(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    _form: PortalForm<super::super::account::NoFields>,
) -> Page {
    let (now, actor, id) = (state.now(), who.session.user_id.clone(), id.into_inner());
    state.db.write(move |conn| agency_clients::delete(conn, now, &actor, &id)).await?;
    Ok(done(CLIENTS, "client-deleted"))
}
