//! Licence numbers: `CCL-YYYY-NNNNNN-CC`, the year of issue, a 6-digit serial and two check
//! digits by ISO 7064 MOD 97-10 over the ten digits `YYYYNNNNNN` (as for IBAN and LEI).

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceNumber(String);

/// The check digits of `YYYYNNNNNN`: append `00`, take the remainder mod 97, 98 minus it.
pub fn check_digits(year: u32, serial: u32) -> u32 {
    let n = u64::from(year) * 1_000_000 + u64::from(serial);
    98 - ((n * 100) % 97) as u32
}

impl LicenceNumber {
    pub fn new(year: u32, serial: u32) -> Self {
        LicenceNumber(format!("CCL-{year:04}-{serial:06}-{:02}", check_digits(year, serial)))
    }

    /// Parses and checks a licence number; every failure says what is wrong.
    pub fn try_new(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_uppercase();
        let parts: Vec<&str> = s.split('-').collect();
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let well_formed = parts.len() == 4
            && parts[0] == "CCL"
            && digits(parts[1], 4)
            && digits(parts[2], 6)
            && digits(parts[3], 2);
        if !well_formed {
            return Err(format!(
                "{raw:?} is not a licence number; the format is CCL-YYYY-NNNNNN-CC"
            ));
        }
        let (year, serial, check) = (
            parts[1].parse::<u32>().unwrap_or(0),
            parts[2].parse::<u32>().unwrap_or(0),
            parts[3].parse::<u32>().unwrap_or(0),
        );
        if check_digits(year, serial) != check {
            return Err(format!("{raw:?} has wrong check digits (ISO 7064 MOD 97-10)"));
        }
        Ok(LicenceNumber(s))
    }

    /// For a licence number in a path: a bad one is 400, before any database look-up.
    pub fn from_path(raw: &str) -> Result<Self, AppError> {
        Self::try_new(raw).map_err(AppError::bad_request)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::string_value_type!(LicenceNumber, "LicenceNumber", |s| LicenceNumber::try_new(&s), |b| b
    .description(Some("A licence number, CCL-YYYY-NNNNNN-CC, with ISO 7064 MOD 97-10 check digits"))
    .pattern(Some(r"^\s*[Cc][Cc][Ll]-[0-9]{4}-[0-9]{6}-[0-9]{2}\s*$"))
    .examples(["CCL-2026-000001-16"]));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_follow_iso_7064() {
        // 2026000001 00 mod 97 = 82, so the check is 98 - 82 = 16.
        assert_eq!(LicenceNumber::new(2026, 1).as_str(), "CCL-2026-000001-16");
        for serial in [0, 1, 42, 999_999] {
            let n = LicenceNumber::new(2026, serial);
            let digits: String = n.as_str().chars().filter(char::is_ascii_digit).collect();
            assert_eq!(digits.parse::<u64>().unwrap() % 97, 1, "{}", n.as_str());
            assert_eq!(LicenceNumber::try_new(n.as_str()).unwrap(), n);
        }
    }

    #[test]
    fn bad_numbers_say_why() {
        assert!(LicenceNumber::try_new("CCL-2026-000001-17").unwrap_err().contains("check digits"));
        assert!(LicenceNumber::try_new("CCL-2026-00001-16").unwrap_err().contains("format"));
        assert!(LicenceNumber::try_new("XYZ-2026-000001-16").is_err());
        assert_eq!(
            LicenceNumber::try_new("ccl-2026-000001-16").unwrap().as_str(),
            "CCL-2026-000001-16"
        );
    }
}
