//! The operator's organisation pages: register, read, edit; its people added and removed.
//! Every change calls the API route's own domain function with the signed-in person as the
//! caller, after the same `resolve` (another operator's organisation is a 404 page).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::csrf::PortalForm;
use super::form::{self, options, Field, Kind, Values};
use super::views::{self, FormView};
use super::{done, done_message, opened_on, PageError, SignedIn};
use crate::applications::store::ApplicationRow;
use crate::auth::visible::resolve;
use crate::documents::DocumentRow;
use crate::error::{AppError, FieldError};
use crate::organisations::{
    self as orgs, NewOrganisation, NewPerson, OrgRow, Organisation, OrganisationPatch, Person,
    PersonRow,
};
use crate::pages::page;
use crate::sites::store::SiteRow;
use crate::state::AppState;

pub type Page = Result<HttpResponse, PageError>;
/// A form's fields as posted (the CSRF token among them, ignored).
pub type Posted = PortalForm<Vec<(String, String)>>;

pub const NEW: &str = "/portal/organisations/new";
pub const SHOW: &str = "/portal/organisations/{id}";
pub const EDIT: &str = "/portal/organisations/{id}/edit";
pub const NEW_PERSON: &str = "/portal/organisations/{id}/people/new";
pub const REMOVE_PERSON: &str = "/portal/organisations/{id}/people/{person_id}/delete";

pub fn link(id: &str) -> String {
    format!("/portal/organisations/{id}")
}

/// An address's fields under `prefix` (`registered_address`, `address`).
pub fn address_fields(prefix: &'static str) -> Vec<Field> {
    let name = |field: &str| -> &'static str {
        match (prefix, field) {
            ("address", "line1") => "address.line1",
            ("address", "line2") => "address.line2",
            ("address", "city") => "address.city",
            ("address", "province") => "address.province",
            ("address", "postal_code") => "address.postal_code",
            ("address", "country") => "address.country",
            (_, "line1") => "registered_address.line1",
            (_, "line2") => "registered_address.line2",
            (_, "city") => "registered_address.city",
            (_, "province") => "registered_address.province",
            (_, "postal_code") => "registered_address.postal_code",
            _ => "registered_address.country",
        }
    };
    vec![
        Field::text(name("line1"), "Line1 (building and street)"),
        Field::text(name("line2"), "Line2 (optional)"),
        Field::text(name("city"), "City"),
        Field::text(name("province"), "Province"),
        Field::text(name("postal_code"), "Postal code"),
        Field::text(name("country"), "Country").hint("Two letters: PK for Pakistan."),
    ]
}

fn organisation_fields() -> Vec<Field> {
    let mut fields = vec![
        Field::text("legal_name", "Legal name"),
        Field::text("trade_name", "Trade name (optional)"),
        Field::text("registration_number", "Registration number")
            .hint("As on the SECP certificate of incorporation."),
        Field::text("tax_number", "Tax number").hint("The NTN, 7 digits and a check digit."),
    ];
    fields.extend(address_fields("registered_address"));
    fields.push(Field::new("contact_email", "Contact email", Kind::Email));
    fields.push(
        Field::new("contact_phone", "Contact phone", Kind::Tel)
            .hint("For example 021 34567890 or +92 21 34567890."),
    );
    fields
}

fn person_fields() -> Vec<Field> {
    vec![
        Field::text("full_name", "Full name"),
        Field::new(
            "roles",
            "Roles",
            Kind::Checks(options(&[
                ("director", "Director"),
                ("beneficial_owner", "Beneficial owner"),
                ("authorised_signatory", "Authorised signatory"),
            ])),
        ),
        Field::new(
            "id_type",
            "ID type",
            Kind::Radios(options(&[("cnic", "CNIC"), ("passport", "Passport")])),
        ),
        Field::text("id_number", "ID number").hint("A CNIC is written 12345-1234567-1."),
        Field::text("nationality", "Nationality").hint("Two letters: PK for Pakistan."),
        Field::new("ownership_percent", "Ownership percent (optional)", Kind::Decimal),
    ]
}

/// A country field's default: Pakistan.
fn defaults(names: &[&str]) -> Values {
    let mut v = Values::default();
    names.iter().for_each(|n| v.set(n, "PK"));
    v
}

/// A page with a form shown again: 422 with its errors, or `status`.
fn again(status: StatusCode, body: Markup) -> Page {
    Ok(page(status, body))
}

fn organisation_form(
    who: &SignedIn,
    org: Option<&str>,
    values: &Values,
    errors: &[FieldError],
    version: Option<i64>,
) -> Markup {
    let fields = organisation_fields();
    let (title, action, button, back) = match org {
        None => (
            "Register an organisation",
            NEW.to_string(),
            "Create organisation",
            super::PORTAL.to_string(),
        ),
        Some(id) => ("Edit the organisation", format!("{}/edit", link(id)), "Save", link(id)),
    };
    let hidden: Vec<(&str, String)> =
        version.map(|v| ("version", v.to_string())).into_iter().collect();
    views::form_page(
        &who.session,
        FormView {
            title,
            intro: Some(
                html! { p { "The company that is to hold the licence, as registered with the SECP and the FBR." } },
            ),
            action: &action,
            fields: &fields,
            values,
            errors,
            hidden: &hidden,
            button,
            back: (&back, "Back"),
            multipart: false,
        },
    )
}

/// `GET /portal/organisations/new`.
pub async fn new_form(who: SignedIn) -> Page {
    let values = defaults(&["registered_address.country"]);
    Ok(page(StatusCode::OK, organisation_form(&who, None, &values, &[], None)))
}

/// `POST /portal/organisations/new`: `organisations::create`, as `POST /api/v1/organisations`.
pub async fn create(state: web::Data<AppState>, who: SignedIn, form: Posted) -> Page {
    let values = Values(form.fields);
    let fields = organisation_fields();
    let show = |errors: &[FieldError]| {
        again(
            StatusCode::UNPROCESSABLE_ENTITY,
            organisation_form(&who, None, &values, errors, None),
        )
    };
    let new = match form::parse::<NewOrganisation>(&fields, &values, &[]) {
        Ok(new) => new,
        Err(errors) => return show(&errors),
    };
    let (now, caller) = (state.now(), who.principal());
    match state.db.write(move |conn| orgs::create(conn, now, &caller, new)).await {
        Ok(row) => Ok(done(&link(&row.id), "organisation-created")),
        Err(e) if form::is_form_error(&e) => show(&form::field_errors(&fields, e)),
        Err(e) => Err(e.into()),
    }
}

/// What the organisation page shows.
struct Dossier {
    org: OrgRow,
    people: Vec<PersonRow>,
    sites: Vec<SiteRow>,
    documents: Vec<DocumentRow>,
    applications: Vec<ApplicationRow>,
}

const ROWS: i64 = 500;

fn dossier(
    conn: &mut crate::db::DbConn,
    who: &crate::auth::Principal,
    id: &str,
) -> Result<Dossier, AppError> {
    let org = resolve::<OrgRow>(conn, who, id)?.into_inner();
    let people = orgs::store::list_people(conn, &org.id, None, ROWS)?;
    let site_filter =
        crate::sites::store::Filter { organisation_id: Some(org.id.clone()), ..Default::default() };
    let sites = crate::sites::store::list(conn, &site_filter, None, ROWS)?;
    let documents = crate::documents::store::list(conn, &org.id, None, None, ROWS)?;
    let app_filter = crate::applications::store::Filter {
        organisation_id: Some(org.id.clone()),
        ..Default::default()
    };
    let applications = crate::applications::store::list(conn, &app_filter, None, ROWS)?;
    Ok(Dossier { org, people, sites, documents, applications })
}

/// `GET /portal/organisations/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let d = state.db.read(move |conn| dossier(conn, &caller, &id)).await?;
    Ok(page(StatusCode::OK, organisation_page(&who, &d, done_message(&req))))
}

fn organisation_page(who: &SignedIn, d: &Dossier, done: Option<&str>) -> Markup {
    let (org, token) = (&d.org, &who.session.csrf_token);
    let base = link(&org.id);
    let person_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| d.people.iter().find(|p| &p.id == id))
            .map(|p| p.full_name.clone())
    };
    let site_name = |id: &Option<String>| {
        id.as_ref().and_then(|id| d.sites.iter().find(|s| &s.id == id)).map(|s| s.name.clone())
    };
    let address = &org.registered_address;
    views::signed_in(
        &who.session,
        &org.legal_name,
        done,
        html! {
            (views::back(super::PORTAL, "Back to your dashboard"))
            h1 { (org.legal_name) }
            dl class="facts" {
                dt { "Registration number" } dd { (org.registration_number) }
                dt { "Tax number" } dd { (org.tax_number) }
                dt { "Registered address" } dd { (address.line1.as_str()) ", " (address.city.as_str()) ", " (address.country.alpha2()) }
                dt { "Contact" } dd { (org.contact_email) ", " (org.contact_phone) }
            }
            p { a href={ (base) "/edit" } { "Edit the organisation" } }
            h2 { "People" }
            @if d.people.is_empty() { p class="muted" { "No directors, owners or signatories recorded yet." } }
            ul class="items" {
                @for p in &d.people {
                    @let view = Person::for_reader(p.clone(), &who.principal());
                    li {
                        strong { (view.full_name) } " — "
                        (view.roles.iter().map(views::words).collect::<Vec<_>>().join(", "))
                        ", " (view.id_type.as_str().to_uppercase()) " " (view.id_number)
                        (views::button_form(&format!("{base}/people/{}/delete", p.id), token, "Remove", &p.full_name))
                    }
                }
            }
            p { a href={ (base) "/people/new" } { "Add a person" } }
            h2 { "Sites" }
            @if d.sites.is_empty() { p class="muted" { "No sites yet." } }
            ul class="items" {
                @for s in &d.sites {
                    li { a href={ "/portal/sites/" (s.id) } { (s.name) } " — " (s.address.city.as_str()) ", " (s.seat_count) " seats, " (s.status.as_str()) }
                }
            }
            p { a href={ (base) "/sites/new" } { "Add a site" } }
            h2 { "Documents" }
            @if d.documents.is_empty() { p class="muted" { "No documents uploaded yet." } }
            ul class="items" {
                @for doc in &d.documents {
                    li {
                        strong { (doc.kind.as_str().replace('_', " ")) }
                        @if let Some(n) = person_name(&doc.person_id) { " of " (n) }
                        @if let Some(n) = site_name(&doc.site_id) { " for " (n) }
                        " — " (doc.file_name) " (" (doc.size_bytes) " bytes)"
                        (views::button_form(&format!("/portal/documents/{}/delete", doc.id), token, "Delete", &doc.file_name))
                    }
                }
            }
            p { a href={ (base) "/documents/new" } { "Upload a document" } }
            h2 { "Applications" }
            @if d.applications.is_empty() { p class="muted" { "No applications yet." } }
            ul class="items" {
                @for a in &d.applications {
                    li { a href={ "/portal/applications/" (a.id) } { (a.category.as_str()) " licence application" } " — " (a.status.as_str().replace('_', " ")) }
                }
            }
            p { a href={ (base) "/applications/new" } { "Start an application" } }
        },
    )
}

/// The organisation as the edit form shows it.
fn current_values(row: OrgRow) -> Result<(Values, i64), AppError> {
    let version = row.version;
    let json = serde_json::to_value(Organisation::from(row))
        .map_err(|e| AppError::internal(format!("organisation view: {e}")))?;
    Ok((Values::of(&organisation_fields(), &json), version))
}

/// `GET /portal/organisations/{id}/edit`.
pub async fn edit_form(state: web::Data<AppState>, who: SignedIn, id: web::Path<String>) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let row =
        state.db.read(move |conn| Ok(resolve::<OrgRow>(conn, &caller, &id)?.into_inner())).await?;
    let id = row.id.clone();
    let (values, version) = current_values(row)?;
    Ok(page(StatusCode::OK, organisation_form(&who, Some(&id), &values, &[], Some(version))))
}

/// `POST /portal/organisations/{id}/edit`: `organisations::update`, as `PATCH`; a form opened
/// on an older version is shown again with the current values (412).
pub async fn save(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let values = Values(form.fields);
    let version = values.get("version").parse::<i64>().unwrap_or(0);
    let fields = organisation_fields();
    let show = |status, values: &Values, errors: &[FieldError], version| {
        again(status, organisation_form(&who, Some(&id), values, errors, Some(version)))
    };
    let patch = match form::parse::<OrganisationPatch>(&fields, &values, &[]) {
        Ok(p) => p,
        Err(errors) => return show(StatusCode::UNPROCESSABLE_ENTITY, &values, &errors, version),
    };
    let (now, caller, org_id) = (state.now(), who.principal(), id.clone());
    let saved = state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &org_id)?;
            orgs::update(conn, now, &caller, org, opened_on(version), patch)
        })
        .await;
    match saved {
        Ok(row) => Ok(done(&link(&row.id), "organisation-saved")),
        Err(AppError::PreconditionFailed(m)) => {
            let (caller, org_id) = (who.principal(), id.clone());
            let row = state
                .db
                .read(move |conn| Ok(resolve::<OrgRow>(conn, &caller, &org_id)?.into_inner()))
                .await?;
            let (current, version) = current_values(row)?;
            show(StatusCode::PRECONDITION_FAILED, &current, &[FieldError::new("", m)], version)
        }
        Err(e) if form::is_form_error(&e) => show(
            StatusCode::UNPROCESSABLE_ENTITY,
            &values,
            &form::field_errors(&fields, e),
            version,
        ),
        Err(e) => Err(e.into()),
    }
}

fn person_form(who: &SignedIn, org_id: &str, values: &Values, errors: &[FieldError]) -> Markup {
    let fields = person_fields();
    let action = format!("{}/people/new", link(org_id));
    let back = link(org_id);
    views::form_page(
        &who.session,
        FormView {
            title: "Add a person",
            intro: Some(
                html! { p { "A director, beneficial owner or authorised signatory of the organisation." } },
            ),
            action: &action,
            fields: &fields,
            values,
            errors,
            hidden: &[],
            button: "Add person",
            back: (&back, "Back to the organisation"),
            multipart: false,
        },
    )
}

/// `GET /portal/organisations/{id}/people/new`.
pub async fn new_person_form(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let org =
        state.db.read(move |conn| Ok(resolve::<OrgRow>(conn, &caller, &id)?.into_inner())).await?;
    Ok(page(StatusCode::OK, person_form(&who, &org.id, &defaults(&["nationality"]), &[])))
}

/// `POST /portal/organisations/{id}/people/new`: `organisations::add_person`.
pub async fn add_person(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: Posted,
) -> Page {
    let id = id.into_inner();
    let values = Values(form.fields);
    let fields = person_fields();
    let (caller, org_id) = (who.principal(), id.clone());
    // The organisation first: another's is a 404 page whatever the form holds.
    state.db.read(move |conn| resolve::<OrgRow>(conn, &caller, &org_id).map(drop)).await?;
    let show = |errors: &[FieldError]| {
        again(StatusCode::UNPROCESSABLE_ENTITY, person_form(&who, &id, &values, errors))
    };
    let new = match form::parse::<NewPerson>(&fields, &values, &[]) {
        Ok(new) => new,
        Err(errors) => return show(&errors),
    };
    let (now, caller, org_id) = (state.now(), who.principal(), id.clone());
    let added = state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &org_id)?;
            orgs::add_person(conn, now, &caller, &org, new)
        })
        .await;
    match added {
        Ok(_) => Ok(done(&link(&id), "person-added")),
        Err(e) if form::is_form_error(&e) => show(&form::field_errors(&fields, e)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /portal/organisations/{id}/people/{person_id}/delete`: `organisations::remove_person`.
pub async fn remove_person(
    state: web::Data<AppState>,
    who: SignedIn,
    path: web::Path<(String, String)>,
    _form: PortalForm<super::account::NoFields>,
) -> Page {
    let (org_id, person_id) = path.into_inner();
    let (now, caller, id) = (state.now(), who.principal(), org_id.clone());
    state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &id)?;
            let person = org.child::<PersonRow>(conn, &person_id)?;
            orgs::remove_person(conn, now, &caller, &org, person)
        })
        .await?;
    Ok(done(&link(&org_id), "person-removed"))
}
