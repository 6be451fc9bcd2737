//! Insight results cached per process, shared by every request.
//!
//! A result is kept under what was asked (the insight, its scope and its
//! arguments, spelled out in full) and the database's data version
//! ([`crate::db::data_version`]) read before it was computed. A committed
//! write advances the version, so the next request on any instance asks
//! under a new key and recomputes; the old entries are never read again and
//! age out. Results are cached before the viewer's suppression rule is
//! applied (that happens when they become GraphQL values), so one entry
//! serves every role, each seeing what its rule lets it see.
//!
//! Concurrent requests for the same missing key wait for one computation
//! (moka's entry API), so a dashboard opened by many people at once costs
//! the database one query per insight. The memory bound counts each entry
//! by the length of its `Debug` rendering, which grows with what the result
//! holds; entries also expire after a time to live, a guard against writes
//! made around Accord (by hand in SQL) that do not advance the version.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::error::Error;

/// Lookups answered from the cache, by insight.
pub const HITS: &str = "accord_insight_cache_hits_total";
/// Lookups that computed their result, by insight.
pub const MISSES: &str = "accord_insight_cache_misses_total";

/// Describes these metrics to the installed recorder (their `# HELP`).
pub fn describe() {
    metrics::describe_counter!(HITS, "Insight results answered from the cache, by insight.");
    metrics::describe_counter!(
        MISSES,
        "Insight results computed because the cache did not hold them, by insight."
    );
}

#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    weight: u32,
}

/// The per-process cache of insight results.
#[derive(Clone)]
pub struct InsightCache {
    entries: Option<Cache<String, Entry>>,
}

impl InsightCache {
    /// A cache holding at most about `max_bytes` of results, each for at
    /// most `time_to_live`; `max_bytes == 0` caches nothing.
    pub fn new(max_bytes: u64, time_to_live: Duration) -> Self {
        let entries = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Entry| {
                    entry
                        .weight
                        .saturating_add(u32::try_from(key.len()).unwrap_or(u32::MAX))
                })
                .time_to_live(time_to_live)
                .build()
        });
        Self { entries }
    }

    /// The result of `insight` for `question` (everything that decides the
    /// result, in one string) at the data version `version` reads (read only
    /// when the cache is on): from the cache, or from `compute`, whose result
    /// is then kept. An error is returned to every request that waited for it
    /// and is not kept. An entry weighs the length of its `Debug` rendering.
    pub async fn get_or_compute<T, F>(
        &self,
        insight: &'static str,
        version: impl Future<Output = Result<i64, Error>>,
        question: String,
        compute: F,
    ) -> Result<T, Error>
    where
        T: Clone + Debug + Send + Sync + 'static,
        F: Future<Output = Result<T, Error>>,
    {
        let weigh = |value: &T| format!("{value:?}").len();
        self.get_or_compute_weighed(insight, version, question, compute, weigh)
            .await
    }

    /// [`Self::get_or_compute`] for a result whose `Debug` rendering would
    /// be large and slow to make (a model with every customer's history):
    /// `weigh` says about how many bytes it holds.
    pub async fn get_or_compute_weighed<T, F>(
        &self,
        insight: &'static str,
        version: impl Future<Output = Result<i64, Error>>,
        question: String,
        compute: F,
        weigh: impl FnOnce(&T) -> usize,
    ) -> Result<T, Error>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T, Error>>,
    {
        let Some(entries) = &self.entries else {
            metrics::counter!(MISSES, "insight" => insight).increment(1);
            return compute.await;
        };
        let key = format!("{insight}@{}:{question}", version.await?);
        let entry = entries
            .entry(key)
            .or_try_insert_with(async {
                let value = compute.await?;
                let weight = u32::try_from(weigh(&value)).unwrap_or(u32::MAX);
                Ok::<_, Error>(Entry {
                    value: Arc::new(value),
                    weight,
                })
            })
            .await
            .map_err(|shared| Error::from_shared(&shared))?;
        let counter = if entry.is_fresh() { MISSES } else { HITS };
        metrics::counter!(counter, "insight" => insight).increment(1);
        entry
            .into_value()
            .value
            .downcast_ref::<T>()
            .cloned()
            // One key names one insight, so one type; a mismatch is our bug.
            .ok_or_else(|| Error::Internal(format!("the cached {insight} result has another type")))
    }
}
