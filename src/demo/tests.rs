//! Tests of the whole generator: determinism, validity, references, the
//! domain rules the insights rely on, and (ignored by default) the size
//! and speed of the large set.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{AccountKind, LeadStage, OrderChannel, Team};
use serde_json::Value;

use super::shift::Shift;
use super::*;
use crate::ingest::kinds::{BatchVisitor, Kind, Numbered, RecordBatch};
use crate::ingest::records::*;

/// Keeps every batch it is given.
#[derive(Default)]
struct CollectingSink {
    batches: Vec<RecordBatch>,
}

impl RecordSink for CollectingSink {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        self.batches.push(batch);
        Ok(())
    }
}

/// Only counts records, so that generation speed can be measured alone.
#[derive(Default)]
struct CountingSink {
    records: HashMap<EntityKind, u64>,
}

impl RecordSink for CountingSink {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        *self.records.entry(batch.kind()).or_default() += batch.len() as u64;
        Ok(())
    }
}

/// Checks every batch as it arrives: its size, and for every record its
/// validity, its line number, the uniqueness of its externalId, and that
/// each reference points to a record written before it. Keeps only the
/// externalIds, so that it can check the large set too.
#[derive(Default)]
struct CheckingSink {
    written: HashMap<EntityKind, HashSet<String>>,
}

impl CheckingSink {
    fn count(&self, kind: EntityKind) -> u64 {
        self.written.get(&kind).map_or(0, |ids| ids.len() as u64)
    }
}

impl RecordSink for CheckingSink {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let kind = batch.kind();
        assert!(!batch.is_empty(), "an empty {kind} batch was written");
        assert!(batch.len() <= 1_000, "a {kind} batch holds {} records", batch.len());
        for row in rows(&batch) {
            assert_eq!(row.valid, Ok(()), "{kind} {} is invalid: {}", row.id, row.json);
            for (target, id) in &row.references {
                assert!(
                    self.written.get(target).is_some_and(|ids| ids.contains(id)),
                    "{kind} {} refers to {target} {id}, which was not written before it",
                    row.id
                );
            }
            let ids = self.written.entry(kind).or_default();
            assert_eq!(
                row.line,
                ids.len() as u64 + 1,
                "{kind} {} has the wrong line number",
                row.id
            );
            assert!(ids.insert(row.id.clone()), "{kind} {} is written twice", row.id);
        }
        Ok(())
    }
}

/// One record in a form every check can use.
struct Row {
    kind: EntityKind,
    line: u64,
    id: String,
    json: Value,
    valid: Result<(), FieldError>,
    references: Vec<(EntityKind, String)>,
}

fn row<T: Keyed + Validate + serde::Serialize>(
    kind: EntityKind,
    numbered: &Numbered<T>,
    references: Vec<(EntityKind, String)>,
) -> Row {
    Row {
        kind,
        line: numbered.line,
        id: numbered.record.external_id().to_string(),
        json: serde_json::to_value(&numbered.record).unwrap_or(Value::Null),
        valid: numbered.record.validate("USD"),
        references,
    }
}

/// Every record of a batch as a [`Row`], with the references its kind says it makes.
struct Rows;

impl BatchVisitor for Rows {
    type Output = Vec<Row>;

    fn visit<R: Kind>(self, records: Vec<Numbered<R>>) -> Vec<Row> {
        records
            .iter()
            .map(|n| {
                let references = n
                    .record
                    .references()
                    .into_iter()
                    .map(|reference| (reference.kind, reference.key.to_owned()))
                    .collect();
                row(R::KIND, n, references)
            })
            .collect()
    }
}

fn rows(batch: &RecordBatch) -> Vec<Row> {
    batch.clone().visit(Rows)
}

async fn small(seed: u64) -> (Vec<RecordBatch>, DemoSummary) {
    small_ending(seed, None).await
}

async fn small_ending(seed: u64, last_day: Option<chrono::NaiveDate>) -> (Vec<RecordBatch>, DemoSummary) {
    let mut sink = CollectingSink::default();
    let summary = generate(
        DemoSpec {
            scale: Scale::Small,
            seed,
            last_day,
        },
        &mut sink,
        false,
    )
    .await
    .expect("the sink never fails");
    (sink.batches, summary)
}

/// Every record as (kind, JSON line), in the order written.
fn lines(batches: &[RecordBatch]) -> Vec<(EntityKind, String)> {
    batches
        .iter()
        .flat_map(rows)
        .map(|row| (row.kind, row.json.to_string()))
        .collect()
}

fn count(summary: &DemoSummary, kind: EntityKind) -> u64 {
    summary.counts.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
}

#[test]
fn generation_can_run_on_a_spawned_task() {
    fn assert_send<T: Send>(_: &T) {}
    let mut sink = CollectingSink::default();
    let future = generate(
        DemoSpec {
            scale: Scale::Small,
            seed: 1,
            last_day: None,
        },
        &mut sink,
        false,
    );
    assert_send(&future);
}

#[tokio::test]
async fn the_same_seed_gives_identical_records() {
    let (first, first_summary) = small(7).await;
    let (second, second_summary) = small(7).await;
    assert_eq!(first_summary, second_summary);
    assert!(lines(&first) == lines(&second), "two runs with seed 7 differ");
}

/// The latest order and touchpoint instants of the batches.
fn latest_activity(batches: &[RecordBatch]) -> Option<chrono::DateTime<chrono::Utc>> {
    batches
        .iter()
        .flat_map(|batch| match batch {
            RecordBatch::Orders(records) => records.iter().map(|r| r.record.ordered_at).collect(),
            RecordBatch::Touchpoints(records) => records.iter().map(|r| r.record.occurred_at).collect(),
            _ => Vec::new(),
        })
        .max()
}

#[tokio::test]
async fn a_last_day_moves_the_activity_onto_it_and_keeps_the_data_deterministic() {
    let day = |text: &str| text.parse::<chrono::NaiveDate>().ok();
    let (fixed, _) = small(7).await;
    let (moved, moved_summary) = small_ending(7, day("2027-03-14")).await;
    let (again, again_summary) = small_ending(7, day("2027-03-14")).await;
    assert_eq!(moved_summary, again_summary);
    assert!(lines(&moved) == lines(&again), "the same seed and day differ");
    assert!(lines(&moved) != lines(&fixed), "the dates did not move");
    let latest = latest_activity(&moved).expect("activity");
    assert_eq!(Some(latest.date_naive()), day("2027-03-14"));
    let fixed_latest = latest_activity(&fixed).expect("activity");
    // Everything moved by the same whole days: the same instant of day.
    assert_eq!(latest.time(), fixed_latest.time());
    assert_eq!(
        (latest - fixed_latest).num_days(),
        (day("2027-03-14").unwrap_or_default() - Shift::calendar_end()).num_days()
    );
    let mentions = |batches: &[RecordBatch]| -> Vec<chrono::NaiveDate> {
        batches
            .iter()
            .flat_map(|batch| match batch {
                RecordBatch::BrandMentions(records) => records.iter().map(|r| r.record.period_start).collect(),
                _ => Vec::new(),
            })
            .collect()
    };
    let moved_months = mentions(&moved);
    assert!(
        moved_months.iter().all(|d| chrono::Datelike::day(d) == 1),
        "monthly periods start on the 1st"
    );
    assert_eq!(moved_months.iter().max().copied(), day("2027-03-01"));
}

#[tokio::test]
async fn different_seeds_give_different_records() {
    let (first, _) = small(7).await;
    let (second, _) = small(8).await;
    let first = lines(&first);
    let second = lines(&second);
    for kind in [
        EntityKind::Accounts,
        EntityKind::Customers,
        EntityKind::Orders,
        EntityKind::SurveyResponses,
    ] {
        let of_kind = |lines: &[(EntityKind, String)]| -> Vec<String> {
            lines
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, line)| line.clone())
                .collect()
        };
        assert_ne!(
            of_kind(&first),
            of_kind(&second),
            "{kind} are the same for seeds 7 and 8"
        );
    }
}

#[tokio::test]
async fn every_record_is_valid_and_refers_only_to_records_written_before_it() {
    let mut sink = CheckingSink::default();
    let spec = DemoSpec {
        scale: Scale::Small,
        seed: 42,
        last_day: None,
    };
    let summary = generate(spec, &mut sink, false).await.expect("the sink never fails");
    assert_eq!(
        summary.counts.iter().map(|(kind, _)| *kind).collect::<Vec<_>>(),
        EntityKind::ALL.to_vec()
    );
    for (kind, written) in &summary.counts {
        assert_eq!(sink.count(*kind), *written, "the summary miscounts {kind}");
    }
}

#[tokio::test]
async fn the_small_set_has_the_documented_size() {
    let (_, summary) = small(42).await;
    println!("small set, seed 42: {:?}", summary.counts);
    let expect = |kind: EntityKind, range: std::ops::RangeInclusive<u64>| {
        let n = count(&summary, kind);
        assert!(range.contains(&n), "{n} {kind}, expected {range:?}");
    };
    expect(EntityKind::Accounts, 150..=150);
    expect(EntityKind::Customers, 2_000..=2_000);
    expect(EntityKind::Products, 40..=40);
    expect(EntityKind::Campaigns, 18..=26);
    expect(EntityKind::Surveys, 4..=4);
    expect(EntityKind::Orders, 5_400..=6_600);
    expect(EntityKind::Touchpoints, 8_000..=10_000);
    expect(EntityKind::Leads, 250..=700);
    expect(EntityKind::SurveyResponses, 1_300..=1_700);
    expect(EntityKind::ProductTests, 12..=12);
    expect(EntityKind::ProductTestVotes, 12 * 60..=12 * 150);
    expect(EntityKind::BrandMentions, 216..=216);
}

/// All records of one kind, cloned out of their batches.
macro_rules! records_of {
    ($batches:expr, $variant:ident) => {
        $batches
            .iter()
            .filter_map(|batch| match batch {
                RecordBatch::$variant(records) => Some(records.iter().map(|n| n.record.clone())),
                _ => None,
            })
            .flatten()
            .collect::<Vec<_>>()
    };
}

/// The small set with seed 42, by kind, for the domain-rule tests.
struct SmallSet {
    accounts: Vec<AccountRecord>,
    customers: Vec<CustomerRecord>,
    campaigns: Vec<CampaignRecord>,
    orders: Vec<OrderRecord>,
    touchpoints: Vec<TouchpointRecord>,
    leads: Vec<LeadRecord>,
    responses: Vec<SurveyResponseRecord>,
    tests: Vec<ProductTestRecord>,
    votes: Vec<ProductTestVoteRecord>,
}

impl SmallSet {
    async fn generate() -> SmallSet {
        let (batches, _) = small(42).await;
        SmallSet {
            accounts: records_of!(batches, Accounts),
            customers: records_of!(batches, Customers),
            campaigns: records_of!(batches, Campaigns),
            orders: records_of!(batches, Orders),
            touchpoints: records_of!(batches, Touchpoints),
            leads: records_of!(batches, Leads),
            responses: records_of!(batches, SurveyResponses),
            tests: records_of!(batches, ProductTests),
            votes: records_of!(batches, ProductTestVotes),
        }
    }

    fn customer(&self, id: &str) -> &CustomerRecord {
        self.customers
            .iter()
            .find(|c| c.external_id == id)
            .expect("the customer exists")
    }

    fn account(&self, id: &str) -> &AccountRecord {
        self.accounts
            .iter()
            .find(|a| a.external_id == id)
            .expect("the account exists")
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a valid RFC 3339 instant")
}

fn data_window() -> std::ops::RangeInclusive<DateTime<Utc>> {
    at("2025-01-01T00:00:00Z")..=at("2026-06-30T23:59:59Z")
}

#[tokio::test]
async fn customers_are_unique_people_and_contacts_share_their_accounts_region() {
    let set = SmallSet::generate().await;
    let emails: HashSet<&str> = set.customers.iter().map(|c| c.email.as_str()).collect();
    assert_eq!(emails.len(), set.customers.len(), "emails are not unique");
    let contacts = set.customers.iter().filter(|c| c.account_external_id.is_some()).count();
    assert!((500..=700).contains(&contacts), "{contacts} account contacts");
    for customer in &set.customers {
        assert!(customer.first_seen_at >= at("2024-01-01T00:00:00Z"));
        assert!(["UK", "DE", "FR", "US"].contains(&customer.region.as_str()));
        let traits = customer.traits.as_object().expect("traits are an object");
        match &customer.account_external_id {
            Some(account) => {
                assert_eq!(set.account(account).region, customer.region);
                assert!(traits.contains_key("role") && traits.contains_key("companySize"));
            }
            None => assert!(traits.contains_key("household") && traits.contains_key("interests")),
        }
    }
}

#[tokio::test]
async fn orders_follow_the_channel_rules_and_the_season() {
    use chrono::Datelike;
    let set = SmallSet::generate().await;
    let mut orders_by_month: HashMap<u32, usize> = HashMap::new();
    for order in &set.orders {
        let customer = set.customer(&order.customer_external_id);
        assert!(
            data_window().contains(&order.ordered_at),
            "{} is out of range",
            order.external_id
        );
        assert!(
            customer.first_seen_at <= order.ordered_at,
            "{} precedes firstSeenAt",
            order.external_id
        );
        let account_kind = order.account_external_id.as_deref().map(|id| set.account(id).kind);
        match order.channel {
            OrderChannel::Retail => assert_eq!(account_kind, Some(AccountKind::Retailer)),
            OrderChannel::Marketplace => assert!(matches!(account_kind, None | Some(AccountKind::Distributor))),
            OrderChannel::DirectSales => {
                assert!(order.account_external_id.is_some());
                assert_eq!(order.account_external_id, customer.account_external_id);
            }
            OrderChannel::Phone => {
                assert_eq!(order.account_external_id, customer.account_external_id)
            }
            OrderChannel::Online => assert_eq!(order.account_external_id, None),
        }
        assert!((1..=3).contains(&order.lines.len()));
        *orders_by_month.entry(order.ordered_at.month()).or_default() += 1;
    }
    let month = |m: u32| orders_by_month.get(&m).copied().unwrap_or_default();
    assert!(
        month(12) > month(7) * 3 / 2,
        "December ({}) is not busier than July ({})",
        month(12),
        month(7)
    );
}

#[tokio::test]
async fn campaign_touches_match_their_campaign_and_precede_purchases() {
    let set = SmallSet::generate().await;
    let mut instants = HashSet::new();
    let mut with_campaign = 0;
    for touch in &set.touchpoints {
        assert!(touch.occurred_at >= at("2024-10-01T00:00:00Z") && touch.occurred_at <= *data_window().end());
        let instant = (touch.customer_external_id.as_str(), touch.occurred_at);
        assert!(instants.insert(instant), "{} shares an instant", touch.external_id);
        if let Some(campaign) = &touch.campaign_external_id {
            with_campaign += 1;
            let campaign = set
                .campaigns
                .iter()
                .find(|c| c.external_id == *campaign)
                .expect("campaign exists");
            assert_eq!(
                (touch.team, touch.channel.as_str()),
                (campaign.team, campaign.channel.as_str())
            );
            let day: NaiveDate = touch.occurred_at.date_naive();
            assert!(
                (campaign.starts_on..=campaign.ends_on).contains(&day),
                "{} is off its campaign",
                touch.external_id
            );
        }
        let has_account = set.customer(&touch.customer_external_id).account_external_id.is_some();
        let expects_account = has_account && matches!(touch.team, Team::Sales | Team::Service);
        assert_eq!(
            touch.account_external_id.is_some(),
            expects_account,
            "{}",
            touch.external_id
        );
    }
    assert!(
        with_campaign * 4 > set.touchpoints.len(),
        "too few campaign touches: {with_campaign}"
    );

    // Attribution has something to find: most orders have a touch in the
    // 30 days before them, but not all.
    let mut touches_of: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for touch in &set.touchpoints {
        touches_of
            .entry(touch.customer_external_id.as_str())
            .or_default()
            .push(touch.occurred_at);
    }
    let touched = set
        .orders
        .iter()
        .filter(|order| {
            let window = order.ordered_at - chrono::Duration::days(30)..order.ordered_at;
            let times = touches_of.get(order.customer_external_id.as_str());
            times.is_some_and(|times| times.iter().any(|t| window.contains(t)))
        })
        .count();
    let orders = set.orders.len();
    assert!(
        touched * 2 > orders && touched < orders,
        "{touched} of {orders} orders have touches"
    );
}

#[tokio::test]
async fn leads_reach_every_stage_within_the_data() {
    let set = SmallSet::generate().await;
    let stages: HashSet<LeadStage> = set.leads.iter().map(|lead| lead.stage).collect();
    assert_eq!(stages.len(), LeadStage::ALL.len(), "stages seen: {stages:?}");
    for lead in &set.leads {
        let moments = [
            Some(lead.created_at),
            lead.mql_at,
            lead.sql_at,
            lead.opportunity_at,
            lead.closed_at,
        ];
        assert!(
            moments.iter().flatten().all(|t| data_window().contains(t)),
            "{}",
            lead.external_id
        );
        if lead.opportunity_at.is_some() {
            assert!(lead.amount_minor.is_some(), "{} has no amount", lead.external_id);
        }
    }
    assert!(
        set.leads
            .iter()
            .any(|lead| lead.mql_at.is_none() && lead.sql_at.is_some()),
        "no lead skips MQL"
    );
}

#[tokio::test]
async fn survey_answers_fit_their_survey_and_follow_experience() {
    let set = SmallSet::generate().await;
    let mut per_survey: HashMap<&str, usize> = HashMap::new();
    for response in &set.responses {
        *per_survey.entry(response.survey_external_id.as_str()).or_default() += 1;
        assert!(data_window().contains(&response.responded_at));
        match response.survey_external_id.as_str() {
            "S01" | "S04" => assert!(response.brands.is_empty() && response.ratings.is_empty()),
            "S02" => {
                assert_eq!(response.brands.first().map(|b| b.brand.as_str()), Some("Shark"));
                assert!((3..=4).contains(&response.brands.len()));
                assert!(response.brands.iter().filter(|b| b.preferred).count() <= 1);
            }
            "S03" => assert!(response.brands.is_empty() && response.ratings.len() <= 7),
            other => panic!("unknown survey {other}"),
        }
        if let Some(customer) = &response.customer_external_id {
            assert_eq!(set.customer(customer).region, response.region);
        }
    }
    for survey in ["S01", "S02", "S03", "S04"] {
        assert!(
            per_survey.get(survey).copied().unwrap_or_default() >= 80,
            "{survey}: {per_survey:?}"
        );
    }

    // Loyal customers (who keep buying) score the brand higher.
    let mut orders_of: HashMap<&str, usize> = HashMap::new();
    for order in &set.orders {
        *orders_of.entry(order.customer_external_id.as_str()).or_default() += 1;
    }
    let mean_nps = |loyal: bool| {
        let scores: Vec<f64> = set
            .responses
            .iter()
            .filter(|r| r.survey_external_id == "S01")
            .filter(|r| {
                let orders = r
                    .customer_external_id
                    .as_deref()
                    .and_then(|c| orders_of.get(c))
                    .copied();
                (orders.unwrap_or_default() >= 4) == loyal
            })
            .filter_map(|r| r.nps_score.map(f64::from))
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    assert!(
        mean_nps(true) > mean_nps(false) + 0.3,
        "{} vs {}",
        mean_nps(true),
        mean_nps(false)
    );

    // Drivers: mostly complete, and intent follows the heaviest driver.
    let drivers: Vec<&SurveyResponseRecord> = set.responses.iter().filter(|r| r.survey_external_id == "S03").collect();
    let complete = drivers.iter().filter(|r| r.ratings.len() == 7).count();
    assert!(
        complete * 2 > drivers.len() && complete < drivers.len(),
        "{complete} of {} complete",
        drivers.len()
    );
    assert!(
        intent_follows_suction(&drivers) > 0.3,
        "purchase intent does not follow suction"
    );
}

#[tokio::test]
async fn product_tests_pair_variants_whose_approval_differs() {
    let set = SmallSet::generate().await;
    let variants: HashSet<(&str, _, &str)> = set
        .tests
        .iter()
        .map(|t| (t.product_external_id.as_str(), t.touchpoint, t.variant.as_str()))
        .collect();
    assert_eq!(
        variants.len(),
        set.tests.len(),
        "a (product, touchpoint, variant) repeats"
    );
    assert_eq!(set.tests.iter().filter(|t| t.variant == "B").count(), 5);
    let approval = |test: &str| {
        let votes: Vec<_> = set.votes.iter().filter(|v| v.test_external_id == test).collect();
        assert!((60..=150).contains(&votes.len()), "{test} has {} votes", votes.len());
        votes.iter().filter(|v| v.approved).count() as f64 / votes.len() as f64
    };
    for test in &set.tests {
        approval(&test.external_id);
    }
    // The first pair is built with a clear lead for variant B.
    assert!(approval("X02") > approval("X01"), "X02 does not beat X01");
}

/// Pearson correlation of the suction rating with purchase intent.
fn intent_follows_suction(responses: &[&SurveyResponseRecord]) -> f64 {
    let pairs: Vec<(f64, f64)> = responses
        .iter()
        .filter_map(|r| {
            let suction = r.ratings.iter().find(|rating| rating.attribute == "suction")?;
            Some((f64::from(suction.rating), f64::from(r.purchase_intent?)))
        })
        .collect();
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = pairs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let spread_x: f64 = pairs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    let spread_y: f64 = pairs.iter().map(|(_, y)| (y - mean_y).powi(2)).sum();
    covariance / (spread_x * spread_y).sqrt()
}

/// Generates the large set into a counting sink and reports the time,
/// then generates it again through every check of the small set.
/// Run with `cargo test --release --lib demo::tests::large -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "takes a while in a debug build; run in release"]
async fn large_meets_its_minimum_sizes_quickly_and_is_valid() {
    let spec = DemoSpec {
        scale: Scale::Large,
        seed: 1,
        last_day: None,
    };
    let mut counter = CountingSink::default();
    let started = std::time::Instant::now();
    let summary = generate(spec, &mut counter, false).await.expect("counting never fails");
    println!("large set generated in {:.2?}: {:?}", started.elapsed(), summary.counts);
    let n = |kind| count(&summary, kind);
    assert!(n(EntityKind::Customers) >= 100_000);
    assert!(n(EntityKind::Orders) >= 1_000_000);
    assert!(n(EntityKind::Touchpoints) >= 2_000_000);
    assert!(n(EntityKind::SurveyResponses) >= 200_000);
    assert_eq!(n(EntityKind::Accounts), 2_000);

    let mut checker = CheckingSink::default();
    generate(spec, &mut checker, false)
        .await
        .expect("checks panic rather than fail");
    for (kind, written) in &summary.counts {
        assert_eq!(counter.records.get(kind).copied().unwrap_or_default(), *written);
        assert_eq!(checker.count(*kind), *written);
    }
}
