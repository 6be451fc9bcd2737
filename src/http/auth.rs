//! Authentication at the edge: the `Authorization: Bearer …` header becomes
//! a [`Viewer`] in the request's extensions. A request without a credential
//! passes on without one, so that health checks and the GraphiQL page work;
//! every handler that serves data refuses it with UNAUTHENTICATED.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::json_error;
use crate::auth::{AuthError, Authenticator};
use crate::graphql::error::code;

pub async fn authenticate(State(auth): State<Authenticator>, mut request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match auth.authenticate(header.as_deref()).await {
        Ok(viewer) => {
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        Err(AuthError::Missing) => next.run(request).await,
        Err(AuthError::Invalid) => unauthenticated(&AuthError::Invalid),
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
