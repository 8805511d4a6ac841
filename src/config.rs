//! Typed settings, read once from the environment at start and checked there.

use std::fmt;
use std::path::PathBuf;

use crate::db::DatabaseUrl;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ccreg.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_KEY_DIR: &str = "data/keys";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub email: String,
    pub password: Secret,
}

/// The licensing regime's numbers (API.md §10), from `CCREG_CLEARANCE_AGENCIES` and the
/// `CCREG_FEE_*` variables (rupees; kept here in paisa).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licensing {
    /// The codes of the agencies that must clear every application, in order.
    pub clearance_agencies: Vec<String>,
    pub fee_main_site_minor: i64,
    pub fee_branch_site_minor: i64,
    pub fee_late_renewal_minor: i64,
    /// How long a revocation bars the holder's directors and beneficial owners.
    pub bar_years: u32,
}

impl Default for Licensing {
    fn default() -> Self {
        Licensing {
            clearance_agencies: vec!["nccia".into(), "pta".into(), "security".into()],
            fee_main_site_minor: 20_000 * 100,
            fee_branch_site_minor: 10_000 * 100,
            fee_late_renewal_minor: 10_000 * 100,
            bar_years: 5,
        }
    }
}

/// How long personal data is kept (API.md §16), from `CCREG_VERIFICATION_LOG_DAYS` and
/// `CCREG_WEBHOOK_DELIVERY_DAYS`. The audit log is never pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Verification-log entries older than this many days are deleted.
    pub verification_log_days: u64,
    /// Webhook delivery attempts older than this many days are deleted.
    pub webhook_delivery_days: u64,
    /// How often this process prunes (the first pass a minute after start). Not read from the
    /// environment; `None` (tests) runs no pruning task, and passes are run by hand.
    pub every: Option<std::time::Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            verification_log_days: 365,
            webhook_delivery_days: 30,
            every: Some(std::time::Duration::from_secs(3_600)),
        }
    }
}

/// A retention period: a whole number of days from 1.
fn days(name: &str, raw: Option<String>, default: u64) -> Result<u64, String> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<u64>() {
        Ok(n) if n >= 1 && raw.trim().bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("{name} must be a whole number of days from 1, not {raw:?}")),
    }
}

/// An agency code: 2 to 32 lower-case letters, digits, `_` or `-`.
pub fn is_agency_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn clearance_agencies(raw: Option<String>) -> Result<Vec<String>, String> {
    let Some(raw) = raw else { return Ok(Licensing::default().clearance_agencies) };
    let mut codes: Vec<String> = Vec::new();
    for code in raw.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()) {
        if !is_agency_code(&code) {
            return Err(format!(
                "CCREG_CLEARANCE_AGENCIES: {code:?} is not an agency code (2 to 32 of a-z, 0-9, _ and -)"
            ));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if codes.is_empty() {
        return Err("CCREG_CLEARANCE_AGENCIES names no agency".into());
    }
    Ok(codes)
}

/// How log lines are written (`CCREG_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines; colour only when writing to a terminal.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, the event's fields
    /// and the request span's.
    Json,
}

impl LogFormat {
    /// Reads `CCREG_LOG_FORMAT` from the process environment (unset or blank: text).
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::var("CCREG_LOG_FORMAT").ok())
    }

    fn parse(raw: Option<String>) -> Result<Self, String> {
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(LogFormat::Text),
            Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(v) => Err(format!("CCREG_LOG_FORMAT must be text or json, not {v:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: String,
    pub key_dir: PathBuf,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// `iss` of the tokens this registry signs.
    pub issuer: String,
    /// `aud` of the access tokens, which this API requires.
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub db_pool_size: u32,
    pub workers: Option<usize>,
    /// Public licence look-ups allowed per client address per minute.
    pub public_rate_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client (`CCREG_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the verification index polls the audit log for other processes' changes.
    pub index_poll_ms: u64,
    pub licensing: Licensing,
    /// Where the public reaches this registry (`https://…`, no trailing `/`): the register's
    /// certificates carry QR codes of status-page URLs built on it.
    pub public_url: String,
    /// `CCREG_LOG_FORMAT` (logging is set up from it in `main`, before the rest is read).
    pub log_format: LogFormat,
    /// Webhook URLs may name loopback, private and link-local addresses
    /// (`CCREG_WEBHOOK_ALLOW_PRIVATE`; off by default).
    pub webhook_allow_private: bool,
    /// How often the webhook worker looks for due deliveries (`CCREG_WEBHOOK_POLL_MS`); it
    /// also wakes when this process appends a feed event. 0: no worker in this process.
    pub webhook_poll_ms: u64,
    /// How long verification-log entries and webhook deliveries are kept.
    pub retention: Retention,
    /// How often this process runs the overdue sweep (violations' enforcement items). Not read
    /// from the environment (every minute); `None` (tests) runs no task, and passes are run by
    /// hand.
    pub overdue_sweep_every: Option<std::time::Duration>,
    /// A portal session unused for this long ends (`CCREG_SESSION_IDLE_SECS`, 60 to 43200).
    pub session_idle_secs: i64,
}

/// A yes/no setting: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case).
fn flag(name: &str, raw: Option<String>) -> Result<bool, String> {
    let Some(raw) = raw else { return Ok(false) };
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{name} must be one of 1, true, yes, on, 0, false, no, off, not {raw:?}")),
    }
}

/// `CCREG_PUBLIC_URL`: an absolute `http://` or `https://` URL with a host; a trailing `/` is
/// dropped so paths can be appended.
fn public_url(raw: Option<String>) -> Result<String, String> {
    let Some(raw) = raw else { return Ok(DEFAULT_PUBLIC_URL.into()) };
    let url = raw.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
                && !url.contains(['?', '#']) =>
        {
            Ok(url.to_string())
        }
        _ => Err(format!(
            "CCREG_PUBLIC_URL must be an absolute http:// or https:// URL without query or fragment, not {raw:?}"
        )),
    }
}

impl Settings {
    /// Reads `CCREG_*` from the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let env = Env(get);
        let get = |k: &str| env.get(k);
        let number = |k: &str, default, min, max| env.number(k, default, min, max);
        Ok(Settings {
            database_url: DatabaseUrl::parse(
                &get("CCREG_DATABASE_URL").unwrap_or(DEFAULT_DATABASE_URL.into()),
            )?,
            bind: get("CCREG_BIND").unwrap_or(DEFAULT_BIND.into()),
            key_dir: PathBuf::from(get("CCREG_KEY_DIR").unwrap_or(DEFAULT_KEY_DIR.into())),
            bootstrap_admin: env.bootstrap_admin()?,
            issuer: get("CCREG_ISSUER").unwrap_or("ccreg".into()),
            audience: get("CCREG_AUDIENCE").unwrap_or("ccreg-api".into()),
            access_token_ttl_secs: number("CCREG_ACCESS_TOKEN_TTL_SECS", 900, 60, 86_400)?,
            refresh_token_ttl_secs: number(
                "CCREG_REFRESH_TOKEN_TTL_SECS",
                14 * 86_400,
                300,
                90 * 86_400,
            )?,
            db_pool_size: number("CCREG_DB_POOL_SIZE", 16, 1, 256)? as u32,
            public_rate_per_minute: number("CCREG_PUBLIC_RATE_PER_MINUTE", 60, 1, 1_000_000)?
                as u32,
            trusted_proxies: crate::http::public::parse_trusted(
                &get("CCREG_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            index_poll_ms: number("CCREG_INDEX_POLL_MS", 250, 10, 1_000)? as u64,
            licensing: env.licensing()?,
            public_url: public_url(get("CCREG_PUBLIC_URL"))?,
            log_format: LogFormat::parse(get("CCREG_LOG_FORMAT"))?,
            webhook_allow_private: flag(
                "CCREG_WEBHOOK_ALLOW_PRIVATE",
                get("CCREG_WEBHOOK_ALLOW_PRIVATE"),
            )?,
            webhook_poll_ms: env.webhook_poll_ms()?,
            retention: env.retention()?,
            overdue_sweep_every: Some(std::time::Duration::from_secs(60)),
            session_idle_secs: number("CCREG_SESSION_IDLE_SECS", 1_800, 60, 43_200)?,
            workers: get("CCREG_WORKERS")
                .map(|v| v.parse::<usize>())
                .transpose()
                .map_err(|_| "CCREG_WORKERS must be a positive whole number".to_string())?,
        })
    }
}

/// The environment as settings read it: a variable set to blanks counts as unset.
struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, k: &str) -> Option<String> {
        (self.0)(k).filter(|v| !v.trim().is_empty())
    }

    /// A whole number from `min` to `max`; `default` when unset.
    fn number(&self, k: &str, default: i64, min: i64, max: i64) -> Result<i64, String> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(format!("{k} must be a whole number from {min} to {max}, not {v:?}")),
            },
        }
    }

    fn bootstrap_admin(&self) -> Result<Option<BootstrapAdmin>, String> {
        match (self.get("CCREG_BOOTSTRAP_ADMIN_EMAIL"), self.get("CCREG_BOOTSTRAP_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => {
                Ok(Some(BootstrapAdmin { email, password: Secret::new(password) }))
            }
            (None, None) => Ok(None),
            _ => Err("set both CCREG_BOOTSTRAP_ADMIN_EMAIL and CCREG_BOOTSTRAP_ADMIN_PASSWORD, or neither".into()),
        }
    }

    fn licensing(&self) -> Result<Licensing, String> {
        Ok(Licensing {
            clearance_agencies: clearance_agencies(self.get("CCREG_CLEARANCE_AGENCIES"))?,
            fee_main_site_minor: self.number("CCREG_FEE_MAIN_SITE", 20_000, 0, 100_000_000)? * 100,
            fee_branch_site_minor: self.number("CCREG_FEE_BRANCH_SITE", 10_000, 0, 100_000_000)?
                * 100,
            fee_late_renewal_minor: self.number(
                "CCREG_FEE_LATE_RENEWAL",
                10_000,
                0,
                100_000_000,
            )? * 100,
            bar_years: self.number("CCREG_BAR_YEARS", 5, 1, 100)? as u32,
        })
    }

    /// 0 (off) or from 100 to 60000.
    fn webhook_poll_ms(&self) -> Result<u64, String> {
        match self.number("CCREG_WEBHOOK_POLL_MS", 1_000, 0, 60_000)? {
            n @ (0 | 100..) => Ok(n as u64),
            n => {
                Err(format!("CCREG_WEBHOOK_POLL_MS must be 0 (off) or from 100 to 60000, not {n}"))
            }
        }
    }

    fn retention(&self) -> Result<Retention, String> {
        let days_of = |k: &str, default| days(k, self.get(k), default);
        Ok(Retention {
            verification_log_days: days_of(
                "CCREG_VERIFICATION_LOG_DAYS",
                Retention::default().verification_log_days,
            )?,
            webhook_delivery_days: days_of(
                "CCREG_WEBHOOK_DELIVERY_DAYS",
                Retention::default().webhook_delivery_days,
            )?,
            ..Retention::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_nothing() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite { path: "data/ccreg.db".into() });
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert!(s.bootstrap_admin.is_none());
        assert_eq!(s.access_token_ttl_secs, 900);
        assert_eq!(s.licensing, Licensing::default());
        assert_eq!(s.licensing.fee_main_site_minor, 2_000_000);
    }

    #[test]
    fn the_licensing_regime_is_configurable() {
        let s = settings(&[
            ("CCREG_CLEARANCE_AGENCIES", " NCCIA, pta ,fia,pta"),
            ("CCREG_FEE_MAIN_SITE", "25000"),
        ])
        .unwrap();
        assert_eq!(s.licensing.clearance_agencies, ["nccia", "pta", "fia"]);
        assert_eq!(s.licensing.fee_main_site_minor, 2_500_000);
        assert!(settings(&[("CCREG_CLEARANCE_AGENCIES", "nccia,bad code")]).is_err());
        assert!(settings(&[("CCREG_CLEARANCE_AGENCIES", ",")]).is_err());
        assert!(settings(&[("CCREG_FEE_BRANCH_SITE", "-1")]).is_err());
    }

    #[test]
    fn the_bar_after_a_revocation_lasts_five_years_unless_configured() {
        assert_eq!(settings(&[]).unwrap().licensing.bar_years, 5);
        assert_eq!(settings(&[("CCREG_BAR_YEARS", "10")]).unwrap().licensing.bar_years, 10);
        for bad in ["0", "-1", "101", "five"] {
            assert!(settings(&[("CCREG_BAR_YEARS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_public_url_is_absolute_and_loses_its_trailing_slash() {
        assert_eq!(settings(&[]).unwrap().public_url, "http://127.0.0.1:8080");
        let s = settings(&[("CCREG_PUBLIC_URL", "https://register.pta.gov.pk/ccreg/")]).unwrap();
        assert_eq!(s.public_url, "https://register.pta.gov.pk/ccreg");
        for bad in ["register.pta.gov.pk", "ftp://x", "https://", "https://a b", "https://x/?q=1"] {
            assert!(settings(&[("CCREG_PUBLIC_URL", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn portal_sessions_idle_out_after_half_an_hour_unless_configured() {
        assert_eq!(settings(&[]).unwrap().session_idle_secs, 1_800);
        let s = settings(&[("CCREG_SESSION_IDLE_SECS", "600")]).unwrap();
        assert_eq!(s.session_idle_secs, 600);
        for bad in ["0", "59", "43201", "-1", "half an hour"] {
            let e = settings(&[("CCREG_SESSION_IDLE_SECS", bad)]).unwrap_err();
            assert!(e.contains("CCREG_SESSION_IDLE_SECS"), "{e}");
        }
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(settings(&[]).unwrap().log_format, LogFormat::Text);
        assert_eq!(settings(&[("CCREG_LOG_FORMAT", "json")]).unwrap().log_format, LogFormat::Json);
        assert_eq!(
            settings(&[("CCREG_LOG_FORMAT", " text ")]).unwrap().log_format,
            LogFormat::Text
        );
        for bad in ["xml", "jsonl", "JSON", "logfmt"] {
            let e = settings(&[("CCREG_LOG_FORMAT", bad)]).unwrap_err();
            assert!(e.contains("CCREG_LOG_FORMAT") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn webhooks_refuse_private_addresses_and_poll_every_second_unless_configured() {
        let s = settings(&[]).unwrap();
        assert!(!s.webhook_allow_private);
        assert_eq!(s.webhook_poll_ms, 1_000);
        for yes in ["1", "true", "YES", "on"] {
            let s = settings(&[("CCREG_WEBHOOK_ALLOW_PRIVATE", yes)]).unwrap();
            assert!(s.webhook_allow_private, "{yes}");
        }
        let s = settings(&[("CCREG_WEBHOOK_ALLOW_PRIVATE", "off")]).unwrap();
        assert!(!s.webhook_allow_private);
        assert!(settings(&[("CCREG_WEBHOOK_ALLOW_PRIVATE", "maybe")]).is_err());
        assert_eq!(settings(&[("CCREG_WEBHOOK_POLL_MS", "0")]).unwrap().webhook_poll_ms, 0);
        for bad in ["50", "60001", "-1", "soon"] {
            assert!(settings(&[("CCREG_WEBHOOK_POLL_MS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn retention_is_a_year_of_verifications_and_thirty_days_of_deliveries_unless_configured() {
        let r = settings(&[]).unwrap().retention;
        assert_eq!((r.verification_log_days, r.webhook_delivery_days), (365, 30));
        assert_eq!(r.every, Some(std::time::Duration::from_secs(3_600)));
        let r = settings(&[
            ("CCREG_VERIFICATION_LOG_DAYS", "90"),
            ("CCREG_WEBHOOK_DELIVERY_DAYS", " 1 "),
        ])
        .unwrap()
        .retention;
        assert_eq!((r.verification_log_days, r.webhook_delivery_days), (90, 1));
        for name in ["CCREG_VERIFICATION_LOG_DAYS", "CCREG_WEBHOOK_DELIVERY_DAYS"] {
            for bad in ["0", "-1", "+7", "1.5", "30d", "a year", "99999999999999999999"] {
                let e = settings(&[(name, bad)]).unwrap_err();
                assert!(e.contains(name) && e.contains(bad), "{name}={bad}: {e}");
            }
        }
    }

    #[test]
    fn unknown_scheme_and_half_bootstrap_are_refused() {
        assert!(settings(&[("CCREG_DATABASE_URL", "mysql://x")]).is_err());
        assert!(settings(&[("CCREG_BOOTSTRAP_ADMIN_EMAIL", "a@b.pk")]).is_err());
        assert!(settings(&[("CCREG_ACCESS_TOKEN_TTL_SECS", "soon")]).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[
            ("CCREG_BOOTSTRAP_ADMIN_EMAIL", "a@b.pk"),
            ("CCREG_BOOTSTRAP_ADMIN_PASSWORD", "hunter2hunter2"),
        ])
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
