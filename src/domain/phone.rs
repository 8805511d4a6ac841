//! Telephone numbers, parsed and normalised to E.164 by `phonenumber` (libphonenumber's data).

use crate::error::AppError;

use super::Country;

/// A valid telephone number in E.164, with its digits as an integer: E.164 numbers never start
/// with 0, so the integer keeps their order and length, and ranges become integer intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct E164(i64);

impl E164 {
    /// Parses `raw`, in international form (`+92 21 3456 7890`) or, when `region` is given, in
    /// that country's national form (`021 34567890`).
    pub fn try_new(raw: &str, region: Option<Country>) -> Result<Self, String> {
        match Self::pakistan_international(raw.trim()) {
            Some(n) => Ok(n),
            None => Self::by_libphonenumber(raw, region),
        }
    }

    /// `+92` then 7 to 12 digits, the first not 0: Pakistan's numbers in international form,
    /// the form nearly every verification asks in. libphonenumber reads these as the same
    /// digits (+92 is one region, and its national prefix, 0, cannot lead), so they are read
    /// here directly, without its regular expressions (a fifth of a number verification's
    /// CPU); the test `pakistan_fast_path_agrees_with_libphonenumber` holds the two equal.
    fn pakistan_international(raw: &str) -> Option<Self> {
        let national = raw.strip_prefix("+92")?.as_bytes();
        let plain = (7..=12).contains(&national.len())
            && national[0] != b'0'
            && national.iter().all(u8::is_ascii_digit);
        if !plain {
            return None;
        }
        raw[1..].parse::<i64>().ok().map(E164)
    }

    fn by_libphonenumber(raw: &str, region: Option<Country>) -> Result<Self, String> {
        let id = region.and_then(|c| c.alpha2().parse::<phonenumber::country::Id>().ok());
        let hint = if region.is_some() { "" } else { " in international form (+92…)" };
        let n = phonenumber::parse(id, raw.trim())
            .map_err(|_| format!("{raw:?} is not a telephone number{hint}"))?;
        // libphonenumber's full validity rules reject real local forms such as 051 1234567
        // (Islamabad), so a number must map to a known country with a plausible length.
        let national_digits = n.national().value().to_string().len();
        if n.country().id().is_none() || !(7..=12).contains(&national_digits) {
            return Err(format!("{raw:?} is not a valid telephone number{hint}"));
        }
        let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
        Self::from_e164(&e164)
    }

    pub fn parse(raw: &str, region: Option<Country>, field: &str) -> Result<Self, AppError> {
        Self::try_new(raw, region).map_err(|m| AppError::invalid(field, m))
    }

    /// Reads a stored or path E.164 string: `+` and 8 to 15 digits, no validity check.
    pub fn from_e164(s: &str) -> Result<Self, String> {
        let digits = s.strip_prefix('+').ok_or("an E.164 number starts with +")?;
        if !(8..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(format!("{s:?} is not an E.164 number (+ and 8 to 15 digits)"));
        }
        digits.parse::<i64>().map(E164).map_err(|e| e.to_string())
    }

    pub fn from_i64(n: i64) -> Self {
        E164(n)
    }

    pub fn value(self) -> i64 {
        self.0
    }

    pub fn digits(self) -> usize {
        self.0.to_string().len()
    }
}

impl std::fmt::Display for E164 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "+{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk() -> Option<Country> {
        Country::try_new("PK").ok()
    }

    #[test]
    fn international_and_local_forms() {
        let n = E164::try_new("+922134567890", None).unwrap();
        assert_eq!(n.to_string(), "+922134567890");
        assert_eq!(E164::try_new("+92 21 3456 7000", None).unwrap().to_string(), "+922134567000");
        assert_eq!(E164::try_new("051 1234567", pk()).unwrap().to_string(), "+92511234567");
        assert_eq!(E164::try_new("0300 1234567", pk()).unwrap().to_string(), "+923001234567");
        assert!(E164::try_new("051 1234567", None).is_err());
        assert!(E164::try_new("hello", pk()).is_err());
        assert!(E164::try_new("+92 1", None).is_err());
    }

    /// Every reading the fast path gives, libphonenumber gives too; and it takes the usual
    /// form (so this test compares something).
    #[test]
    fn pakistan_fast_path_agrees_with_libphonenumber() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut fast = 0;
        for _ in 0..20_000 {
            let len = next(16);
            let mut raw =
                String::from(["+92", "+92", "+92", "+9", "+920", "92", "+1"][next(7) as usize]);
            for _ in 0..len {
                raw.push(char::from(b'0' + next(10) as u8));
            }
            if next(20) == 0 {
                raw.insert(next(raw.len() as u64) as usize, [' ', '-', 'x', '٣'][next(4) as usize]);
            }
            for region in [None, pk()] {
                if let Some(n) = E164::pakistan_international(raw.trim()) {
                    fast += 1;
                    assert_eq!(E164::by_libphonenumber(&raw, region), Ok(n), "{raw:?}");
                    assert_eq!(E164::try_new(&raw, region), Ok(n));
                } else {
                    assert_eq!(E164::try_new(&raw, region), E164::by_libphonenumber(&raw, region));
                }
            }
        }
        assert!(fast > 5_000, "the fast path read only {fast} numbers");
        assert_eq!(E164::pakistan_international("+925800001003"), Some(E164(925800001003)));
    }

    #[test]
    fn e164_strings() {
        assert_eq!(E164::from_e164("+922134567890").unwrap().value(), 922134567890);
        assert!(E164::from_e164("922134567890").is_err());
        assert!(E164::from_e164("+0221").is_err());
        assert!(E164::from_e164("+1234567890123456").is_err());
    }
}
