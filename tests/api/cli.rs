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
