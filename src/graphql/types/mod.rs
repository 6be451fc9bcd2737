//! The public object types. Each wraps an entity model and exposes the
//! fields chosen for the API, so a new column never reaches the schema by
//! accident. Related objects come through the request's DataLoaders.

pub mod account;
pub mod account_context;
pub mod brand_mention;
pub mod campaign;
pub mod customer;
pub mod enums;
pub mod filters;
pub mod insights;
pub mod journey;
pub mod lead;
pub mod node;
pub mod order;
pub mod ordering;
pub mod predictive_clv;
pub mod product;
pub mod segment;
pub mod series;
pub mod survey;
pub mod touchpoint;

use async_graphql::Context;
use sea_orm::EntityTrait;

use super::error::IntoGraphql;
use super::loaders::{ById, ChildList, Loaders};
use crate::config::ApiConfig;
use crate::db::keyset::Keyset;
use crate::graphql::scalars::Money;
use crate::read::relations::ListRelation;

/// The object with this id, through the request's loader.
pub(crate) async fn load_by_id<E, N>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<N>>
where
    E: Keyset,
    E::Model: Sync,
    N: From<E::Model>,
{
    let loaders = ctx.data::<Loaders>()?;
    Ok(loaders.load_one(ById::<E>::new(id)).await.gql()?.map(N::from))
}

/// Like [`load_by_id`] for an optional reference.
pub(crate) async fn load_optional<E, N>(ctx: &Context<'_>, id: Option<i64>) -> async_graphql::Result<Option<N>>
where
    E: Keyset,
    E::Model: Sync,
    N: From<E::Model>,
{
    match id {
        Some(id) => load_by_id::<E, N>(ctx, id).await,
        None => Ok(None),
    }
}

/// All children of a parent along relation `R`.
pub(crate) async fn load_children<R, N>(ctx: &Context<'_>, parent_id: i64) -> async_graphql::Result<Vec<N>>
where
    R: ListRelation,
    <R::Child as EntityTrait>::Model: Sync,
    N: From<<R::Child as EntityTrait>::Model>,
{
    let loaders = ctx.data::<Loaders>()?;
    let rows = loaders
        .load_one(ChildList::<R>::new(parent_id))
        .await
        .gql()?
        .unwrap_or_default();
    Ok(rows.into_iter().map(N::from).collect())
}

/// An amount in the configured reporting currency.
pub(crate) fn money(ctx: &Context<'_>, amount_minor: i64) -> async_graphql::Result<Money> {
    Ok(Money::new(amount_minor, &ctx.data::<ApiConfig>()?.ingest.currency))
}

/// Implements `From<model>` for a wrapper type.
macro_rules! wraps {
    ($object:ident($model:path)) => {
        impl From<$model> for $object {
            fn from(model: $model) -> Self {
                Self(model)
            }
        }
    };
}
pub(crate) use wraps;
