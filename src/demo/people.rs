//! Customers: who they are, where they live, and the hidden traits that
//! shape what they later do.
//!
//! A [`Person`] carries latent traits (satisfaction, product interests) that
//! the journeys and surveys read, so that orders, support contacts and NPS
//! scores are correlated the way they are in real data instead of being
//! independent noise.

use entity::enums::{AccountKind, AccountTier};
use serde_json::{Value, json};

use super::catalog::{CATEGORIES, Catalog, REGION_SHARES, REGIONS, region_code};
use super::random::{
    DATA_END, DAY, DemoRng, HISTORY_START, between, chance, exponential, normal, pick, pick_weighted, timestamp, unit,
};
use crate::ingest::records::{ChannelConsentRecord, ConsentRecord, CustomerRecord, IdentityRecord};

/// Share of customers who are contacts at an account rather than consumers.
const CONTACT_SHARE: f64 = 0.30;

/// 2024-08-01T00:00:00Z: the earliest moment a customer becomes active.
const ACTIVE_FROM: i64 = 1_722_470_400;

/// One customer and the latent traits that drive their journey.
pub(super) struct Person {
    pub number: u64,
    pub id: String,
    pub region: usize,
    pub country: &'static str,
    /// The account the customer buys for, if they are a business contact.
    pub account: Option<usize>,
    pub account_tier: Option<AccountTier>,
    /// How happy the customer is with the brand, standard normal. Happy
    /// customers buy more often, need support less and score higher NPS.
    pub satisfaction: f64,
    /// When the customer starts interacting with the brand.
    pub active_from: i64,
    /// Relative demand per product category, tilted by interests.
    pub category_weights: [f64; CATEGORIES.len()],
    first_name: &'static str,
    last_name: &'static str,
    has_phone: bool,
    acquisition_channel: &'static str,
    traits: Value,
}

impl Person {
    pub fn is_contact(&self) -> bool {
        self.account.is_some()
    }

    /// The customer record, once the journey has shown when the customer
    /// was first seen.
    pub fn record(&self, catalog: &Catalog, first_seen_at: i64) -> CustomerRecord {
        let first = self.first_name.to_ascii_lowercase();
        let last = self.last_name.to_ascii_lowercase();
        CustomerRecord {
            external_id: self.id.clone(),
            account_external_id: catalog.account_id(self.account),
            email: format!("{first}.{last}.{:06}@example.com", self.number),
            name: format!("{} {}", self.first_name, self.last_name),
            phone: self.has_phone.then(|| phone(self.region, self.number)),
            region: region_code(self.region).to_string(),
            country: self.country.to_string(),
            acquisition_channel: self.acquisition_channel.to_string(),
            first_seen_at: timestamp(first_seen_at),
            traits: self.traits.clone(),
            // The web shop's own customer number, as a source system sends it.
            identities: vec![IdentityRecord {
                source: "shop".to_owned(),
                source_id: format!("S{:06}", self.number),
            }],
            consent: Some(self.consent(first_seen_at)),
        }
    }

    /// Consent given at signup: email from most customers, SMS and phone
    /// from some of those with a phone. Taken from the customer's number,
    /// not the random stream, so the rest of the demo data stays as it was.
    fn consent(&self, first_seen_at: i64) -> ConsentRecord {
        use entity::enums::ConsentStatus::{Denied, Granted};
        let given = |status| ChannelConsentRecord {
            status,
            updated_at: timestamp(first_seen_at),
            source: "signup_form".to_owned(),
        };
        let email = match self.number % 10 {
            0..=6 => Some(given(Granted)),
            7 | 8 => Some(given(Denied)),
            _ => None,
        };
        let sms = self
            .has_phone
            .then(|| given(if self.number.is_multiple_of(3) { Granted } else { Denied }));
        let phone = (self.has_phone && self.number.is_multiple_of(2)).then(|| given(Granted));
        ConsentRecord { email, sms, phone }
    }
}

const FIRST_NAMES: [&str; 40] = [
    "Ada", "Ben", "Cal", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kai", "Lea", "Max", "Nia", "Oli", "Pia",
    "Ray", "Sam", "Tia", "Uma", "Vic", "Wes", "Xan", "Yas", "Zoe", "Anna", "Leon", "Emma", "Noah", "Lucas", "Chloe",
    "Mia", "Jonas", "Sofia", "Hugo", "Ines", "Omar", "Priya", "Tom", "Greta",
];

const LAST_NAMES: [&str; 40] = [
    "Adams", "Brown", "Clark", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Klein", "Lopez",
    "Meyer", "Novak", "Olsen", "Price", "Quinn", "Roux", "Smith", "Taylor", "Vogel", "White", "Walsh", "Martin",
    "Bernard", "Schmidt", "Weber", "Wagner", "Lambert", "Moreau", "Murphy", "Kelly", "Patel", "Nguyen", "Okafor",
    "Rossi", "Berg", "Keller", "Young", "Baker",
];

const INTERESTS: [&str; 6] = ["cooking", "pets", "gardening", "diy", "fitness", "tech"];

/// Draws customer number `number`.
pub(super) fn person(rng: &mut DemoRng, catalog: &Catalog, number: u64) -> Person {
    let account = if chance(rng, CONTACT_SHARE) {
        // Contacts mostly work at businesses that buy for their own use;
        // a few are buyers at retailers and distributors.
        let kind = pick_weighted(
            rng,
            &[
                (AccountKind::Business, 0.8),
                (AccountKind::Retailer, 0.1),
                (AccountKind::Distributor, 0.1),
            ],
        );
        let region = pick_weighted(rng, &REGION_SHARES);
        catalog.account_of(rng, kind, region)
    } else {
        None
    };
    let account_info = account.and_then(|index| catalog.accounts.get(index));
    // An account's contacts share its region.
    let region = match account_info {
        Some(account) => account.region,
        None => pick_weighted(rng, &REGION_SHARES),
    };
    let country = REGIONS.get(region).map_or("GB", |r| pick_weighted(rng, &r.countries));

    let mut category_weights = CATEGORIES.map(|category| category.demand);
    let traits = match account_info {
        Some(account) => {
            let company_size = match account.tier {
                AccountTier::Strategic => pick_weighted(rng, &[("ENT", 0.8), ("MID", 0.2)]),
                AccountTier::Key => pick_weighted(rng, &[("ENT", 0.2), ("MID", 0.6), ("SMB", 0.2)]),
                AccountTier::Standard => pick_weighted(rng, &[("MID", 0.3), ("SMB", 0.7)]),
            };
            let role = pick(rng, &["buyer", "facilities", "procurement", "owner"]);
            json!({ "role": role, "companySize": company_size })
        }
        None => consumer_traits(rng, &mut category_weights),
    };

    let acquisition_channel = if account.is_some() {
        pick_weighted(
            rng,
            &[
                ("partner", 0.30),
                ("direct", 0.30),
                ("referral", 0.20),
                ("organic_search", 0.12),
                ("paid_search", 0.08),
            ],
        )
    } else {
        pick_weighted(
            rng,
            &[
                ("organic_search", 0.20),
                ("paid_search", 0.18),
                ("social", 0.17),
                ("referral", 0.12),
                ("retail_store", 0.18),
                ("partner", 0.05),
                ("direct", 0.10),
            ],
        )
    };

    // More customers arrive early than late, so that cohorts have history.
    let span = (DATA_END - 14 * DAY - ACTIVE_FROM) as f64;
    let active_from = ACTIVE_FROM + (span * unit(rng).powf(1.6)) as i64;

    Person {
        number,
        id: format!("C{number:06}"),
        region,
        country,
        account,
        account_tier: account_info.map(|a| a.tier),
        satisfaction: normal(rng),
        active_from,
        category_weights,
        first_name: pick(rng, &FIRST_NAMES),
        last_name: pick(rng, &LAST_NAMES),
        has_phone: chance(rng, 0.6),
        acquisition_channel,
        traits,
    }
}

/// Consumer traits, and the tilt they give to what the consumer buys
/// (pet owners buy vacuums, cooks buy kitchen products, …).
fn consumer_traits(rng: &mut DemoRng, category_weights: &mut [f64; CATEGORIES.len()]) -> Value {
    let household = pick_weighted(
        rng,
        &[("single", 0.3), ("couple", 0.3), ("family", 0.3), ("shared", 0.1)],
    );
    let interest_count = pick_weighted(rng, &[(0usize, 0.3), (1, 0.45), (2, 0.25)]);
    let mut interests: Vec<&str> = Vec::with_capacity(2);
    while interests.len() < interest_count {
        let interest = pick(rng, &INTERESTS);
        if !interests.contains(&interest) {
            interests.push(interest);
        }
    }
    interests.sort_unstable();
    for interest in &interests {
        let (category, boost) = match *interest {
            "pets" => ("cordless_vacuum", 1.8),
            "diy" => ("upright_vacuum", 1.6),
            "tech" => ("robot_vacuum", 2.2),
            "fitness" => ("hair_care", 1.6),
            "gardening" => ("air_purifier", 1.5),
            _ => ("kitchen", 3.0),
        };
        let index = CATEGORIES.iter().position(|c| c.name == category);
        if let Some(weight) = index.and_then(|index| category_weights.get_mut(index)) {
            *weight *= boost;
        }
    }
    let mut traits = json!({ "household": household, "interests": interests });
    if interests.contains(&"pets")
        && chance(rng, 0.6)
        && let Some(object) = traits.as_object_mut()
    {
        object.insert("pets".to_string(), Value::Bool(true));
    }
    traits
}

/// A fictional phone number, in the ranges reserved for drama where the
/// country has one.
fn phone(region: usize, number: u64) -> String {
    match region_code(region) {
        "DE" => format!("+49 30 555{:04}", number % 10_000),
        "FR" => format!("+33 1 99 00 {:02} {:02}", number / 100 % 100, number % 100),
        "US" => format!("+1 202 555 01{:02}", number % 100),
        _ => format!("+44 7700 900{:03}", number % 1_000),
    }
}

/// When a customer was first seen: a little before their earliest activity,
/// and never before 2024.
pub(super) fn first_seen(rng: &mut DemoRng, earliest_activity: i64) -> i64 {
    let lead_time = exponential(rng, 20.0 * DAY as f64).min(240.0 * DAY as f64) as i64;
    (earliest_activity - lead_time - between(rng, 60, 3_600)).max(HISTORY_START)
}
