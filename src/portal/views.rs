//! The portal's pages, in the register's layout and stylesheet (maud escapes every value).
//! Forms follow the GOV.UK Design System: an error summary at the top linking to the fields,
//! each error beside its field, a visible label on every field, and buttons named by their verb.

use maud::{html, Markup};

use super::csrf::FIELD;
use super::{Session, PASSWORD, SIGN_IN, SIGN_OUT, SIGN_UP};
use crate::error::FieldError;
use crate::pages::css;
use crate::pages::templates::layout;

fn frame(title: &str, main: Markup) -> Markup {
    layout(title, css(), main)
}

/// A page that only says something (errors, refusals).
pub fn message(title: &str, detail: &str) -> Markup {
    frame(
        title,
        html! {
            h1 { (title) }
            p { (detail) }
            p { a href=(SIGN_IN) { "Go to the sign-in page" } }
        },
    )
}

fn hidden_token(token: &str) -> Markup {
    html! { input type="hidden" name=(FIELD) value=(token); }
}

/// "There is a problem", each error linking to its field.
fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for e in errors {
                        li { a href={ "#" (e.field) } { (e.message) } }
                    }
                }
            }
        }
    }
}

/// One labelled input, its error beside it. Passwords are never written back.
struct Input<'a> {
    name: &'a str,
    label: &'a str,
    kind: &'a str,
    value: &'a str,
    autocomplete: &'a str,
}

fn input(i: Input<'_>, errors: &[FieldError]) -> Markup {
    let error = errors.iter().find(|e| e.field == i.name);
    let error_id = format!("{}-error", i.name);
    let value = if i.kind == "password" { "" } else { i.value };
    html! {
        div class={ "field" @if error.is_some() { " field-error" } } {
            label for=(i.name) { (i.label) }
            @if let Some(e) = error {
                p id=(error_id) class="error-message" {
                    span class="visually-hidden" { "Error: " } (e.message)
                }
            }
            input id=(i.name) name=(i.name) type=(i.kind) value=(value)
                autocomplete=(i.autocomplete)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
        }
    }
}

/// `/account/sign-in`.
pub fn sign_in(token: &str, email: &str, errors: &[FieldError]) -> Markup {
    frame(
        "Sign in",
        html! {
            (error_summary(errors))
            h1 { "Sign in" }
            form method="post" action=(SIGN_IN) novalidate {
                (hidden_token(token))
                (input(Input { name: "email", label: "Email", kind: "email", value: email, autocomplete: "username" }, errors))
                (input(Input { name: "password", label: "Password", kind: "password", value: "", autocomplete: "current-password" }, errors))
                button type="submit" { "Sign in" }
            }
            p { "New call-centre operator? " a href=(SIGN_UP) { "Create an account" } "." }
        },
    )
}

/// `/account/sign-up`: operators make their own accounts.
pub fn sign_up(token: &str, email: &str, full_name: &str, errors: &[FieldError]) -> Markup {
    frame(
        "Create an account",
        html! {
            (error_summary(errors))
            h1 { "Create an operator account" }
            p { "For the representative of a call-centre company applying for a licence." }
            form method="post" action=(SIGN_UP) novalidate {
                (hidden_token(token))
                (input(Input { name: "email", label: "Email", kind: "email", value: email, autocomplete: "email" }, errors))
                (input(Input { name: "password", label: "Password (12 to 128 characters)", kind: "password", value: "", autocomplete: "new-password" }, errors))
                (input(Input { name: "full_name", label: "Full name", kind: "text", value: full_name, autocomplete: "name" }, errors))
                button type="submit" { "Create account" }
            }
            p { "Already have an account? " a href=(SIGN_IN) { "Sign in" } "." }
        },
    )
}

/// Who is signed in, with the password link and the sign-out button.
fn account_bar(session: &Session) -> Markup {
    html! {
        div class="account-bar" {
            p { "Signed in as " strong { (session.full_name) } " (" (session.email) ")" }
            a href=(PASSWORD) { "Change password" }
            form method="post" action=(SIGN_OUT) {
                (hidden_token(&session.csrf_token))
                button type="submit" class="secondary" { "Sign out" }
            }
        }
    }
}

fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            div class="notice" role="status" { p { (text) } }
        }
    }
}

/// `/account/password`.
pub fn password(session: &Session, errors: &[FieldError]) -> Markup {
    let back = super::landing(session.role);
    frame(
        "Change your password",
        html! {
            (account_bar(session))
            (error_summary(errors))
            h1 { "Change your password" }
            p { "Changing it signs you out everywhere else." }
            form method="post" action=(PASSWORD) novalidate {
                (hidden_token(&session.csrf_token))
                (input(Input { name: "current_password", label: "Current password", kind: "password", value: "", autocomplete: "current-password" }, errors))
                (input(Input { name: "new_password", label: "New password (12 to 128 characters)", kind: "password", value: "", autocomplete: "new-password" }, errors))
                button type="submit" { "Change password" }
            }
            p { a href=(back) { "Back" } }
        },
    )
}

/// One row of the dashboard's lists.
pub struct Item {
    pub name: String,
    pub detail: String,
}

/// `/portal`: the operator's organisations and applications.
pub fn dashboard(
    session: &Session,
    done: Option<&str>,
    organisations: &[Item],
    applications: &[Item],
) -> Markup {
    frame(
        "Your applications",
        html! {
            (account_bar(session))
            (notice(done))
            h1 { "Your call-centre licensing" }
            h2 { "Organisations" }
            @if organisations.is_empty() {
                p class="muted" { "You have not registered an organisation yet." }
            } @else {
                ul class="items" { @for o in organisations { li { strong { (o.name) } " — " (o.detail) } } }
            }
            h2 { "Applications" }
            @if applications.is_empty() {
                p class="muted" { "You have no applications yet." }
            } @else {
                ul class="items" { @for a in applications { li { strong { (a.name) } " — " (a.detail) } } }
            }
        },
    )
}

/// `/desk`: the staff's landing page.
pub fn desk(session: &Session, done: Option<&str>) -> Markup {
    frame(
        "Desk",
        html! {
            (account_bar(session))
            (notice(done))
            h1 { "Desk" }
            p { "You are signed in with the " strong { (session.role.as_str()) } " role." }
        },
    )
}
