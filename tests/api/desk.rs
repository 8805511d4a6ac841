//! The staff desk (API.md §14): the regulator's queue, dossier and decisions, the fee, an
//! inspection scheduled and recorded on the inspector's form, and a licence suspended, each
//! through the API's own functions; and who may open what.

use crate::helpers::{csrf_token, Browser, Resp, TestApp, PASSWORD};
use crate::licensing::{clear, in_status, operator};

#[track_caller]
fn see_other(r: &Resp) -> String {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    r.header("location").unwrap()
}

async fn staff_browser<'a>(
    app: &'a TestApp,
    role: &str,
    email: &str,
) -> (Browser<'a>, String, String) {
    let (id, token) = app.staff(role, email).await;
    let mut b = Browser::new(app);
    assert_eq!(see_other(&b.sign_in(email, PASSWORD).await), "/desk");
    (b, id, token)
}

/// Posts `fields` to `action` with the CSRF token of the page at `from`.
async fn post_from(b: &mut Browser<'_>, from: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
    let page = b.get(from).await.expect(200);
    let token = csrf_token(&page);
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    b.post(action, &all, None).await
}

fn version_in(page: &str, action: &str) -> String {
    let at =
        page.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form {action}"));
    let rest = &page[at..];
    let v = rest.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    rest[v..v + rest[v..].find('"').unwrap()].to_string()
}

#[actix_rt::test]
async fn a_regulator_decides_at_the_desk_and_an_inspector_records_the_visit_on_the_form() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (mut reg, _, regulator) = staff_browser(&app, "regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "submitted").await;

    // The queue: the application, its fee and clearances at a glance.
    let queue = reg.get("/desk/applications").await.expect(200).text;
    assert!(
        queue.contains(&format!("/desk/applications/{id}"))
            && queue.contains("0 of 3 granted")
            && queue.contains("open: Rs 0.00 of"),
        "{queue}"
    );
    let none = reg.get("/desk/applications?city=Lahore").await.expect(200).text;
    assert!(!none.contains(&format!("/desk/applications/{id}")), "the city filter");

    // The dossier: people in full, documents that open (and are audited).
    let page = format!("/desk/applications/{id}");
    let dossier = reg.get(&page).await.expect(200).text;
    assert!(dossier.contains("12345-1234501-1"), "regulators see identity numbers in full");
    let doc = dossier
        .split("href=\"/desk/documents/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let opened = reg.get(&format!("/desk/documents/{doc}")).await.expect(200);
    assert_eq!(opened.header("content-type").as_deref(), Some("application/pdf"));
    assert!(opened.text.starts_with("%PDF"));
    let admin = app.admin_token().await;
    let audit =
        app.get("/api/v1/audit?action=document.read").token(&admin).send().await.expect(200);
    assert!(audit.text.contains(&doc), "{}", audit.text);

    // The fee, in rupees: a bad amount is shown beside its field; a good one pays.
    let bad = post_from(
        &mut reg,
        &page,
        &format!("{page}/payment"),
        &[
            ("version", "1"),
            ("amount_minor", "lots"),
            ("paid_at", "2026-11-22"),
            ("channel", "psid"),
            ("reference", "PSID-1"),
        ],
    )
    .await
    .expect(422);
    assert!(bad.text.contains("id=\"amount_minor-error\""), "{}", bad.text);
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    let invoice = app
        .get(&format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap()))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    let rupees = format!("{}", invoice.body["total_minor"].as_i64().unwrap() / 100);
    let version = version_in(&reg.get(&page).await.text, &format!("{page}/payment"));
    see_other(
        &post_from(
            &mut reg,
            &page,
            &format!("{page}/payment"),
            &[
                ("version", &version),
                ("amount_minor", &rupees),
                ("paid_at", "2026-11-22"),
                ("channel", "psid"),
                ("reference", "PSID-1"),
            ],
        )
        .await,
    );
    let invoice = app
        .get(&format!("/api/v1/invoices/{}", a.body["invoice_id"].as_str().unwrap()))
        .token(&regulator)
        .send()
        .await
        .expect(200);
    assert_eq!(invoice.body["status"], "paid");

    // Approval: stale first (412), then on the current version.
    clear(&app, &id).await;
    let stale = post_from(&mut reg, &page, &format!("{page}/approve"), &[("version", "1")]).await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.text);
    assert!(stale.text.contains("changed by someone else since you opened this form"));
    let version = version_in(&reg.get(&page).await.text, &format!("{page}/approve"));
    see_other(
        &post_from(&mut reg, &page, &format!("{page}/approve"), &[("version", &version)]).await,
    );
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "approved");
    let number = a.body["licence_number"].as_str().unwrap().to_string();

    // An inspection scheduled from the dossier, recorded on the inspector's form.
    let (mut insp, inspector_id, _) = staff_browser(&app, "inspector", "insp@pta.gov.pk").await;
    let at = app.clock_now()[..16].to_string();
    see_other(
        &post_from(
            &mut reg,
            &page,
            &format!("{page}/inspections"),
            &[
                ("site_id", &op.site),
                ("inspector_id", &inspector_id),
                ("scheduled_for", &at),
                ("kind", "pre_licence"),
            ],
        )
        .await,
    );
    let list = insp.get("/desk/inspections").await.expect(200).text;
    assert!(list.contains("Today"), "{list}");
    let visit = list
        .split("href=\"/desk/inspections/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let visit_page = format!("/desk/inspections/{visit}");
    let form = insp.get(&visit_page).await.expect(200).text;
    let version = version_in(&form, &visit_page);
    let more = post_from(
        &mut insp,
        &visit_page,
        &visit_page,
        &[("version", &version), ("rows", "1"), ("add_row", "true")],
    )
    .await
    .expect(200);
    assert!(more.text.contains("findings.1.code"), "a second finding row");
    let fields = [
        ("version", version.as_str()),
        ("rows", "2"),
        ("visited_at", &at),
        ("seats_observed", "120"),
        ("staff_present", "90"),
        ("foreign_nationals_present", "0"),
        ("outcome", "minor_issues"),
        ("notes", "Fire exit partly blocked"),
        ("findings.0.code", "FIRE-EXIT"),
        ("findings.0.severity", "minor"),
        ("findings.0.description", "A fire exit partly blocked by chairs"),
        ("findings.1.code", ""),
        ("findings.1.severity", "minor"),
        ("findings.1.description", ""),
    ];
    let bad: Vec<_> = fields
        .iter()
        .map(|(k, v)| if *k == "staff_present" { (*k, "many") } else { (*k, *v) })
        .collect();
    let r = post_from(&mut insp, &visit_page, &visit_page, &bad).await.expect(422);
    assert!(
        r.text.contains("id=\"staff_present-error\"")
            && r.text.contains("Fire exit partly blocked"),
        "errors beside fields, values kept"
    );
    see_other(&post_from(&mut insp, &visit_page, &visit_page, &fields).await);
    let recorded =
        app.get(&format!("/api/v1/inspections/{visit}")).token(&regulator).send().await.expect(200);
    assert_eq!(recorded.body["status"], "recorded");
    assert_eq!(
        recorded.body["findings"].as_array().unwrap().len(),
        1,
        "the empty row is no finding"
    );
    let licence =
        app.get(&format!("/api/v1/licences/{number}")).token(&regulator).send().await.expect(200);
    assert_eq!(licence.body["status"], "active", "{} / {}", licence.text, recorded.text);

    // A suspension with a reason shows on the public status page at once; without one, 422.
    let lpage = format!("/desk/licences/{number}");
    let version = version_in(&reg.get(&lpage).await.expect(200).text, &format!("{lpage}/suspend"));
    post_from(
        &mut reg,
        &lpage,
        &format!("{lpage}/suspend"),
        &[("version", &version), ("reason", ""), ("until", "")],
    )
    .await
    .expect(422);
    see_other(
        &post_from(
            &mut reg,
            &lpage,
            &format!("{lpage}/suspend"),
            &[
                ("version", &version),
                ("reason", "Unregistered numbers found in use"),
                ("until", ""),
            ],
        )
        .await,
    );
    let public = app.get(&format!("/register/licences/{number}")).send().await.expect(200);
    assert!(public.text.to_lowercase().contains("suspended"), "{}", public.text);
}

#[actix_rt::test]
async fn each_role_opens_only_its_own_desk_pages() {
    let app = TestApp::spawn().await;
    let op = operator(&app, 1).await;
    let (_, regulator) = app.staff("regulator", "reg@pta.gov.pk").await;
    let id = in_status(&app, &op, &regulator, "submitted").await;
    let (mut insp, _, _) = staff_browser(&app, "inspector", "insp@pta.gov.pk").await;
    insp.get("/desk/applications").await.expect(403);
    let token = csrf_token(&insp.get("/desk").await.expect(200));
    let r = insp
        .post(
            &format!("/desk/applications/{id}/approve"),
            &[("csrf_token", &token), ("version", "2")],
            None,
        )
        .await;
    r.expect(403);
    let mut operator = Browser::new(&app);
    see_other(&operator.sign_in("op1@example.pk", PASSWORD).await);
    operator.get(&format!("/desk/applications/{id}")).await.expect(403);
    let a =
        app.get(&format!("/api/v1/applications/{id}")).token(&regulator).send().await.expect(200);
    assert_eq!(a.body["status"], "submitted", "nothing changed");
    // A malformed or unknown licence number is a 404 page.
    let (mut reg, _, _) = staff_browser(&app, "regulator", "reg2@pta.gov.pk").await;
    reg.get("/desk/licences/not-a-number").await.expect(404);
    reg.get("/desk/licences/CCL-2026-999999-45").await.expect(404);
}
