//! Organisations (the licensed companies) and their people: directors, beneficial owners and
//! authorised signatories. An operator owns the organisations it creates and sees only those;
//! staff see all.

pub mod routes;
pub mod store;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{self, Child, Owned, Visible};
use crate::auth::{Principal, Role};
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::domain::{Address, Country, Email, IdentityView, Name, Ntn, RegistrationNumber, E164};
use crate::error::{AppError, FieldError};
use crate::http::BodyRules;
pub use store::{OrgRow, PersonRow};

/// A company on the register.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub id: String,
    /// The operator account that registered it.
    pub owner_id: String,
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub registration_number: String,
    pub tax_number: String,
    pub registered_address: Address,
    pub contact_email: String,
    /// E.164.
    pub contact_phone: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OrgRow> for Organisation {
    fn from(r: OrgRow) -> Self {
        Organisation {
            id: r.id,
            owner_id: r.owner_id,
            legal_name: r.legal_name,
            trade_name: r.trade_name,
            registration_number: r.registration_number,
            tax_number: r.tax_number,
            registered_address: r.registered_address.into_inner(),
            contact_email: r.contact_email,
            contact_phone: r.contact_phone,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[schema(example = "Karachi Contact Solutions (Private) Limited")]
    pub legal_name: Name,
    pub trade_name: Option<Name>,
    pub registration_number: RegistrationNumber,
    pub tax_number: Ntn,
    pub registered_address: Address,
    pub contact_email: Email,
    /// E.164, or the national form of the registered address's country (`021 34567890`).
    #[schema(example = "+922134567890")]
    pub contact_phone: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    pub legal_name: Option<Name>,
    pub trade_name: Option<Name>,
    pub registration_number: Option<RegistrationNumber>,
    pub tax_number: Option<Ntn>,
    /// Replaces the whole address.
    pub registered_address: Option<Address>,
    pub contact_email: Option<Email>,
    pub contact_phone: Option<String>,
}

impl BodyRules for NewOrganisation {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        phone_rule(body)
    }
}

impl BodyRules for OrganisationPatch {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        phone_rule(body)
    }
}

/// `contact_phone` as sent, read in the country of the address sent with it. Without one (a
/// PATCH that keeps the stored address) only a number in international form can be judged
/// here; a national one is read in the stored country by [`update`]. Nor can it be judged
/// beside a country that is itself invalid, which is named already.
fn phone_rule(body: &serde_json::Value) -> Vec<FieldError> {
    let Some(raw) = body.get("contact_phone").and_then(serde_json::Value::as_str) else {
        return Vec::new();
    };
    let country = match body.pointer("/registered_address/country") {
        None => None,
        Some(c) => match c.as_str().map(Country::try_new) {
            Some(Ok(c)) => Some(c),
            _ => return Vec::new(),
        },
    };
    if country.is_none() && !raw.trim_start().starts_with('+') {
        return Vec::new();
    }
    match E164::try_new(raw, country) {
        Ok(_) => Vec::new(),
        Err(m) => vec![FieldError::new("contact_phone", m)],
    }
}

/// Operators see only their own organisations; staff see all.
impl Owned for OrgRow {
    type Key = str;
    const MISSING: &'static str = "no such organisation";

    fn find_visible(
        conn: &mut DbConn,
        who: &Principal,
        id: &str,
    ) -> Result<Option<Self>, AppError> {
        Ok(store::find(conn, id)?.filter(|o| !who.is(Role::Operator) || o.owner_id == who.id))
    }
}

impl Child<OrgRow> for PersonRow {
    const MISSING: &'static str = "no such person in this organisation";

    fn find_in(conn: &mut DbConn, org: &OrgRow, id: &str) -> Result<Option<Self>, AppError> {
        store::find_person(conn, &org.id.as_str().into(), &id.into())
    }
}

/// Whether `who` may see the organisation `id` (the owner rule, for records inside it).
pub fn can_see(conn: &mut DbConn, who: &Principal, id: &str) -> Result<bool, AppError> {
    visible::can_see::<OrgRow>(conn, who, id)
}

fn check_unique(
    conn: &mut DbConn,
    registration_number: Option<&str>,
    tax_number: Option<&str>,
    except: Option<&str>,
) -> Result<(), AppError> {
    if let Some(n) = registration_number {
        if store::id_by_registration_number(conn, n)?.is_some_and(|id| Some(id.as_str()) != except)
        {
            return Err(AppError::conflict(format!(
                "registration_number {n} is already registered"
            )));
        }
    }
    if let Some(n) = tax_number {
        if store::id_by_tax_number(conn, n)?.is_some_and(|id| Some(id.as_str()) != except) {
            return Err(AppError::conflict(format!("tax_number {n} is already registered")));
        }
    }
    Ok(())
}

fn phone(raw: &str, address_country: Country) -> Result<String, AppError> {
    Ok(E164::parse(raw, Some(address_country), "contact_phone")?.to_string())
}

#[tracing::instrument(skip_all, fields(owner = %owner.id), err)]
pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    owner: &Principal,
    new: NewOrganisation,
) -> Result<OrgRow, AppError> {
    let contact_phone = phone(&new.contact_phone, new.registered_address.country)?;
    check_unique(
        conn,
        Some(new.registration_number.as_str()),
        Some(new.tax_number.as_str()),
        None,
    )?;
    let row = OrgRow {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner.id.clone(),
        legal_name: new.legal_name.into_string(),
        trade_name: new.trade_name.map(Name::into_string),
        registration_number: new.registration_number.as_str().to_string(),
        tax_number: new.tax_number.as_str().to_string(),
        registered_address: StoredJson::new(new.registered_address)?,
        contact_email: new.contact_email.as_str().to_string(),
        contact_phone,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row)?;
    audit::record(conn, now, Some(&owner.id), &OrganisationEvent::Created(&row))?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(organisation = %org.id), err)]
pub fn update(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: Visible<OrgRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    patch: OrganisationPatch,
) -> Result<OrgRow, AppError> {
    let mut row = org.into_inner();
    check_version(row.version)?;
    check_unique(
        conn,
        patch.registration_number.as_ref().map(RegistrationNumber::as_str),
        patch.tax_number.as_ref().map(Ntn::as_str),
        Some(&row.id),
    )?;
    let expected = row.version;
    let changed = apply(&mut row, patch)?;
    row.version += 1;
    row.updated_at = now;
    let event = OrganisationEvent::Updated { id: &row.id, changed: &changed };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        expected,
        &event,
        |conn| store::update(conn, &row),
        |conn| store::find(conn, &row.id),
    )
}

/// Writes `patch` into `row`; returns the names of the fields it changed.
fn apply(row: &mut OrgRow, patch: OrganisationPatch) -> Result<Vec<&'static str>, AppError> {
    let mut changed = Vec::new();
    if let Some(v) = patch.legal_name {
        row.legal_name = v.into_string();
        changed.push("legal_name");
    }
    if let Some(v) = patch.trade_name {
        row.trade_name = Some(v.into_string());
        changed.push("trade_name");
    }
    if let Some(v) = patch.registration_number {
        row.registration_number = v.as_str().to_string();
        changed.push("registration_number");
    }
    if let Some(v) = patch.tax_number {
        row.tax_number = v.as_str().to_string();
        changed.push("tax_number");
    }
    if let Some(v) = patch.registered_address {
        row.registered_address = StoredJson::new(v)?;
        changed.push("registered_address");
    }
    if let Some(v) = patch.contact_email {
        row.contact_email = v.as_str().to_string();
        changed.push("contact_email");
    }
    if let Some(v) = patch.contact_phone {
        row.contact_phone = phone(&v, row.registered_address.country)?;
        changed.push("contact_phone");
    }
    Ok(changed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Director,
    BeneficialOwner,
    AuthorisedSignatory,
}

crate::stored_enum! {
    #[derive(ToSchema)]
    pub enum IdType in "people.id_type" {
        Cnic = "cnic",
        Passport = "passport",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    #[schema(example = "Imran Qureshi")]
    pub full_name: Name,
    /// One or more roles.
    #[schema(min_items = 1)]
    pub roles: Vec<PersonRole>,
    pub id_type: IdType,
    /// A CNIC is 13 digits, written `12345-1234567-1`; a passport number 5 to 20 letters and digits.
    #[schema(example = "12345-1234567-1")]
    #[serde(deserialize_with = "crate::domain::ids::identity_text")]
    pub id_number: String,
    pub nationality: Country,
    /// 0 to 100, at most two decimals; an organisation's total may not pass 100.
    #[schema(minimum = 0, maximum = 100, example = 40)]
    pub ownership_percent: Option<f64>,
}

impl BodyRules for NewPerson {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        let text = |k: &str| body.get(k).and_then(serde_json::Value::as_str);
        let mut errors = Vec::new();
        if let (Some(id_type), Some(raw)) =
            (text("id_type").and_then(IdType::parse), text("id_number"))
        {
            errors.extend(id_number(id_type, raw).err());
        }
        if let Some(p) = body.get("ownership_percent").and_then(serde_json::Value::as_f64) {
            errors.extend(basis_points(Some(p)).err());
        }
        errors
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Person {
    pub id: String,
    pub organisation_id: String,
    pub full_name: String,
    pub roles: Vec<PersonRole>,
    pub id_type: IdType,
    /// In full to the owner, regulators and admins; masked to inspectors (`***********67-1`).
    pub id_number: String,
    pub nationality: String,
    pub ownership_percent: f64,
    pub created_at: DateTime<Utc>,
}

impl Person {
    /// The person as `reader` may see it: the identity number in full or masked (API.md §16).
    /// The only way a `Person` is built, so no response can carry a number unmasked by mistake.
    pub fn for_reader(r: PersonRow, reader: &Principal) -> Self {
        Person {
            id: r.id,
            organisation_id: r.organisation_id,
            full_name: r.full_name,
            roles: r.roles.into_inner(),
            id_type: r.id_type,
            id_number: IdentityView::of(reader.role).show(r.id_number),
            nationality: r.nationality,
            ownership_percent: r.ownership_bp as f64 / 100.0,
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Ownership in hundredths of a percent, so totals add up exactly.
fn basis_points(percent: Option<f64>) -> Result<i32, FieldError> {
    let p = percent.unwrap_or(0.0);
    let bp = (p * 100.0).round();
    if !(0.0..=100.0).contains(&p) || (bp - p * 100.0).abs() > 1e-6 {
        return Err(FieldError::new(
            "ownership_percent",
            "must be 0 to 100 with at most two decimals",
        ));
    }
    Ok(bp as i32)
}

/// A CNIC or passport number in its stored form.
fn id_number(id_type: IdType, raw: &str) -> Result<String, FieldError> {
    match id_type {
        IdType::Cnic => crate::domain::Cnic::try_new(raw).map(|c| c.as_str().to_string()),
        IdType::Passport => crate::domain::ids::passport(raw),
    }
    .map_err(|m| FieldError::new("id_number", m))
}

#[tracing::instrument(skip_all, fields(organisation = %org.id), err)]
pub fn add_person(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: &Visible<OrgRow>,
    new: NewPerson,
) -> Result<PersonRow, AppError> {
    let (roles, id_number, bp) = checked_person(conn, &org.id, &new)?;
    if store::person_exists(conn, &org.id.as_str().into(), new.id_type, &id_number)? {
        // Never the number itself: error details carry no identity numbers (API.md §16).
        return Err(AppError::conflict(
            "this identity document is already recorded for this organisation",
        ));
    }
    let row = PersonRow {
        id: uuid::Uuid::now_v7().to_string(),
        organisation_id: org.id.clone(),
        full_name: new.full_name.into_string(),
        roles: StoredJson::new(roles)?,
        id_type: new.id_type,
        id_number,
        nationality: new.nationality.alpha2().to_string(),
        ownership_bp: bp,
        created_at: now,
    };
    store::insert_person(conn, &row)?;
    audit::record(conn, now, Some(&who.id), &OrganisationEvent::PersonAdded(&row))?;
    Ok(row)
}

/// The new person's roles, identity number in stored form and ownership in basis points, or
/// every field that is wrong. Locks the organisation's row (PostgreSQL) so concurrent
/// additions cannot pass 100 together.
fn checked_person(
    conn: &mut DbConn,
    org_id: &str,
    new: &NewPerson,
) -> Result<(Vec<PersonRole>, String, i32), AppError> {
    let mut roles = new.roles.clone();
    roles.dedup();
    let mut errors = Vec::new();
    if roles.is_empty() {
        errors.push(FieldError::new("roles", "name at least one role"));
    }
    let id_number = id_number(new.id_type, &new.id_number).map_err(|e| errors.push(e)).ok();
    let bp = basis_points(new.ownership_percent).map_err(|e| errors.push(e)).ok();
    store::lock(conn, org_id)?;
    let total = store::ownership_total(conn, org_id)?;
    if let Some(bp) = bp.filter(|bp| total + *bp as i64 > 10_000) {
        errors.push(FieldError::new(
            "ownership_percent",
            format!(
                "the organisation's owners would hold {:.2}% in all; the total may not pass 100",
                (total + bp as i64) as f64 / 100.0
            ),
        ));
    }
    match (id_number, bp, errors.is_empty()) {
        (Some(id_number), Some(bp), true) => Ok((roles, id_number, bp)),
        _ => Err(AppError::validation(errors)),
    }
}

#[tracing::instrument(skip_all, fields(organisation = %org.id, person = %person.id), err)]
pub fn remove_person(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    org: &Visible<OrgRow>,
    person: Visible<PersonRow>,
) -> Result<(), AppError> {
    let person_id = person.id.as_str();
    let documents = store::documents_of_person(conn, person_id)?;
    if !documents.is_empty() {
        return Err(AppError::conflict(format!(
            "the person's identity documents ({}) are on file; delete them first",
            documents.join(", ")
        )));
    }
    if store::delete_person(conn, &org.id.as_str().into(), &person_id.into())? == 0 {
        return Err(AppError::not_found("no such person in this organisation"));
    }
    let event = OrganisationEvent::PersonRemoved { id: person_id, organisation_id: &org.id };
    audit::record(conn, now, Some(&who.id), &event)?;
    Ok(())
}

/// An organisation's changes, and its people's, as the audit log records them.
enum OrganisationEvent<'a> {
    Created(&'a OrgRow),
    Updated { id: &'a str, changed: &'a [&'static str] },
    PersonAdded(&'a PersonRow),
    PersonRemoved { id: &'a str, organisation_id: &'a str },
}

impl audit::Event for OrganisationEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created(_) => "organisation.created",
            Self::Updated { .. } => "organisation.updated",
            Self::PersonAdded(_) => "person.added",
            Self::PersonRemoved { .. } => "person.removed",
        }
    }
    fn entity_type(&self) -> &'static str {
        match self {
            Self::Created(_) | Self::Updated { .. } => "organisation",
            Self::PersonAdded(_) | Self::PersonRemoved { .. } => "person",
        }
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created(row) => &row.id,
            Self::PersonAdded(row) => &row.id,
            Self::Updated { id, .. } | Self::PersonRemoved { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            // The registration and tax numbers are a company's public numbers, not a person's.
            Self::Created(r) => format!(
                "{} (registration {}, NTN {})",
                r.legal_name, r.registration_number, r.tax_number
            ),
            Self::Updated { changed, .. } => format!("changed {}", changed.join(", ")),
            Self::PersonAdded(r) => format!(
                "{} added to organisation {} as {}",
                r.full_name,
                r.organisation_id,
                r.roles.as_text()
            ),
            Self::PersonRemoved { organisation_id, .. } => {
                format!("removed from organisation {organisation_id}")
            }
        }
    }
}
