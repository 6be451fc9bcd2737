//! The demo data set: a complete, realistic, synthetic customer base for
//! trying Accord out (`serve --demo`, `seed`) and for load tests.
//!
//! The generator is deterministic: one seed drives `ChaCha8Rng` streams and
//! no wall-clock time is read, so the same seed (and last day, [`shift`])
//! gives the same records on every machine. It streams: reference data (accounts,
//! products, campaigns, surveys) is written first, then customers are drawn
//! in chunks, and each chunk's customers are written before their orders,
//! touchpoints, leads and survey responses. Memory therefore stays flat
//! however large the data set is, and every reference points to a record
//! that was already written. Product tests, their votes and brand mentions
//! come last.
//!
//! Code map: `catalog` (reference data), `people` (customers), `journeys`
//! (one customer's `orders`, `touches` and `leads`), `surveys` (responses),
//! `panels` (product tests and votes), `mentions` (share of voice), `random`
//! (helpers and the fixed calendar).

mod catalog;
mod journeys;
mod leads;
mod mentions;
mod orders;
mod panels;
mod people;
mod random;
pub mod segments;
pub mod shift;
mod surveys;
#[cfg(test)]
mod tests;
mod touches;
mod writer;

use std::ops::RangeInclusive;

use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::IndexedRandom;

use crate::error::Error;
use crate::ingest::kinds::{EntityKind, RecordSink};
use crate::ingest::records::{CustomerRecord, LeadRecord, OrderRecord, SurveyResponseRecord, TouchpointRecord};
use catalog::Catalog;
use journeys::Activity;
use panels::PanelPlan;
use random::{DemoRng, chance, section_rng};
use surveys::PanelMember;
use writer::BatchWriter;

/// How big a data set to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 2,000 customers: enough for every insight to be meaningful,
    /// small enough to load in seconds.
    Small,
    /// 300,000 customers with over a million orders and two million
    /// touchpoints: for load and query-performance tests.
    Large,
}

/// What to generate: the size, the seed that makes it reproducible, and
/// the data's last day.
#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    pub scale: Scale,
    pub seed: u64,
    /// Every date moves so that the data ends on this day
    /// ([`shift::Shift`]); `None` keeps the fixed calendar (ending
    /// 2026-06-30), as tests that compare with known values need.
    pub last_day: Option<chrono::NaiveDate>,
}

/// What was written: records per entity kind, in dependency order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub counts: Vec<(EntityKind, u64)>,
}

/// Generates the demo data set and writes it to `sink` in batches, in dependency order.
///
/// With `progress`, a progress bar on stderr counts the customers processed.
/// The first error from the sink stops generation and is returned.
pub async fn generate(spec: DemoSpec, sink: &mut impl RecordSink, progress: bool) -> Result<DemoSummary, Error> {
    let profile = Profile::of(spec.scale);
    let shift = spec.last_day.map(shift::Shift::to_last_day);
    let mut writer = BatchWriter::new(sink, shift);

    let mut catalog_rng = section_rng(spec.seed, 0);
    let (catalog, reference) = Catalog::generate(&mut catalog_rng, profile.accounts, profile.spend_scale());
    writer.write(reference.accounts).await?;
    writer.write(reference.products).await?;
    writer.write(reference.campaigns).await?;
    writer.write(reference.surveys).await?;

    let bar = progress_bar(progress, profile.customers);
    let mut customer_rng = section_rng(spec.seed, 1);
    let mut sequences = Sequences::default();
    let mut first = 1;
    while first <= profile.customers {
        let last = (first + CHUNK_SIZE - 1).min(profile.customers);
        let chunk = customer_chunk(&mut customer_rng, &catalog, &profile, first..=last, &mut sequences);
        writer.write(chunk.customers).await?;
        writer.write(chunk.orders).await?;
        writer.write(chunk.touchpoints).await?;
        writer.write(chunk.leads).await?;
        writer.write(chunk.responses).await?;
        bar.inc(last - first + 1);
        first = last + 1;
        // Generation is CPU-bound; let other tasks on the runtime run
        // between chunks even when the sink never waits.
        tokio::task::yield_now().await;
    }
    bar.finish_and_clear();

    let mut market_rng = section_rng(spec.seed, 2);
    let (tests, votes) = panels::product_tests(&mut market_rng, &catalog, profile.panels);
    writer.write(tests).await?;
    writer.write(votes).await?;
    writer.write(mentions::brand_mentions(&mut market_rng)).await?;

    Ok(writer.summary())
}

/// Customers drawn and written together; small enough to keep memory flat.
const CHUNK_SIZE: u64 = 1_000;

/// The numbers behind a [`Scale`].
struct Profile {
    customers: u64,
    accounts: usize,
    activity: Activity,
    /// Multiplies every survey's response rate.
    survey_rate: f64,
    panels: PanelPlan,
}

impl Profile {
    fn of(scale: Scale) -> Profile {
        match scale {
            Scale::Small => Profile {
                customers: 2_000,
                accounts: 150,
                activity: Activity {
                    orders: 1.0,
                    touches: 1.0,
                },
                survey_rate: 1.0,
                panels: PanelPlan {
                    paired: 5,
                    single: 2,
                    min_votes: 60,
                    max_votes: 150,
                },
            },
            // The large set is also more engaged, so that it reaches a
            // million orders and two million touchpoints with a customer
            // base that still loads in reasonable time.
            Scale::Large => Profile {
                customers: 300_000,
                accounts: 2_000,
                activity: Activity {
                    orders: 1.4,
                    touches: 1.6,
                },
                survey_rate: 1.1,
                panels: PanelPlan {
                    paired: 16,
                    single: 4,
                    min_votes: 200,
                    max_votes: 500,
                },
            },
        }
    }

    /// Campaign budgets grow with the audience so that ROI stays plausible.
    fn spend_scale(&self) -> f64 {
        self.customers as f64 / 2_000.0
    }
}

/// The next externalId of each kind whose records are numbered across
/// chunks.
#[derive(Default)]
struct Sequences {
    orders: u64,
    touchpoints: u64,
    leads: u64,
    responses: u64,
}

impl Sequences {
    fn next_order(&mut self) -> String {
        self.orders += 1;
        format!("O{:07}", self.orders)
    }

    fn next_touchpoint(&mut self) -> String {
        self.touchpoints += 1;
        format!("T{:07}", self.touchpoints)
    }

    fn next_lead(&mut self) -> String {
        self.leads += 1;
        format!("L{:06}", self.leads)
    }

    fn next_response(&mut self) -> String {
        self.responses += 1;
        format!("R{:07}", self.responses)
    }
}

/// One chunk's records, per kind.
#[derive(Default)]
struct Chunk {
    customers: Vec<CustomerRecord>,
    orders: Vec<OrderRecord>,
    touchpoints: Vec<TouchpointRecord>,
    leads: Vec<LeadRecord>,
    responses: Vec<SurveyResponseRecord>,
}

/// Draws customers `numbers` with everything they did, plus the panel
/// survey responses that belong to this slice of the population.
fn customer_chunk(
    rng: &mut DemoRng,
    catalog: &Catalog,
    profile: &Profile,
    numbers: RangeInclusive<u64>,
    sequences: &mut Sequences,
) -> Chunk {
    let mut chunk = Chunk::default();
    let mut members = Vec::new();
    for number in numbers {
        let person = people::person(rng, catalog, number);
        let journey = journeys::journey(rng, catalog, &person, profile.activity);
        let earliest = journey.earliest_activity().unwrap_or(person.active_from);
        let first_seen_at = people::first_seen(rng, earliest);
        let rate = profile.survey_rate;
        chunk
            .responses
            .extend(surveys::customer_nps(rng, &person, &journey, rate, sequences));
        chunk.responses.extend(surveys::business_nps(
            rng,
            &person,
            &journey,
            first_seen_at,
            rate,
            sequences,
        ));
        members.push(PanelMember {
            id: person.id.clone(),
            region: person.region,
            first_seen_at,
            has_orders: !journey.orders.is_empty(),
            satisfaction: person.satisfaction,
        });
        chunk.customers.push(person.record(catalog, first_seen_at));
        let (orders, touchpoints, leads) = journey.into_records(&person, catalog, sequences);
        chunk.orders.extend(orders);
        chunk.touchpoints.extend(touchpoints);
        chunk.leads.extend(leads);
    }

    // Panel surveys are sized by the population, so each chunk adds its
    // share. Most panellists are anonymous; some are known customers.
    for _ in 0..members.len() {
        if chance(rng, 0.2 * profile.survey_rate) {
            let member = chance(rng, 0.4).then(|| members.choose(rng)).flatten();
            let response = surveys::brand_tracker(rng, member, sequences);
            chunk.responses.push(response);
        }
        if chance(rng, 0.18 * profile.survey_rate) {
            let member = chance(rng, 0.15).then(|| members.choose(rng)).flatten();
            let response = surveys::purchase_drivers(rng, member, sequences);
            chunk.responses.push(response);
        }
    }
    chunk
}

/// A bar counting customers on stderr, or a hidden one that draws nothing.
fn progress_bar(visible: bool, customers: u64) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(customers);
    if let Ok(style) = ProgressStyle::with_template(
        "demo data [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} customers (ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}
