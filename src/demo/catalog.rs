//! The reference data that everything else points at: regions, accounts,
//! products, campaigns and surveys.
//!
//! It is small (a few thousand records at most) and is kept in memory for
//! the whole run, so that customers, orders and touchpoints can be drawn
//! against it and only ever refer to records that were already written.

use std::collections::HashSet;

use entity::enums::{AccountKind, AccountTier, SurveyKind, Team};

use super::random::{DATA_END, DAY, DemoRng, TOUCH_START, between, date_of, midnight, pick, pick_weighted, timestamp};
use crate::ingest::records::{AccountRecord, CampaignRecord, ProductRecord, SurveyRecord};

/// A sales region with its countries and the reps who own its accounts.
pub(super) struct Region {
    pub code: &'static str,
    pub countries: [(&'static str, f64); 2],
    /// Share of consumers who live in this region.
    pub share: f64,
    /// Sales reps who own the region's accounts.
    pub owners: [&'static str; 3],
}

pub(super) const REGIONS: [Region; 4] = [
    Region {
        code: "UK",
        // The UK region is Great Britain alone; every region lists two
        // entries so that they share one array type.
        countries: [("GB", 1.0), ("GB", 1.0)],
        share: 0.32,
        owners: ["Chloe Hughes", "Finn Walsh", "Grace Liu"],
    },
    Region {
        code: "DE",
        countries: [("DE", 0.6), ("AT", 0.4)],
        share: 0.22,
        owners: ["Hugo Martin", "Lena Fischer", "Jonas Klein"],
    },
    Region {
        code: "FR",
        countries: [("FR", 0.6), ("BE", 0.4)],
        share: 0.18,
        owners: ["Alice Moreau", "Elena Rossi", "Louis Roux"],
    },
    Region {
        code: "US",
        countries: [("US", 0.7), ("CA", 0.3)],
        share: 0.28,
        owners: ["Ben Okafor", "Dev Patel", "Maya Brooks"],
    },
];

/// Indices into [`REGIONS`] with their consumer shares, for weighted draws.
pub(super) const REGION_SHARES: [(usize, f64); 4] = [
    (0, REGIONS[0].share),
    (1, REGIONS[1].share),
    (2, REGIONS[2].share),
    (3, REGIONS[3].share),
];

/// Product categories: code for the SKU, display name, demand weight and
/// list-price range in whole dollars.
pub(super) struct Category {
    pub name: &'static str,
    sku_code: &'static str,
    title: &'static str,
    pub demand: f64,
    price_dollars: (i64, i64),
}

pub(super) const CATEGORIES: [Category; 6] = [
    Category {
        name: "cordless_vacuum",
        sku_code: "COR",
        title: "Cordless Vacuum",
        demand: 0.30,
        price_dollars: (249, 499),
    },
    Category {
        name: "upright_vacuum",
        sku_code: "UPR",
        title: "Upright Vacuum",
        demand: 0.18,
        price_dollars: (179, 389),
    },
    Category {
        name: "robot_vacuum",
        sku_code: "ROB",
        title: "Robot Vacuum",
        demand: 0.16,
        price_dollars: (299, 899),
    },
    Category {
        name: "hair_care",
        sku_code: "HAI",
        title: "Hair Care",
        demand: 0.14,
        price_dollars: (149, 399),
    },
    Category {
        name: "air_purifier",
        sku_code: "AIR",
        title: "Air Purifier",
        demand: 0.12,
        price_dollars: (149, 449),
    },
    Category {
        name: "kitchen",
        sku_code: "KIT",
        title: "Kitchen",
        demand: 0.10,
        price_dollars: (79, 249),
    },
];

const PRODUCT_COUNT: usize = 40;
/// The first products launch before the data starts, so every order can be
/// filled from them; the rest launch during 2025–2026.
const ESTABLISHED_PRODUCTS: usize = 30;

const MARKETING_CHANNELS: [&str; 5] = ["email", "paid_search", "social", "display", "tv"];
const SALES_CHANNELS: [&str; 3] = ["field", "phone", "events"];

/// Survey externalIds, fixed because responses are generated per survey.
pub(super) const CUSTOMER_NPS: &str = "S01";
pub(super) const BRAND_TRACKER: &str = "S02";
pub(super) const PURCHASE_DRIVERS: &str = "S03";
pub(super) const BUSINESS_NPS: &str = "S04";

pub(super) struct Account {
    pub id: String,
    pub kind: AccountKind,
    pub tier: AccountTier,
    pub region: usize,
}

pub(super) struct Product {
    pub id: String,
    pub category: usize,
    pub price_minor: i64,
    pub launched_at: i64,
}

pub(super) struct Campaign {
    pub id: String,
    pub team: Team,
    pub channel: &'static str,
    /// Midnight UTC of `startsOn`.
    pub starts_at: i64,
    /// Midnight UTC of the day after `endsOn`: campaigns run whole days.
    pub ends_before: i64,
}

impl Campaign {
    /// Whether an instant falls on one of the campaign's (inclusive) days.
    pub fn runs_at(&self, at: i64) -> bool {
        self.starts_at <= at && at < self.ends_before
    }
}

/// The in-memory reference data, with lookups the journeys need.
pub(super) struct Catalog {
    pub accounts: Vec<Account>,
    pub products: Vec<Product>,
    pub campaigns: Vec<Campaign>,
    /// Account indices per kind (outer, in `AccountKind::ALL` order) and
    /// region (inner).
    accounts_by_kind_region: Vec<Vec<Vec<usize>>>,
    /// Product indices per category.
    products_by_category: Vec<Vec<usize>>,
}

/// The reference records, ready to be written before anything else.
pub(super) struct CatalogRecords {
    pub accounts: Vec<AccountRecord>,
    pub products: Vec<ProductRecord>,
    pub campaigns: Vec<CampaignRecord>,
    pub surveys: Vec<SurveyRecord>,
}

impl Catalog {
    /// Draws the reference data: `account_count` accounts and a fixed
    /// product range, campaign calendar and survey list. `spend_scale`
    /// multiplies campaign budgets so that ROI stays plausible when the
    /// customer base is larger.
    pub fn generate(rng: &mut DemoRng, account_count: usize, spend_scale: f64) -> (Catalog, CatalogRecords) {
        let (accounts, account_records) = accounts(rng, account_count);
        let (products, product_records) = products(rng);
        let (campaigns, campaign_records) = campaigns(rng, spend_scale);

        let mut accounts_by_kind_region = vec![vec![Vec::new(); REGIONS.len()]; AccountKind::ALL.len()];
        for (index, account) in accounts.iter().enumerate() {
            if let Some(slot) = accounts_by_kind_region
                .get_mut(kind_index(account.kind))
                .and_then(|regions| regions.get_mut(account.region))
            {
                slot.push(index);
            }
        }
        let mut products_by_category = vec![Vec::new(); CATEGORIES.len()];
        for (index, product) in products.iter().enumerate() {
            if let Some(slot) = products_by_category.get_mut(product.category) {
                slot.push(index);
            }
        }

        let catalog = Catalog {
            accounts,
            products,
            campaigns,
            accounts_by_kind_region,
            products_by_category,
        };
        let records = CatalogRecords {
            accounts: account_records,
            products: product_records,
            campaigns: campaign_records,
            surveys: surveys(),
        };
        (catalog, records)
    }

    /// The externalId of account `index`, if there is one.
    pub fn account_id(&self, index: Option<usize>) -> Option<String> {
        index
            .and_then(|index| self.accounts.get(index))
            .map(|account| account.id.clone())
    }

    /// A random account of `kind` in `region`, or of `kind` anywhere when
    /// the region has none.
    pub fn account_of(&self, rng: &mut DemoRng, kind: AccountKind, region: usize) -> Option<usize> {
        let regions = self.accounts_by_kind_region.get(kind_index(kind))?;
        let local = regions.get(region).filter(|accounts| !accounts.is_empty());
        let candidates = match local {
            Some(accounts) => accounts,
            None => regions.iter().find(|accounts| !accounts.is_empty())?,
        };
        let index = usize::try_from(between(rng, 0, candidates.len() as i64 - 1)).ok()?;
        candidates.get(index).copied()
    }

    /// A random product of `category` that is on sale at `at`. Falls back
    /// to the category's first product, which launched before the data
    /// starts.
    pub fn product_of(&self, rng: &mut DemoRng, category: usize, at: i64) -> Option<usize> {
        let candidates = self.products_by_category.get(category)?;
        for _ in 0..4 {
            let index = usize::try_from(between(rng, 0, candidates.len() as i64 - 1)).ok()?;
            if let Some(&product) = candidates.get(index)
                && self.products.get(product).is_some_and(|p| p.launched_at <= at)
            {
                return Some(product);
            }
        }
        candidates.first().copied()
    }

    /// A random campaign of `team` running at `at`, if any.
    pub fn running_campaign(&self, rng: &mut DemoRng, team: Team, at: i64) -> Option<usize> {
        let running = |campaign: &&Campaign| campaign.team == team && campaign.runs_at(at);
        let count = self.campaigns.iter().filter(running).count();
        if count == 0 {
            return None;
        }
        let wanted = usize::try_from(between(rng, 0, count as i64 - 1)).ok()?;
        self.campaigns
            .iter()
            .enumerate()
            .filter(|(_, campaign)| running(campaign))
            .nth(wanted)
            .map(|(index, _)| index)
    }
}

fn kind_index(kind: AccountKind) -> usize {
    AccountKind::ALL
        .iter()
        .position(|candidate| *candidate == kind)
        .unwrap_or_default()
}

const NAME_STEMS: [&str; 20] = [
    "Blue", "Summit", "Silver", "Bright", "River", "Maple", "Stone", "Green", "Oak", "Iron", "North", "Harbor",
    "Cedar", "Golden", "Pine", "Granite", "Willow", "Atlas", "Crown", "Beacon",
];

/// What an account's name ends in, so a name hints at what it does.
fn name_endings(kind: AccountKind) -> [&'static str; 5] {
    match kind {
        AccountKind::Retailer => ["Stores", "Retail", "Home", "Goods", "Market"],
        AccountKind::Distributor => ["Logistics", "Trading", "Supply", "Wholesale", "Distribution"],
        AccountKind::Business => ["Hotels", "Facilities", "Offices", "Clinics", "Property"],
    }
}

fn accounts(rng: &mut DemoRng, count: usize) -> (Vec<Account>, Vec<AccountRecord>) {
    let mut names = HashSet::new();
    let mut accounts = Vec::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    let kinds = [
        (AccountKind::Business, 0.52),
        (AccountKind::Retailer, 0.28),
        (AccountKind::Distributor, 0.20),
    ];
    let account_regions = [(0, 0.30), (1, 0.25), (2, 0.20), (3, 0.25)];
    for index in 0..count {
        // The first twelve accounts cover every kind in every region, so
        // that retail and marketplace orders always find a partner nearby.
        let (kind, region) = match (AccountKind::ALL.get(index % 3), index < 12) {
            (Some(kind), true) => (*kind, index / 3),
            _ => (pick_weighted(rng, &kinds), pick_weighted(rng, &account_regions)),
        };
        let tier = pick_weighted(
            rng,
            &[
                (AccountTier::Strategic, 0.12),
                (AccountTier::Key, 0.28),
                (AccountTier::Standard, 0.60),
            ],
        );
        let number = index + 1;
        let base = format!("{} {}", pick(rng, &NAME_STEMS), pick(rng, &name_endings(kind)));
        // A number only disambiguates a name already taken; as base names
        // never contain digits, the numbered form is unique too.
        let name = if names.contains(&base) {
            format!("{base} {number}")
        } else {
            base
        };
        names.insert(name.clone());
        let owner = REGIONS
            .get(region)
            .map(|r| pick(rng, &r.owners))
            .unwrap_or("Chloe Hughes");
        let id = format!("A{number:04}");
        records.push(AccountRecord {
            external_id: id.clone(),
            name,
            kind,
            region: region_code(region).to_string(),
            tier,
            owner: owner.to_string(),
        });
        accounts.push(Account { id, kind, tier, region });
    }
    (accounts, records)
}

/// The code of region `index` ("UK", "DE", …).
pub(super) fn region_code(index: usize) -> &'static str {
    REGIONS.get(index).map_or("UK", |region| region.code)
}

fn products(rng: &mut DemoRng) -> (Vec<Product>, Vec<ProductRecord>) {
    let mut products = Vec::with_capacity(PRODUCT_COUNT);
    let mut records = Vec::with_capacity(PRODUCT_COUNT);
    // Established products launched between 2021 and late 2024; new ones
    // between January 2025 and May 2026.
    let established = (midnight_of(2021, 1, 1), midnight_of(2024, 11, 30));
    let new_launches = (midnight_of(2025, 1, 15), midnight_of(2026, 5, 31));
    for index in 0..PRODUCT_COUNT {
        let number = index + 1;
        let category_index = index % CATEGORIES.len();
        let Some(category) = CATEGORIES.get(category_index) else {
            continue;
        };
        let (from, to) = if index < ESTABLISHED_PRODUCTS {
            established
        } else {
            new_launches
        };
        let launched_at = between(rng, from / DAY, to / DAY) * DAY;
        let (low, high) = category.price_dollars;
        let price_minor = between(rng, low / 10, high / 10) * 1_000 - 1; // e.g. 34_999
        let id = format!("P{number:03}");
        records.push(ProductRecord {
            external_id: id.clone(),
            sku: format!("SHK-{}-{number:03}", category.sku_code),
            name: format!("Shark {} {}", category.title, 100 + number),
            category: category.name.to_string(),
            launched_at: timestamp(launched_at),
        });
        products.push(Product {
            id,
            category: category_index,
            price_minor,
            launched_at,
        });
    }
    (products, records)
}

fn midnight_of(year: i32, month: u32, day: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(year, month, day)
        .map(midnight)
        .unwrap_or_default()
}

/// Season names by the month a campaign starts in, with the year written
/// as a season year so that January and December pushes never share a name.
fn season_name(at: i64) -> String {
    use chrono::Datelike;
    let date = date_of(at);
    let year = date.year();
    match date.month() {
        12 => format!("Winter {year}/{:02}", (year + 1) % 100),
        1 | 2 => format!("Winter {}/{:02}", year - 1, year % 100),
        3..=5 => format!("Spring {year}"),
        6..=8 => format!("Summer {year}"),
        _ => format!("Autumn {year}"),
    }
}

/// A campaign before it has an externalId.
struct CampaignPlan {
    name: String,
    team: Team,
    channel: &'static str,
    starts: i64,
    ends: i64,
    /// In hundreds of dollars, before scaling with the audience.
    budget_hundreds: i64,
}

fn campaigns(rng: &mut DemoRng, spend_scale: f64) -> (Vec<Campaign>, Vec<CampaignRecord>) {
    let mut plans = Vec::new();

    // Marketing pushes: a new one every five or six weeks, cycling through
    // the channels, each running six to eleven weeks.
    let mut starts = TOUCH_START + between(rng, 5, 15) * DAY;
    for channel in MARKETING_CHANNELS.iter().copied().cycle() {
        if starts >= DATA_END - 45 * DAY {
            break;
        }
        let ends = (starts + between(rng, 42, 80) * DAY).min(DATA_END);
        let budget_hundreds = if channel == "tv" {
            between(rng, 150, 450)
        } else {
            between(rng, 40, 380)
        };
        let name = format!("{} {} push", season_name(starts), channel.replace('_', " "));
        plans.push(CampaignPlan {
            name,
            team: Team::Marketing,
            channel,
            starts,
            ends,
            budget_hundreds,
        });
        starts += between(rng, 34, 42) * DAY;
    }

    // Sales programmes: one per quarter, each on one sales channel.
    let quarters = [
        (2024, 4),
        (2025, 1),
        (2025, 2),
        (2025, 3),
        (2025, 4),
        (2026, 1),
        (2026, 2),
    ];
    for ((year, quarter), channel) in quarters.into_iter().zip(SALES_CHANNELS.iter().copied().cycle()) {
        let starts = midnight_of(year, quarter * 3 - 2, 1);
        let next_quarter = if quarter == 4 {
            midnight_of(year + 1, 1, 1)
        } else {
            midnight_of(year, quarter * 3 + 1, 1)
        };
        plans.push(CampaignPlan {
            name: format!("Sales {channel} programme Q{quarter}/{year}"),
            team: Team::Sales,
            channel,
            starts,
            ends: (next_quarter - DAY).min(DATA_END),
            budget_hundreds: between(rng, 100, 250),
        });
    }

    // An always-on community programme costs nothing, so its ROI is
    // undefined: a case the API has to present sensibly.
    plans.push(CampaignPlan {
        name: "Organic community posts".to_string(),
        team: Team::Marketing,
        channel: "social",
        starts: midnight_of(2025, 5, 1),
        ends: DATA_END,
        budget_hundreds: 0,
    });

    let mut campaigns = Vec::with_capacity(plans.len());
    let mut records = Vec::with_capacity(plans.len());
    for (index, plan) in plans.into_iter().enumerate() {
        let id = format!("M{:03}", index + 1);
        let starts_on = date_of(plan.starts);
        let ends_on = date_of(plan.ends);
        // Budgets stay whole hundreds of dollars when scaled.
        let spend_minor = (plan.budget_hundreds as f64 * spend_scale).round() as i64 * 10_000;
        records.push(CampaignRecord {
            external_id: id.clone(),
            name: plan.name,
            team: plan.team,
            channel: plan.channel.to_string(),
            spend_minor,
            starts_on,
            ends_on,
        });
        campaigns.push(Campaign {
            id,
            team: plan.team,
            channel: plan.channel,
            starts_at: midnight(starts_on),
            ends_before: midnight(ends_on) + DAY,
        });
    }
    (campaigns, records)
}

fn surveys() -> Vec<SurveyRecord> {
    [
        (CUSTOMER_NPS, "Customer NPS 2025-2026", SurveyKind::Nps),
        (BRAND_TRACKER, "Brand tracker", SurveyKind::BrandTracker),
        (PURCHASE_DRIVERS, "Purchase drivers study", SurveyKind::Drivers),
        (BUSINESS_NPS, "Business relationship NPS", SurveyKind::Nps),
    ]
    .into_iter()
    .map(|(id, name, kind)| SurveyRecord {
        external_id: id.to_string(),
        name: name.to_string(),
        kind,
    })
    .collect()
}
