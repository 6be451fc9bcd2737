//! `accord bench`: times the dashboard queries against whatever database
//! is configured (seed it first with `accord seed --demo --scale large`).
//! It runs each query through the real schema, in-process, a few times
//! with the insight cache off (cold: every run computes), then once more
//! through a schema with the cache on after one run filled it (cached),
//! and prints the cold median and worst time, the cached time and the
//! process's memory, so that regressions show as numbers rather than as
//! timed test assertions.
//!
//! It reads only: the connection is read-only (`db::connect_read_only`),
//! the cursor key is the configured one or a fresh one (never stored), and
//! the segment benchmark previews a rule instead of saving and refreshing
//! a segment.

use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::auth::Viewer;
use crate::config::ApiConfig;
use crate::events::EventBus;
use crate::graphql::build_schema;
use crate::graphql::loaders::DbLoader;

/// The dashboard queries timed, by name.
const INSIGHT_QUERIES: &[(&str, &str)] = &[
    (
        "retention (first order, month, classic)",
        "retention { cohorts { size offsets { retained { rate } } } }",
    ),
    (
        "retention (signup, month, rolling)",
        "retention(cohortBy: SIGNUP, mode: ROLLING) { cohorts { size } }",
    ),
    ("repeatPurchase", "repeatPurchase { rate { rate ciLow ciHigh } }"),
    ("churn", "churn { rate { rate } }"),
    ("rfm summary", "rfm { summary { customers grid { r f customers } } }"),
    ("rfm first page", "rfm { customers(first: 100) { nodes { r f m } } }"),
    ("clv", "clv { overall { averageMinor } byRegion { averageMinor } }"),
    (
        "nps (month, previous year)",
        "nps(compareTo: PREVIOUS_YEAR) { overall { nps } series { score { nps } } byRegion { key } }",
    ),
    (
        "brandFunnel (quarter)",
        "brandFunnel { overall { brand awareness { rate } } series { periodStart } }",
    ),
    (
        "shareOfVoice",
        "shareOfVoice { overall { brand share } byChannelMonth { share } }",
    ),
    (
        "purchaseDrivers",
        "purchaseDrivers { overall { rSquared attributes { importance } } byRegion { region } }",
    ),
    (
        "productTests",
        "productTests { tests { approval { rate } } comparisons { pValue } }",
    ),
    (
        "attribution (orders, all models)",
        "attribution { conversions touchesInWindow models { byTeam { creditMinor } } }",
    ),
    (
        "attribution (orders, MARKOV only)",
        "attribution(models: [MARKOV]) { conversions models { byTeam { creditMinor } byChannel { creditMinor } } }",
    ),
    (
        "attribution (won leads)",
        "attribution(conversion: WON_LEAD) { conversions models { byChannel { creditMinor } } }",
    ),
    (
        "series (all metrics, week, previous period)",
        "series(metrics: [REVENUE, ORDERS, AVERAGE_ORDER_VALUE, CUSTOMERS_ORDERING, NEW_CUSTOMERS, LEADS_CREATED, \
         LEADS_WON, WON_REVENUE, NPS], period: WEEK, compareTo: PREVIOUS_PERIOD) { metric points { value n ciLow \
         compareTo { pValue method } } total { value } }",
    ),
    (
        "series (revenue, month, previous year)",
        "series(metrics: [REVENUE, AVERAGE_ORDER_VALUE], compareTo: PREVIOUS_YEAR) { points { value compareTo { change } } }",
    ),
    (
        "predictiveClv (fit and predict every customer)",
        "predictiveClv { bgnbd { r logLikelihood } gammaGamma { p } overall { totalClv averagePAlive } \
         byRegion { averageClv } bySegment { customers } byAccount { averageExpectedPurchases } }",
    ),
    (
        "revenueCycle",
        "revenueCycle { all { leads wonRevenueMinor } bySourceTeam { medianDays { medianDays } } }",
    ),
    (
        "whole-window insights against the previous year",
        "repeatPurchase(compareTo: PREVIOUS_YEAR) { compared { pValue } } churn(compareTo: PREVIOUS_YEAR) { compared { pValue } } \
         clv(compareTo: PREVIOUS_YEAR) { overall { compared { averageMinor { pValue } } } } \
         revenueCycle(compareTo: PREVIOUS_YEAR) { all { compared { winRate { pValue } } } } \
         shareOfVoice(compareTo: PREVIOUS_YEAR) { overall { compared { pValue } } } \
         productTests(compareTo: PREVIOUS_YEAR) { tests { compared { pValue } } }",
    ),
];

/// Each series metric alone, a year by week (share of voice by month, its
/// finest period) against the previous period: the issue's "each series
/// under a second" is read from these rows.
const SERIES_METRICS: &[(&str, &str)] = &[
    ("REVENUE", "WEEK"),
    ("ORDERS", "WEEK"),
    ("AVERAGE_ORDER_VALUE", "WEEK"),
    ("CUSTOMERS_ORDERING", "WEEK"),
    ("NEW_CUSTOMERS", "WEEK"),
    ("REPEAT_RATE", "WEEK"),
    ("CHURN_RATE", "WEEK"),
    ("LEADS_CREATED", "WEEK"),
    ("LEADS_WON", "WEEK"),
    ("WON_REVENUE", "WEEK"),
    ("WIN_RATE", "WEEK"),
    ("NPS", "WEEK"),
    ("AWARENESS", "WEEK"),
    ("CONSIDERATION", "WEEK"),
    ("SHARE_OF_VOICE", "MONTH"),
    ("TOUCHPOINTS", "WEEK"),
];

/// The audiences previewed: a three-condition rule on traits and order
/// metrics, and a behavioural one (a touch, repeat purchases, and a touch
/// followed by a purchase).
const SEGMENT_RULES: &[(&str, &str)] = &[
    (
        "segment preview (UK/US/DE repeat buyers)",
        r#"{ all: [
    { trait: { field: "region", operator: IN, value: ["UK", "US", "DE"] } },
    { metric: { metric: ORDER_COUNT, operator: GTE, value: 2 } },
    { metric: { metric: TOTAL_SPEND, operator: GTE, value: 20000 } }
] }"#,
    ),
    (
        "segment preview (behavioural, three leaves)",
        r#"{ all: [
    { touched: { team: MARKETING, kind: CLICK, windowDays: 365 } },
    { purchased: { count: { operator: GTE, value: 2 }, windowDays: 365 } },
    { sequence: { first: { touched: { team: MARKETING, windowDays: 365 } }, then: { purchased: { windowDays: 365 } }, withinDays: 30 } }
] }"#,
    ),
];

/// Runs every insight query `iterations` times over the window and prints a table.
pub async fn insights(
    db: DatabaseConnection,
    api: ApiConfig,
    from: &str,
    to: &str,
    iterations: usize,
) -> anyhow::Result<()> {
    // Cursors are not kept between runs: a fresh key serves, and storing one would write.
    let cursor_key = api
        .cursor_key
        .clone()
        .unwrap_or_else(crate::db::cursor_key::CursorKey::generate);
    let cold = ApiConfig {
        insight_cache_mib: 0,
        ..api.clone()
    };
    let schemas = Schemas {
        cold: build_schema(db.clone(), cold, EventBus::in_process(), cursor_key.clone()),
        cached: build_schema(db.clone(), api, EventBus::in_process(), cursor_key),
    };
    println!(
        "{:<44} {:>10} {:>10} {:>10} {:>12}",
        "query", "cold ms", "max ms", "cached ms", "RSS MiB"
    );
    let series = SERIES_METRICS.iter().map(|(metric, period)| {
        (
            format!("series ({metric}, {period}, previous period)"),
            format!(
                "series(metrics: [{metric}], period: {period}, compareTo: PREVIOUS_PERIOD) {{ points {{ value n \
                 compareTo {{ pValue }} }} total {{ value }} }}"
            ),
        )
    });
    let insights = INSIGHT_QUERIES
        .iter()
        .map(|(name, selection)| ((*name).to_owned(), (*selection).to_owned()))
        .chain(series);
    for (name, selection) in insights {
        let query = format!("{{ insights(filter: {{ from: \"{from}\", to: \"{to}\" }}) {{ {selection} }} }}");
        time(&schemas, &db, &name, &query, iterations, Cached::Yes).await?;
    }
    // A mutation only in name: a preview saves nothing.
    for (name, rule) in SEGMENT_RULES {
        let query = format!("mutation {{ previewSegment(rule: {rule}, sample: 20) {{ size sample {{ id }} }} }}");
        time(&schemas, &db, name, &query, iterations, Cached::No).await?;
    }
    if let Some(peak) = memory_kib("VmHWM") {
        println!("peak resident memory of this process: {:.1} MiB", peak as f64 / 1024.0);
    }
    Ok(())
}

/// Whether a query's result may come from the insight cache (a mutation's never does).
#[derive(PartialEq)]
enum Cached {
    Yes,
    No,
}

/// The same schema with the insight cache off and on.
struct Schemas {
    cold: crate::graphql::AccordSchema,
    cached: crate::graphql::AccordSchema,
}

/// Runs `query` `iterations` times without the cache and prints its median
/// and worst time; then fills the cache with one run and prints the time of
/// the next, answered from it; then the resident memory (flat from row to
/// row when nothing but the bounded cache is kept between requests).
async fn time(
    schemas: &Schemas,
    db: &DatabaseConnection,
    name: &str,
    query: &str,
    iterations: usize,
    cached: Cached,
) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        times.push(run(&schemas.cold, db, name, query).await?);
    }
    times.sort();
    let median = times[times.len() / 2];
    let max = times.last().copied().unwrap_or(Duration::ZERO);
    let cached = if cached == Cached::Yes {
        run(&schemas.cached, db, name, query).await?;
        format!("{:.2}", millis(run(&schemas.cached, db, name, query).await?))
    } else {
        "-".to_owned()
    };
    let rss = memory_kib("VmRSS").map_or_else(|| "-".to_owned(), |kib| format!("{:.1}", kib as f64 / 1024.0));
    println!(
        "{name:<44} {:>10.1} {:>10.1} {cached:>10} {rss:>12}",
        millis(median),
        millis(max)
    );
    Ok(())
}

/// One request of `query` through `schema`, timed.
async fn run(
    schema: &crate::graphql::AccordSchema,
    db: &DatabaseConnection,
    name: &str,
    query: &str,
) -> anyhow::Result<Duration> {
    let request = async_graphql::Request::new(query.to_owned())
        .data(Viewer::unauthenticated_admin())
        .data(DbLoader::for_request(db.clone()));
    let started = Instant::now();
    let response = schema.execute(request).await;
    let elapsed = started.elapsed();
    if let Some(error) = response.errors.first() {
        anyhow::bail!("{name} failed: {}", error.message);
    }
    Ok(elapsed)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A memory figure of this process from /proc (`VmHWM`: peak resident
/// set; `VmRSS`: resident now), in KiB, where the OS reports it.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
