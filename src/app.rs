//! Builds the actix application: middleware, routes, OpenAPI and docs. `Application::build`
//! binds the listener, so tests start the real server on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{get, web, App, HttpResponse, HttpServer};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::http::body::sanitize;
use crate::http::fallback::{self, RouteTable};
use crate::keys::Keys;
use crate::openapi::ApiDoc;
use crate::service::Metrics;
use crate::state::AppState;
use crate::{
    agency_clients, applications, audit, auth, barred, clearances, documents, inspections,
    invoices, licences, organisations, register, reports, service, sites, stats, telephony, users,
    verify, violations, webhooks,
};

fn api_v1(cfg: &mut ServiceConfig) {
    // The hot path first: the router tries routes in this order.
    cfg.configure(verify_routes)
        .configure(account_routes)
        .configure(audit_routes)
        .configure(organisation_routes)
        .configure(licensing_routes)
        .configure(enforcement_routes)
        .configure(publication_routes)
        .configure(webhook_routes)
        .service(openapi_json);
}

/// The verification endpoints, the hot path.
fn verify_routes(cfg: &mut ServiceConfig) {
    cfg.service(verify::routes::verify_licence)
        .service(verify::routes::verify_number)
        .service(verify::routes::verify_ip)
        .service(verify::routes::verify_organisation)
        .service(verify::routes::verify_bulk)
        .service(verify::routes::attest)
        .service(verify::routes::public_licence)
        .service(verify::routes::public_number);
}

/// Sign-up, tokens, users and agency clients.
fn account_routes(cfg: &mut ServiceConfig) {
    cfg.service(users::routes::signup)
        .service(auth::routes::issue_token)
        .service(auth::routes::revoke)
        .service(auth::routes::me)
        .service(users::routes::create_user)
        .service(users::routes::list_users)
        .service(users::routes::get_user)
        .service(users::routes::patch_user)
        .service(agency_clients::routes::create_client)
        .service(agency_clients::routes::list_clients)
        .service(agency_clients::routes::get_client)
        .service(agency_clients::routes::delete_client);
}

/// The audit log.
fn audit_routes(cfg: &mut ServiceConfig) {
    cfg.service(audit::routes::list_audit).service(audit::routes::verify_audit);
}

/// Organisations, their people, sites, telephony and documents.
fn organisation_routes(cfg: &mut ServiceConfig) {
    cfg.service(organisations::routes::create_organisation)
        .service(organisations::routes::list_organisations)
        .service(organisations::routes::get_organisation)
        .service(organisations::routes::patch_organisation)
        .service(organisations::routes::add_person)
        .service(organisations::routes::list_people)
        .service(organisations::routes::remove_person)
        .service(sites::routes::create_site)
        .service(sites::routes::list_sites)
        .service(sites::routes::get_site)
        .service(sites::routes::patch_site)
        .service(telephony::routes::register_number)
        .service(telephony::routes::list_numbers)
        .service(telephony::routes::remove_number)
        .service(telephony::routes::register_ip_range)
        .service(telephony::routes::list_ip_ranges)
        .service(telephony::routes::remove_ip_range)
        .service(documents::routes::upload_document)
        .service(documents::routes::list_documents)
        .service(documents::routes::get_document)
        .service(documents::routes::get_document_content)
        .service(documents::routes::delete_document);
}

/// Applications, invoices, clearances and licences.
fn licensing_routes(cfg: &mut ServiceConfig) {
    cfg.service(applications::routes::create_application)
        .service(applications::routes::list_applications)
        .service(applications::routes::get_application)
        .service(applications::routes::submit)
        .service(applications::routes::withdraw)
        .service(applications::routes::request_info)
        .service(applications::routes::approve)
        .service(applications::routes::reject)
        .service(invoices::routes::list_invoices)
        .service(invoices::routes::get_invoice)
        .service(invoices::routes::record_payment)
        .service(clearances::routes::list_clearances)
        .service(clearances::routes::get_clearance)
        .service(clearances::routes::grant)
        .service(clearances::routes::object)
        .service(licences::routes::list_licences)
        .service(licences::routes::get_licence)
        .service(licences::routes::suspend)
        .service(licences::routes::reinstate)
        .service(licences::routes::revoke)
        .service(licences::routes::surrender)
        .service(licences::routes::list_events);
}

/// Inspections, barred persons, reports and violations.
fn enforcement_routes(cfg: &mut ServiceConfig) {
    cfg.service(inspections::routes::schedule)
        .service(inspections::routes::list_inspections)
        .service(inspections::routes::get_inspection)
        .service(inspections::routes::record)
        .service(inspections::routes::cancel)
        .service(inspections::routes::upload_evidence)
        .service(inspections::routes::get_evidence)
        .service(inspections::routes::list_queue)
        .service(inspections::routes::dismiss)
        .service(barred::routes::list_barred_persons)
        .service(reports::routes::report_call)
        .service(reports::routes::list_reports)
        .service(reports::routes::get_report)
        .service(reports::routes::triage)
        .service(violations::routes::list_violations)
        .service(violations::routes::get_violation)
        .service(violations::routes::resolve);
}

/// Public statistics, the register and the verification log.
fn publication_routes(cfg: &mut ServiceConfig) {
    cfg.service(stats::routes::public_stats)
        .service(register::routes::register_csv)
        .service(register::routes::register_json)
        .service(verify::routes::verification_log);
}

/// Webhook endpoints and their deliveries.
fn webhook_routes(cfg: &mut ServiceConfig) {
    cfg.service(webhooks::routes::create_webhook)
        .service(webhooks::routes::list_webhooks)
        .service(webhooks::routes::get_webhook)
        .service(webhooks::routes::patch_webhook)
        .service(webhooks::routes::delete_webhook)
        .service(webhooks::routes::list_deliveries);
}

fn root(cfg: &mut ServiceConfig) {
    cfg.service(service::healthz)
        .service(service::readyz)
        .service(service::serve_metrics)
        .service(auth::routes::jwks);
}

/// Registers every route; the same registration yields the app and its OpenAPI document.
fn routes<T>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope("/api/v1").configure(api_v1))
        .configure(root)
        .split_for_parts()
}

/// The OpenAPI document exactly as served and as `ccreg openapi` prints it.
pub fn openapi_spec() -> serde_json::Value {
    let (_, api) = routes(App::new());
    crate::openapi::complete(serde_json::to_value(&api).unwrap_or_default())
}

pub fn openapi_text() -> String {
    let mut s = serde_json::to_string_pretty(&openapi_spec()).unwrap_or_default();
    s.push('\n');
    s
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(operation_id = "get_openapi", tag = "service", responses((status = 200, description = "The OpenAPI document", body = Object)))]
#[get("/openapi.json")]
async fn openapi_json(spec: web::Data<SpecText>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec.0.clone())
}

pub struct SpecText(pub String);

fn query_error(
    e: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    let message = match e {
        actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    AppError::bad_request(format!("invalid query: {}", sanitize(&message))).into()
}

fn path_error(e: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let message = match e {
        actix_web::error::PathError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    AppError::bad_request(format!("invalid path value: {}", sanitize(&message))).into()
}

/// Shared, per-process parts of the app.
#[derive(Clone)]
pub struct Parts {
    pub state: web::Data<AppState>,
    pub metrics: web::Data<Metrics>,
    pub spec: web::Data<SpecText>,
    pub table: web::Data<RouteTable>,
    pub verification_log: web::Data<verify::log::VerificationLog>,
    pub public_limiter: web::Data<crate::http::public::PublicLimiter>,
    pub follower: web::Data<crate::index::follow::Follower>,
    pub webhooks: web::Data<webhooks::Deliverer>,
}

pub fn build_app(
    parts: Parts,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = routes(
        App::new()
            .app_data(parts.state)
            .app_data(parts.metrics)
            .app_data(parts.spec)
            .app_data(parts.table)
            .app_data(parts.verification_log)
            .app_data(parts.public_limiter)
            .app_data(parts.follower)
            .app_data(parts.webhooks)
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error)),
    );
    app.configure(crate::pages::configure)
        .configure(crate::portal::configure)
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"])))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
            }),
        )
        .default_service(web::to(fallback::not_found))
        .wrap(from_fn(crate::index::follow::catch_up_after_writes))
        .wrap(from_fn(webhooks::deliver::wake_after_feed_events))
        .wrap(from_fn(auth::guard::guard))
        .wrap(from_fn(crate::http::public::conventions))
        .wrap(ErrorHandlers::new().default_handler(fallback::problem_json))
        .wrap(from_fn(service::record))
        .wrap(from_fn(crate::http::access::log))
        .wrap(tracing_actix_web::TracingLogger::<crate::http::route::Spans>::new())
        .wrap(from_fn(crate::http::request_id::assign))
        .wrap(from_fn(crate::http::route::tag))
}

/// Connects, migrates, loads the keys and bootstraps the first admin if asked.
fn open(settings: &Settings, clock: &SharedClock) -> anyhow::Result<(Db, Arc<Keys>)> {
    let db = Db::connect(&settings.database_url, settings.db_pool_size)?;
    let applied = db.migrate()?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    let keys =
        Arc::new(Keys::load_or_create(&settings.key_dir, &settings.issuer, &settings.audience)?);
    if let Some(admin) = &settings.bootstrap_admin {
        if users::provision::bootstrap_admin(&db, &**clock, admin)? {
            tracing::info!(email = %admin.email, "created the bootstrap admin");
        }
    }
    Ok((db, keys))
}

/// The work a server does besides answering: following the database into the verification
/// index, delivering webhooks, retention and the overdue sweep.
struct Workers {
    follower: Arc<crate::index::follow::Follower>,
    deliverer: webhooks::Deliverer,
    retention: crate::retention::Retention,
    overdue: crate::violations::sweeper::Sweeper,
}

impl Workers {
    /// Loads the verification index and starts every worker.
    async fn start(
        db: &Db,
        keys: &Arc<Keys>,
        clock: &SharedClock,
        settings: &Settings,
        tokens: &Arc<auth::cache::TokenCache>,
    ) -> anyhow::Result<Self> {
        let follower = {
            let (db, tokens) = (db.clone(), tokens.clone());
            crate::db::blocking(move || crate::index::follow::Follower::load(db, tokens))
                .await
                .map_err(|e| anyhow::anyhow!("cannot load the verification index: {e}"))?
        };
        crate::heap::trim();
        follower.spawn_polling(std::time::Duration::from_millis(settings.index_poll_ms));
        let deliverer = webhooks::Deliverer::new(
            db.clone(),
            keys.clone(),
            clock.clone(),
            settings.webhook_allow_private,
        )?;
        if settings.webhook_poll_ms > 0 {
            deliverer.spawn(std::time::Duration::from_millis(settings.webhook_poll_ms));
        }
        let retention =
            crate::retention::Retention::new(db.clone(), clock.clone(), settings.retention.clone());
        retention.spawn();
        let overdue = crate::violations::sweeper::Sweeper::new(db.clone(), clock.clone());
        overdue.spawn(settings.overdue_sweep_every);
        Ok(Workers { follower, deliverer, retention, overdue })
    }
}

pub struct Application {
    port: u16,
    server: Server,
    webhooks: webhooks::Deliverer,
    retention: crate::retention::Retention,
    overdue: crate::violations::sweeper::Sweeper,
    verification_log: verify::log::VerificationLog,
}

impl Application {
    /// Connects, migrates, bootstraps the first admin if asked, loads keys and binds.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let (db, keys) = open(&settings, &clock)?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let spec = openapi_spec();
        let verification_log = verify::log::VerificationLog::start(db.clone());
        let tokens = Arc::new(auth::cache::TokenCache::new());
        let Workers { follower, deliverer, retention, overdue } =
            Workers::start(&db, &keys, &clock, &settings, &tokens).await?;
        let parts = Parts {
            follower: web::Data::from(follower.clone()),
            webhooks: web::Data::new(deliverer.clone()),
            verification_log: web::Data::new(verification_log.clone()),
            public_limiter: web::Data::new(crate::http::public::PublicLimiter::new(
                settings.public_rate_per_minute,
                settings.trusted_proxies.clone(),
            )),
            table: web::Data::new(RouteTable::from_json(&spec)),
            spec: web::Data::new(SpecText(openapi_text())),
            metrics: web::Data::new(Metrics::new()?),
            state: web::Data::new(AppState {
                db,
                keys,
                clock,
                settings: Arc::new(settings.clone()),
                index: follower.index().clone(),
                tokens,
                exports: Arc::new(tokio::sync::Semaphore::new(
                    (settings.db_pool_size as usize / 4).max(1),
                )),
            }),
        };
        // Each worker builds its app (and, on the way, the OpenAPI document, dropped at once), then
        // gives the pages that held it back.
        let mut server = HttpServer::new(move || {
            let app = build_app(parts.clone());
            crate::heap::trim();
            app
        })
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        tracing::info!(address = %settings.bind, port, database = %settings.database_url.redacted(), "ccreg listening");
        Ok(Application {
            port,
            server: server.run(),
            webhooks: deliverer,
            retention,
            overdue,
            verification_log,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// This process's webhook deliverer (tests run its rounds themselves).
    pub fn webhooks(&self) -> webhooks::Deliverer {
        self.webhooks.clone()
    }

    /// This process's pruning of expired personal data (tests run its passes themselves).
    pub fn retention(&self) -> crate::retention::Retention {
        self.retention.clone()
    }

    /// This process's overdue sweep (tests run its passes themselves).
    pub fn overdue(&self) -> crate::violations::sweeper::Sweeper {
        self.overdue.clone()
    }

    /// This process's verification log, to be closed (written out) once the server stops.
    pub fn verification_log(&self) -> verify::log::VerificationLog {
        self.verification_log.clone()
    }

    pub fn server(self) -> Server {
        self.server
    }
}
