//! Authentication at the edge: the `Authorization: Bearer …` header becomes
//! a [`Viewer`] in the request's extensions. A request without a credential
//! passes on without one, so that health checks and the GraphiQL page work;
//! every handler that serves data refuses it with UNAUTHENTICATED.
//! Refused credentials are counted per client address ([`AuthFailures`]):
//! past the limit, 429 without a database lookup.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::json_error;
use super::limits::{AuthFailures, peer_address, too_many};
use crate::auth::{AuthError, Authenticator};
use crate::graphql::error::code;

/// What the authentication layer needs.
#[derive(Clone)]
pub struct AuthLayer {
    pub auth: Authenticator,
    pub failures: AuthFailures,
}

pub async fn authenticate(State(layer): State<AuthLayer>, mut request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let address = peer_address(&request);
    if header.is_some()
        && let Some(retry_after) = layer.failures.blocked(address)
    {
        return too_many_failures(retry_after);
    }
    match layer.auth.authenticate(header.as_deref()).await {
        Ok(viewer) => {
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        Err(AuthError::Missing) => next.run(request).await,
        Err(AuthError::Invalid) => match layer.failures.refused(address) {
            Some(retry_after) => too_many_failures(retry_after),
            None => unauthenticated(&AuthError::Invalid),
        },
        Err(AuthError::Unavailable) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            code::INTERNAL,
            &AuthError::Unavailable.to_string(),
        ),
    }
}

/// 401 with the reason and a `WWW-Authenticate: Bearer` challenge.
pub fn unauthenticated(reason: &AuthError) -> Response {
    let mut response = json_error(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, &reason.to_string());
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn too_many_failures(retry_after: u64) -> Response {
    too_many(
        retry_after,
        &format!("too many refused credentials from this address: retry after {retry_after} s"),
    )
}
