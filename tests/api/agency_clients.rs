//! Agency clients and the client_credentials grant.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn clients_sign_in_until_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let operator = app.operator_token("op@example.pk").await;
    let body = json!({"name": "HBL fraud desk", "agency": "Habib Bank"});
    app.post("/api/v1/agency-clients").token(&operator).json(&body).send().await.problem(403);

    let created =
        app.post("/api/v1/agency-clients").token(&admin).json(&body).send().await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let client_id = created.body["client_id"].as_str().unwrap().to_string();
    let secret = created.body["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 40);

    // The secret is shown once: never in reads or lists.
    let got =
        app.get(&format!("/api/v1/agency-clients/{id}")).token(&admin).send().await.expect(200);
    assert!(got.body.get("client_secret").is_none() && !got.text.contains(&secret));
    let list = app.get("/api/v1/agency-clients").token(&admin).send().await.expect(200);
    assert!(!list.text.contains(&secret));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let grant = |secret: String| {
        let (app, client_id) = (&app, client_id.clone());
        async move {
            app.post("/api/v1/auth/token")
                .json(&json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}))
                .send()
                .await
        }
    };
    let t = grant(secret.clone()).await.expect(200);
    assert!(t.body.get("refresh_token").is_none());
    let token = t.body["access_token"].as_str().unwrap().to_string();
    let me = app.get("/api/v1/me").token(&token).send().await.expect(200);
    assert_eq!(me.body["role"], "agency");
    assert_eq!(me.body["email"], serde_json::Value::Null);
    assert_eq!(me.body["full_name"], "HBL fraud desk");
    // Agencies may not manage anything.
    app.get("/api/v1/users").token(&token).send().await.problem(403);
    app.get("/api/v1/audit").token(&token).send().await.problem(403);

    grant("wrong secret".into()).await.problem(401);

    app.delete(&format!("/api/v1/agency-clients/{id}")).token(&admin).send().await.expect(204);
    app.get("/api/v1/me").token(&token).send().await.problem(401);
    grant(secret).await.problem(401);
    app.delete(&format!("/api/v1/agency-clients/{id}")).token(&admin).send().await.problem(404);
    app.get(&format!("/api/v1/agency-clients/{id}")).token(&admin).send().await.problem(404);
    let all = app.get("/api/v1/agency-clients").token(&admin).send().await.expect(200);
    assert_eq!(all.body["items"][0]["active"], false);
    assert!(all.body["items"][0]["revoked_at"].is_string());
    let active =
        app.get("/api/v1/agency-clients?active=true").token(&admin).send().await.expect(200);
    assert_eq!(active.body["items"].as_array().unwrap().len(), 0);
}
