//! The test app: the real server on port 0 with its own database, key directory and a manual
//! clock. SQLite by default; PostgreSQL when CCREG_TEST_DATABASE_URL names a server (each test
//! then gets a database of its own, dropped at the end).

use std::sync::Arc;

use ccreg::app::Application;
use ccreg::auth::keys::Keys;
use ccreg::clock::ManualClock;
use ccreg::config::{BootstrapAdmin, Secret, Settings};
use ccreg::db::DatabaseUrl;
use chrono::{TimeZone, Utc};
use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@ccreg.test.pk";
pub const ADMIN_PASSWORD: &str = "bootstrap admin password";
pub const PASSWORD: &str = "a long enough passphrase";

pub struct TestDb {
    pub url: DatabaseUrl,
    pg_admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("CCREG_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let name = format!("ccreg_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("CCREG_TEST_DATABASE_URL must reach a PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                TestDb {
                    url: DatabaseUrl::Postgres { url: format!("{base}/{name}") },
                    pg_admin: Some((admin_url.clone(), name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("ccreg.db").to_string_lossy().to_string();
                TestDb { url: DatabaseUrl::Sqlite { path }, pg_admin: None, _dir: Some(dir) }
            }
        }
    }

    /// Runs raw SQL against the test database (for tampering and inspection).
    pub fn execute(&self, sql: &str) -> usize {
        self.try_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs raw SQL, answering the database's refusal as an error.
    pub fn try_execute(&self, sql: &str) -> Result<usize, String> {
        match &self.url {
            DatabaseUrl::Postgres { url } => {
                let mut c = diesel::PgConnection::establish(url).unwrap();
                diesel::sql_query(sql).execute(&mut c).map_err(|e| e.to_string())
            }
            DatabaseUrl::Sqlite { path } => {
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::sql_query(sql).execute(&mut c).map_err(|e| e.to_string())
            }
        }
    }

    /// The URL a `ccreg` process is given to reach this database.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Postgres { url } => url.clone(),
            DatabaseUrl::Sqlite { path } => format!("sqlite://{path}"),
        }
    }

    /// Every value of every column of every table, as text (for looking for secrets at rest).
    pub fn every_value(&self) -> Vec<(String, String)> {
        use diesel::sql_types::{Nullable, Text};
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = Text)]
            name: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Cell {
            #[diesel(sql_type = Nullable<Text>)]
            v: Option<String>,
        }
        fn scan<C: Connection<Backend = B> + diesel::connection::LoadConnection, B>(
            c: &mut C,
            tables_sql: &str,
            columns_sql: impl Fn(&str) -> String,
        ) -> Vec<(String, String)>
        where
            B: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text> + 'static,
            String: diesel::deserialize::FromSql<Text, B>,
            Name: diesel::deserialize::QueryableByName<B>,
            Cell: diesel::deserialize::QueryableByName<B>,
            diesel::query_builder::SqlQuery: diesel::query_builder::QueryFragment<B>,
        {
            let mut out = Vec::new();
            let tables: Vec<Name> = diesel::sql_query(tables_sql).load(c).unwrap();
            for t in tables {
                let columns: Vec<Name> = diesel::sql_query(columns_sql(&t.name)).load(c).unwrap();
                for col in columns {
                    let sql =
                        format!("SELECT CAST(\"{}\" AS TEXT) AS v FROM \"{}\"", col.name, t.name);
                    let cells: Vec<Cell> = diesel::sql_query(sql).load(c).unwrap();
                    let place = format!("{}.{}", t.name, col.name);
                    out.extend(cells.into_iter().filter_map(|c| c.v).map(|v| (place.clone(), v)));
                }
            }
            out
        }
        match &self.url {
            DatabaseUrl::Postgres { url } => scan(
                &mut diesel::PgConnection::establish(url).unwrap(),
                "SELECT table_name::text AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                |t| {
                    format!(
                        "SELECT column_name::text AS name FROM information_schema.columns \
                             WHERE table_schema = current_schema() AND table_name = '{t}'"
                    )
                },
            ),
            DatabaseUrl::Sqlite { path } => scan(
                &mut diesel::SqliteConnection::establish(path).unwrap(),
                "SELECT name FROM sqlite_master WHERE type = 'table'",
                |t| format!("SELECT name FROM pragma_table_info('{t}')"),
            ),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub db: TestDb,
    pub key_dir: tempfile::TempDir,
    pub settings: Settings,
    /// The server's webhook deliverer: tests run delivery rounds with it.
    pub webhooks: ccreg::webhooks::Deliverer,
    /// The server's pruning of expired personal data: tests run its passes with it (the
    /// hourly task is off, so nothing is pruned behind a test's back).
    pub retention: ccreg::retention::Retention,
    /// The server's overdue sweep: tests run its passes with it (the periodic task is off, so
    /// no item is raised behind a test's back).
    pub overdue: ccreg::violations::sweeper::Sweeper,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem with this status.
    #[track_caller]
    pub fn problem(self, status: u16) -> Resp {
        let r = self.expect(status);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            r.text
        );
        assert_eq!(r.body["status"], status, "{}", r.text);
        assert!(r.body["type"].is_string() && r.body["title"].is_string(), "{}", r.text);
        assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.text);
        r
    }
}

pub struct Req<'a> {
    app: &'a TestApp,
    inner: reqwest::RequestBuilder,
}

impl<'a> Req<'a> {
    pub fn token(mut self, token: &str) -> Self {
        self.inner = self.inner.bearer_auth(token);
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.inner = self.inner.json(body);
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.header(name, value);
        self
    }
    pub fn body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.inner = self.inner.header("content-type", content_type).body(body);
        self
    }
    pub fn multipart(mut self, form: reqwest::multipart::Form) -> Self {
        self.inner = self.inner.multipart(form);
        self
    }
    pub async fn send(self) -> Resp {
        let _ = self.app;
        let res = self.inner.send().await.expect("request failed");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// As [`TestApp::spawn`], with the settings changed by `change` first.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new();
        let key_dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::from_lookup(|_| None).unwrap();
        settings.database_url = db.url.clone();
        settings.bind = "127.0.0.1:0".into();
        settings.key_dir = key_dir.path().to_path_buf();
        settings.db_pool_size = 6;
        settings.retention.every = None;
        settings.overdue_sweep_every = None;
        settings.workers = Some(2);
        settings.bootstrap_admin = Some(BootstrapAdmin {
            email: ADMIN_EMAIL.into(),
            password: Secret::new(ADMIN_PASSWORD.into()),
        });
        change(&mut settings);
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap());
        let app = Application::build(settings.clone(), Arc::new(clock.clone())).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let (webhooks, retention, overdue) = (app.webhooks(), app.retention(), app.overdue());
        actix_web::rt::spawn(app.server());
        TestApp {
            base,
            client: reqwest::Client::new(),
            clock,
            db,
            key_dir,
            settings,
            webhooks,
            retention,
            overdue,
        }
    }

    /// The test clock's now, RFC 3339.
    pub fn clock_now(&self) -> String {
        use ccreg::clock::Clock;
        self.clock.now().to_rfc3339()
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req { app: self, inner: self.client.request(method, format!("{}{}", self.base, path)) }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// The signing keys the server uses (tests forge tokens with them).
    pub fn keys(&self) -> Keys {
        Keys::load_or_create(self.key_dir.path(), &self.settings.issuer, &self.settings.audience)
            .unwrap()
    }

    pub async fn password_grant(&self, username: &str, password: &str) -> Resp {
        self.post("/api/v1/auth/token")
            .json(&json!({"grant_type": "password", "username": username, "password": password}))
            .send()
            .await
    }

    /// An access token, or a panic.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self.password_grant(email, password).await.expect(200);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Signs up an operator; returns (id, email).
    pub async fn signup(&self, email: &str) -> (String, String) {
        let r = self
            .post("/api/v1/auth/signup")
            .json(&json!({"email": email, "password": PASSWORD, "full_name": "Test Operator"}))
            .send()
            .await
            .expect(201);
        (r.body["id"].as_str().unwrap().to_string(), email.to_string())
    }

    pub async fn operator_token(&self, email: &str) -> String {
        self.signup(email).await;
        self.login(email, PASSWORD).await
    }

    /// Creates a staff account as the admin; returns (id, access token).
    pub async fn staff(&self, role: &str, email: &str) -> (String, String) {
        let admin = self.admin_token().await;
        let r = self
            .post("/api/v1/users")
            .token(&admin)
            .json(&json!({"email": email, "password": PASSWORD, "full_name": "Staff Member", "role": role}))
            .send()
            .await
            .expect(201);
        let id = r.body["id"].as_str().unwrap().to_string();
        (id, self.login(email, PASSWORD).await)
    }
}

pub fn address(city: &str) -> Value {
    json!({"line1": "Plot 12, Shahrah-e-Faisal", "city": city, "province": "Sindh", "postal_code": "75400", "country": "PK"})
}

pub fn organisation_body(registration_number: &str, tax_number: &str) -> Value {
    json!({
        "legal_name": "Karachi Contact Solutions (Private) Limited",
        "trade_name": "KCS",
        "registration_number": registration_number,
        "tax_number": tax_number,
        "registered_address": address("Karachi"),
        "contact_email": "compliance@kcs.pk",
        "contact_phone": "021 34567890"
    })
}

impl TestApp {
    /// Registers an organisation as `token`; returns its id.
    pub async fn organisation(
        &self,
        token: &str,
        registration_number: &str,
        tax_number: &str,
    ) -> String {
        let r = self
            .post("/api/v1/organisations")
            .token(token)
            .json(&organisation_body(registration_number, tax_number))
            .send()
            .await
            .expect(201);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Files a small PDF of `kind` for an organisation (with `person_id` or `site_id` parts
    /// where the kind needs one); returns the document's id.
    pub async fn file_document(
        &self,
        token: &str,
        org_id: &str,
        kind: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
        let part = reqwest::multipart::Part::bytes(pdf).file_name(format!("{kind}.pdf"));
        let mut form =
            reqwest::multipart::Form::new().part("file", part).text("kind", kind.to_string());
        for (k, v) in extra {
            form = form.text(k.to_string(), v.to_string());
        }
        let r = self
            .post(&format!("/api/v1/organisations/{org_id}/documents"))
            .token(token)
            .multipart(form)
            .send()
            .await
            .expect(201);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Registers a site in `city`; returns its id.
    pub async fn site(&self, token: &str, org_id: &str, city: &str) -> String {
        let r = self
            .post(&format!("/api/v1/organisations/{org_id}/sites"))
            .token(token)
            .json(&json!({"name": format!("{city} centre"), "address": address(city), "seat_count": 120,
                          "services": ["inbound", "outbound"], "markets": ["PK", "GB"]}))
            .send()
            .await
            .expect(201);
        r.body["id"].as_str().unwrap().to_string()
    }
}

/// A browser for the portal's pages: it keeps the cookies the server sets (a tiny jar), sends
/// them back, posts forms, and does not follow redirects, so tests see each 303.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { app, client, cookies: Default::default() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Resp {
        let req =
            if self.cookies.is_empty() { req } else { req.header("cookie", self.cookie_header()) };
        let res = req.send().await.expect("request failed");
        for set in res.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        let (status, headers) = (res.status(), res.headers().clone());
        let text = res.text().await.unwrap();
        Resp { status, headers, body: Value::Null, text }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = self.client.get(format!("{}{path}", self.app.base));
        self.send(req).await
    }

    /// Posts `fields` form-encoded, with an `Origin` header when given.
    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut req = self
            .client
            .post(format!("{}{path}", self.app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        self.send(req).await
    }

    /// Posts a `multipart/form-data` body.
    pub async fn post_multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> Resp {
        let req = self.client.post(format!("{}{path}", self.app.base)).multipart(form);
        self.send(req).await
    }

    /// Opens the form at `path` and posts `fields` with the form's CSRF token.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = csrf_token(&self.get(path).await.expect(200));
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all, None).await
    }

    /// Signs in through the form; answers the form's response.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.submit("/account/sign-in", &[("email", email), ("password", password)]).await
    }
}

/// The CSRF token of the (first) form of a page.
#[track_caller]
pub fn csrf_token(page: &Resp) -> String {
    let at = page.text.find("name=\"csrf_token\" value=\"").expect("a page with a form");
    let rest = &page.text[at + "name=\"csrf_token\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}
