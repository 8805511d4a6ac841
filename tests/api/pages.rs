//! The public register's pages (API.md §12): search, status pages, the certificate and its QR
//! code, statistics; escaping and the security headers on every page.

use serde_json::json;

use crate::helpers::{Resp, TestApp};
use crate::licensing::{act, in_status, operator, pre_licence, version, Operator};

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const SCRIPT_NAME: &str = "<script>alert(1)</script>";

/// Two licensed companies: "Indus Voice Services" (active; it holds the range
/// +92 21 3456 7000 to 7999) and one named like a script (suspended; it holds +92 300 1234567).
struct World {
    indus: Operator,
    indus_licence: String,
    script_licence: String,
}

pub async fn licensed(app: &TestApp, n: usize, name: &str, regulator: &str) -> (Operator, String) {
    let op = operator(app, n).await;
    let path = format!("/api/v1/organisations/{}", op.org);
    let etag = version(app, &op.token, &path).await;
    app.patch(&path)
        .token(&op.token)
        .header("if-match", &etag)
        .json(&json!({"legal_name": name}))
        .send()
        .await
        .expect(200);
    // A passed pre-licence inspection makes the licence active rather than provisional.
    pre_licence(app, regulator, &op.site).await;
    let id = in_status(app, &op, regulator, "approved").await;
    let a = app.get(&format!("/api/v1/applications/{id}")).token(regulator).send().await;
    let licence = a.body["licence_number"].as_str().unwrap().to_string();
    (op, licence)
}

async fn world(app: &TestApp) -> World {
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let (indus, indus_licence) =
        licensed(app, 1, "Indus Voice Services (Private) Limited", &regulator).await;
    let (script, script_licence) = licensed(app, 2, SCRIPT_NAME, &regulator).await;
    for (op, body) in [
        (
            &indus,
            json!({"kind": "range", "first": "+922134567000", "last": "+922134567999", "purpose": "both"}),
        ),
        (&script, json!({"kind": "number", "e164": "+923001234567", "purpose": "outbound"})),
    ] {
        app.post(&format!("/api/v1/sites/{}/numbers", op.site))
            .token(&op.token)
            .json(&body)
            .send()
            .await
            .expect(201);
    }
    let path = format!("/api/v1/licences/{script_licence}");
    act(app, &regulator, &path, "suspend", Some(json!({"reason": "Complaints"}))).await.expect(200);
    World { indus, indus_licence, script_licence }
}

/// A page: HTML in English, with every security header, and no script or style attribute.
#[track_caller]
fn page(r: Resp, status: u16) -> Resp {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("content-security-policy").as_deref(), Some(CSP));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(r.text.starts_with("<!DOCTYPE html><html lang=\"en\">"), "{}", r.text);
    assert!(r.text.contains("name=\"viewport\""));
    let lower = r.text.to_lowercase();
    assert!(!lower.contains("<script") && !lower.contains(" style="), "{}", r.text);
    r
}

fn search_path(q: &str) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new()).append_pair("q", q).finish();
    format!("/?{q}")
}

#[actix_web::test]
async fn search_by_licence_number_name_and_phone_number_finds_the_licence() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let status_page = format!("/register/licences/{}", w.indus_licence);

    // A licence number (any case, spaces around it) leads straight to its status page.
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let q = format!("  {}  ", w.indus_licence.to_lowercase());
    let r = no_redirects.get(format!("{}{}", app.base, search_path(&q))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], status_page.as_str());
    assert_eq!(r.headers()["content-security-policy"], CSP);
    let r = page(app.get(&search_path(&w.indus_licence)).send().await, 200);
    assert!(r.text.contains(&format!("<h1>Licence {}</h1>", w.indus_licence)), "{}", r.text);

    // Part of the name, in another case: the company with a link to its licence.
    let r = page(app.get(&search_path("indus VOICE")).send().await, 200);
    assert!(r.text.contains("Indus Voice Services (Private) Limited"), "{}", r.text);
    assert!(r.text.contains(&format!("href=\"{status_page}\"")), "{}", r.text);
    assert!(r.text.contains("In force"));
    assert!(!r.text.contains(&w.script_licence), "only the company that matches");

    // The registration number.
    let r = page(app.get(&search_path("0000001")).send().await, 200);
    assert!(r.text.contains(&format!("href=\"{status_page}\"")), "{}", r.text);

    // A number in Pakistani national form, inside the company's range.
    let r = page(app.get(&search_path("021 3456 7890")).send().await, 200);
    assert!(r.text.contains("+922134567890"), "{}", r.text);
    assert!(r.text.contains("registered to a licensed call centre"), "{}", r.text);
    assert!(r.text.contains(&format!("href=\"{status_page}\"")), "{}", r.text);

    // A number of the suspended licence, and one nobody holds.
    let r = page(app.get(&search_path("0300 1234567")).send().await, 200);
    assert!(r.text.contains("No licensed call centre holds this number."), "{}", r.text);
    assert!(r.text.contains(&w.script_licence) && r.text.contains("Suspended"), "{}", r.text);
    let r = page(app.get(&search_path("021 9999 9999")).send().await, 200);
    assert!(r.text.contains("No licensed call centre holds this number."), "{}", r.text);
    assert!(!r.text.contains("/register/licences/"), "{}", r.text);

    // A well-formed number not on the register, and one with wrong check digits.
    let r = page(app.get(&search_path("CCL-2026-000099-13")).send().await, 200);
    assert!(r.text.contains("No licence CCL-2026-000099-13 is on the register."), "{}", r.text);
    let r = page(app.get(&search_path("CCL-2026-000001-17")).send().await, 200);
    assert!(r.text.contains("wrong check digits"), "{}", r.text);

    // The bare form.
    let r = page(app.get("/").send().await, 200);
    assert!(r.text.contains("<label for=\"q\">") && r.text.contains("id=\"q\" name=\"q\""));
    assert!(r.text.contains("method=\"get\" action=\"/\""));
}

#[actix_web::test]
async fn status_pages_say_the_status_in_words_and_errors_are_pages_too() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;

    let r = page(app.get(&format!("/register/licences/{}", w.indus_licence)).send().await, 200);
    for part in [
        "Indus Voice Services (Private) Limited",
        "class=\"status st-in-force\"",
        "<strong>In force</strong>",
        // The licence runs 12 months from the test clock's 22 November 2026.
        "<dt>Valid from</dt><dd><time datetime=\"2026-11-22\">22 November 2026</time></dd>",
        "<dt>Valid to</dt><dd><time datetime=\"2027-11-22\">22 November 2027</time></dd>",
        "Karachi centre, Karachi",
        "Checked against the register at <time datetime=\"2026-11-22T10:00:00Z\">",
        &format!("href=\"/register/licences/{}/certificate\"", w.indus_licence),
    ] {
        assert!(r.text.contains(part), "{part} missing from {}", r.text);
    }

    let r = page(app.get(&format!("/register/licences/{}", w.script_licence)).send().await, 200);
    assert!(r.text.contains("class=\"status st-suspended\""), "{}", r.text);
    assert!(r.text.contains("Status: <strong>Suspended</strong>"), "{}", r.text);
    assert!(r.text.contains("may not operate"), "{}", r.text);
    assert!(!r.text.contains("In force"));

    // Lower case is read as the number it is.
    let lower = w.indus_licence.to_lowercase();
    page(app.get(&format!("/register/licences/{lower}")).send().await, 200);

    for bad in ["CCL-2026-000001-17", "CCL-26-1-1", "nothing", "%3Cscript%3E"] {
        let r = page(app.get(&format!("/register/licences/{bad}")).send().await, 400);
        assert!(r.text.contains("<h1>Not a licence number</h1>"), "{}", r.text);
        let r = page(app.get(&format!("/register/licences/{bad}/certificate")).send().await, 400);
        assert!(r.text.contains("<h1>Not a licence number</h1>"), "{}", r.text);
    }
    let unknown = "CCL-2026-000099-13";
    for path in [
        format!("/register/licences/{unknown}"),
        format!("/register/licences/{unknown}/certificate"),
    ] {
        let r = page(app.get(&path).send().await, 404);
        assert!(r.text.contains("<h1>Not on the register</h1>"), "{}", r.text);
        assert!(r.text.contains(&format!("No licence {unknown} is on the register.")));
    }
}

/// The `viewBox` size and path data of the certificate's QR code.
fn qr_of(html: &str) -> (usize, String) {
    let svg = &html[html.find("<svg class=\"qr\"").expect("a QR code")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let attr = |name: &str| {
        let start = svg.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        svg[start..start + svg[start..].find('"').unwrap()].to_string()
    };
    let size = attr("viewBox").split(' ').nth(2).unwrap().parse().unwrap();
    (size, attr(" d"))
}

/// Draws the `M{x},{y}h{n}v1h-{n}z` runs of `path` at 4 pixels a module and decodes them.
fn decode_qr(size: usize, path: &str) -> String {
    let mut dark = vec![false; size * size];
    for run in path.split('z').filter(|r| !r.is_empty()) {
        let n: Vec<usize> =
            run.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
        for dx in 0..n[2] {
            dark[n[1] * size + n[0] + dx] = true;
        }
    }
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(size * 4, size * 4, |x, y| {
        if dark[(y / 4) * size + x / 4] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().expect("the QR code decodes").1
}

#[actix_web::test]
async fn the_certificate_qr_code_decodes_to_the_status_page() {
    let app =
        TestApp::spawn_with(|s| s.public_url = "https://register.pta.gov.pk/ccreg".into()).await;
    let w = world(&app).await;
    let url = format!("https://register.pta.gov.pk/ccreg/register/licences/{}", w.script_licence);

    let r = page(
        app.get(&format!("/register/licences/{}/certificate", w.script_licence)).send().await,
        200,
    );
    let (size, path) = qr_of(&r.text);
    assert_eq!(decode_qr(size, &path), url);
    assert!(r.text.contains("role=\"img\""));
    assert!(r.text.contains(&format!("aria-label=\"QR code of {url}\"")), "{}", r.text);
    // Beside it, the status when printed, in words and colour.
    assert!(r.text.contains("<h2>Status when this page was made</h2>"), "{}", r.text);
    assert!(r.text.contains("class=\"status st-suspended\""), "{}", r.text);
    assert!(r.text.contains("<strong>Suspended</strong>"), "{}", r.text);
    assert!(r.text.contains("<h1>Certificate of licence</h1>"));

    // The stylesheet it links: served with a long life, and it prints on one A4 page.
    let css = r.text.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(css.starts_with("/assets/register.css?v="), "{css}");
    let s = app.get(css).send().await.expect(200);
    assert_eq!(s.header("content-type").as_deref(), Some("text/css; charset=utf-8"));
    assert_eq!(s.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(s.header("cache-control").unwrap().contains("max-age=31536000"));
    assert!(s.text.contains("@page { size: A4;") && s.text.contains("@media print"));
    assert!(s.text.contains("@media (max-width: 30rem)"));
}

#[actix_web::test]
async fn the_statistics_page_has_the_figures_and_a_bar_per_city() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    app.site(&w.indus.token, &w.indus.org, "Lahore").await;

    let api = app.get("/api/v1/public/stats").send().await.expect(200).body;
    let r = page(app.get("/register/stats").send().await, 200);
    assert!(r.text.contains("<th scope=\"col\">Licensed sites</th>"), "{}", r.text);
    // Karachi: two sites, one licensed (the other's licence is suspended); Lahore: one site.
    let karachi = &api["cities"][0];
    assert_eq!((karachi["city"].as_str(), karachi["sites"].as_i64()), (Some("karachi"), Some(2)));
    assert!(
        r.text
            .contains("<tr><th scope=\"row\">Karachi</th><td>2</td><td>1</td><td>1</td><td>0</td>"),
        "{}",
        r.text
    );
    assert!(r.text.contains("<tr><th scope=\"row\">Lahore</th><td>1</td><td>0</td>"), "{}", r.text);
    assert!(r.text.contains("<tfoot><tr><th scope=\"row\">Pakistan</th><td>3</td><td>1</td>"));

    let chart = &r.text[r.text.find("<figure class=\"chart\">").unwrap()..];
    let chart = &chart[..chart.find("</figure>").unwrap()];
    assert!(chart.contains("role=\"img\" aria-labelledby=\"chart-title chart-desc\""), "{chart}");
    assert!(chart.contains("<title id=\"chart-title\">"));
    assert!(chart.contains("Karachi: 2 sites, 1 licensed; Lahore: 1 site, 0 licensed"), "{chart}");
    assert_eq!(chart.matches("class=\"bar-all\"").count(), 2, "one bar per city");
    assert!(chart.contains(">Karachi</text>") && chart.contains(">Lahore</text>"));
}

#[actix_web::test]
async fn a_company_named_like_a_script_is_inert_on_every_page() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let pages = [
        search_path("script"),
        search_path(SCRIPT_NAME),
        search_path("+923001234567"),
        format!("/register/licences/{}", w.script_licence),
        format!("/register/licences/{}/certificate", w.script_licence),
    ];
    for path in pages {
        // `page` also asserts no `<script` anywhere and the CSP header.
        let r = page(app.get(&path).send().await, 200);
        assert!(r.text.contains(escaped), "{path}: {}", r.text);
        assert!(!r.text.contains(SCRIPT_NAME), "{path}");
    }
    // The query itself is echoed escaped, in the title, the heading and the input.
    let r = page(app.get(&search_path(&format!("\"><b>{SCRIPT_NAME}"))).send().await, 200);
    assert!(r.text.contains("value=\"&quot;&gt;&lt;b&gt;&lt;script&gt;"), "{}", r.text);
    assert!(!r.text.contains("<b>"));
}

#[actix_web::test]
async fn pages_are_rate_limited_with_a_page() {
    let app = TestApp::spawn_with(|s| s.public_rate_per_minute = 2).await;
    let path = "/register/licences/CCL-2026-000099-13";
    page(app.get(path).send().await, 404);
    page(app.get("/register/stats").send().await, 200);
    let r = page(app.get(path).send().await, 429);
    assert!(r.text.contains("<h1>Too many look-ups</h1>"), "{}", r.text);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // The form alone asks nothing of the register.
    page(app.get("/").send().await, 200);
}
