//! Consumer panel tests of product details (a knob, the packaging, an
//! advert) and the panellists' votes.
//!
//! Most details are tested as an A/B pair with approval rates that differ
//! by variant, and one pair differs by a wide margin, so that the A/B
//! comparison has both clear and inconclusive cases to report.

use entity::enums::ProductTouchpoint;
use rand::seq::SliceRandom;

use super::catalog::Catalog;
use super::random::{DATA_END, DATA_START, DAY, DemoRng, between, chance, pick, pick_weighted, timestamp, unit};
use crate::ingest::records::{ProductTestRecord, ProductTestVoteRecord};

/// How many tests to run and how many votes each gets.
#[derive(Debug, Clone, Copy)]
pub(super) struct PanelPlan {
    /// (product, touchpoint) details tested as both variant A and B.
    pub paired: usize,
    /// Details tested as variant A only.
    pub single: usize,
    pub min_votes: i64,
    pub max_votes: i64,
}

const PANELS: [&str; 4] = [
    "UK home panel",
    "FR usability panel",
    "DE design panel",
    "US home panel",
];

/// Draws the tests and their votes. Votes refer to tests by externalId, so
/// all tests must be written before any vote.
pub(super) fn product_tests(
    rng: &mut DemoRng,
    catalog: &Catalog,
    plan: PanelPlan,
) -> (Vec<ProductTestRecord>, Vec<ProductTestVoteRecord>) {
    let mut details: Vec<(usize, usize)> = (0..catalog.products.len())
        .flat_map(|product| (0..ProductTouchpoint::ALL.len()).map(move |touchpoint| (product, touchpoint)))
        .collect();
    details.shuffle(rng);
    let wanted = (plan.paired + plan.single).min(details.len());
    details.truncate(wanted);
    let mut single = details.split_off(plan.paired.min(details.len()));
    let mut paired = details;
    paired.sort_unstable();
    single.sort_unstable();

    // (detail, variant, approval rate) for every test, pairs first.
    let mut tests: Vec<((usize, usize), &str, f64)> = Vec::new();
    for (index, detail) in paired.into_iter().enumerate() {
        let base = 0.58 + 0.28 * unit(rng);
        let difference = if index == 0 { 0.18 } else { 0.24 * unit(rng) - 0.12 };
        tests.push((detail, "A", base));
        tests.push((detail, "B", (base + difference).clamp(0.2, 0.97)));
    }
    for detail in single {
        tests.push((detail, "A", 0.55 + 0.35 * unit(rng)));
    }

    let mut test_records = Vec::with_capacity(tests.len());
    let mut votes = Vec::new();
    for (index, ((product_index, touchpoint_index), variant, approval_rate)) in tests.into_iter().enumerate() {
        let Some(product) = catalog.products.get(product_index) else {
            continue;
        };
        let Some(&touchpoint) = ProductTouchpoint::ALL.get(touchpoint_index) else {
            continue;
        };
        let test_id = format!("X{:02}", index + 1);
        // Panels test new products up to half a year before launch.
        let from = (product.launched_at - 200 * DAY).max(DATA_START);
        test_records.push(ProductTestRecord {
            external_id: test_id.clone(),
            product_external_id: product.id.clone(),
            touchpoint,
            variant: variant.to_string(),
            panel: pick(rng, &PANELS).to_string(),
            tested_at: timestamp(between(rng, from, DATA_END - 14 * DAY)),
        });
        for _ in 0..between(rng, plan.min_votes, plan.max_votes) {
            votes.push(vote(rng, &test_id, approval_rate, votes.len() + 1));
        }
    }
    (test_records, votes)
}

/// One panellist's vote: approval with the test's rate, and a rating and
/// comment that agree with it.
fn vote(rng: &mut DemoRng, test_id: &str, approval_rate: f64, number: usize) -> ProductTestVoteRecord {
    let approved = chance(rng, approval_rate);
    let rating = chance(rng, 0.6).then(|| {
        if approved {
            pick_weighted(rng, &[(5, 0.40), (4, 0.45), (3, 0.15)])
        } else {
            pick_weighted(rng, &[(1, 0.30), (2, 0.45), (3, 0.25)])
        }
    });
    let comment = chance(rng, 0.1).then(|| {
        let text = if approved {
            pick(
                rng,
                &["Feels solid", "Easy to use", "Looks premium", "Clear and simple"],
            )
        } else {
            pick(rng, &["Hard to grip", "Confusing", "Looks cheap", "Too small to read"])
        };
        text.to_string()
    });
    ProductTestVoteRecord {
        external_id: format!("V{number:06}"),
        test_external_id: test_id.to_string(),
        approved,
        rating,
        comment,
    }
}
