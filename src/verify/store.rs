//! Verification's queries: which registered number range or CIDR range holds a value. Both
//! kinds go through one range lookup ([`covering`]): for each value, one indexed floor probe
//! (the range with the greatest start at or below it, by the lower-bound index), kept when
//! the value is at or below that range's end. Ranges never overlap (telephony refuses an
//! overlapping one), so the floor is the only range that can hold the value.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use diesel::prelude::*;

use crate::db::schema::{ip_ranges, phone_ranges};
use crate::db::DbConn;
use crate::error::AppError;

/// The range lookup: `floor(conn, value)` gives the end and the site of the range with the
/// greatest start at or below `value`; the range covers the value when the value is at or below that end.
/// Each distinct value is probed once.
fn covering<K: Ord + Hash + Clone>(
    conn: &mut DbConn,
    values: &[K],
    floor: impl Fn(&mut DbConn, &K) -> QueryResult<Option<(K, String)>>,
) -> Result<HashMap<K, String>, AppError> {
    let mut covered = HashMap::new();
    for value in values.iter().collect::<BTreeSet<_>>() {
        if let Some((last, site)) = floor(conn, value)? {
            if *value <= last {
                covered.insert(value.clone(), site);
            }
        }
    }
    Ok(covered)
}

/// For each number, the site of the registered number or range that holds it.
pub fn number_sites(conn: &mut DbConn, numbers: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    covering(conn, numbers, |conn, n| {
        phone_ranges::table
            .filter(phone_ranges::first_number.le(*n))
            .order(phone_ranges::first_number.desc())
            .select((phone_ranges::last_number, phone_ranges::site_id))
            .first(conn)
            .optional()
    })
}

/// For each (family, 32-hex-digit address key), the site of the CIDR range that holds it.
pub fn ip_sites(
    conn: &mut DbConn,
    keys: &[(i32, String)],
) -> Result<HashMap<(i32, String), String>, AppError> {
    covering(conn, keys, |conn, (family, key)| {
        let range: Option<(String, String)> = ip_ranges::table
            .filter(ip_ranges::family.eq(*family).and(ip_ranges::first_addr.le(key)))
            .order(ip_ranges::first_addr.desc())
            .select((ip_ranges::last_addr, ip_ranges::site_id))
            .first(conn)
            .optional()?;
        Ok(range.map(|(last, site)| ((*family, last), site)))
    })
}
