//! `Idempotency-Key` for POSTs that create: the same key with the same body replays the first
//! response; the same key with another body is 422. The key and the response are stored in the
//! same transaction as the creation, so a retry after a lost response never creates twice, on
//! any number of processes. Keys are kept for 24 hours.

use std::future::{ready, Ready};

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::Principal;
use crate::clock::SharedClock;
use crate::db::schema::idempotency_keys as ik;
use crate::db::{write_tx, Db, DbConn};
use crate::error::AppError;

const KEY_TTL_HOURS: i64 = 24;

/// The optional `Idempotency-Key` header (1 to 255 visible ASCII characters), and the scope
/// its key lives in: who is asking and what they are creating, taken from the request (the
/// principal, the method and the matched route template with its path values, as in
/// `<principal> POST /api/v1/sites/{site_id}/numbers site_id=…`), so that no handler names it
/// and two callers, two routes or two parents never share a key.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: Option<String>,
    scope: String,
}

impl IdempotencyKey {
    fn scope_of(req: &HttpRequest) -> String {
        let who = req.extensions().get::<Principal>().map(|p| p.id.clone());
        let template = req.match_pattern().unwrap_or_else(|| req.path().to_string());
        let mut scope =
            format!("{} {} {template}", who.as_deref().unwrap_or("anonymous"), req.method());
        for (name, value) in req.match_info().iter() {
            scope.push_str(&format!(" {name}={value}"));
        }
        scope
    }
}

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let scope = Self::scope_of(req);
        let Some(raw) = req.headers().get("idempotency-key") else {
            return ready(Ok(IdempotencyKey { key: None, scope }));
        };
        let ok = raw
            .to_str()
            .ok()
            .filter(|s| (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()));
        ready(match ok {
            Some(s) => Ok(IdempotencyKey { key: Some(s.to_string()), scope }),
            None => Err(AppError::bad_request(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )),
        })
    }
}

/// What a creating handler answers. It is stored for replays, except `secret`: a secret is
/// shown once, in the first response, and never stored, so a replay answers without it.
#[derive(Debug, Clone)]
pub struct Created {
    body: serde_json::Value,
    location: String,
    version: i64,
    /// A top-level field of the first response only (name, value).
    secret: Option<(&'static str, String)>,
}

impl Created {
    /// The created `resource` at `location` (at `version`), serialised here, once, for the answer and its
    /// replays: a resource that cannot be serialised is a 500 (logged), never a `null` body.
    pub fn new(
        location: String,
        version: i64,
        resource: &impl Serialize,
    ) -> Result<Created, AppError> {
        let body = serde_json::to_value(resource).map_err(|e| {
            AppError::internal(format!(
                "the created resource at {location} cannot be serialised: {e}"
            ))
        })?;
        Ok(Created { body, location, version, secret: None })
    }

    /// Adds a secret shown in this first response only.
    pub fn with_secret(self, field: &'static str, value: String) -> Created {
        Created { secret: Some((field, value)), ..self }
    }

    fn respond(&self, replayed: bool) -> HttpResponse {
        let mut body = self.body.clone();
        if let (Some((field, value)), Some(object)) = (&self.secret, body.as_object_mut()) {
            object.insert(field.to_string(), serde_json::Value::String(value.clone()));
        }
        let mut res = HttpResponse::build(StatusCode::CREATED);
        res.insert_header((header::LOCATION, self.location.clone()))
            .insert_header((header::ETAG, super::etag(self.version)))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if replayed {
            res.insert_header(("Idempotency-Replayed", "true"));
        }
        res.json(&body)
    }
}

struct Stored {
    request_hash: String,
    created: Created,
}

/// The shape of every POST that creates: `create` gets the request's body and time inside the
/// write transaction, under `key` ([`create`]).
pub async fn create_from<B, F>(
    state: &crate::state::AppState,
    key: IdempotencyKey,
    body: super::ApiJson<B>,
    create: F,
) -> Result<HttpResponse, AppError>
where
    B: Send + 'static,
    F: FnOnce(&mut DbConn, chrono::NaiveDateTime, B) -> Result<Created, AppError> + Send + 'static,
{
    let fingerprint = body.fingerprint.clone();
    let (new, now) = (body.into_inner(), state.now());
    self::create(&state.db, state.clock.clone(), key, fingerprint, move |conn| {
        create(conn, now, new)
    })
    .await
}

/// Runs `create` in one write transaction and answers 201, honouring the key if one was sent.
pub async fn create<F>(
    db: &Db,
    clock: SharedClock,
    key: IdempotencyKey,
    fingerprint: String,
    create: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<Created, AppError> + Send + 'static,
{
    let IdempotencyKey { key, scope } = key;
    let Some(key) = key else {
        return db.write(create).await.map(|c| c.respond(false));
    };
    let (scope2, key2, fp2, clock2) =
        (scope.clone(), key.clone(), fingerprint.clone(), clock.clone());
    let outcome = db
        .read(move |conn| {
            write_tx(conn, |conn| {
                if let Some(stored) = lookup(conn, &scope, &key, &*clock)? {
                    return replay(stored, &fingerprint).map(|c| (c, true));
                }
                let created = create(conn)?;
                let row = (
                    ik::scope.eq(&scope),
                    ik::idem_key.eq(&key),
                    ik::request_hash.eq(&fingerprint),
                    ik::body.eq(created.body.to_string()),
                    ik::location.eq(&created.location),
                    ik::resource_version.eq(created.version),
                    ik::created_at.eq(crate::clock::db_now(&*clock)),
                );
                diesel::insert_into(ik::table).values(row).execute(conn)?;
                Ok((created, false))
            })
        })
        .await;
    match outcome {
        Ok((created, replayed)) => Ok(created.respond(replayed)),
        // A concurrent request with the same key may have won; answer as it did.
        Err(e) => {
            let stored = db.read(move |conn| lookup(conn, &scope2, &key2, &*clock2)).await?;
            match stored {
                Some(stored) => replay(stored, &fp2).map(|c| c.respond(true)),
                None => Err(e),
            }
        }
    }
}

fn replay(stored: Stored, fingerprint: &str) -> Result<Created, AppError> {
    if stored.request_hash == fingerprint {
        Ok(stored.created)
    } else {
        Err(AppError::invalid(
            "Idempotency-Key",
            "this key was already used with a different request body",
        ))
    }
}

fn lookup(
    conn: &mut DbConn,
    scope: &str,
    key: &str,
    clock: &dyn crate::clock::Clock,
) -> Result<Option<Stored>, AppError> {
    let cutoff = crate::clock::db_now(clock) - Duration::hours(KEY_TTL_HOURS);
    diesel::delete(ik::table.filter(ik::created_at.lt(cutoff))).execute(conn)?;
    let row: Option<(String, String, String, i64)> = ik::table
        .filter(ik::scope.eq(scope).and(ik::idem_key.eq(key)))
        .select((ik::request_hash, ik::body, ik::location, ik::resource_version))
        .first(conn)
        .optional()?;
    let Some((request_hash, body, location, version)) = row else { return Ok(None) };
    let body = serde_json::from_str(&body).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Some(Stored { request_hash, created: Created { body, location, version, secret: None } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_cannot_be_serialised_is_an_error_not_null() {
        // JSON object keys must be strings.
        let unserialisable: std::collections::BTreeMap<(i32, i32), i32> = [((1, 2), 3)].into();
        let e = Created::new("/api/v1/things/1".into(), 1, &unserialisable).unwrap_err();
        assert!(matches!(e, AppError::Internal(_)), "{e:?}");
        let ok = Created::new("/api/v1/things/1".into(), 1, &serde_json::json!({"id": "1"}));
        assert_eq!(ok.unwrap().body["id"], "1");
    }
}
