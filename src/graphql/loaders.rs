//! DataLoaders: one [`DbLoader`] per request batches every lookup of the
//! same kind made while resolving one level of a query into one SQL
//! statement. That is what makes the number of statements a request makes
//! depend on the query's shape, not on how many rows it returns.
//!
//! Keys:
//! - [`ById<E>`]: a row by id;
//! - [`ChildPage<R>`]: one page of a parent's children (`customer.orders`);
//! - [`ChildCount<R>`]: how many children a parent has (`totalCount`);
//! - [`ChildList<R>`]: all of a parent's children (`order.lines`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::db::keyset::{self, Keyset, Page, PageRequest};
use crate::error::Error;
use crate::read::relations::{ListRelation, PagedRelation};

pub type Loaders = DataLoader<DbLoader>;

/// Loads rows for one request.
pub struct DbLoader {
    db: DatabaseConnection,
}

impl DbLoader {
    /// A fresh loader (and cache) for one request.
    pub fn for_request(db: DatabaseConnection) -> Loaders {
        DataLoader::new(DbLoader { db }, tokio::spawn)
    }
}

/// The row of entity `E` with this id.
pub struct ById<E>(pub i64, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: i64) -> Self {
        Self(id, PhantomData)
    }
}

/// One page of the children of `parent_id` along relation `R`.
pub struct ChildPage<R: PagedRelation> {
    pub parent_id: i64,
    pub request: PageRequest<R::Sort>,
}

/// The number of children of `parent_id` along relation `R`.
pub struct ChildCount<R>(pub i64, PhantomData<fn() -> R>);

impl<R> ChildCount<R> {
    pub fn new(parent_id: i64) -> Self {
        Self(parent_id, PhantomData)
    }
}

/// All children of `parent_id` along relation `R`, in id order.
pub struct ChildList<R>(pub i64, PhantomData<fn() -> R>);

impl<R> ChildList<R> {
    pub fn new(parent_id: i64) -> Self {
        Self(parent_id, PhantomData)
    }
}

// The keys compare by their data only; the type parameters are markers,
// so these impls avoid the bounds `derive` would put on them.
macro_rules! marker_key_impls {
    ($($key:ident),+) => {
        $(
            impl<T> Clone for $key<T> {
                fn clone(&self) -> Self {
                    Self(self.0, PhantomData)
                }
            }
            impl<T> PartialEq for $key<T> {
                fn eq(&self, other: &Self) -> bool {
                    self.0 == other.0
                }
            }
            impl<T> Eq for $key<T> {}
            impl<T> Hash for $key<T> {
                fn hash<H: Hasher>(&self, state: &mut H) {
                    self.0.hash(state);
                }
            }
        )+
    };
}

marker_key_impls!(ById, ChildCount, ChildList);

impl<R: PagedRelation> Clone for ChildPage<R> {
    fn clone(&self) -> Self {
        Self { parent_id: self.parent_id, request: self.request.clone() }
    }
}
impl<R: PagedRelation> PartialEq for ChildPage<R> {
    fn eq(&self, other: &Self) -> bool {
        self.parent_id == other.parent_id && self.request == other.request
    }
}
impl<R: PagedRelation> Eq for ChildPage<R> {}
impl<R: PagedRelation> Hash for ChildPage<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parent_id.hash(state);
        self.request.hash(state);
    }
}

fn parent_ids<K>(keys: &[K], id: impl Fn(&K) -> i64) -> Vec<i64> {
    let mut ids: Vec<i64> = keys.iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl<E> Loader<ById<E>> for DbLoader
where
    E: Keyset,
    E::Model: Sync,
{
    type Value = E::Model;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, E::Model>, Self::Error> {
        let ids = parent_ids(keys, |key| key.0);
        let rows = E::find()
            .filter(E::id_column().is_in(ids))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
        Ok(rows.into_iter().map(|row| (ById::new(E::row_id(&row)), row)).collect())
    }
}

impl<R> Loader<ChildPage<R>> for DbLoader
where
    R: PagedRelation,
    <R::Child as EntityTrait>::Model: Sync,
{
    type Value = Page<<R::Child as EntityTrait>::Model>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ChildPage<R>]) -> Result<HashMap<ChildPage<R>, Self::Value>, Self::Error> {
        // One statement per distinct page request; usually there is one.
        let mut by_request: HashMap<&PageRequest<R::Sort>, Vec<i64>> = HashMap::new();
        for key in keys {
            by_request.entry(&key.request).or_default().push(key.parent_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (request, parents) in by_request {
            let mut pages = keyset::pages_by_parent(
                &self.db,
                R::Child::find(),
                R::parent_column(),
                R::parent_of,
                &parents,
                request,
            )
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
            for parent_id in parents {
                let page = pages.remove(&parent_id).unwrap_or_default();
                loaded.insert(ChildPage { parent_id, request: request.clone() }, page);
            }
        }
        Ok(loaded)
    }
}

impl<R: PagedRelation> Loader<ChildCount<R>> for DbLoader {
    type Value = i64;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ChildCount<R>]) -> Result<HashMap<ChildCount<R>, i64>, Self::Error> {
        let parents = parent_ids(keys, |key| key.0);
        let counts = keyset::count_by_parent(&self.db, R::Child::find(), R::parent_column(), &parents)
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
        Ok(parents
            .into_iter()
            .map(|parent| (ChildCount::new(parent), counts.get(&parent).copied().unwrap_or(0)))
            .collect())
    }
}

impl<R> Loader<ChildList<R>> for DbLoader
where
    R: ListRelation,
    <R::Child as EntityTrait>::Model: Sync,
{
    type Value = Vec<<R::Child as EntityTrait>::Model>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ChildList<R>]) -> Result<HashMap<ChildList<R>, Self::Value>, Self::Error> {
        let parents = parent_ids(keys, |key| key.0);
        let rows = R::Child::find()
            .filter(R::parent_column().is_in(parents.iter().copied()))
            .order_by_asc(<R::Child as Keyset>::id_column())
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
        let mut loaded: HashMap<ChildList<R>, Self::Value> =
            parents.into_iter().map(|parent| (ChildList::new(parent), Vec::new())).collect();
        for row in rows {
            if let Some(children) = R::parent_of(&row).and_then(|parent| loaded.get_mut(&ChildList::new(parent))) {
                children.push(row);
            }
        }
        Ok(loaded)
    }
}
