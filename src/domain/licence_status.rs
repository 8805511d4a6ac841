//! A licence's status, and the one rule that says whether a licence is in force. `expired` is
//! never stored: a licence past `expires_at` reads `expired` at once, wherever it is read.

use chrono::NaiveDateTime;
use utoipa::ToSchema;

crate::stored_enum! {
    /// Stored: `provisional`, `active`, `suspended`, `revoked`, `surrendered`; derived at
    /// read time: `expired` (past `expires_at`) and `lapsed` (provisional past
    /// `provisional_until`).
    #[derive(ToSchema)]
    pub enum LicenceStatus in "licences.status or licence_events.status" {
        Provisional = "provisional",
        Active = "active",
        Suspended = "suspended",
        Revoked = "revoked",
        Expired = "expired",
        Lapsed = "lapsed",
        Surrendered = "surrendered",
    }
}

impl LicenceStatus {
    /// The status of a licence stored as `self` as of `now`: a live licence past its expiry
    /// reads `expired`, a provisional one past `provisional_until` reads `lapsed`; revoked and
    /// surrendered stay what they are.
    pub fn as_of(
        self,
        expires_at: NaiveDateTime,
        provisional_until: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> LicenceStatus {
        match self {
            LicenceStatus::Revoked | LicenceStatus::Surrendered => self,
            _ if now >= expires_at => LicenceStatus::Expired,
            LicenceStatus::Provisional if provisional_until.is_none_or(|p| now >= p) => {
                LicenceStatus::Lapsed
            }
            other => other,
        }
    }

    /// In force: the holder may operate, and verification answers `licensed`.
    pub fn in_force(self) -> bool {
        matches!(self, LicenceStatus::Active | LicenceStatus::Provisional)
    }

    /// Held, not expired or lapsed: still a licence the regulator can act on (suspend,
    /// revoke, queue for enforcement) and its holder can surrender.
    pub fn is_held(self) -> bool {
        matches!(
            self,
            LicenceStatus::Active | LicenceStatus::Provisional | LicenceStatus::Suspended
        )
    }

    /// Ended for good: never renewed, reinstated or changed again.
    pub fn is_final(self) -> bool {
        matches!(self, LicenceStatus::Revoked | LicenceStatus::Surrendered)
    }
}

/// Whether a licence stored with `status` is in force at `now`: the one answer verification,
/// enforcement and renewal all use.
pub fn in_force(
    status: LicenceStatus,
    expires_at: NaiveDateTime,
    provisional_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    status.as_of(expires_at, provisional_until, now).in_force()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_derived_at_read_time() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let exp = t("2027-01-01 00:00:00");
        let before = t("2026-12-31 23:59:59");
        assert_eq!(LicenceStatus::Active.as_of(exp, None, before), LicenceStatus::Active);
        assert_eq!(LicenceStatus::Active.as_of(exp, None, exp), LicenceStatus::Expired);
        assert_eq!(LicenceStatus::Suspended.as_of(exp, None, exp), LicenceStatus::Expired);
        assert_eq!(LicenceStatus::Revoked.as_of(exp, None, exp), LicenceStatus::Revoked);
        assert!(in_force(LicenceStatus::Active, exp, None, before));
        assert!(!in_force(LicenceStatus::Active, exp, None, exp));
        assert!(!in_force(LicenceStatus::Suspended, exp, None, before));
    }

    #[test]
    fn a_provisional_licence_lapses_at_once() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let (until, exp) = (t("2027-03-01 00:00:00"), t("2027-12-01 00:00:00"));
        let p = LicenceStatus::Provisional;
        assert_eq!(p.as_of(exp, Some(until), t("2027-02-28 23:59:59")), p);
        assert!(in_force(p, exp, Some(until), t("2027-02-28 23:59:59")));
        assert_eq!(p.as_of(exp, Some(until), until), LicenceStatus::Lapsed);
        assert!(!in_force(p, exp, Some(until), until));
        assert_eq!(p.as_of(exp, Some(until), exp), LicenceStatus::Expired);
    }
}
