//! Audit queries. Appending first bumps the single `audit_head` row, which takes its row lock
//! on PostgreSQL (SQLite write transactions are serial already): appends from any number of
//! processes are serialised in commit order and the chain never forks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{canonical, chain_hash, AuditEntry, Change, Verification, GENESIS_HASH};
use crate::db::schema::{audit_head, audit_log};
use crate::db::DbConn;
use crate::error::AppError;

type Row = (i64, NaiveDateTime, Option<String>, String, String, String, String, String, String);

/// Appends `change` at `at`; call inside the transaction that makes the change.
pub fn append(conn: &mut DbConn, at: NaiveDateTime, change: Change<'_>) -> Result<i64, AppError> {
    diesel::update(audit_head::table.find(1))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .execute(conn)?;
    let (seq, prev_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    let entry = canonical(
        seq,
        at,
        change.actor_id,
        change.action,
        change.entity_type,
        change.entity_id,
        &change.summary,
    );
    let hash = chain_hash(&prev_hash, &entry);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(seq),
            audit_log::at.eq(at),
            audit_log::actor_id.eq(change.actor_id),
            audit_log::action.eq(change.action),
            audit_log::entity_type.eq(change.entity_type),
            audit_log::entity_id.eq(change.entity_id),
            audit_log::summary.eq(&change.summary),
            audit_log::prev_hash.eq(&prev_hash),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(audit_head::table.find(1)).set(audit_head::hash.eq(&hash)).execute(conn)?;
    Ok(seq)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, AppError> {
    let mut q = audit_log::table.into_boxed();
    if let Some(v) = &filter.entity_type {
        q = q.filter(audit_log::entity_type.eq(v));
    }
    if let Some(v) = &filter.entity_id {
        q = q.filter(audit_log::entity_id.eq(v));
    }
    if let Some(v) = &filter.actor_id {
        q = q.filter(audit_log::actor_id.eq(v));
    }
    if let Some(v) = &filter.action {
        q = q.filter(audit_log::action.eq(v));
    }
    if let Some(after) = after {
        q = q.filter(audit_log::seq.gt(after));
    }
    let rows: Vec<Row> = q.order(audit_log::seq.asc()).limit(limit).load(conn)?;
    Ok(rows.into_iter().map(to_entry).collect())
}

fn to_entry(r: Row) -> AuditEntry {
    AuditEntry {
        seq: r.0,
        at: r.1.and_utc(),
        actor_id: r.2,
        action: r.3,
        entity_type: r.4,
        entity_id: r.5,
        summary: r.6,
        prev_hash: r.7,
        hash: r.8,
    }
}

/// Walks the whole chain in pages, recomputing every hash and link.
pub fn verify(conn: &mut DbConn) -> Result<Verification, AppError> {
    const PAGE: i64 = 2_000;
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1_i64;
    let mut entries = 0_i64;
    let mut first_bad_seq = None;
    loop {
        let rows: Vec<Row> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(PAGE)
            .load(conn)?;
        let done = (rows.len() as i64) < PAGE;
        for r in rows {
            entries += 1;
            let entry = canonical(r.0, r.1, r.2.as_deref(), &r.3, &r.4, &r.5, &r.6);
            let intact =
                r.0 == expected_seq && r.7 == expected_prev && chain_hash(&r.7, &entry) == r.8;
            if !intact && first_bad_seq.is_none() {
                first_bad_seq = Some(r.0.min(expected_seq));
            }
            expected_prev = r.8;
            expected_seq = r.0 + 1;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) =
        audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)?;
    // Entries cut off the end of the log show as a head that no longer matches the last entry.
    if first_bad_seq.is_none() && (head_seq != expected_seq - 1 || head_hash != expected_prev) {
        first_bad_seq = Some(expected_seq);
    }
    Ok(Verification {
        ok: first_bad_seq.is_none(),
        entries,
        head_hash: expected_prev,
        first_bad_seq,
    })
}
