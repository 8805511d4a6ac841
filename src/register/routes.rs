//! `/api/v1/public/register.csv` and `/api/v1/public/register.json`.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{get, HttpResponse};
use tokio::sync::{mpsc, oneshot};

use super::{store, Format, RegisterEntry};
use crate::error::AppError;
use crate::state::AppState;

/// Licences read per page of the snapshot.
const PAGE: i64 = 500;
/// Pages encoded ahead of the reader: what a slow client can make the server hold.
const AHEAD: usize = 2;

/// The public register as CSV (RFC 4180, a header row; cities joined with `;`). Streamed from
/// one snapshot; `Last-Event-Seq` names the change-feed position it reflects, so a mirror
/// loads it and then follows `GET /api/v1/events?after=<Last-Event-Seq>`.
#[utoipa::path(
    tag = "register",
    responses(
        (status = 200, description = "One row per licence, by licence number",
            content_type = "text/csv", body = String,
            headers(("Last-Event-Seq" = i64, description = "The change-feed seq this snapshot reflects"))),
        (status = 429, description = "Too many look-ups from this address, or too many exports at once", headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[get("/public/register.csv")]
pub async fn register_csv(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    export(&state, Format::Csv).await
}

/// The public register as a JSON array, one object per licence, by licence number. Streamed
/// from one snapshot, with `Last-Event-Seq` as for the CSV form.
#[utoipa::path(
    tag = "register",
    responses(
        (status = 200, description = "One object per licence, by licence number",
            body = Vec<RegisterEntry>,
            headers(("Last-Event-Seq" = i64, description = "The change-feed seq this snapshot reflects"))),
        (status = 429, description = "Too many look-ups from this address, or too many exports at once", headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[get("/public/register.json")]
pub async fn register_json(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    export(&state, Format::Json).await
}

type Chunk = Result<Bytes, std::io::Error>;

async fn export(state: &AppState, format: Format) -> Result<HttpResponse, AppError> {
    // Each export holds a pooled connection for as long as its reader takes.
    let permit = state.exports.clone().try_acquire_owned().map_err(|_| {
        AppError::TooManyRequests {
            detail: "the register is being exported to as many clients as it serves at once; try again shortly".into(),
            retry_after_secs: 5,
        }
    })?;
    let (head_tx, head_rx) = oneshot::channel::<Result<i64, AppError>>();
    let (tx, rx) = mpsc::channel::<Chunk>(AHEAD);
    let db = state.db.clone();
    let now = state.now();
    actix_web::rt::task::spawn_blocking(move || {
        let _permit = permit;
        let mut head_tx = Some(head_tx);
        let outcome = db.get().and_then(|mut conn| {
            store::in_snapshot(&mut conn, |conn| {
                let head = store::feed_head(conn)?;
                match head_tx.take().map(|h| h.send(Ok(head))) {
                    Some(Ok(())) => write_rows(conn, format, now, &tx),
                    _ => Ok(()), // the request is gone
                }
            })
        });
        if let Err(e) = outcome {
            match head_tx.take() {
                Some(h) => {
                    let _ = h.send(Err(e));
                }
                None => {
                    // The headers are sent: cutting the body short is how the reader learns.
                    tracing::error!(error = %e, "the register export failed part-way");
                    let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
                }
            }
        }
    });
    let head = head_rx.await.map_err(|_| AppError::internal("the export task ended early"))??;
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("Last-Event-Seq", head.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// Encodes the snapshot page by page into `tx`; stops quietly when the reader has gone.
fn write_rows(
    conn: &mut crate::db::DbConn,
    format: Format,
    now: chrono::NaiveDateTime,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), AppError> {
    let mut buf = String::from(format.opening());
    let mut after: Option<String> = None;
    let mut first = true;
    loop {
        let rows = store::page(conn, after.as_deref(), PAGE, now)?;
        let last_page = (rows.len() as i64) < PAGE;
        for row in &rows {
            format.write(row, first, &mut buf);
            first = false;
        }
        after = rows.into_iter().last().map(|r| r.licence_number);
        if last_page {
            buf.push_str(format.closing());
        }
        if tx.blocking_send(Ok(Bytes::from(std::mem::take(&mut buf)))).is_err() || last_page {
            return Ok(());
        }
    }
}
