//! The verification log's writer alone (issue 23): how many entries a second it stores, with
//! nothing else running. Not a test: it measures and reports.
//!
//!   cargo bench --bench log_writer                      # SQLite, a new temporary file
//!   CCREG_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench log_writer
//!                                                       # and PostgreSQL (a database it makes and drops)
//!   ROWS=1000000 cargo bench --bench log_writer
//!
//! The entries are made before the clock starts (their cost is the answer's, measured by
//! bench/run.sh); the time is from the first append until a flush has seen every entry
//! committed, so it includes the buffer, the batching and every transaction.

use std::time::Instant;

use ccreg::db::{DatabaseUrl, Db};
use ccreg::verify::log::{LogResult, LogRow, LoggedType, VerificationLog};
use diesel::{Connection, RunQueryDsl};

fn rows(n: usize) -> Vec<LogRow> {
    let at = chrono::Utc::now().naive_utc();
    (0..n)
        .map(|i| LogRow {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: format!("client-{}", i % 4),
            query_type: if i % 2 == 0 { LoggedType::Licence } else { LoggedType::Number },
            query: if i % 2 == 0 {
                format!("CCL-2026-{:06}-16", i % 100_000)
            } else {
                format!("+9258{:08}", i)
            },
            result: if i % 3 == 0 { LogResult::NotLicensed } else { LogResult::Licensed },
            at,
        })
        .collect()
}

fn run(label: &str, url: DatabaseUrl, n: usize) -> anyhow::Result<()> {
    let db = Db::connect(&url, 4)?;
    db.migrate()?;
    let entries = rows(n);
    actix_web::rt::System::new().block_on(async move {
        let log = VerificationLog::start(db.clone());
        let started = Instant::now();
        let mut entries = entries.into_iter().peekable();
        while entries.peek().is_some() {
            log.record(entries.by_ref().take(1_000)).await;
        }
        log.flush().await;
        let secs = started.elapsed().as_secs_f64();
        let stored = db
            .read(|c| {
                #[derive(diesel::QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                Ok(diesel::sql_query("SELECT CAST(COALESCE(SUM(entries), 0) AS BIGINT) AS n FROM verification_log_batches")
                    .get_result::<N>(c)?
                    .n)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(stored as usize == n, "{stored} of {n} entries stored");
        println!("| {label:<10} | {n:>9} | {secs:>7.2} | {:>10.0} |", n as f64 / secs);
        log.close();
        Ok(())
    })
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(500_000);
    println!("| database   |   entries | seconds | entries/s  |\n|------------|-----------|---------|------------|");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("log.db").to_string_lossy().to_string();
    run("SQLite", DatabaseUrl::Sqlite { path }, n)?;
    if let Ok(admin) = std::env::var("CCREG_BENCH_PG_URL") {
        let name = "ccreg_bench_log_writer";
        let mut c = diesel::PgConnection::establish(&admin)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut c)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let result = run("PostgreSQL", DatabaseUrl::Postgres { url: format!("{base}/{name}") }, n);
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)?;
        result?;
    }
    Ok(())
}
