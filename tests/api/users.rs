//! Staff accounts: admin only, If-Match on PATCH, pagination.

use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL, PASSWORD};

#[actix_web::test]
async fn only_admins_manage_staff() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "reg@pta.gov.pk", "password": PASSWORD, "full_name": "Regulator", "role": "regulator"});
    app.post("/api/v1/users").json(&body).send().await.problem(401);
    let operator = app.operator_token("op@example.pk").await;
    app.post("/api/v1/users").token(&operator).json(&body).send().await.problem(403);
    app.get("/api/v1/users").token(&operator).send().await.problem(403);

    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    app.get("/api/v1/users").token(&regulator).send().await.problem(403);
    let me = app.get("/api/v1/me").token(&regulator).send().await.expect(200);
    assert_eq!(me.body["role"], "regulator");

    let (_, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    app.get("/api/v1/users").token(&inspector).send().await.problem(403);

    let admin = app.admin_token().await;
    for role in ["operator", "agency", "superuser"] {
        let r = app
            .post("/api/v1/users")
            .token(&admin)
            .json(&json!({"email": "x@pta.gov.pk", "password": PASSWORD, "full_name": "X", "role": role}))
            .send()
            .await
            .problem(422);
        assert_eq!(r.body["errors"][0]["field"], "role");
    }
    app.post("/api/v1/users").token(&admin).json(&body).send().await.problem(409);
}

#[actix_web::test]
async fn lists_page_through_every_user_once() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        app.signup(&format!("p{i}@example.pk")).await;
    }
    let admin = app.admin_token().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".to_string(),
        };
        let page = app.get(&path).token(&admin).send().await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|u| u["email"].as_str().unwrap().to_string()));
        // A user added while paging does not disturb the pages.
        if seen.len() == 3 {
            app.signup("late@example.pk").await;
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no user twice: {seen:?}");
    assert_eq!(seen.len(), 9, "admin + 7 operators + the late one: {seen:?}");

    let ops =
        app.get("/api/v1/users?role=operator&limit=500").token(&admin).send().await.expect(200);
    assert_eq!(ops.body["items"].as_array().unwrap().len(), 8);
    let admins = app
        .get(&format!("/api/v1/users?email={ADMIN_EMAIL}"))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(admins.body["items"].as_array().unwrap().len(), 1);

    app.get("/api/v1/users?limit=0").token(&admin).send().await.problem(400);
    app.get("/api/v1/users?limit=501").token(&admin).send().await.problem(400);
    app.get("/api/v1/users?limit=ten").token(&admin).send().await.problem(400);
    app.get("/api/v1/users?cursor=forged").token(&admin).send().await.problem(400);
    app.get("/api/v1/users?role=emperor").token(&admin).send().await.problem(400);
}

#[actix_web::test]
async fn patch_needs_a_current_if_match() {
    let app = TestApp::spawn().await;
    let (id, _) = app.staff("inspector", "i@pta.gov.pk").await;
    let admin = app.admin_token().await;
    let path = format!("/api/v1/users/{id}");
    let got = app.get(&path).token(&admin).send().await.expect(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));

    app.patch(&path).token(&admin).json(&json!({"full_name": "New"})).send().await.problem(428);
    app.patch(&path)
        .token(&admin)
        .header("if-match", "\"7\"")
        .json(&json!({"full_name": "New"}))
        .send()
        .await
        .problem(412);
    let r = app
        .patch(&path)
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"full_name": "Nadia Shah", "role": "regulator"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["role"], "regulator");
    // The old ETag is stale now.
    app.patch(&path)
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"full_name": "Again"}))
        .send()
        .await
        .problem(412);
    // Server-owned fields cannot be set.
    let r = app
        .patch(&path)
        .token(&admin)
        .header("if-match", "\"2\"")
        .json(&json!({"version": 9}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "version");
    let nobody = "0190a3c4-7b1e-7000-8000-000000000000";
    app.patch(&format!("/api/v1/users/{nobody}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"full_name": "X"}))
        .send()
        .await
        .problem(404);
    app.get(&format!("/api/v1/users/{nobody}")).token(&admin).send().await.problem(404);
    // An id that is not a UUID is malformed, not unknown.
    app.get("/api/v1/users/no-such-user").token(&admin).send().await.problem(400);
}

#[actix_web::test]
async fn operators_cannot_be_promoted_and_the_last_admin_stays() {
    let app = TestApp::spawn().await;
    let (op_id, _) = app.signup("o@example.pk").await;
    let admin = app.admin_token().await;
    let r = app
        .patch(&format!("/api/v1/users/{op_id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "role");

    let me = app.get("/api/v1/me").token(&admin).send().await.expect(200);
    let admin_id = me.body["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/users/{admin_id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"active": false}))
        .send()
        .await
        .problem(409);
}
