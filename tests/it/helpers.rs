//! `TestApp`: a migrated database of its own, the real router served on
//! `127.0.0.1:0`, an HTTP client, and a counter of the SQL statements the
//! server runs.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use accord::app::Application;
use accord::auth::Authenticator;
use accord::config::{ApiConfig, DatabaseConfig};
use accord::ingest::{ImportOptions, import_path};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Runs a test body once per backend: `sqlite` always, `postgres` when
/// `ACCORD_TEST_POSTGRES_URL` is set. `test with config` serves the test
/// with the `ApiConfig` that the function `config` of the test's module
/// returns; `secured: a, b` serves them with API keys required.
macro_rules! on_both_backends {
    (@spawn $backend:expr) => { $crate::helpers::TestApp::spawn($backend) };
    (@spawn $backend:expr, $config:ident) => { $crate::helpers::TestApp::spawn_with($backend, super::$config()) };
    (secured: $($test:ident),+ $(,)?) => {
        $(mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = $crate::helpers::Backend::Sqlite;
                super::$test($crate::helpers::TestApp::spawn_secured(backend).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    eprintln!("ACCORD_TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
                    return;
                }
                let backend = $crate::helpers::Backend::Postgres;
                super::$test($crate::helpers::TestApp::spawn_secured(backend).await).await;
            }
        })+
    };
    ($($test:ident $(with $config:ident)?),+ $(,)?) => {
        $(mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = $crate::helpers::Backend::Sqlite;
                super::$test($crate::helpers::on_both_backends!(@spawn backend $(, $config)?).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    eprintln!("ACCORD_TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
                    return;
                }
                let backend = $crate::helpers::Backend::Postgres;
                super::$test($crate::helpers::on_both_backends!(@spawn backend $(, $config)?).await).await;
            }
        })+
    };
}
pub(crate) use on_both_backends;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_url() -> Option<String> {
    std::env::var("ACCORD_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
}

/// Every record of one golden fixture file (`orders.ndjson`), parsed.
pub fn golden_records(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(golden_dir().join(file)).expect("fixture is readable");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("fixture lines are JSON"))
        .collect()
}

/// The golden fixture's expected values.
pub fn expected() -> Value {
    expected_file("expected.json")
}

/// The golden fixture's expected values of the dashboard metrics (series,
/// predictive CLV, W_SHAPED and MARKOV attribution).
pub fn expected_v2() -> Value {
    expected_file("expected-v2.json")
}

fn expected_file(name: &str) -> Value {
    let text = std::fs::read_to_string(golden_dir().join(name)).expect("expected file is readable");
    serde_json::from_str(&text).expect("expected file is JSON")
}

/// Where a test's database lives, and how to remove it afterwards.
enum Scratch {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Scratch::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let shown = name.clone();
            // Drop runs outside async code (and maybe during a panic):
            // remove the database from a thread with its own runtime.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async move {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await
                        .ok()
                })
            })
            .join();
            if !matches!(dropped, Ok(Some(_))) {
                eprintln!("could not drop test database {shown}");
            }
        }
    }
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// The database URL, for a second instance or a server process.
    pub database_url: String,
    statements: Arc<AtomicUsize>,
    /// The text of every statement run since the last [`TestApp::take_statements`].
    statement_texts: Arc<Mutex<Vec<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
    // Declared last: dropped after the server and pool are gone.
    _scratch: Scratch,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, ApiConfig::default()).await
    }

    /// A server with its own configuration (limits, introspection…).
    pub async fn spawn_with(backend: Backend, api: ApiConfig) -> TestApp {
        Self::spawn_full(backend, api, false, None).await
    }

    /// A server that refuses requests without an API key, as production does.
    pub async fn spawn_secured(backend: Backend) -> TestApp {
        Self::spawn_full(backend, ApiConfig::default(), true, None).await
    }

    /// A server that also accepts JWTs `jwt` verifies.
    pub async fn spawn_with_jwt(backend: Backend, api: ApiConfig, jwt: accord::auth::jwt::JwtVerifier) -> TestApp {
        Self::spawn_full(backend, api, false, Some(jwt)).await
    }

    async fn spawn_full(
        backend: Backend,
        api: ApiConfig,
        secured: bool,
        jwt: Option<accord::auth::jwt::JwtVerifier>,
    ) -> TestApp {
        let (url, scratch) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("accord.db").display());
                (url, Scratch::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("ACCORD_TEST_POSTGRES_URL");
                let name = format!("accord_test_{}", uuid_like());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("PostgreSQL reachable at ACCORD_TEST_POSTGRES_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                (url, Scratch::Postgres { admin_url, name })
            }
        };
        let config = DatabaseConfig {
            url: url.clone(),
            max_connections: 5,
            statement_timeout_ms: 30_000,
        };
        let mut db = accord::db::connect(&config).await.expect("connect");
        accord::db::migrate(&db).await.expect("migrations apply");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let statement_texts = Arc::new(Mutex::new(Vec::new()));
        let texts = statement_texts.clone();
        let trace = std::env::var_os("ACCORD_TEST_TRACE_SQL").is_some();
        db.set_metric_callback(move |info| {
            if trace {
                eprintln!("SQL: {}", info.statement.sql);
            }
            counter.fetch_add(1, Ordering::SeqCst);
            texts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(info.statement.sql.clone());
        });
        let auth = Authenticator::new(db.clone(), secured, jwt);
        let app = Application::build_with_auth("127.0.0.1:0", db.clone(), api, auth)
            .await
            .expect("bind");
        let (base_url, shutdown) = serve(app);
        TestApp {
            base_url,
            client: reqwest::Client::new(),
            db,
            backend,
            database_url: url,
            statements,
            statement_texts,
            shutdown: Some(shutdown),
            _scratch: scratch,
        }
    }

    /// A second server instance on the same database, with its own pool
    /// and event listener, as another machine behind a load balancer.
    pub async fn peer(&self) -> Peer {
        self.peer_with(ApiConfig::default()).await
    }

    /// Like [`TestApp::peer`], configured with `api`.
    pub async fn peer_with(&self, api: ApiConfig) -> Peer {
        let config = DatabaseConfig {
            url: self.database_url.clone(),
            max_connections: 5,
            statement_timeout_ms: 30_000,
        };
        let db = accord::db::connect(&config).await.expect("connect");
        let app = Application::build("127.0.0.1:0", db, api).await.expect("bind");
        let (base_url, shutdown) = serve(app);
        Peer {
            base_url,
            _shutdown: shutdown,
        }
    }

    /// POSTs an NDJSON body to `/ingest/{entity}` on `base_url`.
    pub async fn bulk(&self, base_url: &str, entity: &str, query: &str, body: String) -> (u16, Value) {
        status_and_json(
            self.client
                .post(format!("{base_url}/ingest/{entity}{query}"))
                .header("content-type", "application/x-ndjson")
                .body(body),
        )
        .await
    }

    /// Imports the golden fixture through the real import path.
    pub async fn import_golden(&self) {
        let report = import_path(self.db.clone(), &golden_dir(), &ImportOptions::default())
            .await
            .expect("import");
        assert!(
            report.ingest.rejected.is_empty(),
            "golden fixture rejected: {:?}",
            report.ingest.rejected
        );
    }

    /// POSTs a GraphQL request and returns the status and JSON body.
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        status_and_json(
            self.client
                .post(format!("{}/graphql", self.base_url))
                .json(&json!({ "query": query, "variables": variables })),
        )
        .await
    }

    /// POSTs a GraphQL request with `Authorization: Bearer <key>`.
    pub async fn post_as(&self, key: &str, query: &str, variables: Value) -> (u16, Value) {
        status_and_json(
            self.client
                .post(format!("{}/graphql", self.base_url))
                .bearer_auth(key)
                .json(&json!({ "query": query, "variables": variables })),
        )
        .await
    }

    /// POSTs any JSON body to `/graphql` and returns the status and JSON body.
    pub async fn post_body(&self, body: Value) -> (u16, Value) {
        status_and_json(self.client.post(format!("{}/graphql", self.base_url)).json(&body)).await
    }

    /// POSTs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// SQL statements run since the last call.
    pub fn take_statement_count(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    /// The SQL text of each statement run since the last call, in order.
    pub fn take_statements(&self) -> Vec<String> {
        std::mem::take(&mut *self.statement_texts.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Serves `app` in the background; it stops when the sender is dropped or sent to.
fn serve(app: Application) -> (String, oneshot::Sender<()>) {
    let base_url = format!("http://{}", app.local_addr().expect("local address"));
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        stopped.await.ok();
    }));
    (base_url, shutdown)
}

/// Sends `request` and returns the status and the JSON body.
async fn status_and_json(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Another server instance; it stops when dropped.
pub struct Peer {
    pub base_url: String,
    _shutdown: oneshot::Sender<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.send(()).ok();
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let without_path = match base.rfind('/') {
        Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => &base[..slash],
        _ => base,
    };
    format!("{without_path}/{name}{query}")
}

fn uuid_like() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        nanos % 1_000_000_000
    )
}
