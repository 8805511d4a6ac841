//! Timestamps as text without chrono's formatting machinery, for the two places that write
//! one per verification: the answer's `checked_at` / `expires_at` (RFC 3339, as chrono's serde
//! writes them) and the verification log's entries (as diesel writes them to SQLite).
//!
//! The output is chrono's, byte for byte: fractional seconds only when there are any, in 3, 6 or
//! 9 digits as needed. A leap second or a year outside 0–9999 (neither occurs in the registry)
//! goes to chrono itself. `tests::agrees_with_chrono` holds the two equal.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

/// A timestamp's text, on the stack.
pub struct Text {
    buf: [u8; 32],
    len: usize,
}

impl Text {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn push_digits(buf: &mut [u8; 32], at: &mut usize, mut value: u32, width: usize) {
    for i in (0..width).rev() {
        buf[*at + i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    *at += width;
}

/// `YYYY-MM-DD<sep>HH:MM:SS[.fff|.ffffff|.fffffffff]`, or `None` for what chrono must write.
fn write(at: NaiveDateTime, sep: u8) -> Option<Text> {
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut buf = [0u8; 32];
    let mut n = 0;
    push_digits(&mut buf, &mut n, year, 4);
    for (byte, value) in [(b'-', at.month()), (b'-', at.day()), (sep, at.hour())] {
        buf[n] = byte;
        n += 1;
        push_digits(&mut buf, &mut n, value, 2);
    }
    for value in [at.minute(), at.second()] {
        buf[n] = b':';
        n += 1;
        push_digits(&mut buf, &mut n, value, 2);
    }
    if nanos > 0 {
        buf[n] = b'.';
        n += 1;
        if nanos.is_multiple_of(1_000_000) {
            push_digits(&mut buf, &mut n, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_digits(&mut buf, &mut n, nanos / 1_000, 6);
        } else {
            push_digits(&mut buf, &mut n, nanos, 9);
        }
    }
    Some(Text { buf, len: n })
}

/// As diesel writes a timestamp to SQLite (`%F %T%.f`); PostgreSQL reads it alike.
pub fn sql_text(at: NaiveDateTime) -> String {
    match write(at, b' ') {
        Some(t) => t.as_str().to_string(),
        None => at.format("%F %T%.f").to_string(),
    }
}

/// Appends `at` as [`sql_text`] writes it.
pub fn push_sql_text(out: &mut String, at: NaiveDateTime) {
    match write(at, b' ') {
        Some(t) => out.push_str(t.as_str()),
        None => out.push_str(&at.format("%F %T%.f").to_string()),
    }
}

/// Appends `at` in RFC 3339 as chrono's serde writes a `DateTime<Utc>`.
pub fn push_rfc3339(out: &mut String, at: &DateTime<Utc>) {
    match write(at.naive_utc(), b'T') {
        Some(t) => {
            out.push_str(t.as_str());
            out.push('Z');
        }
        None => out.push_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    }
}

/// `#[serde(serialize_with)]` for a `DateTime<Utc>`: what chrono writes, without its cost.
pub fn serialize<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match write(at.naive_utc(), b'T') {
        Some(mut t) => {
            t.buf[t.len] = b'Z';
            t.len += 1;
            s.serialize_str(t.as_str())
        }
        None => serde::Serialize::serialize(at, s),
    }
}

/// The same for an optional one (skipped when `None` by the field's own attribute).
pub fn serialize_option<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn agrees_with_chrono() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut fractions = [0usize; 4];
        for i in 0..50_000 {
            let secs = next(400 * 365 * 86_400) as i64 - 50 * 365 * 86_400;
            let nanos = match i % 5 {
                0 => 0,
                1 => next(1000) as u32 * 1_000_000,
                2 => next(1_000_000) as u32 * 1_000,
                3 => next(1_000_000_000) as u32,
                _ => next(2) as u32 * 500_000_000,
            };
            let Some(at) = Utc.timestamp_opt(1_000_000_000 + secs, nanos).single() else {
                continue;
            };
            let chrono_json = serde_json::to_string(&at).unwrap();
            let mut ours = serde_json::Serializer::new(Vec::new());
            serialize(&at, &mut ours).unwrap();
            assert_eq!(String::from_utf8(ours.into_inner()).unwrap(), chrono_json);
            let mut pushed = String::from("\"");
            push_rfc3339(&mut pushed, &at);
            pushed.push('"');
            assert_eq!(pushed, chrono_json);
            let naive = at.naive_utc();
            let sql = sql_text(naive);
            assert_eq!(sql, naive.format("%F %T%.f").to_string());
            let mut pushed = String::new();
            push_sql_text(&mut pushed, naive);
            assert_eq!(pushed, sql);
            fractions[sql.split('.').nth(1).map_or(0, |f| f.len() / 3)] += 1;
        }
        assert!(fractions.iter().all(|n| *n > 1_000), "every width is compared: {fractions:?}");
        // What chrono writes itself.
        let far = Utc.with_ymd_and_hms(12_345, 1, 2, 3, 4, 5).unwrap();
        let mut ours = serde_json::Serializer::new(Vec::new());
        serialize(&far, &mut ours).unwrap();
        assert_eq!(
            String::from_utf8(ours.into_inner()).unwrap(),
            serde_json::to_string(&far).unwrap()
        );
    }
}
