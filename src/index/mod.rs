//! The verification index: everything the §7 answers, the public checks and the bulk endpoint
//! need, kept in memory so that a question costs no database trip.
//!
//! - Loaded whole at start ([`load::all`]), before the server listens.
//! - Kept current by [`follow::Follower`], which follows the audit log (every change appends
//!   an entry in its own transaction, and appends are serialised in commit order, so the
//!   sequence has no gaps): each entry names the organisation, site, licence or range it
//!   touched, and the follower reloads exactly that entity from the database.
//! - Derived statuses (`expired`, `lapsed`) are not stored here: [`crate::verify::answer`]
//!   computes them at answer time from the injected clock.
//!
//! The database lookup in [`crate::verify::lookup`] stays as the oracle the differential test
//! checks this index against.

pub mod follow;
pub mod load;
pub mod ranges;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use crate::domain::record_id::{OrganisationId, SiteId};
use crate::error::AppError;
use crate::licences::LicenceStatus;
use crate::verify::{
    answer, best, Answer, AnswerView, Facts, LicenceFacts, OrgFacts, Parsed, QueryType, SiteFacts,
};

/// An organisation, as verification sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub legal_name: Box<str>,
    pub registration_number: Box<str>,
    pub tax_number: Box<str>,
    /// Numbers of the licences it holds.
    pub licences: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Licence {
    pub organisation_id: Box<str>,
    pub holder: Box<str>,
    pub status: LicenceStatus,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub provisional_until: Option<NaiveDateTime>,
    /// The sites it covers.
    pub sites: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Shared with the organisation's key.
    pub organisation_id: Arc<str>,
    pub name: Box<str>,
    /// Interned: a few dozen cities serve 100,000 sites.
    pub city: Arc<str>,
    pub open: bool,
    /// Numbers of the licences that cover it (shared with the licences' keys).
    pub licences: Vec<Arc<str>>,
}

use ranges::{id_halves, Entry, RangeSet};

/// The index's maps hash with foldhash (randomly seeded per map, so keys an operator chooses
/// cannot be made to collide in advance): several times cheaper than the standard SipHash on
/// the short keys every verification looks up.
type Hasher = foldhash::quality::RandomState;
pub type Map<K, V> = HashMap<K, V, Hasher>;

/// The registry as verification sees it. Sites are numbered in the order they were first
/// seen so ranges refer to them with four bytes; a site is never removed (sites close).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Registry {
    pub orgs: Map<Arc<str>, Org>,
    pub org_by_registration: Map<Box<str>, Box<str>>,
    pub org_by_tax: Map<Box<str>, Box<str>>,
    pub licences: Map<Arc<str>, Licence>,
    pub cities: HashSet<Arc<str>, Hasher>,
    pub sites: Vec<Site>,
    /// Site id (as [`site_key`]) → its slot in `sites`.
    pub site_ix: Map<u128, u32>,
    /// Registered numbers and number ranges.
    pub numbers: RangeSet<i64>,
    /// CIDR ranges, keyed by (family, address).
    pub ips: RangeSet<(u8, u128)>,
}

impl Registry {
    fn licence_facts<'a>(&'a self, number: &'a str) -> Option<LicenceFacts<'a>> {
        self.licences.get(number).map(|l| LicenceFacts {
            number,
            holder: &l.holder,
            status: l.status,
            issued_at: l.issued_at,
            expires_at: l.expires_at,
            provisional_until: l.provisional_until,
        })
    }

    fn org_facts(&self, id: &str) -> Option<OrgFacts<'_>> {
        self.orgs.get(id).map(|o| OrgFacts {
            legal_name: &o.legal_name,
            registration_number: &o.registration_number,
        })
    }

    fn site_facts(&self, ix: u32, now: NaiveDateTime) -> Option<Facts<'_>> {
        let site = self.sites.get(ix as usize)?;
        Some(Facts {
            org: self.org_facts(&site.organisation_id),
            licence: best(site.licences.iter().filter_map(|n| self.licence_facts(n)), now),
            site: Some(SiteFacts { name: &site.name, city: &site.city, open: site.open }),
        })
    }

    fn company_facts(&self, org_id: &str, now: NaiveDateTime) -> Option<Facts<'_>> {
        let org = self.orgs.get(org_id)?;
        Some(Facts {
            org: self.org_facts(org_id),
            licence: best(org.licences.iter().filter_map(|n| self.licence_facts(n)), now),
            site: None,
        })
    }

    /// The site of the range holding `number`: the range with the greatest first number not
    /// above it, if it reaches that far (ranges never overlap).
    pub fn number_site(&self, number: i64) -> Option<u32> {
        self.numbers.holding(number).map(|r| r.site)
    }

    pub fn ip_site(&self, family: u8, key: u128) -> Option<u32> {
        self.ips.holding((family, key)).map(|r| r.site)
    }

    /// What the registry knows of a question, if anything.
    fn facts(&self, p: &Parsed, now: NaiveDateTime) -> Option<Facts<'_>> {
        match p {
            Parsed::Licence(n) => {
                self.licences.get_key_value(n.as_str()).map(|(number, l)| Facts {
                    org: self.org_facts(&l.organisation_id),
                    licence: self.licence_facts(number),
                    site: None,
                })
            }
            Parsed::Number(n) => self.number_site(n.value()).and_then(|s| self.site_facts(s, now)),
            Parsed::Ip(f, k) => u128::from_str_radix(k, 16)
                .ok()
                .and_then(|k| self.ip_site(*f as u8, k))
                .and_then(|s| self.site_facts(s, now)),
            Parsed::RegistrationNumber(r) => {
                self.org_by_registration.get(r.as_str()).and_then(|id| self.company_facts(id, now))
            }
            Parsed::TaxNumber(t) => {
                self.org_by_tax.get(t.as_str()).and_then(|id| self.company_facts(id, now))
            }
        }
    }

    /// One answer, exactly as [`crate::verify::lookup::answer_all`] gives it.
    pub fn answer(&self, raw: &str, t: QueryType, p: &Parsed, now: NaiveDateTime) -> Answer {
        answer(raw, t, self.facts(p, now), now)
    }

    /// The same answer, borrowing its text from the index (for writing out at once).
    pub fn view<'a>(
        &'a self,
        raw: &'a str,
        t: QueryType,
        p: &Parsed,
        now: NaiveDateTime,
    ) -> AnswerView<'a> {
        crate::verify::view(raw, t, self.facts(p, now), now)
    }

    /// Interns a site id, giving its slot (a placeholder until the site itself is loaded).
    fn site_slot(&mut self, id: &str) -> u32 {
        let key = site_key(id);
        if let Some(ix) = self.site_ix.get(&key) {
            return *ix;
        }
        let ix = self.sites.len() as u32;
        self.sites.push(Site {
            organisation_id: Arc::from(""),
            name: "".into(),
            city: Arc::from(""),
            open: false,
            licences: Vec::new(),
        });
        self.site_ix.insert(key, ix);
        ix
    }

    /// The organisation's id as the map holds it (shared, not copied), or a new one.
    fn org_key(&self, id: &str) -> Arc<str> {
        self.orgs.get_key_value(id).map(|(k, _)| k.clone()).unwrap_or_else(|| Arc::from(id))
    }

    fn city(&mut self, city: &str) -> Arc<str> {
        if let Some(k) = self.cities.get(city) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(city);
        self.cities.insert(k.clone());
        k
    }

    /// Drops the registration and tax numbers `old` had from the lookups, where they still
    /// lead to `id`: in a batch of changes another organisation may already have taken a
    /// number this one gave up, and that mapping stays.
    fn unmap_org(&mut self, id: &str, old: &Org) {
        if self.org_by_registration.get(&old.registration_number).is_some_and(|o| &**o == id) {
            self.org_by_registration.remove(&old.registration_number);
        }
        if self.org_by_tax.get(&old.tax_number).is_some_and(|o| &**o == id) {
            self.org_by_tax.remove(&old.tax_number);
        }
    }

    /// Puts an organisation as stored (keeping the licences it holds).
    pub fn put_org(&mut self, id: &str, legal_name: &str, registration: &str, tax: &str) {
        let (key, licences) = match self.orgs.remove_entry(id) {
            Some((key, old)) => {
                self.unmap_org(id, &old);
                (key, old.licences)
            }
            None => (Arc::from(id), Vec::new()),
        };
        self.org_by_registration.insert(registration.into(), id.into());
        self.org_by_tax.insert(tax.into(), id.into());
        self.orgs.insert(
            key,
            Org {
                legal_name: legal_name.into(),
                registration_number: registration.into(),
                tax_number: tax.into(),
                licences,
            },
        );
    }

    pub fn remove_org(&mut self, id: &str) {
        if let Some(old) = self.orgs.remove(id) {
            self.unmap_org(id, &old);
        }
    }

    /// Puts a site as stored (keeping the licences that cover it).
    pub fn put_site(
        &mut self,
        id: &SiteId,
        organisation_id: &OrganisationId,
        name: &str,
        city: &str,
        open: bool,
    ) {
        let ix = self.site_slot(id.as_str()) as usize;
        let org = self.org_key(organisation_id.as_str());
        let city = self.city(city);
        let site = &mut self.sites[ix];
        site.organisation_id = org;
        site.name = name.into();
        site.city = city;
        site.open = open;
    }

    /// Puts a licence as stored, with the sites it covers.
    pub fn put_licence(&mut self, number: &str, licence: Licence) {
        self.remove_licence(number);
        let key: Arc<str> = Arc::from(number);
        for &s in &licence.sites {
            if let Some(site) = self.sites.get_mut(s as usize) {
                site.licences.push(key.clone());
            }
        }
        if let Some(org) = self.orgs.get_mut(&*licence.organisation_id) {
            org.licences.push(key.clone());
        }
        self.licences.insert(key, licence);
    }

    pub fn remove_licence(&mut self, number: &str) {
        let Some(old) = self.licences.remove(number) else { return };
        for &s in &old.sites {
            if let Some(site) = self.sites.get_mut(s as usize) {
                site.licences.retain(|n| &**n != number);
            }
        }
        if let Some(org) = self.orgs.get_mut(&*old.organisation_id) {
            org.licences.retain(|n| &**n != number);
        }
    }

    /// Puts a registered range (ranges are never edited, only registered and removed);
    /// `loading` while the index is first built.
    pub fn put_number_range(
        &mut self,
        id: u128,
        site_id: &str,
        first: i64,
        last: i64,
        loading: bool,
    ) {
        let site = self.site_slot(site_id);
        let e = Entry::new(first, last, site, id_halves(id));
        if loading {
            self.numbers.load(e)
        } else {
            self.numbers.insert(e)
        }
    }

    pub fn put_ip_range(
        &mut self,
        id: u128,
        site_id: &str,
        family: u8,
        (first, last): (u128, u128),
        loading: bool,
    ) {
        let site = self.site_slot(site_id);
        let e = Entry::new((family, first), (family, last), site, id_halves(id));
        if loading {
            self.ips.load(e)
        } else {
            self.ips.insert(e)
        }
    }

    /// Ends the first build.
    pub fn finish_load(&mut self) {
        self.numbers.finish_load();
        self.ips.finish_load();
    }

    /// Counts, for logs and metrics.
    pub fn sizes(&self) -> (usize, usize, usize, usize) {
        (
            self.orgs.len(),
            self.sites.len(),
            self.licences.len(),
            self.numbers.len() + self.ips.len(),
        )
    }
}

/// The shared index: many readers, one writer (the follower).
#[derive(Debug, Default)]
pub struct Index {
    registry: RwLock<Registry>,
    /// Why the follower could not apply the latest changes, while it cannot: answers are
    /// refused (503) rather than given from a registry known to be behind.
    behind: RwLock<Option<String>>,
}

impl Index {
    pub fn new(registry: Registry) -> Self {
        Index { registry: RwLock::new(registry), behind: RwLock::new(None) }
    }

    /// 503 while the index is known to be behind the database (see `set_behind`).
    pub fn ensure_current(&self) -> Result<(), AppError> {
        match self.behind.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(why) => Err(AppError::unavailable(format!(
                "the verification index cannot be brought up to date ({why}); \
                 answers resume when it can"
            ))),
            None => Ok(()),
        }
    }

    /// Answers every question from memory, in order; 503 while the index is known to be
    /// behind the database.
    pub fn answer_all(
        &self,
        queries: &[(String, QueryType, Parsed)],
        now: NaiveDateTime,
    ) -> Result<Vec<Answer>, AppError> {
        let r = self.current()?;
        Ok(queries.iter().map(|(raw, t, p)| r.answer(raw, *t, p, now)).collect())
    }

    /// The registry, read for answering; 503 while the index is known to be behind.
    pub fn current(&self) -> Result<std::sync::RwLockReadGuard<'_, Registry>, AppError> {
        self.ensure_current()?;
        Ok(self.read())
    }

    /// Marks the index behind (`Some(reason)`) or current again (`None`).
    pub fn set_behind(&self, why: Option<String>) {
        *self.behind.write().unwrap_or_else(|p| p.into_inner()) = why;
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the whole registry (a full reload).
    pub fn replace(&self, registry: Registry) {
        *self.write() = registry;
    }
}

/// The key of a stored site id: the UUID's bits, or (should a stored id not be a UUID) the
/// first 128 bits of its SHA-256.
pub fn site_key(id: &str) -> u128 {
    id_bits(id).unwrap_or_else(|_| {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(id.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        u128::from_be_bytes(bytes)
    })
}

/// A stored UUID as the 128-bit number the index keys ranges by.
pub fn id_bits(id: &str) -> Result<u128, String> {
    uuid::Uuid::parse_str(id)
        .map(|u| u.as_u128())
        .map_err(|_| format!("stored id {id:?} is not a UUID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One batch of changes: `a` gives up its registration and tax numbers and `b` takes them.
    /// The follower applies a batch's organisations in no particular order; either way the
    /// numbers must lead to `b`, and `a`'s new ones to `a`.
    #[test]
    fn numbers_given_up_and_taken_in_one_batch_lead_to_their_new_holder() {
        for a_first in [true, false] {
            let mut r = Registry::default();
            r.put_org("a", "A Ltd", "R1", "1000001-1");
            let mut batch = vec![("a", "R2", "1000002-2"), ("b", "R1", "1000001-1")];
            if !a_first {
                batch.reverse();
            }
            for (id, reg, tax) in batch {
                r.put_org(id, id, reg, tax);
            }
            let mapped = |m: &Map<Box<str>, Box<str>>, k: &str| m.get(k).map(|v| v.to_string());
            assert_eq!(mapped(&r.org_by_registration, "R1").as_deref(), Some("b"), "{a_first}");
            assert_eq!(mapped(&r.org_by_tax, "1000001-1").as_deref(), Some("b"), "{a_first}");
            assert_eq!(mapped(&r.org_by_registration, "R2").as_deref(), Some("a"), "{a_first}");
            assert_eq!(mapped(&r.org_by_tax, "1000002-2").as_deref(), Some("a"), "{a_first}");
            r.remove_org("a");
            assert_eq!(mapped(&r.org_by_registration, "R1").as_deref(), Some("b"));
            assert_eq!(mapped(&r.org_by_registration, "R2"), None);
        }
    }
}
