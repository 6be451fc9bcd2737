//! `insights { … }`: the dashboard metrics. The filter is read once into a
//! [`Scope`]; each field runs its own aggregate query.

use std::fmt::Debug;
use std::future::Future;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object};
use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::config::ApiConfig;
use crate::error::Error;
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::loaders::Loaders;
use crate::graphql::scalars::Date;
use crate::graphql::types::enums::{LeadSourceTeam, OrderChannel};
use crate::graphql::types::insights::*;
use crate::graphql::types::predictive_clv::PredictiveClv;
use crate::graphql::types::series::{Series, SeriesMetric};
use crate::insights::cache::InsightCache;
use crate::insights::scope::{Scope, Window};
use crate::insights::{self as domain};

/// What the cursors of `rfm { customers }` are sealed for.
const RFM_LIST: &str = "rfm.customers";

#[derive(Default)]
pub struct InsightsQuery;

/// The filters every insight shares.
#[derive(Debug, Clone, Default, InputObject)]
pub struct InsightFilter {
    /// First day of the window (UTC), inclusive. Default: 364 days before `to`.
    pub from: Option<Date>,
    /// Last day of the window (UTC), inclusive; also the "as of" day of
    /// churn and RFM. Default: today.
    pub to: Option<Date>,
    /// The customer's region (the response's own region for survey metrics).
    pub region: Option<String>,
    /// The order channel (order metrics).
    pub channel: Option<OrderChannel>,
    /// The customer's acquisition channel.
    pub acquisition_channel: Option<String>,
    /// Orders sold through or to the account; respondents who are its contacts.
    pub account: Option<ID>,
    /// Customers in this segment (as of its last refresh); respondents who are members.
    pub segment: Option<ID>,
}

impl InsightFilter {
    fn into_scope(self) -> Result<Scope, Error> {
        let to = self.to.map_or_else(|| Utc::now().date_naive(), |date| date.0);
        let from = self.from.map_or_else(|| Window::year_ending(to).from, |date| date.0);
        let mut scope = Scope::new(Window::new(from, to)?);
        scope.region = self.region;
        scope.channel = self.channel.map(Into::into);
        scope.acquisition_channel = self.acquisition_channel;
        scope.account_id = self
            .account
            .map(|id| ids::decode_as(&id, "Account", "filter.account"))
            .transpose()?;
        scope.segment_id = self
            .segment
            .map(|id| ids::decode_as(&id, "Segment", "filter.segment"))
            .transpose()?;
        Ok(scope)
    }
}

#[Object]
impl InsightsQuery {
    /// Metrics for dashboards, all over the same filter. For viewers without
    /// PII access, a value over fewer customers or respondents than the
    /// minimum audience size is null with `suppressed: true`.
    async fn insights(&self, ctx: &Context<'_>, filter: Option<InsightFilter>) -> async_graphql::Result<Insights> {
        Ok(Insights {
            scope: filter.unwrap_or_default().into_scope().gql()?,
            rule: suppression(ctx)?,
        })
    }
}

pub struct Insights {
    scope: Scope,
    /// What this request's viewer may see, decided once per request.
    rule: Suppression,
}

/// `compute`'s result through the [`InsightCache`], kept under the name
/// of the insight, its scope and its `arguments` (everything else that
/// decides the result) at the request's data version ([`Loaders::data_version`]).
pub(crate) async fn cached<T>(
    ctx: &Context<'_>,
    insight: &'static str,
    scope: &Scope,
    arguments: impl Debug,
    compute: impl Future<Output = Result<T, Error>>,
) -> async_graphql::Result<T>
where
    T: Clone + Debug + Send + Sync + 'static,
{
    let cache = ctx.data::<InsightCache>()?;
    let version = ctx.data::<Loaders>()?.data_version();
    let question = format!("{scope:?} {arguments:?}");
    cache.get_or_compute(insight, version, question, compute).await.gql()
}

impl Insights {
    async fn cached<T>(
        &self,
        ctx: &Context<'_>,
        insight: &'static str,
        arguments: impl Debug,
        compute: impl Future<Output = Result<T, Error>>,
    ) -> async_graphql::Result<T>
    where
        T: Clone + Debug + Send + Sync + 'static,
    {
        cached(ctx, insight, &self.scope, arguments, compute).await
    }
}

#[Object]
impl Insights {
    /// Cohort retention.
    async fn retention(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "CohortBy::FirstOrder")] cohort_by: CohortBy,
        #[graphql(default_with = "Period::Month")] period: Period,
        #[graphql(default_with = "RetentionMode::Classic")] mode: RetentionMode,
        #[graphql(default = 6)] max_offset: i64,
    ) -> async_graphql::Result<Retention> {
        let db = ctx.data::<DatabaseConnection>()?;
        let (cohort_by, period, mode) = (cohort_by.into(), period.into(), mode.into());
        let result = domain::retention::retention(db, &self.scope, cohort_by, period, mode, max_offset);
        let arguments = (cohort_by, period, mode, max_offset);
        let result = self.cached(ctx, "retention", arguments, result).await?;
        Ok(Retention::from_insight(result, self.rule))
    }

    /// Customers with two or more orders among those with one. With
    /// `compareTo`, `compared` is the repeat rate against the same insight
    /// over the compared window (every other filter equal), with the
    /// two-proportion z-test.
    async fn repeat_purchase(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<RepeatPurchase> {
        let db = ctx.data::<DatabaseConnection>()?;
        let compare_to = compare_to.map(Into::into);
        let result = domain::customers::repeat_purchase(db, &self.scope, compare_to);
        let result = self.cached(ctx, "repeatPurchase", compare_to, result).await?;
        Ok(RepeatPurchase::from_insight(result, self.rule))
    }

    /// Customers inactive for more than `thresholdDays` as of the window's
    /// last day. With `compareTo`, `compared` is the churn rate against the
    /// one as of the compared window's last day, with the two-proportion z-test.
    async fn churn(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 180)] threshold_days: i64,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<Churn> {
        let db = ctx.data::<DatabaseConnection>()?;
        let compare_to = compare_to.map(Into::into);
        let result = domain::customers::churn(db, &self.scope, threshold_days, compare_to);
        let result = self.cached(ctx, "churn", (threshold_days, compare_to), result).await?;
        Ok(Churn::from_insight(result, self.rule))
    }

    /// Recency, frequency and monetary scores as of the window's last day.
    async fn rfm(&self) -> Rfm {
        Rfm {
            scope: self.scope.clone(),
            rule: self.rule,
        }
    }

    /// Historical customer lifetime value. With `compareTo`, the overall and
    /// each region's group has `compared`: the average per customer with
    /// Welch's t-test over the customers' totals, and the total with no test
    /// (a sum of money), against the same group over the compared window.
    async fn clv(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Period::Month")] cohort_period: Period,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<CustomerValue> {
        let db = ctx.data::<DatabaseConnection>()?;
        let (cohort_period, compare_to) = (cohort_period.into(), compare_to.map(Into::into));
        let result = domain::customers::customer_value(db, &self.scope, cohort_period, compare_to);
        let result = self.cached(ctx, "clv", (cohort_period, compare_to), result).await?;
        Ok(CustomerValue::from_insight(result, self.rule))
    }

    /// Net Promoter Score, overall, over time and by group.
    async fn nps(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Period::Month")] period: Period,
        compare_to: Option<CompareTo>,
    ) -> async_graphql::Result<Nps> {
        let db = ctx.data::<DatabaseConnection>()?;
        let (period, compare_to) = (period.into(), compare_to.map(Into::into));
        let result = domain::nps::net_promoter_score(db, &self.scope, period, compare_to);
        let result = self.cached(ctx, "nps", (period, compare_to), result).await?;
        Ok(Nps::from_insight(result, self.rule))
    }

    /// Awareness → consideration → preference → intent, per brand.
    async fn brand_funnel(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Period::Quarter")] period: Period,
        compare_to: Option<CompareTo>,
    ) -> async_graphql::Result<BrandFunnel> {
        let db = ctx.data::<DatabaseConnection>()?;
        let own_brand = &ctx.data::<ApiConfig>()?.own_brand;
        let (period, compare_to) = (period.into(), compare_to.map(Into::into));
        let result = domain::brand::brand_funnel(db, &self.scope, own_brand, period, compare_to);
        let result = self
            .cached(ctx, "brandFunnel", (own_brand, period, compare_to), result)
            .await?;
        Ok(BrandFunnel::from_insight(result, self.rule))
    }

    /// Each brand's share of all brands' mentions, with net sentiment. With
    /// `compareTo`, each brand's overall and per-channel share has
    /// `compared`: against its share over the compared window, with the
    /// two-proportion z-test on mentions.
    async fn share_of_voice(
        &self,
        ctx: &Context<'_>,
        channel: Option<String>,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<ShareOfVoice> {
        let db = ctx.data::<DatabaseConnection>()?;
        let compare_to = compare_to.map(Into::into);
        let result = domain::brand::share_of_voice(db, &self.scope, channel.as_deref(), compare_to);
        let result = self.cached(ctx, "shareOfVoice", (&channel, compare_to), result).await?;
        Ok(ShareOfVoice::from_insight(result, self.rule))
    }

    /// Which attribute ratings drive the outcome (exact Shapley split of R²).
    async fn purchase_drivers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "DriverOutcome::PurchaseIntent")] outcome: DriverOutcome,
        #[graphql(desc = "The attributes to analyse; all rated attributes when left out (at most 15).")]
        attributes: Option<Vec<String>>,
    ) -> async_graphql::Result<PurchaseDrivers> {
        let db = ctx.data::<DatabaseConnection>()?;
        let attributes = attributes.unwrap_or_default();
        let outcome = outcome.into();
        let result = domain::drivers::purchase_drivers(db, &self.scope, outcome, &attributes);
        let result = self
            .cached(ctx, "purchaseDrivers", (outcome, &attributes), result)
            .await?;
        Ok(PurchaseDrivers::from_insight(result, self.rule))
    }

    /// Approval of product touchpoint tests, with A/B comparisons. With
    /// `compareTo`, each test has `compared`: its approval against the
    /// pooled votes of the compared window's tests of the same product and
    /// touchpoint, with the two-proportion z-test.
    async fn product_tests(
        &self,
        ctx: &Context<'_>,
        product: Option<ID>,
        #[graphql(default = 0.7)] approval_threshold: f64,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<ProductTests> {
        let db = ctx.data::<DatabaseConnection>()?;
        let product_id = product
            .map(|id| ids::decode_as(&id, "Product", "product"))
            .transpose()
            .gql()?;
        let compare_to = compare_to.map(Into::into);
        let result = domain::product_tests::product_tests(db, &self.scope, product_id, approval_threshold, compare_to);
        let arguments = (product_id, approval_threshold, compare_to);
        let result = self.cached(ctx, "productTests", arguments, result).await?;
        Ok(ProductTests::from_insight(result, self.rule))
    }

    /// Who earned the value of each conversion, per attribution model, with
    /// campaign spend in the window and the return on it; with `compareTo`,
    /// each team's and channel's credit against the earlier window's.
    async fn attribution(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ConversionKind::Order")] conversion: ConversionKind,
        #[graphql(
            desc = "Days before a conversion whose touches count, 1..=365; default 30 for orders, 90 for won leads."
        )]
        lookback_days: Option<i64>,
        #[graphql(
            desc = "TIME_DECAY's half-life in days, in (0, 365]; default 7. Only with TIME_DECAY among the models."
        )]
        half_life_days: Option<f64>,
        #[graphql(desc = "The models to compute; every model that applies when left out. W_SHAPED needs WON_LEAD.")]
        models: Option<Vec<AttributionModel>>,
        #[graphql(
            desc = "Compare credit by team and channel with the earlier window: PREVIOUS_PERIOD (equal length, \
                          ending the day before from) or PREVIOUS_YEAR (the same days a year earlier)."
        )]
        compare_to: Option<CompareTo>,
    ) -> async_graphql::Result<Attribution> {
        use crate::attribution as domain;
        let db = ctx.data::<DatabaseConnection>()?;
        let kind: domain::Conversion = conversion.into();
        let requested: Option<Vec<domain::Model>> = models.map(|list| list.into_iter().map(Into::into).collect());
        if let Some(requested) = &requested {
            domain::check_models(kind, requested, half_life_days.is_some()).gql()?;
        }
        let lookback_days = lookback_days.unwrap_or_else(|| kind.default_lookback_days());
        let half_life_days = half_life_days.unwrap_or(domain::DEFAULT_HALF_LIFE_DAYS);
        // Only the models asked for are computed: MARKOV alone skips the
        // weights, and the weighting models skip MARKOV's null paths.
        let models: Vec<domain::Model> = requested
            .clone()
            .unwrap_or_else(|| kind.models().chain([domain::Model::Markov]).collect());
        let compare_to = compare_to.map(Into::into);
        let scope = &self.scope;
        let compute = async {
            let mut result = domain::attribute(db, scope, kind, lookback_days, half_life_days, &models).await?;
            let models = &models;
            let previous = crate::insights::compare::previous(scope, compare_to, |scope| async move {
                domain::attribute(db, &scope, kind, lookback_days, half_life_days, models).await
            });
            if let Some(previous) = previous.await? {
                domain::compare::compare(&mut result, scope.window, &previous.value, previous.window);
                result.definition = result.definition.with_enum("compareTo", previous.compare_to);
            }
            if let Some(requested) = &requested {
                result.definition = result.definition.with(
                    "models",
                    requested
                        .iter()
                        .map(|model| crate::insights::schema_spelling(&format!("{model:?}")))
                        .collect::<Vec<_>>()
                        .join(","),
                );
            }
            Ok(result)
        };
        let arguments = (kind, lookback_days, half_life_days, &requested, compare_to);
        let result = self.cached(ctx, "attribution", arguments, compute).await?;
        Ok(Attribution::from_insight(result, self.rule))
    }

    /// Business metrics over time: one series per metric, every period of
    /// the window (zero-filled, clipped to the window), each point with its
    /// n, 95% interval and, with `compareTo`, the change and its test.
    /// TOUCHPOINTS gives one series per touchpoint team.
    async fn series(
        &self,
        ctx: &Context<'_>,
        metrics: Vec<SeriesMetric>,
        #[graphql(default_with = "Period::Month")] period: Period,
        compare_to: Option<CompareTo>,
        #[graphql(desc = "The lead's source team (lead metrics only).")] team: Option<LeadSourceTeam>,
        #[graphql(desc = "CHURN_RATE's inactivity threshold in days, 1..=3650.", default = 180)]
        churn_threshold_days: i64,
    ) -> async_graphql::Result<Vec<Series>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let request = domain::series::Request {
            metrics: metrics.into_iter().map(Into::into).collect(),
            unit: period.into(),
            compare_to: compare_to.map(Into::into),
            team: team.map(Into::into),
            own_brand: ctx.data::<ApiConfig>()?.own_brand.clone(),
            churn_threshold_days,
        };
        let result = domain::series::series(db, &self.scope, &request);
        let result = self.cached(ctx, "series", &request, result).await?;
        Ok(all(result, self.rule))
    }

    /// Predictive CLV: BG/NBD and Gamma-Gamma fitted by maximum likelihood
    /// over the customers' orders on or before the window's last day, with
    /// each group's expected purchases, probability alive and discounted CLV.
    async fn predictive_clv(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CLV horizon in months of 30 days, 1..=120.", default = 12)] horizon_months: i64,
        #[graphql(desc = "Discount per month, in [0, 1).", default = 0.01)] monthly_discount_rate: f64,
        #[graphql(desc = "The horizon of the groups' expected purchases, in days.", default = 90)] purchase_days: i64,
    ) -> async_graphql::Result<PredictiveClv> {
        let db = ctx.data::<DatabaseConnection>()?;
        let request =
            domain::predictive_clv::Request::new(horizon_months, monthly_discount_rate, purchase_days).gql()?;
        let result = domain::predictive_clv::predictive_clv(db, &self.scope, request);
        let result = self.cached(ctx, "predictiveClv", request, result).await?;
        Ok(PredictiveClv::from_insight(result, self.rule))
    }

    /// The lead funnel marketing and sales share, per source team: of the
    /// leads created in the window (`basis: CREATED`, a cohort), or of those
    /// closed in it (`CLOSED`: won revenue by close date, as attribution's
    /// WON_LEAD counts it). With `compareTo`, each block has `compared`: its
    /// win rate (two-proportion z-test) and won revenue (no test: a sum of
    /// money) against the same team's over the compared window.
    async fn revenue_cycle(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] basis: CycleBasis,
        #[graphql(desc = "Compare with the same insight over the compared window (see CompareTo).")] compare_to: Option<
            CompareTo,
        >,
    ) -> async_graphql::Result<RevenueCycle> {
        let db = ctx.data::<DatabaseConnection>()?;
        let (basis, compare_to) = (basis.into(), compare_to.map(Into::into));
        let result = domain::revenue_cycle::revenue_cycle(db, &self.scope, basis, compare_to);
        let result = self.cached(ctx, "revenueCycle", (basis, compare_to), result).await?;
        Ok(RevenueCycle::from_insight(result, self.rule))
    }
}

/// RFM scores: a summary, and every scored customer as a connection.
pub struct Rfm {
    scope: Scope,
    rule: Suppression,
}

#[Object]
impl Rfm {
    /// Score counts, the R × F grid and the definition.
    async fn summary(&self, ctx: &Context<'_>) -> async_graphql::Result<RfmSummary> {
        let db = ctx.data::<DatabaseConnection>()?;
        let summary = domain::customers::rfm_summary(db, &self.scope);
        let summary = cached(ctx, "rfm.summary", &self.scope, (), summary).await?;
        let (rule, population) = (self.rule, summary.customers);
        Ok(RfmSummary {
            as_of: Date(summary.as_of),
            customers: rule.shown(population, population),
            score_counts: RfmScoreCounts {
                r: score_counts(summary.r_counts, population, rule),
                f: score_counts(summary.f_counts, population, rule),
                m: score_counts(summary.m_counts, population, rule),
            },
            grid: summary
                .grid
                .into_iter()
                .map(|(r, f, customers)| RfmCell {
                    r,
                    f,
                    customers: rule.shown(population, customers),
                })
                .collect(),
            suppressed: rule.hides(population),
            definition: Definition::from_insight(summary.definition, rule),
        })
    }

    /// Every scored customer, in externalId order.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, RfmRow>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let max_page_size = ctx.data::<ApiConfig>()?.max_page_size;
        let cursor_key = ctx.data::<crate::db::cursor_key::CursorKey>()?;
        let first = crate::db::keyset::page_size(first.map(i64::from), max_page_size).gql()?;
        let after_key = after
            .as_deref()
            .map(|cursor| crate::db::keyset::open_text_cursor(cursor_key, RFM_LIST, cursor, "after"))
            .transpose()
            .gql()?;
        let rows = domain::customers::rfm_rows(db, &self.scope, after_key.as_deref(), first);
        let arguments = (&after_key, first);
        let mut rows = cached(ctx, "rfm.customers", &self.scope, arguments, rows).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges = rows
            .into_iter()
            .map(|row| {
                Edge::new(
                    crate::db::keyset::seal_text_cursor(cursor_key, RFM_LIST, &row.customer_external_id),
                    RfmRow::from_insight(row, self.rule),
                )
            })
            .collect();
        Ok(connection)
    }
}

#[derive(Debug, Clone, async_graphql::SimpleObject)]
pub struct RfmSummary {
    pub as_of: Date,
    /// The scored customers: the population of the summary.
    pub customers: Option<i64>,
    pub score_counts: RfmScoreCounts,
    pub grid: Vec<RfmCell>,
    /// True when customers is below the minimum audience size for this viewer: every count is then null.
    pub suppressed: bool,
    pub definition: Definition,
}
