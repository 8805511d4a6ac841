//! The portal's pages, in the register's layout and stylesheet (maud escapes every value).
//! Forms follow the GOV.UK Design System: an error summary at the top linking to the fields,
//! each error beside its field, a visible label on every field, and buttons named by their verb.

use maud::{html, Markup};

use super::csrf::FIELD;
use super::form::{self, Field, Values};
use super::{Session, PASSWORD, SIGN_IN, SIGN_OUT, SIGN_UP};
use crate::error::FieldError;
use crate::pages::css;
use crate::pages::templates::layout;

pub fn frame(title: &str, main: Markup) -> Markup {
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

pub fn hidden_token(token: &str) -> Markup {
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

pub fn notice(text: Option<&str>) -> Markup {
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

/// One row of the dashboard's lists, linking to its page.
pub struct Item {
    pub href: String,
    pub name: String,
    pub detail: String,
}

fn items(items: &[Item]) -> Markup {
    html! {
        ul class="items" {
            @for i in items { li { a href=(i.href) { (i.name) } " — " (i.detail) } }
        }
    }
}

/// `/portal`: the operator's organisations, applications and licences.
pub fn dashboard(
    session: &Session,
    done: Option<&str>,
    organisations: &[Item],
    applications: &[Item],
    licences: &[(String, String, crate::domain::LicenceStatus)],
) -> Markup {
    signed_in(
        session,
        "Your call-centre licensing",
        done,
        html! {
            h1 { "Your call-centre licensing" }
            h2 { "Organisations" }
            @if organisations.is_empty() {
                p class="muted" { "You have not registered an organisation yet. Register the company that is to hold the licence first." }
            }
            (items(organisations))
            p { a href=(super::organisations::NEW) { "Register an organisation" } }
            h2 { "Applications" }
            @if applications.is_empty() {
                p class="muted" { "You have no applications yet. Start one from an organisation's page." }
            }
            (items(applications))
            @if !licences.is_empty() {
                h2 { "Licences" }
                ul class="items" {
                    @for (number, holder, status) in licences {
                        li {
                            strong { (number) } " — " (holder) ", " (status.as_str()) " — "
                            a href={ "/register/licences/" (number) } { "Status page" } " · "
                            a href={ "/register/licences/" (number) "/certificate" } { "Certificate" }
                        }
                    }
                }
            }
        },
    )
}

/// A page for a signed-in person: who they are, the message of the change just made, the page.
pub fn signed_in(session: &Session, title: &str, done: Option<&str>, main: Markup) -> Markup {
    frame(
        title,
        html! {
            (account_bar(session))
            (notice(done))
            (main)
        },
    )
}

/// A form of one button (remove, delete, withdraw), with the session's CSRF token; `about`
/// names what it acts on for screen readers ("Delete" of which client), as hidden text.
pub fn button_form(action: &str, token: &str, label: &str, about: &str) -> Markup {
    html! {
        form method="post" action=(action) class="inline" {
            (hidden_token(token))
            button type="submit" class="secondary" { (label) span class="visually-hidden" { " " (about) } }
        }
    }
}

/// A status tag in a checklist or list.
pub fn tag(text: &str, class: &str) -> Markup {
    html! { strong class={ "tag " (class) } { (text) } }
}

/// "Back to …" link.
pub fn back(href: &str, text: &str) -> Markup {
    html! { p class="back" { a href=(href) { (text) } } }
}

/// A page whose main part is one form.
pub struct FormView<'a> {
    pub title: &'a str,
    pub intro: Option<Markup>,
    pub action: &'a str,
    pub fields: &'a [Field],
    pub values: &'a Values,
    pub errors: &'a [FieldError],
    /// Hidden fields besides the CSRF token (an edit form's `version`).
    pub hidden: &'a [(&'a str, String)],
    pub button: &'a str,
    /// Where "Back" goes, and its text.
    pub back: (&'a str, &'a str),
    pub multipart: bool,
}

/// A signed-in page of one form: the error summary first, then the form.
pub fn form_page(session: &Session, v: FormView<'_>) -> Markup {
    let enctype = v.multipart.then_some("multipart/form-data");
    signed_in(
        session,
        v.title,
        None,
        html! {
            (back(v.back.0, v.back.1))
            (form::error_summary(v.fields, v.errors))
            h1 { (v.title) }
            @if let Some(intro) = v.intro { (intro) }
            form method="post" action=(v.action) enctype=[enctype] novalidate {
                (hidden_token(&session.csrf_token))
                @for (name, value) in v.hidden { input type="hidden" name=(name) value=(value); }
                (form::render(v.fields, v.values, v.errors))
                button type="submit" { (v.button) }
            }
        },
    )
}

/// A value of one of the API's enums in words (`beneficial_owner` → "beneficial owner").
pub fn words(v: &impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Which of a page's several forms was sent back, with its values and errors.
pub struct Invalid<'a> {
    pub form: &'static str,
    pub fields: &'a [Field],
    pub values: &'a Values,
    pub errors: &'a [FieldError],
}

/// One of a page's several small forms.
pub struct SmallForm<'a> {
    pub action: &'a str,
    /// Which form it is (matched against [`Invalid::form`]).
    pub name: &'static str,
    pub fields: &'a [Field],
    pub hidden: &'a [(&'a str, &'a str)],
    pub button: &'a str,
}

/// A small form, with its values and errors when it is the one sent back.
pub fn small_form(session: &Session, f: &SmallForm<'_>, invalid: Option<&Invalid<'_>>) -> Markup {
    let empty = Values::default();
    let (values, errors) = match invalid {
        Some(i) if i.form == f.name => (i.values, i.errors),
        _ => (&empty, &[][..]),
    };
    html! {
        form method="post" action=(f.action) novalidate {
            (hidden_token(&session.csrf_token))
            @for (name, value) in f.hidden { input type="hidden" name=(name) value=(value); }
            (form::render(f.fields, values, errors))
            button type="submit" { (f.button) }
        }
    }
}
