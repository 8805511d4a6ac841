//! Inspection evidence (API.md §14, §16): photos the assigned inspector uploads before or with
//! the record, recognised from their bytes, listed as the inspection's `evidence`, their bytes
//! for staff only and every read of them audited as `document.read`.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{Resp, TestApp};
use crate::index::agency_client;
use crate::licensing::{act, operator_without_documents, Operator};

const MIB: usize = 1024 * 1024;

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    b.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    b
}

fn jpeg() -> Vec<u8> {
    b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9".to_vec()
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An upload: the file's bytes (declared as `image/png`, whatever they are), then text parts.
fn form(file: Option<Vec<u8>>, parts: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    if let Some(bytes) = file {
        let part = Part::bytes(bytes).file_name("photo.png").mime_str("image/png").unwrap();
        form = form.part("file", part);
    }
    for (k, v) in parts {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

fn photo(bytes: Vec<u8>, description: &str) -> Form {
    form(Some(bytes), &[("description", description)])
}

struct World {
    op: Operator,
    admin: String,
    regulator: String,
    inspector_id: String,
    inspector: String,
    other_inspector: String,
    /// `/api/v1/inspections/{id}`, scheduled by the regulator for `inspector` at the op's site.
    path: String,
}

async fn world(app: &TestApp) -> World {
    let (op, _) = operator_without_documents(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (inspector_id, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let (_, other_inspector) = app.staff("inspector", "insp2@pta.gov.pk").await;
    let path = schedule(app, &regulator, &op.site, &inspector_id).await;
    let admin = app.admin_token().await;
    World { op, admin, regulator, inspector_id, inspector, other_inspector, path }
}

/// Schedules a routine visit; returns the inspection's path.
async fn schedule(app: &TestApp, token: &str, site: &str, inspector_id: &str) -> String {
    let r = app
        .post("/api/v1/inspections")
        .token(token)
        .json(&json!({"site_id": site, "inspector_id": inspector_id,
                      "scheduled_for": "2026-12-01T09:00:00Z", "kind": "routine"}))
        .send()
        .await
        .expect(201);
    format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap())
}

async fn upload(app: &TestApp, token: &str, path: &str, form: Form) -> Resp {
    app.post(&format!("{path}/evidence")).token(token).multipart(form).send().await
}

fn visit(evidence: Value) -> Value {
    json!({
        "visited_at": "2026-12-01T10:30:00Z", "seats_observed": 120, "staff_present": 80,
        "foreign_nationals_present": 0, "findings": [], "outcome": "compliant",
        "evidence": evidence
    })
}

/// (status, content type, nosniff, ETag, bytes) of a download.
async fn download(app: &TestApp, token: &str, location: &str) -> (u16, String, String, Vec<u8>) {
    let res =
        app.client.get(format!("{}{location}", app.base)).bearer_auth(token).send().await.unwrap();
    let header =
        |n: &str| res.headers().get(n).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (status, content_type) = (res.status().as_u16(), header("content-type"));
    let tags = format!("{} {}", header("x-content-type-options"), header("etag"));
    (status, content_type, tags, res.bytes().await.unwrap().to_vec())
}

async fn audit_reads(app: &TestApp, admin: &str, evidence_id: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit?limit=500&action=document.read&entity_id={evidence_id}");
    let r = app.get(&path).token(admin).send().await.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn photos_are_stored_and_listed_with_their_hashes_then_closed_by_the_record() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut uploaded = Vec::new();
    for (bytes, media) in [(png(), "image/png"), (jpeg(), "image/jpeg")] {
        let r = upload(&app, &w.inspector, &w.path, photo(bytes.clone(), "Floor B from the door"))
            .await
            .expect(201);
        let id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(r.header("location").unwrap(), format!("{}/evidence/{id}", w.path));
        assert_eq!(r.body["sha256"], sha256(&bytes));
        assert_eq!(r.body["content_type"], media);
        assert_eq!(r.body["size_bytes"], bytes.len());
        assert_eq!(r.body["description"], "Floor B from the door");
        assert_eq!(r.body["taken_by"], w.inspector_id.as_str());
        assert!(r.body["uploaded_at"].is_string());
        uploaded.push(r.body);
    }
    let r = app.get(&w.path).token(&w.regulator).send().await.expect(200);
    assert_eq!(r.body["evidence"], json!(uploaded));
    let r = app.get("/api/v1/inspections").token(&w.inspector).send().await.expect(200);
    assert_eq!(r.body["items"][0]["evidence"], json!(uploaded));

    // The record's declared hashes follow the uploads; one naming an upload is that upload.
    let declared = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let body = visit(json!([
        {"sha256": sha256(&png()).to_uppercase(), "description": "The same photo"},
        {"sha256": declared, "description": "Photo kept on the inspector's camera"},
    ]));
    let r = act(&app, &w.inspector, &w.path, "record", Some(body)).await.expect(200);
    let evidence = r.body["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 3, "{}", r.text);
    assert_eq!(&evidence[..2], &uploaded[..]);
    assert_eq!(
        evidence[2],
        json!({"id": null, "sha256": declared, "content_type": null, "size_bytes": null,
               "description": "Photo kept on the inspector's camera", "taken_by": null,
               "uploaded_at": null})
    );
    // The operator sees the recorded inspection's evidence listed, not its bytes.
    let r = app.get(&w.path).token(&w.op.token).send().await.expect(200);
    assert_eq!(r.body["evidence"].as_array().unwrap().len(), 3);

    // Recorded: immutable.
    upload(&app, &w.inspector, &w.path, photo(png(), "late")).await.problem(409);
    // Cancelled: the same.
    let cancelled = schedule(&app, &w.regulator, &w.op.site, &w.inspector_id).await;
    act(&app, &w.regulator, &cancelled, "cancel", Some(json!({"reason": "Site closed for Eid"})))
        .await
        .expect(200);
    upload(&app, &w.inspector, &cancelled, photo(png(), "late")).await.problem(409);
}

#[actix_web::test]
async fn only_png_and_jpeg_photos_within_the_limits_with_a_description() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // Declared image/png and named photo.png, whatever the bytes are.
    upload(&app, &w.inspector, &w.path, photo(pdf(), "A PDF")).await.problem(415);
    let text = b"just some text, not a photo".to_vec();
    upload(&app, &w.inspector, &w.path, photo(text, "Text")).await.problem(415);
    let mut big = png();
    big.resize(10 * MIB + 1, 0);
    upload(&app, &w.inspector, &w.path, photo(big, "Too big")).await.problem(413);
    let r = app
        .post(&format!("{}/evidence", w.path))
        .token(&w.inspector)
        .json(&json!({"description": "not multipart"}))
        .send()
        .await
        .problem(415);
    assert!(r.body["detail"].as_str().unwrap().contains("file, description"), "{}", r.text);

    let fields = |r: &Resp| -> Vec<String> {
        let errors = r.body["errors"].as_array().unwrap();
        errors.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
    };
    let r = upload(&app, &w.inspector, &w.path, form(None, &[])).await.problem(422);
    assert_eq!(fields(&r), ["file", "description"], "{}", r.text);
    let r = upload(&app, &w.inspector, &w.path, photo(Vec::new(), " ")).await.problem(422);
    assert_eq!(fields(&r), ["file", "description"], "{}", r.text);
    let r = upload(&app, &w.inspector, &w.path, form(Some(png()), &[("kind", "other")]))
        .await
        .problem(422);
    assert_eq!(fields(&r), ["kind", "description"], "{}", r.text);
    // Nothing was stored.
    let r = app.get(&w.path).token(&w.inspector).send().await.expect(200);
    assert_eq!(r.body["evidence"], json!([]));
}

#[actix_web::test]
async fn only_the_assigned_inspector_uploads_and_only_staff_read_the_bytes() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (_, agency) = agency_client(&app, "Bank reader").await;
    for token in [&w.regulator, &w.admin, &w.op.token, &agency] {
        upload(&app, token, &w.path, photo(png(), "Not mine")).await.problem(403);
    }
    // Another inspector does not see the inspection at all.
    upload(&app, &w.other_inspector, &w.path, photo(png(), "Not mine")).await.problem(404);

    let r = upload(&app, &w.inspector, &w.path, photo(jpeg(), "Seat plan")).await.expect(201);
    let location = r.header("location").unwrap();
    let evidence_id = r.body["id"].as_str().unwrap().to_string();
    let etag = format!("nosniff \"{}\"", sha256(&jpeg()));
    for token in [&w.inspector, &w.regulator, &w.admin] {
        let (status, media, tags, bytes) = download(&app, token, &location).await;
        assert_eq!((status, media.as_str(), tags.as_str()), (200, "image/jpeg", etag.as_str()));
        assert_eq!(bytes, jpeg());
    }
    // Each read is on the audit log as document.read, by its reader.
    let reads = audit_reads(&app, &w.admin, &evidence_id).await;
    assert_eq!(reads.len(), 3, "{reads:?}");
    let actors: Vec<&str> = reads.iter().map(|e| e["actor_id"].as_str().unwrap()).collect();
    assert!(actors.contains(&w.inspector_id.as_str()), "{reads:?}");
    assert!(reads.iter().all(|e| e["entity_type"] == "evidence"), "{reads:?}");

    // Never operators or agencies: 403 by role, for any id (so nothing is revealed).
    act(&app, &w.inspector, &w.path, "record", Some(visit(json!([])))).await.expect(200);
    let missing = format!("{}/evidence/{}", w.path, uuid::Uuid::new_v4());
    for token in [&w.op.token, &agency] {
        for path in [&location, &missing] {
            app.get(path).token(token).send().await.problem(403);
        }
    }
    // Staff who may not see the inspection, or an id of no evidence of it: 404.
    app.get(&location).token(&w.other_inspector).send().await.problem(404);
    app.get(&missing).token(&w.regulator).send().await.problem(404);
    // Refused reads are not recorded.
    assert_eq!(audit_reads(&app, &w.admin, &evidence_id).await.len(), 3);
}
