//! The staff desk (API.md §14): the regulator's queue, dossier and decisions, the fee, an
//! inspection scheduled and recorded on the inspector's form, and a licence suspended, each
//! through the API's own functions; and who may open what.

use crate::helpers::{csrf_token, Browser, Resp, TestApp, PASSWORD};
use crate::licensing::{clear, in_status, operator};

#[track_caller]
fn see_other(r: &Resp) -> String {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    r.header("location").unwrap()
}

async fn staff_browser<'a>(
    app: &'a TestApp,
    role: &str,
    email: &str,
) -> (Browser<'a>, String, String) {
    let (id, token) = app.staff(role, email).await;
    let mut b = Browser::new(app);
    assert_eq!(see_other(&b.sign_in(email, PASSWORD).await), "/desk");
    (b, id, token)
}

/// Posts `fields` to `action` with the CSRF token of the page at `from`.
async fn post_from(b: &mut Browser<'_>, from: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
    let page = b.get(from).await.expect(200);
    let token = csrf_token(&page);
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    b.post(action, &all, None).await
}

fn version_in(page: &str, action: &str) -> String {
    let at =
        page.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form {action}"));
    let rest = &page[at..];
    let v = rest.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

#[actix_rt::test]
async fn a_regulator_decides_at_the_desk_and_an_inspector_records_the_visit_on_the_form() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (mut reg, _, regulator) = staff_browser(&app, "regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "submitted").await;

    // The queue: the application, its fee and clearances at a glance.
    let queue = reg.get("/desk/applications").await.expect(200).text;
    assert!(
        queue.contains(&format!("/desk/applications/{id}"))
            && queue.contains("0 of 3 granted")
            && queue.contains("open: Rs 0.00 of"),
        "{queue}"
    );
    let none = reg.get("/desk/applications?city=Lahore").await.expect(200).text;
    assert!(!none.contains(&format!("/desk/applications/{id}")), "the city filter");

    // The dossier: people in full, documents that open (and are audited).
    let page = format!("/desk/applications/{id}");
    let dossier = reg.get(&page).await.expect(200).text;
    assert!(dossier.contains("12345-1234501-1"), "regulators see identity numbers in full");
    let doc = dossier
        .split("href=\"/desk/documents/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let opened = reg.get(&format!("/desk/documents/{doc}")).await.expect(200);
    assert_eq!(opened.header("content-type").as_deref(), Some("application/pdf"));
    assert!(opened.text.starts_with("%PDF"));
    let admin = app.admin_token().await;
    let audit =
        app.get("/api/v1/audit?action=document.read").token(&admin).send().await.expect(200);
    assert!(audit.text.contains(&doc), "{}", audit.text);

    // The fee, in rupees: a bad amount is shown beside its field; a good one pays.
    let bad = post_from(
        &mut reg,
        &page,
        &format!("{page}/payment"),
        &[
            ("version", "1"),
            ("amount_minor", "lots"),
            ("paid_at", "2026-11-22"),
            ("channel", "psid"),
            ("reference", "PSID-1"),
        ],
    )
    .await
    .expect(422);
    assert!(bad.text.contains("id=\"amount_minor-error\""), "{}", bad.text);
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    let invoice = app
        .get(&format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap()))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    let rupees = format!("{}", invoice.body["total_minor"].as_i64().unwrap() / 100);
    let version = version_in(&reg.get(&page).await.text, &format!("{page}/payment"));
    see_other(
        &post_from(
            &mut reg,
            &page,
            &format!("{page}/payment"),
            &[
                ("version", &version),
                ("amount_minor", &rupees),
                ("paid_at", "2026-11-22"),
                ("channel", "psid"),
                ("reference", "PSID-1"),
            ],
        )
        .await,
    );
    let invoice = app
        .get(&format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap()))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(invoice.body["status"], "paid");

    // Approval: stale first (412), then on the current version.
    clear(&app, &id).await;
    let stale = post_from(&mut reg, &page, &format!("{page}/approve"), &[("version", "1")]).await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.text);
    assert!(stale.text.contains("changed by someone else since you opened this form"));
    let version = version_in(&reg.get(&page).await.text, &format!("{page}/approve"));
    see_other(
        &post_from(&mut reg, &page, &format!("{page}/approve"), &[("version", &version)]).await,
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "approved");
    let number = a.body["licence_number"].as_str().unwrap().to_string();

    // An inspection scheduled from the dossier, recorded on the inspector's form.
    let (mut insp, inspector_id, _) = staff_browser(&app, "inspector", "insp@pta.gov.pk").await;
    let at = app.clock_now()[..16].to_string();
    see_other(
        &post_from(
            &mut reg,
            &page,
            &format!("{page}/inspections"),
            &[
                ("site_id", &op.site),
                ("inspector_id", &inspector_id),
                ("scheduled_for", &at),
                ("kind", "pre_licence"),
            ],
        )
        .await,
    );
    let list = insp.get("/desk/inspections").await.expect(200).text;
    assert!(list.contains("Today"), "{list}");
    let visit = list
        .split("href=\"/desk/inspections/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let visit_page = format!("/desk/inspections/{visit}");
    let form = insp.get(&visit_page).await.expect(200).text;
    let version = version_in(&form, &visit_page);
    let more = post_from(
        &mut insp,
        &visit_page,
        &visit_page,
        &[("version", &version), ("rows", "1"), ("add_row", "true")],
    )
    .await
    .expect(200);
    assert!(more.text.contains("findings.1.code"), "a second finding row");
    let fields = [
        ("version", version.as_str()),
        ("rows", "2"),
        ("visited_at", &at),
        ("seats_observed", "120"),
        ("staff_present", "90"),
        ("foreign_nationals_present", "0"),
        ("outcome", "minor_issues"),
        ("notes", "Fire exit partly blocked"),
        ("findings.0.code", "FIRE-EXIT"),
        ("findings.0.severity", "minor"),
        ("findings.0.description", "A fire exit partly blocked by chairs"),
        ("findings.1.code", ""),
        ("findings.1.severity", "minor"),
        ("findings.1.description", ""),
    ];
    let bad: Vec<_> = fields
        .iter()
        .map(|(k, v)| if *k == "staff_present" { (*k, "many") } else { (*k, *v) })
        .collect();
    let r = post_from(&mut insp, &visit_page, &visit_page, &bad).await.expect(422);
    assert!(
        r.text.contains("id=\"staff_present-error\"")
            && r.text.contains("Fire exit partly blocked"),
        "errors beside fields, values kept"
    );
    see_other(&post_from(&mut insp, &visit_page, &visit_page, &fields).await);
    let recorded =
        app.get(&format!("/api/v1/inspections/{visit}")).token(&regulator).send().await.expect(200);
    assert_eq!(recorded.body["status"], "recorded");
    assert_eq!(
        recorded.body["findings"].as_array().unwrap().len(),
        1,
        "the empty row is no finding"
    );
    let licence =
        app.get(&format!("/api/v1/licences/{number}")).token(&regulator).send().await.expect(200);
    assert_eq!(licence.body["status"], "active", "{} / {}", licence.text, recorded.text);

    // A suspension with a reason shows on the public status page at once; without one, 422.
    let lpage = format!("/desk/licences/{number}");
    let version = version_in(&reg.get(&lpage).await.expect(200).text, &format!("{lpage}/suspend"));
    post_from(
        &mut reg,
        &lpage,
        &format!("{lpage}/suspend"),
        &[("version", &version), ("reason", ""), ("until", "")],
    )
    .await
    .expect(422);
    see_other(
        &post_from(
            &mut reg,
            &lpage,
            &format!("{lpage}/suspend"),
            &[
                ("version", &version),
                ("reason", "Unregistered numbers found in use"),
                ("until", ""),
            ],
        )
        .await,
    );
    let public = app.get(&format!("/register/licences/{number}")).send().await.expect(200);
    assert!(public.text.to_lowercase().contains("suspended"), "{}", public.text);
}

#[actix_rt::test]
async fn each_role_opens_only_its_own_desk_pages() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "submitted").await;
    let (mut insp, _, _) = staff_browser(&app, "inspector", "insp@pta.gov.pk").await;
    insp.get("/desk/applications").await.expect(403);
    let token = csrf_token(&insp.get("/desk").await.expect(200));
    let r = insp
        .post(
            &format!("/desk/applications/{id}/approve"),
            &[("csrf_token", &token), ("version", "2")],
            None,
        )
        .await;
    r.expect(403);
    let mut operator = Browser::new(&app);
    see_other(&operator.sign_in("op1@example.pk", PASSWORD).await);
    operator.get(&format!("/desk/applications/{id}")).await.expect(403);
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "submitted", "nothing changed");
    // A malformed or unknown licence number is a 404 page.
    let (mut reg, _, _) = staff_browser(&app, "regulator", "reg2@pta.gov.pk").await;
    reg.get("/desk/licences/not-a-number").await.expect(404);
    reg.get("/desk/licences/CCL-2026-999999-45").await.expect(404);
}

/// A tiny valid PNG (1×1).
fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(b"\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde");
    bytes.extend_from_slice(
        b"\0\0\0\x0cIDAT\x08\xd7c\xf8\xcf\xc0\0\0\x03\x01\x01\0\x18\xdd\x8d\xb0",
    );
    bytes.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    bytes
}

/// Attaches a photo through the visit page's form.
async fn attach(
    b: &mut Browser<'_>,
    page: &str,
    token: String,
    bytes: Vec<u8>,
    name: &str,
) -> Resp {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("description", "The floor, seen from the door")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    b.post_multipart(&format!("{page}/evidence"), form).await
}

#[actix_rt::test]
async fn an_inspector_attaches_photos_on_the_visit_page_until_the_visit_is_recorded() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (mut insp, inspector_id, _) = staff_browser(&app, "inspector", "insp@pta.gov.pk").await;
    let r = app
        .post("/api/v1/inspections")
        .token(&regulator)
        .json(&serde_json::json!({"site_id": op.site, "inspector_id": inspector_id, "scheduled_for": app.clock_now(), "kind": "routine"}))
        .send()
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let page = format!("/desk/inspections/{id}");
    let token = csrf_token(&insp.get(&page).await.expect(200));
    let refused = attach(&mut insp, &page, token.clone(), b"not a photo".to_vec(), "x.txt").await;
    assert_eq!(refused.status.as_u16(), 415, "{}", refused.text);
    assert!(refused.text.contains("id=\"file-error\""));
    see_other(&attach(&mut insp, &page, token.clone(), png(), "floor.png").await);
    let shown = insp.get(&page).await.expect(200).text;
    let photo = shown
        .split(&format!("href=\"{page}/evidence/"))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let opened = insp.get(&format!("{page}/evidence/{photo}")).await.expect(200);
    assert_eq!(opened.header("content-type").as_deref(), Some("image/png"));
    let api =
        app.get(&format!("/api/v1/inspections/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(api.body["evidence"][0]["id"], photo.as_str(), "the API lists the page's upload");
    // Without its token, nothing is stored.
    let form = reqwest::multipart::Form::new()
        .text("description", "x")
        .part("file", reqwest::multipart::Part::bytes(png()).file_name("y.png"));
    insp.post_multipart(&format!("{page}/evidence"), form).await.expect(403);
    // Recorded, the evidence is fixed.
    let version = version_in(&insp.get(&page).await.text, &page);
    let at = app.clock_now()[..16].to_string();
    see_other(
        &post_from(
            &mut insp,
            &page,
            &page,
            &[
                ("version", &version),
                ("rows", "1"),
                ("visited_at", &at),
                ("seats_observed", "120"),
                ("staff_present", "80"),
                ("foreign_nationals_present", "0"),
                ("outcome", "compliant"),
                ("findings.0.code", ""),
                ("findings.0.severity", "minor"),
                ("findings.0.description", ""),
            ],
        )
        .await,
    );
    let late = attach(&mut insp, &page, token, png(), "late.png").await;
    assert_eq!(late.status.as_u16(), 409, "{}", late.text);
    let api =
        app.get(&format!("/api/v1/inspections/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(api.body["evidence"].as_array().unwrap().len(), 1);
}

#[actix_rt::test]
async fn an_admin_manages_staff_and_agency_clients_and_a_deactivation_ends_sessions_at_once() {
    let app = TestApp::spawn().await;
    let mut admin = Browser::new(&app);
    assert_eq!(
        see_other(
            &admin.sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD).await
        ),
        "/desk"
    );
    let bad = post_from(
        &mut admin,
        "/desk/users",
        "/desk/users",
        &[
            ("email", "not-an-email"),
            ("full_name", "Sana Mir"),
            ("password", "a long enough passphrase"),
            ("role", "regulator"),
        ],
    )
    .await
    .expect(422);
    assert!(
        bad.text.contains("id=\"email-error\"") && !bad.text.contains("a long enough passphrase"),
        "the error beside its field, the password never written back"
    );
    let r = post_from(
        &mut admin,
        "/desk/users",
        "/desk/users",
        &[
            ("email", "sana@pta.gov.pk"),
            ("full_name", "Sana Mir"),
            ("password", PASSWORD),
            ("role", "regulator"),
        ],
    )
    .await;
    let user_page = see_other(&r).split('?').next().unwrap().to_string();
    let mut sana = Browser::new(&app);
    assert_eq!(see_other(&sana.sign_in("sana@pta.gov.pk", PASSWORD).await), "/desk");
    sana.get("/desk/applications").await.expect(200);
    // Made an inspector: the session ends at once; deactivated: she cannot sign in.
    let version = version_in(&admin.get(&user_page).await.expect(200).text, &user_page);
    see_other(
        &post_from(
            &mut admin,
            &user_page,
            &user_page,
            &[
                ("version", &version),
                ("full_name", "Sana Mir"),
                ("role", "inspector"),
                ("active", "true"),
            ],
        )
        .await,
    );
    assert_eq!(see_other(&sana.get("/desk").await), "/account/sign-in");
    let version = version_in(&admin.get(&user_page).await.expect(200).text, &user_page);
    see_other(
        &post_from(
            &mut admin,
            &user_page,
            &user_page,
            &[
                ("version", &version),
                ("full_name", "Sana Mir"),
                ("role", "inspector"),
                ("active", "false"),
            ],
        )
        .await,
    );
    assert_eq!(sana.sign_in("sana@pta.gov.pk", PASSWORD).await.status.as_u16(), 401);

    // An agency client: the secret is on the answering page only, and works; deleted, it stops.
    let bad = post_from(
        &mut admin,
        "/desk/agency-clients",
        "/desk/agency-clients",
        &[("name", "HBL verification"), ("agency", "HBL"), ("clears", "fbr")],
    )
    .await
    .expect(422);
    assert!(bad.text.contains("id=\"clears-error\""), "{}", bad.text);
    let created = post_from(
        &mut admin,
        "/desk/agency-clients",
        "/desk/agency-clients",
        &[("name", "HBL verification"), ("agency", "HBL"), ("clears", "")],
    )
    .await
    .expect(200);
    assert_eq!(created.header("cache-control").as_deref(), Some("no-store"));
    let pick = |label: &str| {
        let at = created.text.find(&format!("<dt>{label}</dt>")).unwrap();
        let rest = &created.text[at..];
        let code = rest.find("<code>").unwrap() + 6;
        rest[code..code + rest[code..].find('<').unwrap()].to_string()
    };
    let (client_id, secret) = (pick("Client ID"), pick("Client secret"));
    let grant = serde_json::json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret});
    app.post("/api/v1/auth/token").json(&grant).send().await.expect(200);
    let list = admin.get("/desk/agency-clients").await.expect(200);
    assert!(!list.text.contains(&secret), "the secret is shown once");
    let id = list
        .text
        .split("action=\"/desk/agency-clients/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    see_other(
        &post_from(
            &mut admin,
            "/desk/agency-clients",
            &format!("/desk/agency-clients/{id}/delete"),
            &[],
        )
        .await,
    );
    assert_eq!(app.post("/api/v1/auth/token").json(&grant).send().await.status.as_u16(), 401);
}

#[actix_rt::test]
async fn a_regulator_works_the_enforcement_queue_violations_and_reports_on_their_pages() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (mut reg, _, regulator) = staff_browser(&app, "regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "approved").await;
    let number = app
        .get(&format!("/api/v1/applications/{id}"))
        .token(&regulator)
        .send()
        .await
        .expect(200)
        .body["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/sites/{}/numbers", op.site))
        .token(&op.token)
        .json(
            &serde_json::json!({"kind": "number", "e164": "+922135870001", "purpose": "outbound"}),
        )
        .send()
        .await
        .expect(201);

    // A critical visit with a major finding: an enforcement item and a violation.
    let (inspector_id, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let r = app.post("/api/v1/inspections").token(&regulator).json(&serde_json::json!({"site_id": op.site, "inspector_id": inspector_id, "scheduled_for": app.clock_now(), "kind": "routine"})).send().await.expect(201);
    let path = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    let visit = serde_json::json!({"visited_at": app.clock_now(), "seats_observed": 120, "staff_present": 100, "foreign_nationals_present": 0, "outcome": "critical",
        "findings": [{"code": "UNREGISTERED-NUMBERS", "severity": "major", "description": "Calls made from numbers not on record"}]});
    crate::licensing::act(&app, &inspector, &path, "record", Some(visit)).await.expect(200);

    let queue = reg.get("/desk/enforcement").await.expect(200).text;
    assert!(queue.contains(&format!("Licence {number}")), "{queue}");
    let item = queue
        .split("href=\"/desk/enforcement/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let item_page = format!("/desk/enforcement/{item}");
    let version = version_in(&reg.get(&item_page).await.expect(200).text, &item_page);
    post_from(&mut reg, &item_page, &item_page, &[("version", &version), ("reason", "")])
        .await
        .expect(422);
    see_other(
        &post_from(
            &mut reg,
            &item_page,
            &item_page,
            &[("version", &version), ("reason", "Numbers registered since; follow-up booked")],
        )
        .await,
    );
    assert!(!reg.get("/desk/enforcement").await.expect(200).text.contains(&item), "off the queue");

    let list = reg.get("/desk/violations").await.expect(200).text;
    let violation = list
        .split("href=\"/desk/violations/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let vpage = format!("/desk/violations/{violation}");
    let version = version_in(&reg.get(&vpage).await.expect(200).text, &vpage);
    see_other(
        &post_from(
            &mut reg,
            &vpage,
            &vpage,
            &[("version", &version), ("reason", "The numbers are registered now")],
        )
        .await,
    );
    let v = app
        .get(&format!("/api/v1/violations/{violation}"))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(v.body["status"], "resolved");

    // A report from the public about the site's number, dismissed at triage.
    app.post("/api/v1/public/reports").json(&serde_json::json!({"number": "+922135870001", "called_at": app.clock_now(), "category": "fraud", "description": "Said my bank card was blocked"})).send().await.expect(202);
    let list = reg.get("/desk/reports").await.expect(200).text;
    assert!(list.contains("+922135870001") && list.contains("Karachi centre"), "{list}");
    let report =
        list.split("href=\"/desk/reports/").nth(1).unwrap().split('"').next().unwrap().to_string();
    let rpage = format!("/desk/reports/{report}");
    let version = version_in(&reg.get(&rpage).await.expect(200).text, &rpage);
    see_other(
        &post_from(
            &mut reg,
            &rpage,
            &rpage,
            &[
                ("version", &version),
                ("action", "dismiss"),
                ("reason", "A known spoofed caller ID"),
                ("inspector_id", ""),
            ],
        )
        .await,
    );
    let r =
        app.get(&format!("/api/v1/reports/{report}")).token(&regulator).send().await.expect(200);
    assert_eq!(r.body["status"], "dismissed");
}

#[actix_rt::test]
async fn a_flagged_application_is_approved_at_the_desk_only_with_an_override_and_its_reason() {
    let app = TestApp::spawn().await;
    let first = operator(&app, 1).await;
    let (mut reg, _, regulator) = staff_browser(&app, "regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &first, &regulator, "approved").await;
    let number = app
        .get(&format!("/api/v1/applications/{id}"))
        .token(&regulator)
        .send()
        .await
        .expect(200)
        .body["licence_number"]
        .as_str()
        .unwrap()
        .to_string();
    crate::licensing::act(
        &app,
        &regulator,
        &format!("/api/v1/licences/{number}"),
        "revoke",
        Some(serde_json::json!({"reason": "Fraud confirmed"})),
    )
    .await
    .expect(200);
    // Another company lists the barred director.
    let other = operator(&app, 2).await;
    app.post(&format!("/api/v1/organisations/{}/people", other.org))
        .token(&other.token)
        .json(&serde_json::json!({"full_name": "Imran Qureshi", "roles": ["authorised_signatory"], "id_type": "cnic", "id_number": "12345-1234501-1", "nationality": "PK"}))
        .send()
        .await
        .expect(201);
    let listed = app
        .get(&format!("/api/v1/organisations/{}/people", other.org))
        .token(&other.token)
        .send()
        .await
        .expect(200);
    let person = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["full_name"] == "Imran Qureshi" && p["roles"][0] == "authorised_signatory")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.file_document(&other.token, &other.org, "identity_document", &[("person_id", &person)])
        .await;
    let id = in_status(&app, &other, &regulator, "ready").await;
    let page = format!("/desk/applications/{id}");
    let dossier = reg.get(&page).await.expect(200).text;
    assert!(dossier.contains("Barred") && dossier.contains(&number), "{dossier}");
    let version = version_in(&dossier, &format!("{page}/approve"));
    let r = post_from(
        &mut reg,
        &page,
        &format!("{page}/approve"),
        &[("version", &version), ("reason", "")],
    )
    .await
    .expect(422);
    assert!(
        r.text.contains("id=\"override_flags-error\"")
            || r.text.contains("href=\"#override_flags\""),
        "{}",
        r.text
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "submitted", "not approved without the override");
    see_other(
        &post_from(
            &mut reg,
            &page,
            &format!("{page}/approve"),
            &[
                ("version", &version),
                ("override_flags", "true"),
                ("reason", "Seen by the board: he left before the fraud"),
            ],
        )
        .await,
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "approved");
}
