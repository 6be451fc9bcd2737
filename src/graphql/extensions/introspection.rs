//! The schema itself is not for every viewer. `__schema`, `__type` and
//! the federation fields `_service` (the subgraph SDL) and `_entities` are
//! refused with FORBIDDEN unless the request's [`Viewer`] may introspect
//! ([`Viewer::may_introspect`]); a request without a viewer is refused too.
//! `__typename` stays open: clients need it to tell union members apart.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, ServerError, ServerResult, Value};

use crate::auth::Viewer;
use crate::graphql::error::code;

/// Root fields that describe the schema rather than the data.
const SCHEMA_FIELDS: [&str; 4] = ["__schema", "__type", "_service", "_entities"];

/// Refuses the schema's own root fields to viewers that may not introspect.
pub struct SchemaAccess;

impl ExtensionFactory for SchemaAccess {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SchemaAccessExtension)
    }
}

struct SchemaAccessExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for SchemaAccessExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let is_root = info.path_node.parent.is_none();
        if is_root && SCHEMA_FIELDS.contains(&info.name) {
            let allowed = ctx.data_opt::<Viewer>().is_some_and(Viewer::may_introspect);
            if !allowed {
                let mut error = ServerError::new(
                    format!("forbidden: your role may not read the schema (`{}`)", info.name),
                    None,
                );
                // A path marks the error as one of execution (200 with
                // `data`), not a request the HTTP layer refuses as invalid.
                error.path = vec![PathSegment::Field(info.alias.unwrap_or(info.name).to_owned())];
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::FORBIDDEN);
                return Err(error);
            }
        }
        next.run(ctx, info).await
    }
}
