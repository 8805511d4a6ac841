//! The portal's foundation (API.md §14): accounts, database sessions, their expiry and their
//! end, the lock-out shared with the token endpoint, CSRF, and the cookie's attributes.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{csrf_token, Browser, Resp, TestApp, PASSWORD};

const SESSION: &str = "ccreg_session";

#[track_caller]
fn redirects_to(r: &Resp, to: &str) {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(r.header("location").as_deref(), Some(to));
}

fn set_cookie(r: &Resp, name: &str) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

async fn sign_up<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, Resp) {
    let mut b = Browser::new(app);
    let r = b
        .submit(
            "/account/sign-up",
            &[("email", email), ("password", PASSWORD), ("full_name", "Ayesha Siddiqui")],
        )
        .await;
    (b, r)
}

/// A browser signed in as `email`.
async fn signed_in<'a>(app: &'a TestApp, email: &str, lands_on: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    redirects_to(&b.sign_in(email, PASSWORD).await, lands_on);
    b
}

/// Signs out through the button on the portal's page.
async fn sign_out(b: &mut Browser<'_>) {
    let page = b.get("/portal").await.expect(200);
    let r = b.post("/account/sign-out", &[("csrf_token", csrf_token(&page).as_str())], None).await;
    redirects_to(&r, "/account/sign-in");
}

/// A user's ETag, for the admin's PATCH.
async fn user_etag(app: &TestApp, admin: &str, id: &str) -> String {
    let r = app.get(&format!("/api/v1/users/{id}")).token(admin).send().await.expect(200);
    r.header("etag").unwrap()
}

#[actix_rt::test]
async fn an_operator_signs_up_then_signs_in_and_lands_on_the_portal() {
    let app = TestApp::spawn().await;
    let (mut b, r) = sign_up(&app, "Ayesha@Indus.example").await;
    redirects_to(&r, "/portal");
    let page = b.get("/portal").await.expect(200);
    assert!(page.text.contains("Ayesha Siddiqui"), "{}", page.text);
    assert!(page.text.contains("ayesha@indus.example"), "{}", page.text);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    // The API's account: the same rules (lower-cased e-mail), the same password.
    let token = app.login("ayesha@indus.example", PASSWORD).await;
    let me = app.get("/api/v1/me").token(&token).send().await.expect(200);
    assert_eq!(me.body["role"], "operator");
    // The dashboard lists the operator's organisation.
    let body = crate::helpers::organisation_body("0123456", "1234567-8");
    app.post("/api/v1/organisations").token(&token).json(&body).send().await.expect(201);
    let page = b.get("/portal").await.expect(200);
    assert!(page.text.contains(body["legal_name"].as_str().unwrap()), "{}", page.text);

    sign_out(&mut b).await;
    let mut again = Browser::new(&app);
    redirects_to(&again.sign_in("ayesha@indus.example", PASSWORD).await, "/portal");
    again.get("/portal").await.expect(200);
}

#[actix_rt::test]
async fn staff_land_on_the_desk_and_each_side_is_closed_to_the_other() {
    let app = TestApp::spawn().await;
    app.staff("inspector", "insp@pta.gov.pk").await;
    let mut staff = signed_in(&app, "insp@pta.gov.pk", "/desk").await;
    let desk = staff.get("/desk").await.expect(200);
    assert!(desk.text.contains("inspector"), "{}", desk.text);
    assert_eq!(desk.header("cache-control").as_deref(), Some("no-store"));
    assert!(staff.get("/portal").await.expect(403).text.contains("<h1>"));
    let (mut operator, _) = sign_up(&app, "op@indus.example").await;
    operator.get("/desk").await.expect(403);
    // Signed in, the sign-in page leads home.
    redirects_to(&staff.get("/account/sign-in").await, "/desk");
}

#[actix_rt::test]
async fn pages_without_a_session_redirect_to_sign_in_and_a_bearer_token_is_no_session() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    for path in ["/portal", "/desk", "/account/password"] {
        redirects_to(&b.get(path).await, "/account/sign-in");
    }
    let token = app.operator_token("op@indus.example").await;
    let r = app.get("/portal").token(&token).send().await;
    // reqwest follows the 303 to the sign-in form: the token did not sign anyone in.
    assert!(r.text.contains("action=\"/account/sign-in\""), "{}", r.text);
    // A forged or unknown cookie is no session either.
    b.cookies.insert(SESSION.into(), "not-a-session".into());
    redirects_to(&b.get("/portal").await, "/account/sign-in");
}

#[actix_rt::test]
async fn signing_out_ends_the_session_for_its_cookie_everywhere() {
    let app = TestApp::spawn().await;
    let (mut b, _) = sign_up(&app, "op@indus.example").await;
    let cookie = b.cookies[SESSION].clone();
    sign_out(&mut b).await;
    assert!(!b.cookies.contains_key(SESSION), "the browser was told to forget the cookie");
    let mut replay = Browser::new(&app);
    replay.cookies.insert(SESSION.into(), cookie);
    redirects_to(&replay.get("/portal").await, "/account/sign-in");
}

#[actix_rt::test]
async fn deactivation_and_a_role_change_end_the_users_sessions_and_a_name_change_does_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (inspector, _) = app.staff("inspector", "insp@pta.gov.pk").await;
    let (regulator, _) = app.staff("regulator", "reg@pta.gov.pk").await;
    let mut insp = signed_in(&app, "insp@pta.gov.pk", "/desk").await;
    let mut reg = signed_in(&app, "reg@pta.gov.pk", "/desk").await;

    let patch = |id: String, body: serde_json::Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let etag = user_etag(app, &admin, &id).await;
            app.patch(&format!("/api/v1/users/{id}"))
                .token(&admin)
                .header("if-match", &etag)
                .json(&body)
                .send()
                .await
                .expect(200);
        }
    };
    patch(inspector.clone(), json!({"full_name": "Renamed Inspector"})).await;
    insp.get("/desk").await.expect(200);
    patch(inspector, json!({"role": "regulator"})).await;
    redirects_to(&insp.get("/desk").await, "/account/sign-in");
    reg.get("/desk").await.expect(200);
    patch(regulator.clone(), json!({"active": false})).await;
    // Ended in the deactivation's own transaction, not merely refused while inactive.
    let rows = app.db.every_value();
    assert!(!rows.iter().any(|(place, v)| place == "portal_sessions.user_id" && *v == regulator));
    redirects_to(&reg.get("/desk").await, "/account/sign-in");
    // A deactivated account cannot sign in again either.
    assert_eq!(reg.sign_in("reg@pta.gov.pk", PASSWORD).await.status.as_u16(), 401);
}

#[actix_rt::test]
async fn a_password_change_ends_every_other_session_and_keeps_this_browser_signed_in() {
    let app = TestApp::spawn().await;
    let (mut here, _) = sign_up(&app, "op@indus.example").await;
    let mut elsewhere = signed_in(&app, "op@indus.example", "/portal").await;
    let refresh = app.password_grant("op@indus.example", PASSWORD).await.expect(200);
    let refresh = refresh.body["refresh_token"].as_str().unwrap().to_string();
    let new = "an even longer new passphrase";

    let r = here
        .submit(
            "/account/password",
            &[("current_password", "wrong password here"), ("new_password", new)],
        )
        .await
        .expect(422);
    assert!(r.text.contains("Your current password is not right"), "{}", r.text);
    assert!(!r.text.contains("wrong password here") && !r.text.contains(new), "{}", r.text);
    elsewhere.get("/portal").await.expect(200);

    let r = here
        .submit("/account/password", &[("current_password", PASSWORD), ("new_password", new)])
        .await;
    redirects_to(&r, "/portal?done=password");
    let page = here.get("/portal?done=password").await.expect(200);
    assert!(page.text.contains("Your password has been changed."), "{}", page.text);
    redirects_to(&elsewhere.get("/portal").await, "/account/sign-in");
    app.password_grant("op@indus.example", PASSWORD).await.expect(401);
    app.login("op@indus.example", new).await;
    // The API's refresh tokens end with it.
    app.post("/api/v1/auth/token")
        .json(&json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .send()
        .await
        .expect(401);
}

#[actix_rt::test]
async fn a_session_ends_after_idling_and_twelve_hours_after_it_began_by_the_injected_clock() {
    let app = TestApp::spawn().await;
    let (mut b, _) = sign_up(&app, "op@indus.example").await;
    app.clock.advance(Duration::seconds(1_799));
    b.get("/portal").await.expect(200);
    app.clock.advance(Duration::seconds(1_799));
    b.get("/portal").await.expect(200);
    app.clock.advance(Duration::seconds(1_800));
    redirects_to(&b.get("/portal").await, "/account/sign-in");

    let mut b = signed_in(&app, "op@indus.example", "/portal").await;
    for _ in 0..28 {
        app.clock.advance(Duration::minutes(25));
        b.get("/portal").await.expect(200);
    }
    app.clock.advance(Duration::minutes(25)); // 12 h 5 min after sign-in, never idle
    redirects_to(&b.get("/portal").await, "/account/sign-in");
}

#[actix_rt::test]
async fn the_idle_limit_is_configurable() {
    let app = TestApp::spawn_with(|s| s.session_idle_secs = 600).await;
    let (mut b, _) = sign_up(&app, "op@indus.example").await;
    app.clock.advance(Duration::seconds(599));
    b.get("/portal").await.expect(200);
    app.clock.advance(Duration::seconds(600));
    redirects_to(&b.get("/portal").await, "/account/sign-in");
}

#[actix_rt::test]
async fn the_lock_out_counts_guesses_on_the_form_and_the_token_endpoint_together() {
    let app = TestApp::spawn().await;
    app.signup("a@indus.example").await;
    app.signup("b@indus.example").await;
    let mut b = Browser::new(&app);
    // Token endpoint first, then the form.
    for _ in 0..3 {
        app.password_grant("a@indus.example", "wrong password!!").await.expect(401);
    }
    for _ in 0..2 {
        b.sign_in("a@indus.example", "wrong password!!").await.expect(401);
    }
    let locked = b.sign_in("a@indus.example", PASSWORD).await.expect(429);
    assert!(locked.header("retry-after").is_some());
    assert!(locked.text.contains("Too many failed sign-ins"), "{}", locked.text);
    app.password_grant("a@indus.example", PASSWORD).await.expect(429);
    // The form first, then the token endpoint.
    for _ in 0..5 {
        b.sign_in("b@indus.example", "wrong password!!").await.expect(401);
    }
    app.password_grant("b@indus.example", PASSWORD).await.expect(429);
    b.sign_in("b@indus.example", PASSWORD).await.expect(429);
    // The lock runs out on the injected clock.
    app.clock.advance(Duration::seconds(31));
    redirects_to(&b.sign_in("b@indus.example", PASSWORD).await, "/portal");
}

#[actix_rt::test]
async fn wrong_credentials_get_one_message_and_invalid_forms_are_shown_again() {
    let app = TestApp::spawn().await;
    app.signup("op@indus.example").await;
    let mut b = Browser::new(&app);
    let wrong = b.sign_in("op@indus.example", "not the password").await.expect(401);
    let unknown = b.sign_in("nobody@indus.example", "not the password").await.expect(401);
    for r in [&wrong, &unknown] {
        assert!(r.text.contains("The email address or password is not right"), "{}", r.text);
        assert!(!r.text.contains("not the password"), "{}", r.text);
    }
    let empty = b.sign_in("", "").await.expect(422);
    assert!(empty.text.contains("href=\"#email\""), "{}", empty.text);
    assert!(empty.text.contains("href=\"#password\""), "{}", empty.text);

    let (_, r) = sign_up(&app, "not an email").await;
    let r = r.expect(422);
    assert!(r.text.contains("There is a problem") && r.text.contains("href=\"#email\""));
    assert!(r.text.contains("value=\"Ayesha Siddiqui\""), "the name is kept: {}", r.text);
    assert!(!r.text.contains(PASSWORD), "the password is never shown again");
    let mut b = Browser::new(&app);
    let r = b
        .submit(
            "/account/sign-up",
            &[("email", "new@indus.example"), ("password", "short"), ("full_name", "")],
        )
        .await
        .expect(422);
    assert!(r.text.contains("href=\"#password\"") && r.text.contains("href=\"#full_name\""));
    assert!(r.text.contains("value=\"new@indus.example\""), "{}", r.text);
    let (_, r) = sign_up(&app, "op@indus.example").await;
    assert!(r.expect(422).text.contains("already exists"));
    for label in
        ["<label for=\"email\">Email</label>", "<label for=\"full_name\">Full name</label>"]
    {
        assert!(r_page(&app, "/account/sign-up").await.contains(label), "{label}");
    }
    assert!(r_page(&app, "/account/sign-in")
        .await
        .contains("<label for=\"password\">Password</label>"));
}

async fn r_page(app: &TestApp, path: &str) -> String {
    Browser::new(app).get(path).await.expect(200).text
}

#[actix_rt::test]
async fn a_post_without_its_token_or_from_another_origin_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    let form = b.get("/account/sign-up").await.expect(200);
    let token = csrf_token(&form);
    let fields = |email: &'static str| {
        vec![("email", email), ("password", PASSWORD), ("full_name", "Ayesha Siddiqui")]
    };
    // No token.
    let r = b.post("/account/sign-up", &fields("a@indus.example"), None).await.expect(403);
    assert!(r.text.contains("Nothing was changed"), "{}", r.text);
    // A wrong token.
    let mut wrong = fields("b@indus.example");
    wrong.push(("csrf_token", "0123456789abcdef"));
    b.post("/account/sign-up", &wrong, None).await.expect(403);
    // Another browser's token: bound to its own pre-session cookie.
    let mut other = Browser::new(&app);
    let theirs = csrf_token(&other.get("/account/sign-up").await);
    let mut borrowed = fields("c@indus.example");
    borrowed.push(("csrf_token", theirs.as_str()));
    b.post("/account/sign-up", &borrowed, None).await.expect(403);
    // The right token from another origin.
    let mut foreign = fields("d@indus.example");
    foreign.push(("csrf_token", token.as_str()));
    b.post("/account/sign-up", &foreign, Some("https://evil.example")).await.expect(403);
    for email in ["a", "b", "c", "d"] {
        app.password_grant(&format!("{email}@indus.example"), PASSWORD).await.expect(401);
    }
    // The right token from the registry's own origin (CCREG_PUBLIC_URL) is accepted.
    let mut own = fields("e@indus.example");
    own.push(("csrf_token", token.as_str()));
    let r = b.post("/account/sign-up", &own, Some("http://127.0.0.1:8080")).await;
    redirects_to(&r, "/portal");

    // Signed in: a password change or a sign-out without the session's token does nothing.
    let new = "an even longer new passphrase";
    let r = b
        .post("/account/password", &[("current_password", PASSWORD), ("new_password", new)], None)
        .await;
    r.expect(403);
    b.post("/account/sign-out", &[("csrf_token", token.as_str())], None).await.expect(403);
    b.get("/portal").await.expect(200);
    app.login("e@indus.example", PASSWORD).await;
    // The sign-in form refuses a cross-site post too.
    let mut c = Browser::new(&app);
    let t = csrf_token(&c.get("/account/sign-in").await);
    let creds = [("csrf_token", t.as_str()), ("email", "e@indus.example"), ("password", PASSWORD)];
    c.post("/account/sign-in", &creds, Some("null")).await.expect(403);
    assert!(!c.cookies.contains_key(SESSION));
}

#[actix_rt::test]
async fn the_session_cookie_is_http_only_lax_for_the_whole_site_and_secure_over_https() {
    let app = TestApp::spawn().await;
    let (_, r) = sign_up(&app, "op@indus.example").await;
    let cookie = set_cookie(&r, SESSION);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let presession =
        set_cookie(&Browser::new(&app).get("/account/sign-in").await, "ccreg_presession");
    assert!(presession.contains("HttpOnly") && presession.contains("SameSite=Lax"), "{presession}");

    let app = TestApp::spawn_with(|s| s.public_url = "https://register.pta.gov.pk".into()).await;
    let mut b = Browser::new(&app);
    let page = b.get("/account/sign-up").await;
    let fields = [
        ("csrf_token", csrf_token(&page)),
        ("email", "op@indus.example".into()),
        ("password", PASSWORD.into()),
        ("full_name", "Ayesha Siddiqui".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post("/account/sign-up", &fields, Some("https://register.pta.gov.pk")).await;
    assert!(set_cookie(&r, SESSION).contains("Secure"));
}

#[actix_rt::test]
async fn the_cookie_does_not_authenticate_the_api_and_is_stored_only_hashed() {
    let app = TestApp::spawn().await;
    let (b, _) = sign_up(&app, "op@indus.example").await;
    let value = b.cookies[SESSION].clone();
    let r = app.get("/api/v1/me").header("cookie", &format!("{SESSION}={value}")).send().await;
    r.problem(401);
    let values = app.db.every_value();
    assert!(values.iter().all(|(_, v)| !v.contains(&value)), "the cookie's value is stored");
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(value.as_bytes()))
    };
    assert!(
        values.iter().any(|(place, v)| place == "portal_sessions.token_hash" && *v == hash),
        "the session is kept as its SHA-256"
    );
}

#[actix_rt::test]
async fn every_portal_route_is_registered() {
    let app = TestApp::spawn().await;
    let mut b = Browser::new(&app);
    for (method, path) in ccreg::portal::all_routes() {
        let r = if *method == "GET" { b.get(path).await } else { b.post(path, &[], None).await };
        assert!(![404, 405].contains(&r.status.as_u16()), "{method} {path}: {}", r.status);
    }
}
