//! The anonymous API's conventions (API.md §12): the public number check in E.164 and national
//! form, CORS, `Cache-Control: no-store`, `RateLimit-*` headers, and one limit per client
//! address, with `X-Forwarded-For` believed only from a trusted proxy.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::licensing::{in_status, operator};

/// A licensed operator whose site holds +92 21 3456 7000…7999; returns the licence number.
async fn licensed_with_numbers(app: &TestApp) -> String {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let licence =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    app.post(&format!("/api/v1/sites/{}/numbers", op.site))
        .token(&op.token)
        .json(&json!({"kind": "range", "first": "+922134567000", "last": "+922134567999", "purpose": "both"}))
        .send()
        .await
        .expect(201);
    licence
}

fn path(number: &str) -> String {
    format!("/api/v1/public/numbers/{}", number.replace(' ', "%20"))
}

#[actix_web::test]
async fn anyone_may_check_a_number_in_international_or_national_form() {
    let app = TestApp::spawn().await;
    let licence = licensed_with_numbers(&app).await;
    let holder =
        app.get(&format!("/api/v1/public/licences/{licence}")).send().await.expect(200).body
            ["holder"]
            .clone();
    for form in ["+922134567890", "+92 21 3456 7890", "021 3456 7890", "02134567890"] {
        let r = app.get(&path(form)).send().await.expect(200);
        assert_eq!(r.body["query"], form, "{}", r.text);
        assert_eq!(r.body["result"], "licensed", "{form}: {}", r.text);
        assert_eq!(r.body["licence_number"], licence.as_str());
        assert_eq!(r.body["holder"], holder);
        assert!(["provisional", "active"].contains(&r.body["status"].as_str().unwrap()));
        assert!(r.body["checked_at"].is_string());
        // No site and no registration number for the public.
        assert!(r.body.get("site").is_none() && r.body.get("registration_number").is_none());
    }
    let unknown = app.get(&path("021 9999 0000")).send().await.expect(200);
    assert_eq!(unknown.body["result"], "unknown");
    assert!(unknown.body.get("holder").is_none() && unknown.body.get("licence_number").is_none());
    app.get(&path("not a number")).send().await.problem(400);
    // The national form is accepted by agencies' /verify/numbers too.
    let (_, regulator) = app.staff("regulator", "reg2@pta.gov.pk").await;
    let r = app
        .get(&path("021 3456 7001").replace("/public/", "/verify/"))
        .token(&regulator)
        .send()
        .await;
    assert_eq!(r.expect(200).body["result"], "licensed");
}

#[actix_web::test]
async fn public_answers_carry_cors_no_store_and_rate_limit_headers() {
    let app = TestApp::spawn_with(|s| s.public_rate_per_minute = 5).await;
    let routes = [
        "/api/v1/public/numbers/+922134567890",
        "/api/v1/public/licences/CCL-2026-000001-16",
        "/api/v1/public/stats",
    ];
    let mut remaining = Vec::new();
    for route in routes {
        let r = app.get(route).header("origin", "https://bank.example").send().await;
        assert!(r.status == 200 || r.status == 404, "{route}: {}", r.text);
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"), "{route}");
        assert!(r.header("access-control-allow-credentials").is_none());
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{route}");
        assert_eq!(r.header("ratelimit-limit").as_deref(), Some("5"), "{route}");
        let left: u32 = r.header("ratelimit-remaining").unwrap().parse().unwrap();
        let reset: u64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset <= 60, "{route}: reset {reset}");
        remaining.push(left);
    }
    // Pages of one limit: each answer spends one look-up of the same allowance.
    assert_eq!(remaining, vec![4, 3, 2]);
    // A malformed question is answered with the same headers.
    let bad = app.get("/api/v1/public/numbers/banana").send().await.problem(400);
    assert_eq!(bad.header("ratelimit-remaining").as_deref(), Some("1"));
    assert_eq!(bad.header("access-control-allow-origin").as_deref(), Some("*"));
    app.get("/api/v1/public/stats").send().await.expect(200);
    let refused = app.get("/api/v1/public/stats").send().await.problem(429);
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
    assert!(refused.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(refused.header("access-control-allow-origin").as_deref(), Some("*"));
    // A preflight is answered for GET from any origin, and spends nothing.
    let pre = app
        .req(Method::OPTIONS, "/api/v1/public/numbers/+922134567890")
        .header("origin", "https://bank.example")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert_eq!(pre.status, 204, "{}", pre.text);
    assert_eq!(pre.header("access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(pre.header("access-control-allow-methods").as_deref(), Some("GET"));
    // Authenticated routes get no CORS headers.
    let me = app.get("/api/v1/me").header("origin", "https://bank.example").send().await;
    assert!(me.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let app = TestApp::spawn_with(|s| {
        s.public_rate_per_minute = 2;
        s.trusted_proxies = ccreg::http::public::parse_trusted("127.0.0.1/32").unwrap();
    })
    .await;
    let ask = |client: &'static str| {
        app.get("/api/v1/public/stats").header("x-forwarded-for", client).send()
    };
    ask("198.51.100.1").await.expect(200);
    ask("198.51.100.1").await.expect(200);
    ask("198.51.100.1").await.problem(429);
    // Another client behind the same proxy still has its allowance.
    let other = ask("198.51.100.2").await.expect(200);
    assert_eq!(other.header("ratelimit-remaining").as_deref(), Some("1"));
}

#[actix_web::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_with(|s| s.public_rate_per_minute = 2).await;
    let ask = |client: &'static str| {
        app.get("/api/v1/public/stats").header("x-forwarded-for", client).send()
    };
    ask("198.51.100.1").await.expect(200);
    ask("198.51.100.2").await.expect(200);
    // A third "client" is the same peer claiming another address: refused.
    ask("198.51.100.3").await.problem(429);
}
