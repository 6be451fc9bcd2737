//! Segments as the API shows them, and the `@oneOf` rule input.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, OneofObject, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{customer, segment, segment_member};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::customer::Customer;
use super::enums::Team;
use super::ordering::CustomerOrderBy;
use crate::error::Error;
use crate::graphql::connection::{ConnectionOf, root_list};
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::insights::suppression;
use crate::segments::rule::{self, Rule};

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

impl SegmentRuleInput {
    pub fn into_rule(self) -> Result<Rule, Error> {
        Ok(match self {
            SegmentRuleInput::All(rules) => {
                Rule::All(rules.into_iter().map(Self::into_rule).collect::<Result<_, _>>()?)
            }
            SegmentRuleInput::Any(rules) => {
                Rule::Any(rules.into_iter().map(Self::into_rule).collect::<Result<_, _>>()?)
            }
            SegmentRuleInput::Not(rule) => Rule::Not(Box::new(rule.into_rule()?)),
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
            SegmentRuleInput::InSegment(id) => Rule::InSegment(ids::decode_as(&id, "Segment", "rule.inSegment")?),
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
    /// The members as of the last refresh.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<CustomerOrderBy>,
    ) -> async_graphql::Result<ConnectionOf<Customer>> {
        let members = Query::select()
            .column(segment_member::Column::CustomerId)
            .from(segment_member::Entity)
            .and_where(segment_member::Column::SegmentId.eq(self.0.id))
            .to_owned();
        let select = customer::Entity::find().filter(customer::Column::Id.in_subquery(members));
        root_list(ctx, Ok(select), first, after, CustomerOrderBy::resolve(order_by)).await
    }
    /// Where the members can be downloaded as CSV (refused below the minimum audience size).
    async fn members_csv_path(&self) -> String {
        format!("/segments/{}/members.csv", self.0.id)
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
