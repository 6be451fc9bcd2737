//! Segments as the API shows them, and the `@oneOf` rule input.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, OneofObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{customer, segment, segment_member};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::customer::Customer;
use super::enums::{ContactChannel, LeadSourceTeam, LeadStage, SurveyKind, Team, TouchpointKind};
use super::ordering::CustomerOrderBy;
use crate::error::Error;
use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::insights::suppression;
use crate::segments::behaviour;
use crate::segments::rule::{self, Rule};
use entity::enums::ConsentStatus;

/// A rule over customers; exactly one field is given.
#[derive(Debug, Clone, OneofObject)]
pub enum SegmentRuleInput {
    /// Every rule holds.
    All(Vec<SegmentRuleInput>),
    /// At least one rule holds.
    Any(Vec<SegmentRuleInput>),
    /// The rule does not hold.
    Not(Box<SegmentRuleInput>),
    /// A customer field or trait.
    Trait(TraitConditionInput),
    /// A per-customer metric over a window.
    Metric(MetricConditionInput),
    /// The customer matches another segment's rule.
    InSegment(ID),
    /// Touchpoints of the customer matching every filter given (at least one, or `count`).
    Touched(TouchedInput),
    /// Orders holding a line of the product or category (at least one, or `count` / `amountMinor`).
    Purchased(PurchasedInput),
    /// Survey responses matching every filter given (at least one, or `count`).
    Responded(RespondedInput),
    /// A lead of the customer reached the stage (or a later one) inside the window.
    LeadStage(LeadStageInput),
    /// "A then B within N days", or "A and no B within N days".
    Sequence(Box<SequenceInput>),
}

/// A count or amount compared with a number.
#[derive(Debug, Clone, InputObject)]
pub struct RuleComparisonInput {
    /// EQ, NEQ, GT, GTE, LT or LTE.
    pub operator: RuleOperator,
    pub value: f64,
}

/// Windows, here and in the other behavioural leaves: `windowDays: N` keeps events from the start of
/// the day N days before today to the end of today (1 to 3650); all events up to today without it.
#[derive(Debug, Clone, InputObject)]
pub struct TouchedInput {
    pub kind: Option<TouchpointKind>,
    pub team: Option<Team>,
    pub channel: Option<String>,
    pub campaign: Option<ID>,
    /// How many matching touchpoints; at least one when left out (not allowed in a sequence).
    pub count: Option<RuleComparisonInput>,
    pub window_days: Option<i64>,
}

#[derive(Debug, Clone, InputObject)]
pub struct PurchasedInput {
    /// A product, or leave out for any (give a product or a category, not both).
    pub product: Option<ID>,
    /// A product category, e.g. "cordless_vacuum".
    pub category: Option<String>,
    /// How many orders hold a matching line; at least one when left out (not allowed in a sequence).
    pub count: Option<RuleComparisonInput>,
    /// The amount of the matching lines in minor units, instead of `count` (not allowed in a sequence).
    pub amount_minor: Option<RuleComparisonInput>,
    pub window_days: Option<i64>,
}

/// NPS categories: promoters 9–10, passives 7–8, detractors 0–6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::segments::behaviour::NpsCategory")]
pub enum NpsCategory {
    Promoter,
    Passive,
    Detractor,
}

/// NPS scores from `min` to `max`, both included (0–10).
#[derive(Debug, Clone, InputObject)]
pub struct NpsScoreRangeInput {
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, InputObject)]
pub struct RespondedInput {
    pub survey_kind: Option<SurveyKind>,
    /// Responses in this NPS category (or give `npsScore`, not both).
    pub nps_category: Option<NpsCategory>,
    pub nps_score: Option<NpsScoreRangeInput>,
    /// How many matching responses; at least one when left out (not allowed in a sequence).
    pub count: Option<RuleComparisonInput>,
    pub window_days: Option<i64>,
}

/// A lead reached `stage` when it has that stage's timestamp or a later one, or its current stage
/// is at or past it (as the revenue cycle counts); the window applies to the time it got there.
#[derive(Debug, Clone, InputObject)]
pub struct LeadStageInput {
    pub source_team: Option<LeadSourceTeam>,
    pub stage: LeadStage,
    pub window_days: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::segments::behaviour::SequenceMode")]
pub enum SequenceMode {
    /// A `first` event followed by a `then` event within `withinDays`.
    Followed,
    /// A `first` event with no `then` event in the `withinDays` after it (so far).
    NotFollowed,
}

/// Two steps, each a `touched`, `purchased` or `responded` leaf matching single events: "then" is
/// strictly later than "first", at most `withinDays` × 24 hours after it.
#[derive(Debug, Clone, InputObject)]
pub struct SequenceInput {
    pub first: SegmentRuleInput,
    pub then: SegmentRuleInput,
    /// 1 to 3650.
    pub within_days: i64,
    #[graphql(default_with = "SequenceMode::Followed")]
    pub mode: SequenceMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::segments::rule::Operator")]
pub enum RuleOperator {
    Eq,
    Neq,
    In,
    NotIn,
    Gt,
    Gte,
    Lt,
    Lte,
    /// A list in traits holds the value.
    Contains,
    /// The trait is present.
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::segments::rule::Metric")]
pub enum SegmentMetric {
    OrderCount,
    /// In minor units.
    TotalSpend,
    DaysSinceLastOrder,
    /// The customer's latest NPS score.
    Nps,
    RfmR,
    RfmF,
    RfmM,
    TouchpointCount,
}

#[derive(Debug, Clone, InputObject)]
pub struct TraitConditionInput {
    /// `region`, `country`, `acquisitionChannel`, or `traits.<key>`.
    pub field: String,
    pub operator: RuleOperator,
    /// A string, number, boolean or list of strings, as the operator needs; omit for EXISTS.
    pub value: Option<Json<serde_json::Value>>,
}

#[derive(Debug, Clone, InputObject)]
pub struct MetricConditionInput {
    pub metric: SegmentMetric,
    pub operator: RuleOperator,
    pub value: f64,
    /// Days back from today; all time when left out.
    pub window_days: Option<i64>,
}

impl From<RuleComparisonInput> for behaviour::Comparison {
    fn from(input: RuleComparisonInput) -> Self {
        Self {
            operator: input.operator.into(),
            value: input.value,
        }
    }
}

/// The row id of an optional global id, naming the rule path when it is not one.
fn row_of(id: Option<&ID>, type_name: &str, path: String) -> Result<Option<i64>, Error> {
    id.map(|id| ids::decode_as(id, type_name, &path)).transpose()
}

impl SegmentRuleInput {
    pub fn into_rule(self) -> Result<Rule, Error> {
        self.into_rule_at("rule")
    }

    /// The rule, with ids decoded; `path` names where this input sits.
    fn into_rule_at(self, path: &str) -> Result<Rule, Error> {
        let list = |rules: Vec<SegmentRuleInput>, kind: &str| -> Result<Vec<Rule>, Error> {
            (rules.into_iter().enumerate())
                .map(|(index, rule)| rule.into_rule_at(&format!("{path}.{kind}[{index}]")))
                .collect()
        };
        Ok(match self {
            SegmentRuleInput::All(rules) => Rule::All(list(rules, "all")?),
            SegmentRuleInput::Any(rules) => Rule::Any(list(rules, "any")?),
            SegmentRuleInput::Not(rule) => Rule::Not(Box::new(rule.into_rule_at(&format!("{path}.not"))?)),
            SegmentRuleInput::Trait(condition) => Rule::Trait(rule::TraitCondition {
                field: condition.field,
                operator: condition.operator.into(),
                value: condition.value.map(|json| json.0).unwrap_or_default(),
            }),
            SegmentRuleInput::Metric(condition) => Rule::Metric(rule::MetricCondition {
                metric: condition.metric.into(),
                operator: condition.operator.into(),
                value: condition.value,
                window_days: condition.window_days,
            }),
            SegmentRuleInput::InSegment(id) => {
                Rule::InSegment(ids::decode_as(&id, "Segment", &format!("{path}.inSegment"))?)
            }
            SegmentRuleInput::Touched(leaf) => Rule::Touched(behaviour::Touched {
                kind: leaf.kind.map(Into::into),
                team: leaf
                    .team
                    .map(|team| team.touch_team(&format!("{path}.touched.team")))
                    .transpose()?,
                channel: leaf.channel,
                campaign: row_of(leaf.campaign.as_ref(), "Campaign", format!("{path}.touched.campaign"))?,
                count: leaf.count.map(Into::into),
                window_days: leaf.window_days,
            }),
            SegmentRuleInput::Purchased(leaf) => Rule::Purchased(behaviour::Purchased {
                product: row_of(leaf.product.as_ref(), "Product", format!("{path}.purchased.product"))?,
                category: leaf.category,
                count: leaf.count.map(Into::into),
                amount_minor: leaf.amount_minor.map(Into::into),
                window_days: leaf.window_days,
            }),
            SegmentRuleInput::Responded(leaf) => Rule::Responded(behaviour::Responded {
                survey_kind: leaf.survey_kind.map(Into::into),
                nps_category: leaf.nps_category.map(Into::into),
                nps_score: leaf.nps_score.map(|range| behaviour::ScoreRange {
                    min: range.min,
                    max: range.max,
                }),
                count: leaf.count.map(Into::into),
                window_days: leaf.window_days,
            }),
            SegmentRuleInput::LeadStage(leaf) => Rule::LeadStage(behaviour::LeadStageCondition {
                source_team: leaf.source_team.map(Into::into),
                stage: leaf.stage.into(),
                window_days: leaf.window_days,
            }),
            SegmentRuleInput::Sequence(sequence) => {
                let SequenceInput {
                    first,
                    then,
                    within_days,
                    mode,
                } = *sequence;
                Rule::Sequence(behaviour::Sequence {
                    first: Box::new(first.into_rule_at(&format!("{path}.sequence.first"))?),
                    then: Box::new(then.into_rule_at(&format!("{path}.sequence.then"))?),
                    within_days,
                    mode: mode.into(),
                })
            }
        })
    }
}

/// The stored rule as JSON in the input's shape, with segment global ids.
fn rule_json(rule: &Rule) -> serde_json::Value {
    use serde_json::json;
    match rule {
        Rule::All(rules) => json!({ "all": rules.iter().map(rule_json).collect::<Vec<_>>() }),
        Rule::Any(rules) => json!({ "any": rules.iter().map(rule_json).collect::<Vec<_>>() }),
        Rule::Not(rule) => json!({ "not": rule_json(rule) }),
        Rule::InSegment(id) => json!({ "inSegment": ids::encode("Segment", *id).0 }),
        Rule::Sequence(sequence) => {
            let mut value = serde_json::to_value(rule).unwrap_or_default();
            value["sequence"]["first"] = rule_json(&sequence.first);
            value["sequence"]["then"] = rule_json(&sequence.then);
            value
        }
        Rule::Touched(behaviour::Touched { campaign: Some(id), .. }) => {
            let mut value = serde_json::to_value(rule).unwrap_or_default();
            value["touched"]["campaign"] = json!(ids::encode("Campaign", *id).0);
            value
        }
        Rule::Purchased(behaviour::Purchased { product: Some(id), .. }) => {
            let mut value = serde_json::to_value(rule).unwrap_or_default();
            value["purchased"]["product"] = json!(ids::encode("Product", *id).0);
            value
        }
        other => serde_json::to_value(other).unwrap_or_default(),
    }
}

/// A named audience of customers.
pub struct Segment(pub segment::Model);
super::wraps!(Segment(segment::Model));

impl Segment {
    async fn member_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        crate::segments::member_count(ctx.data::<DatabaseConnection>()?, self.0.id)
            .await
            .gql()
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct SegmentSize {
    pub at: DateTime<Utc>,
    pub size: Option<i64>,
    /// Customers who joined at this refresh.
    pub joined: Option<i64>,
    /// Customers who left at this refresh.
    pub left: Option<i64>,
    /// True when the size is below the minimum audience size for this viewer (one without PII access):
    /// size, joined and left are then null.
    pub suppressed: bool,
}

#[Object]
impl Segment {
    pub async fn id(&self) -> ID {
        ids::encode("Segment", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The team that owns the segment.
    async fn team(&self) -> Team {
        self.0.team.into()
    }
    /// The rule, in the shape of `SegmentRuleInput`.
    async fn rule(&self) -> async_graphql::Result<Json<serde_json::Value>> {
        Ok(Json(rule_json(&crate::segments::stored_rule(&self.0).gql()?)))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the members were last materialised; null before the first refresh.
    async fn refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.0.refreshed_at
    }
    /// Members as of the last refresh; null when below the minimum audience
    /// size for a viewer without PII access (see `sizeSuppressed`).
    async fn size(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        let size = self.member_count(ctx).await?;
        Ok(suppression(ctx)?.shown(size, size))
    }
    /// True when `size` is below the minimum audience size for this viewer (one
    /// without PII access): `size` is then null.
    async fn size_suppressed(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(suppression(ctx)?.hides(self.member_count(ctx).await?))
    }
    /// Every refresh: size, joined and left.
    async fn size_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SegmentSize>> {
        let rule = suppression(ctx)?;
        let history = crate::segments::size_history(ctx.data::<DatabaseConnection>()?, self.0.id)
            .await
            .gql()?;
        Ok(history
            .into_iter()
            .map(|s| SegmentSize {
                at: s.at,
                size: rule.shown(s.size, s.size),
                joined: rule.shown(s.size, s.joined),
                left: rule.shown(s.size, s.left),
                suppressed: rule.hides(s.size),
            })
            .collect())
    }
    /// The members as of the last refresh; with `channel`, only those who
    /// GRANTED consent for it.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<CustomerOrderBy>,
        channel: Option<ContactChannel>,
    ) -> async_graphql::Result<ConnectionOf<Customer>> {
        let members = Query::select()
            .column(segment_member::Column::CustomerId)
            .from(segment_member::Entity)
            .and_where(segment_member::Column::SegmentId.eq(self.0.id))
            .to_owned();
        let mut select = customer::Entity::find().filter(customer::Column::Id.in_subquery(members));
        if let Some(channel) = channel {
            select = select.filter(crate::segments::consent_column(channel.into()).eq(ConsentStatus::Granted));
        }
        root_list(ctx, Ok(select), first, after, CustomerOrderBy::resolve(order_by)).await
    }
    /// Where the members who GRANTED consent for a channel can be downloaded
    /// as CSV (refused when fewer than the minimum audience size would be
    /// sent). The export requires the channel: without `channel` here, add
    /// `?channel=EMAIL` (or SMS, PHONE) to the path.
    async fn members_csv_path(&self, channel: Option<ContactChannel>) -> String {
        let path = format!("/segments/{}/members.csv", self.0.id);
        match channel {
            Some(channel) => format!("{path}?channel={}", entity::enums::ContactChannel::from(channel)),
            None => path,
        }
    }
}

/// What a preview found: nothing is saved.
#[derive(SimpleObject)]
pub struct SegmentPreview {
    pub size: i64,
    /// The first customers by external id.
    pub sample: Vec<Customer>,
}

/// What a refresh did.
#[derive(SimpleObject)]
pub struct SegmentRefresh {
    pub segment: Segment,
    pub size: i64,
    pub joined: i64,
    pub left: i64,
}

/// A segment some of an account's contacts belong to.
#[derive(SimpleObject)]
pub struct AccountSegment {
    pub segment: Segment,
    /// How many of the account's contacts are members; null when suppressed.
    pub contacts: Option<i64>,
    /// True when `contacts` is below the minimum audience size for this viewer (one without PII
    /// access): it is then null.
    pub suppressed: bool,
}
