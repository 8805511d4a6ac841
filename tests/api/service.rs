//! Health, readiness, metrics, the OpenAPI document and the docs.

use crate::helpers::TestApp;

const SPEC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz").send().await.expect(200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("/readyz").send().await.expect(200);
    assert_eq!(r.body["status"], "ready");
    app.get("/api/v1/me").send().await.problem(401);
    let m = app.get("/metrics").send().await.expect(200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    assert!(m.text.contains("# TYPE ccreg_http_requests_total counter"), "{}", m.text);
    assert!(
        m.text.contains(
            r#"ccreg_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1"#
        ),
        "{}",
        m.text
    );
}

#[actix_web::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let app = TestApp::spawn().await;
    let before = app.get("/metrics").send().await.expect(200).text.len();
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("BREW{i}").as_bytes()).unwrap();
        app.req(method.clone(), "/healthz").send().await;
        app.req(method, &format!("/no/such/path/{i}")).send().await;
        app.get(&format!("/no/such/path/{i}")).send().await;
    }
    let m = app.get("/metrics").send().await.expect(200);
    assert!(!m.text.contains("BREW") && !m.text.contains("/no/such"), "{}", m.text);
    assert!(m.text.contains(r#"method="other""#), "{}", m.text);
    assert!(m.text.contains(r#"route="unmatched""#), "{}", m.text);
    // 120 requests of 80 made-up kinds add a handful of series, not 80.
    assert!(m.text.len() < before + 8_000, "metrics grew from {before} to {} bytes", m.text.len());
}

/// The served spec must equal the committed one. `CCREG_UPDATE_OPENAPI=1 cargo test` rewrites it.
#[actix_web::test]
async fn served_openapi_equals_the_committed_file() {
    let app = TestApp::spawn().await;
    let served = app.get("/api/v1/openapi.json").send().await.expect(200);
    if std::env::var("CCREG_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(SPEC_FILE, &served.text).unwrap();
    }
    let committed = std::fs::read_to_string(SPEC_FILE).expect("openapi/openapi.json is committed");
    assert!(
        served.text == committed,
        "openapi/openapi.json differs from the served spec; run CCREG_UPDATE_OPENAPI=1 cargo test and review the diff"
    );
    assert_eq!(served.body["openapi"], "3.1.0");
    // Every operation documents its error statuses.
    let me = &served.body["paths"]["/api/v1/me"]["get"]["responses"];
    assert!(me.get("401").is_some() && me.get("403").is_some());
    let signup = &served.body["paths"]["/api/v1/auth/signup"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415", "422"] {
        assert!(signup.get(status).is_some(), "signup documents {status}");
    }
    assert_eq!(
        signup["422"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

#[actix_web::test]
async fn docs_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 308);
    let html = app.get("/docs/").send().await.expect(200);
    assert!(html.text.contains("swagger-ui"), "{}", html.text);
    for cdn in ["unpkg.com", "cdn.jsdelivr", "cdnjs"] {
        assert!(!html.text.contains(cdn), "docs load {cdn}");
    }
    let init = app.get("/docs/swagger-initializer.js").send().await.expect(200);
    assert!(init.text.contains("/api/v1/openapi.json"), "{}", init.text);
    app.get("/docs/swagger-ui-bundle.js").send().await.expect(200);
}
