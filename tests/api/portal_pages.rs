//! The operators' pages (API.md §14): forms over the API's own functions, the checklist, the
//! 404 page for another operator's object, stale edits, uploads, and the labels' rule.

use serde_json::json;

use crate::helpers::{csrf_token, Browser, Resp, TestApp, PASSWORD};
use crate::licensing::{act, operator, operator_without_documents, pay_and_clear, pre_licence};

#[track_caller]
fn see_other(r: &Resp) -> String {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    r.header("location").unwrap()
}

/// The id in a `/portal/<kind>/<id>?done=…` location.
fn id_in(location: &str) -> String {
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().to_string()
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    let r = b.sign_in(email, PASSWORD).await;
    assert_eq!(see_other(&r), "/portal");
    b
}

async fn new_operator<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    let r = b
        .submit(
            "/account/sign-up",
            &[("email", email), ("password", PASSWORD), ("full_name", "Ayesha Siddiqui")],
        )
        .await;
    assert_eq!(see_other(&r), "/portal");
    b
}

fn organisation_fields<'a>(
    legal_name: &'a str,
    registration: &'a str,
    tax: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("legal_name", legal_name),
        ("trade_name", ""),
        ("registration_number", registration),
        ("tax_number", tax),
        ("registered_address.line1", "Plot 12, Shahrah-e-Faisal"),
        ("registered_address.line2", ""),
        ("registered_address.city", "Karachi"),
        ("registered_address.province", "Sindh"),
        ("registered_address.postal_code", "75400"),
        ("registered_address.country", "PK"),
        ("contact_email", "compliance@indus.example"),
        ("contact_phone", "021 34567890"),
    ]
}

fn pdf(kind: &str) -> reqwest::multipart::Part {
    let bytes =
        format!("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {kind}\ntrailer << >>\n%%EOF\n");
    reqwest::multipart::Part::bytes(bytes.into_bytes()).file_name(format!("{kind}.pdf"))
}

/// Uploads through the portal's form (its CSRF token as a part).
async fn upload(
    b: &mut Browser<'_>,
    org: &str,
    kind: &str,
    reference: Option<(&str, &str)>,
    file: reqwest::multipart::Part,
) -> Resp {
    let path = format!("/portal/organisations/{org}/documents/new");
    let token = csrf_token(&b.get(&path).await.expect(200));
    // As a browser sends the form: both selects, one of them perhaps chosen.
    let mut form =
        reqwest::multipart::Form::new().text("csrf_token", token).text("kind", kind.to_string());
    for select in ["person_id", "site_id"] {
        let chosen = reference.filter(|(k, _)| *k == select).map_or("", |(_, v)| v);
        form = form.text(select, chosen.to_string());
    }
    b.post_multipart(&path, form.part("file", file)).await
}

/// Posts `fields` to `action` with the CSRF token of the page at `from` (a page of several forms).
async fn post_from(b: &mut Browser<'_>, from: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
    let token = csrf_token(&b.get(from).await.expect(200));
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    b.post(action, &all, None).await
}

#[actix_rt::test]
async fn an_operator_applies_through_the_forms_and_the_checklist_follows_the_regime() {
    let app = TestApp::spawn().await;
    let mut b = new_operator(&app, "ayesha@indus.example").await;
    assert!(b.get("/portal").await.expect(200).text.contains("Register an organisation"));

    // An invalid form comes back with the values kept and each error beside its field.
    let mut bad = organisation_fields("", "0012345", "1234567-8");
    bad.retain(|(k, _)| *k != "registered_address.postal_code");
    bad.push(("registered_address.postal_code", "!!"));
    let r = b.submit("/portal/organisations/new", &bad).await.expect(422);
    assert!(r.text.contains("There is a problem"), "{}", r.text);
    assert!(r.text.contains("href=\"#legal_name\""), "the summary links to the field");
    assert!(
        r.text.contains("id=\"registered_address.postal_code-error\""),
        "the error is beside its field"
    );
    assert!(r.text.contains("value=\"0012345\""), "the values are kept");

    // The same form, valid: the organisation exists, as the API shows it.
    let r = b
        .submit(
            "/portal/organisations/new",
            &organisation_fields("Indus Contact (Private) Limited", "0012345", "1234567-8"),
        )
        .await;
    let org = id_in(&see_other(&r));
    assert!(b
        .get(&see_other(&r))
        .await
        .expect(200)
        .text
        .contains("The organisation has been registered."));
    let token = app.login("ayesha@indus.example", PASSWORD).await;
    let api =
        app.get(&format!("/api/v1/organisations/{org}")).token(&token).send().await.expect(200);
    assert_eq!(api.body["legal_name"], "Indus Contact (Private) Limited");
    assert_eq!(api.body["contact_phone"], "+922134567890", "the API's own parsing of the number");

    // A person, a site, its numbers and IP range.
    let r = b
        .submit(
            &format!("/portal/organisations/{org}/people/new"),
            &[
                ("full_name", "Imran Qureshi"),
                ("roles", "director"),
                ("roles", "beneficial_owner"),
                ("id_type", "cnic"),
                ("id_number", "42101-1234567-1"),
                ("nationality", "PK"),
                ("ownership_percent", "60"),
            ],
        )
        .await;
    see_other(&r);
    let people = app
        .get(&format!("/api/v1/organisations/{org}/people"))
        .token(&token)
        .send()
        .await
        .expect(200);
    let person = people.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(people.body["items"][0]["roles"], json!(["director", "beneficial_owner"]));
    let r = b
        .submit(
            &format!("/portal/organisations/{org}/sites/new"),
            &[
                ("name", "Clifton centre"),
                ("address.line1", "Block 5, Clifton"),
                ("address.city", "Karachi"),
                ("address.province", "Sindh"),
                ("address.postal_code", "75600"),
                ("address.country", "PK"),
                ("seat_count", "120"),
                ("services", "inbound"),
                ("markets", "PK, GB"),
            ],
        )
        .await;
    let site = id_in(&see_other(&r));
    let site_page = format!("/portal/sites/{site}");
    let (numbers, ips) = (format!("{site_page}/numbers"), format!("{site_page}/ip-ranges"));
    see_other(
        &post_from(
            &mut b,
            &site_page,
            &numbers,
            &[("kind", "number"), ("e164", "021 35870001"), ("purpose", "inbound")],
        )
        .await,
    );
    see_other(
        &post_from(
            &mut b,
            &site_page,
            &numbers,
            &[
                ("kind", "range"),
                ("first", "+922135871000"),
                ("last", "+922135871099"),
                ("purpose", "outbound"),
            ],
        )
        .await,
    );
    see_other(&post_from(&mut b, &site_page, &ips, &[("cidr", "203.0.113.0/24")]).await);
    let bad_range =
        post_from(&mut b, &site_page, &ips, &[("cidr", "203.0.113.7/24")]).await.expect(422);
    assert!(bad_range.text.contains("id=\"cidr-error\""), "{}", bad_range.text);
    let page = b.get(&site_page).await.expect(200).text;
    assert!(
        page.contains("+922135870001")
            && page.contains("203.0.113.0/24")
            && page.contains("100 numbers"),
        "{page}"
    );

    // An application: the checklist names what is missing, and submitting says the same.
    let r = b
        .submit(
            &format!("/portal/organisations/{org}/applications/new"),
            &[("site_ids", site.as_str()), ("category", "inbound"), ("term_months", "12")],
        )
        .await;
    let application = format!("/portal/applications/{}", id_in(&see_other(&r)));
    let page = b.get(&application).await.expect(200).text;
    assert!(
        page.contains("Certificate of incorporation")
            && page.contains("Identity document of Imran Qureshi"),
        "{page}"
    );
    assert!(
        page.contains(&format!("kind=identity_document&amp;person_id={person}")),
        "the checklist links to the upload"
    );
    let check = b.get(&format!("{application}/submit")).await.expect(200);
    assert!(check.text.contains("Check your answers before submitting"));
    let version = [("csrf_token", csrf_token(&check)), ("version", "1".to_string())];
    let early = b
        .post(
            &format!("{application}/submit"),
            &version.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
            None,
        )
        .await
        .expect(422);
    assert!(
        early.text.contains("incorporation_certificate: upload the certificate of incorporation"),
        "{}",
        early.text
    );

    // A file that is not a PDF, PNG or JPEG is refused beside the file field.
    let text = reqwest::multipart::Part::bytes(b"just text".to_vec()).file_name("notes.txt");
    let r = upload(&mut b, &org, "bank_letter", None, text).await.expect(422);
    assert!(r.text.contains("id=\"file-error\""), "{}", r.text);
    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
        see_other(&upload(&mut b, &org, kind, None, pdf(kind)).await);
    }
    see_other(
        &upload(&mut b, &org, "identity_document", Some(("person_id", &person)), pdf("id")).await,
    );
    see_other(
        &upload(&mut b, &org, "premises_proof", Some(("site_id", &site)), pdf("lease")).await,
    );

    let check = b.get(&format!("{application}/submit")).await.expect(200);
    let fields = [("csrf_token", csrf_token(&check)), ("version", "1".to_string())];
    see_other(
        &b.post(
            &format!("{application}/submit"),
            &fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
            None,
        )
        .await,
    );
    let page = b.get(&application).await.expect(200).text;
    assert!(page.contains("Fee unpaid") && page.contains("3 clearances pending"), "{page}");
    let app_id = id_in(&application);
    let api =
        app.get(&format!("/api/v1/applications/{app_id}")).token(&token).send().await.expect(200);
    assert_eq!(api.body["status"], "submitted");

    // The fee, the clearances, approval, the visit: the checklist follows, to "in force".
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    pay_and_clear(&app, &regulator, &app_id).await;
    act(&app, &regulator, &format!("/api/v1/applications/{app_id}"), "approve", None)
        .await
        .expect(200);
    let page = b.get(&application).await.expect(200).text;
    assert!(page.contains("Provisional licence") && page.contains("Awaited"), "{page}");
    pre_licence(&app, &regulator, &site).await;
    let page = b.get(&application).await.expect(200).text;
    assert!(page.contains("Your licence is in force.") && page.contains("/certificate"), "{page}");
    let dashboard = b.get("/portal").await.expect(200).text;
    assert!(dashboard.contains("Certificate") && dashboard.contains(&application), "{dashboard}");
}

#[actix_rt::test]
async fn another_operators_objects_are_404_pages_and_nothing_of_them_shows() {
    let app = TestApp::spawn().await;
    let (owner, person) = operator_without_documents(&app, 1).await;
    let doc = app.file_document(&owner.token, &owner.org, "bank_letter", &[]).await;
    let created = app
        .post("/api/v1/applications")
        .token(&owner.token)
        .json(&json!({"organisation_id": owner.org, "site_ids": [owner.site], "category": "inbound", "term_months": 12}))
        .send()
        .await
        .expect(201);
    let application = created.body["id"].as_str().unwrap().to_string();
    let number = app
        .post(&format!("/api/v1/sites/{}/numbers", owner.site))
        .token(&owner.token)
        .json(&json!({"kind": "number", "e164": "+922135870001", "purpose": "inbound"}))
        .send()
        .await
        .expect(201);
    let number = number.body["id"].as_str().unwrap().to_string();

    let mut b = new_operator(&app, "other@example.pk").await;
    let token = csrf_token(&b.get("/portal").await.expect(200));
    let (org, site) = (owner.org.as_str(), owner.site.as_str());
    for path in [
        format!("/portal/organisations/{org}"),
        format!("/portal/organisations/{org}/edit"),
        format!("/portal/organisations/{org}/people/new"),
        format!("/portal/organisations/{org}/sites/new"),
        format!("/portal/organisations/{org}/documents/new"),
        format!("/portal/organisations/{org}/applications/new"),
        format!("/portal/sites/{site}"),
        format!("/portal/applications/{application}"),
        format!("/portal/applications/{application}/submit"),
    ] {
        let r = b.get(&path).await.expect(404);
        assert!(r.text.contains("Page not found"), "{path}: {}", r.text);
        assert!(!r.text.contains("Karachi Contact"), "{path} shows nothing of the other's");
    }
    for (path, fields) in [
        (
            format!("/portal/organisations/{org}/edit"),
            vec![("legal_name", "Taken Over Ltd"), ("version", "1")],
        ),
        (format!("/portal/organisations/{org}/people/new"), vec![("full_name", "Intruder")]),
        (format!("/portal/organisations/{org}/people/{person}/delete"), vec![]),
        (format!("/portal/organisations/{org}/sites/new"), vec![("name", "Intruder site")]),
        (
            format!("/portal/sites/{site}/numbers"),
            vec![("kind", "number"), ("e164", "+922135870002"), ("purpose", "inbound")],
        ),
        (format!("/portal/sites/{site}/numbers/{number}/delete"), vec![]),
        (format!("/portal/sites/{site}/ip-ranges"), vec![("cidr", "198.51.100.0/24")]),
        (format!("/portal/documents/{doc}/delete"), vec![]),
        (
            format!("/portal/organisations/{org}/applications/new"),
            vec![("site_ids", site), ("category", "inbound"), ("term_months", "12")],
        ),
        (format!("/portal/applications/{application}/submit"), vec![("version", "1")]),
        (format!("/portal/applications/{application}/withdraw"), vec![("version", "1")]),
    ] {
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend(fields);
        let r = b.post(&path, &all, None).await.expect(404);
        assert!(r.text.contains("Page not found"), "{path}");
    }
    // Nothing changed.
    let org_now = app
        .get(&format!("/api/v1/organisations/{org}"))
        .token(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(org_now.body["version"], 1);
    let people = app
        .get(&format!("/api/v1/organisations/{org}/people"))
        .token(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(people.body["items"].as_array().unwrap().len(), 1);
    let numbers = app
        .get(&format!("/api/v1/sites/{site}/numbers"))
        .token(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(numbers.body["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/documents/{doc}")).token(&owner.token).send().await.expect(200);
    let a = app
        .get(&format!("/api/v1/applications/{application}"))
        .token(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(a.body["status"], "draft");
}

#[actix_rt::test]
async fn a_stale_edit_is_shown_again_with_the_current_values() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let mut b = signed_in(&app, "op1@example.pk").await;
    let edit = format!("/portal/organisations/{}/edit", op.org);
    let form = b.get(&edit).await.expect(200);
    assert!(form.text.contains("name=\"version\" value=\"1\""), "{}", form.text);
    // Someone else changes it through the API meanwhile.
    let path = format!("/api/v1/organisations/{}", op.org);
    let etag = crate::licensing::version(&app, &op.token, &path).await;
    app.patch(&path)
        .token(&op.token)
        .header("if-match", &etag)
        .json(&json!({"legal_name": "Renamed Meanwhile Ltd"}))
        .send()
        .await
        .expect(200);

    let token = csrf_token(&form);
    let mut fields = vec![("csrf_token", token.as_str()), ("version", "1")];
    fields.extend(organisation_fields("My Edit Ltd", "0000001", "1000001-1"));
    let r = b.post(&edit, &fields, None).await.expect(412);
    assert!(r.text.contains("changed by someone else since you opened this form"), "{}", r.text);
    assert!(
        r.text.contains("value=\"Renamed Meanwhile Ltd\"")
            && r.text.contains("name=\"version\" value=\"2\""),
        "the current values"
    );
    let now = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(now.body["legal_name"], "Renamed Meanwhile Ltd");

    // Sent again on the current version, it is saved.
    let token = csrf_token(&r);
    let mut fields = vec![("csrf_token", token.as_str()), ("version", "2")];
    fields.extend(organisation_fields("My Edit Ltd", "0000001", "1000001-1"));
    see_other(&b.post(&edit, &fields, None).await);
    let now = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(now.body["legal_name"], "My Edit Ltd");
}

#[actix_rt::test]
async fn an_upload_without_its_token_or_from_another_origin_stores_nothing() {
    let app = TestApp::spawn().await;
    let op = operator_without_documents(&app, 1).await.0;
    let mut b = signed_in(&app, "op1@example.pk").await;
    let path = format!("/portal/organisations/{}/documents/new", op.org);
    let form =
        reqwest::multipart::Form::new().text("kind", "bank_letter").part("file", pdf("bank"));
    let r = b.post_multipart(&path, form).await.expect(403);
    assert!(r.text.contains("This form was not accepted"));
    let token = csrf_token(&b.get(&path).await.expect(200));
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", "0".repeat(token.len()))
        .text("kind", "bank_letter")
        .part("file", pdf("bank"));
    b.post_multipart(&path, form).await.expect(403);
    let docs = app
        .get(&format!("/api/v1/organisations/{}/documents", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(docs.body["items"].as_array().unwrap().len(), 0);
    // A form post from another site, with the right token even, is refused.
    let r = b
        .post(
            &format!("/portal/organisations/{}/people/new", op.org),
            &[("csrf_token", &token), ("full_name", "X")],
            Some("https://evil.example"),
        )
        .await;
    r.expect(403);
    // `Origin: null` (what a page under `no-referrer`, or a sandboxed frame, sends) is not ours.
    let r = b
        .post(
            &format!("/portal/organisations/{}/people/new", op.org),
            &[("csrf_token", &token), ("full_name", "X")],
            Some("null"),
        )
        .await;
    r.expect(403);
    let people = app
        .get(&format!("/api/v1/organisations/{}/people", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(people.body["items"].as_array().unwrap().len(), 1, "no one was added");
}

#[actix_rt::test]
async fn the_regulators_request_is_shown_and_the_operator_submits_again_or_withdraws() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = crate::licensing::in_status(&app, &op, &regulator, "info_requested").await;
    let mut b = signed_in(&app, "op1@example.pk").await;
    let page = format!("/portal/applications/{id}");
    let text = b.get(&page).await.expect(200).text;
    assert!(
        text.contains("The regulator asked for more information")
            && text.contains("Send the lease of the Clifton site"),
        "{text}"
    );
    let version = app
        .get(&format!("/api/v1/applications/{id}"))
        .token(&op.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .to_string();
    let check = b.get(&format!("{page}/submit")).await.expect(200);
    let token = csrf_token(&check);
    // A stale version is refused as such.
    let r =
        b.post(&format!("{page}/submit"), &[("csrf_token", &token), ("version", "1")], None).await;
    assert_eq!(r.status.as_u16(), 412, "{}", r.text);
    assert!(r.text.contains("changed by someone else since you opened this form"));
    see_other(
        &b.post(&format!("{page}/submit"), &[("csrf_token", &token), ("version", &version)], None)
            .await,
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&op.token).send().await.expect(200);
    assert_eq!(a.body["status"], "submitted");
    let version = a.body["version"].to_string();
    see_other(
        &b.post(
            &format!("{page}/withdraw"),
            &[("csrf_token", &token), ("version", &version)],
            None,
        )
        .await,
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&op.token).send().await.expect(200);
    assert_eq!(a.body["status"], "withdrawn");
    assert!(b.get(&page).await.expect(200).text.contains("The application was withdrawn."));
}

/// `legal_name` → "legal name", `registered_address.city` → "city".
fn in_words(name: &str) -> String {
    name.rsplit('.').next().unwrap().replace('_', " ")
}

/// The text of the `<label for=id>` or, for a group, its `<legend>`.
fn label_of(page: &str, id: &str) -> Option<String> {
    let text_after = |at: usize| {
        let rest = &page[at..];
        let start = rest.find('>')? + 1;
        let end = rest[start..].find('<')? + start;
        Some(rest[start..end].trim().to_string())
    };
    if let Some(at) = page.find(&format!("<label for=\"{id}\"")) {
        return text_after(at);
    }
    let at = page.find(&format!("id=\"{id}\""))?;
    let legend = page[at..].find("<legend")? + at;
    text_after(legend)
}

#[actix_rt::test]
async fn every_field_is_labelled_by_its_api_name_and_every_page_is_not_cached() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let mut b = signed_in(&app, "op1@example.pk").await;
    let (org, site) = (op.org.as_str(), op.site.as_str());
    let pages = [
        "/portal/organisations/new".to_string(),
        format!("/portal/organisations/{org}/edit"),
        format!("/portal/organisations/{org}/people/new"),
        format!("/portal/organisations/{org}/sites/new"),
        format!("/portal/organisations/{org}/documents/new"),
        format!("/portal/organisations/{org}/applications/new"),
        format!("/portal/sites/{site}"),
    ];
    let mut checked = 0;
    for path in &pages {
        let r = b.get(path).await.expect(200);
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{path}");
        let mut rest = r.text.as_str();
        while let Some(at) = rest.find(" name=\"") {
            rest = &rest[at + 7..];
            let name = &rest[..rest.find('"').unwrap()];
            let tag_start = r.text.len() - rest.len();
            let tag = &r.text[r.text[..tag_start].rfind('<').unwrap()..tag_start];
            if !["<input", "<select", "<textarea"].iter().any(|t| tag.starts_with(t)) {
                continue;
            }
            if ["csrf_token", "version", "kind"].contains(&name) && tag.contains("type=\"hidden\"")
            {
                continue;
            }
            let id = tag.split("id=\"").nth(1).map(|s| &s[..s.find('"').unwrap()]).unwrap_or(name);
            let id = if tag.contains("type=\"radio\"") || tag.contains("type=\"checkbox\"") {
                name
            } else {
                id
            };
            let label =
                label_of(&r.text, id).unwrap_or_else(|| panic!("{path}: no label for {name}"));
            assert!(
                label.to_lowercase().starts_with(&in_words(name)),
                "{path}: {name} is labelled {label:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} fields seen");
    for path in ["/portal", &format!("/portal/organisations/{org}")] {
        let r = b.get(path).await.expect(200);
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{path}");
    }
}
