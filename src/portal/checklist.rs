//! An application as the regime's checklist (API.md §14), in order: the organisation, its
//! people, the sites, their numbers and IP ranges, each required document, submission, the
//! fee, each clearance, approval as a provisional licence, the pre-licence visit, in force.
//! Each item says whether it is done and, when not, what to do. The required documents are
//! [`crate::documents::requirements`], the list `/submit` itself checks.

use chrono::NaiveDateTime;

use crate::applications::store::ApplicationRow;
use crate::applications::Status;
use crate::auth::visible::resolve;
use crate::auth::Principal;
use crate::clearances::store::ClearanceRow;
use crate::clearances::ClearanceStatus;
use crate::db::DbConn;
use crate::documents::{DocumentKind, Requirement};
use crate::domain::LicenceStatus;
use crate::error::AppError;
use crate::invoices::{rupees, Invoice, InvoiceStatus};
use crate::licences::store::LicenceRow;
use crate::organisations::OrgRow;
use crate::sites::store::SiteRow;
use crate::sites::SiteStatus;

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Done,
    /// The operator has something to do.
    Missing,
    /// Someone else has something to do.
    Pending,
    /// Not reached yet.
    NotYet,
    Refused,
}

impl State {
    pub fn tag(self) -> (&'static str, &'static str) {
        match self {
            State::Done => ("Completed", "tag-done"),
            State::Missing => ("Missing", "tag-missing"),
            State::Pending => ("Pending", "tag-pending"),
            State::NotYet => ("Not yet", "tag-not-yet"),
            State::Refused => ("Refused", "tag-refused"),
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    pub state: State,
    pub detail: Option<String>,
    /// A link that does what is missing: (href, text).
    pub action: Option<(String, String)>,
}

impl Item {
    fn new(name: impl Into<String>, state: State) -> Item {
        Item { name: name.into(), state, detail: None, action: None }
    }

    fn detail(mut self, d: impl Into<String>) -> Item {
        self.detail = Some(d.into());
        self
    }

    fn action(mut self, href: impl Into<String>, text: impl Into<String>) -> Item {
        self.action = Some((href.into(), text.into()));
        self
    }
}

/// Everything the checklist is worked out from, read in one transaction.
pub struct Facts {
    pub app: ApplicationRow,
    pub org: OrgRow,
    pub people: i64,
    pub sites: Vec<SiteRow>,
    /// Per site of `sites`: whether it lists any number, any IP range.
    pub telephony: Vec<(bool, bool)>,
    pub requirements: Vec<Requirement>,
    pub invoice: Option<Invoice>,
    pub clearances: Vec<ClearanceRow>,
    pub licence: Option<LicenceRow>,
    /// Sites with a passed pre-licence visit.
    pub visited: Vec<String>,
    pub now: NaiveDateTime,
}

/// The facts of application `id`, as `who` may see it (another operator's is "no such").
pub fn facts(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    now: NaiveDateTime,
) -> Result<Facts, AppError> {
    let app = resolve::<ApplicationRow>(conn, who, id)?.into_inner();
    of(conn, app, now)
}

/// The facts of an application already resolved.
pub fn of(conn: &mut DbConn, app: ApplicationRow, now: NaiveDateTime) -> Result<Facts, AppError> {
    let org = crate::organisations::store::find(conn, &app.organisation_id)?
        .ok_or_else(|| AppError::internal("an application's organisation is missing"))?;
    let people = crate::organisations::store::count_people(conn, &org.id)?;
    let sites = crate::sites::store::find_many(conn, &app.site_ids)?;
    let mut telephony = Vec::new();
    for s in &sites {
        let numbers = !crate::telephony::store::list_numbers(conn, &s.id, None, 1)?.is_empty();
        let ranges = !crate::telephony::store::list_ip_ranges(conn, &s.id, None, 1)?.is_empty();
        telephony.push((numbers, ranges));
    }
    let requirements = crate::documents::requirements(conn, &org.id, &app.site_ids)?;
    let invoice = match &app.invoice_id {
        Some(id) => match crate::invoices::store::find(conn, id)? {
            Some(row) => {
                let payments = crate::invoices::store::payments_of(conn, std::slice::from_ref(id))?;
                Some(Invoice::view(row, payments)?)
            }
            None => None,
        },
        None => None,
    };
    let clearances = crate::clearances::store::for_application(conn, &app.id)?;
    let licence = match &app.licence_number {
        Some(n) => crate::licences::store::find(conn, n)?,
        None => None,
    };
    let since = now - chrono::Duration::days(crate::licences::PRE_LICENCE_VALID_DAYS);
    let visited = crate::inspections::store::passed_pre_licence(conn, &app.site_ids, since)?;
    Ok(Facts {
        app,
        org,
        people,
        sites,
        telephony,
        requirements,
        invoice,
        clearances,
        licence,
        visited,
        now,
    })
}

/// The name of a required document, by whom or where.
pub fn document_name(r: &Requirement) -> String {
    let what = match r.kind {
        DocumentKind::IncorporationCertificate => "Certificate of incorporation",
        DocumentKind::TaxCertificate => "Tax (NTN) certificate",
        DocumentKind::BankLetter => "Bank letter",
        DocumentKind::IdentityDocument => "Identity document",
        DocumentKind::PremisesProof => "Premises proof",
        _ => "Document",
    };
    match (&r.person, &r.site) {
        (Some((_, name)), _) => format!("{what} of {name}"),
        (_, Some((_, name))) => format!("{what} for {name}"),
        _ => what.to_string(),
    }
}

fn upload_link(f: &Facts, r: &Requirement) -> String {
    let mut href =
        format!("/portal/organisations/{}/documents/new?kind={}", f.org.id, r.kind.as_str());
    if let Some((id, _)) = &r.person {
        href.push_str(&format!("&person_id={id}"));
    }
    if let Some((id, _)) = &r.site {
        href.push_str(&format!("&site_id={id}"));
    }
    href
}

fn submitted(f: &Facts) -> bool {
    f.app.history.iter().any(|s| s.to == Status::Submitted.as_str())
}

/// The dossier's items: organisation, people, sites, numbers and ranges, documents.
fn dossier(f: &Facts, items: &mut Vec<Item>) {
    let org = format!("/portal/organisations/{}", f.org.id);
    items.push(
        Item::new("Organisation", State::Done)
            .detail(f.org.legal_name.clone())
            .action(org.clone(), "View"),
    );
    items.push(match f.people {
        0 => Item::new("People", State::Missing)
            .detail("Record at least one director, owner or signatory")
            .action(format!("{org}/people/new"), "Add a person"),
        n => Item::new("People", State::Done).detail(format!("{n} recorded")),
    });
    for s in &f.sites {
        let state = if s.status == SiteStatus::Active { State::Done } else { State::Missing };
        let detail = if state == State::Done {
            format!("{}, {} seats", s.address.city.as_str(), s.seat_count)
        } else {
            "closed: start a new application without it".into()
        };
        items.push(
            Item::new(format!("Site: {}", s.name), state)
                .detail(detail)
                .action(format!("/portal/sites/{}", s.id), "View"),
        );
    }
    for (s, (numbers, ranges)) in f.sites.iter().zip(&f.telephony) {
        let missing: Vec<&str> =
            [(!numbers).then_some("no numbers"), (!ranges).then_some("no IP ranges")]
                .into_iter()
                .flatten()
                .collect();
        let name = format!("Numbers and IP ranges: {}", s.name);
        items.push(if missing.is_empty() {
            Item::new(name, State::Done)
        } else {
            Item::new(name, State::Missing)
                .detail(missing.join(" and "))
                .action(format!("/portal/sites/{}", s.id), "Add them")
        });
    }
    for r in &f.requirements {
        items.push(if r.on_file {
            Item::new(document_name(r), State::Done)
        } else {
            Item::new(document_name(r), State::Missing).action(upload_link(f, r), "Upload")
        });
    }
}

/// The review's items: submitted, fee, clearances.
fn review(f: &Facts, items: &mut Vec<Item>) {
    let app = &f.app;
    let submit = format!("/portal/applications/{}/submit", app.id);
    items.push(match app.status {
        Status::Draft => Item::new("Submitted", State::NotYet).action(submit, "Check and submit"),
        Status::InfoRequested => Item::new("Submitted", State::Missing)
            .detail("The regulator asked for more information: make the changes and submit again")
            .action(submit, "Check and submit again"),
        Status::Withdrawn if !submitted(f) => {
            Item::new("Submitted", State::Refused).detail("withdrawn")
        }
        _ => Item::new("Submitted", State::Done),
    });
    items.push(match &f.invoice {
        None => {
            Item::new("Fee paid", State::NotYet).detail("The invoice is raised when you submit")
        }
        Some(i) if i.status == InvoiceStatus::Paid => {
            Item::new("Fee paid", State::Done).detail(format!("Rs {}", rupees(i.total_minor)))
        }
        Some(i) if i.status == InvoiceStatus::Void => {
            Item::new("Fee paid", State::Refused).detail("the invoice was voided")
        }
        Some(i) => Item::new("Fee paid", State::Missing).detail(format!(
            "Fee unpaid: Rs {} due by {} (invoice {})",
            rupees(i.total_minor - i.paid_minor),
            i.due_at.format("%-d %B %Y"),
            i.id
        )),
    });
    if f.clearances.is_empty() {
        items.push(
            Item::new("Clearances", State::NotYet)
                .detail("Requested from each agency when you submit"),
        );
    }
    for c in &f.clearances {
        let name = format!("Clearance: {}", c.agency.to_uppercase());
        items.push(match c.status {
            ClearanceStatus::Granted => Item::new(name, State::Done),
            ClearanceStatus::Pending => Item::new(name, State::Pending)
                .detail(format!("due by {}", c.due_by.format("%-d %B %Y"))),
            ClearanceStatus::Objected => Item::new(name, State::Refused)
                .detail(c.reason.clone().unwrap_or_else(|| "objected".into())),
        });
    }
}

/// The licence's items: approved as provisional, the pre-licence visit, in force.
fn licence(f: &Facts, items: &mut Vec<Item>) {
    let status = f.licence.as_ref().map(|l| crate::licences::effective_status(l, f.now));
    items.push(match (&f.licence, f.app.status) {
        (Some(l), _) => Item::new("Approved as a provisional licence", State::Done)
            .detail(format!("Provisional licence {}", l.licence_number)),
        (None, Status::Rejected) => {
            Item::new("Approved as a provisional licence", State::Refused).detail("rejected")
        }
        _ => Item::new("Approved as a provisional licence", State::NotYet),
    });
    let all_visited =
        !f.app.site_ids.is_empty() && f.app.site_ids.iter().all(|s| f.visited.contains(s));
    let visit = "Pre-licence visit";
    items.push(match (&f.licence, all_visited || status == Some(LicenceStatus::Active)) {
        (_, true) if f.licence.is_some() => Item::new(visit, State::Done),
        (Some(_), _) => {
            Item::new(visit, State::Pending).detail("Awaited: an inspector will visit each site")
        }
        _ => Item::new(visit, State::NotYet),
    });
    items.push(match status {
        Some(LicenceStatus::Active) => Item::new("In force", State::Done).detail("active"),
        Some(LicenceStatus::Provisional) | None => Item::new("In force", State::NotYet),
        Some(other) => Item::new("In force", State::Refused).detail(other.as_str().to_string()),
    });
}

/// The checklist, in the regime's order.
pub fn items(f: &Facts) -> Vec<Item> {
    let mut items = Vec::new();
    dossier(f, &mut items);
    review(f, &mut items);
    licence(f, &mut items);
    items
}

/// What to do next, in a sentence or a few.
pub fn next_steps(f: &Facts, items: &[Item]) -> Vec<String> {
    let pending = f.clearances.iter().filter(|c| c.status == ClearanceStatus::Pending).count();
    let missing = items.iter().filter(|i| i.state == State::Missing).count();
    let mut next = Vec::new();
    match f.app.status {
        Status::Draft | Status::InfoRequested if missing > 0 => next.push(format!(
            "{missing} {} missing: complete {} below, then submit.",
            plural(missing, "item is", "items are"),
            plural(missing, "it", "them")
        )),
        Status::Draft => next.push("Everything is ready: check your answers and submit.".into()),
        Status::InfoRequested => {
            next.push("Make the changes the regulator asked for, then submit again.".into())
        }
        Status::Submitted => {
            if let Some(i) = f.invoice.as_ref().filter(|i| i.status == InvoiceStatus::Open) {
                next.push(format!(
                    "Fee unpaid: pay Rs {} (invoice {}).",
                    rupees(i.total_minor - i.paid_minor),
                    i.id
                ));
            }
            if pending > 0 {
                next.push(format!(
                    "{pending} {} pending.",
                    plural(pending, "clearance", "clearances")
                ));
            }
            next.push(
                "The regulator decides once the fee is paid and every clearance granted.".into(),
            );
        }
        Status::Approved => {
            match f.licence.as_ref().map(|l| crate::licences::effective_status(l, f.now)) {
                Some(LicenceStatus::Provisional) => next.push(
                    "Provisional licence: a pre-licence visit of each site is awaited.".into(),
                ),
                Some(LicenceStatus::Active) => next.push("Your licence is in force.".into()),
                Some(other) => next.push(format!("Your licence is {}.", other.as_str())),
                None => {}
            }
        }
        Status::Rejected => next.push("The application was rejected.".into()),
        Status::Withdrawn => next.push("The application was withdrawn.".into()),
    }
    next
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}
