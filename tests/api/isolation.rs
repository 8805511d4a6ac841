//! Tenant isolation, generated from the served spec (API.md §16): for every operation with a
//! path id, a second tenant sent the first tenant's ids (and the first tenant's child under its
//! own parent) gets exactly what a random id gets, with none of the first tenant's ids or names
//! in the body. An operation this generator cannot fill fails the test, so a new route cannot
//! slip past it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::licensing::{act, clearing_agency, in_status, operator, pre_licence, Operator};

/// A's records, by the kind of id a path names.
pub(crate) struct Tenant {
    pub(crate) ids: BTreeMap<&'static str, String>,
    /// Strings that must never reach another tenant: every id above and A's names.
    pub(crate) secrets: Vec<String>,
    /// The inspector who recorded A's inspection.
    pub(crate) inspector: String,
}

fn first_id(r: &Resp) -> String {
    r.body["items"][0]["id"].as_str().unwrap_or_else(|| panic!("an item: {}", r.text)).to_string()
}

/// Operator A's whole registry: organisation, person, site, number, IP range, document,
/// application, invoice, clearance, licence, a recorded inspection with an evidence photo, a
/// violation and an enforcement item; a public report; a staff user; agency A's webhook.
pub(crate) async fn tenant_a(app: &TestApp, regulator: &str) -> (Operator, Tenant) {
    let op = operator(app, 1).await;
    let org_path = format!("/api/v1/organisations/{}", op.org);
    let etag = app.get(&org_path).token(&op.token).send().await.expect(200).header("etag").unwrap();
    app.patch(&org_path)
        .token(&op.token)
        .header("if-match", &etag)
        .json(&json!({"legal_name": "Zarghun Isolation Traders (Private) Limited"}))
        .send()
        .await
        .expect(200);
    let person = app
        .post(&format!("/api/v1/organisations/{}/people", op.org))
        .token(&op.token)
        .json(&json!({"full_name": "Palwasha Khattak", "roles": ["authorised_signatory"],
                      "id_type": "passport", "id_number": "QK7731904", "nationality": "PK"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.file_document(&op.token, &op.org, "identity_document", &[("person_id", &person)]).await;
    let number = app
        .post(&format!("/api/v1/sites/{}/numbers", op.site))
        .token(&op.token)
        .json(&json!({"kind": "number", "e164": "+922134560077", "purpose": "both"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let range = app
        .post(&format!("/api/v1/sites/{}/ip-ranges", op.site))
        .token(&op.token)
        .json(&json!({"cidr": "203.0.113.0/28"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let docs = app
        .get(&format!("/api/v1/organisations/{}/documents", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    pre_licence(app, regulator, &op.site).await;
    let application = in_status(app, &op, regulator, "approved").await;
    let a = app
        .get(&format!("/api/v1/applications/{application}"))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    let licence = a.body["licence_number"].as_str().unwrap().to_string();
    let invoice = a.body["invoice_id"].as_str().unwrap().to_string();
    let clearances = app
        .get(&format!("/api/v1/clearances?application_id={application}"))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    // A critical visit: a recorded inspection, a violation and an enforcement item.
    let (inspector_id, inspector) = app.staff("inspector", "isolation@pta.gov.pk").await;
    let scheduled = app
        .post("/api/v1/inspections")
        .token(regulator)
        .json(&json!({"site_id": op.site, "inspector_id": inspector_id,
                      "scheduled_for": app.clock_now(), "kind": "routine"}))
        .send()
        .await
        .expect(201);
    let inspection = scheduled.body["id"].as_str().unwrap().to_string();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90\x77\x53\xde";
    let photo = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(png.to_vec()).file_name("floor.png"))
        .text("description", "Floor A");
    let evidence = app
        .post(&format!("/api/v1/inspections/{inspection}/evidence"))
        .token(&inspector)
        .multipart(photo)
        .send()
        .await
        .expect(201);
    let visit = json!({"visited_at": app.clock_now(), "seats_observed": 120, "staff_present": 100,
        "foreign_nationals_present": 0, "outcome": "critical",
        "findings": [{"code": "SPOOFING", "severity": "critical", "description": "Caller ids spoofed"}]});
    act(app, &inspector, &format!("/api/v1/inspections/{inspection}"), "record", Some(visit))
        .await
        .expect(200);
    let violations =
        app.get(&format!("/api/v1/violations?site_id={}", op.site)).token(regulator).send().await;
    let queue = app.get("/api/v1/enforcement-queue?status=all").token(regulator).send().await;
    let report = app
        .post("/api/v1/public/reports")
        .json(&json!({"number": "+922134560077", "called_at": app.clock_now(), "category": "fraud",
                      "description": "Said they were the bank"}))
        .send()
        .await
        .expect(202)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = app.get("/api/v1/me").token(&op.token).send().await.expect(200);
    let admin = app.admin_token().await;
    let clients = app.get("/api/v1/agency-clients").token(&admin).send().await.expect(200);

    let mut ids = BTreeMap::new();
    ids.insert("organisations", op.org.clone());
    ids.insert("people", person);
    ids.insert("sites", op.site.clone());
    ids.insert("numbers", number);
    ids.insert("ip-ranges", range);
    ids.insert("documents", first_id(&docs));
    ids.insert("applications", application);
    ids.insert("invoices", invoice);
    ids.insert("clearances", first_id(&clearances));
    ids.insert("licences", licence);
    ids.insert("inspections", inspection);
    ids.insert("evidence", evidence.body["id"].as_str().unwrap().to_string());
    ids.insert("violations", first_id(&violations.expect(200)));
    ids.insert("enforcement-queue", first_id(&queue.expect(200)));
    ids.insert("reports", report);
    ids.insert("users", me.body["id"].as_str().unwrap().to_string());
    ids.insert("agency-clients", first_id(&clients));
    ids.insert("verify/numbers", "+922134560077".to_string());
    ids.insert("verify/ips", "203.0.113.5".to_string());
    let mut secrets: Vec<String> = ids.values().cloned().collect();
    secrets.extend(["Zarghun Isolation".into(), "Palwasha".into(), "QK7731904".into()]);
    (op, Tenant { ids, secrets, inspector })
}

/// Ids that name nothing: what every probe is compared with.
fn random_ids() -> BTreeMap<&'static str, String> {
    let mut ids: BTreeMap<&'static str, String> = [
        "organisations",
        "people",
        "sites",
        "numbers",
        "ip-ranges",
        "documents",
        "applications",
        "invoices",
        "clearances",
        "inspections",
        "evidence",
        "violations",
        "enforcement-queue",
        "reports",
        "users",
        "agency-clients",
        "webhooks",
    ]
    .into_iter()
    .map(|k| (k, uuid::Uuid::new_v4().to_string()))
    .collect();
    ids.insert("licences", ccreg::domain::LicenceNumber::new(2026, 987_654).as_str().to_string());
    ids.insert("verify/numbers", "+922199990001".to_string());
    ids.insert("verify/ips", "198.51.100.200".to_string());
    ids
}

/// The kind of record a path parameter names: the path segment before it (`verify/…` for the
/// verification routes, whose value is no id but a number or address).
fn kind_of(path: &str, param: &str) -> &'static str {
    let before = path.split(&format!("/{{{param}}}")).next().unwrap_or_default();
    let segment = before.rsplit('/').next().unwrap_or_default();
    let kind = match (before.contains("/verify/"), segment) {
        (true, "numbers") => "verify/numbers",
        (true, "ips") => "verify/ips",
        (_, s) => [
            "organisations",
            "people",
            "sites",
            "numbers",
            "ip-ranges",
            "documents",
            "applications",
            "invoices",
            "clearances",
            "licences",
            "inspections",
            "evidence",
            "violations",
            "enforcement-queue",
            "reports",
            "users",
            "agency-clients",
            "webhooks",
        ]
        .into_iter()
        .find(|k| *k == s)
        .unwrap_or(""),
    };
    assert!(!kind.is_empty(), "the generator cannot fill {{{param}}} in {path}: teach it");
    kind
}

/// A valid body for each operation that takes one, so a probe reaches the lookup.
pub(crate) fn body_for(operation: &str, now: &str) -> Option<Value> {
    let reason = json!({"reason": "Isolation probe"});
    Some(match operation {
        "approve_application" | "submit_application" | "withdraw_application" => json!({}),
        "reject_application"
        | "dismiss_enforcement_item"
        | "cancel_inspection"
        | "resolve_violation"
        | "reinstate_licence"
        | "revoke_licence"
        | "surrender_licence"
        | "suspend_licence" => reason,
        "request_application_info" => json!({"message": "Send the lease"}),
        "grant_clearance" => json!({"reference": "PROBE/1"}),
        "object_to_clearance" => json!({"reason": "Probe", "reference": "PROBE/2"}),
        "record_inspection" => json!({"visited_at": now, "seats_observed": 1, "staff_present": 1,
            "foreign_nationals_present": 0, "findings": [], "outcome": "compliant"}),
        "record_payment" => json!({"amount_minor": 1, "paid_at": now, "channel": "psid",
            "reference": "PSID-PROBE"}),
        "patch_organisation" => json!({"trade_name": "Probe"}),
        "add_person" => json!({"full_name": "Probe Person", "roles": ["director"],
            "id_type": "cnic", "id_number": "54321-7654321-1", "nationality": "PK"}),
        "create_site" => {
            json!({"name": "Probe floor", "address": crate::helpers::address("Lahore"),
            "seat_count": 10, "services": ["inbound"], "markets": ["PK"]})
        }
        "patch_site" => json!({"name": "Probe floor"}),
        "register_number" => {
            json!({"kind": "number", "e164": "+924235550101", "purpose": "inbound"})
        }
        "register_ip_range" => json!({"cidr": "198.51.100.64/28"}),
        "triage_report" => json!({"action": "dismiss", "reason": "Probe"}),
        "patch_user" => json!({"full_name": "Probe"}),
        "patch_webhook" => json!({"enabled": false}),
        _ => return None,
    })
}

struct Probe<'a> {
    method: &'a str,
    operation: &'a str,
    path: &'a str,
    has_body: bool,
    multipart: bool,
}

impl Probe<'_> {
    async fn send(&self, app: &TestApp, token: &str, ids: &[(String, String)]) -> Resp {
        let mut path = self.path.to_string();
        for (param, value) in ids {
            path = path.replace(&format!("{{{param}}}"), value);
        }
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let mut req = app.req(method, &path).token(token).header("if-match", "\"1\"");
        if self.multipart {
            let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
            let part = reqwest::multipart::Part::bytes(pdf.to_vec()).file_name("probe.pdf");
            let form =
                reqwest::multipart::Form::new().part("file", part).text("kind", "bank_letter");
            req = req.multipart(form);
        } else if self.has_body {
            let body = body_for(self.operation, &app.clock_now()).unwrap_or_else(|| {
                panic!("the generator has no body for {}: teach it", self.operation)
            });
            req = req.json(&body);
        }
        req.send().await
    }
}

/// What a client can tell apart: the status and the problem's type, title and detail.
fn answer(r: &Resp) -> (u16, Value, Value, Value) {
    (r.status.as_u16(), r.body["type"].clone(), r.body["title"].clone(), r.body["detail"].clone())
}

fn assert_same(what: &str, theirs: &Resp, random: &Resp, secrets: &[String]) {
    assert_eq!(
        answer(theirs),
        answer(random),
        "{what}: another tenant's id is answered unlike a random one\n  theirs: {}\n  random: {}",
        theirs.text,
        random.text
    );
    for s in secrets {
        assert!(!theirs.text.contains(s.as_str()), "{what} leaks {s:?}: {}", theirs.text);
    }
}

/// Every operation of the served spec that has a path parameter and is not public.
fn probes(spec: &Value) -> Vec<(String, String, String, bool, bool)> {
    let mut out = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let Some(id) = op["operationId"].as_str() else { continue };
            // Public operations answer anyone alike: there is no tenant to tell apart.
            if op["security"].as_array().is_some_and(|s| s.is_empty()) {
                continue;
            }
            let content = &op["requestBody"]["content"];
            out.push((
                method.to_uppercase(),
                path.clone(),
                id.to_string(),
                content.is_object(),
                content.get("multipart/form-data").is_some(),
            ));
        }
    }
    out
}

fn params(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|s| s.split('}').next()).map(str::to_string).collect()
}

#[actix_web::test]
async fn another_tenants_ids_are_answered_as_missing_ones_on_every_operation() {
    let app = TestApp::spawn_with(|s| s.webhook_allow_private = true).await;
    let (_, regulator) = app.staff("regulator", "isolation-reg@pta.gov.pk").await;
    let (_, mut a) = tenant_a(&app, &regulator).await;
    // Agencies: A's webhook, asked about by agency B (and by operator B).
    let agency_a = clearing_agency(&app, "nccia").await;
    let webhook = app
        .post("/api/v1/webhooks")
        .token(&agency_a)
        .json(&json!({"url": "http://127.0.0.1:9/isolation-hook", "events": ["*"]}))
        .send()
        .await
        .expect(201);
    let webhook = webhook.body["id"].as_str().unwrap().to_string();
    a.secrets.push(webhook.clone());
    a.ids.insert("webhooks", webhook);
    let agency_b = clearing_agency(&app, "pta").await;
    let b = operator(&app, 2).await;
    let mut own = BTreeMap::new();
    own.insert("organisations", b.org.clone());
    own.insert("sites", b.site.clone());

    let spec = app.get("/api/v1/openapi.json").send().await.expect(200).body;
    let random = random_ids();
    let mut probed = 0;
    for (method, path, operation, has_body, multipart) in probes(&spec) {
        let probe =
            Probe { method: &method, operation: &operation, path: &path, has_body, multipart };
        let names = params(&path);
        let kinds: Vec<&str> = names.iter().map(|p| kind_of(&path, p)).collect();
        let fill = |from: &dyn Fn(usize, &str) -> String| -> Vec<(String, String)> {
            names
                .iter()
                .zip(&kinds)
                .enumerate()
                .map(|(i, (n, k))| (n.clone(), from(i, k)))
                .collect()
        };
        let theirs = fill(&|_, k| a.ids.get(k).cloned().unwrap_or_else(|| panic!("no {k} of A")));
        let nothing = fill(&|_, k| random[k].clone());
        let mut tenants = vec![("operator B", b.token.as_str())];
        if path.starts_with("/api/v1/webhooks") {
            tenants.push(("agency B", agency_b.as_str()));
        }
        for (who, token) in tenants {
            let what = format!("{who}: {method} {path}");
            let t = probe.send(&app, token, &theirs).await;
            let r = probe.send(&app, token, &nothing).await;
            assert_same(&what, &t, &r, &a.secrets);
            // A's child under B's own parent, against a random child there.
            if names.len() == 2 && own.contains_key(kinds[0]) {
                let mine = |i: usize, k: &str, child: &str| {
                    if i == 0 {
                        own[k].clone()
                    } else {
                        child.to_string()
                    }
                };
                let theirs_child = fill(&|i, k| mine(i, k, &a.ids[k]));
                let nothing_child = fill(&|i, k| mine(i, k, &random[k]));
                let t = probe.send(&app, token, &theirs_child).await;
                let r = probe.send(&app, token, &nothing_child).await;
                assert_same(&format!("{what} (A's child under B's parent)"), &t, &r, &a.secrets);
                assert_eq!(t.status.as_u16(), 404, "{what}: {}", t.text);
            }
            probed += 1;
        }
    }
    assert!(probed >= 50, "only {probed} operations probed");

    // Nothing of A's changed: its organisation still reads as before, its person is there.
    let admin = app.admin_token().await;
    let org = app
        .get(&format!("/api/v1/organisations/{}", a.ids["organisations"]))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_ne!(org.body["trade_name"], "Probe", "a probe changed A's organisation");
    let people = app
        .get(&format!("/api/v1/organisations/{}/people", a.ids["organisations"]))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert!(people.text.contains(&a.ids["people"]), "a probe removed A's person");
}

#[actix_web::test]
async fn removing_another_tenants_person_is_a_missing_person_not_a_conflict() {
    let app = TestApp::spawn().await;
    let a = operator(&app, 1).await;
    let b = operator(&app, 2).await;
    let people = app
        .get(&format!("/api/v1/organisations/{}/people", a.org))
        .token(&a.token)
        .send()
        .await
        .expect(200);
    // A's director has an identity document on file: A itself is told so (409)…
    let person = first_id(&people);
    let theirs = format!("/api/v1/organisations/{}/people/{person}", b.org);
    let r = app.delete(&theirs).token(&b.token).send().await.problem(404);
    assert!(!r.text.contains(&person), "{}", r.text);
    let missing = format!("/api/v1/organisations/{}/people/{}", b.org, uuid::Uuid::new_v4());
    let m = app.delete(&missing).token(&b.token).send().await.problem(404);
    assert_eq!(answer(&r), answer(&m));
    let own = format!("/api/v1/organisations/{}/people/{person}", a.org);
    let c = app.delete(&own).token(&a.token).send().await.problem(409);
    assert!(c.body["detail"].as_str().unwrap().contains("identity documents"), "{}", c.text);
}

#[actix_web::test]
async fn an_application_naming_a_site_not_of_its_organisation_is_refused_where_given() {
    let app = TestApp::spawn().await;
    let a = operator(&app, 1).await;
    let b = operator(&app, 2).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let r = app
        .post("/api/v1/applications")
        .token(&b.token)
        .json(&json!({"organisation_id": b.org, "site_ids": [b.site, a.site, missing],
                      "category": "inbound", "term_months": 12}))
        .send()
        .await
        .problem(422);
    let errors = r.body["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["site_ids[1]", "site_ids[2]"], "{}", r.text);
    assert_eq!(errors[0]["message"], errors[1]["message"], "another's site reads as a missing one");
    assert!(!r.text.contains(&a.site), "{}", r.text);
    // Another's organisation is refused the same way, and nothing was stored.
    let r = app
        .post("/api/v1/applications")
        .token(&b.token)
        .json(&json!({"organisation_id": a.org, "site_ids": [a.site],
                      "category": "inbound", "term_months": 12}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "organisation_id", "{}", r.text);
    let list = app.get("/api/v1/applications").token(&b.token).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0, "{}", list.text);
}
