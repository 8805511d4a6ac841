//! `ccreg copy --to URL` (API.md §17): the whole registry from the configured database into an
//! empty one of either kind, read from one snapshot of the source and written in one transaction
//! of the target, which commits only after the copy's per-table row counts equal the source's and
//! its audit chain verifies. A failure at any point leaves the target as empty as it was.
//!
//! The tables and their columns are read from the two databases' catalogs (both made by this
//! binary's migrations), so a table added by a later migration is copied without a change here.
//! Rows travel as JSON: the source renders each row as one JSON array (blobs as hex), the values
//! are brought to the target's form here (timestamps as diesel writes them, booleans as the
//! target stores them), and a batch is inserted by one statement that unpacks a JSON array
//! (`json_each` on SQLite, `json_array_elements` on PostgreSQL), with one bound parameter.
//!
//! Foreign keys are checked at the target's commit (`PRAGMA defer_foreign_keys` on SQLite; on
//! PostgreSQL `SET CONSTRAINTS ALL DEFERRED`, which migration 000014 made possible), so tables
//! go in any order, cycles included.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::Value;

use super::DbConn;

/// The table of applied migrations: each side has its own, made by its own migrations.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";
/// Tables the migrations themselves fill, and what their rows look like before any use: the
/// audit chain's head at its genesis and the counters at zero. A target whose rows in them are
/// only these is still empty; they are replaced by the source's.
const SEEDED: [(&str, &str); 2] = [("audit_head", "seq <> 0"), ("registry_locks", "counter <> 0")];
/// Rows per read and per insert; fewer for tables with blobs (a document may be megabytes).
const BATCH_ROWS: i64 = 1_000;
const BLOB_BATCH_ROWS: i64 = 4;
/// An insert's JSON parameter is sent once it reaches this many bytes.
const BATCH_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Bool,
    Timestamp,
    Blob,
}

impl Kind {
    fn of(declared: &str) -> Kind {
        let t = declared.to_ascii_lowercase();
        if t.contains("bytea") || t.contains("blob") || t.contains("binary") {
            Kind::Blob
        } else if t.contains("bool") {
            Kind::Bool
        } else if t.contains("timestamp") {
            Kind::Timestamp
        } else if t.contains("int") {
            Kind::Int
        } else {
            Kind::Text
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// The type as the database declares it (PostgreSQL's `format_type`), for the insert's cast.
    declared: String,
}

type Catalog = BTreeMap<String, Vec<Column>>;

/// What was copied, verified in the target before it committed.
#[derive(Debug)]
pub struct Copied {
    /// Every table with its rows, the same in source and copy.
    pub tables: Vec<(String, i64)>,
    pub audit_entries: i64,
    pub audit_head: String,
}

#[derive(QueryableByName)]
struct CatalogRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row_json: String,
    #[diesel(sql_type = BigInt)]
    k: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A database name quoted as an identifier (the names come from the catalog, never from input).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn catalog(conn: &mut DbConn) -> QueryResult<Catalog> {
    let rows: Vec<CatalogRow> = match conn {
        // Virtual tables (the trigram index of names) and their shadow tables are kept by
        // triggers in each database, so they are not copied: the target fills its own.
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS column_type \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND m.name <> '__diesel_schema_migrations' \
               AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' \
               AND NOT EXISTS (SELECT 1 FROM sqlite_master v \
                 WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                   AND m.name LIKE v.name || '\\_%' ESCAPE '\\') \
             ORDER BY m.name, p.cid",
        )
        .load(c)?,
        DbConn::Postgresql(c) => diesel::sql_query(
            "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                    format_type(a.atttypid, a.atttypmod) AS column_type \
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
               AND a.attnum > 0 AND NOT a.attisdropped \
               AND c.relname <> '__diesel_schema_migrations' \
             ORDER BY c.relname, a.attnum",
        )
        .load(c)?,
    };
    let mut tables = Catalog::new();
    for r in rows {
        if r.table_name == MIGRATIONS_TABLE {
            continue;
        }
        tables.entry(r.table_name).or_default().push(Column {
            kind: Kind::of(&r.column_type),
            declared: r.column_type,
            name: r.column_name,
        });
    }
    Ok(tables)
}

fn count(conn: &mut DbConn, table: &str, condition: Option<&str>) -> QueryResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {}{}",
        quoted(table),
        condition.map(|c| format!(" WHERE {c}")).unwrap_or_default()
    );
    let n: Count = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).get_result(c)?,
        DbConn::Postgresql(c) => diesel::sql_query(sql).get_result(c)?,
    };
    Ok(n.n)
}

/// The rows of the first table in the target that holds any (beyond what migrations write).
fn first_nonempty(conn: &mut DbConn, tables: &Catalog) -> QueryResult<Option<(String, i64)>> {
    for name in tables.keys() {
        let condition = SEEDED.iter().find(|(t, _)| t == name).map(|(_, c)| *c);
        let n = count(conn, name, condition)?;
        if n > 0 {
            return Ok(Some((name.clone(), n)));
        }
    }
    Ok(None)
}

/// Reads one table in batches, in a stable order, handing each batch of JSON rows to `each`.
fn read_table(
    conn: &mut DbConn,
    table: &str,
    columns: &[Column],
    mut each: impl FnMut(Vec<String>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let batch =
        if columns.iter().any(|c| c.kind == Kind::Blob) { BLOB_BATCH_ROWS } else { BATCH_ROWS };
    match conn {
        DbConn::Sqlite(c) => {
            let values: Vec<String> = columns
                .iter()
                .map(|col| match col.kind {
                    Kind::Blob => format!("hex({})", quoted(&col.name)),
                    _ => quoted(&col.name),
                })
                .collect();
            let sql = format!(
                "SELECT json_array({}) AS row_json, rowid AS k FROM {} WHERE rowid > ? \
                 ORDER BY rowid LIMIT ?",
                values.join(", "),
                quoted(table)
            );
            let mut after = i64::MIN;
            loop {
                let rows: Vec<JsonRow> = diesel::sql_query(&sql)
                    .bind::<BigInt, _>(after)
                    .bind::<BigInt, _>(batch)
                    .load(c)?;
                let Some(last) = rows.last() else { break };
                after = last.k;
                let done = (rows.len() as i64) < batch;
                each(rows.into_iter().map(|r| r.row_json).collect())?;
                if done {
                    break;
                }
            }
        }
        DbConn::Postgresql(c) => {
            if columns.len() > 100 {
                anyhow::bail!("{table} has more than 100 columns, more than one JSON row can hold");
            }
            let values: Vec<String> = columns
                .iter()
                .map(|col| match col.kind {
                    Kind::Blob => format!("encode({}, 'hex')", quoted(&col.name)),
                    _ => quoted(&col.name),
                })
                .collect();
            // A cursor inside the snapshot's transaction: no re-scan per batch, no key needed.
            c.batch_execute(&format!(
                "DECLARE ccreg_copy NO SCROLL CURSOR FOR \
                 SELECT json_build_array({})::text AS row_json, 0::bigint AS k FROM {}",
                values.join(", "),
                quoted(table)
            ))?;
            let fetch = format!("FETCH FORWARD {batch} FROM ccreg_copy");
            loop {
                let rows: Vec<JsonRow> = diesel::sql_query(&fetch).load(c)?;
                let done = (rows.len() as i64) < batch;
                if !rows.is_empty() {
                    each(rows.into_iter().map(|r| r.row_json).collect())?;
                }
                if done {
                    break;
                }
            }
            c.batch_execute("CLOSE ccreg_copy")?;
        }
    }
    Ok(())
}

/// A source row's values in the form the target stores.
fn convert(
    table: &str,
    columns: &[Column],
    row_json: &str,
    to_sqlite: bool,
) -> anyhow::Result<Value> {
    let values: Vec<Value> = serde_json::from_str(row_json)?;
    if values.len() != columns.len() {
        anyhow::bail!("a row of {table} has {} values for {} columns", values.len(), columns.len());
    }
    let mut out = Vec::with_capacity(values.len());
    for (col, v) in columns.iter().zip(values) {
        out.push(match (col.kind, v) {
            (_, Value::Null) => Value::Null,
            (Kind::Timestamp, Value::String(s)) => {
                let t = super::parse_timestamp_text(&s).ok_or_else(|| {
                    anyhow::anyhow!("{table}.{} holds {s:?}, not a timestamp", col.name)
                })?;
                Value::String(super::timestamp_text(t))
            }
            (Kind::Bool, v) => {
                let b = match &v {
                    Value::Bool(b) => *b,
                    Value::Number(n) => n.as_i64() != Some(0),
                    _ => anyhow::bail!("{table}.{} holds {v}, not a boolean", col.name),
                };
                if to_sqlite {
                    Value::from(i64::from(b))
                } else {
                    Value::Bool(b)
                }
            }
            (_, v) => v,
        });
    }
    Ok(Value::Array(out))
}

/// Inserts a batch of converted rows (a JSON array of arrays) into the target's table.
fn insert(conn: &mut DbConn, table: &str, columns: &[Column], rows: &[Value]) -> QueryResult<()> {
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let json = Value::Array(rows.to_vec()).to_string();
    match conn {
        DbConn::Sqlite(c) => {
            let values: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, col)| match col.kind {
                    Kind::Blob => format!("unhex(value ->> {i})"),
                    _ => format!("value ->> {i}"),
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) SELECT {} FROM json_each(?)",
                quoted(table),
                names.join(", "),
                values.join(", ")
            );
            diesel::sql_query(sql).bind::<Text, _>(json).execute(c)?;
        }
        DbConn::Postgresql(c) => {
            let values: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, col)| match col.kind {
                    Kind::Blob => format!("decode(r ->> {i}, 'hex')"),
                    _ => format!("(r ->> {i})::{}", col.declared),
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) SELECT {} FROM json_array_elements($1::json) AS r",
                quoted(table),
                names.join(", "),
                values.join(", ")
            );
            diesel::sql_query(sql).bind::<Text, _>(json).execute(c)?;
        }
    }
    Ok(())
}

fn begin_snapshot(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        // In WAL mode a read transaction sees one snapshot from its first read to its end,
        // while writers carry on.
        DbConn::Sqlite(c) => c.batch_execute("BEGIN DEFERRED"),
        DbConn::Postgresql(c) => {
            c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        }
    }
}

fn begin_target(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON"),
        DbConn::Postgresql(c) => c.batch_execute("BEGIN; SET CONSTRAINTS ALL DEFERRED"),
    }
}

fn run(conn: &mut DbConn, sql: &str) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(sql),
        DbConn::Postgresql(c) => c.batch_execute(sql),
    }
}

/// How the copy reports progress: the rows it will copy, then each batch and each table done.
pub trait Progress {
    fn start(&self, total_rows: u64);
    fn rows(&self, table: &str, n: u64);
    /// A table is copied (verified later, with all the others, before the commit).
    fn table_done(&self, table: &str, rows: i64);
}

/// Copies everything in `source` into `target`, which must be migrated and empty. See the
/// module's text; on any error the target's transaction is rolled back.
pub fn copy(
    source: &mut DbConn,
    target: &mut DbConn,
    progress: &dyn Progress,
) -> anyhow::Result<Copied> {
    let tables = catalog(source)?;
    let target_tables = catalog(target)?;
    for (name, columns) in &tables {
        let Some(theirs) = target_tables.get(name) else {
            anyhow::bail!("the target has no table {name}: is it migrated by this ccreg?");
        };
        let mut mine: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut other: Vec<&str> = theirs.iter().map(|c| c.name.as_str()).collect();
        mine.sort_unstable();
        other.sort_unstable();
        if mine != other {
            anyhow::bail!("the target's table {name} has other columns than the source's");
        }
    }
    if let Some(extra) = target_tables.keys().find(|t| !tables.contains_key(*t)) {
        anyhow::bail!("the target has a table the source lacks ({extra}): is the source migrated?");
    }
    if let Some((table, n)) = first_nonempty(target, &target_tables)? {
        anyhow::bail!(
            "the target is not empty ({n} row(s) in {table}); ccreg copy writes only into an \
             empty database"
        );
    }

    begin_snapshot(source)?;
    let result = copy_in_snapshot(source, target, &tables, &target_tables, progress);
    // Reading only: the snapshot ends either way.
    let _ = run(source, "ROLLBACK");
    result
}

fn copy_in_snapshot(
    source: &mut DbConn,
    target: &mut DbConn,
    tables: &Catalog,
    target_tables: &Catalog,
    progress: &dyn Progress,
) -> anyhow::Result<Copied> {
    let mut counts = Vec::with_capacity(tables.len());
    for name in tables.keys() {
        counts.push((name.clone(), count(source, name, None)?));
    }
    progress.start(counts.iter().map(|(_, n)| *n as u64).sum());
    let to_sqlite = matches!(target, DbConn::Sqlite(_));

    begin_target(target)?;
    let written = (|| -> anyhow::Result<Copied> {
        for (table, _) in SEEDED {
            run(target, &format!("DELETE FROM {}", quoted(table)))?;
        }
        for (name, columns) in tables {
            // The target's declared types, for the casts; the source's column order.
            let target_columns: Vec<Column> = columns
                .iter()
                .map(|c| {
                    target_tables[name].iter().find(|t| t.name == c.name).cloned().unwrap_or_else(
                        || c.clone(), // not reached: the column sets were compared
                    )
                })
                .collect();
            let mut pending: Vec<Value> = Vec::new();
            let mut bytes = 0;
            read_table(source, name, columns, |rows| {
                let n = rows.len() as u64;
                for r in rows {
                    bytes += r.len();
                    pending.push(convert(name, &target_columns, &r, to_sqlite)?);
                }
                if pending.len() as i64 >= BATCH_ROWS || bytes >= BATCH_BYTES {
                    insert(target, name, &target_columns, &pending)?;
                    pending.clear();
                    bytes = 0;
                }
                progress.rows(name, n);
                Ok(())
            })?;
            if !pending.is_empty() {
                insert(target, name, &target_columns, &pending)?;
            }
            let n = counts.iter().find(|(t, _)| t == name).map_or(0, |(_, n)| *n);
            progress.table_done(name, n);
        }
        // Verified inside the target's transaction: a copy that does not hold is never committed.
        for (name, n) in &counts {
            let copied = count(target, name, None)?;
            if copied != *n {
                anyhow::bail!("{name}: {n} row(s) in the source, {copied} in the copy");
            }
        }
        let chain = crate::audit::store::verify(target)
            .map_err(|e| anyhow::anyhow!("verifying the copy's audit chain: {e}"))?;
        if let Some(seq) = chain.first_bad_seq {
            anyhow::bail!("the copy's audit chain is broken at entry {seq}");
        }
        Ok(Copied { tables: counts, audit_entries: chain.entries, audit_head: chain.head_hash })
    })();
    match written {
        Ok(copied) => {
            // Foreign keys are checked here; a violation fails the commit.
            if let Err(e) = run(target, "COMMIT") {
                let _ = run(target, "ROLLBACK");
                return Err(anyhow::anyhow!("the copy could not be committed: {e}"));
            }
            // Fresh planner statistics for the new tables (not part of the copy's truth).
            let _ = run(target, "ANALYZE");
            Ok(copied)
        }
        Err(e) => {
            let _ = run(target, "ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, declared: &str) -> Column {
        Column { name: name.into(), kind: Kind::of(declared), declared: declared.into() }
    }

    #[test]
    fn declared_types_map_to_kinds() {
        assert_eq!(Kind::of("timestamp without time zone"), Kind::Timestamp);
        assert_eq!(Kind::of("TIMESTAMP"), Kind::Timestamp);
        assert_eq!(Kind::of("bytea"), Kind::Blob);
        assert_eq!(Kind::of("BLOB"), Kind::Blob);
        assert_eq!(Kind::of("boolean"), Kind::Bool);
        assert_eq!(Kind::of("BIGINT"), Kind::Int);
        assert_eq!(Kind::of("date"), Kind::Text);
        assert_eq!(Kind::of("TEXT"), Kind::Text);
    }

    #[test]
    fn values_take_the_targets_form() {
        let cols = [col("at", "timestamp"), col("ok", "boolean"), col("n", "bigint")];
        let pg_row = r#"["2026-12-04T23:05:15.1234",true,7]"#;
        let v = convert("t", &cols, pg_row, true).unwrap();
        assert_eq!(v, serde_json::json!(["2026-12-04 23:05:15.123400", 1, 7]));
        let sqlite_row = r#"["2026-12-04 23:05:15",0,null]"#;
        let v = convert("t", &cols, sqlite_row, false).unwrap();
        assert_eq!(v, serde_json::json!(["2026-12-04 23:05:15", false, null]));
        assert!(convert("t", &cols, r#"["yesterday",0,1]"#, false).is_err());
        assert!(convert("t", &cols, r#"[null,0]"#, false).is_err());
    }
}
