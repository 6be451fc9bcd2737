//! Survey responses for the four demo surveys.
//!
//! Scores are not drawn independently: NPS follows the customer's own
//! experience (satisfaction, repeat purchases, recent support contacts),
//! brand-tracker answers follow the funnel and purchase intent follows the
//! funnel position, and the drivers study makes purchase intent and NPS
//! depend on the attribute ratings with different true weights plus noise,
//! so that the driver analysis has structure to find.

use entity::enums::AccountTier;
use rand::seq::SliceRandom;

use super::Sequences;
use super::catalog::{BRAND_TRACKER, BUSINESS_NPS, CUSTOMER_NPS, PURCHASE_DRIVERS, REGION_SHARES, region_code};
use super::journeys::Journey;
use super::people::Person;
use super::random::{
    DATA_END, DATA_START, DAY, DemoRng, between, chance, normal, pick, pick_index, pick_weighted, scale_point,
    timestamp,
};
use crate::ingest::records::{BrandAnswerRecord, DriverRatingRecord, SurveyResponseRecord};

/// What the panel surveys need to know about a customer who answers them.
pub(super) struct PanelMember {
    pub id: String,
    pub region: usize,
    pub first_seen_at: i64,
    pub has_orders: bool,
    pub satisfaction: f64,
}

/// The customer NPS survey (S01), sent after a purchase to some buyers.
pub(super) fn customer_nps(
    rng: &mut DemoRng,
    person: &Person,
    journey: &Journey,
    response_rate: f64,
    sequences: &mut Sequences,
) -> Option<SurveyResponseRecord> {
    if journey.orders.is_empty() || !chance(rng, 0.30 * response_rate) {
        return None;
    }
    let index = usize::try_from(between(rng, 0, journey.orders.len() as i64 - 1)).ok()?;
    let order_at = journey.orders.get(index)?.at;
    let responded_at = order_at + between(rng, 3 * DAY, 21 * DAY);
    if responded_at > DATA_END {
        return None;
    }
    let repeat_orders = journey
        .orders
        .iter()
        .filter(|order| order.at <= responded_at)
        .count()
        .saturating_sub(1);
    let recent_support = journey.support_before(responded_at, 60);
    let latent = 8.0 + 1.5 * person.satisfaction + 0.25 * repeat_orders.min(4) as f64
        - 1.3 * recent_support.min(2) as f64
        + normal(rng);
    // A few respondents open the survey and skip the score.
    let score = (!chance(rng, 0.03)).then(|| scale_point(latent, 0, 10));
    let comment = comment(rng, score, 0.3, &CONSUMER_COMMENTS);
    let customer = Some(person.id.clone());
    let blank = response(sequences, CUSTOMER_NPS, customer, person.region, responded_at);
    Some(SurveyResponseRecord {
        nps_score: score,
        comment,
        ..blank
    })
}

/// The business relationship NPS survey (S04), for account contacts.
pub(super) fn business_nps(
    rng: &mut DemoRng,
    person: &Person,
    journey: &Journey,
    first_seen_at: i64,
    response_rate: f64,
    sequences: &mut Sequences,
) -> Option<SurveyResponseRecord> {
    if !person.is_contact() || !chance(rng, 0.3 * response_rate) {
        return None;
    }
    let responded_at = between(rng, first_seen_at.clamp(DATA_START, DATA_END), DATA_END);
    let tier_bonus = match person.account_tier {
        Some(AccountTier::Strategic) => 0.8,
        Some(AccountTier::Key) => 0.3,
        _ => 0.0,
    };
    let latent = 7.6 + tier_bonus + 1.2 * person.satisfaction + 0.15 * journey.sales_touches().min(6) as f64
        - 0.7 * journey.lost_leads().min(2) as f64
        + 1.1 * normal(rng);
    let score = Some(scale_point(latent, 0, 10));
    let comment = comment(rng, score, 0.35, &BUSINESS_COMMENTS);
    let customer = Some(person.id.clone());
    let blank = response(sequences, BUSINESS_NPS, customer, person.region, responded_at);
    Some(SurveyResponseRecord {
        nps_score: score,
        comment,
        ..blank
    })
}

const COMPETITORS: [&str; 3] = ["Dyson", "Bissell", "Vax"];

/// A brand-tracker response (S02): Shark plus two or three competitors,
/// each with the funnel booleans, and the intent to buy Shark.
pub(super) fn brand_tracker(
    rng: &mut DemoRng,
    member: Option<&PanelMember>,
    sequences: &mut Sequences,
) -> SurveyResponseRecord {
    let region = member.map_or_else(|| pick_weighted(rng, &REGION_SHARES), |m| m.region);
    let is_buyer = member.is_some_and(|m| m.has_orders);
    let responded_at = response_time(rng, member);

    // Shark first, then two or three competitors in a random order.
    let mut competitors = COMPETITORS;
    competitors.shuffle(rng);
    let competitor_count = if chance(rng, 0.5) { 2 } else { 3 };
    let brands = std::iter::once("Shark").chain(competitors.into_iter().take(competitor_count));

    let mut answers: Vec<BrandAnswerRecord> = brands
        .map(|brand| {
            let (aware, consider) = funnel_rates(brand, region, is_buyer);
            let aware = chance(rng, aware);
            let considered = aware && chance(rng, consider);
            BrandAnswerRecord {
                brand: brand.to_string(),
                aware,
                considered,
                preferred: false,
            }
        })
        .collect();
    // At most one brand is preferred, and only among those considered.
    if chance(rng, 0.75) {
        let weights: Vec<f64> = answers
            .iter()
            .map(|answer| {
                if answer.considered {
                    preference_weight(&answer.brand, is_buyer)
                } else {
                    0.0
                }
            })
            .collect();
        if weights.iter().any(|weight| *weight > 0.0)
            && let Some(answer) = pick_index(rng, &weights).and_then(|index| answers.get_mut(index))
        {
            answer.preferred = true;
        }
    }

    let shark = answers.first();
    let funnel_depth = shark.map_or(0.0, |a| {
        f64::from(u8::from(a.aware) + u8::from(a.considered) + u8::from(a.preferred))
    });
    let latent = 1.6 + 0.9 * funnel_depth + 0.7 * normal(rng);
    let purchase_intent = (!chance(rng, 0.05)).then(|| scale_point(latent, 1, 5));
    let nps_score = match member {
        Some(member) if member.has_orders && chance(rng, 0.3) => {
            Some(scale_point(8.0 + 1.5 * member.satisfaction + normal(rng), 0, 10))
        }
        _ => None,
    };

    let blank = response(
        sequences,
        BRAND_TRACKER,
        member.map(|m| m.id.clone()),
        region,
        responded_at,
    );
    SurveyResponseRecord {
        nps_score,
        purchase_intent,
        brands: answers,
        ..blank
    }
}

/// Awareness and consideration-given-awareness for a brand in a region.
/// Vax is a British brand and Bissell an American one, which shows in their
/// regional awareness.
fn funnel_rates(brand: &str, region: usize, is_buyer: bool) -> (f64, f64) {
    let code = region_code(region);
    match brand {
        "Shark" if is_buyer => (1.0, 0.85),
        "Shark" => (0.8, 0.55),
        "Dyson" => (0.92, 0.5),
        "Bissell" if code == "US" => (0.8, 0.45),
        "Bissell" => (0.5, 0.3),
        _ if code == "UK" => (0.85, 0.45),
        _ => (0.35, 0.3),
    }
}

fn preference_weight(brand: &str, is_buyer: bool) -> f64 {
    match brand {
        "Shark" if is_buyer => 3.0,
        "Shark" => 1.3,
        "Dyson" => 1.1,
        _ => 0.5,
    }
}

/// The attributes of the drivers study, with their mean rating (Shark is
/// known for suction and design, less so for battery life and noise).
const ATTRIBUTES: [(&str, f64); 7] = [
    ("battery", 6.1),
    ("design", 7.2),
    ("ease_of_cleaning", 6.9),
    ("noise", 5.6),
    ("price", 5.9),
    ("suction", 7.8),
    ("weight", 6.3),
];

/// True weights of each attribute (same order as [`ATTRIBUTES`]) on
/// purchase intent and on NPS. Purchase intent is driven by suction and
/// price; recommendation more by ease of cleaning and design.
const INTENT_WEIGHTS: [f64; 7] = [0.16, 0.05, 0.12, 0.03, 0.24, 0.32, 0.08];
const NPS_WEIGHTS: [f64; 7] = [0.10, 0.20, 0.26, 0.14, 0.06, 0.18, 0.06];

/// A purchase-drivers response (S03): seven ratings (a few skipped), and
/// purchase intent and NPS that depend on them.
pub(super) fn purchase_drivers(
    rng: &mut DemoRng,
    member: Option<&PanelMember>,
    sequences: &mut Sequences,
) -> SurveyResponseRecord {
    let region = member.map_or_else(|| pick_weighted(rng, &REGION_SHARES), |m| m.region);
    let responded_at = response_time(rng, member);
    // A general impression lifts or lowers every rating together, as it
    // does in real surveys; on top of it each attribute varies on its own.
    let general = normal(rng) + member.map_or(0.0, |m| 0.4 * m.satisfaction);
    let code = region_code(region);
    let mut intent_latent = 0.0;
    let mut nps_latent = 0.0;
    let mut ratings = Vec::with_capacity(ATTRIBUTES.len());
    for (index, (attribute, mean)) in ATTRIBUTES.iter().enumerate() {
        let rating = scale_point(mean + 1.1 * general + 1.3 * normal(rng), 1, 10);
        let deviation = f64::from(rating) - mean;
        // Regions differ in what sways them: price in the US, design in
        // France, noise in Germany.
        let regional = match (code, *attribute) {
            ("US", "price") => 1.6,
            ("FR", "design") => 2.0,
            ("DE", "noise") => 2.0,
            _ => 1.0,
        };
        intent_latent += INTENT_WEIGHTS.get(index).copied().unwrap_or_default() * regional * deviation;
        nps_latent += NPS_WEIGHTS.get(index).copied().unwrap_or_default() * deviation;
        if !chance(rng, 0.05) {
            ratings.push(DriverRatingRecord {
                attribute: (*attribute).to_string(),
                rating,
            });
        }
    }
    let purchase_intent =
        (!chance(rng, 0.03)).then(|| scale_point(3.1 + 0.9 * intent_latent + 0.8 * normal(rng), 1, 5));
    let nps_score = chance(rng, 0.7).then(|| scale_point(7.9 + 1.1 * nps_latent + 1.0 * normal(rng), 0, 10));

    let blank = response(
        sequences,
        PURCHASE_DRIVERS,
        member.map(|m| m.id.clone()),
        region,
        responded_at,
    );
    SurveyResponseRecord {
        nps_score,
        purchase_intent,
        ratings,
        ..blank
    }
}

/// When a panel response came in: any time in the data window, but not
/// before the respondent was first seen.
fn response_time(rng: &mut DemoRng, member: Option<&PanelMember>) -> i64 {
    let from = member.map_or(DATA_START, |m| m.first_seen_at.clamp(DATA_START, DATA_END));
    between(rng, from, DATA_END)
}

/// A numbered response with no answers yet; each survey fills in its own.
fn response(
    sequences: &mut Sequences,
    survey: &str,
    customer: Option<String>,
    region: usize,
    responded_at: i64,
) -> SurveyResponseRecord {
    SurveyResponseRecord {
        external_id: sequences.next_response(),
        survey_external_id: survey.to_string(),
        customer_external_id: customer,
        region: region_code(region).to_string(),
        responded_at: timestamp(responded_at),
        nps_score: None,
        purchase_intent: None,
        comment: None,
        brands: Vec::new(),
        ratings: Vec::new(),
    }
}

/// Free-text comments by sentiment: (promoter, passive, detractor).
struct Comments {
    promoter: [&'static str; 4],
    passive: [&'static str; 3],
    detractor: [&'static str; 4],
}

const CONSUMER_COMMENTS: Comments = Comments {
    promoter: [
        "Great suction",
        "Love the design",
        "Easy to empty",
        "Customer service was helpful",
    ],
    passive: ["Good value", "A bit heavy", "Does the job"],
    detractor: [
        "Stopped working after a month",
        "Arrived late",
        "Too noisy",
        "Battery could last longer",
    ],
};

const BUSINESS_COMMENTS: Comments = Comments {
    promoter: [
        "Account manager is responsive",
        "Great product training",
        "Reliable deliveries",
        "Fair pricing",
    ],
    passive: [
        "Pricing is competitive",
        "Ordering portal is fine",
        "Support is slow at times",
    ],
    detractor: [
        "Delivery times slipped",
        "Invoicing is confusing",
        "Hard to reach our rep",
        "Too many backorders",
    ],
};

/// A comment matching the score, left by a fraction `rate` of respondents.
fn comment(rng: &mut DemoRng, score: Option<i32>, rate: f64, comments: &Comments) -> Option<String> {
    let score = score?;
    if !chance(rng, rate) {
        return None;
    }
    let text = match score {
        9.. => pick(rng, &comments.promoter),
        7..=8 => pick(rng, &comments.passive),
        _ => pick(rng, &comments.detractor),
    };
    Some(text.to_string())
}
