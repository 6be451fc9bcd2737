//! What each list can be filtered by, and the SELECT it becomes. A filter
//! field left `None` does not filter.

use entity::enums::{
    AccountKind, AccountTier, LeadSourceTeam, LeadStage, OrderChannel, ProductTouchpoint, SurveyKind, Team,
    TouchpointKind,
};
use entity::{
    account, brand_mention, campaign, customer, lead, orders, product, product_test, survey, survey_response,
    touchpoint,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::{DateRange, TimeRange};
use crate::error::Error;

/// Adds `column = value` when a value is given.
fn equals<C: ColumnTrait, V: Into<sea_orm::Value>>(condition: Condition, column: C, value: Option<V>) -> Condition {
    match value {
        Some(value) => condition.add(column.eq(value)),
        None => condition,
    }
}

/// `customer_column IN (customers of region)`: lists of a customer's
/// records filter by the customer's region.
fn customer_region(condition: Condition, customer_column: impl ColumnTrait, region: Option<&String>) -> Condition {
    match region {
        Some(region) => condition.add(
            customer_column.in_subquery(
                Query::select()
                    .column(customer::Column::Id)
                    .from(customer::Entity)
                    .and_where(customer::Column::Region.eq(region.clone()))
                    .to_owned(),
            ),
        ),
        None => condition,
    }
}

/// A filter a nested list takes (`customer.orders(filter:)`): the rows of
/// `E` it keeps. `()` keeps every row, for relations without a filter.
pub trait RowFilter<E: EntityTrait>: Clone + Eq + std::hash::Hash + Default + Send + Sync + 'static {
    fn condition(&self) -> Result<Condition, Error>;
}

impl<E: EntityTrait> RowFilter<E> for () {
    fn condition(&self) -> Result<Condition, Error> {
        Ok(Condition::all())
    }
}

macro_rules! row_filter {
    ($($filter:ident for $table:ident),+ $(,)?) => {
        $(impl RowFilter<$table::Entity> for $filter {
            fn condition(&self) -> Result<Condition, Error> {
                $filter::condition(self)
            }
        })+
    };
}

row_filter!(
    OrderFilter for orders,
    TouchpointFilter for touchpoint,
    LeadFilter for lead,
    SurveyResponseFilter for survey_response,
);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccountFilter {
    pub region: Option<String>,
    pub kind: Option<AccountKind>,
    pub tier: Option<AccountTier>,
    pub owner: Option<String>,
}

impl AccountFilter {
    pub fn select(&self) -> Result<Select<account::Entity>, Error> {
        let condition = Condition::all();
        let condition = equals(condition, account::Column::Region, self.region.clone());
        let condition = equals(condition, account::Column::Kind, self.kind);
        let condition = equals(condition, account::Column::Tier, self.tier);
        let condition = equals(condition, account::Column::Owner, self.owner.clone());
        Ok(account::Entity::find().filter(condition))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CustomerFilter {
    pub region: Option<String>,
    pub country: Option<String>,
    pub account_id: Option<i64>,
    pub acquisition_channel: Option<String>,
    pub first_seen: TimeRange,
}

impl CustomerFilter {
    pub fn select(&self) -> Result<Select<customer::Entity>, Error> {
        let condition = Condition::all().add(self.first_seen.condition(customer::Column::FirstSeenAt, "firstSeen")?);
        let condition = equals(condition, customer::Column::Region, self.region.clone());
        let condition = equals(condition, customer::Column::Country, self.country.clone());
        let condition = equals(condition, customer::Column::AccountId, self.account_id);
        let condition = equals(
            condition,
            customer::Column::AcquisitionChannel,
            self.acquisition_channel.clone(),
        );
        // Merged customers live on in their survivor; listing them would count
        // one person twice.
        let condition = condition.add(customer::Column::MergedIntoId.is_null());
        Ok(customer::Entity::find().filter(condition))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProductFilter {
    pub category: Option<String>,
}

impl ProductFilter {
    pub fn select(&self) -> Result<Select<product::Entity>, Error> {
        Ok(product::Entity::find().filter(equals(
            Condition::all(),
            product::Column::Category,
            self.category.clone(),
        )))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OrderFilter {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub channel: Option<OrderChannel>,
    /// The customer's region.
    pub region: Option<String>,
    pub ordered: TimeRange,
}

impl OrderFilter {
    /// The rows this filter keeps, as a condition (nested lists add it to their relation).
    pub fn condition(&self) -> Result<Condition, Error> {
        let condition = Condition::all().add(self.ordered.condition(orders::Column::OrderedAt, "ordered")?);
        let condition = equals(condition, orders::Column::CustomerId, self.customer_id);
        let condition = equals(condition, orders::Column::AccountId, self.account_id);
        let condition = equals(condition, orders::Column::Channel, self.channel);
        let condition = customer_region(condition, orders::Column::CustomerId, self.region.as_ref());
        Ok(condition)
    }

    pub fn select(&self) -> Result<Select<orders::Entity>, Error> {
        Ok(orders::Entity::find().filter(self.condition()?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CampaignFilter {
    pub team: Option<Team>,
    pub channel: Option<String>,
    /// Campaigns running on any day of this range.
    pub running: DateRange,
}

impl CampaignFilter {
    pub fn select(&self) -> Result<Select<campaign::Entity>, Error> {
        // A campaign runs during [from, to] when it starts by `to` and ends on or after `from`.
        // Checked first so that an empty range is refused, not ignored.
        self.running.condition(campaign::Column::StartsOn, "running")?;
        let starts_by_end = DateRange {
            from: None,
            to: self.running.to,
        }
        .condition(campaign::Column::StartsOn, "running")?;
        let ends_after_start = DateRange {
            from: self.running.from,
            to: None,
        }
        .condition(campaign::Column::EndsOn, "running")?;
        let condition = Condition::all().add(starts_by_end).add(ends_after_start);
        let condition = equals(condition, campaign::Column::Team, self.team);
        let condition = equals(condition, campaign::Column::Channel, self.channel.clone());
        Ok(campaign::Entity::find().filter(condition))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TouchpointFilter {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub team: Option<Team>,
    pub channel: Option<String>,
    pub kind: Option<TouchpointKind>,
    /// The customer's region.
    pub region: Option<String>,
    pub occurred: TimeRange,
}

impl TouchpointFilter {
    /// The rows this filter keeps, as a condition (nested lists add it to their relation).
    pub fn condition(&self) -> Result<Condition, Error> {
        let condition = Condition::all().add(self.occurred.condition(touchpoint::Column::OccurredAt, "occurred")?);
        let condition = equals(condition, touchpoint::Column::CustomerId, self.customer_id);
        let condition = equals(condition, touchpoint::Column::AccountId, self.account_id);
        let condition = equals(condition, touchpoint::Column::CampaignId, self.campaign_id);
        let condition = equals(condition, touchpoint::Column::Team, self.team);
        let condition = equals(condition, touchpoint::Column::Channel, self.channel.clone());
        let condition = equals(condition, touchpoint::Column::Kind, self.kind);
        let condition = customer_region(condition, touchpoint::Column::CustomerId, self.region.as_ref());
        Ok(condition)
    }

    pub fn select(&self) -> Result<Select<touchpoint::Entity>, Error> {
        Ok(touchpoint::Entity::find().filter(self.condition()?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LeadFilter {
    pub customer_id: Option<i64>,
    pub account_id: Option<i64>,
    pub source_team: Option<LeadSourceTeam>,
    pub stage: Option<LeadStage>,
    /// The customer's region.
    pub region: Option<String>,
    pub created: TimeRange,
}

impl LeadFilter {
    /// The rows this filter keeps, as a condition (nested lists add it to their relation).
    pub fn condition(&self) -> Result<Condition, Error> {
        let condition = Condition::all().add(self.created.condition(lead::Column::CreatedAt, "created")?);
        let condition = equals(condition, lead::Column::CustomerId, self.customer_id);
        let condition = equals(condition, lead::Column::AccountId, self.account_id);
        let condition = equals(condition, lead::Column::SourceTeam, self.source_team);
        let condition = equals(condition, lead::Column::Stage, self.stage);
        let condition = customer_region(condition, lead::Column::CustomerId, self.region.as_ref());
        Ok(condition)
    }

    pub fn select(&self) -> Result<Select<lead::Entity>, Error> {
        Ok(lead::Entity::find().filter(self.condition()?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SurveyFilter {
    pub kind: Option<SurveyKind>,
}

impl SurveyFilter {
    pub fn select(&self) -> Result<Select<survey::Entity>, Error> {
        Ok(survey::Entity::find().filter(equals(Condition::all(), survey::Column::Kind, self.kind)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SurveyResponseFilter {
    pub survey_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// The region the response recorded.
    pub region: Option<String>,
    pub responded: TimeRange,
}

impl SurveyResponseFilter {
    /// The rows this filter keeps, as a condition (nested lists add it to their relation).
    pub fn condition(&self) -> Result<Condition, Error> {
        let condition = Condition::all().add(
            self.responded
                .condition(survey_response::Column::RespondedAt, "responded")?,
        );
        let condition = equals(condition, survey_response::Column::SurveyId, self.survey_id);
        let condition = equals(condition, survey_response::Column::CustomerId, self.customer_id);
        let condition = equals(condition, survey_response::Column::Region, self.region.clone());
        Ok(condition)
    }

    pub fn select(&self) -> Result<Select<survey_response::Entity>, Error> {
        Ok(survey_response::Entity::find().filter(self.condition()?))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProductTestFilter {
    pub product_id: Option<i64>,
    pub touchpoint: Option<ProductTouchpoint>,
    pub variant: Option<String>,
    pub tested: TimeRange,
}

impl ProductTestFilter {
    pub fn select(&self) -> Result<Select<product_test::Entity>, Error> {
        let condition = Condition::all().add(self.tested.condition(product_test::Column::TestedAt, "tested")?);
        let condition = equals(condition, product_test::Column::ProductId, self.product_id);
        let condition = equals(condition, product_test::Column::Touchpoint, self.touchpoint);
        let condition = equals(condition, product_test::Column::Variant, self.variant.clone());
        Ok(product_test::Entity::find().filter(condition))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BrandMentionFilter {
    pub brand: Option<String>,
    pub channel: Option<String>,
    pub period: DateRange,
}

impl BrandMentionFilter {
    pub fn select(&self) -> Result<Select<brand_mention::Entity>, Error> {
        let condition = Condition::all().add(self.period.condition(brand_mention::Column::PeriodStart, "period")?);
        let condition = equals(condition, brand_mention::Column::Brand, self.brand.clone());
        let condition = equals(condition, brand_mention::Column::Channel, self.channel.clone());
        Ok(brand_mention::Entity::find().filter(condition))
    }
}
