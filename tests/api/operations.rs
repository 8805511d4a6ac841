//! Running the service: the access log (text and JSON) of a real `ccreg serve` process,
//! `X-Request-Id`, the `/metrics` series, and `user create`'s hidden prompt on a terminal.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestDb, PASSWORD};

/// A `ccreg serve` process on the test database, its standard error in a file; killed when
/// dropped.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    async fn start(database_url: &str, env: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccreg"));
        cmd.arg("serve")
            .env("CCREG_DATABASE_URL", database_url)
            .env("CCREG_BIND", format!("127.0.0.1:{port}"))
            .env("CCREG_KEY_DIR", dir.path().join("keys"))
            .env("CCREG_WORKERS", "1");
        // RUST_LOG's default must let the access lines through; nothing may colour them.
        for var in [
            "RUST_LOG",
            "NO_COLOR",
            "CCREG_LOG_FORMAT",
            "CCREG_TRUSTED_PROXIES",
            "CCREG_BOOTSTRAP_ADMIN_EMAIL",
            "CCREG_BOOTSTRAP_ADMIN_PASSWORD",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child =
            cmd.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        let served = Served { child, base: format!("http://127.0.0.1:{port}"), log, _dir: dir };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client.get(format!("{}/readyz", served.base)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return served;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("ccreg serve did not become ready: {}", served.output());
    }

    /// Sends a GET with these headers; answers (status, X-Request-Id).
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let id = res.headers().get("x-request-id").expect("X-Request-Id on every response");
        (res.status().as_u16(), id.to_str().unwrap().to_string())
    }

    /// Everything the process has written to standard error so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

const SECRET_TOKEN: &str = "eyJzZWNyZXQtYmVhcmVyLXRva2Vu";
const SECRET_QUERY: &str = "secret-query-token-4711";
const CALLER_NUMBER: &str = "+922134567890";
const SPOOFED: &str = "203.0.113.77";

#[actix_web::test]
async fn json_logs_have_one_access_line_per_request_and_nothing_secret() {
    let app = TestApp::spawn().await;
    let served = Served::start(&app.db.url_string(), &[("CCREG_LOG_FORMAT", "json")]).await;

    let (status, id) = served.get("/healthz", &[("x-request-id", "abc-123")]).await;
    assert_eq!((status, id.as_str()), (200, "abc-123"));
    let (status, generated) = served.get("/healthz", &[]).await;
    assert_eq!(status, 200);
    let path = format!("/api/v1/nothing/here?access_token={SECRET_QUERY}");
    let (status, unmatched) = served.get(&path, &[]).await;
    assert_eq!(status, 404);
    let auth = format!("Bearer {SECRET_TOKEN}");
    let spoofed = [("x-forwarded-for", SPOOFED), ("authorization", auth.as_str())];
    let (status, me) = served.get("/api/v1/me", &spoofed).await;
    assert_eq!(status, 401);
    let (status, number) =
        served.get(&format!("/api/v1/verify/numbers/{CALLER_NUMBER}"), &[]).await;
    assert_eq!(status, 401);

    let output = served.output();
    let mut access = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        for field in ["timestamp", "level", "target", "message"] {
            assert!(v[field].is_string(), "no {field}: {line}");
        }
        if v["target"] == "ccreg::access" {
            access.push(v);
        }
    }
    let line_of = |id: &str| {
        let lines: Vec<&Value> = access.iter().filter(|v| v["request_id"] == id).collect();
        assert_eq!(lines.len(), 1, "access lines for {id}: {lines:?}\n{output}");
        lines[0].clone()
    };
    for (id, route, status) in [
        ("abc-123", "/healthz", 200),
        (generated.as_str(), "/healthz", 200),
        (unmatched.as_str(), "unmatched", 404),
        (me.as_str(), "/api/v1/me", 401),
        (number.as_str(), "/api/v1/verify/numbers/{e164}", 401),
    ] {
        let line = line_of(id);
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], "GET", "{line}");
        assert_eq!(line["route"], route, "{line}");
        assert_eq!(line["status"], status, "{line}");
        assert_eq!(line["client"], "127.0.0.1", "the socket peer, not X-Forwarded-For: {line}");
        assert!(line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
        // Written inside the request's span, which carries the id for every line of it.
        assert_eq!(line["span"]["request_id"], id, "{line}");
    }
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    assert_ne!(generated, unmatched);
    for secret in [SPOOFED, SECRET_TOKEN, SECRET_QUERY, CALLER_NUMBER, "922134567890"] {
        assert!(!output.contains(secret), "{secret} was logged:\n{output}");
    }
    assert!(!output.contains('\u{1b}'), "escape codes in the log:\n{output}");
}

#[actix_web::test]
async fn text_logs_to_a_pipe_have_no_colour_and_trust_only_configured_proxies() {
    let app = TestApp::spawn().await;
    let served =
        Served::start(&app.db.url_string(), &[("CCREG_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let headers = [("x-request-id", "text-1"), ("x-forwarded-for", SPOOFED)];
    assert_eq!(served.get("/api/v1/me", &headers).await, (401, "text-1".to_string()));
    let output = served.output();
    assert!(!output.contains("\u{1b}["), "ANSI escape codes in a file:\n{output}");
    let lines: Vec<&str> = output.lines().filter(|l| l.contains("request_id=text-1")).collect();
    assert_eq!(lines.len(), 1, "{output}");
    let line = lines[0];
    for expected in [
        " INFO ",
        "ccreg::access",
        "method=GET",
        "route=/api/v1/me",
        "status=401",
        "duration_ms=",
        // The peer is a trusted proxy here, so the client is the address it forwarded for.
        &format!("client={SPOOFED}"),
    ] {
        assert!(line.contains(expected), "{expected:?} not in {line}");
    }
}

#[actix_web::test]
async fn an_unreadable_stored_value_is_logged_with_its_object() {
    let app = TestApp::spawn().await;
    let token = app.operator_token("logged@example.pk").await;
    let org = app.organisation(&token, "0000001", "1000001-1").await;
    let site = app.site(&token, &org, "Karachi").await;
    // Started before the damage: a process starting after it would refuse to load its index.
    let served = Served::start(&app.db.url_string(), &[]).await;
    crate::integrity::corrupt(&app, "sites", "address", "id", &site);
    // Signed in on the process itself, whose clock is the wall clock.
    let grant = json!({"grant_type": "password", "username": "logged@example.pk",
                       "password": PASSWORD});
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/token", served.base))
        .json(&grant)
        .send()
        .await
        .unwrap();
    let token: Value = r.json().await.unwrap();
    let auth = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let (status, id) =
        served.get(&format!("/api/v1/sites/{site}"), &[("authorization", auth.as_str())]).await;
    let output = served.output();
    assert_eq!(status, 500, "{output}");
    let line = output
        .lines()
        .find(|l| l.contains("internal error") && l.contains(&format!("request_id={id}")))
        .unwrap_or_else(|| panic!("no error line for {id}:\n{output}"));
    for expected in
        [" ERROR ", "site ", site.as_str(), "'address'", "not the JSON this column holds"]
    {
        assert!(line.contains(expected), "{expected:?} not in {line}");
    }
}

#[test]
fn an_unknown_log_format_stops_the_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccreg"))
        .arg("serve")
        .env("CCREG_LOG_FORMAT", "xml")
        .env("CCREG_DATABASE_URL", "sqlite:///nonexistent/never/created.db")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("CCREG_LOG_FORMAT must be text or json") && err.contains("xml"), "{err}");
    assert!(!std::path::Path::new("/nonexistent/never").exists());
}

#[actix_web::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;
    // A sane id is echoed, on success and on problems alike.
    for (path, status) in [("/healthz", 200), ("/api/v1/me", 401), ("/api/v1/nothing", 404)] {
        let r = app.get(path).header("x-request-id", "trace-7f3a.b:c").send().await;
        assert_eq!(r.status.as_u16(), status, "{}", r.text);
        assert_eq!(r.header("x-request-id").as_deref(), Some("trace-7f3a.b:c"), "{path}");
    }
    let r = app.post("/api/v1/auth/signup").json(&json!({"email": "x"})).send().await.problem(422);
    assert!(uuid::Uuid::parse_str(&r.header("x-request-id").unwrap()).is_ok());
    let r = app.req(reqwest::Method::PUT, "/api/v1/me").send().await.problem(405);
    assert!(uuid::Uuid::parse_str(&r.header("x-request-id").unwrap()).is_ok());
    // Otherwise each answer gets a new one.
    let mut seen = std::collections::HashSet::new();
    let long = "a".repeat(129);
    for bad in [None, Some("has spaces"), Some("<script>"), Some(long.as_str())] {
        let mut req = app.get("/api/v1/me");
        if let Some(v) = bad {
            req = req.header("x-request-id", v);
        }
        let r = req.send().await.problem(401);
        let id = r.header("x-request-id").expect("an id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} gave {id}");
        assert!(seen.insert(id), "ids repeat");
    }
}

/// The value of an unlabelled series (or the first sample whose line starts with `series`).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

#[actix_web::test]
async fn metrics_show_the_process_the_pool_and_the_build() {
    let app = TestApp::spawn().await;
    app.get("/readyz").send().await.expect(200);
    let m = app.get("/metrics").send().await.expect(200).text;
    let build = format!("ccreg_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    assert!(m.contains(&build), "{m}");
    // The scrape itself is the one request in flight.
    assert_eq!(sample(&m, "ccreg_http_requests_in_flight"), 1.0);
    assert!(sample(&m, "process_resident_memory_bytes") > 1_000_000.0);
    assert!(sample(&m, "process_open_fds") > 3.0);
    assert!(sample(&m, "process_start_time_seconds") > 1.7e9);
    sample(&m, "process_cpu_seconds_total");
    assert_eq!(sample(&m, "ccreg_db_pool_max_connections"), f64::from(app.settings.db_pool_size));
    let (open, idle) =
        (sample(&m, "ccreg_db_pool_connections"), sample(&m, "ccreg_db_pool_idle_connections"));
    assert!(open >= 1.0 && idle <= open, "open {open}, idle {idle}");
    for kind in ["gauge", "counter", "histogram"] {
        assert!(m.contains(&format!(" {kind}\n")), "{kind}");
    }
    assert!(m.contains("# TYPE ccreg_verification_log_queued_entries gauge"), "{m}");
    // Nothing in flight is left counted.
    let m = app.get("/metrics").send().await.expect(200).text;
    assert_eq!(sample(&m, "ccreg_http_requests_in_flight"), 1.0);
}

/// Holds the verification log's table locked against inserts until dropped (rolled back).
enum Lock {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

impl Lock {
    fn verification_log(db: &TestDb) -> Lock {
        use diesel::{Connection, RunQueryDsl};
        match &db.url {
            ccreg::db::DatabaseUrl::Sqlite { path } => {
                let mut c = diesel::SqliteConnection::establish(path).unwrap();
                diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut c).unwrap();
                diesel::sql_query("BEGIN IMMEDIATE").execute(&mut c).unwrap();
                Lock::Sqlite(c)
            }
            ccreg::db::DatabaseUrl::Postgres { url } => {
                let mut c = diesel::PgConnection::establish(url).unwrap();
                diesel::sql_query("BEGIN").execute(&mut c).unwrap();
                diesel::sql_query("LOCK TABLE verification_log_batches IN EXCLUSIVE MODE")
                    .execute(&mut c)
                    .unwrap();
                Lock::Postgres(c)
            }
        }
    }

    fn release(self) {
        use diesel::RunQueryDsl;
        match self {
            Lock::Sqlite(mut c) => diesel::sql_query("ROLLBACK").execute(&mut c).unwrap(),
            Lock::Postgres(mut c) => diesel::sql_query("ROLLBACK").execute(&mut c).unwrap(),
        };
    }
}

#[actix_web::test]
async fn metrics_show_verifications_waiting_for_the_log() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let client = app
        .post("/api/v1/agency-clients")
        .token(&admin)
        .json(&json!({"name": "HBL fraud desk", "agency": "Habib Bank"}))
        .send()
        .await
        .expect(201);
    let agency = app
        .post("/api/v1/auth/token")
        .json(&json!({"grant_type": "client_credentials", "client_id": client.body["client_id"],
                      "client_secret": client.body["client_secret"]}))
        .send()
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = |m: &str| sample(m, "ccreg_verification_log_queued_entries");
    assert_eq!(queued(&app.get("/metrics").send().await.expect(200).text), 0.0);

    // While the log's table is locked the writer cannot commit: the entries wait.
    let lock = Lock::verification_log(&app.db);
    for n in ["CCL-2026-000099-13", "CCL-2026-000098-16"] {
        let r = app.get(&format!("/api/v1/verify/licences/{n}")).token(&agency).send().await;
        assert_eq!(r.expect(200).body["result"], "unknown");
    }
    assert_eq!(queued(&app.get("/metrics").send().await.expect(200).text), 2.0);
    lock.release();

    // Reading the log flushes it; nothing waits any more.
    let log = app.get("/api/v1/verification-log").token(&admin).send().await.expect(200);
    assert_eq!(log.body["items"].as_array().unwrap().len(), 2, "{}", log.text);
    assert_eq!(queued(&app.get("/metrics").send().await.expect(200).text), 0.0);
}

/// Drives `ccreg user create` on a pseudo-terminal (Python's `pty`): waits for each prompt and
/// for the echo to be off before typing, as a person would. Answers (exit code, terminal text).
fn create_user_on_a_terminal(database_url: &str, email: &str, answers: [&str; 2]) -> (i32, String) {
    const SCRIPT: &str = r#"
import json, os, pty, select, sys, termios, time
exe, first, second, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe] + args)
out, deadline = b"", time.time() + 60
def read_some():
    global out
    ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
    if not ready:
        raise SystemExit("timed out; the terminal showed %r" % out)
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        chunk = b""
    out += chunk
    return chunk
def answer(prompt, text):
    while prompt not in out:
        if not read_some():
            raise SystemExit("ended before %r; the terminal showed %r" % (prompt, out))
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.time() > deadline:
            raise SystemExit("the echo stayed on; the terminal showed %r" % out)
        time.sleep(0.01)
    os.write(fd, text.encode() + b"\n")
answer(b"Password for the new account: ", first)
answer(b"The same password again: ", second)
while read_some():
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "terminal": out.decode("utf-8", "replace")}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(env!("CARGO_BIN_EXE_ccreg"))
        .args(answers)
        .args([
            "user",
            "create",
            "--email",
            email,
            "--role",
            "inspector",
            "--full-name",
            "Ali Raza",
        ])
        .env("CCREG_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("CCREG_LOG_FORMAT")
        .env_remove("CCREG_BOOTSTRAP_ADMIN_EMAIL")
        .env_remove("CCREG_BOOTSTRAP_ADMIN_PASSWORD")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    (v["code"].as_i64().unwrap() as i32, v["terminal"].as_str().unwrap().to_string())
}

#[actix_web::test]
async fn user_create_on_a_terminal_asks_twice_without_echo() {
    let app = TestApp::spawn().await;
    let url = app.db.url_string();
    let password = "typed at a terminal, never shown";
    let (code, terminal) = create_user_on_a_terminal(&url, "ali@pta.gov.pk", [password, password]);
    assert_eq!(code, 0, "{terminal}");
    assert!(terminal.contains("created inspector account ali@pta.gov.pk"), "{terminal}");
    assert!(!terminal.contains("typed at a terminal"), "the password was echoed: {terminal}");
    app.login("ali@pta.gov.pk", password).await;

    // Two different answers create nothing.
    let (code, terminal) = create_user_on_a_terminal(&url, "sana@pta.gov.pk", [password, PASSWORD]);
    assert_ne!(code, 0, "{terminal}");
    assert!(terminal.contains("the two passwords differ"), "{terminal}");
    assert!(!terminal.contains(PASSWORD) && !terminal.contains("typed at"), "{terminal}");
    app.password_grant("sana@pta.gov.pk", password).await.problem(401);
    app.password_grant("sana@pta.gov.pk", PASSWORD).await.problem(401);
}
