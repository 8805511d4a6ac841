//! The verification index (src/index): its answers against the database lookup it replaced
//! (the oracle), read-your-writes and revocation in one process, and two processes on one
//! database following each other's changes through the audit log.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use ccreg::auth::cache::TokenCache;
use ccreg::clock::{db_now, Clock};
use ccreg::db::Db;
use ccreg::domain::licence_number::check_digits;
use ccreg::index::follow::Follower;
use ccreg::verify::{lookup, parse, Parsed, QueryType};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use ipnet::IpNet;
use rand::distributions::WeightedIndex;
use rand::prelude::Distribution;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{address, organisation_body, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use crate::integrity::serve_with_keys;
use crate::licensing::{act, in_status, operator, pay_and_clear, pre_licence, Operator};

/// A poll interval no test waits out: only the catch-up after a write can bring a change in.
const NO_POLLING_MS: u64 = 3_600_000;

// ---------------------------------------------------------------------------------------------
// 1. The differential test
// ---------------------------------------------------------------------------------------------

const SEED: u64 = 0xcc2e_91de;
const ROUNDS: usize = 8;
const OPS_PER_ROUND: usize = 250;
/// Numbers are drawn from +922134000000 .. +922134199999, so ranges meet and overlap.
const NUMBER_BASE: i64 = 922_134_000_000;
const NUMBER_SPACE: i64 = 200_000;
/// Registration and tax numbers come from a small pool, so they are released and taken again.
const POOL: u32 = 60;
const PLAIN_OPERATORS: usize = 3;
const MAX_LICENCES: usize = 16;
const CITIES: [&str; 5] = ["Karachi", "Lahore", "Islamabad", "Multan", "Peshawar"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    CreateOrg,
    PatchOrg,
    CreateSite,
    PatchSite,
    CloseSite,
    Number,
    Range,
    DeleteNumber,
    Ipv4,
    Ipv6,
    DeleteIp,
    Lifecycle,
    Issue,
    Renew,
    Inspect,
    Advance,
}

/// How often each operation is drawn (per mille, roughly).
const OPS: [(Op, u32); 16] = [
    (Op::CreateOrg, 30),
    (Op::PatchOrg, 40),
    (Op::CreateSite, 50),
    (Op::PatchSite, 15),
    (Op::CloseSite, 12),
    (Op::Number, 150),
    (Op::Range, 140),
    (Op::DeleteNumber, 80),
    (Op::Ipv4, 110),
    (Op::Ipv6, 70),
    (Op::DeleteIp, 60),
    (Op::Lifecycle, 60),
    (Op::Issue, 2),
    (Op::Renew, 1),
    (Op::Inspect, 2),
    (Op::Advance, 5),
];

/// A signed-in user, signed in again when its token is near its end on the test clock.
struct Account {
    email: String,
    password: String,
    token: String,
    minted: DateTime<Utc>,
}

struct Org {
    id: String,
    owner: usize,
    /// Made by `licensing::operator`: it has a person and the documents `/submit` needs.
    licensable: bool,
    /// One of its licences was revoked, so its director is barred (approval would need an
    /// override): no more applications for it.
    barred: bool,
    reg: String,
    tax: String,
    sites: Vec<usize>,
}

struct Site {
    id: String,
    org: usize,
    open: bool,
    premises_filed: bool,
}

struct Numbers {
    id: String,
    site: usize,
    first: i64,
    last: i64,
}

struct Ips {
    id: String,
    site: usize,
    net: IpNet,
}

struct Licence {
    number: String,
    org: usize,
    site: usize,
    suspended: bool,
    /// Revoked or surrendered.
    ended: bool,
}

/// The registry as the test built it: what to act on next and what to ask about.
struct World<'a> {
    app: &'a TestApp,
    rng: StdRng,
    /// 0 is the regulator; then operators.
    accounts: Vec<Account>,
    orgs: Vec<Org>,
    sites: Vec<Site>,
    numbers: Vec<Numbers>,
    removed_numbers: Vec<(i64, i64)>,
    ips: Vec<Ips>,
    removed_ips: Vec<IpNet>,
    licences: Vec<Licence>,
    released_regs: Vec<String>,
    released_taxes: Vec<String>,
    /// Every registration and tax number ever held.
    regs: BTreeSet<String>,
    taxes: BTreeSet<String>,
    next_licensable: usize,
    agency: (String, String),
    /// (op, status) → count.
    stats: BTreeMap<(Op, u16), u32>,
    log: Vec<String>,
    round: usize,
}

const REGULATOR: usize = 0;

fn number_text(n: i64) -> String {
    format!("+{n}")
}

fn id_of(r: &crate::helpers::Resp) -> String {
    r.body["id"].as_str().unwrap().to_string()
}

impl<'a> World<'a> {
    async fn new(app: &'a TestApp) -> World<'a> {
        let now = Clock::now(&app.clock);
        let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
        let mut accounts = vec![Account {
            email: "reg@pta.gov.pk".into(),
            password: PASSWORD.into(),
            token: regulator,
            minted: now,
        }];
        for i in 0..PLAIN_OPERATORS {
            let email = format!("plain{i}@example.pk");
            let token = app.operator_token(&email).await;
            accounts.push(Account { email, password: PASSWORD.into(), token, minted: now });
        }
        let admin = app.admin_token().await;
        let c = app
            .post("/api/v1/agency-clients")
            .token(&admin)
            .json(&json!({"name": "Differential desk", "agency": "Test Bank"}))
            .send()
            .await
            .expect(201);
        let agency = (
            c.body["client_id"].as_str().unwrap().to_string(),
            c.body["client_secret"].as_str().unwrap().to_string(),
        );
        World {
            app,
            rng: StdRng::seed_from_u64(SEED),
            accounts,
            orgs: Vec::new(),
            sites: Vec::new(),
            numbers: Vec::new(),
            removed_numbers: Vec::new(),
            ips: Vec::new(),
            removed_ips: Vec::new(),
            licences: Vec::new(),
            released_regs: Vec::new(),
            released_taxes: Vec::new(),
            regs: BTreeSet::new(),
            taxes: BTreeSet::new(),
            next_licensable: 1,
            agency,
            stats: BTreeMap::new(),
            log: Vec::new(),
            round: 0,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        Clock::now(&self.app.clock)
    }

    /// A current token of account `who` (access tokens live 15 minutes of the test clock).
    async fn token(&mut self, who: usize) -> String {
        let now = self.now();
        let a = &mut self.accounts[who];
        if now - a.minted > Duration::minutes(10) {
            a.token = self.app.login(&a.email, &a.password).await;
            a.minted = now;
        }
        a.token.clone()
    }

    async fn agency_token(&self) -> String {
        let t = self
            .app
            .post("/api/v1/auth/token")
            .json(&json!({"grant_type": "client_credentials", "client_id": self.agency.0,
                          "client_secret": self.agency.1}))
            .send()
            .await
            .expect(200);
        t.body["access_token"].as_str().unwrap().to_string()
    }

    fn record(&mut self, op: Op, status: u16, what: String) {
        *self.stats.entry((op, status)).or_default() += 1;
        let n = self.log.len();
        self.log.push(format!("[round {} #{n}] {what} -> {status}", self.round));
    }

    fn pool_reg(&mut self) -> String {
        if !self.released_regs.is_empty() && self.rng.gen_bool(0.5) {
            let i = self.rng.gen_range(0..self.released_regs.len());
            return self.released_regs[i].clone();
        }
        format!("R{:04}", self.rng.gen_range(0..POOL))
    }

    fn pool_tax(&mut self) -> String {
        if !self.released_taxes.is_empty() && self.rng.gen_bool(0.5) {
            let i = self.rng.gen_range(0..self.released_taxes.len());
            return self.released_taxes[i].clone();
        }
        let k = self.rng.gen_range(0..POOL);
        format!("{:07}-{}", 3_000_000 + k, k % 10)
    }

    /// A site to register to: half the time one a licence covers.
    fn some_site(&mut self) -> Option<usize> {
        if !self.licences.is_empty() && self.rng.gen_bool(0.5) {
            let l = self.rng.gen_range(0..self.licences.len());
            return Some(self.licences[l].site);
        }
        (!self.sites.is_empty()).then(|| self.rng.gen_range(0..self.sites.len()))
    }

    fn owner_of_site(&self, site: usize) -> usize {
        self.orgs[self.sites[site].org].owner
    }

    async fn step(&mut self) {
        let weights = WeightedIndex::new(OPS.iter().map(|(_, w)| *w)).unwrap();
        let mut op = OPS[weights.sample(&mut self.rng)].0;
        // Nothing to act on yet: build first.
        if self.orgs.len() < 3 {
            op = Op::CreateOrg;
        } else if self.sites.len() < 3 {
            op = Op::CreateSite;
        }
        match op {
            Op::CreateOrg => self.create_org().await,
            Op::PatchOrg => self.patch_org().await,
            Op::CreateSite => self.create_site().await,
            Op::PatchSite => self.patch_site(false).await,
            Op::CloseSite => self.patch_site(true).await,
            Op::Number | Op::Range => self.register_numbers(op == Op::Range).await,
            Op::DeleteNumber => self.delete_numbers().await,
            Op::Ipv4 | Op::Ipv6 => self.register_ip(op == Op::Ipv4).await,
            Op::DeleteIp => self.delete_ip().await,
            Op::Lifecycle => self.lifecycle().await,
            Op::Issue => {
                let inspected = self.rng.gen_bool(0.5);
                self.issue(inspected).await
            }
            Op::Renew => self.renew().await,
            Op::Inspect => self.inspect().await,
            Op::Advance => {
                let by = if self.rng.gen_bool(0.5) {
                    Duration::minutes(self.rng.gen_range(1..600))
                } else {
                    Duration::days(self.rng.gen_range(1..=30))
                };
                self.advance(by);
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.app.clock.advance(by);
        let now = self.now();
        self.record(Op::Advance, 0, format!("clock advanced by {by} to {now}"));
    }

    async fn create_org(&mut self) {
        let owner = 1 + self.rng.gen_range(0..PLAIN_OPERATORS);
        let (reg, tax) = (self.pool_reg(), self.pool_tax());
        let token = self.token(owner).await;
        let mut body = organisation_body(&reg, &tax);
        body["legal_name"] = json!(format!("Contact Centre {} (Private) Limited", self.orgs.len()));
        let r = self.app.post("/api/v1/organisations").token(&token).json(&body).send().await;
        let status = r.status.as_u16();
        assert!([201, 409].contains(&status), "create organisation: {}", r.text);
        let mut what = format!("create organisation reg {reg} tax {tax}");
        if status == 201 {
            let id = id_of(&r);
            what = format!("{what} = {id}");
            self.released_regs.retain(|x| *x != reg);
            self.released_taxes.retain(|x| *x != tax);
            self.regs.insert(reg.clone());
            self.taxes.insert(tax.clone());
            self.orgs.push(Org {
                id,
                owner,
                licensable: false,
                barred: false,
                reg,
                tax,
                sites: Vec::new(),
            });
        }
        self.record(Op::CreateOrg, status, what);
    }

    async fn patch_org(&mut self) {
        let o = self.rng.gen_range(0..self.orgs.len());
        let token = self.token(self.orgs[o].owner).await;
        let path = format!("/api/v1/organisations/{}", self.orgs[o].id);
        let etag = self.app.get(&path).token(&token).send().await.expect(200);
        let etag = etag.header("etag").unwrap();
        let was = format!("reg {}, tax {}", self.orgs[o].reg, self.orgs[o].tax);
        let pick = self.rng.gen_range(0..10);
        let body = if pick < 5 {
            json!({"registration_number": self.pool_reg()})
        } else if pick < 8 {
            json!({"tax_number": self.pool_tax()})
        } else {
            json!({"legal_name": format!("Renamed Centre {} (Private) Limited", self.log.len())})
        };
        let r =
            self.app.patch(&path).token(&token).header("if-match", &etag).json(&body).send().await;
        let status = r.status.as_u16();
        assert!([200, 409].contains(&status), "patch organisation {body}: {}", r.text);
        if status == 200 {
            let (reg, tax) = (
                r.body["registration_number"].as_str().unwrap().to_string(),
                r.body["tax_number"].as_str().unwrap().to_string(),
            );
            let org = &mut self.orgs[o];
            if org.reg != reg {
                self.released_regs.push(std::mem::replace(&mut org.reg, reg.clone()));
                self.released_regs.retain(|x| *x != reg);
            }
            if org.tax != tax {
                self.released_taxes.push(std::mem::replace(&mut org.tax, tax.clone()));
                self.released_taxes.retain(|x| *x != tax);
            }
            self.regs.insert(reg);
            self.taxes.insert(tax);
        }
        let what = format!("patch organisation {} ({was}) with {body}", self.orgs[o].id);
        self.record(Op::PatchOrg, status, what);
    }

    async fn create_site(&mut self) {
        let o = self.rng.gen_range(0..self.orgs.len());
        let token = self.token(self.orgs[o].owner).await;
        let city = *CITIES.choose(&mut self.rng).unwrap();
        let id = self.app.site(&token, &self.orgs[o].id, city).await;
        let what = format!("create site {id} in {city} for organisation {}", self.orgs[o].id);
        self.orgs[o].sites.push(self.sites.len());
        self.sites.push(Site { id, org: o, open: true, premises_filed: false });
        self.record(Op::CreateSite, 201, what);
    }

    async fn patch_site(&mut self, close: bool) {
        let open: Vec<usize> = (0..self.sites.len()).filter(|s| self.sites[*s].open).collect();
        let Some(&s) = open.choose(&mut self.rng) else { return };
        let token = self.token(self.owner_of_site(s)).await;
        let path = format!("/api/v1/sites/{}", self.sites[s].id);
        let etag = self.app.get(&path).token(&token).send().await.expect(200);
        let etag = etag.header("etag").unwrap();
        let body = if close {
            json!({"status": "closed"})
        } else if self.rng.gen_bool(0.5) {
            json!({"name": format!("Floor {} centre", self.log.len())})
        } else {
            json!({"address": address(CITIES.choose(&mut self.rng).unwrap())})
        };
        let r = self
            .app
            .patch(&path)
            .token(&token)
            .header("if-match", &etag)
            .json(&body)
            .send()
            .await
            .expect(200);
        if close {
            self.sites[s].open = false;
        }
        let what = format!("patch site {} with {body}", self.sites[s].id);
        self.record(if close { Op::CloseSite } else { Op::PatchSite }, r.status.as_u16(), what);
    }

    async fn register_numbers(&mut self, range: bool) {
        let Some(s) = self.some_site() else { return };
        let first = NUMBER_BASE + self.rng.gen_range(0..NUMBER_SPACE);
        let len: i64 = if !range {
            1
        } else {
            match self.rng.gen_range(0..10) {
                0..=4 => self.rng.gen_range(2..50),
                5..=8 => self.rng.gen_range(50..500),
                _ => self.rng.gen_range(500..3000),
            }
        };
        let last = first + len - 1;
        let body = if range {
            json!({"kind": "range", "first": number_text(first), "last": number_text(last),
                   "purpose": "both"})
        } else {
            json!({"kind": "number", "e164": number_text(first), "purpose": "inbound"})
        };
        let token = self.token(self.owner_of_site(s)).await;
        let site_id = self.sites[s].id.clone();
        let r = self
            .app
            .post(&format!("/api/v1/sites/{site_id}/numbers"))
            .token(&token)
            .json(&body)
            .send()
            .await;
        let status = r.status.as_u16();
        assert!([201, 409].contains(&status), "register {body}: {}", r.text);
        let mut what = format!("register numbers {first}..={last} on site {site_id}");
        if status == 201 {
            let id = id_of(&r);
            what = format!("{what} = {id}");
            self.numbers.push(Numbers { id, site: s, first, last });
        }
        self.record(if range { Op::Range } else { Op::Number }, status, what);
    }

    async fn delete_numbers(&mut self) {
        if self.numbers.is_empty() {
            return;
        }
        let i = self.rng.gen_range(0..self.numbers.len());
        let n = self.numbers.swap_remove(i);
        let token = self.token(self.owner_of_site(n.site)).await;
        let site_id = &self.sites[n.site].id;
        self.app
            .delete(&format!("/api/v1/sites/{site_id}/numbers/{}", n.id))
            .token(&token)
            .send()
            .await
            .expect(204);
        let what =
            format!("delete numbers {}..={} ({}) from site {site_id}", n.first, n.last, n.id);
        self.removed_numbers.push((n.first, n.last));
        self.record(Op::DeleteNumber, 204, what);
    }

    fn random_net(&mut self, v4: bool) -> IpNet {
        if v4 {
            // Inside 10.20.0.0/14.
            let addr = Ipv4Addr::from(0x0a14_0000_u32 + self.rng.gen_range(0..0x4_0000));
            let prefix = match self.rng.gen_range(0..50) {
                0 => 16,
                1..=15 => self.rng.gen_range(20..=24),
                _ => self.rng.gen_range(25..=32),
            };
            IpNet::new(IpAddr::V4(addr), prefix).unwrap().trunc()
        } else {
            // Inside 2001:db8::/46.
            let high = (0x2001_0db8_u128 << 96) | ((self.rng.gen_range(0..4) as u128) << 80);
            let addr = Ipv6Addr::from(high | self.rng.gen::<u128>() >> 48);
            let prefix = match self.rng.gen_range(0..20) {
                0 => 48,
                1..=9 => self.rng.gen_range(52..=64),
                _ => self.rng.gen_range(100..=128),
            };
            IpNet::new(IpAddr::V6(addr), prefix).unwrap().trunc()
        }
    }

    async fn register_ip(&mut self, v4: bool) {
        let Some(s) = self.some_site() else { return };
        let net = self.random_net(v4);
        let token = self.token(self.owner_of_site(s)).await;
        let site_id = self.sites[s].id.clone();
        let r = self
            .app
            .post(&format!("/api/v1/sites/{site_id}/ip-ranges"))
            .token(&token)
            .json(&json!({"cidr": net.to_string()}))
            .send()
            .await;
        let status = r.status.as_u16();
        assert!([201, 409].contains(&status), "register {net}: {}", r.text);
        let mut what = format!("register {net} on site {site_id}");
        if status == 201 {
            let id = id_of(&r);
            what = format!("{what} = {id}");
            self.ips.push(Ips { id, site: s, net });
        }
        self.record(if v4 { Op::Ipv4 } else { Op::Ipv6 }, status, what);
    }

    async fn delete_ip(&mut self) {
        if self.ips.is_empty() {
            return;
        }
        let i = self.rng.gen_range(0..self.ips.len());
        let ip = self.ips.swap_remove(i);
        let token = self.token(self.owner_of_site(ip.site)).await;
        let site_id = &self.sites[ip.site].id;
        self.app
            .delete(&format!("/api/v1/sites/{site_id}/ip-ranges/{}", ip.id))
            .token(&token)
            .send()
            .await
            .expect(204);
        let what = format!("delete {} ({}) from site {site_id}", ip.net, ip.id);
        self.removed_ips.push(ip.net);
        self.record(Op::DeleteIp, 204, what);
    }

    /// Suspends, reinstates, revokes or surrenders a licence: mostly what its status allows
    /// as far as the test knows (it does not follow expiry and lapse), sometimes not (409).
    async fn lifecycle(&mut self) {
        let held: Vec<usize> =
            (0..self.licences.len()).filter(|l| !self.licences[*l].ended).collect();
        let l = match held.choose(&mut self.rng) {
            Some(l) if self.rng.gen_bool(0.9) => *l,
            _ if !self.licences.is_empty() => self.rng.gen_range(0..self.licences.len()),
            _ => return,
        };
        let roll = self.rng.gen_range(0..100);
        let action = match (self.licences[l].suspended, roll) {
            (_, 0..=1) => "revoke",
            (_, 2..=3) => "surrender",
            (true, 4..=74) | (false, 4..=25) => "reinstate",
            _ => "suspend",
        };
        let who =
            if action == "surrender" { self.orgs[self.licences[l].org].owner } else { REGULATOR };
        let mut body = json!({"reason": format!("{action} in the differential test")});
        if action == "suspend" && self.rng.gen_bool(0.3) {
            body["until"] = json!((self.now() + Duration::days(30)).date_naive().to_string());
        }
        let token = self.token(who).await;
        let number = self.licences[l].number.clone();
        let path = format!("/api/v1/licences/{number}");
        let r = act(self.app, &token, &path, action, Some(body)).await;
        let status = r.status.as_u16();
        assert!([200, 409].contains(&status), "{action} {number}: {}", r.text);
        if status == 200 {
            let licence = &mut self.licences[l];
            match action {
                "suspend" => licence.suspended = true,
                "reinstate" => licence.suspended = false,
                _ => licence.ended = true,
            }
            if action == "revoke" {
                self.orgs[licence.org].barred = true;
            }
        }
        self.record(Op::Lifecycle, status, format!("{action} licence {number}"));
    }

    /// A new operator with an organisation ready to apply (`licensing::operator`).
    async fn licensable(&mut self) -> usize {
        let n = self.next_licensable;
        self.next_licensable += 1;
        let op = operator(self.app, n).await;
        let now = self.now();
        self.accounts.push(Account {
            email: format!("op{n}@example.pk"),
            password: PASSWORD.into(),
            token: op.token,
            minted: now,
        });
        let (reg, tax) = (format!("00000{n:02}"), format!("10000{n:02}-1"));
        self.regs.insert(reg.clone());
        self.taxes.insert(tax.clone());
        let o = self.orgs.len();
        self.orgs.push(Org {
            id: op.org.clone(),
            owner: self.accounts.len() - 1,
            licensable: true,
            barred: false,
            reg,
            tax,
            sites: vec![self.sites.len()],
        });
        self.sites.push(Site { id: op.site.clone(), org: o, open: true, premises_filed: true });
        self.record(
            Op::Issue,
            201,
            format!("operator {n}: organisation {} site {}", op.org, op.site),
        );
        o
    }

    /// An open site of a licensable organisation not barred, with its premises proof filed.
    async fn applicable_site(&mut self, fresh_operator: bool) -> usize {
        let candidates: Vec<usize> = (0..self.sites.len())
            .filter(|s| {
                let site = &self.sites[*s];
                let org = &self.orgs[site.org];
                site.open && org.licensable && !org.barred
            })
            .collect();
        let s = match candidates.choose(&mut self.rng) {
            Some(s) if !fresh_operator => *s,
            _ => {
                let o = self.licensable().await;
                self.orgs[o].sites[0]
            }
        };
        if !self.sites[s].premises_filed {
            let token = self.token(self.owner_of_site(s)).await;
            let (org, site) = (&self.orgs[self.sites[s].org].id, &self.sites[s].id);
            self.app.file_document(&token, org, "premises_proof", &[("site_id", site)]).await;
            self.sites[s].premises_filed = true;
        }
        s
    }

    /// Issues a licence through the whole dossier flow (sometimes after a passed pre-licence
    /// inspection, so it is active at once rather than provisional).
    async fn issue(&mut self, inspected: bool) {
        if self.licences.len() >= MAX_LICENCES {
            return;
        }
        let fresh = self.rng.gen_bool(0.3);
        let s = self.applicable_site(fresh).await;
        let regulator = self.token(REGULATOR).await;
        if inspected {
            pre_licence(self.app, &regulator, &self.sites[s].id).await;
        }
        let o = self.sites[s].org;
        let op = Operator {
            token: self.token(self.orgs[o].owner).await,
            org: self.orgs[o].id.clone(),
            site: self.sites[s].id.clone(),
        };
        let id = in_status(self.app, &op, &regulator, "approved").await;
        let a = self
            .app
            .get(&format!("/api/v1/applications/{id}"))
            .token(&regulator)
            .send()
            .await
            .expect(200);
        let number = a.body["licence_number"].as_str().unwrap().to_string();
        let what = format!(
            "issue licence {number} to organisation {} for site {}{}",
            op.org,
            op.site,
            if inspected { " (pre-licence inspection passed)" } else { "" }
        );
        self.licences.push(Licence { number, org: o, site: s, suspended: false, ended: false });
        self.record(Op::Issue, 200, what);
    }

    async fn renew(&mut self) {
        let candidates: Vec<usize> = (0..self.licences.len())
            .filter(|l| {
                let o = &self.orgs[self.licences[*l].org];
                !self.licences[*l].ended && !o.barred && o.sites.iter().any(|s| self.sites[*s].open)
            })
            .collect();
        let Some(&l) = candidates.choose(&mut self.rng) else { return };
        let o = self.licences[l].org;
        let open: Vec<usize> =
            self.orgs[o].sites.iter().copied().filter(|s| self.sites[*s].open).collect();
        let s = *open.choose(&mut self.rng).unwrap();
        if !self.sites[s].premises_filed {
            let token = self.token(self.orgs[o].owner).await;
            let (org, site) = (&self.orgs[o].id, &self.sites[s].id);
            self.app.file_document(&token, org, "premises_proof", &[("site_id", site)]).await;
            self.sites[s].premises_filed = true;
        }
        let owner = self.token(self.orgs[o].owner).await;
        let regulator = self.token(REGULATOR).await;
        let number = self.licences[l].number.clone();
        let r = self
            .app
            .post("/api/v1/applications")
            .token(&owner)
            .json(&json!({"organisation_id": self.orgs[o].id, "site_ids": [self.sites[s].id],
                          "category": "inbound", "term_months": 12, "renewal_of": number}))
            .send()
            .await;
        let status = r.status.as_u16();
        assert_eq!(status, 201, "renewal of {number}: {}", r.text);
        {
            let path = format!("/api/v1/applications/{}", id_of(&r));
            act(self.app, &owner, &path, "submit", None).await.expect(200);
            pay_and_clear(self.app, &regulator, &id_of(&r)).await;
            act(self.app, &regulator, &path, "approve", None).await.expect(200);
        }
        self.record(Op::Renew, status, format!("renew licence {number}"));
    }

    async fn inspect(&mut self) {
        let open: Vec<usize> =
            self.licences.iter().map(|l| l.site).filter(|s| self.sites[*s].open).collect();
        let Some(&s) = open.choose(&mut self.rng) else { return };
        let regulator = self.token(REGULATOR).await;
        pre_licence(self.app, &regulator, &self.sites[s].id).await;
        let what = format!("pre-licence inspection of site {} passed", self.sites[s].id);
        self.record(Op::Inspect, 200, what);
    }

    /// Numbers, addresses, licence, registration and tax numbers: held now, held once, never
    /// held; at the ends of ranges, inside them and one past them.
    fn questions(&mut self) -> Vec<(QueryType, String)> {
        // Sites a licence not revoked or surrendered covers: half the ranges asked about are theirs.
        let covered: BTreeSet<usize> =
            self.licences.iter().filter(|l| !l.ended).map(|l| l.site).collect();
        let rng = &mut self.rng;
        let mut q: Vec<(QueryType, String)> = Vec::new();
        let mut ranges: Vec<(i64, i64)> = self.numbers.iter().map(|n| (n.first, n.last)).collect();
        ranges.extend(self.removed_numbers.iter().copied());
        let on_covered: Vec<(i64, i64)> = self
            .numbers
            .iter()
            .filter(|n| covered.contains(&n.site))
            .map(|n| (n.first, n.last))
            .collect();
        let picked: Vec<(i64, i64)> = ranges
            .choose_multiple(rng, 15)
            .chain(on_covered.choose_multiple(rng, 15))
            .copied()
            .collect();
        for (first, last) in picked {
            for n in number_probes(first, last, rng) {
                let text = if rng.gen_bool(0.1) {
                    let digits = n.to_string();
                    format!("+{} {} {}", &digits[..2], &digits[2..4], &digits[4..])
                } else {
                    number_text(n)
                };
                q.push((QueryType::Number, text));
            }
        }
        for _ in 0..40 {
            q.push((QueryType::Number, number_text(NUMBER_BASE + rng.gen_range(0..NUMBER_SPACE))));
        }
        for odd in ["+923001234567", "+442071234567", "021 3400 0000", "not a number"] {
            q.push((QueryType::Number, odd.into()));
        }

        let mut nets: Vec<IpNet> = self.ips.iter().map(|i| i.net).collect();
        nets.extend(self.removed_ips.iter().copied());
        let on_covered: Vec<IpNet> =
            self.ips.iter().filter(|i| covered.contains(&i.site)).map(|i| i.net).collect();
        let picked: Vec<IpNet> = nets
            .choose_multiple(rng, 13)
            .chain(on_covered.choose_multiple(rng, 12))
            .copied()
            .collect();
        for net in &picked {
            for addr in ip_probes(net, rng) {
                q.push((QueryType::Ip, addr.to_string()));
            }
        }
        for _ in 0..15 {
            let v4 = Ipv4Addr::from(0x0a14_0000_u32 + rng.gen_range(0..0x4_0000));
            q.push((QueryType::Ip, v4.to_string()));
            let high = (0x2001_0db8_u128 << 96) | ((rng.gen_range(0..4) as u128) << 80);
            let v6 = Ipv6Addr::from(high | rng.gen::<u128>() >> 48);
            q.push((QueryType::Ip, v6.to_string()));
        }
        for odd in ["::ffff:10.20.0.1", "192.0.2.1", "10.20.300.1"] {
            q.push((QueryType::Ip, odd.into()));
        }

        for l in &self.licences {
            q.push((QueryType::Licence, l.number.clone()));
            if rng.gen_bool(0.2) {
                q.push((QueryType::Licence, l.number.to_lowercase()));
            }
        }
        for serial in [900, 901, 999_999] {
            q.push((
                QueryType::Licence,
                format!("CCL-2026-{serial:06}-{:02}", check_digits(2026, serial)),
            ));
        }
        q.push((QueryType::Licence, format!("CCL-2027-000001-{:02}", check_digits(2027, 1))));
        q.push((
            QueryType::Licence,
            format!("CCL-2026-000001-{:02}", (check_digits(2026, 1) + 1) % 100),
        ));

        let mut regs: Vec<String> = (0..POOL).map(|k| format!("R{k:04}")).collect();
        regs.extend(self.regs.iter().cloned());
        regs.sort();
        regs.dedup();
        let held = self.orgs.iter().filter(|o| o.licensable).map(|o| o.reg.clone());
        let picked: Vec<String> = regs.choose_multiple(rng, 30).cloned().chain(held).collect();
        for r in &picked {
            let r = if rng.gen_bool(0.1) { r.to_lowercase() } else { r.clone() };
            q.push((QueryType::RegistrationNumber, r));
        }
        q.push((QueryType::RegistrationNumber, "NEVER-1".into()));
        let mut taxes: Vec<String> =
            (0..POOL).map(|k| format!("{:07}-{}", 3_000_000 + k, k % 10)).collect();
        taxes.extend(self.taxes.iter().cloned());
        taxes.sort();
        taxes.dedup();
        let held = self.orgs.iter().filter(|o| o.licensable).map(|o| o.tax.clone());
        let picked: Vec<String> = taxes.choose_multiple(rng, 30).cloned().chain(held).collect();
        for t in &picked {
            q.push((QueryType::TaxNumber, t.clone()));
        }
        q.push((QueryType::TaxNumber, "9999999-9".into()));
        q.push((QueryType::TaxNumber, "123".into()));
        q.shuffle(rng);
        q
    }

    /// The test's own record of what it did that bears on a question.
    fn history(&self, t: QueryType, value: &str, answers: &[&Value]) -> Vec<&String> {
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for a in answers {
            for field in ["licence_number", "registration_number"] {
                if let Some(v) = a[field].as_str() {
                    keys.insert(v.to_string());
                }
            }
        }
        let mut sites = BTreeSet::new();
        match t {
            QueryType::Number => {
                if let Ok(Parsed::Number(n)) = parse(t, value) {
                    let n = n.value();
                    keys.insert(n.to_string());
                    for r in self.numbers.iter().filter(|r| r.first <= n && n <= r.last) {
                        sites.insert(r.site);
                    }
                    for (first, last) in &self.removed_numbers {
                        if *first <= n && n <= *last {
                            keys.insert(format!("{first}..={last}"));
                        }
                    }
                }
            }
            QueryType::Ip => {
                if let Ok(addr) = value.parse::<IpAddr>() {
                    for r in self.ips.iter().filter(|r| r.net.contains(&addr)) {
                        sites.insert(r.site);
                    }
                    for net in self.removed_ips.iter().filter(|n| n.contains(&addr)) {
                        keys.insert(net.to_string());
                    }
                }
            }
            _ => {
                keys.insert(value.to_uppercase());
            }
        }
        for s in sites {
            keys.insert(self.sites[s].id.clone());
            keys.insert(self.orgs[self.sites[s].org].id.clone());
            for l in self.licences.iter().filter(|l| l.site == s) {
                keys.insert(l.number.clone());
            }
        }
        self.log.iter().filter(|line| keys.iter().any(|k| line.contains(k.as_str()))).collect()
    }
}

/// The ends of the number range `first..=last`, the numbers just outside it and one inside.
pub fn number_probes(first: i64, last: i64, rng: &mut StdRng) -> [i64; 5] {
    let inside = rng.gen_range(first..=last);
    [first, last, last + 1, first - 1, inside]
}

/// The first and last address of `net`, the addresses just outside it and one inside.
pub fn ip_probes(net: &IpNet, rng: &mut StdRng) -> Vec<IpAddr> {
    match net {
        IpNet::V4(n) => {
            let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
            [a, b, b.wrapping_add(1), a.wrapping_sub(1), rng.gen_range(a..=b)]
                .into_iter()
                .map(|x| IpAddr::V4(Ipv4Addr::from(x)))
                .collect()
        }
        IpNet::V6(n) => {
            let (a, b) = (u128::from(n.network()), u128::from(n.broadcast()));
            [a, b, b.wrapping_add(1), a.wrapping_sub(1), rng.gen_range(a..=b)]
                .into_iter()
                .map(|x| IpAddr::V6(Ipv6Addr::from(x)))
                .collect()
        }
    }
}

/// The questions that parse (as the oracle takes them), the server's answer to each and the
/// database's (the oracle's), in the same order.
pub struct Asked {
    pub asked: Vec<(String, QueryType, Parsed)>,
    pub http: Vec<Value>,
    pub oracle: Vec<Value>,
}

/// Asks `questions` through `POST /verify/bulk` as `agency` (in requests of at most
/// `MAX_BULK`), checks that each question that does not parse was answered with an error in
/// its place, and looks the rest up in the database at the test clock's now (the oracle).
pub async fn ask_bulk(
    app: &TestApp,
    agency: &str,
    db: &Db,
    questions: &[(QueryType, String)],
) -> Asked {
    let mut results = Vec::new();
    for chunk in questions.chunks(ccreg::verify::MAX_BULK) {
        let items: Vec<Value> =
            chunk.iter().map(|(t, v)| json!({"type": t.as_str(), "value": v})).collect();
        let r = app
            .post("/api/v1/verify/bulk")
            .token(agency)
            .json(&json!({"items": items}))
            .send()
            .await
            .expect(200);
        results.extend(r.body["results"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(results.len(), questions.len());
    let (mut asked, mut http) = (Vec::new(), Vec::new());
    for ((t, v), answer) in questions.iter().zip(results) {
        match parse(*t, v) {
            Ok(p) => {
                asked.push((v.clone(), *t, p));
                http.push(answer);
            }
            Err(_) => {
                assert!(
                    answer["error"].is_object() && answer["query"] == v.as_str(),
                    "{} {v:?} does not parse, yet was answered {answer}",
                    t.as_str(),
                );
            }
        }
    }
    let mut conn = db.get().unwrap();
    let oracle = lookup::answer_all(&mut conn, &asked, db_now(&app.clock)).unwrap();
    let oracle = oracle.iter().map(|a| serde_json::to_value(a).unwrap()).collect();
    Asked { asked, http, oracle }
}

/// Fails with the first of `failures`, if any, out of `asked` questions.
#[track_caller]
pub fn no_disagreements(failures: &[String], asked: usize) {
    assert!(
        failures.is_empty(),
        "{} disagreements out of {asked} questions; the first:\n{}",
        failures.len(),
        failures[0]
    );
}

/// Counts an answer by (question type, result) and by ("status", the licence's status).
pub fn tally(seen: &mut BTreeMap<(String, String), u32>, t: QueryType, answer: &Value) {
    *seen.entry((t.as_str().into(), answer["result"].as_str().unwrap().into())).or_default() += 1;
    if let Some(status) = answer["status"].as_str() {
        *seen.entry(("status".into(), status.into())).or_default() += 1;
    }
}

/// Asks every question through `POST /verify/bulk` and compares each answer with the oracle,
/// and with two more readers of the same database: a follower that catches up once per round
/// (so it applies a whole round's audit entries in one batch) and a fresh load.
async fn compare(
    w: &mut World<'_>,
    db: &Db,
    lagging: &Follower,
    seen: &mut BTreeMap<(String, String), u32>,
) -> usize {
    let questions = w.questions();
    let agency = w.agency_token().await;
    assert!(questions.len() <= ccreg::verify::MAX_BULK);
    let Asked { asked, http, oracle } = ask_bulk(w.app, &agency, db, &questions).await;
    let now = db_now(&w.app.clock);
    let mut conn = db.get().unwrap();
    lagging.catch_up_on(&mut conn).unwrap();
    let batched = lagging.index().answer_all(&asked, now).unwrap();
    let fresh = ccreg::index::load::all(&mut conn).unwrap();
    drop(conn);

    let mut failures = Vec::new();
    for (j, (raw, t, p)) in asked.iter().enumerate() {
        let want = &oracle[j];
        tally(seen, *t, want);
        let http = &http[j];
        let batched = serde_json::to_value(&batched[j]).unwrap();
        let fresh = serde_json::to_value(fresh.answer(raw, *t, p, now)).unwrap();
        for (source, got) in [
            ("the server's index (POST /verify/bulk)", http),
            ("a follower applying the round in one batch", &batched),
            ("an index loaded afresh", &fresh),
        ] {
            if got != want {
                failures.push(format!(
                    "round {}: {source} disagrees with the database on {} {raw:?}\n  index:  {got}\n  oracle: {want}\n  what led there:\n    {}",
                    w.round,
                    t.as_str(),
                    w.history(*t, raw, &[got, want])
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("\n    ")
                ));
            }
        }
    }
    no_disagreements(&failures, asked.len());
    questions.len()
}

#[actix_web::test]
async fn the_index_answers_as_the_database_does() {
    let started = Instant::now();
    let app = TestApp::spawn_with(|s| s.index_poll_ms = NO_POLLING_MS).await;
    let db = Db::connect(&app.db.url, 1).unwrap();
    // Loaded before anything exists, caught up once per round.
    let lagging = Follower::load(db.clone(), Arc::new(TokenCache::new())).unwrap();
    let mut w = World::new(&app).await;
    let (mut ops_time, mut ask_time) = (StdDuration::ZERO, StdDuration::ZERO);
    let mut asked = 0;
    let mut seen = BTreeMap::new();
    for round in 0..ROUNDS {
        w.round = round;
        let t = Instant::now();
        // The heavy dossier flow on a schedule, so that every round has licences of every
        // age: one active at once (after a passed pre-licence inspection), one provisional.
        if round < 6 {
            w.issue(true).await;
            w.issue(false).await;
        }
        if round % 2 == 1 {
            w.renew().await;
            w.inspect().await;
        }
        for _ in 0..OPS_PER_ROUND {
            w.step().await;
        }
        // Time passes between rounds: provisional licences lapse (90 days); before the last
        // round, most of a year, so that licences expire (renewals push some further out).
        let days =
            if round + 1 == ROUNDS { w.rng.gen_range(200..=300) } else { w.rng.gen_range(20..=60) };
        w.advance(Duration::days(days));
        ops_time += t.elapsed();
        let t = Instant::now();
        asked += compare(&mut w, &db, &lagging, &mut seen).await;
        ask_time += t.elapsed();
    }

    let ops: u32 = w.stats.values().sum();
    let mut by_op: BTreeMap<Op, (u32, u32)> = BTreeMap::new();
    for ((op, status), n) in &w.stats {
        let e = by_op.entry(*op).or_default();
        if *status < 300 {
            e.0 += n;
        } else {
            e.1 += n;
        }
    }
    eprintln!(
        "differential: {ops} operations {by_op:?} (done, refused); {asked} questions in {ROUNDS} \
         rounds, answered {seen:?}; {} licences; operations {:.1?}, questions {:.1?}, total {:.1?}",
        w.licences.len(),
        ops_time,
        ask_time,
        started.elapsed()
    );
    // The mix did what it is for: overlaps refused, removals, every lifecycle outcome tried.
    assert!((1_500..=2_600).contains(&ops), "{ops} operations");
    assert!((2_000..=4_000).contains(&asked), "{asked} questions");
    for op in [Op::Range, Op::Ipv4, Op::Ipv6] {
        let (done, refused) = by_op[&op];
        assert!(done > 20 && refused > 0, "{op:?}: {done} done, {refused} refused");
    }
    assert!(w.licences.len() >= 4, "only {} licences", w.licences.len());
    for status in
        ["provisional", "active", "suspended", "revoked", "expired", "lapsed", "surrendered"]
    {
        let n = seen.get(&("status".to_string(), status.to_string())).copied();
        assert!(n.unwrap_or(0) > 0, "no answer named a licence {status}");
    }
    // Every kind of question met every kind of answer.
    for t in QueryType::ALL {
        for result in ["licensed", "not_licensed", "unknown"] {
            let n = seen.get(&(t.as_str().to_string(), result.to_string())).copied();
            assert!(n.unwrap_or(0) > 0, "no {} question was answered {result}", t.as_str());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Read-your-writes and revocation in one process (polling off: only the catch-up after a
//    write can bring a change in, so "the very next request" is what is tested)
// ---------------------------------------------------------------------------------------------

/// A licensed operator, a regulator and an agency token: (operator, regulator, licence, agency).
async fn licensed_world(app: &TestApp) -> (Operator, String, String, String) {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let a = app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await;
    let licence = a.body["licence_number"].as_str().unwrap().to_string();
    let (_, agency) = agency_client(app, "Read-your-writes desk").await;
    (op, regulator, licence, agency)
}

/// An agency client: (its id, an access token).
pub async fn agency_client(app: &TestApp, name: &str) -> (String, String) {
    let admin = app.admin_token().await;
    let c = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": name, "agency": "Test Bank"}))
        .send()
        .await
        .expect(201);
    let t = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": c.body["client_id"],
                      "client_secret": c.body["client_secret"]}))
        .send()
        .await
        .expect(200);
    (id_of(&c), t.body["access_token"].as_str().unwrap().to_string())
}

async fn verify(app: &TestApp, token: &str, path: &str) -> Value {
    app.get(&format!("/api/v1/verify/{path}")).token(token).send().await.expect(200).body
}

#[track_caller]
fn result_of(a: &Value) -> (Option<&str>, Option<&str>) {
    (a["result"].as_str(), a["status"].as_str())
}

#[actix_web::test]
async fn the_next_request_sees_a_registration_a_removal_and_a_suspension() {
    let app = TestApp::spawn_with(|s| s.index_poll_ms = NO_POLLING_MS).await;
    let (op, regulator, licence, agency) = licensed_world(&app).await;
    let (number, ip) = ("+922134567890", "203.0.113.77");
    // Asked first, so the answers below cannot come from anything loaded before the changes.
    assert_eq!(
        result_of(&verify(&app, &agency, &format!("numbers/{number}")).await).0,
        Some("unknown")
    );
    assert_eq!(result_of(&verify(&app, &agency, &format!("ips/{ip}")).await).0, Some("unknown"));

    let n = app
        .post(&format!("/api/v1/sites/{}/numbers", op.site))
        .token(&op.token)
        .json(&json!({"kind": "number", "e164": number, "purpose": "inbound"}))
        .send()
        .await
        .expect(201);
    let a = verify(&app, &agency, &format!("numbers/{number}")).await;
    assert_eq!(result_of(&a), (Some("licensed"), Some("provisional")), "{a}");
    assert_eq!(a["licence_number"], licence.as_str());
    let r = app
        .post(&format!("/api/v1/sites/{}/ip-ranges", op.site))
        .token(&op.token)
        .json(&json!({"cidr": "203.0.113.0/24"}))
        .send()
        .await
        .expect(201);
    let a = verify(&app, &agency, &format!("ips/{ip}")).await;
    assert_eq!(result_of(&a).0, Some("licensed"), "{a}");

    let lpath = format!("/api/v1/licences/{licence}");
    act(&app, &regulator, &lpath, "suspend", Some(json!({"reason": "Complaint"})))
        .await
        .expect(200);
    for q in [format!("numbers/{number}"), format!("ips/{ip}"), format!("licences/{licence}")] {
        let a = verify(&app, &agency, &q).await;
        assert_eq!(result_of(&a), (Some("not_licensed"), Some("suspended")), "{q}: {a}");
    }
    let public = app.get(&format!("/api/v1/public/licences/{licence}")).send().await.expect(200);
    assert_eq!(result_of(&public.body), (Some("not_licensed"), Some("suspended")));
    act(&app, &regulator, &lpath, "reinstate", Some(json!({"reason": "Cleared"})))
        .await
        .expect(200);
    let a = verify(&app, &agency, &format!("numbers/{number}")).await;
    assert_eq!(result_of(&a), (Some("licensed"), Some("provisional")), "{a}");

    app.delete(&format!("/api/v1/sites/{}/numbers/{}", op.site, id_of(&n)))
        .token(&op.token)
        .send()
        .await
        .expect(204);
    let a = verify(&app, &agency, &format!("numbers/{number}")).await;
    assert_eq!(result_of(&a), (Some("unknown"), None), "{a}");
    app.delete(&format!("/api/v1/sites/{}/ip-ranges/{}", op.site, id_of(&r)))
        .token(&op.token)
        .send()
        .await
        .expect(204);
    let a = verify(&app, &agency, &format!("ips/{ip}")).await;
    assert_eq!(result_of(&a), (Some("unknown"), None), "{a}");
}

#[actix_web::test]
async fn a_revoked_access_token_is_refused_at_once_though_cached() {
    let app = TestApp::spawn_with(|s| s.index_poll_ms = NO_POLLING_MS).await;
    // A user's token.
    app.signup("rev@example.pk").await;
    let access = app.login("rev@example.pk", PASSWORD).await;
    app.get("/api/v1/me").token(&access).send().await.expect(200);
    app.get("/api/v1/me").token(&access).send().await.expect(200);
    app.post("/api/v1/auth/revoke").json(&json!({"token": access})).send().await.expect(200);
    app.get("/api/v1/me").token(&access).send().await.problem(401);

    // An agency's token, on verification.
    let (_, agency) = agency_client(&app, "Revoked desk").await;
    let path = "/api/v1/verify/numbers/+922134567890";
    app.get(path).token(&agency).send().await.expect(200);
    app.post("/api/v1/auth/revoke").json(&json!({"token": agency})).send().await.expect(200);
    app.get(path).token(&agency).send().await.problem(401);
    // Only that token: another client's goes on working.
    let (_, other) = agency_client(&app, "Untouched desk").await;
    app.get(path).token(&other).send().await.expect(200);
}

async fn patch_user(app: &TestApp, admin: &str, id: &str, body: Value) {
    let path = format!("/api/v1/users/{id}");
    let etag = app.get(&path).token(admin).send().await.expect(200).header("etag").unwrap();
    app.patch(&path).token(admin).header("if-match", &etag).json(&body).send().await.expect(200);
}

#[actix_web::test]
async fn a_deactivated_user_is_refused_at_once_though_cached() {
    let app = TestApp::spawn_with(|s| s.index_poll_ms = NO_POLLING_MS).await;
    let (id, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let path = "/api/v1/verify/numbers/+922134567890";
    app.get(path).token(&regulator).send().await.expect(200);
    app.get(path).token(&regulator).send().await.expect(200);
    let admin = app.admin_token().await;
    patch_user(&app, &admin, &id, json!({"active": false})).await;
    app.get(path).token(&regulator).send().await.problem(401);
    app.get("/api/v1/me").token(&regulator).send().await.problem(401);
}

#[actix_web::test]
async fn a_changed_role_applies_at_once_though_cached() {
    let app = TestApp::spawn_with(|s| s.index_poll_ms = NO_POLLING_MS).await;
    let (id, token) = app.staff("regulator", "reg@pta.gov.pk").await;
    let regulators_only = "/api/v1/enforcement-queue";
    app.get(regulators_only).token(&token).send().await.expect(200);
    app.get(regulators_only).token(&token).send().await.expect(200);
    let admin = app.admin_token().await;
    patch_user(&app, &admin, &id, json!({"role": "inspector"})).await;
    app.get(regulators_only).token(&token).send().await.problem(403);
    let me = app.get("/api/v1/me").token(&token).send().await.expect(200);
    assert_eq!(me.body["role"], "inspector");
    patch_user(&app, &admin, &id, json!({"role": "regulator"})).await;
    app.get(regulators_only).token(&token).send().await.expect(200);
}

// ---------------------------------------------------------------------------------------------
// 3. Two `ccreg serve` processes on one database
// ---------------------------------------------------------------------------------------------

/// A plain client of one process.
struct Remote {
    client: reqwest::Client,
    base: String,
}

impl Remote {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        etag: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(e) = etag {
            req = req.header("if-match", e);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null);
        (status, body, etag)
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let (s, b, _) = self.call(reqwest::Method::GET, path, token, None, None).await;
        (s, b)
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let (s, b, _) = self.call(reqwest::Method::POST, path, token, Some(body), None).await;
        (s, b)
    }

    /// A transition or PATCH with the current ETag.
    async fn with_etag(
        &self,
        method: reqwest::Method,
        path: &str,
        then: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        let (status, _, etag) = self.call(reqwest::Method::GET, path, token, None, None).await;
        assert_eq!(status, 200, "GET {path}");
        let (s, b, _) =
            self.call(method, &format!("{path}{then}"), token, Some(body), etag.as_deref()).await;
        (s, b)
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let (s, b) = self
            .post(
                "/api/v1/auth/token",
                "",
                json!({"grant_type": "password", "username": email, "password": password}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b["access_token"].as_str().unwrap().to_string()
    }
}

/// Asks `at` until `ok` holds of its answer (10 s at most); returns how long it took.
async fn eventually(
    at: &Remote,
    path: &str,
    token: &str,
    what: &str,
    ok: impl Fn(u16, &Value) -> bool,
) -> StdDuration {
    let started = Instant::now();
    loop {
        let (status, body) = at.get(path, token).await;
        if ok(status, &body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(10),
            "{what}: after 10 s the other process still answers {status} {body}"
        );
        actix_web::rt::time::sleep(StdDuration::from_millis(25)).await;
    }
}

#[actix_web::test]
async fn two_processes_see_each_others_changes() {
    let app = TestApp::spawn().await;
    // The processes run on the system clock: bring the test clock to it, so the licence issued
    // through the test app is in force for them too.
    // (To the second: the fixtures send times to the nanosecond, the server keeps microseconds.)
    app.clock.advance(Utc::now().trunc_subsecs(0) - Clock::now(&app.clock));
    let (op, _, licence, _) = licensed_world(&app).await;
    let (reg2_id, _) = app.staff("regulator", "reg2@pta.gov.pk").await;

    let keys = tempfile::tempdir().unwrap();
    ccreg::auth::keys::Keys::load_or_create(
        keys.path(),
        &app.settings.issuer,
        &app.settings.audience,
    )
    .unwrap();
    let url = app.db.url_string();
    let (pa, pb) =
        (serve_with_keys(&url, keys.path()).await, serve_with_keys(&url, keys.path()).await);
    let client = reqwest::Client::new();
    let a = Remote { client: client.clone(), base: pa.base.clone() };
    let b = Remote { client, base: pb.base.clone() };

    // Tokens signed by A; B shares A's keys, so it accepts them.
    let operator = a.login("op1@example.pk", PASSWORD).await;
    let regulator = a.login("reg@pta.gov.pk", PASSWORD).await;
    let admin = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (s, c) = a
        .post(
            "/api/v1/agency-clients",
            &admin,
            json!({"name": "Two-process desk", "agency": "Test Bank"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, t) = a
        .post(
            "/api/v1/auth/token",
            "",
            json!({"grant_type": "client_credentials",
              "client_id": c["client_id"], "client_secret": c["client_secret"]}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let agency = t["access_token"].as_str().unwrap().to_string();

    let number = "+922134567890";
    let vnumber = format!("/api/v1/verify/numbers/{number}");
    let vlicence = format!("/api/v1/verify/licences/{licence}");
    let (s, before) = b.get(&vnumber, &agency).await;
    assert_eq!((s, before["result"].as_str()), (200, Some("unknown")), "{before}");
    let (s, before) = b.get(&vlicence, &agency).await;
    assert_eq!((s, before["result"].as_str()), (200, Some("licensed")), "{before}");

    // A number registered through A.
    let (s, n) = a
        .post(
            &format!("/api/v1/sites/{}/numbers", op.site),
            &operator,
            json!({"kind": "number", "e164": number, "purpose": "inbound"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let took = eventually(&b, &vnumber, &agency, "a number registered at A", |s, a| {
        s == 200 && a["result"] == "licensed" && a["licence_number"] == licence.as_str()
    })
    .await;
    eprintln!("B saw A's registration after {took:?}");

    // A suspension through A.
    let lpath = format!("/api/v1/licences/{licence}");
    let (s, r) = a
        .with_etag(
            reqwest::Method::POST,
            &lpath,
            "/suspend",
            &regulator,
            json!({"reason": "Complaint"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let took = eventually(&b, &vnumber, &agency, "a suspension at A", |s, a| {
        s == 200 && a["result"] == "not_licensed" && a["status"] == "suspended"
    })
    .await;
    eprintln!("B saw A's suspension after {took:?}");

    // And the other way: reinstated through B, seen by A.
    let (s, r) = b
        .with_etag(
            reqwest::Method::POST,
            &lpath,
            "/reinstate",
            &regulator,
            json!({"reason": "Cleared"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let took = eventually(&a, &vlicence, &agency, "a reinstatement at B", |s, a| {
        s == 200 && a["result"] == "licensed"
    })
    .await;
    eprintln!("A saw B's reinstatement after {took:?}");

    // The number removed through A.
    let (s, _, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/sites/{}/numbers/{}", op.site, n["id"].as_str().unwrap()),
            &operator,
            None,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let took = eventually(&b, &vnumber, &agency, "a removal at A", |s, a| {
        s == 200 && a["result"] == "unknown"
    })
    .await;
    eprintln!("B saw A's removal after {took:?}");

    // A user deactivated through A: B, which has its token cached, refuses it.
    let regulator2 = a.login("reg2@pta.gov.pk", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(b.get(&vlicence, &regulator2).await.0, 200);
    }
    let (s, r) = a
        .with_etag(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{reg2_id}"),
            "",
            &admin,
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let took = eventually(&b, &vlicence, &regulator2, "a deactivation at A", |s, _| s == 401).await;
    eprintln!("B refused the deactivated user's token after {took:?}");

    // An agency client deleted through A: likewise.
    assert_eq!(b.get(&vlicence, &agency).await.0, 200);
    let (s, _, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/agency-clients/{}", c["id"].as_str().unwrap()),
            &admin,
            None,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let took = eventually(&b, &vlicence, &agency, "a client deleted at A", |s, _| s == 401).await;
    eprintln!("B refused the deleted client's token after {took:?}");
    // A, where the deletion happened, refuses it too.
    assert_eq!(a.get(&vlicence, &agency).await.0, 401);
}
