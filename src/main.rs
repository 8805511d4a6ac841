//! The `ccreg` command line: serve, migrate, openapi, seed, verify-audit, backup, user create.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use ccreg::app::Application;
use ccreg::clock::SystemClock;
use ccreg::config::{LogFormat, Settings};
use ccreg::db::{DatabaseUrl, Db};

#[derive(Parser)]
#[command(name = "ccreg", version, about = "The national call-centre licensing registry")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve the API (CCREG_BIND, default 127.0.0.1:8080).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Fill the database: `--demo` for a realistic demo registry, `--sites N` for a large one.
    Seed {
        /// A realistic registry across six cities, with staff credentials printed once.
        #[arg(long, conflicts_with = "sites")]
        demo: bool,
        /// Add N sites (ten numbers, a 100-number range and a /28 each) in licensed organisations.
        #[arg(long)]
        sites: Option<usize>,
    },
    /// Check the audit log's hash chain from the first entry to the head; exits non-zero
    /// where it is broken (API.md §17).
    VerifyAudit,
    /// An online, consistent copy of a SQLite registry into a new SQLite file (API.md §17);
    /// for PostgreSQL use `pg_dump` (see the README).
    Backup {
        /// The new file; an existing file is refused.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Copy the whole registry into an empty database of either kind (API.md §17): one
    /// snapshot of this one, verified in the copy (row counts, audit chain) before it commits.
    Copy {
        /// The target's URL (`sqlite://…` or `postgres://…`); it must be empty.
        #[arg(long)]
        to: String,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account. On a terminal the password is asked for twice, unechoed;
    /// otherwise it is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// admin, regulator or inspector.
        #[arg(long)]
        role: String,
        #[arg(long)]
        full_name: String,
    },
}

/// glibc gives every thread that allocates an arena of its own (up to eight per core) and
/// keeps what each frees for reuse by that thread: the index is built on one blocking thread
/// and the hot path allocates on others, so resident memory grows well past what is live.
/// Two arenas serve two workers; `MALLOC_ARENA_MAX` in the environment still wins.
///
/// glibc also raises its threshold for serving a large block from its own pages (rather than a
/// mapping of its own) to the size of each large block freed: after one sign-in, every
/// password hash's 12 MiB, and every bulk request's buffers, stay resident for good. A fixed
/// threshold of 1 MiB keeps such blocks mapped on their own and gives them back when freed;
/// `MALLOC_MMAP_THRESHOLD_` in the environment still wins.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets an allocator parameter; it is called once, before any
            // other thread exists.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        }
    }
}

/// Logs go to standard error, filtered by `RUST_LOG` (default `info`, which lets the access
/// lines through), as text or as one JSON object per line (`CCREG_LOG_FORMAT`). Text is
/// coloured only on a terminal (and never with `NO_COLOR` set), so files and pipes get no
/// escape codes.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => {
            logs.json().flatten_event(true).with_current_span(true).with_span_list(false).init()
        }
        LogFormat::Text => {
            let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            logs.with_ansi(std::io::stderr().is_terminal() && !no_colour).init()
        }
    }
}

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    match LogFormat::from_env() {
        Ok(format) => init_logging(format),
        Err(e) => {
            eprintln!("ccreg: {e}");
            return ExitCode::FAILURE;
        }
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ccreg: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings() -> anyhow::Result<Settings> {
    Settings::from_env().map_err(|e| anyhow::anyhow!(e))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            // `ccreg openapi | head` closes the pipe early: that is the reader's choice, not an
            // error (print! would panic on it).
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(ccreg::app::openapi_text().as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Command::Migrate => {
            let s = settings()?;
            let db = Db::connect(&s.database_url, 2)?;
            let applied = db.migrate()?;
            eprintln!("applied {} migration(s) to {}", applied.len(), s.database_url.redacted());
            Ok(())
        }
        Command::Serve => {
            let s = settings()?;
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(s, Arc::new(SystemClock)).await?;
                let log = app.verification_log();
                let served = app.server().await;
                // Everything answered is in the log before the process ends.
                log.close();
                served?;
                Ok(())
            })
        }
        Command::Seed { demo, sites } => {
            let s = settings()?;
            let db = Db::connect(&s.database_url, 2)?;
            db.migrate()?;
            let now = ccreg::clock::db_now(&SystemClock);
            match (demo, sites) {
                (true, _) => ccreg::seed::demo(&db, now),
                (false, Some(n)) if n > 0 => ccreg::seed::scale(&db, now, n),
                _ => Err(anyhow::anyhow!("say --demo or --sites N (N > 0)")),
            }
        }
        Command::VerifyAudit => {
            let s = settings()?;
            let db = Db::connect(&s.database_url, 1)?;
            let mut conn = db.get()?;
            let v = ccreg::audit::store::verify(&mut conn)?;
            match v.first_bad_seq {
                None => {
                    println!(
                        "the audit chain is intact: {} entries, head {}",
                        v.entries, v.head_hash
                    );
                    Ok(())
                }
                Some(seq) => Err(anyhow::anyhow!(
                    "the audit chain is broken at entry {seq} ({} entries read)",
                    v.entries
                )),
            }
        }
        Command::Backup { to } => {
            let s = settings()?;
            let db = Db::connect(&s.database_url, 1)?;
            let mut conn = db.get()?;
            let bytes = ccreg::db::backup(&mut conn, &to)?;
            println!("backed up {} to {} ({bytes} bytes)", s.database_url.redacted(), to.display());
            Ok(())
        }
        Command::Copy { to } => {
            let s = settings()?;
            let target_url = DatabaseUrl::parse(&to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
            if target_url == s.database_url {
                anyhow::bail!("--to names the configured database itself");
            }
            let source = Db::connect(&s.database_url, 1)?;
            source.migrate()?;
            let target = Db::connect(&target_url, 1)?;
            target.migrate()?;
            eprintln!("copying {} to {}", s.database_url.redacted(), target_url.redacted());
            let started = std::time::Instant::now();
            let (mut from, mut to) = (source.get()?, target.get()?);
            let copied = ccreg::db::copy::copy(&mut from, &mut to, &Bar::new())?;
            let rows: i64 = copied.tables.iter().map(|(_, n)| n).sum();
            println!(
                "copied {rows} rows in {} tables to {} in {:.1} s; every table's count matches \
                 the source's, and the copy's audit chain is intact ({} entries, head {})",
                copied.tables.len(),
                target_url.redacted(),
                started.elapsed().as_secs_f64(),
                copied.audit_entries,
                copied.audit_head
            );
            for (table, n) in copied.tables.iter().filter(|(_, n)| *n > 0) {
                println!("  {table:<28} {n:>10}");
            }
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, role, full_name } } => {
            let s = settings()?;
            let password = new_password()?;
            let db = Db::connect(&s.database_url, 2)?;
            db.migrate()?;
            let user = ccreg::users::provision::create_user(
                &db,
                &SystemClock,
                &email,
                &role,
                &full_name,
                password,
            )?;
            println!("created {} account {} ({})", user.role, user.email, user.id);
            Ok(())
        }
    }
}

/// The new account's password: asked for twice with the echo off when standard input is a
/// terminal, else read from standard input (one line; the line end is not part of it).
fn new_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new account: ")?;
        let second = rpassword::prompt_password("The same password again: ")?;
        if first != second {
            anyhow::bail!("the two passwords differ; no account was created");
        }
        return Ok(first);
    }
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

/// `ccreg copy`'s progress: a bar on a terminal, a line per table otherwise.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new() -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({per_sec}) {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar(bar)
    }
}

impl ccreg::db::copy::Progress for Bar {
    fn start(&self, total_rows: u64) {
        self.0.set_length(total_rows);
    }
    fn rows(&self, table: &str, n: u64) {
        self.0.set_message(table.to_string());
        self.0.inc(n);
    }
    fn table_done(&self, table: &str, rows: i64) {
        if self.0.is_hidden() && rows > 0 {
            eprintln!("copied {table}: {rows} rows");
        }
        if self.0.position() >= self.0.length().unwrap_or(0) {
            self.0.finish_and_clear();
        }
    }
}
