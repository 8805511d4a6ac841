//! The database layer: one connection type over SQLite and PostgreSQL, its pool, the SQLite
//! pragmas, embedded migrations, and `Db::read` / `Db::write`, which run diesel on the blocking
//! pool so no query ever runs on an actix worker thread.

pub mod copy;
pub mod schema;
#[macro_use]
pub mod stored;
pub mod versioned;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend type of [`DbConn`], for `FromSql`/`ToSql` impls that serve both databases.
pub type Backend = <DbConn as diesel::Connection>::Backend;

pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

/// The backend a database URL names; the scheme decides, and anything unknown is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: String },
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "CCREG_DATABASE_URL: sqlite:// needs a file path, e.g. sqlite://data/ccreg.db"
                        .into(),
                );
            }
            return Ok(DatabaseUrl::Sqlite { path: path.to_string() });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres { url: raw.to_string() });
        }
        Err(format!(
            "CCREG_DATABASE_URL: unsupported scheme in {:?}; use sqlite://<path> or postgres://…",
            redact_url(raw)
        ))
    }

    /// The URL with any password removed, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{path}"),
            DatabaseUrl::Postgres { url } => redact_url(url),
        }
    }
}

fn redact_url(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &raw[..s], &raw[at + 1..]),
        _ => raw.to_string(),
    }
}

/// Sets the SQLite pragmas on every new connection, in one place.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            use diesel::connection::SimpleConnection;
            c.batch_execute(
                // busy_timeout first, so the others wait for a writer instead of failing.
                // (journal_mode = WAL is persistent; Db::connect sets it once.)
                "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// How many connections the pool holds, how many of them wait unused, and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// A timestamp as diesel writes it to SQLite (`%F %T%.f`), which PostgreSQL reads alike: for
/// rows written as text (the verification log's batches, `ccreg copy`), without chrono's formatter.
pub fn timestamp_text(at: chrono::NaiveDateTime) -> String {
    crate::domain::timestamp::sql_text(at)
}

/// A timestamp read back from text: SQLite's form (a space) or JSON's from PostgreSQL (a `T`).
pub fn parse_timestamp_text(s: &str) -> Option<chrono::NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
}

/// The PostgreSQL advisory lock taken while migrating ("ccreg" in ASCII).
const MIGRATION_LOCK: i64 = 0x0063_6372_6567;

/// The pool and what the rest of the code calls to reach the database.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
}

impl Db {
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<Self> {
        let conn_url = match url {
            DatabaseUrl::Sqlite { path } => {
                create_owner_only(std::path::Path::new(path))?;
                // WAL is a property of the file: set it once, on one connection, before the pool
                // opens several at once (changing it cannot wait on the busy handler).
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                SqliteConnection::establish(path)
                    .and_then(|mut c| {
                        c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
                    })
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", url.redacted()))?;
                path.clone()
            }
            DatabaseUrl::Postgres { url } => url.clone(),
        };
        let manager = ConnectionManager::<DbConn>::new(conn_url);
        let pool = Pool::builder()
            .max_size(max_size)
            // Opened as needed beyond these (an idle SQLite connection holds its own cache).
            .min_idle(Some(max_size.min(4)))
            .connection_timeout(Duration::from_secs(10))
            // No `SELECT 1` on every checkout (two per request on the hot path); a connection
            // that has failed is discarded by r2d2 when diesel reports it broken.
            .test_on_check_out(false)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", url.redacted()))?;
        Ok(Db { pool })
    }

    /// Runs the embedded migrations of the connected backend.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.pool.get()?;
        let names = |v: Vec<diesel::migration::MigrationVersion<'_>>| {
            v.iter().map(|v| v.to_string()).collect::<Vec<String>>()
        };
        let applied = match &mut *conn {
            // Several processes may start at once on one database (§17): the first to take the
            // write lock (SQLite) or this session lock (PostgreSQL) migrates; the others wait for
            // it and then find nothing pending.
            DbConn::Sqlite(c) => {
                c.immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(names))
            }
            DbConn::Postgresql(c) => {
                use diesel::connection::SimpleConnection;
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied
            }
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied)
    }

    /// Runs `f` with a connection on the blocking pool (reads, or writes that manage their own
    /// transaction).
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(AppError::unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| AppError::internal("database task was cancelled"))?
    }

    /// Runs `f` in one write transaction on the blocking pool: committed when `f` returns `Ok`,
    /// rolled back otherwise. On SQLite the transaction begins IMMEDIATE, so concurrent writers
    /// queue on the lock (busy_timeout) instead of failing mid-transaction.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.read(move |conn| write_tx(conn, f)).await
    }

    /// Synchronous access for the CLI (never called from a request handler).
    pub fn get(&self) -> Result<PooledConn, AppError> {
        self.pool.get().map_err(AppError::unavailable)
    }

    /// The pool's size now, for `/metrics` (r2d2 counts under a short lock; no query runs).
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }

    pub async fn ping(&self) -> Result<(), AppError> {
        self.read(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
    }
}

/// The database holds password hashes: a new database file is created readable by its owner
/// only (0600; SQLite gives its WAL and shared-memory files the same mode), in a directory
/// created owner-only (0700). Existing files and directories keep their modes.
fn create_owner_only(path: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            builder.mode(0o700);
            builder.create(dir).map_err(|e| {
                anyhow::anyhow!("cannot create database directory {}: {e}", dir.display())
            })?;
        }
    }
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        match options.open(path) {
            Ok(_) => {}
            // Another process made it first: it is theirs to have made right.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => anyhow::bail!("cannot create database file {}: {e}", path.display()),
        }
    }
    Ok(())
}

/// Runs CPU-heavy work (argon2) on the blocking pool, off the actix workers.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f).await.map_err(|_| AppError::internal("blocking task was cancelled"))?
}

/// One write transaction on `conn` (see [`Db::write`]).
pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let outcome = f(conn);
    let finish = match (&outcome, &mut *conn) {
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Postgresql(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Postgresql(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, finish) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

diesel::define_sql_function! {
    /// SQL `lower(text)`: ASCII on SQLite, the collation's rules on PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `coalesce(time, otherwise)`: a nullable time, or `otherwise` where it is null.
    #[sql_name = "coalesce"]
    fn time_or(
        x: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
        otherwise: diesel::sql_types::Timestamp
    ) -> diesel::sql_types::Timestamp;
}

/// Whether a diesel error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// An online, consistent copy of a SQLite database into the new file `to` (`VACUUM INTO`:
/// one read transaction, so writers carry on and the copy is one snapshot); answers the
/// copy's size. An existing `to` is refused, and so is a PostgreSQL database (use `pg_dump`).
pub fn backup(conn: &mut DbConn, to: &std::path::Path) -> anyhow::Result<u64> {
    use diesel::sql_types::Text;
    if to.exists() {
        anyhow::bail!("{} exists already; a backup goes to a new file", to.display());
    }
    let target = to
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup's path is not UTF-8: {}", to.display()))?;
    match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(target).execute(c)?;
        }
        DbConn::Postgresql(_) => anyhow::bail!(
            "ccreg backup copies a SQLite registry; for PostgreSQL use pg_dump (see the README)"
        ),
    }
    Ok(std::fs::metadata(to)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_pick_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/ccreg.db"),
            Ok(DatabaseUrl::Sqlite { path: "data/ccreg.db".into() })
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/ccreg/ccreg.db"),
            Ok(DatabaseUrl::Sqlite { path: "/var/lib/ccreg/ccreg.db".into() })
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres { .. })
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("data/ccreg.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_never_reach_messages() {
        let err = DatabaseUrl::parse("mysql://user:secret@host/db").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
        let url = DatabaseUrl::parse("postgres://user:secret@host/db").unwrap();
        assert!(!url.redacted().contains("secret"));
    }
}
