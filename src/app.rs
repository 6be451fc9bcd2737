//! The running service: binds a listener, builds the router the same way
//! for `main` and for tests, and serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::config::ApiConfig;
use crate::events::EventBus;
use crate::graphql::build_schema;
use crate::http::persisted::PersistedQueries;
use crate::http::{AppState, router};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
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
        let listener = TcpListener::bind(bind).await?;
        let min_audience_size = api.min_audience_size;
        let events = EventBus::for_database(&db, true).await.map_err(std::io::Error::other)?;
        let currency = api.currency.clone();
        let max_line_bytes = api.max_line_bytes;
        let limits = api.limits.clone();
        let persisted_queries = PersistedQueries::new(limits.apq_cache_size);
        let cors = crate::http::cors::layer(&api.cors_origins, api.cors_local);
        let schema = build_schema(db.clone(), api, events.clone());
        Ok(Self {
            listener,
            router: router(AppState {
                schema,
                db,
                min_audience_size,
                currency,
                max_line_bytes,
                events,
                auth,
                limits,
                persisted_queries,
                cors,
            }),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        // The peer address is what the rate limit counts unauthenticated requests by.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
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
