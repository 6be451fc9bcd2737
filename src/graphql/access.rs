//! The access rules of DESIGN.md §5, applied to every field before it
//! resolves, and the audit trail of every mutation.
//!
//! One place decides who may resolve what, so that a new root field or a
//! new edge cannot forget its check:
//! - `Query.insights` (aggregates) is for every role but INGEST;
//! - every other root query field, every subscription, and every edge to a
//!   record (a node type or a connection of them) needs record access, which
//!   DASHBOARD and INGEST lack;
//! - mutations check their own, finer permissions in their resolvers
//!   (`Viewer::may_write`, `may_manage_segments`, `may_merge_customers`);
//! - PII fields are masked by their resolvers (null plus a FORBIDDEN error).
//!
//! Introspection fields are left to the schema's introspection settings.

use async_graphql::extensions::ResolveInfo;
use async_graphql::{ErrorExtensions, ServerError, Value, Variables};
use sea_orm::DatabaseConnection;

use crate::auth::Viewer;
use crate::error::Error;

/// The object types that are records (or lists of them): reading them needs
/// record access.
const RECORD_TYPES: [&str; 15] = [
    "Account",
    "Customer",
    "Product",
    "Order",
    "OrderLine",
    "Campaign",
    "Touchpoint",
    "Lead",
    "Survey",
    "SurveyResponse",
    "ProductTest",
    "ProductTestVote",
    "BrandMention",
    "Segment",
    "Node",
];

/// The root query fields that serve aggregates only.
const AGGREGATE_ROOT_FIELDS: [&str; 1] = ["insights"];

/// Why `viewer` may not resolve the field of `info`, if it may not.
fn refusal(viewer: &Viewer, info: &ResolveInfo<'_>) -> Option<String> {
    if info.is_for_introspection || info.name.starts_with("__") || info.name.starts_with('_') {
        return None;
    }
    let allowed = match info.parent_type {
        "Query" if AGGREGATE_ROOT_FIELDS.contains(&info.name) => viewer.may_read_insights(),
        "Query" | "Subscription" => viewer.may_read_records(),
        "Mutation" => true,
        _ => !returns_records(info.return_type) || viewer.may_read_records(),
    };
    (!allowed).then(|| format!("role {} may not read {}.{}", viewer.role, info.parent_type, info.name))
}

/// Whether a field of this (qualified) return type hands out records.
fn returns_records(return_type: &str) -> bool {
    let named = return_type.trim_matches(|c| matches!(c, '[' | ']' | '!'));
    named.ends_with("Connection") || RECORD_TYPES.contains(&named)
}

/// A mutation to write to the audit log once it has succeeded.
pub struct Audit {
    action: String,
    target: String,
}

impl Audit {
    pub async fn record(self, db: Option<&DatabaseConnection>, viewer: &Viewer) {
        if let Some(db) = db {
            crate::auth::audit::record(db, viewer, &self.action, self.target).await;
        }
    }
}

/// Whether `viewer` may resolve the field of `info`: a FORBIDDEN error if
/// not, and for a mutation what to audit once it succeeds. `variables` are
/// the request's, to name the mutation's target.
pub fn check(
    viewer: Option<&Viewer>,
    info: &ResolveInfo<'_>,
    variables: &Variables,
) -> Result<Option<Audit>, ServerError> {
    let Some(viewer) = viewer else {
        return Err(ServerError::new("not authenticated", Some(info.field.name.pos)));
    };
    // The common case, decided without looking at the field: a viewer who
    // may read records may read every field but mutations (which are
    // audited), so nothing is left to check.
    if viewer.may_read_records() && info.parent_type != "Mutation" {
        return Ok(None);
    }
    if let Some(reason) = refusal(viewer, info) {
        let error = Error::Forbidden(reason).extend();
        let mut error = error.into_server_error(info.field.name.pos);
        error.path = path_of(info);
        return Err(error);
    }
    Ok((info.parent_type == "Mutation").then(|| Audit {
        action: info.name.to_owned(),
        target: target(info, variables),
    }))
}

/// What a mutation acts on, named without personal data: ids, the input's
/// `externalId`, or the size of a batch.
fn target(info: &ResolveInfo<'_>, variables: &Variables) -> String {
    let mut parts = Vec::new();
    for (name, value) in &info.field.arguments {
        let Ok(value) = value
            .node
            .clone()
            .into_const_with(|variable| variables.get(&variable).cloned().ok_or(()))
        else {
            continue;
        };
        let shown = match (name.node.as_str(), value) {
            (_, Value::String(id)) => Some(id),
            (_, Value::Object(fields)) => fields.get("externalId").and_then(|id| match id {
                Value::String(id) => Some(format!("externalId {id}")),
                _ => None,
            }),
            (_, Value::List(items)) => Some(format!("{} records", items.len())),
            _ => None,
        };
        if let Some(shown) = shown {
            parts.push(format!("{}: {shown}", name.node));
        }
    }
    parts.join(", ")
}

fn path_of(info: &ResolveInfo<'_>) -> Vec<async_graphql::PathSegment> {
    // Field names never start with a digit, so a number is a list index.
    (*info.path_node)
        .to_string_vec()
        .into_iter()
        .map(|segment| match segment.parse::<usize>() {
            Ok(index) => async_graphql::PathSegment::Index(index),
            Err(_) => async_graphql::PathSegment::Field(segment),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_who_may_read_records_may_read_every_query_field() {
        // The shortcut of `check` skips `refusal` for such viewers.
        for role in entity::enums::Role::ALL.iter().copied() {
            let viewer = Viewer {
                role,
                ..Viewer::unauthenticated_admin()
            };
            assert!(!viewer.may_read_records() || viewer.may_read_insights(), "{role:?}");
        }
    }

    #[test]
    fn record_types_and_their_connections_are_records() {
        assert!(returns_records("Customer"));
        assert!(returns_records("[Customer!]!"));
        assert!(returns_records("CustomerConnection!"));
        assert!(returns_records("Node"));
        assert!(!returns_records("Int!"));
        assert!(!returns_records("Retention!"));
    }
}
