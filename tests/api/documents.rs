//! The dossier's documents (API.md §10): uploads recognised by their bytes, the limits,
//! downloads, who sees what, deletion, and what `/submit` will find missing.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{Resp, TestApp};
use crate::licensing::{operator_without_documents, Operator};

const MIB: usize = 1024 * 1024;

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    b.resize(len.max(b.len()), b' ');
    b
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    b.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    b
}

fn jpeg() -> Vec<u8> {
    b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9".to_vec()
}

/// An upload: the file (name, declared type, bytes), then text parts.
fn form(file: Option<(&str, &str, Vec<u8>)>, parts: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    if let Some((name, mime, bytes)) = file {
        form = form
            .part("file", Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap());
    }
    for (k, v) in parts {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

async fn upload(app: &TestApp, token: &str, org: &str, form: Form) -> Resp {
    app.post(&format!("/api/v1/organisations/{org}/documents"))
        .token(token)
        .multipart(form)
        .send()
        .await
}

/// Uploads a small PDF of `kind` (with `extra` parts); returns its metadata.
async fn upload_pdf(app: &TestApp, op: &Operator, kind: &str, extra: &[(&str, &str)]) -> Value {
    let mut parts = vec![("kind", kind)];
    parts.extend_from_slice(extra);
    upload(app, &op.token, &op.org, form(Some(("scan.pdf", "application/pdf", pdf(2000))), &parts))
        .await
        .expect(201)
        .body
}

fn field_errors(r: &Resp) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

async fn download(
    app: &TestApp,
    token: &str,
    id: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = app
        .client
        .get(format!("{}/api/v1/documents/{id}/content", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

async fn person_of(app: &TestApp, op: &Operator) -> String {
    let r = app
        .get(&format!("/api/v1/organisations/{}/people", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    r.body["items"][0]["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn the_type_comes_from_the_bytes_whatever_is_declared() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    for (bytes, detected) in
        [(pdf(500), "application/pdf"), (png(), "image/png"), (jpeg(), "image/jpeg")]
    {
        let r = upload(
            &app,
            &op.token,
            &op.org,
            form(
                Some(("doc.bin", "application/octet-stream", bytes.clone())),
                &[("kind", "other")],
            ),
        )
        .await
        .expect(201);
        assert_eq!(r.body["content_type"], detected);
        assert_eq!(r.body["size_bytes"], bytes.len());
        assert_eq!(r.body["sha256"], hex::encode(Sha256::digest(&bytes)));
        assert_eq!(r.body["organisation_id"], op.org.as_str());
        assert_eq!(r.body["kind"], "other");
        assert_eq!(r.body["person_id"], Value::Null);
        let id = r.body["id"].as_str().unwrap();
        assert_eq!(r.header("location").unwrap(), format!("/api/v1/documents/{id}"));
        let me = app.get("/api/v1/me").token(&op.token).send().await.expect(200);
        assert_eq!(r.body["uploaded_by"], me.body["id"]);
        assert_eq!(r.body["uploaded_at"], "2026-11-22T10:00:00Z");
    }

    // A PDF sent as image/png named x.png is a PDF (the name is kept as sent).
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("x.png", "image/png", pdf(300))), &[("kind", "bank_letter")]),
    )
    .await
    .expect(201);
    assert_eq!(r.body["content_type"], "application/pdf");
    assert_eq!(r.body["file_name"], "x.png");

    // Text that claims to be a PDF is refused, as are other real formats.
    let text = b"Dear Sir, please find our bank letter attached.".to_vec();
    upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("letter.pdf", "application/pdf", text)), &[("kind", "bank_letter")]),
    )
    .await
    .problem(415);
    let gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04".to_vec();
    upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("x.pdf", "application/pdf", gif)), &[("kind", "other")]),
    )
    .await
    .problem(415);

    // A body that is not multipart is 415 too.
    app.post(&format!("/api/v1/organisations/{}/documents", op.org))
        .token(&op.token)
        .json(&json!({"kind": "other"}))
        .send()
        .await
        .problem(415);

    let audit = app
        .get("/api/v1/audit?action=document.uploaded")
        .token(&app.admin_token().await)
        .send()
        .await
        .expect(200);
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 4);
}

#[actix_web::test]
async fn ten_mebibytes_is_the_limit_and_empty_is_refused() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("big.pdf", "application/pdf", pdf(10 * MIB))), &[("kind", "other")]),
    )
    .await
    .expect(201);
    assert_eq!(r.body["size_bytes"], 10 * MIB);
    upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("big.pdf", "application/pdf", pdf(10 * MIB + 1))), &[("kind", "other")]),
    )
    .await
    .problem(413);
    // Far over the limit: refused on the declared length, nothing read.
    upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("huge.pdf", "application/pdf", pdf(12 * MIB))), &[("kind", "other")]),
    )
    .await
    .problem(413);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("empty.pdf", "application/pdf", Vec::new())), &[("kind", "other")]),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&r), ["file"]);
    let list = app
        .get(&format!("/api/v1/organisations/{}/documents", op.org))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn file_names_are_cleaned_of_paths() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    for (sent, stored) in [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\scan.pdf", "scan.pdf"),
        ("/", "document"),
        ("inv\u{202E}fdp.exe", "invfdp.exe"),
    ] {
        let r = upload(
            &app,
            &op.token,
            &op.org,
            form(Some((sent, "application/pdf", pdf(100))), &[("kind", "other")]),
        )
        .await
        .expect(201);
        assert_eq!(r.body["file_name"], stored, "{sent}");
    }
}

#[actix_web::test]
async fn parts_are_checked_and_every_problem_listed() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let (other, _) = operator_without_documents(&app, 2).await;
    let their_person = person_of(&app, &other).await;
    let my_person = person_of(&app, &op).await;

    // Nothing usable: every problem at once.
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(None, &[("status", "approved"), ("kind", "passport")]),
    )
    .await
    .problem(422);
    let mut fields = field_errors(&r);
    fields.sort();
    assert_eq!(fields, ["file", "kind", "status"]);
    let r = upload(&app, &op.token, &op.org, form(None, &[])).await.problem(422);
    assert_eq!(field_errors(&r), ["kind", "file"]);

    let file = || Some(("id.pdf", "application/pdf", pdf(100)));
    let r = upload(&app, &op.token, &op.org, form(file(), &[("kind", "identity_document")]))
        .await
        .problem(422);
    assert_eq!(field_errors(&r), ["person_id"]);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "identity_document"), ("person_id", &their_person)]),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&r), ["person_id"]);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "premises_proof"), ("site_id", &other.site)]),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&r), ["site_id"]);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "premises_proof"), ("site_id", "")]),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&r), ["site_id"]);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "bank_letter"), ("site_id", &op.site)]),
    )
    .await
    .problem(422);
    assert_eq!(field_errors(&r), ["site_id"]);
    let r = upload(&app, &op.token, &op.org, form(file(), &[("kind", "other"), ("kind", "other")]))
        .await
        .problem(422);
    assert_eq!(field_errors(&r), ["kind"]);

    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "identity_document"), ("person_id", &my_person), ("site_id", "")]),
    )
    .await
    .expect(201);
    assert_eq!(r.body["person_id"], my_person.as_str());
    assert_eq!(r.body["site_id"], Value::Null);
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(file(), &[("kind", "premises_proof"), ("site_id", &op.site)]),
    )
    .await
    .expect(201);
    assert_eq!(r.body["site_id"], op.site.as_str());
}

#[actix_web::test]
async fn downloads_are_the_exact_bytes_with_safe_headers() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let mut bytes = png();
    bytes.extend((0..=255u8).cycle().take(5000));
    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("Shop \"front\".png", "image/jpeg", bytes.clone())), &[("kind", "other")]),
    )
    .await
    .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let (status, headers, body) = download(&app, &op.token, &id).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes);
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
    assert_eq!(h("content-type"), "image/png");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("etag"), format!("\"{}\"", hex::encode(Sha256::digest(&bytes))));
    assert_eq!(h("content-disposition"), r#"attachment; filename="Shop _front_.png""#);

    let r = upload(
        &app,
        &op.token,
        &op.org,
        form(Some(("رسید.pdf", "application/pdf", pdf(100))), &[("kind", "fee_receipt")]),
    )
    .await
    .expect(201);
    assert_eq!(r.body["file_name"], "رسید.pdf");
    let (_, headers, _) = download(&app, &op.token, r.body["id"].as_str().unwrap()).await;
    assert_eq!(
        headers.get("content-disposition").unwrap().to_str().unwrap(),
        "attachment; filename=\"____.pdf\"; filename*=UTF-8''%D8%B1%D8%B3%DB%8C%D8%AF.pdf"
    );

    let meta =
        app.get(&format!("/api/v1/documents/{id}")).token(&op.token).send().await.expect(200);
    assert_eq!(meta.body["file_name"], "Shop \"front\".png");
    assert_eq!(meta.body["content_type"], "image/png");
}

#[actix_web::test]
async fn operators_see_only_their_own_staff_read_and_agencies_may_not() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let (other, _) = operator_without_documents(&app, 2).await;
    let doc = upload_pdf(&app, &op, "tax_certificate", &[]).await;
    let id = doc["id"].as_str().unwrap();
    let list = format!("/api/v1/organisations/{}/documents", op.org);

    app.get(&format!("/api/v1/documents/{id}")).token(&other.token).send().await.problem(404);
    assert_eq!(download(&app, &other.token, id).await.0, 404);
    app.get(&list).token(&other.token).send().await.problem(404);
    app.delete(&format!("/api/v1/documents/{id}")).token(&other.token).send().await.problem(404);
    upload(
        &app,
        &other.token,
        &op.org,
        form(Some(("x.pdf", "application/pdf", pdf(100))), &[("kind", "other")]),
    )
    .await
    .problem(404);

    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let admin = app.admin_token().await;
    for token in [&regulator, &inspector, &admin] {
        let meta =
            app.get(&format!("/api/v1/documents/{id}")).token(token).send().await.expect(200);
        assert_eq!(meta.body["sha256"], doc["sha256"]);
        let (status, _, body) = download(&app, token, id).await;
        assert_eq!((status.as_u16(), body), (200, pdf(2000)));
        let l = app.get(&list).token(token).send().await.expect(200);
        assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
        // Staff read; only the owner uploads and deletes.
        upload(
            &app,
            token,
            &op.org,
            form(Some(("x.pdf", "application/pdf", pdf(100))), &[("kind", "other")]),
        )
        .await
        .problem(403);
        app.delete(&format!("/api/v1/documents/{id}")).token(token).send().await.problem(403);
    }

    let client = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "HBL fraud desk", "agency": "Habib Bank"}))
        .send()
        .await
        .expect(201);
    let agency = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": client.body["client_id"], "client_secret": client.body["client_secret"]}))
        .send()
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("/api/v1/documents/{id}")).token(&agency).send().await.problem(403);
    assert_eq!(download(&app, &agency, id).await.0, 403);
    app.get(&list).token(&agency).send().await.problem(403);
    app.get(&format!("/api/v1/documents/{id}")).send().await.problem(401);
}

#[actix_web::test]
async fn lists_page_and_filter_by_kind() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    for kind in ["bank_letter", "other", "bank_letter"] {
        upload_pdf(&app, &op, kind, &[]).await;
    }
    let path = format!("/api/v1/organisations/{}/documents", op.org);
    let r = app.get(&format!("{path}?kind=bank_letter")).token(&op.token).send().await.expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|d| d["kind"] == "bank_letter"));
    app.get(&format!("{path}?kind=passport")).token(&op.token).send().await.problem(400);
    let first = app.get(&format!("{path}?limit=2")).token(&op.token).send().await.expect(200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("{path}?limit=2&cursor={cursor}"))
        .token(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn a_retried_upload_with_its_key_stores_once() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let path = format!("/api/v1/organisations/{}/documents", op.org);
    let send = |bytes: Vec<u8>| {
        app.post(&path)
            .token(&op.token)
            .header("idempotency-key", "upload-1")
            .multipart(form(Some(("a.pdf", "application/pdf", bytes)), &[("kind", "other")]))
            .send()
    };
    let first = send(pdf(100)).await.expect(201);
    let again = send(pdf(100)).await.expect(201);
    assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    send(pdf(101)).await.problem(422);
    let list = app.get(&path).token(&op.token).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn documents_an_application_under_review_relies_on_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let second_site = app.site(&op.token, &op.org, "Lahore").await;
    let person = person_of(&app, &op).await;
    let letter = upload_pdf(&app, &op, "bank_letter", &[]).await;
    let identity = upload_pdf(&app, &op, "identity_document", &[("person_id", &person)]).await;
    let premises = upload_pdf(&app, &op, "premises_proof", &[("site_id", &op.site)]).await;
    let other_premises =
        upload_pdf(&app, &op, "premises_proof", &[("site_id", &second_site)]).await;
    let receipt = upload_pdf(&app, &op, "fee_receipt", &[]).await;
    let spare = upload_pdf(&app, &op, "other", &[]).await;

    // No application under review: the owner deletes.
    let path = |d: &Value| format!("/api/v1/documents/{}", d["id"].as_str().unwrap());
    app.delete(&path(&spare)).token(&op.token).send().await.expect(204);
    app.get(&path(&spare)).token(&op.token).send().await.problem(404);
    app.delete(&path(&spare)).token(&op.token).send().await.problem(404);
    let admin = app.admin_token().await;
    let audit =
        app.get("/api/v1/audit?action=document.deleted").token(&admin).send().await.expect(200);
    assert_eq!(audit.body["items"][0]["entity_id"], spare["id"]);

    let application = app
        .post("/api/v1/applications")
        .token(&op.token)
        .json(&json!({"organisation_id": op.org, "site_ids": [op.site], "category": "inbound", "term_months": 12}))
        .send()
        .await
        .expect(201);
    let app_id = application.body["id"].as_str().unwrap();
    // A draft relies on nothing yet.
    let draft_spare = upload_pdf(&app, &op, "bank_letter", &[]).await;
    app.delete(&path(&draft_spare)).token(&op.token).send().await.expect(204);

    app.db.execute(&format!("UPDATE applications SET status = 'submitted' WHERE id = '{app_id}'"));
    for doc in [&letter, &identity, &premises] {
        let r = app.delete(&path(doc)).token(&op.token).send().await.problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("under review"), "{}", r.text);
        app.get(&path(doc)).token(&op.token).send().await.expect(200);
    }
    // The premises of a site the application does not cover, and a receipt, are not relied on.
    app.delete(&path(&other_premises)).token(&op.token).send().await.expect(204);
    app.delete(&path(&receipt)).token(&op.token).send().await.expect(204);

    app.db.execute(&format!(
        "UPDATE applications SET status = 'info_requested' WHERE id = '{app_id}'"
    ));
    app.delete(&path(&letter)).token(&op.token).send().await.problem(409);
    app.db.execute(&format!("UPDATE applications SET status = 'withdrawn' WHERE id = '{app_id}'"));
    app.delete(&path(&letter)).token(&op.token).send().await.expect(204);
}

#[actix_web::test]
async fn missing_for_submission_names_each_missing_document() {
    let app = TestApp::spawn().await;
    let (op, _) = operator_without_documents(&app, 1).await;
    let second_site = app.site(&op.token, &op.org, "Lahore").await;
    let person = person_of(&app, &op).await;
    let db = ccreg::db::Db::connect(&app.db.url, 1).unwrap();
    let missing = |sites: Vec<String>| {
        let mut conn = db.get().unwrap();
        ccreg::documents::missing_for_submission(&mut conn, &op.org, &sites).unwrap()
    };

    let errors = missing(vec![op.site.clone(), second_site.clone(), op.site.clone()]);
    assert!(errors.iter().all(|e| e.field == "documents"));
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert!(messages[0].starts_with("incorporation_certificate"));
    assert!(messages[1].starts_with("tax_certificate"));
    assert!(messages[2].starts_with("bank_letter"));
    assert_eq!(messages[3], format!("identity_document: none for Imran Qureshi (person {person})"));
    assert_eq!(messages[4], format!("premises_proof: none for Karachi centre (site {})", op.site));
    assert_eq!(messages[5], format!("premises_proof: none for Lahore centre (site {second_site})"));

    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"] {
        upload_pdf(&app, &op, kind, &[]).await;
    }
    upload_pdf(&app, &op, "identity_document", &[("person_id", &person)]).await;
    upload_pdf(&app, &op, "premises_proof", &[("site_id", &op.site)]).await;
    // Another organisation's documents count for nothing here.
    let (other, _) = operator_without_documents(&app, 2).await;
    upload_pdf(&app, &other, "premises_proof", &[("site_id", &other.site)]).await;

    let messages: Vec<String> = missing(vec![op.site.clone(), second_site.clone()])
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages, [format!("premises_proof: none for Lahore centre (site {second_site})")]);
    assert!(missing(vec![op.site.clone()]).is_empty());
}
