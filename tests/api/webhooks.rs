//! Webhooks (API.md §13): endpoints, signed deliveries in feed order, retries on the Standard
//! Webhooks schedule, disabling, and the address rules. A receiver on 127.0.0.1 records what
//! it gets; the tests run delivery rounds themselves (`app.webhooks.deliver_due()`) and move
//! the clock, with the background worker off.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ccreg::clock::Clock;
use chrono::Duration;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{TestApp, PASSWORD};
use crate::licensing::{act, in_status, operator};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn seq(&self) -> i64 {
        self.json()["data"]["seq"].as_i64().unwrap()
    }
    fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap().to_string()
    }
}

/// A webhook receiver on 127.0.0.1 that records every request and answers `answer`.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<AtomicU16>,
}

#[derive(Clone)]
struct ReceiverState {
    got: Arc<Mutex<Vec<Received>>>,
    answer: Arc<AtomicU16>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let header = |n: &str| {
        req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    };
    state.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let status = state.answer.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    async fn start() -> Receiver {
        let state = ReceiverState {
            got: Arc::new(Mutex::new(Vec::new())),
            answer: Arc::new(AtomicU16::new(204)),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Receiver { port, got: state.got, answer: state.answer }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/ccreg", self.port)
    }

    fn answer(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// A test app whose webhooks may go to 127.0.0.1, with no background worker.
async fn app_allowing_private() -> TestApp {
    TestApp::spawn_with(|s| {
        s.webhook_allow_private = true;
        s.webhook_poll_ms = 0;
    })
    .await
}

/// An agency client's credentials.
struct Agency {
    id: String,
    client_id: Value,
    client_secret: Value,
}

impl Agency {
    async fn create(app: &TestApp, name: &str) -> Agency {
        let admin = app.admin_token().await;
        let c = app
            .post("/api/v1/agency-clients")
            .token(&admin)
            .json(&json!({"name": name, "agency": "State Bank of Pakistan"}))
            .send()
            .await
            .expect(201);
        Agency {
            id: c.body["id"].as_str().unwrap().to_string(),
            client_id: c.body["client_id"].clone(),
            client_secret: c.body["client_secret"].clone(),
        }
    }

    /// A fresh access token (the clock may have moved past the last one's expiry).
    async fn token(&self, app: &TestApp) -> String {
        let t = app
            .post("/api/v1/auth/token")
            .json(&json!({"grant_type": "client_credentials", "client_id": self.client_id,
                          "client_secret": self.client_secret}))
            .send()
            .await
            .expect(200);
        t.body["access_token"].as_str().unwrap().to_string()
    }
}

/// An agency client; returns (its id, an access token).
async fn agency(app: &TestApp, name: &str) -> (String, String) {
    let a = Agency::create(app, name).await;
    let token = a.token(app).await;
    (a.id, token)
}

/// Registers a webhook; returns the 201 body (with `secret`).
async fn register(app: &TestApp, token: &str, url: &str, events: Value) -> Value {
    app.post("/api/v1/webhooks")
        .token(token)
        .json(&json!({"url": url, "events": events}))
        .send()
        .await
        .expect(201)
        .body
}

/// A licence issued through the API (feed event `issued`); returns (its path, the regulator's
/// token).
async fn issue_licence(app: &TestApp, n: usize) -> (String, String) {
    let op = operator(app, n).await;
    let (_, regulator) = app.staff("regulator", &format!("reg{n}@pta.gov.pk")).await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let a = app.get(&format!("/api/v1/applications/{id}")).token(&op.token).send().await;
    let number = a.body["licence_number"].as_str().unwrap().to_string();
    (format!("/api/v1/licences/{number}"), regulator)
}

async fn transition(app: &TestApp, regulator: &str, licence: &str, action: &str) {
    act(
        app,
        regulator,
        licence,
        action,
        Some(json!({"reason": format!("Webhook test: {action}")})),
    )
    .await
    .expect(200);
}

/// The feed as `GET /api/v1/events` serves it.
async fn feed(app: &TestApp) -> Vec<Value> {
    let admin = app.admin_token().await;
    let r = app.get("/api/v1/events?limit=500").token(&admin).send().await.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// Checks both signatures of a delivery independently of the server's code: `v1` with the
/// endpoint's secret (HMAC-SHA256) and `v1a` with the JWKS key (Ed25519).
async fn assert_signed(app: &TestApp, secret: &str, r: &Received) {
    let content = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    let parts: Vec<(&str, &str)> =
        r.signature.split(' ').map(|p| p.split_once(',').expect("version,signature")).collect();
    assert_eq!(parts.iter().map(|p| p.0).collect::<Vec<_>>(), ["v1", "v1a"], "{}", r.signature);

    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(content.as_bytes());
    mac.verify_slice(&STANDARD.decode(parts[0].1).unwrap()).expect("v1 HMAC signature");

    let jwks = app.get("/.well-known/jwks.json").send().await.expect(200);
    let x = URL_SAFE_NO_PAD.decode(jwks.body["keys"][0]["x"].as_str().unwrap()).unwrap();
    let public = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
    let sig: [u8; 64] = STANDARD.decode(parts[1].1).unwrap().try_into().unwrap();
    public
        .verify_strict(content.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
        .expect("v1a Ed25519 signature");
    let mut forged = sig;
    forged[0] ^= 1;
    assert!(public
        .verify_strict(content.as_bytes(), &ed25519_dalek::Signature::from_bytes(&forged))
        .is_err());
}

async fn get_webhook(app: &TestApp, token: &str, id: &str) -> crate::helpers::Resp {
    app.get(&format!("/api/v1/webhooks/{id}")).token(token).send().await.expect(200)
}

async fn deliveries(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).token(token).send().await;
    r.expect(200).body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn deliveries_are_signed_in_feed_order_from_creation_and_filtered() {
    let app = app_allowing_private().await;
    let (all_rx, late_rx, filtered_rx) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let (other_id, other) = agency(&app, "MCB fraud desk").await;
    let all = register(&app, &bank, &all_rx.url(), json!(["*"])).await;
    assert_eq!(all["position"], 0);
    let filtered = register(&app, &other, &filtered_rx.url(), json!(["suspended"])).await;
    assert_eq!(filtered["events"], json!(["suspended"]));

    let (licence, regulator) = issue_licence(&app, 1).await;
    // Created after the licence was issued: it never gets that event.
    let late = register(&app, &bank, &late_rx.url(), json!(["*"])).await;
    assert_eq!(late["position"], 1);
    transition(&app, &regulator, &licence, "suspend").await;
    transition(&app, &regulator, &licence, "reinstate").await;
    assert!(all_rx.got().is_empty(), "nothing is sent before a round");

    let round = app.webhooks.deliver_due().await.unwrap();
    assert_eq!((round.delivered, round.failed), (3 + 2 + 1, 0));

    let feed = feed(&app).await;
    assert_eq!(feed.len(), 3);
    let got = all_rx.got();
    assert_eq!(
        got.iter().map(Received::kind).collect::<Vec<_>>(),
        ["issued", "suspended", "reinstated"]
    );
    let now = app.clock.now().timestamp().to_string();
    for (r, event) in got.iter().zip(&feed) {
        assert_signed(&app, all["secret"].as_str().unwrap(), r).await;
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.timestamp, now, "unix seconds of the attempt, by the server's clock");
        assert_eq!(
            r.json(),
            json!({"type": event["type"], "timestamp": event["at"], "data": event})
        );
    }
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.iter().all(|id| id.starts_with("msg_")));
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 3);

    let late_got = late_rx.got();
    assert_eq!(late_got.iter().map(Received::seq).collect::<Vec<_>>(), [2, 3]);
    for r in &late_got {
        assert_signed(&app, late["secret"].as_str().unwrap(), r).await;
    }
    let filtered_got = filtered_rx.got();
    assert_eq!(filtered_got.iter().map(Received::kind).collect::<Vec<_>>(), ["suspended"]);

    let id = all["id"].as_str().unwrap();
    let w = get_webhook(&app, &bank, id).await;
    assert_eq!(
        (w.body["position"].as_i64(), w.body["last_delivered_seq"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(w.body["status"], "active");
    assert!(w.body["next_attempt_at"].is_null() && w.body.get("secret").is_none());
    let attempts = deliveries(&app, &bank, id).await;
    assert_eq!(attempts.len(), 3);
    for (a, r) in attempts.iter().zip(&got) {
        assert_eq!(a["message_id"], r.id.as_str());
        assert_eq!((a["outcome"].as_str(), a["attempt"].as_i64()), (Some("delivered"), Some(1)));
        assert_eq!(a["status_code"], 204);
        assert!(a["error"].is_null() && a["next_attempt_at"].is_null());
        assert!(a["duration_ms"].as_i64().is_some());
    }
    assert_eq!(
        attempts.iter().map(|a| a["event_seq"].as_i64().unwrap()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // A round with nothing new sends nothing.
    let round = app.webhooks.deliver_due().await.unwrap();
    assert_eq!((round.delivered, round.failed), (0, 0));

    // A deleted agency client's endpoints get nothing more; the others go on.
    let admin = app.admin_token().await;
    app.delete(&format!("/api/v1/agency-clients/{other_id}"))
        .token(&admin)
        .send()
        .await
        .expect(204);
    transition(&app, &regulator, &licence, "suspend").await;
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(all_rx.got().len(), 4);
    assert_eq!(filtered_rx.got().len(), 1);
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_on_schedule_and_holds_back_the_next_event() {
    let app = app_allowing_private().await;
    let rx = Receiver::start().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let hook = register(&app, &bank, &rx.url(), json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    rx.answer(500);
    let (licence, regulator) = issue_licence(&app, 1).await;
    transition(&app, &regulator, &licence, "suspend").await;

    let round = app.webhooks.deliver_due().await.unwrap();
    assert_eq!((round.delivered, round.failed), (0, 1));
    let first_at = app.clock.now();
    let w = get_webhook(&app, &bank, id).await;
    let due =
        (first_at + Duration::seconds(5)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    assert_eq!(w.body["next_attempt_at"], due.as_str());
    assert_eq!((w.body["position"].as_i64(), w.body["status"].as_str()), (Some(0), Some("active")));
    let attempts = deliveries(&app, &bank, id).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["next_attempt_at"], due.as_str());
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"));

    // Not before the back-off, and the suspension waits behind the issue.
    app.webhooks.deliver_due().await.unwrap();
    app.clock.advance(Duration::seconds(4));
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(rx.got().len(), 1);
    app.clock.advance(Duration::seconds(1));
    app.webhooks.deliver_due().await.unwrap();
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].id, got[0].id, "a retry keeps the message id");
    assert_ne!(got[1].timestamp, got[0].timestamp);
    assert_eq!(got.iter().map(Received::seq).collect::<Vec<_>>(), [1, 1]);

    // The third attempt is due 5 minutes after the second; then both go, in order.
    rx.answer(200);
    app.clock.advance(Duration::minutes(5) - Duration::seconds(1));
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(rx.got().len(), 2);
    app.clock.advance(Duration::seconds(1));
    let round = app.webhooks.deliver_due().await.unwrap();
    assert_eq!((round.delivered, round.failed), (2, 0));
    let got = rx.got();
    assert_eq!(got.iter().map(Received::seq).collect::<Vec<_>>(), [1, 1, 1, 2]);
    let attempts = deliveries(&app, &bank, id).await;
    let summary: Vec<(i64, i64, &str)> = attempts
        .iter()
        .map(|a| {
            (
                a["event_seq"].as_i64().unwrap(),
                a["attempt"].as_i64().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(1, 1, "failed"), (1, 2, "failed"), (1, 3, "delivered"), (2, 1, "delivered")]
    );
    assert!(get_webhook(&app, &bank, id).await.body["next_attempt_at"].is_null());
}

#[actix_web::test]
async fn every_retry_failing_disables_the_endpoint_until_it_is_re_enabled() {
    let app = app_allowing_private().await;
    let rx = Receiver::start().await;
    let client = Agency::create(&app, "HBL fraud desk").await;
    let hook = register(&app, &client.token(&app).await, &rx.url(), json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    rx.answer(503);
    let (licence, _regulator) = issue_licence(&app, 1).await;

    app.webhooks.deliver_due().await.unwrap();
    let waits = [
        Duration::seconds(5),
        Duration::minutes(5),
        Duration::minutes(30),
        Duration::hours(2),
        Duration::hours(5),
        Duration::hours(10),
        Duration::hours(10),
    ];
    let started = app.clock.now();
    for (i, wait) in waits.iter().enumerate() {
        let bank = client.token(&app).await;
        assert_eq!(
            get_webhook(&app, &bank, id).await.body["status"],
            "active",
            "after {} attempts",
            i + 1
        );
        app.clock.advance(*wait - Duration::seconds(1));
        app.webhooks.deliver_due().await.unwrap();
        assert_eq!(rx.got().len(), i + 1, "attempt {} came early", i + 2);
        app.clock.advance(Duration::seconds(1));
        app.webhooks.deliver_due().await.unwrap();
        assert_eq!(rx.got().len(), i + 2);
    }
    assert!(app.clock.now() - started >= Duration::hours(24));
    let bank = client.token(&app).await;
    let w = get_webhook(&app, &bank, id).await;
    assert_eq!(w.body["status"], "disabled");
    assert!(w.body["disabled_reason"].as_str().unwrap().contains("8 attempts"), "{}", w.text);
    assert!(w.body["next_attempt_at"].is_null());
    let attempts = deliveries(&app, &bank, id).await;
    assert_eq!(attempts.len(), 8);
    assert!(attempts[7]["next_attempt_at"].is_null());
    assert!(rx.got().iter().all(|r| r.seq() == 1));

    // Disabled: nothing more, however long the wait.
    let regulator = app.login("reg1@pta.gov.pk", PASSWORD).await;
    transition(&app, &regulator, &licence, "suspend").await;
    app.clock.advance(Duration::days(3));
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(rx.got().len(), 8);
    let (_, auditor) = app.staff("regulator", "auditor@pta.gov.pk").await;
    let audit = app.get(&format!("/api/v1/audit?entity_id={id}")).token(&auditor).send().await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["webhook.created", "webhook.disabled"]);

    // Re-enabling needs If-Match, and resumes with the event it stopped at.
    let bank = client.token(&app).await;
    let etag = w.header("etag").unwrap();
    let enable = json!({"enabled": true});
    app.patch(&path).token(&bank).json(&enable).send().await.problem(428);
    app.patch(&path)
        .token(&bank)
        .header("if-match", "\"1\"")
        .json(&enable)
        .send()
        .await
        .problem(412);
    rx.answer(200);
    let r = app
        .patch(&path)
        .token(&bank)
        .header("if-match", &etag)
        .json(&enable)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (r.body["status"].as_str(), r.body["disabled_reason"].as_str()),
        (Some("active"), None)
    );
    assert_ne!(r.header("etag"), Some(etag));
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(
        rx.got().iter().map(Received::seq).collect::<Vec<_>>(),
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    );
    assert_eq!(get_webhook(&app, &bank, id).await.body["last_delivered_seq"], 2);
}

#[actix_web::test]
async fn gone_disables_the_endpoint_at_once() {
    let app = app_allowing_private().await;
    let rx = Receiver::start().await;
    let client = Agency::create(&app, "HBL fraud desk").await;
    let bank = client.token(&app).await;
    let hook = register(&app, &bank, &rx.url(), json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    rx.answer(410);
    let (licence, regulator) = issue_licence(&app, 1).await;
    transition(&app, &regulator, &licence, "suspend").await;

    app.webhooks.deliver_due().await.unwrap();
    let w = get_webhook(&app, &bank, id).await;
    assert_eq!(w.body["status"], "disabled");
    assert!(w.body["disabled_reason"].as_str().unwrap().contains("410"));
    assert_eq!(w.body["version"], 2);
    rx.answer(200);
    app.clock.advance(Duration::days(2));
    app.webhooks.deliver_due().await.unwrap();
    assert_eq!(rx.got().len(), 1);
    let attempts = deliveries(&app, &client.token(&app).await, id).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (attempts[0]["status_code"].as_i64(), attempts[0]["next_attempt_at"].as_str()),
        (Some(410), None)
    );
}

#[actix_web::test]
async fn the_secret_is_shown_once_and_never_rests_in_plaintext() {
    let app = app_allowing_private().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let body = json!({"url": "http://127.0.0.1:9/hooks", "events": ["issued", "revoked"]});
    let r = app
        .post("/api/v1/webhooks")
        .token(&bank)
        .header("idempotency-key", "hook-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    assert!((24..=32).contains(&key.len()));
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/webhooks/{id}")));
    assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(r.body["events"], json!(["issued", "revoked"]));
    assert_eq!((r.body["status"].as_str(), r.body["version"].as_i64()), (Some("active"), Some(1)));

    let replay = app
        .post("/api/v1/webhooks")
        .token(&bank)
        .header("idempotency-key", "hook-1")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(replay.body["id"], id);
    assert!(replay.body.get("secret").is_none(), "{}", replay.text);
    let one = get_webhook(&app, &bank, id).await;
    assert!(one.body.get("secret").is_none());
    let list = app.get("/api/v1/webhooks").token(&bank).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains(&secret) && !one.text.contains(&secret));
    for (place, value) in app.db.every_value() {
        assert!(
            !value.contains(secret.strip_prefix("whsec_").unwrap()),
            "the secret rests in {place}"
        );
    }
    let (_, auditor) = app.staff("regulator", "auditor@pta.gov.pk").await;
    let audit = app.get(&format!("/api/v1/audit?entity_id={id}")).token(&auditor).send().await;
    assert_eq!(audit.body["items"][0]["action"], "webhook.created");
    assert!(!audit.text.contains("/hooks"), "the audit names the origin only: {}", audit.text);
}

#[actix_web::test]
async fn bodies_are_checked_and_every_problem_named() {
    let app = app_allowing_private().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let post = |body: Value| {
        let (app, bank) = (&app, bank.clone());
        async move { app.post("/api/v1/webhooks").token(&bank).json(&body).send().await }
    };
    let url = "http://127.0.0.1:9/x";
    for (body, field) in [
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": ["expired"]}), "events[0]"),
        (json!({"url": url, "events": ["*", "issued"]}), "events"),
        (json!({"url": url, "events": ["*"], "secret": "whsec_AAAA"}), "secret"),
        (json!({"url": url, "events": ["*"], "status": "disabled"}), "status"),
        (json!({"url": "ftp://files.bank.example/x", "events": ["*"]}), "url"),
        (json!({"url": "not a url", "events": ["*"]}), "url"),
        (json!({"events": ["*"]}), "url"),
    ] {
        let r = post(body.clone()).await.problem(422);
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {}", r.text);
    }
    let r = post(json!({"url": "gopher://x", "events": []})).await.problem(422);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 2, "{}", r.text);

    let hook = register(&app, &bank, url, json!(["*"])).await;
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    let patch = |body: Value| {
        let (app, bank, path) = (&app, bank.clone(), path.clone());
        async move { app.patch(&path).token(&bank).header("if-match", "\"1\"").json(&body).send().await }
    };
    patch(json!({"position": 0})).await.problem(422);
    patch(json!({"events": []})).await.problem(422);
    patch(json!({"url": "ftp://x/"})).await.problem(422);
    let r = patch(json!({"events": ["revoked", "suspended"], "url": "http://127.0.0.1:10/y"}))
        .await
        .expect(200);
    assert_eq!(r.body["events"], json!(["suspended", "revoked"]));
    assert_eq!(
        (r.body["url"].as_str(), r.body["version"].as_i64()),
        (Some("http://127.0.0.1:10/y"), Some(2))
    );
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
}

#[actix_web::test]
async fn agencies_see_and_change_only_their_own_endpoints() {
    let app = app_allowing_private().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let (_, other) = agency(&app, "MCB fraud desk").await;
    let admin = app.admin_token().await;
    let hook = register(&app, &bank, "http://127.0.0.1:9/x", json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");

    app.get(&path).token(&other).send().await.problem(404);
    app.get(&format!("{path}/deliveries")).token(&other).send().await.problem(404);
    app.patch(&path)
        .token(&other)
        .header("if-match", "\"1\"")
        .json(&json!({"enabled": false}))
        .send()
        .await
        .problem(404);
    app.delete(&path).token(&other).send().await.problem(404);
    let list = app.get("/api/v1/webhooks").token(&other).send().await.expect(200);
    assert_eq!(list.body["items"], json!([]));

    let mine = register(&app, &admin, "http://127.0.0.1:9/admin", json!(["revoked"])).await;
    let list = app.get("/api/v1/webhooks").token(&admin).send().await.expect(200);
    let ids: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id, mine["id"].as_str().unwrap()]);
    let list = app.get("/api/v1/webhooks").token(&bank).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/webhooks/{}", mine["id"].as_str().unwrap()))
        .token(&bank)
        .send()
        .await
        .problem(404);

    let op = app.operator_token("op@example.pk").await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    for token in [&op, &regulator] {
        app.get("/api/v1/webhooks").token(token).send().await.problem(403);
        app.post("/api/v1/webhooks")
            .token(token)
            .json(&json!({"url": "http://127.0.0.1:9/", "events": ["*"]}))
            .send()
            .await
            .problem(403);
        app.get(&path).token(token).send().await.problem(403);
    }
    app.get("/api/v1/webhooks").send().await.problem(401);

    // The admin may change and delete any endpoint; a stale If-Match on DELETE is 412.
    let r = app
        .patch(&path)
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"enabled": false}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (r.body["status"].as_str(), r.body["disabled_reason"].as_str()),
        (Some("disabled"), Some("disabled by request"))
    );
    app.delete(&path).token(&bank).header("if-match", "\"1\"").send().await.problem(412);
    app.delete(&path).token(&bank).header("if-match", "\"2\"").send().await.expect(204);
    app.get(&path).token(&bank).send().await.problem(404);
    app.delete(&path).token(&admin).send().await.problem(404);
    let (_, auditor) = app.staff("regulator", "auditor@pta.gov.pk").await;
    let audit = app.get(&format!("/api/v1/audit?entity_id={id}")).token(&auditor).send().await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["webhook.created", "webhook.updated", "webhook.deleted"]);
}

#[actix_web::test]
async fn private_and_non_http_urls_are_refused_unless_allowed() {
    let app = TestApp::spawn_with(|s| s.webhook_poll_ms = 0).await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    for url in [
        "ftp://files.bank.example/hooks",
        "http://127.0.0.1:8080/hooks",
        "http://10.1.2.3/hooks",
        "http://172.16.5.4/hooks",
        "http://192.168.0.10/hooks",
        "http://localhost:8080/hooks",
        "http://[::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
        "http://0x7f.1/hooks",
    ] {
        let r = app
            .post("/api/v1/webhooks")
            .token(&bank)
            .json(&json!({"url": url, "events": ["*"]}))
            .send()
            .await
            .problem(422);
        assert_eq!(r.body["errors"][0]["field"], "url", "{url}: {}", r.text);
    }
    // A public address is accepted (and, with no event after it, never called).
    let hook = register(&app, &bank, "https://203.0.113.10/hooks", json!(["*"])).await;
    let path = format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap());
    app.patch(&path)
        .token(&bank)
        .header("if-match", "\"1\"")
        .json(&json!({"url": "http://192.168.1.1/hooks"}))
        .send()
        .await
        .problem(422);
    app.delete(&path).token(&bank).send().await.expect(204);
}

#[actix_web::test]
async fn nothing_is_delivered_to_a_private_address_when_not_allowed() {
    // One database, two processes: one allows private addresses, the other (restarted with
    // the setting off) must not deliver to the endpoint the first accepted.
    let app = app_allowing_private().await;
    let rx = Receiver::start().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let hook = register(&app, &bank, &rx.url(), json!(["*"])).await;
    let id = hook["id"].as_str().unwrap();
    let mut strict_settings = app.settings.clone();
    strict_settings.webhook_allow_private = false;
    let strict =
        ccreg::app::Application::build(strict_settings, Arc::new(app.clock.clone())).await.unwrap();
    let strict_webhooks = strict.webhooks();
    actix_web::rt::spawn(strict.server());

    // A name that resolves to loopback, as if its DNS had changed after the URL was set.
    let named = register(&app, &bank, "http://127.0.0.1:9/placeholder", json!(["*"])).await;
    let named_id = named["id"].as_str().unwrap();
    app.db.execute(&format!(
        "UPDATE webhook_endpoints SET url = 'http://localhost:{}/renamed' WHERE id = '{named_id}'",
        rx.port
    ));

    issue_licence(&app, 1).await;
    let round = strict_webhooks.deliver_due().await.unwrap();
    assert_eq!((round.delivered, round.failed), (0, 2));
    assert!(rx.got().is_empty(), "a private address was called: {:?}", rx.got());
    for (endpoint, says) in [(id, "127.0.0.1 is a loopback address"), (named_id, "non-public")] {
        let attempts = deliveries(&app, &bank, endpoint).await;
        assert_eq!(attempts.len(), 1);
        let error = attempts[0]["error"].as_str().unwrap();
        assert!(error.contains("refused") && error.contains(says), "{error}");
        assert!(attempts[0]["status_code"].is_null());
    }

    // The process that allows them delivers once the retry is due.
    app.clock.advance(Duration::seconds(5));
    let round = app.webhooks.deliver_due().await.unwrap();
    assert_eq!(round.delivered, 2);
    assert_eq!(rx.got().len(), 2);
}

#[actix_web::test]
async fn two_processes_never_deliver_to_one_endpoint_at_once() {
    let app = app_allowing_private().await;
    let rx = Receiver::start().await;
    let (_, bank) = agency(&app, "HBL fraud desk").await;
    let mut hooks = Vec::new();
    for _ in 0..4 {
        hooks.push(register(&app, &bank, &rx.url(), json!(["*"])).await);
    }
    let other = ccreg::app::Application::build(app.settings.clone(), Arc::new(app.clock.clone()))
        .await
        .unwrap();
    let other_webhooks = other.webhooks();
    actix_web::rt::spawn(other.server());
    let (licence, regulator) = issue_licence(&app, 1).await;
    transition(&app, &regulator, &licence, "suspend").await;
    transition(&app, &regulator, &licence, "reinstate").await;

    let (a, b) =
        futures_util::future::join(app.webhooks.deliver_due(), other_webhooks.deliver_due()).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.delivered + b.delivered, 4 * 3, "{a:?} {b:?}");
    let got = rx.got();
    assert_eq!(got.len(), 12);
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "an event went twice to one endpoint");
    for hook in &hooks {
        let mine: Vec<i64> = got
            .iter()
            .filter(|r| r.id.contains(&hook["id"].as_str().unwrap().replace('-', "")))
            .map(Received::seq)
            .collect();
        assert_eq!(mine, [1, 2, 3], "in feed order per endpoint");
    }
}
