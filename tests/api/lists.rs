//! §1 Lists: `legal_name` and `holder` filters (case-insensitive contains) and `?sort=`, with
//! cursors that page through a sorted list and belong to their sort.

use serde_json::{json, Value};

use crate::helpers::{organisation_body, TestApp};
use crate::licensing::{in_status, operator};

const NAMES: [&str; 5] = [
    "Indus Voice (Private) Limited",
    "bolan contact centre (Private) Limited",
    "Chenab VOICE Services (Private) Limited",
    "Ravi 100% Support (Private) Limited",
    "Attock Telecom (Private) Limited",
];

/// Every page of `path` (which has a `?`), `limit` at a time: the values of `field`.
async fn all_pages(
    app: &TestApp,
    token: &str,
    path: &str,
    limit: usize,
    field: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let r = app.get(&url).token(token).send().await.expect(200);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        out.extend(items.iter().map(|i| i[field].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[actix_web::test]
async fn organisations_filter_by_name_and_sort_both_ways() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("lists@example.pk").await;
    for (k, name) in NAMES.iter().enumerate() {
        let mut body: Value = organisation_body(&format!("LST{k:04}"), &format!("20000{k:02}-1"));
        body["legal_name"] = json!(name);
        app.post("/api/v1/organisations").token(&op).json(&body).send().await.expect(201);
        app.clock.advance(chrono::Duration::minutes(1));
    }
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;

    // Case-insensitive contains; LIKE's wildcards are literal.
    let found =
        all_pages(&app, &regulator, "/api/v1/organisations?legal_name=voice", 10, "legal_name")
            .await;
    let mut expected: Vec<String> = NAMES
        .iter()
        .filter(|n| n.to_lowercase().contains("voice"))
        .map(|n| n.to_string())
        .collect();
    expected.sort();
    let mut sorted_found = found.clone();
    sorted_found.sort();
    assert_eq!(sorted_found, expected);
    let percent =
        all_pages(&app, &regulator, "/api/v1/organisations?legal_name=100%25", 10, "legal_name")
            .await;
    assert_eq!(percent, vec![NAMES[3].to_string()]);
    let underscore =
        all_pages(&app, &regulator, "/api/v1/organisations?legal_name=_", 10, "legal_name").await;
    assert!(underscore.is_empty(), "_ matched {underscore:?}");

    // Sorted by name, two at a time, both ways (the database's collation decides the order of
    // upper and lower case; the pages must agree with one another and cover every row once).
    let up =
        all_pages(&app, &regulator, "/api/v1/organisations?sort=legal_name", 2, "legal_name").await;
    let down =
        all_pages(&app, &regulator, "/api/v1/organisations?sort=-legal_name", 2, "legal_name")
            .await;
    assert_eq!(up.len(), NAMES.len());
    let mut reversed = down.clone();
    reversed.reverse();
    assert_eq!(up, reversed);
    let mut all: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    all.sort();
    let mut seen = up.clone();
    seen.sort();
    assert_eq!(seen, all);
    // By creation time: the order they were made in, and back.
    let made =
        all_pages(&app, &regulator, "/api/v1/organisations?sort=created_at", 2, "legal_name").await;
    assert_eq!(made, NAMES.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    let unmade =
        all_pages(&app, &regulator, "/api/v1/organisations?sort=-created_at", 3, "legal_name")
            .await;
    assert_eq!(unmade, made.iter().rev().cloned().collect::<Vec<_>>());
    // Filter and sort together.
    let both = all_pages(
        &app,
        &regulator,
        "/api/v1/organisations?legal_name=VOICE&sort=-created_at",
        1,
        "legal_name",
    )
    .await;
    assert_eq!(both, vec![NAMES[2].to_string(), NAMES[0].to_string()]);

    // An empty sort, as a web form sends it, is no sort: creation order.
    let unsorted =
        all_pages(&app, &regulator, "/api/v1/organisations?sort=", 2, "legal_name").await;
    assert_eq!(unsorted, made);
    // A field it cannot sort by is 400; so is a cursor made for another sort.
    let r = app
        .get("/api/v1/organisations?sort=tax_number")
        .token(&regulator)
        .send()
        .await
        .problem(400);
    assert!(r.body["detail"].as_str().unwrap().contains("legal_name"), "{}", r.text);
    let first = app
        .get("/api/v1/organisations?sort=legal_name&limit=1")
        .token(&regulator)
        .send()
        .await
        .expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/organisations?sort=-legal_name&cursor={cursor}"))
        .token(&regulator)
        .send()
        .await
        .problem(400);
    app.get(&format!("/api/v1/organisations?cursor={cursor}"))
        .token(&regulator)
        .send()
        .await
        .problem(400);
    // An operator's list is still only its own.
    let other = app.operator_token("other@example.pk").await;
    let r = app.get("/api/v1/organisations?sort=legal_name").token(&other).send().await.expect(200);
    assert_eq!(r.body["items"], json!([]));
}

#[actix_web::test]
async fn licences_filter_by_holder_and_sort() {
    let app = TestApp::spawn().await;
    app.staff("regulator", "reg@pta.gov.pk").await;
    let mut numbers = Vec::new();
    for n in 1..=3 {
        // Signed in afresh: the clock moves a day each time, past a token's lifetime.
        let regulator = app.login("reg@pta.gov.pk", crate::helpers::PASSWORD).await;
        let op = operator(&app, n).await;
        let id = in_status(&app, &op, &regulator, "approved").await;
        let r = app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await;
        numbers.push(r.body["licence_number"].as_str().unwrap().to_string());
        app.clock.advance(chrono::Duration::days(1));
    }
    let regulator = app.login("reg@pta.gov.pk", crate::helpers::PASSWORD).await;
    let asc =
        all_pages(&app, &regulator, "/api/v1/licences?sort=licence_number", 1, "licence_number")
            .await;
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(asc, expected);
    let desc =
        all_pages(&app, &regulator, "/api/v1/licences?sort=-licence_number", 2, "licence_number")
            .await;
    assert_eq!(desc, expected.iter().rev().cloned().collect::<Vec<_>>());
    // Issued a day apart: by expiry, the order of issue, and back.
    let expiring =
        all_pages(&app, &regulator, "/api/v1/licences?sort=expires_at", 2, "licence_number").await;
    assert_eq!(expiring, numbers);
    let issued =
        all_pages(&app, &regulator, "/api/v1/licences?sort=-issued_at", 1, "licence_number").await;
    assert_eq!(issued, numbers.iter().rev().cloned().collect::<Vec<_>>());
    // Every fixture holder is "Karachi Contact Solutions": ties fall back to the number.
    let by_holder = all_pages(
        &app,
        &regulator,
        "/api/v1/licences?holder=contact%20SOLUTIONS&sort=holder",
        2,
        "licence_number",
    )
    .await;
    assert_eq!(by_holder, expected);
    let none =
        all_pages(&app, &regulator, "/api/v1/licences?holder=lahore", 2, "licence_number").await;
    assert!(none.is_empty());
    app.get("/api/v1/licences?sort=status").token(&regulator).send().await.problem(400);
}

/// The name index follows renames: the old name no longer finds the organisation, the new one
/// does, in any case; and a name registered before the index existed is found too (the
/// migration filled it), which every organisation here stands for.
#[actix_web::test]
async fn the_name_filter_follows_renames() {
    let app = TestApp::spawn().await;
    let op = app.operator_token("rename@example.pk").await;
    let mut body: Value = organisation_body("REN0001", "3000001-1");
    body["legal_name"] = json!("Margalla Hills Contact (Private) Limited");
    let created = app.post("/api/v1/organisations").token(&op).json(&body).send().await.expect(201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let find = |q: &'static str| {
        let (app, regulator) = (&app, regulator.clone());
        async move {
            all_pages(app, &regulator, &format!("/api/v1/organisations?legal_name={q}"), 10, "id")
                .await
        }
    };
    assert_eq!(find("margalla").await, std::slice::from_ref(&id));
    let path = format!("/api/v1/organisations/{id}");
    let etag = created.header("etag").unwrap();
    app.patch(&path)
        .token(&op)
        .header("if-match", &etag)
        .json(&json!({"legal_name": "Potohar Voice Services (Private) Limited"}))
        .send()
        .await
        .expect(200);
    assert!(find("margalla").await.is_empty(), "the old name is gone from the index");
    assert_eq!(find("POTOHAR%20VOICE").await, std::slice::from_ref(&id));
    assert_eq!(
        find("ar%20Vo").await,
        std::slice::from_ref(&id),
        "contains, across a word boundary"
    );
    assert_eq!(find("Po").await, [id], "two characters: read every row");
}
