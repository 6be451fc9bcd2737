//! GraphQL over WebSocket at `/graphql/ws`: graphql-transport-ws, and the
//! older subscriptions-transport-ws (whose subprotocol is named `graphql-ws`).
//! async-graphql speaks the protocol; this module owns the connection, so
//! that a WebSocket gets the limits HTTP has:
//!
//! - **Credentials.** The `Authorization` header of the upgrade request, or
//!   else the `connection_init` payload (`{"Authorization": "Bearer …"}`),
//!   as browsers cannot set headers on a WebSocket — also where requests
//!   without a credential run as ADMIN (`serve --demo`): a key sent there
//!   is used for its role. A refused init closes with 4403 Forbidden, and
//!   refused credentials count against the address as over HTTP (past the
//!   limit, 4429).
//! - **Size.** A message is one request: one larger than the HTTP body
//!   limit is not read, and the connection closes with 1009 (Message Too Big).
//! - **Per operation.** Each `subscribe` draws on the client's rate-limit
//!   bucket (the one HTTP requests use) and runs through the same query
//!   limits (depth, selections, cost); a query or mutation runs on a task of
//!   its own under the request deadline. A refusal is that operation's
//!   error (`extensions.code` LIMIT_EXCEEDED, with `retryAfter` seconds for
//!   the rate limit); the connection stays open.
//! - **Refusals are `error` messages.** Under graphql-transport-ws, an
//!   operation refused before it ran (it did not parse or validate, or the
//!   query limits, the rate limit or the cap on open operations refused it)
//!   is answered `{"type":"error","id":…,"payload":[GraphQL errors with
//!   extensions.code]}` and no `complete`, as the protocol says;
//!   async-graphql never sends `error`, so [`Operations`] marks such a
//!   response and [`Refusals`] turns its `next` and `complete` into that
//!   one message. An operation that ran answers `next` (with its errors,
//!   the deadline's too) and `complete`. The older protocol keeps `data`.
//! - **Per connection and key.** At most `ACCORD_WS_MAX_OPERATIONS`
//!   operations open on one connection (one more is refused alone), and
//!   `ACCORD_WS_MAX_CONNECTIONS_PER_KEY` connections per key (one more is
//!   closed with 4429).
//! - **Revocation and expiry.** A connection checks its credential every
//!   `ACCORD_WS_KEY_CHECK_MS`; once its key is revoked, or its JWT past
//!   `exp` plus the leeway (`ACCORD_JWT_LEEWAY_SECONDS`), it closes with
//!   4403, ending its subscriptions.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr as _;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols as Protocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, ServerError, Value};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::stream::BoxStream;
use futures::{SinkExt as _, StreamExt as _};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument as _;

use super::AppState;
use super::limits::Client;
use crate::auth::{AuthError, Viewer, keys};
use crate::graphql::error::code;
use crate::graphql::loaders::DbLoader;
use crate::graphql::response::{Completed, failed_before_execution};

/// Close codes of graphql-transport-ws and RFC 6455 this module sends.
mod close {
    /// RFC 6455: a message larger than the server reads.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// RFC 6455: the server could not go on (authentication unavailable).
    pub const INTERNAL: u16 = 1011;
    /// graphql-transport-ws: the init was refused, or the key was revoked.
    pub const FORBIDDEN: u16 = 4403;
    /// graphql-transport-ws "too many initialisation requests": here also too
    /// many connections for the key, or too many refused credentials.
    pub const TOO_MANY: u16 = 4429;
    /// What async-graphql closes every refused init with.
    pub const PROTOCOL_ERROR: u16 = 1002;
}

pub async fn websocket(
    State(state): State<AppState>,
    viewer: Option<Extension<Viewer>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = protocol_of(&headers) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // The upgrade's own credential decides; without one, connection_init's.
    let viewer = viewer
        .filter(|_| headers.contains_key(AUTHORIZATION))
        .map(|Extension(viewer)| viewer);
    let address = peer.map(|Extension(ConnectInfo(address))| address.ip());
    // The connection is served on a task of its own: keep the upgrade
    // request's span (and so its request id) on what it logs.
    let span = tracing::Span::current();
    let max_message_bytes = state.limits.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
        .on_upgrade(move |socket| serve(socket, state, viewer, address, protocol).instrument(span))
        .into_response()
}

/// The first GraphQL subprotocol the client offers.
fn protocol_of(headers: &HeaderMap) -> Option<Protocols> {
    headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| offered.split(',').find_map(|p| Protocols::from_str(p.trim()).ok()))
}

/// One connection's state, shared by its init, its operations and its loop.
struct Connection {
    state: AppState,
    address: Option<IpAddr>,
    /// Set by a successful init: whom the connection counts against, and its key.
    client: OnceLock<Credential>,
    /// The close code of a refused init.
    refusal: OnceLock<u16>,
    open_operations: Arc<AtomicU32>,
}

/// Who a connection runs as, from its init on.
struct Credential {
    client: Client,
    api_key_id: Option<i64>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why an init was refused: the close code and the reason sent with it.
struct Refusal {
    code: u16,
    reason: String,
}

impl Refusal {
    fn too_many_failures(retry_after: u64) -> Self {
        Self {
            code: close::TOO_MANY,
            reason: format!("too many refused credentials from this address: retry after {retry_after} s"),
        }
    }
}

impl Connection {
    /// Completes `connection_init`: the viewer and the connection's place
    /// among its key's, into the connection's data.
    async fn init(&self, viewer: Option<Viewer>, payload: serde_json::Value) -> async_graphql::Result<Data> {
        let viewer = match viewer {
            Some(viewer) => viewer,
            None => self
                .authenticate(&payload)
                .await
                .map_err(|refusal| self.refuse(refusal))?,
        };
        let client = Client::of(Some(&viewer), self.address);
        let connections = &self.state.ws_connections;
        let Some(place) = connections.open(client.clone()) else {
            return Err(self.refuse(Refusal {
                code: close::TOO_MANY,
                reason: format!(
                    "this key has {} WebSocket connections open, the most it may: close one first",
                    connections.max()
                ),
            }));
        };
        self.client
            .set(Credential {
                client,
                api_key_id: viewer.api_key_id,
                expires_at: viewer.expires_at,
            })
            .ok();
        let mut data = Data::default();
        data.insert(viewer);
        data.insert(place);
        Ok(data)
    }

    /// The viewer of a `connection_init` payload; refused credentials count
    /// against the address as over HTTP.
    async fn authenticate(&self, payload: &serde_json::Value) -> Result<Viewer, Refusal> {
        let credential = init_authorization(payload);
        let failures = &self.state.auth_failures;
        if credential.is_some()
            && let Some(retry_after) = failures.blocked(self.address)
        {
            return Err(Refusal::too_many_failures(retry_after));
        }
        match self.state.auth.authenticate(credential).await {
            Ok(viewer) => Ok(viewer),
            Err(AuthError::Invalid) => Err(match failures.refused(self.address) {
                Some(retry_after) => Refusal::too_many_failures(retry_after),
                None => Refusal {
                    code: close::FORBIDDEN,
                    reason: AuthError::Invalid.to_string(),
                },
            }),
            Err(error @ AuthError::Missing) => Err(Refusal {
                code: close::FORBIDDEN,
                reason: error.to_string(),
            }),
            Err(error @ AuthError::Unavailable) => Err(Refusal {
                code: close::INTERNAL,
                reason: error.to_string(),
            }),
        }
    }

    /// Notes the close code of a refused init; the error async-graphql
    /// closes the connection with (as 1002, rewritten in [`Self::close_code`]).
    fn refuse(&self, refusal: Refusal) -> async_graphql::Error {
        self.refusal.set(refusal.code).ok();
        async_graphql::Error::new(refusal.reason)
    }

    /// The code to close with when async-graphql closes with `code`.
    fn close_code(&self, code: u16) -> u16 {
        match self.refusal.get() {
            Some(refusal) if code == close::PROTOCOL_ERROR => *refusal,
            _ => code,
        }
    }

    /// Why the connection's credential no longer holds, if it does not: its
    /// key was revoked or its token expired since the init.
    async fn credential_ended(&self) -> Option<&'static str> {
        let credential = self.client.get()?;
        if credential.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return Some("the token expired");
        }
        let id = credential.api_key_id?;
        match keys::is_active(&self.state.db, id).await {
            Ok(active) => (!active).then_some("the API key was revoked"),
            Err(error) => {
                tracing::warn!(%error, key = id, "cannot check the key of a WebSocket connection");
                None
            }
        }
    }
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    viewer: Option<Viewer>,
    address: Option<IpAddr>,
    protocol: Protocols,
) {
    let max_message_bytes = state.limits.max_body_bytes;
    let mut key_check = tokio::time::interval(state.limits.ws_key_check());
    key_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut data = Data::default();
    data.insert(DbLoader::for_request(state.db.clone()));
    let schema = Completed(state.schema.clone());
    let connection = Arc::new(Connection {
        state,
        address,
        client: OnceLock::new(),
        refusal: OnceLock::new(),
        open_operations: Arc::default(),
    });
    let (mut sink, stream) = socket.split();
    // A read error ends the input; one for a message over the size limit is
    // answered with its own close code.
    let too_big = Arc::new(AtomicBool::new(false));
    let input = {
        let too_big = too_big.clone();
        stream
            .take_while(move |message| {
                if let Err(error) = message
                    && is_too_big(error)
                {
                    too_big.store(true, Ordering::Relaxed);
                }
                std::future::ready(message.is_ok())
            })
            .filter_map(|message| {
                std::future::ready(match message {
                    Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                    _ => None,
                })
            })
    };
    let operations = Operations {
        schema,
        connection: connection.clone(),
        mark_refusals: protocol == Protocols::GraphQLWS,
    };
    let mut refusals = Refusals::default();
    let init = {
        let connection = connection.clone();
        move |payload| async move { connection.init(viewer, payload).await }
    };
    let protocol_stream = async_graphql::http::WebSocket::new(operations, input, protocol)
        .connection_data(data)
        .on_connection_init(init);
    futures::pin_mut!(protocol_stream);
    // The first tick completes at once.
    key_check.tick().await;
    loop {
        let outgoing = tokio::select! {
            message = protocol_stream.next() => match message {
                Some(WsMessage::Text(text)) => match refusals.outgoing(text) {
                    Some(text) => Message::Text(text.into()),
                    None => continue,
                },
                Some(WsMessage::Close(code, reason)) => close_frame(connection.close_code(code), reason),
                None if too_big.load(Ordering::Relaxed) => close_frame(
                    close::MESSAGE_TOO_BIG,
                    format!("a message is larger than {max_message_bytes} bytes"),
                ),
                None => break,
            },
            _ = key_check.tick() => match connection.credential_ended().await {
                Some(reason) => close_frame(close::FORBIDDEN, reason.to_owned()),
                None => continue,
            },
        };
        let closing = matches!(outgoing, Message::Close(_));
        if sink.send(outgoing).await.is_err() || closing {
            break;
        }
    }
}

fn close_frame(code: u16, reason: String) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Whether a read failed because a message or frame was over the size limit.
fn is_too_big(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(tokio_tungstenite::tungstenite::Error::Capacity(_)) = error.downcast_ref() {
            return true;
        }
        source = error.source();
    }
    false
}

/// The credential of a `connection_init` payload, under either spelling.
fn init_authorization(payload: &serde_json::Value) -> Option<&str> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(|value| value.as_str()))
}

/// The extension [`Operations`] marks a refusal before execution with, for
/// [`Refusals`]; never sent.
const REFUSED: &str = "x-accord-refused-before-execution";

/// graphql-transport-ws's `error` message for operations refused before
/// they ran: the marked `next` is held back, and its operation's `complete`
/// (async-graphql sends it right after) is replaced by the `error`.
#[derive(Default)]
struct Refusals {
    /// The errors of refused operations whose `complete` is still to come, by id.
    pending: std::collections::HashMap<String, serde_json::Value>,
}

impl Refusals {
    /// What to send for `text`, the protocol's next message; `None`: nothing yet.
    fn outgoing(&mut self, text: String) -> Option<String> {
        if self.pending.is_empty() && !text.contains(REFUSED) {
            return Some(text);
        }
        let Ok(mut message) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Some(text);
        };
        let Some(id) = message["id"].as_str().map(str::to_owned) else {
            return Some(text);
        };
        match message["type"].as_str() {
            Some("next") if message["payload"]["extensions"].get(REFUSED).is_some() => {
                let errors = message["payload"]["errors"].take();
                self.pending.insert(id, errors);
                None
            }
            Some("complete") => match self.pending.remove(&id) {
                Some(errors) => Some(serde_json::json!({ "type": "error", "id": id, "payload": errors }).to_string()),
                None => Some(text),
            },
            _ => Some(text),
        }
    }
}

/// The schema as one connection runs it: each operation checked against
/// the connection's limits first.
#[derive(Clone)]
struct Operations {
    schema: Completed,
    connection: Arc<Connection>,
    /// Whether refusals before execution are marked for [`Refusals`]
    /// (graphql-transport-ws).
    mark_refusals: bool,
}

impl Operations {
    /// `response`, marked for [`Refusals`] when it is a refusal before execution.
    fn marked(&self, mut response: async_graphql::Response) -> async_graphql::Response {
        if self.mark_refusals && failed_before_execution(&response) {
            response.extensions.insert(REFUSED.to_owned(), Value::Boolean(true));
        }
        response
    }

    fn refused(&self, message: String, retry_after: Option<u64>) -> BoxStream<'static, async_graphql::Response> {
        let response = self.marked(refusal(message, retry_after));
        futures::stream::once(std::future::ready(response)).boxed()
    }
}

impl Executor for Operations {
    async fn execute(&self, request: Request) -> async_graphql::Response {
        self.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let state = &self.connection.state;
        if let (Some(rate_limit), Some(credential)) = (&state.rate_limit, self.connection.client.get())
            && let Some(retry_after) = rate_limit.check(&credential.client)
        {
            return self.refused(
                format!("too many requests: retry after {retry_after} s"),
                Some(retry_after),
            );
        }
        let max = state.limits.ws_max_operations;
        let Some(open) = OpenOperation::enter(&self.connection.open_operations, max) else {
            return self.refused(
                format!("this connection has {max} operations open, the most it may: complete one first"),
                None,
            );
        };
        let operation_name = request.operation_name.clone();
        let is_subscription = request
            .parsed_query()
            .ok()
            .and_then(|document| super::graphql::operation_type(document, operation_name.as_deref()))
            == Some(OperationType::Subscription);
        let mut responses = self.schema.execute_stream(request, session_data);
        let operations = self.clone();
        if is_subscription {
            // Open for as long as its events flow; only its first response can be a refusal.
            let mut first = true;
            return responses
                .map(move |response| {
                    let _open = &open;
                    if std::mem::take(&mut first) {
                        operations.marked(response)
                    } else {
                        response
                    }
                })
                .boxed();
        }
        // A query or mutation: on a task of its own under the request
        // deadline, as over HTTP; aborted when the client completes it.
        let deadline = state.limits.request_timeout();
        let ends_at = std::time::Instant::now() + deadline;
        let execution = AbortOnDropHandle::new(tokio::spawn(
            crate::db::deadline::scope(ends_at, async move { responses.next().await })
                .instrument(tracing::Span::current()),
        ));
        futures::stream::once(async move {
            let _open = open;
            match tokio::time::timeout(deadline, execution).await {
                Ok(Ok(Some(response))) => operations.marked(response),
                Ok(Ok(None) | Err(_)) => coded_response(ServerError::new("internal error", None), code::INTERNAL),
                Err(_) => coded_response(
                    ServerError::new(
                        format!(
                            "the request ran past its deadline of {} ms and was stopped",
                            deadline.as_millis()
                        ),
                        None,
                    ),
                    code::LIMIT_EXCEEDED,
                ),
            }
        })
        .boxed()
    }
}

/// An operation refused before it ran.
fn refusal(message: String, retry_after: Option<u64>) -> async_graphql::Response {
    let mut error = ServerError::new(message, None);
    if let Some(retry_after) = retry_after {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("retryAfter", retry_after);
    }
    coded_response(error, code::LIMIT_EXCEEDED)
}

fn coded_response(mut error: ServerError, error_code: &str) -> async_graphql::Response {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", error_code);
    async_graphql::Response::from_errors(vec![error])
}

/// One open operation of a connection; dropping it frees its place.
struct OpenOperation(Arc<AtomicU32>);

impl OpenOperation {
    fn enter(open: &Arc<AtomicU32>, max: u32) -> Option<Self> {
        open.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
            (count < max).then_some(count + 1)
        })
        .ok()?;
        Some(Self(open.clone()))
    }
}

impl Drop for OpenOperation {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
