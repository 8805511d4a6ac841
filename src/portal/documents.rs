//! Document upload and deletion on the web: the upload form posts `multipart/form-data` with
//! the API's parts (`file`, `kind`, `person_id`, `site_id`) and its CSRF token, read by the
//! API's own reader and stored by `documents::upload`, under §10's rules.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html, Markup};

use super::csrf::{PortalForm, PortalUpload};
use super::form::{self, options, Field, Kind, Values};
use super::organisations::{link as organisation_link, Page};
use super::views::{self, FormView};
use super::{done, SignedIn};
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::documents::{self, DocumentRow};
use crate::error::{AppError, FieldError};
use crate::organisations::{store as org_store, OrgRow};
use crate::pages::page;
use crate::state::AppState;

pub const NEW: &str = "/portal/organisations/{id}/documents/new";
pub const DELETE: &str = "/portal/documents/{id}/delete";

/// The people and active sites an upload may name, as select options.
struct Choices {
    org: OrgRow,
    people: Vec<(String, String)>,
    sites: Vec<(String, String)>,
}

fn choices(conn: &mut DbConn, who: &Principal, id: &str) -> Result<Choices, AppError> {
    let org = resolve::<OrgRow>(conn, who, id)?.into_inner();
    let none = || vec![(String::new(), "None".to_string())];
    let mut people = none();
    people.extend(
        org_store::list_people(conn, &org.id, None, 500)?.into_iter().map(|p| (p.id, p.full_name)),
    );
    let mut sites = none();
    let filter =
        crate::sites::store::Filter { organisation_id: Some(org.id.clone()), ..Default::default() };
    sites.extend(
        crate::sites::store::list(conn, &filter, None, 500)?.into_iter().map(|s| (s.id, s.name)),
    );
    Ok(Choices { org, people, sites })
}

fn fields(c: &Choices) -> Vec<Field> {
    vec![
        Field::new(
            "kind",
            "Kind",
            Kind::Select(options(&[
                ("incorporation_certificate", "Certificate of incorporation"),
                ("tax_certificate", "Tax (NTN) certificate"),
                ("bank_letter", "Bank letter"),
                ("identity_document", "Identity document (choose the person)"),
                ("premises_proof", "Premises proof (choose the site)"),
                ("fee_receipt", "Fee receipt"),
                ("other", "Other"),
            ])),
        ),
        Field::new(
            "person_id",
            "Person ID: whose identity document",
            Kind::Select(c.people.clone()),
        ),
        Field::new(
            "site_id",
            "Site ID: the site a premises proof is for",
            Kind::Select(c.sites.clone()),
        ),
        Field::new("file", "File (PDF, PNG or JPEG, at most 10 MiB)", Kind::File),
    ]
}

fn upload_form(who: &SignedIn, c: &Choices, values: &Values, errors: &[FieldError]) -> Markup {
    let fields = fields(c);
    let (action, back) =
        (format!("{}/documents/new", organisation_link(&c.org.id)), organisation_link(&c.org.id));
    views::form_page(
        &who.session,
        FormView {
            title: "Upload a document",
            intro: Some(html! {
                p { "For " (c.org.legal_name) ". The type is recognised from the file itself." }
                @if !errors.is_empty() { p { "Choose the file again before uploading." } }
            }),
            action: &action,
            fields: &fields,
            values,
            errors,
            hidden: &[],
            button: "Upload",
            back: (&back, "Back to the organisation"),
            multipart: true,
        },
    )
}

/// `GET /portal/organisations/{id}/documents/new`; `?kind=&person_id=&site_id=` preselect
/// (the checklist links so).
pub async fn new_form(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    req: HttpRequest,
) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let c = state.db.read(move |conn| choices(conn, &caller, &id)).await?;
    let mut values = Values::default();
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if ["kind", "person_id", "site_id"].contains(&k.as_ref()) {
            values.set(&k, v.into_owned());
        }
    }
    Ok(page(StatusCode::OK, upload_form(&who, &c, &values, &[])))
}

/// `POST /portal/organisations/{id}/documents/new`: `documents::upload`.
pub async fn upload(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    form: PortalUpload,
) -> Page {
    let (id, caller) = (id.into_inner(), who.principal());
    let c = state.db.read(move |conn| choices(conn, &caller, &id)).await?;
    let upload = form.upload;
    let mut values = Values::default();
    values.set("kind", upload.kind.clone().unwrap_or_default());
    values.set(
        "person_id",
        upload.person_id.as_ref().map(|p| p.as_str().to_string()).unwrap_or_default(),
    );
    values.set(
        "site_id",
        upload.site_id.as_ref().map(|s| s.as_str().to_string()).unwrap_or_default(),
    );
    let (now, caller, org_id) = (state.now(), who.principal(), c.org.id.clone());
    let stored = state
        .db
        .write(move |conn| {
            let org = resolve::<OrgRow>(conn, &caller, &org_id)?;
            documents::upload(conn, now, &caller, &org, &upload)
        })
        .await;
    let errors = match stored {
        Ok(_) => return Ok(done(&organisation_link(&c.org.id), "document-uploaded")),
        Err(AppError::UnsupportedMediaType(m)) => vec![FieldError::new("file", m)],
        Err(e) if form::is_form_error(&e) => form::field_errors(&fields(&c), e),
        Err(e) => return Err(e.into()),
    };
    Ok(page(StatusCode::UNPROCESSABLE_ENTITY, upload_form(&who, &c, &values, &errors)))
}

/// `POST /portal/documents/{id}/delete`: `documents::delete` (409 while an application under
/// review relies on it).
pub async fn delete(
    state: web::Data<AppState>,
    who: SignedIn,
    id: web::Path<String>,
    _form: PortalForm<super::account::NoFields>,
) -> Page {
    let (id, now, caller) = (id.into_inner(), state.now(), who.principal());
    let org_id = state
        .db
        .write(move |conn| {
            let doc = resolve::<DocumentRow>(conn, &caller, &id)?;
            let org_id = doc.organisation_id.clone();
            documents::delete(conn, now, &caller, doc)?;
            Ok(org_id)
        })
        .await?;
    Ok(done(&organisation_link(&org_id), "document-deleted"))
}
