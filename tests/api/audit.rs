//! The hash-chained audit log.

use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn changes_are_chained_and_tampering_is_found() {
    let app = TestApp::spawn().await;
    let (op_id, _) = app.signup("a@example.pk").await;
    let admin = app.admin_token().await;
    app.post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "r@pta.gov.pk", "password": PASSWORD, "full_name": "R", "role": "regulator"}))
        .send()
        .await
        .expect(201);
    app.post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "PTA monitor", "agency": "PTA"}))
        .send()
        .await
        .expect(201);

    let page = app.get("/api/v1/audit").token(&admin).send().await.expect(200);
    let items = page.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["user.signed_up", "user.signed_up", "user.created", "agency_client.created"]
    );
    for pair in items.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        assert_eq!(pair[1]["seq"].as_i64().unwrap(), pair[0]["seq"].as_i64().unwrap() + 1);
    }
    assert!(!page.text.contains(PASSWORD));

    let mine = app
        .get(&format!("/api/v1/audit?entity_type=user&entity_id={op_id}"))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["actor_id"], op_id.as_str());

    let ok = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(ok.body["ok"], true);
    assert_eq!(ok.body["entries"], 4);
    assert_eq!(ok.body["head_hash"], items[3]["hash"]);
    assert_eq!(ok.body["first_bad_seq"], serde_json::Value::Null);

    let (_, regulator) = app.staff("regulator", "r2@pta.gov.pk").await;
    app.get("/api/v1/audit/verify").token(&regulator).send().await.expect(200);
    let operator = app.login("a@example.pk", PASSWORD).await;
    app.get("/api/v1/audit").token(&operator).send().await.problem(403);
    app.get("/api/v1/audit/verify").token(&operator).send().await.problem(403);

    // Someone edits entry 3 in the database.
    assert_eq!(
        app.db.execute("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 3"),
        1
    );
    let bad = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(bad.body["ok"], false);
    assert_eq!(bad.body["first_bad_seq"], 3);
}

#[actix_web::test]
async fn deleting_entries_is_found_too() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.signup(&format!("d{i}@example.pk")).await;
    }
    let admin = app.admin_token().await;
    app.db.execute("DELETE FROM audit_log WHERE seq = 2");
    let r = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(r.body["ok"], false);
    assert_eq!(r.body["first_bad_seq"], 2);

    let app = TestApp::spawn().await;
    app.signup("t@example.pk").await;
    let admin = app.admin_token().await;
    let last = app.db.execute("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)");
    assert_eq!(last, 1);
    let r = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(r.body["ok"], false, "a truncated tail is found: {}", r.text);
}

#[actix_web::test]
async fn audit_pages_by_cursor() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.signup(&format!("p{i}@example.pk")).await;
    }
    let admin = app.admin_token().await;
    let first = app.get("/api/v1/audit?limit=2").token(&admin).send().await.expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("/api/v1/audit?limit=2&cursor={cursor}"))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(second.body["items"][0]["seq"], 3);
}
