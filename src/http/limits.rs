//! Limits enforced before a request reaches its handler: the size of its
//! body (413), the rate of requests of one client (429 with
//! `Retry-After`) and the rate of refused credentials of one address
//! ([`AuthFailures`], 429 too). All answer with a JSON error body whose
//! `extensions.code` is LIMIT_EXCEEDED.
//!
//! **Who is a client.** A request that authenticated with an API key is
//! counted against that key: the authentication layer puts a
//! [`Viewer`] with its `api_key_id` into the request's extensions, so it
//! must wrap the rate limit (be added to the router after it). Any other
//! request is counted against the peer address of its connection (the
//! server is started with `ConnectInfo`); where that is unknown (a router
//! used without a listener), all such requests share one bucket. Behind a
//! reverse proxy every unauthenticated client shares the proxy's address:
//! `X-Forwarded-For` is not trusted, since any client can send it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tower_http::limit::RequestBodyLimitLayer;

use super::json_error;
use crate::auth::Viewer;
use crate::config::LimitsConfig;
use crate::graphql::error::code;

/// Limits the size of request bodies to `max_body_bytes`; a larger one
/// is answered 413 with a JSON error.
pub fn limit_body<S: Clone + Send + Sync + 'static>(router: Router<S>, config: &LimitsConfig) -> Router<S> {
    router
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(middleware::map_response_with_state(
            config.max_body_bytes,
            too_large_as_json,
        ))
}

/// Limits the rate of requests per client with `rate_limit` (none when the
/// configuration turns it off). WebSocket operations draw on the same buckets.
pub fn limit_rate<S: Clone + Send + Sync + 'static>(router: Router<S>, rate_limit: Option<RateLimit>) -> Router<S> {
    match rate_limit {
        Some(rate_limit) => router.layer(middleware::from_fn_with_state(rate_limit, enforce)),
        None => router,
    }
}

/// The body limit answers with a plain-text 413 (or an empty one); this
/// gives it the JSON error body every other refusal has.
async fn too_large_as_json(State(max_body_bytes): State<usize>, response: Response) -> Response {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::LIMIT_EXCEEDED,
        &format!("the request body is larger than {max_body_bytes} bytes"),
    )
}

/// Whom a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Client {
    ApiKey(i64),
    Address(IpAddr),
    /// Requests whose peer address is unknown share one bucket.
    Unidentified,
}

/// How often the limiter forgets clients that are back to a full bucket.
const CHECKS_BETWEEN_CLEANUPS: u64 = 4096;

/// Requests per minute per client (governor's keyed limiter). Cheap to clone.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<Client>>,
    checks: Arc<AtomicU64>,
}

impl RateLimit {
    /// The limit of the configuration; `None` when it turns rate limiting off.
    pub fn new(config: &LimitsConfig) -> Option<Self> {
        let per_minute = NonZeroU32::new(config.rate_limit_per_minute)?;
        let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Some(Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            checks: Arc::new(AtomicU64::new(0)),
        })
    }

    /// `None` when the request may go on, else how many seconds to wait.
    pub fn check(&self, client: &Client) -> Option<u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CHECKS_BETWEEN_CLEANUPS == CHECKS_BETWEEN_CLEANUPS - 1 {
            // The keyed store keeps every client it saw; drop those whose
            // bucket has refilled, so memory follows the active clients.
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        match self.limiter.check_key(client) {
            Ok(()) => None,
            Err(not_until) => Some(whole_seconds(not_until.wait_time_from(DefaultClock::default().now()))),
        }
    }
}

/// Refused credentials per client address. Each refusal cost a database
/// lookup; past `auth_failures_per_minute`, the address is refused with 429
/// for the wait the limiter gives, without looking its credentials up.
#[derive(Clone)]
pub struct AuthFailures {
    limiter: Arc<DefaultKeyedRateLimiter<Option<IpAddr>>>,
    blocked: Arc<Mutex<HashMap<Option<IpAddr>, Instant>>>,
}

impl AuthFailures {
    pub fn new(config: &LimitsConfig) -> Self {
        let per_minute = NonZeroU32::new(config.auth_failures_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute))),
            blocked: Arc::default(),
        }
    }

    /// The seconds `address` must still wait, when it is refused for now.
    pub fn blocked(&self, address: Option<IpAddr>) -> Option<u64> {
        let mut blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&address)?;
        let now = Instant::now();
        if until <= now {
            blocked.remove(&address);
            return None;
        }
        Some(whole_seconds(until - now))
    }

    /// Notes a refused credential from `address`; the seconds to wait when
    /// that was one too many.
    pub fn refused(&self, address: Option<IpAddr>) -> Option<u64> {
        let not_until = self.limiter.check_key(&address).err()?;
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        if let Ok(mut blocked) = self.blocked.lock() {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
            blocked.insert(address, now + wait);
        }
        Some(whole_seconds(wait))
    }
}

/// A wait in whole seconds, rounded up, at least one.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The peer address of a request's connection, when known.
pub fn peer_address(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

/// 429 with `Retry-After`.
pub fn too_many(retry_after: u64, message: &str) -> Response {
    let mut response = json_error(StatusCode::TOO_MANY_REQUESTS, code::LIMIT_EXCEEDED, message);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn client_of(request: &Request) -> Client {
    Client::of(request.extensions().get::<Viewer>(), peer_address(request))
}

impl Client {
    /// The key of `viewer`, or else `address`.
    pub fn of(viewer: Option<&Viewer>, address: Option<IpAddr>) -> Self {
        if let Some(api_key_id) = viewer.and_then(|viewer| viewer.api_key_id) {
            return Client::ApiKey(api_key_id);
        }
        match address {
            Some(address) => Client::Address(address),
            None => Client::Unidentified,
        }
    }
}

/// Connections open per client (WebSocket), with a maximum each.
#[derive(Clone)]
pub struct OpenConnections {
    open: Arc<Mutex<HashMap<Client, u32>>>,
    max: u32,
}

impl OpenConnections {
    pub fn new(max: u32) -> Self {
        Self {
            open: Arc::default(),
            max,
        }
    }

    /// A place for one more connection of `client`, held until dropped;
    /// `None` when the client has the most it may.
    pub fn open(&self, client: Client) -> Option<OpenConnection> {
        let mut open = self.open.lock().ok()?;
        let count = open.entry(client.clone()).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(OpenConnection {
            open: self.open.clone(),
            client,
        })
    }

    /// The most connections one client may have open.
    pub fn max(&self) -> u32 {
        self.max
    }
}

/// One open connection of a client; dropping it closes its place.
pub struct OpenConnection {
    open: Arc<Mutex<HashMap<Client, u32>>>,
    client: Client,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(count) = open.get_mut(&self.client)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

async fn enforce(State(rate_limit): State<RateLimit>, request: Request, next: Next) -> Response {
    let Some(retry_after) = rate_limit.check(&client_of(&request)) else {
        return next.run(request).await;
    };
    too_many(retry_after, &format!("too many requests: retry after {retry_after} s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_burst_waits_and_others_do_not() {
        let config = LimitsConfig {
            rate_limit_per_minute: 2,
            rate_limit_burst: 2,
            ..LimitsConfig::default()
        };
        let rate_limit = RateLimit::new(&config).expect("on");
        let key = Client::ApiKey(7);
        assert_eq!(rate_limit.check(&key), None);
        assert_eq!(rate_limit.check(&key), None);
        let wait = rate_limit.check(&key).expect("over the burst");
        assert!((1..=30).contains(&wait), "{wait}");
        assert_eq!(rate_limit.check(&Client::ApiKey(8)), None);
        let connections = OpenConnections::new(1);
        let first = connections.open(key.clone()).expect("a place");
        assert!(connections.open(key.clone()).is_none());
        assert!(connections.open(Client::ApiKey(8)).is_some());
        drop(first);
        assert!(connections.open(key).is_some());
        let off = LimitsConfig {
            rate_limit_per_minute: 0,
            ..LimitsConfig::default()
        };
        assert!(RateLimit::new(&off).is_none());
    }
}
