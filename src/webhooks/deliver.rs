//! The delivery worker. Each round finds the endpoints that are due, claims each with a lease
//! (see the module above), and delivers its pending events in feed order until one fails or
//! none is left. Database work runs on the blocking pool; the HTTP call is async.
//!
//! The worker wakes every `CCREG_WEBHOOK_POLL_MS` and whenever a request of this process has
//! appended a feed event ([`wake_after_feed_events`]); tests run rounds themselves with
//! [`Deliverer::deliver_due`].

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use tokio::sync::{Mutex, Notify};

use super::{store, DeliveryOutcome, EndpointRow, ReceiverUrl, Subscription, WebhookStatus};
use crate::audit;
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::record_id::{EndpointId, LeaseHolder};
use crate::error::AppError;
use crate::keys::Keys;
use crate::licences::events::Event;

/// How long a claim on an endpoint lasts unless renewed (each recorded attempt renews it).
pub const LEASE_SECS: i64 = 120;
/// How long one attempt may take, connecting included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Endpoints served at once by one round.
const CONCURRENT_ENDPOINTS: usize = 8;
/// Endpoints looked at per round, and events delivered per endpoint per claim.
const ROUND_ENDPOINTS: i64 = 500;
const EVENTS_PER_CLAIM: usize = 100;
/// The most of an error message kept with an attempt.
const MAX_ERROR_CHARS: usize = 200;

/// Delivers webhooks for this process; cheap to clone.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<Inner>,
    wake: Arc<Notify>,
}

struct Inner {
    db: Db,
    keys: Arc<Keys>,
    clock: SharedClock,
    allow_private: bool,
    http: reqwest::Client,
    /// One round at a time in this process.
    round: Mutex<()>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// The result of one attempt, before it is recorded.
struct Attempt {
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

impl Deliverer {
    /// A deliverer whose HTTP client follows no redirect, uses no proxy, gives up after
    /// [`ATTEMPT_TIMEOUT`] and, unless `allow_private`, connects only to public addresses.
    pub fn new(
        db: Db,
        keys: Arc<Keys>,
        clock: SharedClock,
        allow_private: bool,
    ) -> anyhow::Result<Self> {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .user_agent(concat!("ccreg-webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            http = http.dns_resolver(Arc::new(super::address::PublicOnly));
        }
        let http = http.build().map_err(|e| anyhow::anyhow!("webhook HTTP client: {e}"))?;
        let inner = Inner { db, keys, clock, allow_private, http, round: Mutex::new(()) };
        Ok(Deliverer { inner: Arc::new(inner), wake: Arc::new(Notify::new()) })
    }

    /// Runs rounds every `every`, and at once when woken, until the deliverer is dropped.
    pub fn spawn(&self, every: Duration) {
        let (weak, wake): (Weak<Inner>, _) = (Arc::downgrade(&self.inner), self.wake.clone());
        actix_web::rt::spawn(async move {
            loop {
                let woken = std::pin::pin!(wake.notified());
                let slept = std::pin::pin!(actix_web::rt::time::sleep(every));
                futures_util::future::select(woken, slept).await;
                let Some(inner) = weak.upgrade() else { break };
                let deliverer = Deliverer { inner, wake: wake.clone() };
                if let Err(e) = deliverer.deliver_due().await {
                    tracing::warn!(error = %e, "webhook round failed; retrying at the next");
                }
            }
        });
    }

    /// Asks the worker for a round now (a feed event was appended).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn now(&self) -> NaiveDateTime {
        crate::clock::db_now(&*self.inner.clock)
    }

    /// One delivery round, now: every due endpoint gets its pending events in order until
    /// one fails. Returns what was attempted.
    pub async fn deliver_due(&self) -> Result<Round, AppError> {
        let _one_at_a_time = self.inner.round.lock().await;
        let now = self.now();
        let due = self.inner.db.read(move |conn| store::due(conn, now, ROUND_ENDPOINTS)).await?;
        let rounds: Vec<Result<Round, AppError>> = futures_util::stream::iter(due)
            .map(|id| self.serve(id))
            .buffer_unordered(CONCURRENT_ENDPOINTS)
            .collect()
            .await;
        let mut total = Round::default();
        for r in rounds {
            match r {
                Ok(r) => {
                    total.delivered += r.delivered;
                    total.failed += r.failed;
                }
                Err(e) => tracing::warn!(error = %e, "could not serve a webhook endpoint"),
            }
        }
        Ok(total)
    }

    /// Claims one endpoint, delivers what it can, and gives the claim back.
    async fn serve(&self, id: String) -> Result<Round, AppError> {
        let (id, holder) =
            (EndpointId::new(id), LeaseHolder::new(uuid::Uuid::new_v4().to_string()));
        let now = self.now();
        let until = now + chrono::Duration::seconds(LEASE_SECS);
        let (id2, holder2) = (id.clone(), holder.clone());
        let db = &self.inner.db;
        let Some(endpoint) =
            db.write(move |conn| store::claim(conn, &id2, &holder2, now, until)).await?
        else {
            return Ok(Round::default());
        };
        let outcome = self.work(endpoint, &holder).await;
        let (id2, holder2) = (id.clone(), holder.clone());
        if let Err(e) = db.write(move |conn| store::release(conn, &id2, &holder2)).await {
            tracing::warn!(webhook = %id, error = %e, "could not release a webhook lease");
        }
        outcome
    }

    async fn work(
        &self,
        mut endpoint: EndpointRow,
        holder: &LeaseHolder,
    ) -> Result<Round, AppError> {
        let mut round = Round::default();
        for _ in 0..EVENTS_PER_CLAIM {
            if endpoint.status != WebhookStatus::Active
                || endpoint.next_attempt_at.is_some_and(|t| t > self.now())
            {
                break;
            }
            let subscription = Subscription::from_stored(&endpoint.events)?;
            let position = endpoint.position;
            let (event, visible) = self
                .inner
                .db
                .read(move |conn| store::next_event(conn, position, subscription.types()))
                .await?;
            let Some(event) = event else {
                let (id, holder) = (EndpointId::new(endpoint.id.clone()), holder.clone());
                self.inner.db.write(move |conn| store::pass(conn, &id, &holder, visible)).await?;
                break;
            };
            let attempt = self.attempt(&endpoint, &event).await;
            let delivered = attempt.delivered();
            let recorded = self.record(&endpoint, holder, &event, attempt).await?;
            if delivered {
                round.delivered += 1;
            } else {
                round.failed += 1;
            }
            match recorded {
                Some(next) if delivered => endpoint = next,
                _ => break,
            }
        }
        Ok(round)
    }

    /// POSTs one event to the endpoint, signed; never follows a redirect.
    async fn attempt(&self, endpoint: &EndpointRow, event: &Event) -> Attempt {
        let started = Instant::now();
        let failed = |error: String| Attempt {
            status_code: None,
            error: Some(error),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        let url = match ReceiverUrl::parse(&endpoint.url) {
            Ok(url) => url,
            Err(e) => return failed(format!("the stored URL {e}")),
        };
        if !self.inner.allow_private {
            if let Some(refused) = url.refused_literal() {
                return failed(refused);
            }
        }
        let Some(key) = self
            .inner
            .keys
            .unseal(&endpoint.secret_sealed, &endpoint.id)
            .and_then(|s| super::secret_key(&s))
        else {
            return failed(
                "the signing secret does not open with this CCREG_KEY_DIR's sealing key".into(),
            );
        };
        let body = match super::body(event) {
            Ok(body) => body,
            Err(e) => return failed(e.problem().detail),
        };
        let id = super::message_id(&endpoint.id, event.seq);
        let timestamp = self.inner.clock.now().timestamp();
        let signature = super::signature(&key, &self.inner.keys, &id, timestamp, &body);
        let sent = self
            .inner
            .http
            .post(url.as_url().clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        match sent {
            Ok(res) => {
                let code = res.status().as_u16();
                Attempt {
                    status_code: Some(i32::from(code)),
                    error: (!res.status().is_success())
                        .then(|| format!("the receiver answered {code}")),
                    duration_ms,
                }
            }
            Err(e) => Attempt { status_code: None, error: Some(describe(&e)), duration_ms },
        }
    }

    /// Records an attempt and moves the endpoint on: past the event when delivered; to the
    /// next retry, or disabled (410 Gone, or no retry left), when not. `None` when the lease
    /// was lost meanwhile (the endpoint deleted, or claimed by another process after the
    /// lease ran out): then nothing is recorded and the other holder delivers again.
    async fn record(
        &self,
        endpoint: &EndpointRow,
        holder: &LeaseHolder,
        event: &Event,
        attempt: Attempt,
    ) -> Result<Option<EndpointRow>, AppError> {
        let at = self.now();
        let (id, holder, seq) = (EndpointId::new(endpoint.id.clone()), holder.clone(), event.seq);
        let outcome = Outcome::of(endpoint, &attempt, at);
        let progress = outcome.progress(endpoint, seq, at);
        let delivery = outcome.delivery(endpoint, event, attempt, at);
        self.inner
            .db
            .write(move |conn| {
                if store::progress(conn, &id, &holder, &progress)? == 0 {
                    return Ok(None);
                }
                store::insert_delivery(conn, &delivery)?;
                if let Some(reason) = &outcome.disabled_reason {
                    let event = super::WebhookEvent::Disabled { id: id.as_str(), seq, reason };
                    audit::record(conn, at, None, &event)?;
                }
                store::claimed(conn, &id, &holder)
            })
            .await
    }
}

/// What an attempt means for its endpoint: delivered, to be retried, or the endpoint disabled.
struct Outcome {
    delivered: bool,
    /// The attempts so far, this one included.
    failed: i32,
    next_attempt_at: Option<NaiveDateTime>,
    disabled_reason: Option<String>,
}

impl Outcome {
    fn of(endpoint: &EndpointRow, attempt: &Attempt, at: NaiveDateTime) -> Self {
        let failed = endpoint.attempts + 1;
        let delivered = attempt.delivered();
        let gone = attempt.status_code == Some(410);
        let retry = (!delivered && !gone).then(|| super::retry_delay(failed)).flatten();
        let disabled_reason = match (delivered, gone, retry) {
            (true, _, _) | (false, false, Some(_)) => None,
            (false, true, _) => Some("the receiver answered 410 Gone".to_string()),
            (false, false, None) => Some(format!(
                "{failed} attempts over more than a day failed; the last: {}",
                attempt.error.as_deref().unwrap_or("no answer")
            )),
        };
        Outcome { delivered, failed, next_attempt_at: retry.map(|d| at + d), disabled_reason }
    }

    /// What the attempt changes on its endpoint, the lease renewed.
    fn progress(&self, endpoint: &EndpointRow, seq: i64, at: NaiveDateTime) -> store::Progress {
        let disabled = self.disabled_reason.as_ref();
        store::Progress {
            position: self.delivered.then_some(seq),
            last_delivered_seq: self.delivered.then_some(Some(seq)),
            attempts: if self.delivered { 0 } else { self.failed },
            next_attempt_at: Some(self.next_attempt_at),
            status: disabled.map(|_| WebhookStatus::Disabled),
            disabled_reason: disabled.cloned().map(Some),
            lease_until: Some(at + chrono::Duration::seconds(LEASE_SECS)),
            version: disabled.map(|_| endpoint.version + 1),
            updated_at: disabled.map(|_| at),
        }
    }

    /// The attempt as the endpoint's delivery record keeps it.
    fn delivery(
        &self,
        endpoint: &EndpointRow,
        event: &Event,
        attempt: Attempt,
        at: NaiveDateTime,
    ) -> store::DeliveryRow {
        store::DeliveryRow {
            id: uuid::Uuid::now_v7().to_string(),
            endpoint_id: endpoint.id.clone(),
            message_id: super::message_id(&endpoint.id, event.seq),
            event_seq: event.seq,
            event_type: event.event_type,
            attempt: self.failed,
            attempted_at: at,
            status_code: attempt.status_code,
            outcome: if self.delivered {
                DeliveryOutcome::Delivered
            } else {
                DeliveryOutcome::Failed
            },
            error: attempt.error,
            next_attempt_at: self.next_attempt_at,
            duration_ms: attempt.duration_ms,
        }
    }
}

/// A short account of a failed request: never the URL (it may hold the receiver's token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs());
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect not followed"
    } else {
        "the request failed"
    };
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(c) = cause {
        deepest = Some(c.to_string());
        cause = c.source();
    }
    let mut text = match deepest {
        Some(d) => format!("{what}: {d}"),
        None => what.to_string(),
    };
    if text.chars().count() > MAX_ERROR_CHARS {
        text = text.chars().take(MAX_ERROR_CHARS).collect::<String>() + "…";
    }
    text
}

/// Middleware: when a request of this process appended a feed event, wake the worker once
/// the answer (and so the commit) is done.
pub async fn wake_after_feed_events(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let before = crate::licences::events::appended();
    let res = next.call(req).await?;
    if crate::licences::events::appended() != before {
        if let Some(deliverer) = res.request().app_data::<web::Data<Deliverer>>() {
            deliverer.wake();
        }
    }
    Ok(res)
}
