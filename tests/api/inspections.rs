//! Inspections and the enforcement queue (API.md §6).

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};
use crate::licensing::{act, in_status, operator, Operator};

struct World {
    op: Operator,
    regulator: String,
    inspector_id: String,
    inspector: String,
    other_inspector: String,
    licence: String,
}

async fn world(app: &TestApp) -> World {
    let op = operator(app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (inspector_id, inspector) = app.staff("inspector", "insp@pta.gov.pk").await;
    let (_, other_inspector) = app.staff("inspector", "insp2@pta.gov.pk").await;
    let id = in_status(app, &op, &regulator, "approved").await;
    let licence =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.body
            ["licence_number"]
            .as_str()
            .unwrap()
            .to_string();
    World { op, regulator, inspector_id, inspector, other_inspector, licence }
}

async fn schedule(app: &TestApp, token: &str, site: &str, inspector_id: &str, kind: &str) -> Resp {
    app.post("/api/v1/inspections")
        .token(token)
        .json(&json!({"site_id": site, "inspector_id": inspector_id, "scheduled_for": "2026-12-01T09:00:00Z", "kind": kind}))
        .send()
        .await
}

fn visit(outcome: &str, finding_severity: &str) -> Value {
    json!({
        "visited_at": "2026-12-01T10:30:00Z",
        "seats_observed": 310,
        "staff_present": 280,
        "foreign_nationals_present": 12,
        "findings": [{"code": "UNDECLARED-SEATS", "severity": finding_severity, "description": "190 seats more than declared", "due_by": "2027-01-15"}],
        "outcome": outcome,
        "notes": "Manager evasive about the night shift",
        "evidence": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "description": "Photo of floor B"}]
    })
}

#[actix_web::test]
async fn who_may_schedule_and_whom() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "unannounced").await.expect(201);
    assert_eq!(
        (r.body["status"].as_str(), r.body["kind"].as_str()),
        (Some("scheduled"), Some("unannounced"))
    );
    // An inspector opens one for itself, not for others.
    schedule(&app, &w.inspector, &w.op.site, &w.inspector_id, "routine").await.expect(201);
    let me2 = app.get("/api/v1/me").token(&w.other_inspector).send().await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    schedule(&app, &w.inspector, &w.op.site, &me2, "routine").await.problem(403);
    schedule(&app, &w.op.token, &w.op.site, &w.inspector_id, "routine").await.problem(403);
    let admin = app.admin_token().await;
    schedule(&app, &admin, &w.op.site, &w.inspector_id, "routine").await.problem(403);

    // Only an active inspector account can be assigned.
    let reg_id = app.get("/api/v1/me").token(&w.regulator).send().await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = schedule(&app, &w.regulator, &w.op.site, &reg_id, "routine").await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "inspector_id");
    app.patch(&format!("/api/v1/users/{me2}"))
        .token(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    schedule(&app, &w.regulator, &w.op.site, &me2, "routine").await.problem(422);
    let r =
        schedule(&app, &w.regulator, "no-such-site", &w.inspector_id, "routine").await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "site_id");
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "social_call").await.problem(422);
    assert_eq!(r.body["errors"][0]["field"], "kind");
}

#[actix_web::test]
async fn unannounced_visits_stay_unannounced_and_notes_stay_private() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "unannounced").await.expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/inspections/{id}");

    // Before it is recorded, the operator cannot see it at all.
    app.get(&path).token(&w.op.token).send().await.problem(404);
    let list = app.get("/api/v1/inspections").token(&w.op.token).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    // Another inspector neither.
    app.get(&path).token(&w.other_inspector).send().await.problem(404);
    let theirs = app.get("/api/v1/inspections").token(&w.other_inspector).send().await.expect(200);
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 0);
    app.get(&path).token(&w.inspector).send().await.expect(200);

    let r = act(&app, &w.inspector, &path, "record", Some(visit("minor_issues", "minor")))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "recorded");
    assert_eq!(r.body["seats_declared"], 120);
    assert_eq!(r.body["seats_observed"], 310);
    assert_eq!(r.body["notes"], "Manager evasive about the night shift");

    let seen = app.get(&path).token(&w.op.token).send().await.expect(200);
    assert!(seen.body.get("notes").is_none(), "{}", seen.text);
    assert!(!seen.text.contains("evasive"));
    assert_eq!(seen.body["findings"][0]["code"], "UNDECLARED-SEATS");
    let list = app.get("/api/v1/inspections").token(&w.op.token).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains("evasive"));

    // Another operator never sees it; agencies get 403.
    let stranger = operator(&app, 2).await;
    app.get(&path).token(&stranger.token).send().await.problem(404);
    let admin = app.admin_token().await;
    let c = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "FIA", "agency": "NCCIA"}))
        .send()
        .await
        .expect(201);
    let t = app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": c.body["client_id"], "client_secret": c.body["client_secret"]}))
        .send().await.expect(200);
    app.get("/api/v1/inspections")
        .token(t.body["access_token"].as_str().unwrap())
        .send()
        .await
        .problem(403);

    // Filters.
    let q = |q: &str| {
        let (app, t, q) = (&app, &w.regulator, q.to_string());
        async move {
            app.get(&format!("/api/v1/inspections?{q}")).token(t).send().await.expect(200).body
                ["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(q("status=recorded").await, 1);
    assert_eq!(q("status=scheduled").await, 0);
    assert_eq!(q("outcome=minor_issues").await, 1);
    assert_eq!(q("outcome=critical").await, 0);
    assert_eq!(q(&format!("site_id={}", w.op.site)).await, 1);
    assert_eq!(q(&format!("inspector_id={}", w.inspector_id)).await, 1);
}

#[actix_web::test]
async fn recording_is_for_the_assigned_inspector_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let other_id = app.get("/api/v1/me").token(&w.other_inspector).send().await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Scheduled by the regulator for `other`: only `other` may record it.
    let r = schedule(&app, &w.regulator, &w.op.site, &other_id, "routine").await.expect(201);
    let path = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.regulator, &path, "record", Some(visit("compliant", "info"))).await.problem(403);
    let mine =
        schedule(&app, &w.inspector, &w.op.site, &w.inspector_id, "routine").await.expect(201);
    let mine = format!("/api/v1/inspections/{}", mine.body["id"].as_str().unwrap());
    app.post(&format!("{mine}/record"))
        .token(&w.other_inspector)
        .header("if-match", "\"1\"")
        .json(&visit("compliant", "info"))
        .send()
        .await
        .problem(404);

    app.post(&format!("{path}/record"))
        .token(&w.other_inspector)
        .json(&visit("compliant", "info"))
        .send()
        .await
        .problem(428);
    app.post(&format!("{path}/record"))
        .token(&w.other_inspector)
        .header("if-match", "\"5\"")
        .json(&visit("compliant", "info"))
        .send()
        .await
        .problem(412);
    for (field, change) in [
        ("evidence[0].sha256", json!({"evidence": [{"sha256": "abc", "description": "x"}]})),
        ("foreign_nationals_present", json!({"foreign_nationals_present": 281})),
        (
            "findings[0].severity",
            json!({"findings": [{"code": "X", "severity": "catastrophic", "description": "x"}]}),
        ),
        (
            "findings[0].code",
            json!({"findings": [{"code": "bad code!", "severity": "minor", "description": "x"}]}),
        ),
        ("outcome", json!({"outcome": "fine"})),
        ("seats_observed", json!({"seats_observed": -1})),
    ] {
        let mut body = visit("compliant", "info");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = act(&app, &w.other_inspector, &path, "record", Some(body)).await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    act(&app, &w.other_inspector, &path, "record", Some(visit("compliant", "info")))
        .await
        .expect(200);
    act(&app, &w.other_inspector, &path, "record", Some(visit("compliant", "info")))
        .await
        .problem(409);
    act(&app, &w.regulator, &path, "cancel", Some(json!({"reason": "too late"})))
        .await
        .problem(409);

    // A cancelled inspection cannot be recorded.
    let r =
        act(&app, &w.regulator, &mine, "cancel", Some(json!({"reason": "Inspector reassigned"})))
            .await
            .expect(200);
    assert_eq!(
        (r.body["status"].as_str(), r.body["cancel_reason"].as_str()),
        (Some("cancelled"), Some("Inspector reassigned"))
    );
    act(&app, &w.inspector, &mine, "record", Some(visit("compliant", "info"))).await.problem(409);
    act(&app, &w.inspector, &mine, "cancel", Some(json!({"reason": "x"}))).await.problem(403);
}

#[actix_web::test]
async fn critical_inspections_queue_the_licence_until_dismissed_or_acted_on() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let queue = |status: &str| {
        let (app, t, s) = (&app, &w.regulator, status.to_string());
        async move {
            app.get(&format!("/api/v1/enforcement-queue?status={s}"))
                .token(t)
                .send()
                .await
                .expect(200)
                .body["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };

    // A critical outcome.
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "complaint").await.expect(201);
    let p1 = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.inspector, &p1, "record", Some(visit("critical", "major"))).await.expect(200);
    // A critical finding under a milder outcome.
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "follow_up").await.expect(201);
    let p2 = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.inspector, &p2, "record", Some(visit("major_issues", "critical")))
        .await
        .expect(200);
    // Neither: no item.
    let r = schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "routine").await.expect(201);
    let p3 = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.inspector, &p3, "record", Some(visit("major_issues", "major"))).await.expect(200);

    let open = queue("open").await;
    assert_eq!(open.len(), 2);
    assert!(open
        .iter()
        .all(|i| i["licence_number"] == w.licence.as_str() && i["site_id"] == w.op.site.as_str()));
    assert_eq!(open[0]["inspection_id"], p1.rsplit('/').next().unwrap());
    app.get("/api/v1/enforcement-queue").token(&w.inspector).send().await.problem(403);
    app.get("/api/v1/enforcement-queue").token(&w.op.token).send().await.problem(403);

    // Dismissal takes one item off, with a reason and If-Match.
    let item = open[0]["id"].as_str().unwrap();
    let dpath = format!("/api/v1/enforcement-queue/{item}/dismiss");
    app.post(&dpath).token(&w.regulator).json(&json!({"reason": "x"})).send().await.problem(428);
    app.post(&dpath)
        .token(&w.inspector)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .problem(403);
    let r = app
        .post(&dpath)
        .token(&w.regulator)
        .header("if-match", "\"1\"")
        .json(&json!({"reason": "Seats since declared"}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.body["status"], "dismissed");
    app.post(&dpath)
        .token(&w.regulator)
        .header("if-match", "\"2\"")
        .json(&json!({"reason": "again"}))
        .send()
        .await
        .problem(409);
    assert_eq!(queue("open").await.len(), 1);

    // Suspending the licence takes the rest off.
    act(
        &app,
        &w.regulator,
        &format!("/api/v1/licences/{}", w.licence),
        "suspend",
        Some(json!({"reason": "Critical inspection"})),
    )
    .await
    .expect(200);
    assert_eq!(queue("open").await.len(), 0);
    let resolved = queue("resolved").await;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["resolution"], "licence suspended");
    assert_eq!(queue("all").await.len(), 2);

    // A site without a licence raises nothing.
    let other = operator(&app, 2).await;
    let r =
        schedule(&app, &w.regulator, &other.site, &w.inspector_id, "pre_licence").await.expect(201);
    let p4 = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.inspector, &p4, "record", Some(visit("critical", "critical"))).await.expect(200);
    assert_eq!(queue("all").await.len(), 2);

    let admin = app.admin_token().await;
    let audit = app.get("/api/v1/audit?limit=500").token(&admin).send().await.expect(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "inspection.scheduled",
        "inspection.recorded",
        "enforcement.raised",
        "enforcement.dismissed",
        "enforcement.resolved",
    ] {
        assert!(actions.contains(&a), "{a} missing");
    }
}

#[actix_web::test]
async fn revoking_also_clears_the_queue() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r =
        schedule(&app, &w.regulator, &w.op.site, &w.inspector_id, "complaint").await.expect(201);
    let p = format!("/api/v1/inspections/{}", r.body["id"].as_str().unwrap());
    act(&app, &w.inspector, &p, "record", Some(visit("critical", "critical"))).await.expect(200);
    act(
        &app,
        &w.regulator,
        &format!("/api/v1/licences/{}", w.licence),
        "revoke",
        Some(json!({"reason": "Fraud"})),
    )
    .await
    .expect(200);
    let open = app.get("/api/v1/enforcement-queue").token(&w.regulator).send().await.expect(200);
    assert_eq!(open.body["items"].as_array().unwrap().len(), 0);
}
