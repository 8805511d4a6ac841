//! Webhooks (API.md §13): agencies (and admins) register endpoints that receive the change
//! feed as it happens, per the Standard Webhooks specification.
//!
//! - **Secrets**: each endpoint has a signing secret (`whsec_` + base64 of 32 random bytes),
//!   shown once at creation. HMAC signing needs it back, so it is stored sealed with
//!   XChaCha20-Poly1305 under the key in `CCREG_KEY_DIR` ([`crate::keys::Keys::seal`]), bound
//!   to the endpoint's id.
//! - **What an endpoint receives**: the feed events committed after its creation (its
//!   `position` starts at the feed head), of the types it subscribes to, in feed order, at
//!   least once. An event waits until the one before it was delivered; a failure is retried on
//!   the Standard Webhooks schedule ([`RETRY_DELAYS`]) and after the last retry, or at once on
//!   `410 Gone`, the endpoint is disabled until PATCHed `enabled: true`, when it resumes where
//!   it stopped.
//! - **Who delivers**: every `ccreg serve` runs a [`deliver::Deliverer`]. An endpoint is
//!   claimed with a lease, a compare-and-set of `lease_until` (taken only when it is empty or
//!   past, by the injected clock) in one UPDATE, so two processes on one database never
//!   deliver to the same endpoint at once; the holder renews it with every attempt it records
//!   and clears it when done. Processes sharing a database must keep their clocks within the
//!   lease ([`deliver::LEASE_SECS`]) of each other.

pub mod address;
pub mod deliver;
pub mod routes;
pub mod store;

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::audit;
use crate::auth::visible::{Owned, Visible};
use crate::auth::{Principal, Role};
use crate::db::stored::StoredJson;
use crate::db::versioned;
use crate::db::DbConn;
use crate::error::{AppError, FieldError};
use crate::keys::Keys;
use crate::licences::events::{Event, EventType};
pub use address::ReceiverUrl;
pub use deliver::Deliverer;
pub use store::{DeliveryRow, EndpointRow};

/// The prefix of a signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// The waits after each failed attempt before the next (Standard Webhooks / Svix: attempts
/// at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: 27 h 35 min in all).
/// When the last attempt fails too, the endpoint is disabled.
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// When the attempt after `failed` failed attempts is due, counted from the last one; `None`
/// when none is left.
pub fn retry_delay(failed: i32) -> Option<Duration> {
    usize::try_from(failed)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| RETRY_DELAYS.get(i))
        .copied()
}

crate::stored_enum! {
    /// `active` receives; `disabled` receives nothing until PATCHed `enabled: true`.
    #[derive(ToSchema)]
    pub enum WebhookStatus in "webhook_endpoints.status" {
        Active = "active",
        Disabled = "disabled",
    }
}

crate::stored_enum! {
    /// `delivered`: the receiver answered 2xx.
    #[derive(ToSchema)]
    pub enum DeliveryOutcome in "webhook_deliveries.outcome" {
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// A feed event type an endpoint subscribes to, or `*` for every type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSelector {
    All,
    Type(EventType),
}

impl EventSelector {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSelector::All => "*",
            EventSelector::Type(t) => t.as_str(),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "*" => Some(EventSelector::All),
            other => EventType::parse(other).map(EventSelector::Type),
        }
    }
}

fn selector_names() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).chain(["*"]).collect()
}

impl fmt::Display for EventSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventSelector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventSelector::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown event type {s:?}; use one of {}",
                selector_names().join(", ")
            ))
        })
    }
}

impl utoipa::PartialSchema for EventSelector {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A change-feed event type, or `*` (alone) for every type."))
            .enum_values(Some(selector_names()))
            .into()
    }
}

impl ToSchema for EventSelector {}

/// What an endpoint subscribes to: every type, or these (in feed-type order, no repeats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    All,
    Only(Vec<EventType>),
}

impl Subscription {
    /// From the request's list: not empty, and `*` only alone.
    pub fn from_selectors(selectors: &[EventSelector]) -> Result<Self, FieldError> {
        if selectors.is_empty() {
            return Err(FieldError::new(
                "events",
                "name at least one event type, or [\"*\"] for every type",
            ));
        }
        let mut types = Vec::new();
        for s in selectors {
            match s {
                EventSelector::All if selectors.len() > 1 => {
                    return Err(FieldError::new(
                        "events",
                        "\"*\" stands alone: it already means every type",
                    ))
                }
                EventSelector::All => return Ok(Subscription::All),
                EventSelector::Type(t) => types.push(*t),
            }
        }
        types.sort();
        types.dedup();
        Ok(Subscription::Only(types))
    }

    pub fn selectors(&self) -> Vec<EventSelector> {
        match self {
            Subscription::All => vec![EventSelector::All],
            Subscription::Only(types) => types.iter().copied().map(EventSelector::Type).collect(),
        }
    }

    /// The stored form: a JSON array of the selectors.
    pub fn to_stored(&self) -> Result<StoredJson<Vec<EventSelector>>, AppError> {
        StoredJson::new(self.selectors())
    }

    /// The subscription stored selectors make; any the rules refuse is an internal error.
    pub fn from_stored(selectors: &[EventSelector]) -> Result<Self, AppError> {
        Subscription::from_selectors(selectors)
            .map_err(|e| AppError::internal(format!("webhook_endpoints.events: {}", e.message)))
    }

    /// The types to deliver; `None` for every type.
    pub fn types(&self) -> Option<&[EventType]> {
        match self {
            Subscription::All => None,
            Subscription::Only(types) => Some(types),
        }
    }
}

/// A webhook endpoint as served (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    /// The agency client or admin that registered it.
    pub owner_id: String,
    #[schema(example = "https://hooks.bank.example/ccreg")]
    pub url: String,
    /// The feed types delivered, or `["*"]` for every type.
    pub events: Vec<EventSelector>,
    pub status: WebhookStatus,
    /// Why it was disabled (410 Gone, every retry failed, or by request); null when active.
    pub disabled_reason: Option<String>,
    /// The feed position served: every event up to this `seq` that the endpoint subscribes to
    /// has been delivered (it starts at the feed head when the endpoint is created).
    pub position: i64,
    /// The `seq` of the last event delivered; null before the first.
    pub last_delivered_seq: Option<i64>,
    /// When the next attempt at the pending event is due, after a failure; null when none is
    /// waiting.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Counts changes of the endpoint's settings and status (delivery progress moves
    /// `position` without it).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<EndpointRow> for Webhook {
    type Error = AppError;

    fn try_from(r: EndpointRow) -> Result<Self, AppError> {
        Ok(Webhook {
            events: Subscription::from_stored(&r.events)?.selectors(),
            id: r.id,
            owner_id: r.owner_id,
            url: r.url,
            status: r.status,
            disabled_reason: r.disabled_reason,
            position: r.position,
            last_delivered_seq: r.last_delivered_seq,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: `http` or `https`; unless the registry allows it
    /// (`CCREG_WEBHOOK_ALLOW_PRIVATE`), not a loopback, private or link-local address.
    #[schema(example = "https://hooks.bank.example/ccreg")]
    pub url: String,
    /// Feed types (`issued`, `confirmed`, `suspended`, `reinstated`, `revoked`,
    /// `surrendered`, `renewed`), or `["*"]` for every type.
    #[schema(min_items = 1)]
    pub events: Vec<EventSelector>,
}

impl crate::http::BodyRules for NewWebhook {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        body_rules(body)
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventSelector>>,
    /// `true` re-enables a disabled endpoint (it resumes with the event it stopped at);
    /// `false` disables it.
    pub enabled: Option<bool>,
}

impl crate::http::BodyRules for WebhookPatch {
    fn check(body: &serde_json::Value) -> Vec<FieldError> {
        body_rules(body)
    }
}

/// The URL's form and the selectors' rules, on the body as sent, so they are named with every
/// field that does not parse; resolving the host waits for [`check`], once the body parses.
fn body_rules(body: &serde_json::Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(Err(m)) =
        body.get("url").and_then(serde_json::Value::as_str).map(ReceiverUrl::parse)
    {
        errors.push(FieldError::new("url", m));
    }
    // Selectors that do not parse are named one by one by the parser.
    let selectors = body.get("events").cloned().map(serde_json::from_value::<Vec<EventSelector>>);
    if let Some(Ok(selectors)) = selectors {
        errors.extend(Subscription::from_selectors(&selectors).err());
    }
    errors
}

/// One delivery attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    /// The `webhook-id` header: the same for every attempt at one event to one endpoint (the
    /// receiver's idempotency key).
    pub message_id: String,
    pub event_seq: i64,
    pub event_type: EventType,
    /// 1 for the first attempt at this event.
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when no answer came (refused, unreachable, timed out).
    pub status_code: Option<i32>,
    pub outcome: DeliveryOutcome,
    /// Why it failed, briefly.
    pub error: Option<String>,
    /// When the event will be tried again; null once delivered or when the endpoint was
    /// disabled.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub duration_ms: i64,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            message_id: r.message_id,
            event_seq: r.event_seq,
            event_type: r.event_type,
            attempt: r.attempt,
            attempted_at: r.attempted_at.and_utc(),
            status_code: r.status_code,
            outcome: r.outcome,
            error: r.error,
            next_attempt_at: r.next_attempt_at.map(|t| t.and_utc()),
            duration_ms: r.duration_ms,
        }
    }
}

/// A request's URL and events, checked: every problem at once (the URL's host is resolved,
/// unless private addresses are allowed).
pub async fn check(
    url: Option<&str>,
    events: Option<&[EventSelector]>,
    allow_private: bool,
) -> Result<(Option<ReceiverUrl>, Option<Subscription>), AppError> {
    let mut errors = Vec::new();
    let url = match url.map(ReceiverUrl::parse) {
        Some(Ok(u)) if !allow_private => match u.check_addresses().await {
            Ok(()) => Some(u),
            Err(m) => {
                errors.push(FieldError::new("url", m));
                None
            }
        },
        Some(Ok(u)) => Some(u),
        Some(Err(m)) => {
            errors.push(FieldError::new("url", m));
            None
        }
        None => None,
    };
    let subscription = match events.map(Subscription::from_selectors) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    if errors.is_empty() {
        Ok((url, subscription))
    } else {
        Err(AppError::validation(errors))
    }
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key of a secret: the base64-decoded part after `whsec_`.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok().filter(|k| !k.is_empty())
}

/// The `webhook-id` of an event's deliveries to an endpoint: stable across retries.
pub fn message_id(endpoint_id: &str, seq: i64) -> String {
    format!("msg_{}_{seq}", endpoint_id.replace('-', ""))
}

/// The delivery body: `{"type", "timestamp", "data"}` with the feed event as
/// `GET /api/v1/events` serves it.
pub fn body(event: &Event) -> Result<String, AppError> {
    #[derive(Serialize)]
    struct Message<'a> {
        #[serde(rename = "type")]
        event_type: EventType,
        timestamp: String,
        data: &'a Event,
    }
    let timestamp = crate::clock::rfc3339(event.at.naive_utc());
    serde_json::to_string(&Message { event_type: event.event_type, timestamp, data: event })
        .map_err(|e| AppError::internal(format!("webhook body: {e}")))
}

/// The `webhook-signature` header: `v1,<HMAC-SHA256>` with the endpoint's secret and
/// `v1a,<Ed25519>` with the registry's signing key, both over `{id}.{timestamp}.{body}`.
pub fn signature(key: &[u8], keys: &Keys, id: &str, timestamp: i64, body: &str) -> String {
    let content = format!("{id}.{timestamp}.{body}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(content.as_bytes());
    let v1 = STANDARD.encode(mac.finalize().into_bytes());
    let v1a = STANDARD.encode(keys.sign_bytes(content.as_bytes()));
    format!("v1,{v1} v1a,{v1a}")
}

/// Agencies see their own endpoints, admins all.
impl Owned for EndpointRow {
    type Key = str;
    const MISSING: &'static str = "no such webhook";

    fn find_visible(
        conn: &mut DbConn,
        who: &Principal,
        id: &str,
    ) -> Result<Option<Self>, AppError> {
        Ok(store::find(conn, id)?.filter(|e| who.is(Role::Admin) || e.owner_id == who.id))
    }
}

/// Registers an endpoint (in a write transaction) and audits it; returns it and its secret,
/// which is stored only sealed.
#[tracing::instrument(skip_all, fields(owner = %who.id), err)]
pub fn create(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    keys: &Keys,
    url: ReceiverUrl,
    subscription: Subscription,
) -> Result<(EndpointRow, String), AppError> {
    let id = uuid::Uuid::now_v7().to_string();
    let secret = new_secret();
    let row = EndpointRow {
        secret_sealed: keys.seal(&secret, &id)?,
        id,
        owner_id: who.id.clone(),
        url: url.as_str().to_string(),
        events: subscription.to_stored()?,
        status: WebhookStatus::Active,
        disabled_reason: None,
        position: store::feed_head(conn)?,
        last_delivered_seq: None,
        attempts: 0,
        next_attempt_at: None,
        lease_until: None,
        lease_holder: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &row)?;
    let event = WebhookEvent::Created { row: &row, origin: url.origin() };
    audit::record(conn, now, Some(&who.id), &event)?;
    Ok((row, secret))
}

/// A PATCH, checked.
pub struct Changes {
    pub url: Option<ReceiverUrl>,
    pub subscription: Option<Subscription>,
    pub enabled: Option<bool>,
}

#[tracing::instrument(skip_all, fields(webhook = %endpoint.id), err)]
pub fn update(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    endpoint: Visible<EndpointRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
    changes: Changes,
) -> Result<EndpointRow, AppError> {
    let row = endpoint.into_inner();
    check_version(row.version)?;
    let mut set = store::EndpointChanges::new(row.version + 1, now);
    let mut said = Vec::new();
    if let Some(url) = changes.url.filter(|u| u.as_str() != row.url) {
        said.push(format!("url now at {}", url.origin()));
        set.url = Some(url.as_str().to_string());
        // A new receiver gets the pending event afresh.
        (set.attempts, set.next_attempt_at) = (Some(0), Some(None));
    }
    if let Some(s) = changes.subscription.filter(|s| s.selectors() != *row.events) {
        let events = s.to_stored()?;
        said.push(format!("events {}", events.as_text()));
        set.events = Some(events);
        // The pending event may no longer be one it subscribes to.
        (set.attempts, set.next_attempt_at) = (Some(0), Some(None));
    }
    match (changes.enabled, row.status) {
        (Some(true), WebhookStatus::Disabled) => {
            said.push("re-enabled".into());
            set.status = Some(WebhookStatus::Active);
            set.disabled_reason = Some(None);
            (set.attempts, set.next_attempt_at) = (Some(0), Some(None));
        }
        (Some(false), WebhookStatus::Active) => {
            said.push("disabled".into());
            set.status = Some(WebhookStatus::Disabled);
            set.disabled_reason = Some(Some("disabled by request".into()));
            set.next_attempt_at = Some(None);
        }
        _ => {}
    }
    let event = WebhookEvent::Updated { id: &row.id, said: &said };
    versioned::commit(
        conn,
        now,
        Some(&who.id),
        row.version,
        &event,
        |conn| store::update(conn, &row.id, &set),
        |conn| store::find(conn, &row.id),
    )
}

/// Deletes an endpoint and its delivery record, and audits it.
#[tracing::instrument(skip_all, fields(webhook = %endpoint.id), err)]
pub fn delete(
    conn: &mut DbConn,
    now: NaiveDateTime,
    who: &Principal,
    endpoint: Visible<EndpointRow>,
    check_version: impl FnOnce(i64) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let row = endpoint.into_inner();
    check_version(row.version)?;
    store::delete(conn, &row.id)?;
    let origin = ReceiverUrl::parse(&row.url).map(|u| u.origin()).unwrap_or_default();
    audit::record(conn, now, Some(&who.id), &WebhookEvent::Deleted { row: &row, origin })?;
    Ok(())
}

/// An endpoint's changes as the audit log records them: never its URL, only its origin (the
/// path may hold the receiver's token).
enum WebhookEvent<'a> {
    Created {
        row: &'a EndpointRow,
        origin: String,
    },
    Updated {
        id: &'a str,
        said: &'a [String],
    },
    Deleted {
        row: &'a EndpointRow,
        origin: String,
    },
    /// Disabled by the deliverer after its last retry, or on `410 Gone`.
    Disabled {
        id: &'a str,
        seq: i64,
        reason: &'a str,
    },
}

impl audit::Event for WebhookEvent<'_> {
    fn action(&self) -> &'static str {
        match self {
            Self::Created { .. } => "webhook.created",
            Self::Updated { .. } => "webhook.updated",
            Self::Deleted { .. } => "webhook.deleted",
            Self::Disabled { .. } => "webhook.disabled",
        }
    }
    fn entity_type(&self) -> &'static str {
        "webhook"
    }
    fn entity_id(&self) -> &str {
        match self {
            Self::Created { row, .. } | Self::Deleted { row, .. } => &row.id,
            Self::Updated { id, .. } | Self::Disabled { id, .. } => id,
        }
    }
    fn summary(&self) -> String {
        match self {
            Self::Created { row, origin } => format!(
                "endpoint at {origin} for {} from feed seq {}",
                row.events.as_text(),
                row.position
            ),
            Self::Updated { said: [], .. } => "nothing changed".into(),
            Self::Updated { said, .. } => said.join(", "),
            Self::Deleted { row, origin } => {
                format!("endpoint at {origin} deleted at feed position {}", row.position)
            }
            Self::Disabled { seq, reason, .. } => format!("disabled at feed seq {seq}: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_schedule_spans_more_than_a_day_then_ends() {
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(1), Some(Duration::seconds(5)));
        assert_eq!(retry_delay(7), Some(Duration::hours(10)));
        assert_eq!(retry_delay(8), None);
        let total: Duration = RETRY_DELAYS.iter().copied().sum();
        assert!(total >= Duration::hours(24), "{total}");
    }

    #[test]
    fn subscriptions_are_checked_and_stored_in_order() {
        use EventSelector::*;
        let s = Subscription::from_selectors(&[
            Type(EventType::Suspended),
            Type(EventType::Issued),
            Type(EventType::Suspended),
        ])
        .unwrap();
        assert_eq!(s.to_stored().unwrap().as_text(), r#"["issued","suspended"]"#);
        assert_eq!(Subscription::from_stored(&s.to_stored().unwrap()).unwrap(), s);
        let all = Subscription::from_selectors(&[All]).unwrap();
        assert_eq!(all.to_stored().unwrap().as_text(), r#"["*"]"#);
        assert!(Subscription::from_selectors(&[]).is_err());
        assert!(Subscription::from_selectors(&[All, Type(EventType::Issued)]).is_err());
        assert!(serde_json::from_str::<EventSelector>(r#""expired""#).is_err());
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(secret_key(&s).map(|k| k.len()), Some(32));
        assert_ne!(s, new_secret());
        assert_eq!(secret_key("whsec_!!"), None);
        assert_eq!(secret_key("nope"), None);
    }

    #[test]
    fn the_v1_signature_is_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (and its libraries' tests).
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(dir.path(), "ccreg", "ccreg-api").unwrap();
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let header = signature(
            &key,
            &keys,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert!(header.starts_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,"));
    }
}
