//! Completing an executed response where async-graphql 7.2 falls short of
//! the GraphQL specification and of Accord's error contract:
//!
//! - **Every error carries a code.** An error that reaches the response
//!   without `extensions.code` is either an argument that failed to parse
//!   or a validator that refused it (async-graphql reports those without a
//!   code): it becomes BAD_USER_INPUT, with `extensions.field` naming the
//!   argument where the error's location points at one. Anything else is a
//!   bug: it is logged and shown as INTERNAL "internal error".
//! - **A failed field is null.** async-graphql leaves a failed field out of
//!   `data` (and does not propagate nulls). Following "Handling Field
//!   Errors" of the specification, the field becomes `null` when its type
//!   is nullable; when it is non-null, the null goes to the nearest
//!   nullable ancestor (a field or a list item), or makes `data` null. The
//!   key is appended to its object, so it may come after its siblings.
//!   async-graphql also answers `null` for an object all of whose selected
//!   fields failed (a customer read as `{ email }` by a role without PII
//!   access); such an object did resolve, so it is put back as an object
//!   first, and only the failed fields in it become null.
//!
//! HTTP completes what it executes; WebSocket runs the schema through
//! [`Completed`], which completes every response (query, mutation or each
//! subscription event) the same way.

use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet};
use async_graphql::{
    Data, ErrorExtensionValues, Executor, Name, PathSegment, Pos, Request, Response, ServerError, Value,
};
use futures::StreamExt;
use futures::stream::BoxStream;

use super::AccordSchema;
use super::error::code;
use super::shape::shape;

/// Whether `response` is a refusal before execution (the document did not
/// parse, validate or pass the limits): no data, and errors at no path.
pub fn failed_before_execution(response: &Response) -> bool {
    response.data == Value::Null && !response.errors.is_empty() && response.errors.iter().all(|e| e.path.is_empty())
}

/// `error` with `extensions.code` set to `error_code`, unless it has one.
pub fn with_code(mut error: ServerError, error_code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", error_code);
    }
    error
}

/// The schema as the WebSocket transport runs it: every response completed
/// as over HTTP (codes on every error, failed fields null, the rest of
/// `data` kept). The document is parsed once, here, and handed to the schema.
#[derive(Clone)]
pub struct Completed(pub AccordSchema);

impl Completed {
    fn prepared(request: Request) -> (Request, Option<Arc<ExecutableDocument>>) {
        let mut request = request;
        // Parsed once: the request keeps the document (a transport that
        // looked at the operation already parsed it).
        let document = request.parsed_query().ok().cloned().map(Arc::new);
        (request, document)
    }
}

/// Completes a response of `document` (when it parsed), or marks a refusal
/// before execution as HTTP does.
fn completed(mut response: Response, document: Option<&ExecutableDocument>, operation_name: Option<&str>) -> Response {
    if failed_before_execution(&response) {
        let refusal = match document {
            None => code::GRAPHQL_PARSE_FAILED,
            Some(_) => code::GRAPHQL_VALIDATION_FAILED,
        };
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|error| with_code(error, refusal))
            .collect();
    } else if let Some(document) = document {
        complete(&mut response, document, operation_name);
    }
    response
}

impl Executor for Completed {
    async fn execute(&self, request: Request) -> Response {
        let operation_name = request.operation_name.clone();
        let (request, document) = Self::prepared(request);
        let response = self.0.execute(request).await;
        completed(response, document.as_deref(), operation_name.as_deref())
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let operation_name = request.operation_name.clone();
        let (request, document) = Self::prepared(request);
        self.0
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |response| completed(response, document.as_deref(), operation_name.as_deref()))
            .boxed()
    }
}

/// Completes `response`, the result of running `operation_name` of `document`.
pub fn complete(response: &mut Response, document: &ExecutableDocument, operation_name: Option<&str>) {
    for error in &mut response.errors {
        give_code(error, document);
    }
    let Some(operation) = operation(document, operation_name) else {
        return;
    };
    // An error at a path means every object above it resolved: any of them
    // that is null had all its fields fail (down to `data` itself, when
    // every root field failed). Put them back before placing the nulls.
    for error in &response.errors {
        restore_resolved_objects(&mut response.data, &error.path);
    }
    let root = shape().root(operation.ty);
    for error in &response.errors {
        if error.path.is_empty() || !matches!(response.data, Value::Object(_)) {
            continue;
        }
        let non_null = path_nullability(document, root, &operation.selection_set.node, &error.path);
        null_failed_position(&mut response.data, &error.path, &non_null);
    }
}

fn operation<'a>(document: &'a ExecutableDocument, operation_name: Option<&str>) -> Option<&'a OperationDefinition> {
    document
        .operations
        .iter()
        .find(|(name, _)| operation_name.is_none() || name.map(|n| n.as_str()) == operation_name)
        .map(|(_, operation)| &operation.node)
}

fn give_code(error: &mut ServerError, document: &ExecutableDocument) {
    let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_some() {
        return;
    }
    let argument = error
        .locations
        .iter()
        .find_map(|location| argument_at(document, *location));
    let is_input_error = argument.is_some()
        || error.message.starts_with("Failed to parse \"")
        || error.message.starts_with("Expected input type \"");
    if is_input_error {
        extensions.set("code", code::BAD_USER_INPUT);
        if let Some(argument) = argument {
            extensions.set("field", argument);
        }
    } else {
        tracing::error!(message = %error.message, path = ?error.path, "an error without a code reached a response");
        error.message = "internal error".to_owned();
        extensions.set("code", code::INTERNAL);
    }
}

/// The name of the argument whose value is at `location`.
fn argument_at(document: &ExecutableDocument, location: Pos) -> Option<String> {
    fn in_set(set: &SelectionSet, location: Pos) -> Option<String> {
        set.items.iter().find_map(|item| match &item.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find(|(_, value)| value.pos == location)
                .map(|(name, _)| name.node.to_string())
                .or_else(|| in_set(&field.node.selection_set.node, location)),
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node, location),
            Selection::FragmentSpread(_) => None,
        })
    }
    document
        .operations
        .iter()
        .find_map(|(_, operation)| in_set(&operation.node.selection_set.node, location))
        .or_else(|| {
            document
                .fragments
                .values()
                .find_map(|fragment| in_set(&fragment.node.selection_set.node, location))
        })
}

/// For each segment of `path`, whether that position is non-null in the
/// schema (unknown positions count as nullable).
fn path_nullability(
    document: &ExecutableDocument,
    root: &str,
    selection_set: &SelectionSet,
    path: &[PathSegment],
) -> Vec<bool> {
    let shape = shape();
    let mut sets: Vec<(Option<&str>, &SelectionSet)> = vec![(Some(root), selection_set)];
    let mut list_levels: &[bool] = &[];
    let mut non_null = Vec::with_capacity(path.len());
    for segment in path {
        match segment {
            PathSegment::Index(_) => {
                non_null.push(list_levels.first().copied().unwrap_or(false));
                list_levels = list_levels.get(1..).unwrap_or(&[]);
            }
            PathSegment::Field(key) => {
                let mut found = Vec::new();
                for (type_name, set) in &sets {
                    fields_named(document, *type_name, set, key, &mut found, &mut Vec::new());
                }
                let field_type = found.iter().find_map(|(type_name, field)| {
                    type_name.and_then(|type_name| shape.field(type_name, field.name.node.as_str()))
                });
                non_null.push(field_type.is_some_and(|field_type| field_type.non_null[0]));
                list_levels = field_type.map_or(&[], |field_type| &field_type.non_null[1..]);
                let child_type = field_type.map(|field_type| field_type.named.as_str());
                sets = found
                    .into_iter()
                    .map(|(_, field)| (child_type, &field.selection_set.node))
                    .collect();
            }
        }
    }
    non_null
}

/// The fields of `set` (fragments included) whose response key is `key`,
/// each with the type it is selected on.
fn fields_named<'a>(
    document: &'a ExecutableDocument,
    type_name: Option<&'a str>,
    set: &'a SelectionSet,
    key: &str,
    found: &mut Vec<(Option<&'a str>, &'a Field)>,
    expanding: &mut Vec<&'a Name>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) if field.node.response_key().node == key => found.push((type_name, &field.node)),
            Selection::Field(_) => {}
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|condition| condition.node.on.node.as_str())
                    .or(type_name);
                fields_named(document, on, &fragment.node.selection_set.node, key, found, expanding);
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let Some(fragment) = document.fragments.get(name)
                    && !expanding.contains(&name)
                {
                    expanding.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    fields_named(
                        document,
                        Some(on),
                        &fragment.node.selection_set.node,
                        key,
                        found,
                        expanding,
                    );
                    expanding.pop();
                }
            }
        }
    }
}

/// Turns each `null` on `path` above its last segment that stands where an
/// object's field is looked up into an empty object: async-graphql answers
/// `null` for an object whose selected fields all failed, though the object
/// itself resolved (its fields ran, or there would be no error below it).
fn restore_resolved_objects(data: &mut Value, path: &[PathSegment]) {
    let mut node = data;
    for (position, segment) in path.iter().enumerate() {
        if *node == Value::Null && matches!(segment, PathSegment::Field(_)) {
            *node = Value::Object(Default::default());
        }
        if position + 1 == path.len() {
            return;
        }
        let child = match (node, segment) {
            (Value::Object(fields), PathSegment::Field(key)) => fields.get_mut(key.as_str()),
            (Value::List(items), PathSegment::Index(index)) => items.get_mut(*index),
            _ => None,
        };
        match child {
            Some(child) => node = child,
            // Left out: the field itself failed; placing its null is
            // [`null_failed_position`]'s job.
            None => return,
        }
    }
}

/// Puts the null of the failed position on `path` where the specification
/// wants it: the first position that is missing (or null where it must
/// not be), or its nearest nullable ancestor.
fn null_failed_position(data: &mut Value, path: &[PathSegment], non_null: &[bool]) {
    let mut node = &*data;
    let mut failed = None;
    for (position, segment) in path.iter().enumerate() {
        let child = match (node, segment) {
            (Value::Object(fields), PathSegment::Field(key)) => fields.get(key.as_str()),
            (Value::List(items), PathSegment::Index(index)) => items.get(*index),
            // The path does not fit the data: nothing sensible to do.
            _ => return,
        };
        let must_have_value = non_null.get(position).copied().unwrap_or(false);
        match child {
            None => {
                failed = Some(position);
                break;
            }
            Some(Value::Null) if must_have_value => {
                failed = Some(position);
                break;
            }
            // Already null where null may stand.
            Some(Value::Null) => return,
            Some(child) => node = child,
        }
    }
    let Some(failed) = failed else {
        return;
    };
    match (0..=failed)
        .rev()
        .find(|&position| !non_null.get(position).copied().unwrap_or(false))
    {
        Some(position) => set_null(data, &path[..=position]),
        None => *data = Value::Null,
    }
}

fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = data;
    for segment in parents {
        let child = match (node, segment) {
            (Value::Object(fields), PathSegment::Field(key)) => fields.get_mut(key.as_str()),
            (Value::List(items), PathSegment::Index(index)) => items.get_mut(*index),
            _ => None,
        };
        match child {
            Some(child) => node = child,
            None => return,
        }
    }
    match (node, last) {
        (Value::Object(fields), PathSegment::Field(key)) => {
            fields.insert(Name::new(key), Value::Null);
        }
        (Value::List(items), PathSegment::Index(index)) => {
            if let Some(item) = items.get_mut(*index) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(query: &str, data: serde_json::Value, path: serde_json::Value) -> serde_json::Value {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let mut response = Response::new(Value::from_json(data).expect("data"));
        let mut error = ServerError::new("refused", None);
        error.path = serde_json::from_value(path).expect("a path");
        response.errors.push(error);
        complete(&mut response, &document, None);
        serde_json::to_value(&response.data).expect("JSON")
    }

    #[test]
    fn a_failed_nullable_field_is_null() {
        let data = completed(
            "{ account(externalId: \"A1\") { name } }",
            serde_json::json!({}),
            serde_json::json!(["account"]),
        );
        assert_eq!(data, serde_json::json!({ "account": null }));
        // async-graphql answers `data: null` when every root field failed.
        let data = completed(
            "{ account(externalId: \"A1\") { name } }",
            serde_json::Value::Null,
            serde_json::json!(["account"]),
        );
        assert_eq!(data, serde_json::json!({ "account": null }));
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_ancestor() {
        // Account.customers is CustomerConnection!: its null goes to `account`.
        let data = completed(
            "{ a: account(externalId: \"A1\") { name customers(first: 501) { totalCount } } }",
            serde_json::json!({ "a": { "name": "Acme" } }),
            serde_json::json!(["a", "customers"]),
        );
        assert_eq!(data, serde_json::json!({ "a": null }));
        // Query.accounts is AccountConnection!, so nothing but data can be null.
        let data = completed(
            "{ accounts(first: 501) { totalCount } }",
            serde_json::json!({}),
            serde_json::json!(["accounts"]),
        );
        assert_eq!(data, serde_json::Value::Null);
    }

    #[test]
    fn an_object_whose_fields_all_failed_is_an_object_with_null_fields() {
        // async-graphql answers the customer of `{ email }` as null when
        // email is refused; nodes is [Customer!]!, so that null used to
        // reach `data`, losing `a`.
        let data = completed(
            "{ a: customers(first: 1) { totalCount } b: customers(first: 1) { nodes { email } } }",
            serde_json::json!({ "a": { "totalCount": 2 }, "b": { "nodes": [null] } }),
            serde_json::json!(["b", "nodes", 0, "email"]),
        );
        assert_eq!(
            data,
            serde_json::json!({ "a": { "totalCount": 2 }, "b": { "nodes": [{ "email": null }] } })
        );
        // The same in a nested list.
        let data = completed(
            "{ account(externalId: \"A1\") { customers { nodes { email } } } }",
            serde_json::json!({ "account": { "customers": { "nodes": [null] } } }),
            serde_json::json!(["account", "customers", "nodes", 0, "email"]),
        );
        assert_eq!(
            data,
            serde_json::json!({ "account": { "customers": { "nodes": [{ "email": null }] } } })
        );
    }

    #[test]
    fn uncoded_argument_errors_become_bad_user_input_naming_the_argument() {
        let query = "{ accounts(first: -180794302154691) { totalCount } }";
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let mut response = Response::new(Value::Null);
        response.errors.push(ServerError::new(
            "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
            Some(Pos { line: 1, column: 19 }),
        ));
        response.errors.push(ServerError::new("Data `X` does not exist.", None));
        complete(&mut response, &document, None);
        let errors = serde_json::to_value(&response.errors).expect("JSON");
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(errors[0]["extensions"]["field"], "first");
        assert_eq!(errors[1]["extensions"]["code"], "INTERNAL");
        assert_eq!(errors[1]["message"], "internal error");
    }
}
