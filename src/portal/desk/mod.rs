//! The staff desk (API.md §14): regulators decide applications and act on licences,
//! inspectors record their visits. Every route is a `Session` rule of the policy table, and
//! every change calls the API route's own domain function with the signed-in person as caller.

pub mod admin;
pub mod applications;
pub mod enforcement;
pub mod inspections;
pub mod licences;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::html;

use super::organisations::Page;
use super::views;
use super::{done_message, SignedIn};
use crate::auth::Role;
use crate::pages::page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(applications::QUEUE, web::get().to(applications::queue))
        .route(applications::SHOW, web::get().to(applications::show))
        .route(applications::APPROVE, web::post().to(applications::approve))
        .route(applications::REJECT, web::post().to(applications::reject))
        .route(applications::REQUEST_INFO, web::post().to(applications::request_info))
        .route(applications::PAYMENT, web::post().to(applications::payment))
        .route(applications::SCHEDULE, web::post().to(applications::schedule))
        .route(applications::DOCUMENT, web::get().to(applications::document))
        .route(licences::FIND, web::get().to(licences::find))
        .route(licences::SHOW, web::get().to(licences::show))
        .route(licences::SUSPEND, web::post().to(licences::suspend))
        .route(licences::REINSTATE, web::post().to(licences::reinstate))
        .route(licences::REVOKE, web::post().to(licences::revoke))
        .route(inspections::LIST, web::get().to(inspections::list))
        .route(inspections::SHOW, web::get().to(inspections::show))
        .route(inspections::SHOW, web::post().to(inspections::record))
        .route(inspections::EVIDENCE, web::post().to(inspections::attach))
        .route(inspections::PHOTO, web::get().to(inspections::photo))
        .route(enforcement::QUEUE, web::get().to(enforcement::queue))
        .route(enforcement::ITEM, web::get().to(enforcement::show_item))
        .route(enforcement::ITEM, web::post().to(enforcement::dismiss))
        .route(enforcement::VIOLATIONS, web::get().to(enforcement::violations))
        .route(enforcement::VIOLATION, web::get().to(enforcement::show_violation))
        .route(enforcement::VIOLATION, web::post().to(enforcement::resolve_violation))
        .route(enforcement::REPORTS, web::get().to(enforcement::reports))
        .route(enforcement::REPORT, web::get().to(enforcement::show_report))
        .route(enforcement::REPORT, web::post().to(enforcement::triage))
        .route(admin::USERS, web::get().to(admin::users))
        .route(admin::USERS, web::post().to(admin::create_user))
        .route(admin::USER, web::get().to(admin::user))
        .route(admin::USER, web::post().to(admin::save_user))
        .route(admin::CLIENTS, web::get().to(admin::clients))
        .route(admin::CLIENTS, web::post().to(admin::create_client))
        .route(admin::DELETE_CLIENT, web::post().to(admin::delete_client));
}

/// The desk's routes, as [`configure`] registers them (each has its policy rule).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", applications::QUEUE),
    ("GET", applications::SHOW),
    ("POST", applications::APPROVE),
    ("POST", applications::REJECT),
    ("POST", applications::REQUEST_INFO),
    ("POST", applications::PAYMENT),
    ("POST", applications::SCHEDULE),
    ("GET", applications::DOCUMENT),
    ("GET", licences::FIND),
    ("GET", licences::SHOW),
    ("POST", licences::SUSPEND),
    ("POST", licences::REINSTATE),
    ("POST", licences::REVOKE),
    ("GET", inspections::LIST),
    ("GET", inspections::SHOW),
    ("POST", inspections::SHOW),
    ("POST", inspections::EVIDENCE),
    ("GET", inspections::PHOTO),
    ("GET", enforcement::QUEUE),
    ("GET", enforcement::ITEM),
    ("POST", enforcement::ITEM),
    ("GET", enforcement::VIOLATIONS),
    ("GET", enforcement::VIOLATION),
    ("POST", enforcement::VIOLATION),
    ("GET", enforcement::REPORTS),
    ("GET", enforcement::REPORT),
    ("POST", enforcement::REPORT),
    ("GET", admin::USERS),
    ("POST", admin::USERS),
    ("GET", admin::USER),
    ("POST", admin::USER),
    ("GET", admin::CLIENTS),
    ("POST", admin::CLIENTS),
    ("POST", admin::DELETE_CLIENT),
];

/// `GET /desk`: what this role does here.
pub async fn landing(who: SignedIn, req: HttpRequest) -> Page {
    let role = who.session.role;
    let body = html! {
        h1 { "Desk" }
        p { "You are signed in with the " strong { (role.as_str()) } " role." }
        @if matches!(role, Role::Regulator | Role::Admin) {
            h2 { "Licensing" }
            ul class="items" {
                li { a href=(applications::QUEUE) { "Applications" } " — the queue, oldest first" }
                li { a href=(enforcement::QUEUE) { "Enforcement queue" } " — inspections' and overdue violations' items" }
                li { a href=(enforcement::VIOLATIONS) { "Violations" } " — open and overdue" }
                li { a href=(enforcement::REPORTS) { "Reports from the public" } " — to triage" }
            }
            form method="get" action=(licences::FIND) class="filters" {
                div class="field" {
                    label for="licence_number" { "Licence number" }
                    input id="licence_number" name="licence_number" type="text" autocomplete="off";
                }
                button type="submit" { "Open licence" }
            }
        }
        @if role == Role::Admin {
            h2 { "Access" }
            ul class="items" {
                li { a href=(admin::USERS) { "Users" } " — staff accounts: create, change role, deactivate" }
                li { a href=(admin::CLIENTS) { "Agency clients" } " — the agencies' API clients" }
            }
        }
        @if matches!(role, Role::Regulator | Role::Inspector) {
            h2 { "Inspections" }
            ul class="items" { li { a href=(inspections::LIST) { "Inspections" } @if role == Role::Inspector { " — yours, today's first" } } }
        }
    };
    Ok(page(StatusCode::OK, views::signed_in(&who.session, "Desk", done_message(&req), body)))
}
