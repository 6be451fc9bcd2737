//! Federation entity resolvers: a supergraph router that holds an
//! `Account` or `Customer` reference (`{ __typename, id }`) asks
//! `_entities` for the rest of it. The argument is called `id`, so the key
//! async-graphql prints is `@key(fields: "id")`: the global id every other
//! field of this API hands out.
//!
//! Each representation resolves on its own ([`in_its_place`]): one that
//! fails is null in its place with its own error.
//!
//! These resolvers are not fields of `Query`; async-graphql calls them for
//! `_entities` only, which viewers that may not introspect cannot reach
//! (see `graphql::extensions::introspection`).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_graphql::{Any, Context, ID, Object, PathSegment, Request, ServerError, ServerResult, Value};
use entity::account;

use crate::error::Error;
use crate::graphql::error::{IntoGraphql, code};
use crate::graphql::ids;
use crate::graphql::types::account::Account;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::load_by_id;

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn account_entity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Account> {
        let row = ids::decode_as(&id, "Account", "id").gql()?;
        load_by_id::<account::Entity, Account>(ctx, row)
            .await?
            .ok_or_else(|| Error::not_found("Account", "with that id"))
            .gql()
    }

    #[graphql(entity)]
    async fn customer_entity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Customer> {
        // A merged customer's id leads to its survivor, as everywhere.
        let row = ids::decode_as(&id, "Customer", "id").gql()?;
        crate::graphql::types::node::customer_or_survivor(ctx, row).await
    }
}

/// Resolves one representation in its place: a representation of an
/// unknown type, or one that fails (not found, an id of another type, a
/// field the viewer may not read), is `null` at its index with its own
/// error at `["_entities", index]`, and the others still resolve.
/// (async-graphql resolves the list with `try_join_all`, so a single
/// failure would otherwise make the whole list null.)
pub(super) fn in_its_place(
    found: ServerResult<Option<Value>>,
    ctx: &Context<'_>,
    representation: &Value,
) -> ServerResult<Option<Value>> {
    let mut error = match found {
        Ok(Some(entity)) => return Ok(Some(entity)),
        Ok(None) => unknown_type(representation),
        Err(error) => error,
    };
    let key = ctx.item.node.response_key().node.to_string();
    let mut path = vec![PathSegment::Field(key.clone())];
    if let Some(index) = place(ctx, &key, representation) {
        path.push(PathSegment::Index(index));
    }
    error.path = path;
    ctx.add_error(error);
    Ok(Some(Value::Null))
}

/// The error of a representation whose `__typename` is not an entity here.
fn unknown_type(representation: &Value) -> ServerError {
    let typename = match representation {
        Value::Object(fields) => fields.get("__typename").map(ToString::to_string),
        _ => None,
    };
    let message = match typename {
        Some(typename) => format!("representations: {typename} is not an entity of this API; one of Account, Customer"),
        None => "representations: a representation needs a __typename (Account or Customer)".to_owned(),
    };
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code::BAD_USER_INPUT);
    extensions.set("field", "representations");
    error
}

/// The index of `representation` in this `_entities` field's list. A
/// representation listed twice is claimed index by index, so each copy's
/// error lands at a place of its own.
fn place(ctx: &Context<'_>, key: &str, representation: &Value) -> Option<usize> {
    let (_, representations) = ctx.param_value::<Vec<Any>>("representations", None).ok()?;
    let mut matching = representations
        .iter()
        .enumerate()
        .filter(|(_, listed)| listed.0 == *representation)
        .map(|(index, _)| index);
    let Some(claimed) = ctx.data_opt::<Claimed>() else {
        return matching.next();
    };
    let mut claimed = claimed.0.lock().unwrap_or_else(PoisonError::into_inner);
    let index = matching.find(|index| !claimed.contains(&(key.to_owned(), *index)))?;
    claimed.insert((key.to_owned(), index));
    Some(index)
}

/// The places of one request's failed representations, by `_entities`
/// response key and index.
#[derive(Default)]
struct Claimed(Mutex<HashSet<(String, usize)>>);

/// Gives the request its own [`Claimed`] places (the hooks'
/// `prepare_request`).
pub fn with_places(request: Request) -> Request {
    request.data(Claimed::default())
}
