//! The schema itself is not for every viewer. `__schema`, `__type` and
//! the federation fields `_service` (the subgraph SDL) and `_entities` are
//! refused with FORBIDDEN unless the request's [`Viewer`] may introspect
//! ([`Viewer::may_introspect`]); a request without a viewer is refused too.
//! `__typename` stays open: clients need it to tell union members apart.

use async_graphql::extensions::ResolveInfo;
use async_graphql::{PathSegment, ServerError};

use crate::auth::Viewer;
use crate::graphql::error::code;

/// Root fields that describe the schema rather than the data.
const SCHEMA_FIELDS: [&str; 4] = ["__schema", "__type", "_service", "_entities"];

/// Refuses the schema's own root field of `info` (a root field) to a
/// viewer that may not introspect.
pub fn check(viewer: Option<&Viewer>, info: &ResolveInfo<'_>) -> Result<(), ServerError> {
    if !SCHEMA_FIELDS.contains(&info.name) || viewer.is_some_and(Viewer::may_introspect) {
        return Ok(());
    }
    let mut error = ServerError::new(
        format!("forbidden: your role may not read the schema (`{}`)", info.name),
        None,
    );
    // A path marks the error as one of execution (200 with `data`), not a
    // request the HTTP layer refuses as invalid.
    error.path = vec![PathSegment::Field(info.alias.unwrap_or(info.name).to_owned())];
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::FORBIDDEN);
    Err(error)
}
