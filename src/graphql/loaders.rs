//! DataLoaders: one [`Loaders`] per request batches every lookup of the
//! same kind made while resolving one level of a query into one SQL
//! statement. That is what makes the number of statements a request makes
//! depend on the query's shape, not on how many rows it returns.
//!
//! [`DbLoader`] implements async-graphql's [`Loader`] trait for every key
//! kind. The batching itself is ours ([`Loaders`]): async-graphql's
//! `DataLoader` closes a batch when a timer fires, so a slow or busy
//! machine split one level into several statements (the same query made 6
//! statements on one run and 11 on another). A batch here closes when the
//! request's task has polled every sibling resolver, which does not depend
//! on timing: async-graphql resolves a level's fields and list items as
//! futures of one task, so its first loader call yields until the other
//! calls of the same pass have joined its batch.
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

use std::any::{Any, TypeId};
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::watch;

use crate::db::keyset::{self, Keyset, Page, PageRequest};
use crate::db::sql::Keys;
use crate::error::Error;
use crate::read::filters::RowFilter;
use crate::read::relations::{ListRelation, PagedRelation, Parents};

/// Loads rows for one request.
pub struct DbLoader {
    db: DatabaseConnection,
    /// Predictive CLV fits of this request, by as-of day (see [`Loaders::fitted`]).
    fits: tokio::sync::Mutex<HashMap<chrono::NaiveDate, Arc<crate::insights::predictive_clv::Fitted>>>,
}

impl DbLoader {
    /// Fresh loaders for one request.
    pub fn for_request(db: DatabaseConnection) -> Loaders {
        Loaders {
            loader: DbLoader {
                db,
                fits: tokio::sync::Mutex::new(HashMap::new()),
            },
            open: Mutex::new(HashMap::new()),
            data_version: tokio::sync::OnceCell::new(),
        }
    }
}

type Loaded<K, V> = Result<Arc<HashMap<K, V>>, Arc<Error>>;

/// The keys of one kind waiting for the next statement.
struct OpenBatch<K, V> {
    keys: HashSet<K>,
    /// Callers that joined, repeats included: a batch is still growing while
    /// callers arrive, even when they ask for keys it already holds.
    callers: usize,
    done: watch::Sender<Option<Loaded<K, V>>>,
}

impl<K, V> OpenBatch<K, V> {
    fn new() -> Self {
        Self {
            keys: HashSet::new(),
            callers: 0,
            done: watch::channel(None).0,
        }
    }
}

/// How many times a batch's first caller lets the task run on while its
/// batch is still growing; a level of a query joins in one or two.
const MAX_SETTLE_ROUNDS: usize = 64;

/// How many polls in a row must add no key before a batch closes. One
/// would do if every sibling were polled in every poll of the task; a
/// second costs one more wake-up and covers a poll that ran out of budget
/// before reaching them.
const QUIET_ROUNDS: usize = 2;

/// Batches the lookups of one request (see the module docs).
pub struct Loaders {
    loader: DbLoader,
    open: Mutex<HashMap<TypeId, Box<dyn Any + Send>>>,
    /// The data version this request's cached results are kept under, read
    /// once, before the first of them reads its data.
    data_version: tokio::sync::OnceCell<i64>,
}

impl Loaders {
    /// Loads the value of `key`, batched with every other key of its kind
    /// requested in the same pass over the query.
    pub async fn load_one<K>(&self, key: K) -> Result<Option<<DbLoader as Loader<K>>::Value>, Arc<Error>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        DbLoader: Loader<K, Error = Arc<Error>>,
    {
        let (mut done, leads) = self.with_batch::<K, _>(|batch| {
            let leads = batch.keys.is_empty();
            batch.keys.insert(key.clone());
            batch.callers += 1;
            (batch.done.subscribe(), leads)
        })?;
        if leads {
            self.settle::<K>().await?;
            let (keys, sender) = self.with_batch::<K, _>(|batch| {
                let closed = std::mem::replace(batch, OpenBatch::new());
                (closed.keys.into_iter().collect::<Vec<K>>(), closed.done)
            })?;
            let loaded = self.loader.load(&keys).await.map(Arc::new);
            sender.send_replace(Some(loaded));
        }
        // Waiting is exempt from tokio's cooperative budget: otherwise, when
        // a batch of hundreds of keys returns, the budget (128 per poll of
        // the task) lets only some waiters on per poll, and another kind's
        // batch leader, seeing no new key in a poll spent on them, closes
        // its batch early. Which batches return together depends on timing,
        // so the statement count did too.
        let loaded = tokio::task::coop::unconstrained(done.wait_for(Option::is_some))
            .await
            .map_err(|_| Arc::new(Error::Internal("a batch was dropped before it loaded".to_owned())))?;
        match loaded.as_ref() {
            Some(Ok(values)) => Ok(values.get(&key).cloned()),
            Some(Err(error)) => Err(error.clone()),
            None => Err(Arc::new(Error::Internal(
                "a batch finished without a result".to_owned(),
            ))),
        }
    }

    /// Lets the request's other resolvers run until no caller asks for a key
    /// of kind `K` (new or not) for [`QUIET_ROUNDS`] polls. Counting callers
    /// rather than distinct keys matters when many parents share a child (one
    /// product under fifty accounts): the repeats still arriving would
    /// otherwise look like quiet and open a second batch.
    async fn settle<K>(&self) -> Result<(), Arc<Error>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        DbLoader: Loader<K>,
    {
        let mut seen = 0;
        let mut quiet = 0;
        for _ in 0..MAX_SETTLE_ROUNDS {
            let pending = self.with_batch::<K, _>(|batch| batch.callers)?;
            if pending == seen {
                quiet += 1;
                if quiet == QUIET_ROUNDS {
                    break;
                }
            } else {
                quiet = 0;
                seen = pending;
            }
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    fn with_batch<K, R>(
        &self,
        f: impl FnOnce(&mut OpenBatch<K, <DbLoader as Loader<K>>::Value>) -> R,
    ) -> Result<R, Arc<Error>>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        DbLoader: Loader<K>,
    {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = open
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(OpenBatch::<K, <DbLoader as Loader<K>>::Value>::new()))
            .downcast_mut::<OpenBatch<K, <DbLoader as Loader<K>>::Value>>()
            .ok_or_else(|| Arc::new(Error::Internal("a loader batch has the wrong type".to_owned())))?;
        Ok(f(batch))
    }
}

/// The row of entity `E` with this id.
pub struct ById<E>(pub i64, PhantomData<fn() -> E>);

impl<E> ById<E> {
    pub fn new(id: i64) -> Self {
        Self(id, PhantomData)
    }
}

/// One page of the children of `parent_id` along relation `R` that pass `filter`.
pub struct ChildPage<R: PagedRelation> {
    pub parent_id: i64,
    pub filter: R::Filter,
    pub request: PageRequest<R::Sort>,
}

/// The number of children of `parent_id` along relation `R` that pass `filter`.
pub struct ChildCount<R: PagedRelation> {
    pub parent_id: i64,
    pub filter: R::Filter,
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

marker_key_impls!(ById, ChildList);

impl<R: PagedRelation> Clone for ChildPage<R> {
    fn clone(&self) -> Self {
        Self {
            parent_id: self.parent_id,
            filter: self.filter.clone(),
            request: self.request.clone(),
        }
    }
}
impl<R: PagedRelation> PartialEq for ChildPage<R> {
    fn eq(&self, other: &Self) -> bool {
        self.parent_id == other.parent_id && self.filter == other.filter && self.request == other.request
    }
}
impl<R: PagedRelation> Eq for ChildPage<R> {}
impl<R: PagedRelation> Hash for ChildPage<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parent_id.hash(state);
        self.filter.hash(state);
        self.request.hash(state);
    }
}

impl<R: PagedRelation> Clone for ChildCount<R> {
    fn clone(&self) -> Self {
        Self {
            parent_id: self.parent_id,
            filter: self.filter.clone(),
        }
    }
}
impl<R: PagedRelation> PartialEq for ChildCount<R> {
    fn eq(&self, other: &Self) -> bool {
        self.parent_id == other.parent_id && self.filter == other.filter
    }
}
impl<R: PagedRelation> Eq for ChildCount<R> {}
impl<R: PagedRelation> Hash for ChildCount<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parent_id.hash(state);
        self.filter.hash(state);
    }
}

/// A filter and a page request of relation `R`: what one statement reads.
type PageOf<'a, R> = (
    &'a <R as PagedRelation>::Filter,
    &'a PageRequest<<R as PagedRelation>::Sort>,
);

/// The children `R` ranges over that pass `filter`.
fn filtered_base<R: PagedRelation>(filter: &R::Filter) -> Result<sea_orm::Select<R::Child>, Arc<Error>> {
    Ok(R::base().filter(filter.condition().map_err(Arc::new)?))
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
            .filter(Keys::new(self.db.get_database_backend(), &ids).contain(E::id_column().into_expr()))
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
        // One statement per distinct filter and page request; usually there is one.
        let mut by_request: HashMap<PageOf<'_, R>, Vec<i64>> = HashMap::new();
        for key in keys {
            by_request
                .entry((&key.filter, &key.request))
                .or_default()
                .push(key.parent_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((filter, request), parents) in by_request {
            let base = filtered_base::<R>(filter)?;
            let pages = match R::parents() {
                Parents::Column(column, parent_of) => {
                    keyset::pages_by_parent(&self.db, base, column, parent_of, &parents, request).await
                }
                Parents::Linked(link) => {
                    let parents = Keys::new(self.db.get_database_backend(), &parents);
                    keyset::pages_by_link(&self.db, base, link(parents), request).await
                }
            };
            let mut pages = pages.map_err(|e| Arc::new(Error::from(e)))?;
            for parent_id in parents {
                let page = pages.remove(&parent_id).unwrap_or_default();
                loaded.insert(
                    ChildPage {
                        parent_id,
                        filter: filter.clone(),
                        request: request.clone(),
                    },
                    page,
                );
            }
        }
        Ok(loaded)
    }
}

impl<R: PagedRelation> Loader<ChildCount<R>> for DbLoader {
    type Value = i64;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ChildCount<R>]) -> Result<HashMap<ChildCount<R>, i64>, Self::Error> {
        // One statement per distinct filter; usually there is one.
        let mut by_filter: HashMap<&R::Filter, Vec<i64>> = HashMap::new();
        for key in keys {
            by_filter.entry(&key.filter).or_default().push(key.parent_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (filter, mut parents) in by_filter {
            parents.sort_unstable();
            parents.dedup();
            let base = filtered_base::<R>(filter)?;
            let counts = match R::parents() {
                Parents::Column(column, _) => keyset::count_by_parent(&self.db, base, column, &parents).await,
                Parents::Linked(link) => {
                    let parents = Keys::new(self.db.get_database_backend(), &parents);
                    keyset::count_by_link(&self.db, base, link(parents)).await
                }
            }
            .map_err(|e| Arc::new(Error::from(e)))?;
            for parent_id in parents {
                let count = counts.get(&parent_id).copied().unwrap_or(0);
                loaded.insert(
                    ChildCount {
                        parent_id,
                        filter: filter.clone(),
                    },
                    count,
                );
            }
        }
        Ok(loaded)
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
            .filter(Keys::new(self.db.get_database_backend(), &parents).contain(R::parent_column().into_expr()))
            .order_by_asc(<R::Child as Keyset>::id_column())
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
        let mut loaded: HashMap<ChildList<R>, Self::Value> = parents
            .into_iter()
            .map(|parent| (ChildList::new(parent), Vec::new()))
            .collect();
        for row in rows {
            if let Some(children) = R::parent_of(&row).and_then(|parent| loaded.get_mut(&ChildList::new(parent))) {
                children.push(row);
            }
        }
        Ok(loaded)
    }
}

/// An account's context figures as of a day (see [`crate::accounts`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountStatsOf {
    pub account_id: i64,
    pub as_of: chrono::NaiveDate,
}

impl Loader<AccountStatsOf> for DbLoader {
    type Value = crate::accounts::AccountStats;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[AccountStatsOf]) -> Result<HashMap<AccountStatsOf, Self::Value>, Self::Error> {
        let mut by_day: HashMap<chrono::NaiveDate, Vec<i64>> = HashMap::new();
        for key in keys {
            by_day.entry(key.as_of).or_default().push(key.account_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (as_of, accounts) in by_day {
            let stats = crate::accounts::account_stats(&self.db, &accounts, as_of)
                .await
                .map_err(Arc::new)?;
            loaded.extend(
                stats
                    .into_iter()
                    .map(|(account_id, stats)| (AccountStatsOf { account_id, as_of }, stats)),
            );
        }
        Ok(loaded)
    }
}

/// The latest touchpoints of each team of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TeamTouchpointsOf {
    pub account_id: i64,
    pub per_team: u64,
}

impl Loader<TeamTouchpointsOf> for DbLoader {
    type Value = Vec<entity::touchpoint::Model>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[TeamTouchpointsOf]) -> Result<HashMap<TeamTouchpointsOf, Self::Value>, Self::Error> {
        let mut by_size: HashMap<u64, Vec<i64>> = HashMap::new();
        for key in keys {
            by_size.entry(key.per_team).or_default().push(key.account_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (per_team, accounts) in by_size {
            let mut found = crate::accounts::recent_touchpoints_by_team(&self.db, &accounts, per_team)
                .await
                .map_err(Arc::new)?;
            for account_id in accounts {
                let touchpoints = found.remove(&account_id).unwrap_or_default();
                loaded.insert(TeamTouchpointsOf { account_id, per_team }, touchpoints);
            }
        }
        Ok(loaded)
    }
}

/// The segments an account's contacts belong to, with how many contacts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountSegmentsOf(pub i64);

impl Loader<AccountSegmentsOf> for DbLoader {
    type Value = Vec<(i64, i64)>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[AccountSegmentsOf]) -> Result<HashMap<AccountSegmentsOf, Self::Value>, Self::Error> {
        let accounts = parent_ids(keys, |key| key.0);
        let mut found = crate::segments::segments_of_accounts(&self.db, &accounts)
            .await
            .map_err(Arc::new)?;
        Ok(accounts
            .into_iter()
            .map(|id| (AccountSegmentsOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// One page of the journey of an account or a customer (see [`crate::read::journey`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JourneyOf {
    pub owner: crate::read::links::Owner,
    pub parent_id: i64,
    pub request: crate::read::journey::JourneyRequest,
}

impl Loader<JourneyOf> for DbLoader {
    type Value = Page<crate::read::journey::Event>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[JourneyOf]) -> Result<HashMap<JourneyOf, Self::Value>, Self::Error> {
        // One statement per distinct page request and owner; usually there is one.
        let mut by_request: HashMap<(crate::read::links::Owner, &crate::read::journey::JourneyRequest), Vec<i64>> =
            HashMap::new();
        for key in keys {
            by_request
                .entry((key.owner, &key.request))
                .or_default()
                .push(key.parent_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((owner, request), parents) in by_request {
            let mut pages = crate::read::journey::journeys(&self.db, owner, &parents, request)
                .await
                .map_err(Arc::new)?;
            for parent_id in parents {
                let page = pages.remove(&parent_id).unwrap_or_default();
                loaded.insert(
                    JourneyOf {
                        owner,
                        parent_id,
                        request: request.clone(),
                    },
                    page,
                );
            }
        }
        Ok(loaded)
    }
}

/// The distinct `asOf` days whose models one request may fit.
pub const MAX_FITS_PER_REQUEST: usize = 3;

impl Loaders {
    /// The database's data version ([`crate::db::data_version`]) as this
    /// request first read it: every insight and fit it caches is kept under it.
    pub async fn data_version(&self) -> Result<i64, Error> {
        let read = || crate::db::data_version::read(&self.loader.db);
        Ok(*self.data_version.get_or_try_init(read).await?)
    }

    /// The predictive CLV models as of `as_of`, fitted over every customer
    /// (see [`crate::insights::predictive_clv`]): once per request, however
    /// many `customer.predicted` ask (the later ones wait on the lock), and
    /// kept across requests in the insight cache under the data version, so
    /// a sales tool's next account costs no fit until a write. Horizon and
    /// rate only change the prediction made from it.
    pub async fn fitted(
        &self,
        cache: &crate::insights::cache::InsightCache,
        as_of: chrono::NaiveDate,
    ) -> Result<Arc<crate::insights::predictive_clv::Fitted>, Error> {
        use crate::insights::predictive_clv::{Fitted, fit_all};
        let mut fits = self.loader.fits.lock().await;
        if let Some(fitted) = fits.get(&as_of) {
            return Ok(fitted.clone());
        }
        if fits.len() >= MAX_FITS_PER_REQUEST {
            // Each date is a fit over every customer, and aliases cost
            // next to nothing in the query's estimate.
            return Err(Error::LimitExceeded(format!(
                "customer.predicted: at most {MAX_FITS_PER_REQUEST} distinct asOf dates per request, \
                 each fits the models over every customer"
            )));
        }
        let fit = async { Ok(Arc::new(fit_all(&self.loader.db, as_of).await?)) };
        let weigh = |fitted: &Arc<Fitted>| fitted.bytes();
        let fitted = cache
            .get_or_compute_weighed("predictedFit", self.data_version(), as_of.to_string(), fit, weigh)
            .await?;
        fits.insert(as_of, fitted.clone());
        Ok(fitted)
    }
}

/// The approval threshold of a test verdict, as bits: f64 is not `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold(u64);

impl Threshold {
    pub fn new(threshold: f64) -> Self {
        Self(threshold.to_bits())
    }

    fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// One product test's result (see [`crate::insights::product_tests`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TestResultOf {
    pub test_id: i64,
    pub threshold: Threshold,
}

impl Loader<TestResultOf> for DbLoader {
    type Value = crate::insights::product_tests::TestResult;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[TestResultOf]) -> Result<HashMap<TestResultOf, Self::Value>, Self::Error> {
        use crate::insights::product_tests::{TestsOf, results_of};
        let mut by_threshold: HashMap<Threshold, Vec<i64>> = HashMap::new();
        for key in keys {
            by_threshold.entry(key.threshold).or_default().push(key.test_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (threshold, tests) in by_threshold {
            let results = results_of(&self.db, TestsOf::Tests(&tests), threshold.value())
                .await
                .map_err(Arc::new)?;
            for result in results {
                loaded.insert(
                    TestResultOf {
                        test_id: result.test_id,
                        threshold,
                    },
                    result,
                );
            }
        }
        Ok(loaded)
    }
}

/// The results of every test of one product.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductTestResultsOf {
    pub product_id: i64,
    pub threshold: Threshold,
}

impl Loader<ProductTestResultsOf> for DbLoader {
    type Value = Vec<crate::insights::product_tests::TestResult>;
    type Error = Arc<Error>;

    async fn load(
        &self,
        keys: &[ProductTestResultsOf],
    ) -> Result<HashMap<ProductTestResultsOf, Self::Value>, Self::Error> {
        use crate::insights::product_tests::{TestsOf, results_of};
        let mut by_threshold: HashMap<Threshold, Vec<i64>> = HashMap::new();
        for key in keys {
            by_threshold.entry(key.threshold).or_default().push(key.product_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (threshold, products) in by_threshold {
            let results = results_of(&self.db, TestsOf::Products(&products), threshold.value())
                .await
                .map_err(Arc::new)?;
            for product_id in products {
                loaded.insert(ProductTestResultsOf { product_id, threshold }, Vec::new());
            }
            for result in results {
                let key = ProductTestResultsOf {
                    product_id: result.product_id,
                    threshold,
                };
                loaded.entry(key).or_default().push(result);
            }
        }
        Ok(loaded)
    }
}

/// What an account or a customer bought, per product (see [`crate::read::purchases`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductsBoughtOf {
    pub owner: crate::read::links::Owner,
    pub parent_id: i64,
    pub ordered: crate::read::TimeRange,
}

impl Loader<ProductsBoughtOf> for DbLoader {
    type Value = Vec<crate::read::purchases::ProductBought>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ProductsBoughtOf]) -> Result<HashMap<ProductsBoughtOf, Self::Value>, Self::Error> {
        let mut by_request: HashMap<(crate::read::links::Owner, crate::read::TimeRange), Vec<i64>> = HashMap::new();
        for key in keys {
            by_request
                .entry((key.owner, key.ordered))
                .or_default()
                .push(key.parent_id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((owner, ordered), parents) in by_request {
            let mut bought = crate::read::purchases::products_bought(&self.db, owner, &parents, ordered)
                .await
                .map_err(Arc::new)?;
            for parent_id in parents {
                let products = bought.remove(&parent_id).unwrap_or_default();
                loaded.insert(
                    ProductsBoughtOf {
                        owner,
                        parent_id,
                        ordered,
                    },
                    products,
                );
            }
        }
        Ok(loaded)
    }
}
