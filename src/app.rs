//! The running service: binds a listener, builds the router the same way
//! for `main` and for tests, and serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::config::ApiConfig;
use crate::db::cursor_key;
use crate::db::pools::Pools;
use crate::events::EventBus;
use crate::graphql::build_schema;
use crate::http::ingest::StrictLoads;
use crate::http::limits::{AuthFailures, OpenConnections, RateLimit};
use crate::http::persisted::PersistedQueries;
use crate::http::{AppState, router};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// How long requests in flight may finish once shutdown is asked for.
    grace: Duration,
}

impl Application {
    /// Binds `bind` (port 0 picks a free port, as tests do) over a
    /// migrated database.
    pub async fn build(bind: &str, db: DatabaseConnection, api: ApiConfig) -> std::io::Result<Self> {
        let auth = Authenticator::open(db.clone());
        Self::build_with_auth(bind, db, api, auth).await
    }

    /// Like [`Application::build`], authenticating requests with `auth`.
    pub async fn build_with_auth(
        bind: &str,
        db: DatabaseConnection,
        api: ApiConfig,
        auth: Authenticator,
    ) -> std::io::Result<Self> {
        Self::build_with_pools(bind, Pools::single(db), None, api, auth).await
    }

    /// Like [`Application::build_with_auth`] over `pools` (a primary and
    /// maybe a read replica), LISTENing for events on `listen_url` when
    /// given (else with the primary pool's settings).
    pub async fn build_with_pools(
        bind: &str,
        pools: Pools,
        listen_url: Option<&str>,
        api: ApiConfig,
        auth: Authenticator,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind).await?;
        let db = pools.primary().clone();
        let min_audience_size = api.min_audience_size;
        let events = EventBus::for_server(&db, listen_url)
            .await
            .map_err(std::io::Error::other)?;
        let currency = api.ingest.currency.clone();
        let max_line_bytes = api.ingest.max_line_bytes;
        let limits = api.limits.clone();
        let grace = limits.shutdown_grace();
        let persisted_queries = PersistedQueries::new(limits.apq_cache_size);
        let cors = crate::http::cors::layer(&api.cors_origins, api.cors_local);
        let auth_failures = AuthFailures::new(&limits);
        let rate_limit = RateLimit::new(&limits);
        let ws_connections = OpenConnections::new(limits.ws_max_connections_per_key);
        let strict_loads = StrictLoads::new(crate::db::pool_max_connections(&db), &limits);
        let cursor_key = cursor_key::configured_or_stored(&db, api.cursor_key.clone())
            .await
            .map_err(|error| std::io::Error::other(format!("reading the cursor key: {error}")))?;
        let schema = build_schema(db.clone(), api, events.clone(), cursor_key);
        Ok(Self {
            listener,
            router: router(AppState {
                schema,
                db,
                pools,
                min_audience_size,
                currency,
                max_line_bytes,
                events,
                auth,
                limits,
                persisted_queries,
                cors,
                auth_failures,
                rate_limit,
                ws_connections,
                strict_loads,
            }),
            grace,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets the requests in flight
    /// finish for the grace period (`ACCORD_SHUTDOWN_GRACE_MS`) and returns,
    /// leaving any still running to be dropped with the runtime.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let asked = Arc::new(tokio::sync::Notify::new());
        let notify = asked.clone();
        let shutdown = async move {
            shutdown.await;
            // A stored permit: the grace timer below may start waiting later.
            notify.notify_one();
        };
        // The peer address is what the rate limit counts unauthenticated requests by.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, service).with_graceful_shutdown(shutdown);
        let grace = self.grace;
        tokio::select! {
            served = async { serve.await } => served,
            () = async move {
                asked.notified().await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_ms = grace.as_millis(), "requests still in flight after the grace period: aborting them");
                Ok(())
            }
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
