//! CSRF, checked in one place: every portal POST reads its form through [`PortalForm`], which
//! refuses it (a 403 page, before the handler runs, so nothing changes) when an `Origin`
//! header names another origin than `CCREG_PUBLIC_URL`'s, or when the form's `csrf_token` is
//! missing or is neither the session's token nor the one bound to the pre-session cookie.
//!
//! A session's token is random and stored with it. Before sign-in, the token is derived from
//! the `ccreg_presession` cookie with the registry's signing key, so another site can neither
//! read nor compute it.

use actix_web::cookie::Cookie;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{app_state, cookie, PageError, Visitor, PRESESSION_COOKIE};
use crate::auth::secrets::new_secret;
use crate::error::AppError;
use crate::keys::Keys;
use crate::state::AppState;

/// The hidden field every portal form carries.
pub const FIELD: &str = "csrf_token";

/// The token of forms shown before sign-in, bound to the pre-session cookie's value.
fn presession_token(keys: &Keys, presession: &str) -> String {
    let signature = keys.sign_bytes(format!("ccreg portal csrf v1\n{presession}").as_bytes());
    hex::encode(Sha256::digest(signature))
}

impl Visitor {
    /// The token this visitor's forms carry: the session's once signed in, otherwise the
    /// pre-session cookie's (`None` when the visitor has neither: see [`Visitor::presession`]).
    pub fn form_token(&self, keys: &Keys) -> Option<String> {
        match (&self.session, &self.presession) {
            (Some((_, s)), _) => Some(s.csrf_token.clone()),
            (None, Some(p)) => Some(presession_token(keys, p)),
            (None, None) => None,
        }
    }

    /// Gives a visitor without a pre-session cookie a new one; answers the cookie to set.
    pub fn presession(&mut self, state: &AppState) -> Option<Cookie<'static>> {
        if self.presession.is_some() {
            return None;
        }
        let value = new_secret();
        self.presession = Some(value.clone());
        Some(cookie(state, PRESESSION_COOKIE, value))
    }

    /// Whether `token` is this visitor's session token or its pre-session token.
    fn accepts(&self, token: &str, keys: &Keys) -> bool {
        let session = self.session.as_ref().map(|(_, s)| s.csrf_token.clone());
        let presession = self.presession.as_deref().map(|p| presession_token(keys, p));
        [session, presession]
            .into_iter()
            .flatten()
            .any(|expected| bool::from(expected.as_bytes().ct_eq(token.as_bytes())))
    }
}

/// The scheme, host and port of a URL (`https://a.example/x` → `https://a.example`).
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(end) => &url[..start + end],
        None => url,
    }
}

/// No `Origin` header, or the registry's own.
fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    match req.headers().get(actix_web::http::header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .is_ok_and(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin_of(public_url))),
    }
}

/// A portal form that passed the CSRF check: who sent it, and its fields (`T` ignores the
/// token field).
pub struct PortalForm<T> {
    pub visitor: Visitor,
    pub fields: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for PortalForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = app_state(&req)?;
            if !same_origin(&req, &state.settings.public_url) {
                return Err(PageError::Csrf);
            }
            let body = crate::http::body::read_body(&mut payload).await?;
            let visitor = Visitor::of(&req).await?;
            let token = form_urlencoded::parse(&body)
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            if token.is_empty() || !visitor.accepts(&token, &state.keys) {
                return Err(PageError::Csrf);
            }
            let fields = serde_urlencoded::from_bytes(&body)
                .map_err(|_| AppError::bad_request("the form's fields could not be read"))?;
            Ok(PortalForm { visitor, fields })
        })
    }
}

/// A multipart form the portal posts: read with its CSRF token as one more text part.
pub trait MultipartForm: Sized + 'static {
    fn read_with(
        req: &HttpRequest,
        payload: &mut Payload,
        extra: &'static [&'static str],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, AppError>>>>;
    /// The extra text parts read.
    fn extra(&self) -> &[(String, String)];
}

impl MultipartForm for crate::documents::UploadForm {
    fn read_with(
        req: &HttpRequest,
        payload: &mut Payload,
        extra: &'static [&'static str],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, AppError>>>> {
        Self::read(req, payload, extra)
    }
    fn extra(&self) -> &[(String, String)] {
        &self.extra
    }
}

impl MultipartForm for crate::inspections::evidence::EvidenceForm {
    fn read_with(
        req: &HttpRequest,
        payload: &mut Payload,
        extra: &'static [&'static str],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, AppError>>>> {
        Self::read(req, payload, extra)
    }
    fn extra(&self) -> &[(String, String)] {
        &self.extra
    }
}

/// A portal upload (`multipart/form-data`: a document, an evidence photo) that passed the
/// same CSRF check: the token is the form's `csrf_token` part.
pub struct PortalUpload<F = crate::documents::UploadForm> {
    pub visitor: Visitor,
    pub upload: F,
}

impl<F: MultipartForm> FromRequest for PortalUpload<F> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let upload = F::read_with(&req, payload, &[FIELD]);
        Box::pin(async move {
            let state = app_state(&req)?;
            if !same_origin(&req, &state.settings.public_url) {
                return Err(PageError::Csrf);
            }
            let upload = upload.await?;
            let visitor = Visitor::of(&req).await?;
            let token = upload
                .extra()
                .iter()
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            if token.is_empty() || !visitor.accepts(token, &state.keys) {
                return Err(PageError::Csrf);
            }
            Ok(PortalUpload { visitor, upload })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_the_public_url_drops_its_path() {
        assert_eq!(origin_of("https://register.pta.gov.pk/ccreg"), "https://register.pta.gov.pk");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
