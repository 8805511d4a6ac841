//! Access-token validation: what a forged, stale or foreign token gets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

/// Claims like the server's, for user `sub`, issued at the app's now.
fn claims(app: &TestApp, sub: &str) -> Value {
    let now = ccreg::clock::Clock::now(&app.clock).timestamp();
    json!({"iss": "ccreg", "aud": "ccreg-api", "sub": sub, "exp": now + 900, "nbf": now,
           "iat": now, "jti": uuid::Uuid::new_v4().to_string(), "role": "operator"})
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me").token(token).send().await.status.as_u16()
}

#[actix_web::test]
async fn tokens_expire_after_fifteen_minutes_with_thirty_seconds_leeway() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("t@example.pk").await;
    app.clock.advance(Duration::seconds(900 + 29));
    assert_eq!(me_status(&app, &token).await, 200);
    app.clock.advance(Duration::seconds(2));
    let r = app.get("/api/v1/me").token(&token).send().await.problem(401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[actix_web::test]
async fn forged_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (id, _) = app.signup("f@example.pk").await;
    let keys = app.keys();

    // A token the test signs with the server's own key works: the checks below are what fail.
    let good = keys.sign(&claims(&app, &id)).unwrap();
    assert_eq!(me_status(&app, &good).await, 200);

    let mut c = claims(&app, &id);
    c["nbf"] = json!(c["nbf"].as_i64().unwrap() + 120);
    assert_eq!(me_status(&app, &keys.sign(&c).unwrap()).await, 401, "not yet valid");

    let mut c = claims(&app, &id);
    c["nbf"] = json!(c["nbf"].as_i64().unwrap() + 10);
    assert_eq!(me_status(&app, &keys.sign(&c).unwrap()).await, 200, "within leeway");

    let mut c = claims(&app, &id);
    c["aud"] = json!("another-service");
    assert_eq!(me_status(&app, &keys.sign(&c).unwrap()).await, 401, "other audience");

    let mut c = claims(&app, &id);
    c["iss"] = json!("someone-else");
    assert_eq!(me_status(&app, &keys.sign(&c).unwrap()).await, 401, "other issuer");

    for missing in ["exp", "nbf", "iat", "iss", "aud", "sub"] {
        let mut c = claims(&app, &id);
        c.as_object_mut().unwrap().remove(missing);
        assert_eq!(me_status(&app, &keys.sign(&c).unwrap()).await, 401, "without {missing}");
    }

    // Tampered payload: the role changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    assert_eq!(me_status(&app, &parts.join(".")).await, 401, "tampered");

    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(&app, &id).to_string());
    assert_eq!(me_status(&app, &format!("{header}.{body}.")).await, 401, "alg none");

    // Signed by another key.
    let other_dir = tempfile::tempdir().unwrap();
    let other =
        ccreg::auth::keys::Keys::load_or_create(other_dir.path(), "ccreg", "ccreg-api").unwrap();
    assert_eq!(me_status(&app, &other.sign(&claims(&app, &id)).unwrap()).await, 401, "foreign key");

    // Not a bearer token at all.
    let r = app.get("/api/v1/me").header("authorization", "Basic Zm9vOmJhcg==").send().await;
    assert_eq!(r.status.as_u16(), 401);
    assert_eq!(me_status(&app, "garbage").await, 401);
}

#[actix_web::test]
async fn the_role_is_read_from_the_account_not_the_token() {
    let app = TestApp::spawn().await;
    let (id, _) = app.signup("r@example.pk").await;
    let mut c = claims(&app, &id);
    c["role"] = json!("admin");
    let token = app.keys().sign(&c).unwrap();
    let r = app.get("/api/v1/users").token(&token).send().await.problem(403);
    assert!(r.body["detail"].as_str().unwrap().contains("operator"));
}

#[actix_web::test]
async fn a_standard_jwt_library_verifies_tokens_with_the_jwks_alone() {
    let app = TestApp::spawn().await;
    app.signup("jwks@example.pk").await;
    let token = app.login("jwks@example.pk", PASSWORD).await;
    let jwks = app.get("/.well-known/jwks.json").send().await.expect(200);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.body.clone()).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let jwk = set.find(header.kid.as_deref().unwrap()).expect("kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&["ccreg-api"]);
    v.set_issuer(&["ccreg"]);
    v.validate_exp = false; // the test clock is not the wall clock
    let data = jsonwebtoken::decode::<Value>(&token, &key, &v).unwrap();
    for claim in ["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "role"] {
        assert!(data.claims.get(claim).is_some(), "missing {claim}");
    }
    assert_eq!(data.claims["role"], "operator");
    assert_eq!(data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap(), 900);
}

#[actix_web::test]
async fn signing_keys_persist_across_restarts() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("persist@example.pk").await;
    let kid = app.keys().kid().to_string();
    // A second server on the same database and key directory accepts the first one's token.
    let second = ccreg::app::Application::build(
        app.settings.clone(),
        std::sync::Arc::new(app.clock.clone()),
    )
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.server());
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let jwks: Value =
        reqwest::get(format!("{base}/.well-known/jwks.json")).await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
}
