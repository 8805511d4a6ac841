//! The token endpoint as OAuth 2.0 clients call it, Swagger UI's Authorize first: form bodies,
//! an empty or any `scope`, and client credentials as HTTP Basic (RFC 6749 §2.3.1).

use base64::Engine;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

fn basic(id: &str, secret: &str) -> String {
    let raw = format!("{id}:{secret}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// An agency client; returns (client_id, client_secret).
async fn agency_client(app: &TestApp) -> (String, String) {
    let admin = app.admin_token().await;
    let c = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "Swagger desk", "agency": "PTA"}))
        .send()
        .await
        .expect(201);
    let field = |k: &str| c.body[k].as_str().unwrap().to_string();
    (field("client_id"), field("client_secret"))
}

async fn role_of(app: &TestApp, token_response: &serde_json::Value) -> String {
    let token = token_response["access_token"].as_str().expect("an access token");
    let me = app.get("/api/v1/me").token(token).send().await.expect(200);
    me.body["role"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn the_password_flow_as_swagger_ui_sends_it() {
    let app = TestApp::spawn().await;
    app.signup("swagger@example.pk").await;
    let creds = [("username", "swagger@example.pk"), ("password", PASSWORD)];
    // Swagger UI's default: no client typed, sent as `Basic base64(":")`, scope present or not.
    for scope in [None, Some(""), Some("read write")] {
        let mut pairs = vec![("grant_type", "password")];
        pairs.extend(creds);
        pairs.extend(scope.map(|s| ("scope", s)));
        let r = app
            .post("/api/v1/auth/token")
            .header("authorization", &basic("", ""))
            .body("application/x-www-form-urlencoded", form(&pairs))
            .send()
            .await
            .expect(200);
        assert!(r.body["refresh_token"].is_string(), "{}", r.text);
        assert_eq!(role_of(&app, &r.body).await, "operator");
    }
    // A client typed into the dialog, in the body or as Basic: the password grant ignores it.
    let mut pairs = vec![("grant_type", "password"), ("client_id", "swagger-ui")];
    pairs.extend(creds);
    app.post("/api/v1/auth/token")
        .body("application/x-www-form-urlencoded", form(&pairs))
        .send()
        .await
        .expect(200);
    let mut pairs = vec![("grant_type", "password")];
    pairs.extend(creds);
    app.post("/api/v1/auth/token")
        .header("authorization", &basic("swagger-ui", "anything"))
        .body("application/x-www-form-urlencoded", form(&pairs))
        .send()
        .await
        .expect(200);
    // A wrong password is still refused.
    let pairs = [
        ("grant_type", "password"),
        ("username", "swagger@example.pk"),
        ("password", "wrong password!!"),
    ];
    let r = app
        .post("/api/v1/auth/token")
        .header("authorization", &basic("", ""))
        .body("application/x-www-form-urlencoded", form(&pairs))
        .send()
        .await
        .problem(401);
    assert_eq!(r.body["error"], "invalid_grant");
}

#[actix_web::test]
async fn client_credentials_may_come_as_http_basic() {
    let app = TestApp::spawn().await;
    let (id, secret) = agency_client(&app).await;
    let token = |authorization: String, pairs: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post("/api/v1/auth/token")
                .header("authorization", &authorization)
                .body("application/x-www-form-urlencoded", form(&pairs))
                .send()
                .await
        }
    };
    let grant = || vec![("grant_type", "client_credentials".to_string())];

    // As Swagger UI sends it: Basic credentials, a form body with the grant and maybe a scope.
    let r = token(basic(&id, &secret), grant()).await.expect(200);
    assert_eq!(role_of(&app, &r.body).await, "agency");
    assert!(r.body.get("refresh_token").is_none());
    let mut scoped = grant();
    scoped.push(("scope", String::new()));
    token(basic(&id, &secret), scoped).await.expect(200);
    // RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64.
    let encoded_id = id.replace('-', "%2D");
    token(basic(&encoded_id, &secret), grant()).await.expect(200);
    // A body repeating the same client_id is accepted; any other second credential is not.
    let mut same = grant();
    same.push(("client_id", id.clone()));
    token(basic(&id, &secret), same).await.expect(200);
    let mut other = grant();
    other.push(("client_id", "ccreg-someone-else".into()));
    let r = token(basic(&id, &secret), other).await.problem(400);
    assert!(r.body["detail"].as_str().unwrap().contains("once"), "{}", r.text);
    let mut twice = grant();
    twice.push(("client_secret", secret.clone()));
    token(basic(&id, &secret), twice).await.problem(400);

    // Wrong or unreadable Basic credentials are 401, and never reveal which part was wrong.
    let r = token(basic(&id, "not the secret"), grant()).await.problem(401);
    assert!(!r.text.contains(&secret));
    let r = token("Basic !!not-base64!!".into(), grant()).await.problem(401);
    assert_eq!(r.body["error"], "invalid_client");
    let r = token(
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("no colon")),
        grant(),
    )
    .await
    .problem(401);
    assert_eq!(r.body["error"], "invalid_client");
    // An empty Basic pair names no client: the body must then carry one.
    let r = token(basic("", ""), grant()).await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "client_id");
    // JSON bodies take Basic credentials too.
    let r = app
        .post("/api/v1/auth/token")
        .header("authorization", &basic(&id, &secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect(200);
    assert_eq!(role_of(&app, &r.body).await, "agency");
}
