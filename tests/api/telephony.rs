//! Numbers and IP ranges: one site per number and per address, under concurrency too.

use serde_json::{json, Value};

use crate::helpers::{Resp, TestApp};

fn number(e164: &str) -> Value {
    json!({"kind": "number", "e164": e164, "purpose": "inbound"})
}

fn range(first: &str, last: &str) -> Value {
    json!({"kind": "range", "first": first, "last": last, "purpose": "both"})
}

async fn register(app: &TestApp, token: &str, site: &str, body: &Value) -> Resp {
    app.post(&format!("/api/v1/sites/{site}/numbers")).token(token).json(body).send().await
}

async fn register_ip(app: &TestApp, token: &str, site: &str, cidr: &str) -> Resp {
    app.post(&format!("/api/v1/sites/{site}/ip-ranges"))
        .token(token)
        .json(&json!({"cidr": cidr}))
        .send()
        .await
}

#[actix_web::test]
async fn numbers_and_ranges_parse_and_normalise() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("op@example.pk").await;
    let org = app.organisation(&op, "0000001", "1000001-1").await;
    let site = app.site(&op, &org, "Islamabad").await;
    let r = register(&app, &op, &site, &number("051 1234567")).await.expect(201);
    assert_eq!(r.body["e164"], "+92511234567");
    assert_eq!(r.body["kind"], "number");
    assert_eq!(r.body["count"], 1);
    let r =
        register(&app, &op, &site, &range("+92 21 3456 7000", "+922134567999")).await.expect(201);
    assert_eq!(
        (r.body["first"].as_str(), r.body["last"].as_str(), r.body["count"].as_i64()),
        (Some("+922134567000"), Some("+922134567999"), Some(1000))
    );
    for (field, body) in [
        ("e164", number("not a number")),
        ("e164", number("12")),
        ("last", range("+922134560000", "+92213456999")),
        ("last", range("+922134569999", "+922134560000")),
        ("last", range("+922130000000", "+922139999999")),
        ("purpose", json!({"kind": "number", "e164": "+922134500001", "purpose": "sideways"})),
        ("kind", json!({"kind": "fax", "e164": "+922134500001", "purpose": "inbound"})),
        ("e164", json!({"kind": "number", "purpose": "inbound"})),
        (
            "first",
            json!({"kind": "number", "e164": "+922134500001", "first": "+922134500001", "purpose": "inbound"}),
        ),
    ] {
        let r = register(&app, &op, &site, &body).await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.text);
    }
    // Both ends of a range are read in the site's country, and both named when neither reads.
    let r = register(&app, &op, &site, &range("nope", "12")).await.problem(422);
    let named: Vec<&str> =
        r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(named, ["first", "last"], "{}", r.text);
    // Exactly 100000 numbers is the most a range may hold.
    register(&app, &op, &site, &range("+922130000000", "+922130099999")).await.expect(201);
    let list =
        app.get(&format!("/api/v1/sites/{site}/numbers")).token(&op).send().await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_number_belongs_to_one_site_and_conflicts_are_named_discreetly() {
    let app = TestApp::spawn().await;
    let a = app.operator_token("a@example.pk").await;
    let b = app.operator_token("b@example.pk").await;
    let org_a = app.organisation(&a, "0000001", "1000001-1").await;
    let org_b = app.organisation(&b, "0000002", "2000002-2").await;
    let site_a1 = app.site(&a, &org_a, "Karachi").await;
    let site_a2 = app.site(&a, &org_a, "Lahore").await;
    let site_b = app.site(&b, &org_b, "Multan").await;
    register(&app, &a, &site_a1, &range("+922134567000", "+922134567999")).await.expect(201);
    register(&app, &a, &site_a1, &number("+922134568500")).await.expect(201);

    // Inside, overlapping either end, covering, or the same single number: all refused.
    for body in [
        number("+922134567000"),
        number("+922134567999"),
        number("+922134567500"),
        range("+922134566990", "+922134567000"),
        range("+922134567999", "+922134568010"),
        range("+922134560000", "+922134569999"),
        number("+922134568500"),
    ] {
        // The owner, registering to another of its own sites, is told which site holds it.
        let r = register(&app, &a, &site_a2, &body).await.problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains(&site_a1), "{}", r.text);
        // Another operator learns only that it is taken, not where.
        let r = register(&app, &b, &site_b, &body).await.problem(409);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(!detail.contains(&site_a1) && !detail.contains(&org_a), "{detail}");
        assert!(detail.contains("another organisation"), "{detail}");
    }
    // Neighbours are free.
    register(&app, &b, &site_b, &number("+922134566999")).await.expect(201);
    register(&app, &b, &site_b, &range("+922134568000", "+922134568499")).await.expect(201);
    register(&app, &b, &site_b, &number("+922134568501")).await.expect(201);
}

#[actix_web::test]
async fn an_ip_range_belongs_to_one_site() {
    let app = TestApp::spawn().await;
    let a = app.operator_token("a@example.pk").await;
    let b = app.operator_token("b@example.pk").await;
    let org_a = app.organisation(&a, "0000001", "1000001-1").await;
    let org_b = app.organisation(&b, "0000002", "2000002-2").await;
    let site_a = app.site(&a, &org_a, "Karachi").await;
    let site_b = app.site(&b, &org_b, "Lahore").await;
    let r = register_ip(&app, &a, &site_a, "203.0.113.0/24").await.expect(201);
    assert_eq!(r.body["family"], 4);
    register_ip(&app, &a, &site_a, "2001:db8:1::/48").await.expect(201);

    for cidr in [
        "203.0.113.0/24",
        "203.0.113.128/25",
        "203.0.112.0/23",
        "203.0.113.77/32",
        "2001:db8:1::/56",
        "2001:db8:1:2::/64",
    ] {
        let r = register_ip(&app, &b, &site_b, cidr).await.problem(409);
        assert!(!r.body["detail"].as_str().unwrap().contains(&site_a), "{}", r.text);
    }
    let r = register_ip(&app, &b, &site_b, "203.0.113.7/24").await.problem(422);
    assert!(r.body["detail"].as_str().unwrap().contains("203.0.113.0/24"), "{}", r.text);
    register_ip(&app, &b, &site_b, "not-a-cidr").await.problem(422);
    register_ip(&app, &b, &site_b, "203.0.114.0/24").await.expect(201);
    register_ip(&app, &b, &site_b, "2001:db8:2::/48").await.expect(201);
    // An IPv4 range never collides with an IPv6 one.
    register_ip(&app, &b, &site_b, "::/120").await.expect(201);
}

#[actix_web::test]
async fn concurrent_overlapping_registrations_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    let mut sites = Vec::new();
    for i in 0..4 {
        let t = app.operator_token(&format!("op{i}@example.pk")).await;
        let org = app.organisation(&t, &format!("000000{i}"), &format!("100000{i}-1")).await;
        sites.push(app.site(&t, &org, "Karachi").await);
        tokens.push(t);
    }
    for round in 0..5 {
        let base = 922134500000_i64 + round * 1000;
        let sends = (0..8).map(|i| {
            let (t, s) = (&tokens[i % 4], &sites[i % 4]);
            // Every pair overlaps: each range shares its middle number with the others.
            let body =
                range(&format!("+{}", base + i as i64), &format!("+{}", base + 500 + i as i64));
            let app = &app;
            async move { register(app, t, s, &body).await }
        });
        let results = futures_util::future::join_all(sends).await;
        let wins = results.iter().filter(|r| r.status.as_u16() == 201).count();
        assert_eq!(
            wins,
            1,
            "round {round}: {:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| [201, 409].contains(&r.status.as_u16())));

        let sends = (0..8).map(|i| {
            let (t, s) = (&tokens[i % 4], &sites[i % 4]);
            // Nested prefixes of one network: every pair overlaps.
            let cidr = format!("198.51.{round}.0/{}", 24 + i % 4);
            let app = &app;
            async move { register_ip(app, t, s, &cidr).await }
        });
        let results = futures_util::future::join_all(sends).await;
        let wins = results.iter().filter(|r| r.status.as_u16() == 201).count();
        assert_eq!(
            wins,
            1,
            "ip round {round}: {:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
    }
}

#[actix_web::test]
async fn deleting_frees_the_number_for_another_site() {
    let app = TestApp::spawn().await;
    let a = app.operator_token("a@example.pk").await;
    let b = app.operator_token("b@example.pk").await;
    let site_a = {
        let o = app.organisation(&a, "0000001", "1000001-1").await;
        app.site(&a, &o, "Karachi").await
    };
    let site_b = {
        let o = app.organisation(&b, "0000002", "2000002-2").await;
        app.site(&b, &o, "Lahore").await
    };
    let n = register(&app, &a, &site_a, &number("+922134567890")).await.expect(201);
    let ip = register_ip(&app, &a, &site_a, "203.0.113.0/24").await.expect(201);
    let (nid, ipid) = (n.body["id"].as_str().unwrap(), ip.body["id"].as_str().unwrap());

    // Only the owner may delete, and only under the right site.
    app.delete(&format!("/api/v1/sites/{site_a}/numbers/{nid}"))
        .token(&b)
        .send()
        .await
        .problem(404);
    app.delete(&format!("/api/v1/sites/{site_b}/numbers/{nid}"))
        .token(&b)
        .send()
        .await
        .problem(404);
    app.delete(&format!("/api/v1/sites/{site_a}/ip-ranges/{ipid}"))
        .token(&b)
        .send()
        .await
        .problem(404);

    app.delete(&format!("/api/v1/sites/{site_a}/numbers/{nid}")).token(&a).send().await.expect(204);
    app.delete(&format!("/api/v1/sites/{site_a}/ip-ranges/{ipid}"))
        .token(&a)
        .send()
        .await
        .expect(204);
    app.delete(&format!("/api/v1/sites/{site_a}/numbers/{nid}"))
        .token(&a)
        .send()
        .await
        .problem(404);
    register(&app, &b, &site_b, &number("+922134567890")).await.expect(201);
    register_ip(&app, &b, &site_b, "203.0.113.0/25").await.expect(201);
    let left =
        app.get(&format!("/api/v1/sites/{site_a}/numbers")).token(&a).send().await.expect(200);
    assert_eq!(left.body["items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn ip_ranges_are_at_most_a_slash_16_or_a_slash_48() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("ip@example.pk").await;
    let org = app.organisation(&token, "0001234", "1234567-8").await;
    let site = app.site(&token, &org, "Karachi").await;
    for wide in ["0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.0/15", "2001:db8::/47"] {
        let r = register_ip(&app, &token, &site, wide).await.problem(422);
        assert_eq!(r.body["errors"][0]["field"], "cidr", "{}", r.text);
        assert!(r.body["detail"].as_str().unwrap().contains("too large"), "{}", r.text);
    }
    register_ip(&app, &token, &site, "10.0.0.0/16").await.expect(201);
    register_ip(&app, &token, &site, "2001:db8::/48").await.expect(201);
}
