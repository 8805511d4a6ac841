//! The public register export (API.md §13): one row per licence, as of one feed position.
//!
//! The export is read in keyset pages inside one read-only snapshot transaction, which also
//! reads the change feed's head first: every row reflects exactly the events up to and
//! including `Last-Event-Seq`, so a mirror can load it and follow `/events?after=` from there.
//! Pages are handed to the response through a small bounded channel, so memory stays flat in
//! the number of licences and a slow reader holds back the reading, not the heap.

pub mod routes;
pub mod store;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::rfc3339;
use crate::licences::LicenceStatus;

/// One licence as the public register shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterEntry {
    #[schema(example = "CCL-2026-000001-16")]
    pub licence_number: String,
    /// The organisation's legal name when the licence was issued.
    pub holder: String,
    pub registration_number: String,
    /// As of the export (`expired` and `lapsed` derived from the times, as everywhere).
    pub status: LicenceStatus,
    pub valid_from: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The cities of the licensed sites, sorted, each once.
    pub cities: Vec<String>,
}

/// What a stored licence contributes to its row, before its cities are known.
pub struct LicenceLine {
    pub licence_number: String,
    pub holder: String,
    pub organisation_id: String,
    pub site_ids: Vec<String>,
    pub status: LicenceStatus,
    pub valid_from: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub provisional_until: Option<NaiveDateTime>,
}

/// The two encodings of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

pub const CSV_HEADER: &str =
    "licence_number,holder,registration_number,status,valid_from,expires_at,cities\r\n";

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    /// The bytes before the first row.
    pub fn opening(self) -> &'static str {
        match self {
            Format::Csv => CSV_HEADER,
            Format::Json => "[",
        }
    }

    /// The bytes after the last row.
    pub fn closing(self) -> &'static str {
        match self {
            Format::Csv => "",
            Format::Json => "]\n",
        }
    }

    /// Appends `entry` to `out`; `first` says whether it is the export's first row.
    pub fn write(self, entry: &RegisterEntry, first: bool, out: &mut String) {
        match self {
            Format::Csv => {
                let cities = entry.cities.join(";");
                let fields = [
                    entry.licence_number.as_str(),
                    entry.holder.as_str(),
                    entry.registration_number.as_str(),
                    entry.status.as_str(),
                    &rfc3339(entry.valid_from.naive_utc()),
                    &rfc3339(entry.expires_at.naive_utc()),
                    &cities,
                ];
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    csv_field(f, out);
                }
                out.push_str("\r\n");
            }
            Format::Json => {
                if !first {
                    out.push(',');
                }
                out.push('\n');
                // A struct of strings always serialises.
                if let Ok(s) = serde_json::to_string(entry) {
                    out.push_str(&s);
                }
            }
        }
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote, semicolon or line break.
fn csv_field(value: &str, out: &mut String) {
    if value.contains([',', '"', '\r', '\n', ';']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

impl LicenceLine {
    pub fn entry(
        self,
        registration_number: String,
        cities: Vec<String>,
        now: NaiveDateTime,
    ) -> RegisterEntry {
        RegisterEntry {
            status: self.status.as_of(self.expires_at, self.provisional_until, now),
            licence_number: self.licence_number,
            holder: self.holder,
            registration_number,
            valid_from: self.valid_from.and_utc(),
            expires_at: self.expires_at.and_utc(),
            cities,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut out = String::new();
        csv_field("Acme (Pvt) Ltd", &mut out);
        out.push('|');
        csv_field("Smith, \"Jones\" & Co", &mut out);
        assert_eq!(out, "Acme (Pvt) Ltd|\"Smith, \"\"Jones\"\" & Co\"");
    }
}
