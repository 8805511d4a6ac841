//! The `ccreg` command line.

use std::io::Write;
use std::process::{Command, Stdio};

fn ccreg(env: &[(&str, &str)], args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccreg"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for var in
        ["CCREG_DATABASE_URL", "CCREG_BOOTSTRAP_ADMIN_EMAIL", "CCREG_BOOTSTRAP_ADMIN_PASSWORD"]
    {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn openapi_prints_the_committed_spec() {
    let (ok, out, _) = ccreg(&[], &["openapi"], "");
    assert!(ok);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(out == committed, "ccreg openapi differs from openapi/openapi.json");
}

#[test]
fn unknown_database_schemes_are_refused() {
    let (ok, _, err) =
        ccreg(&[("CCREG_DATABASE_URL", "mysql://root:hunter2@db/ccreg")], &["migrate"], "");
    assert!(!ok);
    assert!(err.contains("unsupported scheme"), "{err}");
    assert!(!err.contains("hunter2"), "the password leaked: {err}");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", "data/ccreg.db")], &["migrate"], "");
    assert!(!ok, "{err}");
}

#[test]
fn a_retention_period_that_is_not_whole_days_from_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ccreg.db").display());
    for var in ["CCREG_VERIFICATION_LOG_DAYS", "CCREG_WEBHOOK_DELIVERY_DAYS"] {
        for bad in ["0", "-30", "1.5", "thirty"] {
            // An unusable bind address too, so a start that went on would fail rather than serve.
            let env = [("CCREG_DATABASE_URL", url.as_str()), ("CCREG_BIND", "nowhere"), (var, bad)];
            let (ok, _, err) = ccreg(&env, &["serve"], "");
            assert!(!ok, "{var}={bad}");
            assert!(
                err.contains(var) && err.contains("whole number of days"),
                "{var}={bad}: {err}"
            );
        }
    }
}

#[test]
fn user_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let env = [("CCREG_DATABASE_URL", url.as_str())];
    let args = [
        "user",
        "create",
        "--email",
        "Reg@PTA.gov.pk",
        "--role",
        "regulator",
        "--full-name",
        "Sara Malik",
    ];
    let (ok, out, err) = ccreg(&env, &args, "a long regulator password\n");
    assert!(ok, "{err}");
    assert!(out.contains("regulator") && out.contains("reg@pta.gov.pk"), "{out}");
    assert!(
        !out.contains("a long regulator password") && !err.contains("a long regulator password")
    );

    let (ok, _, err) = ccreg(&env, &args, "a long regulator password\n");
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = ccreg(
        &env,
        &["user", "create", "--email", "x@pta.gov.pk", "--role", "regulator", "--full-name", "X"],
        "short\n",
    );
    assert!(!ok && err.contains("12"), "{err}");
    let (ok, _, err) = ccreg(
        &env,
        &["user", "create", "--email", "y@pta.gov.pk", "--role", "operator", "--full-name", "Y"],
        "a long enough password\n",
    );
    assert!(!ok && err.contains("--role"), "{err}");
    let (ok, out, _) = ccreg(&[], &["user", "create", "--help"], "");
    assert!(ok && out.contains("--email") && out.contains("standard input"), "{out}");
}

fn count(path: &str, sql: &str) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = diesel::SqliteConnection::establish(path).unwrap();
    diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
}

#[test]
fn seed_demo_builds_a_realistic_registry_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/demo.db", dir.path().display());
    let url = format!("sqlite://{path}");
    let (ok, out, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--demo"], "");
    assert!(ok, "{err}");
    for expected in ["regulator@demo.ccreg.pk", "inspector@demo.ccreg.pk", "client_secret"] {
        assert!(out.contains(expected), "{out}");
    }
    let cities = count(&path, "SELECT COUNT(DISTINCT city_key) AS n FROM sites");
    assert_eq!(cities, 6);
    for status in ["active", "provisional", "suspended", "revoked", "surrendered"] {
        let n =
            count(&path, &format!("SELECT COUNT(*) AS n FROM licences WHERE status = '{status}'"));
        assert!(n > 0, "no {status} licence");
    }
    // One provisional licence was issued more than 90 days ago: lapsed now.
    assert!(
        count(
            &path,
            "SELECT COUNT(*) AS n FROM licences WHERE status = 'provisional' \
             AND provisional_until < datetime('now')"
        ) > 0
    );
    // Invoices paid and clearances granted stand behind every licence.
    assert!(count(&path, "SELECT COUNT(*) AS n FROM invoices WHERE status = 'paid'") > 0);
    assert!(count(&path, "SELECT COUNT(*) AS n FROM clearances WHERE status = 'granted'") > 0);
    // One was issued thirteen months ago for twelve: expired now.
    assert!(
        count(&path, "SELECT COUNT(*) AS n FROM licences WHERE expires_at < datetime('now')") > 0
    );
    assert!(count(&path, "SELECT COUNT(*) AS n FROM organisations o WHERE NOT EXISTS (SELECT 1 FROM licences l WHERE l.organisation_id = o.id)") > 0);
    assert!(count(&path, "SELECT COUNT(*) AS n FROM phone_ranges WHERE kind = 'range'") > 0);
    assert!(count(&path, "SELECT COUNT(*) AS n FROM ip_ranges WHERE family = 6") > 0);
    // A routine and a critical visit, and a pre-licence visit behind every licence that is not
    // provisional.
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) AS n FROM inspections WHERE status = 'recorded' AND kind <> 'pre_licence'"
        ),
        2
    );
    assert!(count(&path, "SELECT COUNT(*) AS n FROM inspections WHERE kind = 'pre_licence'") > 0);
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--demo"], "");
    assert!(!ok && err.contains("already"), "{err}");
}

#[test]
fn seed_sites_builds_a_large_registry_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/scale.db", dir.path().display());
    let url = format!("sqlite://{path}");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--sites", "250"], "");
    assert!(ok, "{err}");
    assert_eq!(count(&path, "SELECT COUNT(*) AS n FROM sites"), 250);
    assert_eq!(count(&path, "SELECT COUNT(*) AS n FROM phone_ranges"), 250 * 11);
    assert_eq!(count(&path, "SELECT COUNT(*) AS n FROM ip_ranges"), 250);
    assert_eq!(
        count(&path, "SELECT COUNT(*) AS n FROM licences"),
        23,
        "nine in ten of 25 organisations"
    );
    assert_eq!(count(&path, "SELECT COUNT(*) AS n FROM licence_events"), 23);
    // Run again: more sites, no collisions.
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--sites", "30"], "");
    assert!(ok, "{err}");
    assert_eq!(count(&path, "SELECT COUNT(*) AS n FROM sites"), 280);
    let (ok, _, _) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed"], "");
    assert!(!ok);
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_no_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccreg"))
        .arg("openapi")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read nothing and hang up, as `ccreg openapi | head -c 0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("new/ccreg.db");
    let url = format!("sqlite://{}", path.display());
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["migrate"], "");
    assert!(ok, "{err}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "database file");
    assert_eq!(mode(path.parent().unwrap()), 0o700, "database directory");
    for extra in ["ccreg.db-wal", "ccreg.db-shm"] {
        let p = path.parent().unwrap().join(extra);
        if p.exists() {
            assert_eq!(mode(&p) & 0o077, 0, "{extra} is readable by others");
        }
    }
}

#[test]
fn backup_copies_a_live_registry_and_verify_audit_finds_a_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/live.db", dir.path().display());
    let url = format!("sqlite://{path}");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--demo"], "");
    assert!(ok, "{err}");
    let (ok, out, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["verify-audit"], "");
    assert!(ok && out.contains("intact"), "{out}{err}");

    let copy = format!("{}/copy.db", dir.path().display());
    let (ok, out, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["backup", "--to", &copy], "");
    assert!(ok, "{out}{err}");
    for table in ["organisations", "licences", "audit_log", "documents"] {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        assert_eq!(count(&copy, &sql), count(&path, &sql), "{table}");
    }
    let copy_url = format!("sqlite://{copy}");
    let (ok, out, _) = ccreg(&[("CCREG_DATABASE_URL", &copy_url)], &["verify-audit"], "");
    assert!(ok && out.contains("intact"), "the copy's chain holds: {out}");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["backup", "--to", &copy], "");
    assert!(!ok && err.contains("exists already"), "{err}");

    // One summary changed in the copy: the chain is broken there, and the command says where.
    use diesel::{Connection, RunQueryDsl};
    let mut c = diesel::SqliteConnection::establish(&copy).unwrap();
    diesel::sql_query("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 3")
        .execute(&mut c)
        .unwrap();
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &copy_url)], &["verify-audit"], "");
    assert!(!ok && err.contains("broken at entry 3"), "{err}");
}

/// One text of a query's rows on a SQLite file, for comparing a table across copies.
fn text(path: &str, sql: &str) -> String {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        t: Option<String>,
    }
    let mut c = diesel::SqliteConnection::establish(path).unwrap();
    diesel::sql_query(sql).get_result::<T>(&mut c).unwrap().t.unwrap_or_default()
}

#[test]
fn copy_moves_the_demo_registry_out_and_back_verified_and_refuses_a_target_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/source.db", dir.path().display());
    let url = format!("sqlite://{path}");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["seed", "--demo"], "");
    assert!(ok, "{err}");

    // The middle: PostgreSQL when the suite runs there, another SQLite file otherwise.
    let middle = crate::helpers::TestDb::new();
    let middle_url = middle.url_string();
    let (ok, out, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["copy", "--to", &middle_url], "");
    assert!(ok, "{out}{err}");
    assert!(out.contains("audit chain is intact"), "{out}");
    let (ok, out, _) = ccreg(&[("CCREG_DATABASE_URL", &middle_url)], &["verify-audit"], "");
    assert!(ok && out.contains("intact"), "{out}");

    // A second copy into the same target is refused, and leaves it as it was.
    let before = middle.execute("UPDATE registry_locks SET counter = counter");
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["copy", "--to", &middle_url], "");
    assert!(!ok && err.contains("not empty"), "{err}");
    assert_eq!(middle.execute("UPDATE registry_locks SET counter = counter"), before);
    // And the database itself is not a target.
    let (ok, _, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["copy", "--to", &url], "");
    assert!(!ok && err.contains("itself"), "{err}");

    // Back into a new SQLite file: every table, row and byte as it was in the source.
    let back = format!("{}/back.db", dir.path().display());
    let back_url = format!("sqlite://{back}");
    let (ok, out, err) =
        ccreg(&[("CCREG_DATABASE_URL", &middle_url)], &["copy", "--to", &back_url], "");
    assert!(ok, "{out}{err}");
    let tables = text(
        &path,
        "SELECT group_concat(name, ' ') AS t FROM (SELECT name FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'organisation_names%' \
         AND name <> '__diesel_schema_migrations' ORDER BY name)",
    );
    assert!(tables.split(' ').count() > 30, "{tables}");
    for table in tables.split(' ') {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        assert_eq!(count(&back, &sql), count(&path, &sql), "{table}");
    }
    assert!(count(&path, "SELECT COUNT(*) AS n FROM documents") > 0);
    for sql in [
        "SELECT group_concat(id || hex(content) || sha256, ',') AS t FROM \
         (SELECT * FROM documents ORDER BY id)",
        "SELECT group_concat(licence_number || status || issued_at || coalesce(provisional_until, '-'), ',') AS t \
         FROM (SELECT * FROM licences ORDER BY licence_number)",
        "SELECT group_concat(id || active || typeof(active) || created_at, ',') AS t FROM \
         (SELECT * FROM users ORDER BY id)",
        "SELECT group_concat(seq || at || hash, ',') AS t FROM (SELECT * FROM audit_log ORDER BY seq)",
        "SELECT group_concat(id || legal_name, ',') AS t FROM \
         (SELECT o.id, n.legal_name FROM organisations o JOIN organisation_names n ON n.id = o.id \
          ORDER BY o.id)",
    ] {
        assert_eq!(text(&back, sql), text(&path, sql), "{sql}");
    }
    let (ok, out, _) = ccreg(&[("CCREG_DATABASE_URL", &back_url)], &["verify-audit"], "");
    let (_, source_out, _) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["verify-audit"], "");
    assert!(ok && out == source_out, "the same chain and head: {out} / {source_out}");
}

#[test]
fn processes_started_together_on_an_empty_database_all_migrate_it() {
    let db = crate::helpers::TestDb::new();
    let url = db.url_string();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccreg"));
            cmd.arg("migrate").env("CCREG_DATABASE_URL", &url).env("RUST_LOG", "warn");
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (ok, out, err) = ccreg(&[("CCREG_DATABASE_URL", &url)], &["verify-audit"], "");
    assert!(ok && out.contains("intact: 0 entries"), "{out}{err}");
}
