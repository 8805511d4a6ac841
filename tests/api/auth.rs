//! Sign-up, the password grant, lock-out, refresh rotation, revocation, /me.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn signup_then_token_then_me() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/v1/auth/signup")
        .json(&json!({"email": "Ops@Karachi-Contact.PK", "password": PASSWORD, "full_name": "Bilal Ahmed"}))
        .send()
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["role"], "operator");
    assert_eq!(r.body["email"], "ops@karachi-contact.pk");
    assert!(r.body.get("password_hash").is_none() && r.body.get("password").is_none());
    assert_eq!(r.header("location"), Some(format!("/api/v1/users/{id}")));
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));

    let t = app.password_grant("ops@karachi-contact.pk", PASSWORD).await.expect(200);
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.body["expires_in"], 900);
    assert!(t.body["refresh_token"].is_string());
    assert_eq!(t.header("cache-control").as_deref(), Some("no-store"));
    let token = t.body["access_token"].as_str().unwrap();

    let me = app.get("/api/v1/me").token(token).send().await.expect(200);
    assert_eq!(me.body["id"], id.as_str());
    assert_eq!(me.body["email"], "ops@karachi-contact.pk");
    assert_eq!(me.body["full_name"], "Bilal Ahmed");
    assert_eq!(me.body["role"], "operator");
}

#[actix_web::test]
async fn signup_refuses_duplicates_and_bad_values() {
    let app = TestApp::spawn().await;
    app.signup("dup@example.pk").await;
    let r = app
        .post("/api/v1/auth/signup")
        .json(&json!({"email": "DUP@example.pk", "password": PASSWORD, "full_name": "Again"}))
        .send()
        .await
        .problem(409);
    assert!(r.body["detail"].as_str().unwrap().contains("dup@example.pk"));

    for (body, field) in [
        (json!({"email": "x@example.pk", "password": "elevenchars", "full_name": "A"}), "password"),
        (
            json!({"email": "x@example.pk", "password": "p".repeat(129), "full_name": "A"}),
            "password",
        ),
        (json!({"email": "not-an-email", "password": PASSWORD, "full_name": "A"}), "email"),
        (json!({"email": "x@example.pk", "password": PASSWORD, "full_name": "  "}), "full_name"),
        (json!({"email": "x@example.pk", "password": PASSWORD}), "full_name"),
        (
            json!({"email": "x@example.pk", "password": PASSWORD, "full_name": "A", "role": "admin"}),
            "role",
        ),
    ] {
        let r = app.post("/api/v1/auth/signup").json(&body).send().await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    // Twelve characters is enough; 128 is the most.
    for (i, p) in ["twelve chars".to_string(), "p".repeat(128)].iter().enumerate() {
        app.post("/api/v1/auth/signup")
            .json(&json!({"email": format!("ok{i}@example.pk"), "password": p, "full_name": "A"}))
            .send()
            .await
            .expect(201);
    }
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::spawn().await;
    app.signup("known@example.pk").await;
    let wrong = app.password_grant("known@example.pk", "not the password!").await.problem(401);
    let unknown = app.password_grant("nobody@example.pk", "not the password!").await.problem(401);
    assert_eq!(wrong.text, unknown.text);
    assert!(wrong.header("www-authenticate").unwrap().starts_with("Bearer"));
    assert_eq!(wrong.body["error"], "invalid_grant");
}

#[actix_web::test]
async fn form_encoded_token_requests_work() {
    let app = TestApp::spawn().await;
    app.signup("form@example.pk").await;
    let body = format!(
        "grant_type=password&username=form%40example.pk&password={}",
        PASSWORD.replace(' ', "+")
    );
    let r = app
        .post("/api/v1/auth/token")
        .body("application/x-www-form-urlencoded", body)
        .send()
        .await
        .expect(200);
    assert!(r.body["access_token"].is_string());
    let r = app
        .post("/api/v1/auth/token")
        .body("application/x-www-form-urlencoded", "grant_type=magic")
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "grant_type");
    let r = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "password", "username": "form@example.pk"}))
        .send()
        .await
        .problem(422);
    assert_eq!(r.body["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_with_doubling_back_off() {
    let app = TestApp::spawn().await;
    let email = "locked@example.pk";
    app.signup(email).await;
    for _ in 0..5 {
        app.password_grant(email, "wrong password!!").await.problem(401);
    }
    // Locked: even the right password is refused, with Retry-After.
    let r = app.password_grant(email, PASSWORD).await.problem(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("30"));
    app.clock.advance(Duration::seconds(20));
    let r = app.password_grant(email, PASSWORD).await.problem(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("10"));

    // After the lock, one more failure locks again for twice as long.
    app.clock.advance(Duration::seconds(11));
    app.password_grant(email, "wrong password!!").await.problem(401);
    let r = app.password_grant(email, PASSWORD).await.problem(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("60"));

    // A success resets the count: four failures later it is still open.
    app.clock.advance(Duration::seconds(61));
    app.password_grant(email, PASSWORD).await.expect(200);
    for _ in 0..4 {
        app.password_grant(email, "wrong password!!").await.problem(401);
    }
    app.password_grant(email, PASSWORD).await.expect(200);

    // Other accounts are not affected.
    app.signup("other@example.pk").await;
    app.password_grant("other@example.pk", PASSWORD).await.expect(200);
}

#[actix_web::test]
async fn back_off_is_capped_at_fifteen_minutes() {
    let app = TestApp::spawn().await;
    let email = "cap@example.pk";
    app.signup(email).await;
    for _ in 0..5 {
        app.password_grant(email, "wrong password!!").await.problem(401);
    }
    let mut expected = 30;
    for _ in 0..8 {
        let r = app.password_grant(email, "wrong password!!").await.problem(429);
        assert_eq!(r.header("retry-after"), Some(expected.to_string()));
        app.clock.advance(Duration::seconds(expected + 1));
        app.password_grant(email, "wrong password!!").await.problem(401);
        expected = (expected * 2).min(900);
    }
    let r = app.password_grant(email, PASSWORD).await.problem(429);
    assert_eq!(r.header("retry-after").as_deref(), Some("900"));
}

#[actix_web::test]
async fn unknown_accounts_lock_out_like_known_ones() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.password_grant("ghost@example.pk", "wrong password!!").await.problem(401);
    }
    app.password_grant("ghost@example.pk", "wrong password!!").await.problem(429);
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    app.signup("rot@example.pk").await;
    let first = app.password_grant("rot@example.pk", PASSWORD).await.expect(200);
    let r1 = first.body["refresh_token"].as_str().unwrap().to_string();

    let refresh = |t: String| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/token")
                .json(&json!({"grant_type": "refresh_token", "refresh_token": t}))
                .send()
                .await
        }
    };
    let second = refresh(r1.clone()).await.expect(200);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let access = second.body["access_token"].as_str().unwrap();
    app.get("/api/v1/me").token(access).send().await.expect(200);

    // r1 again: reuse. It fails, and so does r2, its successor.
    refresh(r1).await.problem(401);
    refresh(r2).await.problem(401);
    refresh("made-up-token".into()).await.problem(401);

    let admin = app.admin_token().await;
    let audit = app
        .get("/api/v1/audit?action=refresh_token.reuse_detected")
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn refresh_tokens_expire() {
    let app = TestApp::spawn().await;
    app.signup("exp@example.pk").await;
    let t = app.password_grant("exp@example.pk", PASSWORD).await.expect(200);
    app.clock.advance(Duration::days(15));
    app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "refresh_token", "refresh_token": t.body["refresh_token"]}))
        .send()
        .await
        .problem(401);
}

#[actix_web::test]
async fn revoking_tokens_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    app.signup("rev@example.pk").await;
    let t = app.password_grant("rev@example.pk", PASSWORD).await.expect(200);
    let access = t.body["access_token"].as_str().unwrap();
    let refresh = t.body["refresh_token"].as_str().unwrap();

    app.post("/api/v1/auth/revoke").json(&json!({"token": access})).send().await.expect(200);
    app.get("/api/v1/me").token(access).send().await.problem(401);

    app.post("/api/v1/auth/revoke")
        .body(
            "application/x-www-form-urlencoded",
            format!("token={refresh}&token_type_hint=refresh_token"),
        )
        .send()
        .await
        .expect(200);
    app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .send()
        .await
        .problem(401);

    // Unknown tokens are 200 too (RFC 7009).
    app.post("/api/v1/auth/revoke").json(&json!({"token": "nonsense"})).send().await.expect(200);

    let admin = app.admin_token().await;
    let audit = app.get("/api/v1/audit").token(&admin).send().await.expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"access_token.revoked"), "{actions:?}");
    assert!(actions.contains(&"refresh_token.revoked"), "{actions:?}");
}

#[actix_web::test]
async fn a_deactivated_users_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let (id, _) = app.signup("gone@example.pk").await;
    let t = app.password_grant("gone@example.pk", PASSWORD).await.expect(200);
    let access = t.body["access_token"].as_str().unwrap();
    let admin = app.admin_token().await;
    app.patch(&format!("/api/v1/users/{id}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    app.get("/api/v1/me").token(access).send().await.problem(401);
    app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "refresh_token", "refresh_token": t.body["refresh_token"]}))
        .send()
        .await
        .problem(401);
    app.password_grant("gone@example.pk", PASSWORD).await.problem(401);
}

#[actix_web::test]
async fn concurrent_signups_all_succeed() {
    let app = TestApp::spawn().await;
    let requests = (0..16).map(|i| {
        app.post("/api/v1/auth/signup")
            .json(&json!({"email": format!("c{i}@example.pk"), "password": PASSWORD, "full_name": "C"}))
            .send()
    });
    for r in futures_util::future::join_all(requests).await {
        r.expect(201);
    }
    let admin = app.admin_token().await;
    let list =
        app.get("/api/v1/users?role=operator&limit=100").token(&admin).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 16);
    let verify = app.get("/api/v1/audit/verify").token(&admin).send().await.expect(200);
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}
