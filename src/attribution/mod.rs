//! Attribution (DESIGN.md §3): who earned a conversion's value. A
//! conversion is an order (its amount) or a WON lead (its amount); its
//! touches are the customer's touchpoints in the lookback window before
//! it (lower bound inclusive, the conversion instant excluded). Each model
//! splits the value over the touches ([`weights`]); credit is summed by
//! team, channel and campaign, and conversions without a touch go to NONE.
//!
//! The database joins conversions to their touches and streams them in
//! conversion order; Rust applies the weights and adds them into a few
//! dozen buckets, so memory does not grow with the data. Conversions come
//! grouped by customer, so each bucket also counts the distinct customers
//! whose conversions it was credited from (its population, for
//! small-population suppression) without holding a set of customers.

pub mod compare;
pub mod markov;
pub mod spend;
pub mod weights;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use entity::enums::{LeadSourceTeam, Team};
use futures::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, StreamTrait};

use crate::db::sql::Sql;
use crate::error::Error;
use crate::insights::Definition;
use crate::insights::scope::{Rows, Scope};
pub use compare::Compared;
pub use spend::Spend;
pub use weights::{Milestones, Model};

/// What converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// An order, at `orderedAt`, worth its amount.
    Order,
    /// A WON lead, at `closedAt`, worth its amount.
    WonLead,
}

impl Conversion {
    /// The lookback window of DESIGN.md §3.
    pub fn default_lookback_days(self) -> i64 {
        match self {
            Conversion::Order => 30,
            Conversion::WonLead => 90,
        }
    }

    /// The models that apply: W_SHAPED needs a lead's milestones, which
    /// an order does not have.
    pub fn models(self) -> impl Iterator<Item = Model> {
        Model::ALL.into_iter().filter(move |model| self.takes(*model))
    }

    /// Whether `model` can attribute this kind of conversion.
    pub fn takes(self, model: Model) -> bool {
        self == Conversion::WonLead || !model.needs_milestones()
    }
}

/// Which models a request asks for, checked against the conversion kind
/// and the other arguments: a model or argument that cannot apply is an
/// error naming the argument, not a silently empty answer.
pub fn check_models(kind: Conversion, models: &[Model], half_life_days_given: bool) -> Result<(), Error> {
    if models.is_empty() {
        return Err(Error::validation(
            "models",
            "lists no model: leave it out for every model",
        ));
    }
    if let Some(model) = models.iter().find(|model| !kind.takes(**model)) {
        return Err(Error::validation(
            "models",
            format!(
                "{} needs a lead's milestones, which orders do not have: use conversion: WON_LEAD",
                crate::insights::schema_spelling(&format!("{model:?}"))
            ),
        ));
    }
    if half_life_days_given && !models.contains(&Model::TimeDecay) {
        return Err(Error::validation(
            "halfLifeDays",
            "applies to TIME_DECAY only, which models does not include",
        ));
    }
    Ok(())
}

pub const DEFAULT_HALF_LIFE_DAYS: f64 = 7.0;

/// The bucket of credit that has no team, channel or campaign.
pub const NONE: &str = "NONE";

/// Credit summed into one bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credit {
    /// Fractional minor units: credits are not rounded per touch.
    pub credit_minor: f64,
    /// Credited conversions: the sum of the weights.
    pub conversions: f64,
    /// MARKOV only: the state's removal effect.
    pub removal_effect: Option<f64>,
    /// Distinct customers whose conversions credited the bucket (with a
    /// positive weight; for MARKOV, with a touch in the state): the
    /// bucket's population.
    pub customers: i64,
    /// The spend of the bucket's campaigns in the window ([`Spend`]);
    /// `None` for NONE and for MARKOV's campaign bucket.
    pub spend_minor: Option<i64>,
    /// The same bucket in the earlier window of `compareTo`.
    pub compared: Option<Box<Compared>>,
}

impl Credit {
    /// Attributed revenue / spend.
    pub fn roas(&self) -> Option<f64> {
        spend::roas(self.credit_minor, self.spend_minor?)
    }

    /// (Attributed revenue − spend) / spend.
    pub fn roi(&self) -> Option<f64> {
        spend::roi(self.credit_minor, self.spend_minor?)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignCredit {
    /// `None` for the NONE bucket.
    pub campaign_id: Option<i64>,
    pub campaign_external_id: Option<String>,
    /// Its `spend_minor` is the spend in the window.
    pub credit: Credit,
    /// `None` for NONE.
    pub spend: Option<Spend>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelCredit {
    pub model: Model,
    pub by_team: Vec<(String, Credit)>,
    pub by_channel: Vec<(String, Credit)>,
    pub by_campaign: Vec<CampaignCredit>,
}

#[derive(Debug, Clone)]
pub struct Attribution {
    pub conversion: Conversion,
    pub lookback_days: i64,
    pub half_life_days: f64,
    /// Distinct customers with a conversion: the population of the result.
    pub customers: i64,
    pub conversions: i64,
    pub conversions_with_touches: i64,
    pub conversions_without_touch: i64,
    pub total_value_minor: i64,
    pub no_touch_value_minor: i64,
    pub touches_in_window: i64,
    pub models: Vec<ModelCredit>,
    /// WON leads only: each source team's won leads and their whole value
    /// (the team that sourced a lead is credited with all of it).
    pub by_source_team: Option<Vec<(String, Credit)>>,
    /// The earlier window of `compareTo`, with its totals.
    pub compared: Option<compare::Totals>,
    /// W_SHAPED's roles that no touch of a touched conversion holds, as
    /// `[FIRST, LEAD_CREATED, OPPORTUNITY_CREATED]` (WON leads only).
    pub missing_milestones: Option<[i64; 3]>,
    pub markov: Markov,
    pub definition: Definition,
}

/// The chains behind MARKOV's credit.
#[derive(Debug, Clone)]
pub struct Markov {
    pub by_channel: markov::Chain,
    pub by_team: markov::Chain,
    pub touches_in_conversion_paths: i64,
    /// Customers with touches in the window that lead to no conversion.
    pub null_paths: i64,
    pub touches_in_null_paths: i64,
}

/// A touch as the stream delivers it, its team and channel as [`Names`] ids.
struct Touch {
    id: i64,
    age_seconds: i64,
    age_days: f64,
    team: usize,
    channel: usize,
    campaign_id: Option<i64>,
}

/// Team or channel names as small numbers, so that the per-touch,
/// per-model bookkeeping copies integers, not strings (on the large data
/// set that is millions of allocations per request). Ids follow the order
/// the names were listed in, then those met later.
struct Names {
    ids: HashMap<String, usize>,
    names: Vec<String>,
}

impl Names {
    fn new(names: Vec<String>) -> Self {
        let ids = names.iter().enumerate().map(|(id, name)| (name.clone(), id)).collect();
        Self { ids, names }
    }

    fn id(&mut self, name: String) -> usize {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        self.names.push(name.clone());
        self.ids.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    fn name(&self, id: usize) -> &str {
        self.names.get(id).map_or("", String::as_str)
    }
}

/// A conversion with touches, as the stream delivers it.
#[derive(Clone, Copy)]
struct Touched {
    id: i64,
    value: i64,
    /// How long before the conversion its lead was created and became an
    /// opportunity (WON leads; an order has neither).
    created_age_seconds: Option<i64>,
    opportunity_age_seconds: Option<i64>,
}

impl Touched {
    /// The last touch strictly before each milestone (touches oldest first).
    fn milestones(&self, touches: &[Touch]) -> Milestones {
        let last_before = |milestone_age: Option<i64>| {
            let milestone_age = milestone_age?;
            touches.iter().rposition(|touch| touch.age_seconds > milestone_age)
        };
        Milestones {
            lead_created: last_before(self.created_age_seconds),
            opportunity_created: last_before(self.opportunity_age_seconds),
        }
    }
}

/// A bucket whose distinct customers are counted (teams and channels as
/// [`Names`] ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BucketId {
    Team(Model, usize),
    Channel(Model, usize),
    /// `None`: the campaign NONE bucket (touches without a campaign and
    /// conversions without a touch).
    Campaign(Model, Option<i64>),
    /// The team and channel NONE bucket: conversions without a touch.
    NoTouch,
}

/// Running totals per model and bucket.
struct Buckets {
    /// The weighting models asked for (MARKOV is not one).
    models: Vec<Model>,
    /// Whether MARKOV is asked for: its chains, and the touches in some
    /// lookback that its null paths leave out, are kept only then.
    markov: bool,
    teams: Names,
    channels: Names,
    /// The buckets the current customer's conversions credited so far.
    customer_buckets: BTreeSet<BucketId>,
    /// Distinct customers per bucket, over the finished customers.
    customers: BTreeMap<BucketId, i64>,
    missing_milestones: [i64; 3],
    by_channel: markov::Chain,
    by_team: markov::Chain,
    /// The touches in some conversion's lookback: the others make null paths.
    in_lookback: HashSet<i64>,
    team: BTreeMap<(Model, usize), Credit>,
    channel: BTreeMap<(Model, usize), Credit>,
    campaign: BTreeMap<(Model, Option<i64>), Credit>,
}

impl Buckets {
    /// Counts the current customer in every bucket it credited.
    fn finish_customer(&mut self) {
        for bucket in std::mem::take(&mut self.customer_buckets) {
            *self.customers.entry(bucket).or_default() += 1;
        }
    }

    fn customers_of(&self, bucket: &BucketId) -> i64 {
        self.customers.get(bucket).copied().unwrap_or(0)
    }

    /// A conversion of the current customer without a touch: NONE.
    fn add_untouched(&mut self) {
        self.customer_buckets.insert(BucketId::NoTouch);
        for &model in &self.models {
            self.customer_buckets.insert(BucketId::Campaign(model, None));
        }
    }

    fn add_conversion(&mut self, conversion: &Touched, touches: &[Touch], half_life_days: f64) {
        let ages: Vec<f64> = touches.iter().map(|touch| touch.age_days).collect();
        let milestones = conversion.milestones(touches);
        for (missing, count) in milestones
            .missing(touches.len())
            .iter()
            .zip(&mut self.missing_milestones)
        {
            *count += i64::from(*missing);
        }
        if self.markov {
            self.by_channel
                .add_path(touches.iter().map(|touch| self.channels.name(touch.channel)), true);
            self.by_team
                .add_path(touches.iter().map(|touch| self.teams.name(touch.team)), true);
            self.in_lookback.extend(touches.iter().map(|touch| touch.id));
            for touch in touches {
                self.customer_buckets.insert(BucketId::Team(Model::Markov, touch.team));
                self.customer_buckets
                    .insert(BucketId::Channel(Model::Markov, touch.channel));
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let value = conversion.value as f64;
        for &model in &self.models {
            for (touch, weight) in touches
                .iter()
                .zip(weights::weights(model, &ages, half_life_days, milestones))
            {
                let add = |credit: &mut Credit| {
                    credit.credit_minor += weight * value;
                    credit.conversions += weight;
                };
                add(self.team.entry((model, touch.team)).or_default());
                add(self.channel.entry((model, touch.channel)).or_default());
                add(self.campaign.entry((model, touch.campaign_id)).or_default());
                if weight > 0.0 {
                    self.customer_buckets.insert(BucketId::Team(model, touch.team));
                    self.customer_buckets.insert(BucketId::Channel(model, touch.channel));
                    self.customer_buckets
                        .insert(BucketId::Campaign(model, touch.campaign_id));
                }
            }
        }
    }
}

/// Attributes every conversion of `kind` in the scope's window with each
/// of `models` (those that apply to `kind`; see [`check_models`]), in the
/// order of [`Model::ALL`] and then MARKOV.
pub async fn attribute(
    db: &DatabaseConnection,
    scope: &Scope,
    kind: Conversion,
    lookback_days: i64,
    half_life_days: f64,
    models: &[Model],
) -> Result<Attribution, Error> {
    if !(1..=365).contains(&lookback_days) {
        return Err(Error::validation(
            "lookbackDays",
            format!("{lookback_days} is outside 1..=365"),
        ));
    }
    if !(half_life_days > 0.0 && half_life_days <= 365.0) {
        return Err(Error::validation(
            "halfLifeDays",
            format!("{half_life_days} is outside (0, 365]"),
        ));
    }
    let lookback_seconds = lookback_days * 86_400;
    let conversions = |sql: &mut Sql| match kind {
        Conversion::Order => {
            sql.push("SELECT o.id, o.customer_id, o.amount_minor AS value, ");
            sql.push("CAST(NULL AS BIGINT) AS created_age, CAST(NULL AS BIGINT) AS opportunity_age, ");
            sql.epoch_seconds("o.ordered_at").push(" AS at FROM orders o WHERE ");
            scope.orders_where(sql);
        }
        Conversion::WonLead => {
            sql.push("SELECT l.id, l.customer_id, l.source_team, COALESCE(l.amount_minor, 0) AS value, ");
            for (milestone, name) in [("l.created_at", "created_age"), ("l.opportunity_at", "opportunity_age")] {
                sql.epoch_seconds("l.closed_at").push(" - ");
                sql.epoch_seconds(milestone).push(" AS ").push(name).push(", ");
            }
            sql.epoch_seconds("l.closed_at")
                .push(" AS at FROM lead l WHERE l.stage = 'WON' AND l.closed_at >= ");
            sql.bind(scope.window.start())
                .push(" AND l.closed_at < ")
                .bind(scope.window.end());
            if let Some(account) = scope.account_id {
                sql.push(" AND l.account_id = ").bind(account);
            }
            scope.customer_filters(sql, "l.customer_id");
        }
    };

    let mut totals = Sql::new(db.get_database_backend());
    totals.push(
        "SELECT CAST(COUNT(*) AS BIGINT) AS conversions, CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, \
         CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total FROM (",
    );
    conversions(&mut totals);
    totals.push(") c");
    let row = totals
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal("no totals row".to_owned()))?;
    let conversion_count: i64 = row.try_get("", "conversions")?;
    let customers: i64 = row.try_get("", "customers")?;
    let total_value_minor: i64 = row.try_get("", "total")?;

    let mut touches_sql = Sql::new(db.get_database_backend());
    touches_sql
        .push("SELECT c.id AS conversion_id, c.customer_id, c.value, c.created_age, c.opportunity_age, t.id AS touch_id, c.at - ");
    touches_sql.epoch_seconds("t.occurred_at");
    touches_sql.push(" AS age_seconds, t.team, t.channel, t.campaign_id FROM (");
    conversions(&mut touches_sql);
    // Conversions without a touch come as one row without a touch: NONE's customers.
    touches_sql.push(") c LEFT JOIN touchpoint t ON t.customer_id = c.customer_id AND ");
    touches_sql
        .epoch_seconds("t.occurred_at")
        .push(" >= c.at - ")
        .bind(lookback_seconds);
    touches_sql.push(" AND ").epoch_seconds("t.occurred_at").push(" < c.at");
    touches_sql
        .push(" ORDER BY c.customer_id, c.id, t.occurred_at, ")
        .byte_ordered("t.external_id");

    let channels = touch_channels(db).await?;
    let teams: Vec<String> = Team::ALL.iter().map(|team| team.as_str().to_owned()).collect();
    let mut buckets = Buckets {
        models: kind.models().filter(|model| models.contains(model)).collect(),
        markov: models.contains(&Model::Markov),
        teams: Names::new(teams.clone()),
        channels: Names::new(channels.clone()),
        customer_buckets: BTreeSet::new(),
        customers: BTreeMap::new(),
        missing_milestones: [0; 3],
        by_channel: markov::Chain::new(channels.clone()),
        by_team: markov::Chain::new(teams),
        in_lookback: HashSet::new(),
        team: BTreeMap::new(),
        channel: BTreeMap::new(),
        campaign: BTreeMap::new(),
    };
    let mut with_touches: i64 = 0;
    let mut touched_value: i64 = 0;
    let mut touches_in_window: i64 = 0;
    let mut current: Option<Touched> = None;
    let mut current_customer: Option<i64> = None;
    let mut touches: Vec<Touch> = Vec::new();
    let stream = db.stream_raw(touches_sql.statement()).await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(row) = stream.next().await {
        let row = row?;
        let conversion_id: i64 = row.try_get("", "conversion_id")?;
        let customer_id: i64 = row.try_get("", "customer_id")?;
        if let Some(previous) = current.filter(|conversion| conversion.id != conversion_id) {
            buckets.add_conversion(&previous, &touches, half_life_days);
            touches.clear();
            current = None;
        }
        if current_customer != Some(customer_id) {
            buckets.finish_customer();
            current_customer = Some(customer_id);
        }
        let Some(touch_id) = row.try_get::<Option<i64>>("", "touch_id")? else {
            buckets.add_untouched();
            continue;
        };
        if current.is_none() {
            let conversion = Touched {
                id: conversion_id,
                value: row.try_get("", "value")?,
                created_age_seconds: row.try_get("", "created_age")?,
                opportunity_age_seconds: row.try_get("", "opportunity_age")?,
            };
            with_touches += 1;
            touched_value = touched_value
                .checked_add(conversion.value)
                .ok_or_else(Error::total_overflow)?;
            current = Some(conversion);
        }
        let age_seconds: i64 = row.try_get("", "age_seconds")?;
        #[allow(clippy::cast_precision_loss)]
        touches.push(Touch {
            id: touch_id,
            age_seconds,
            age_days: age_seconds as f64 / 86_400.0,
            team: buckets.teams.id(row.try_get("", "team")?),
            channel: buckets.channels.id(row.try_get("", "channel")?),
            campaign_id: row.try_get("", "campaign_id")?,
        });
        touches_in_window += 1;
    }
    if let Some(conversion) = current {
        buckets.add_conversion(&conversion, &touches, half_life_days);
    }
    buckets.finish_customer();

    let (null_paths, touches_in_null_paths) = if buckets.markov {
        add_null_paths(db, scope, &mut buckets).await?
    } else {
        (0, 0)
    };
    let no_touch_value_minor = total_value_minor
        .checked_sub(touched_value)
        .ok_or_else(Error::total_overflow)?;
    let conversions_without_touch = conversion_count - with_touches;
    let totals = Totals {
        touched_value,
        with_touches,
        no_touch_value_minor,
        conversions_without_touch,
    };
    let campaigns = campaign_spend(db, scope).await?;
    let models = assemble(&channels, &campaigns, &buckets, &totals, customers);
    let by_source_team = match kind {
        Conversion::WonLead => {
            let mut sql = Sql::new(db.get_database_backend());
            sql.push(
                "SELECT source_team, CAST(COUNT(*) AS BIGINT) AS conversions, \
                 CAST(COUNT(DISTINCT customer_id) AS BIGINT) AS customers, \
                 CAST(COALESCE(SUM(value), 0) AS BIGINT) AS total FROM (",
            );
            conversions(&mut sql);
            sql.push(") c GROUP BY source_team");
            Some(source_team_credit(db, sql, &campaigns).await?)
        }
        Conversion::Order => None,
    };
    let definition = scope
        .describe(
            match kind {
                Conversion::Order => Rows::Orders,
                Conversion::WonLead => Rows::People,
            },
            Definition::new(
            "attribution",
            1,
            "each conversion's value is split over the customer's touchpoints in the lookback window before it \
             (lower bound inclusive, the conversion instant excluded): FIRST_TOUCH, LAST_TOUCH, LINEAR, \
             TIME_DECAY (2^(−age/half-life), normalised), POSITION_BASED (40/20/40; 100 for one touch, 50/50 for \
             two), W_SHAPED (WON leads: 30% to each of the first touch, the last before the lead was created \
             and the last before it became an opportunity, a missing one's share split over the present ones, \
             10% over the other touches or, when every touch holds a role, over the roles), MARKOV (the touched \
             conversions' value split by the removal effects of an absorbing first-order chain over channels, or \
             teams, of every conversion's touches and of each customer's other touches in the window as a path to \
             NULL, solved exactly; no campaign credit); credit is summed by team, channel and campaign; conversions without a touch go to NONE, as does \
             campaign credit of touches without a campaign; WON leads are also summed whole by the team that sourced them \
             (bySourceTeam). Spend is each campaign's spend prorated to its days in the window \
             (spend × days of the campaign in the window / days of the campaign, rounded to the minor unit), summed by the \
             campaign's team and channel; ROAS = attributed revenue / spend and ROI = (attributed revenue − spend) / spend, \
             null without spend. With compareTo, the earlier window is the one of equal length ending the day before from \
             (PREVIOUS_PERIOD) or the same days a year earlier (PREVIOUS_YEAR); credit is a sum of money and is not \
             tested, the conversion count is compared with the exact Poisson test",
        ))
        .with_enum("conversion", kind)
        .with("lookbackDays", lookback_days)
        .with("halfLifeDays", half_life_days);
    Ok(Attribution {
        conversion: kind,
        lookback_days,
        half_life_days,
        customers,
        conversions: conversion_count,
        conversions_with_touches: with_touches,
        conversions_without_touch,
        total_value_minor,
        no_touch_value_minor,
        touches_in_window,
        models,
        by_source_team,
        compared: None,
        missing_milestones: (kind == Conversion::WonLead).then_some(buckets.missing_milestones),
        markov: Markov {
            by_channel: buckets.by_channel,
            by_team: buckets.by_team,
            touches_in_conversion_paths: touches_in_window,
            null_paths,
            touches_in_null_paths,
        },
        definition,
    })
}

/// A campaign with its spend in the window.
struct CampaignSpend {
    id: i64,
    external_id: String,
    team: Team,
    channel: String,
    spend: Spend,
}

/// Every campaign, in externalId byte order, with its spend in the window.
async fn campaign_spend(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<CampaignSpend>, Error> {
    let mut campaigns: Vec<CampaignSpend> = entity::campaign::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|campaign| CampaignSpend {
            id: campaign.id,
            spend: Spend::prorated(campaign.spend_minor, campaign.starts_on, campaign.ends_on, scope.window),
            external_id: campaign.external_id,
            team: campaign.team,
            channel: campaign.channel,
        })
        .collect();
    campaigns.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    Ok(campaigns)
}

/// The spend in the window of the campaigns `belongs` picks.
fn spend_of(campaigns: &[CampaignSpend], belongs: impl Fn(&CampaignSpend) -> bool) -> i64 {
    campaigns
        .iter()
        .filter(|campaign| belongs(campaign))
        .map(|campaign| campaign.spend.in_window_minor)
        .sum()
}

/// Sets the spend of each team or channel bucket (NONE has none).
fn add_spend(credits: &mut [(String, Credit)], campaigns: &[CampaignSpend], dimension: fn(&CampaignSpend) -> &str) {
    for (key, credit) in credits.iter_mut().filter(|(key, _)| key != NONE) {
        credit.spend_minor = Some(spend_of(campaigns, |campaign| dimension(campaign) == key));
    }
}

fn team_of(campaign: &CampaignSpend) -> &str {
    campaign.team.as_str()
}

fn channel_of(campaign: &CampaignSpend) -> &str {
    &campaign.channel
}

/// WON leads by source team, every source team listed.
async fn source_team_credit(
    db: &impl ConnectionTrait,
    sql: Sql,
    campaigns: &[CampaignSpend],
) -> Result<Vec<(String, Credit)>, Error> {
    let mut found: BTreeMap<String, Credit> = BTreeMap::new();
    for row in sql.all(db).await? {
        let team: String = row.try_get("", "source_team")?;
        let (conversions, total): (i64, i64) = (row.try_get("", "conversions")?, row.try_get("", "total")?);
        #[allow(clippy::cast_precision_loss)]
        let credit = Credit {
            credit_minor: total as f64,
            conversions: conversions as f64,
            customers: row.try_get("", "customers")?,
            ..Credit::default()
        };
        found.insert(team, credit);
    }
    let mut credits: Vec<(String, Credit)> = LeadSourceTeam::ALL
        .iter()
        .map(|team| {
            (
                team.as_str().to_owned(),
                found.remove(team.as_str()).unwrap_or_default(),
            )
        })
        .collect();
    add_spend(&mut credits, campaigns, team_of);
    Ok(credits)
}

/// Lists every team, every channel that occurs in touchpoints and every
/// campaign (with 0 where nothing was credited), then NONE.
fn assemble(
    channels: &[String],
    campaigns: &[CampaignSpend],
    buckets: &Buckets,
    totals: &Totals,
    customers: i64,
) -> Vec<ModelCredit> {
    let no_touch_value_minor = totals.no_touch_value_minor;
    let conversions_without_touch = totals.conversions_without_touch;
    #[allow(clippy::cast_precision_loss)]
    let none = Credit {
        credit_minor: no_touch_value_minor as f64,
        conversions: conversions_without_touch as f64,
        customers: buckets.customers_of(&BucketId::NoTouch),
        ..Credit::default()
    };
    let mut models = Vec::with_capacity(Model::ALL.len() + 1);
    for &model in &buckets.models {
        // Ids are positions in Team::ALL and in `channels`: [`Names`] was
        // built from them.
        let mut by_team: Vec<(String, Credit)> = Team::ALL
            .iter()
            .enumerate()
            .map(|(id, team)| {
                let credit = Credit {
                    customers: buckets.customers_of(&BucketId::Team(model, id)),
                    ..buckets.team.get(&(model, id)).cloned().unwrap_or_default()
                };
                (team.as_str().to_owned(), credit)
            })
            .collect();
        by_team.push((NONE.to_owned(), none.clone()));
        let mut by_channel: Vec<(String, Credit)> = channels
            .iter()
            .enumerate()
            .map(|(id, channel)| {
                let credit = Credit {
                    customers: buckets.customers_of(&BucketId::Channel(model, id)),
                    ..buckets.channel.get(&(model, id)).cloned().unwrap_or_default()
                };
                (channel.clone(), credit)
            })
            .collect();
        by_channel.push((NONE.to_owned(), none.clone()));
        add_spend(&mut by_team, campaigns, team_of);
        add_spend(&mut by_channel, campaigns, channel_of);
        let mut by_campaign: Vec<CampaignCredit> = campaigns
            .iter()
            .map(|campaign| {
                let credit = Credit {
                    customers: buckets.customers_of(&BucketId::Campaign(model, Some(campaign.id))),
                    spend_minor: Some(campaign.spend.in_window_minor),
                    ..buckets
                        .campaign
                        .get(&(model, Some(campaign.id)))
                        .cloned()
                        .unwrap_or_default()
                };
                CampaignCredit {
                    campaign_id: Some(campaign.id),
                    campaign_external_id: Some(campaign.external_id.clone()),
                    credit,
                    spend: Some(campaign.spend),
                }
            })
            .collect();
        let without_campaign = buckets.campaign.get(&(model, None)).cloned().unwrap_or_default();
        by_campaign.push(CampaignCredit {
            campaign_id: None,
            campaign_external_id: None,
            credit: Credit {
                credit_minor: none.credit_minor + without_campaign.credit_minor,
                conversions: none.conversions + without_campaign.conversions,
                customers: buckets.customers_of(&BucketId::Campaign(model, None)),
                ..Credit::default()
            },
            spend: None,
        });
        models.push(ModelCredit {
            model,
            by_team,
            by_channel,
            by_campaign,
        });
    }
    if buckets.markov {
        let mut markov = markov_credit(buckets, totals, &none, customers);
        add_spend(&mut markov.by_team, campaigns, team_of);
        add_spend(&mut markov.by_channel, campaigns, channel_of);
        models.push(markov);
    }
    models
}

/// What the totals of one attribution run are.
struct Totals {
    touched_value: i64,
    with_touches: i64,
    no_touch_value_minor: i64,
    conversions_without_touch: i64,
}

/// MARKOV: the touched conversions' value and count split by each state's
/// share of the removal effects; campaigns are not states, so all
/// campaign credit is NONE.
fn markov_credit(buckets: &Buckets, totals: &Totals, none: &Credit, customers: i64) -> ModelCredit {
    #[allow(clippy::cast_precision_loss)]
    // A chain's states are listed as its [`Names`]: state i has id i.
    let split = |chain: &markov::Chain, bucket: fn(Model, usize) -> BucketId| -> Vec<(String, Credit)> {
        let effects = chain.removal_effects();
        let sum: f64 = effects.iter().sum();
        let mut credits: Vec<(String, Credit)> = chain
            .states
            .iter()
            .zip(&effects)
            .enumerate()
            .map(|(id, (state, &effect))| {
                let share = if sum > 0.0 { effect / sum } else { 0.0 };
                let credit = Credit {
                    credit_minor: share * totals.touched_value as f64,
                    conversions: share * totals.with_touches as f64,
                    removal_effect: Some(effect),
                    customers: buckets.customers_of(&bucket(Model::Markov, id)),
                    ..Credit::default()
                };
                (state.clone(), credit)
            })
            .collect();
        credits.push((NONE.to_owned(), none.clone()));
        credits
    };
    #[allow(clippy::cast_precision_loss)]
    let all_value = Credit {
        credit_minor: (totals.touched_value + totals.no_touch_value_minor) as f64,
        conversions: (totals.with_touches + totals.conversions_without_touch) as f64,
        customers,
        ..Credit::default()
    };
    ModelCredit {
        model: Model::Markov,
        by_team: split(&buckets.by_team, BucketId::Team),
        by_channel: split(&buckets.by_channel, BucketId::Channel),
        by_campaign: vec![CampaignCredit {
            campaign_id: None,
            campaign_external_id: None,
            credit: all_value,
            spend: None,
        }],
    }
}

/// Every channel touchpoints use, in order.
async fn touch_channels(db: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT channel FROM touchpoint GROUP BY channel ORDER BY ");
    sql.byte_ordered("channel");
    let mut channels = Vec::new();
    for row in sql.all(db).await? {
        channels.push(row.try_get::<String>("", "channel")?);
    }
    Ok(channels)
}

/// MARKOV's paths to NULL: per customer, the touches in the window that
/// are in no conversion's lookback, in time order. Returns how many paths
/// and touches that made.
async fn add_null_paths(db: &DatabaseConnection, scope: &Scope, buckets: &mut Buckets) -> Result<(i64, i64), Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT t.id, t.customer_id, t.team, t.channel FROM touchpoint t WHERE t.occurred_at >= ")
        .bind(scope.window.start())
        .push(" AND t.occurred_at < ")
        .bind(scope.window.end());
    scope.customer_filters(&mut sql, "t.customer_id");
    sql.push(" ORDER BY t.customer_id, t.occurred_at, ");
    sql.byte_ordered("t.external_id");
    let mut paths = 0;
    let mut touches = 0;
    let mut path: Vec<(String, String)> = Vec::new();
    let mut customer: Option<i64> = None;
    let mut finish = |path: &mut Vec<(String, String)>, buckets: &mut Buckets| {
        if !path.is_empty() {
            buckets
                .by_channel
                .add_path(path.iter().map(|(_, channel)| channel.as_str()), false);
            buckets
                .by_team
                .add_path(path.iter().map(|(team, _)| team.as_str()), false);
            paths += 1;
            path.clear();
        }
    };
    let stream = db.stream_raw(sql.statement()).await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(row) = stream.next().await {
        let row = row?;
        let id: i64 = row.try_get("", "id")?;
        let customer_id: i64 = row.try_get("", "customer_id")?;
        if customer != Some(customer_id) {
            finish(&mut path, buckets);
            customer = Some(customer_id);
        }
        if buckets.in_lookback.contains(&id) {
            continue;
        }
        path.push((row.try_get("", "team")?, row.try_get("", "channel")?));
        touches += 1;
    }
    finish(&mut path, buckets);
    Ok((paths, touches))
}
