//! `filter` inputs of the root lists, each turned into the read model's
//! filter (decoding global ids on the way).

use async_graphql::{CustomValidator, ID, InputObject, InputValueError};
use chrono::{DateTime, Utc};

use super::enums::*;
use crate::error::Error;
use crate::graphql::ids;
use crate::graphql::scalars::Date;
use crate::read::{self, filters as domain};

/// A time range: `from` ≤ t < `before`; leave an end out to leave it open.
#[derive(Debug, Clone, Copy, Default, InputObject)]
pub struct TimeRange {
    #[graphql(validator(custom = "InAcceptedDays"))]
    pub from: Option<DateTime<Utc>>,
    #[graphql(validator(custom = "InAcceptedDays"))]
    pub before: Option<DateTime<Utc>>,
}

/// An instant whose day is in the range both backends store alike
/// ([`crate::db::dates`]); `Date` arguments check it when they are parsed.
struct InAcceptedDays;

impl CustomValidator<DateTime<Utc>> for InAcceptedDays {
    fn check(&self, at: &DateTime<Utc>) -> Result<(), InputValueError<DateTime<Utc>>> {
        match crate::db::dates::out_of_range(at.date_naive()) {
            Some(reason) => Err(InputValueError::custom(reason)),
            None => Ok(()),
        }
    }
}

impl From<Option<TimeRange>> for read::TimeRange {
    fn from(range: Option<TimeRange>) -> Self {
        let range = range.unwrap_or_default();
        read::TimeRange {
            from: range.from,
            before: range.before,
        }
    }
}

/// A range of days, both ends included; leave an end out to leave it open.
#[derive(Debug, Clone, Copy, Default, InputObject)]
pub struct DateRange {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl From<Option<DateRange>> for read::DateRange {
    fn from(range: Option<DateRange>) -> Self {
        let range = range.unwrap_or_default();
        read::DateRange {
            from: range.from.map(|d| d.0),
            to: range.to.map(|d| d.0),
        }
    }
}

fn row_id(id: Option<&ID>, type_name: &str, argument: &str) -> Result<Option<i64>, Error> {
    id.map(|id| ids::decode_as(id, type_name, argument)).transpose()
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct AccountFilter {
    pub region: Option<String>,
    pub kind: Option<AccountKind>,
    pub tier: Option<AccountTier>,
    /// The owning sales rep, exactly.
    pub owner: Option<String>,
    /// Only accounts whose health score today is below this (0–100).
    pub health_below: Option<f64>,
}

impl AccountFilter {
    /// The filter's columns; `healthBelow` is applied by the ranking.
    pub fn into_domain(self) -> Result<domain::AccountFilter, Error> {
        Ok(domain::AccountFilter {
            region: self.region,
            kind: self.kind.map(Into::into),
            tier: self.tier.map(Into::into),
            owner: self.owner,
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct CustomerFilter {
    pub region: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    pub account: Option<ID>,
    pub acquisition_channel: Option<String>,
    pub first_seen: Option<TimeRange>,
}

impl CustomerFilter {
    pub fn into_domain(self) -> Result<domain::CustomerFilter, Error> {
        Ok(domain::CustomerFilter {
            region: self.region,
            country: self.country,
            account_id: row_id(self.account.as_ref(), "Account", "filter.account")?,
            acquisition_channel: self.acquisition_channel,
            first_seen: self.first_seen.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct ProductFilter {
    pub category: Option<String>,
}

impl ProductFilter {
    pub fn into_domain(self) -> Result<domain::ProductFilter, Error> {
        Ok(domain::ProductFilter {
            category: self.category,
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct OrderFilter {
    pub customer: Option<ID>,
    pub account: Option<ID>,
    pub channel: Option<OrderChannel>,
    /// The customer's region.
    pub region: Option<String>,
    pub ordered: Option<TimeRange>,
}

impl OrderFilter {
    pub fn into_domain(self) -> Result<domain::OrderFilter, Error> {
        Ok(domain::OrderFilter {
            customer_id: row_id(self.customer.as_ref(), "Customer", "filter.customer")?,
            account_id: row_id(self.account.as_ref(), "Account", "filter.account")?,
            channel: self.channel.map(Into::into),
            region: self.region,
            ordered: self.ordered.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct CampaignFilter {
    pub team: Option<Team>,
    pub channel: Option<String>,
    /// Campaigns running on at least one day of this range.
    pub running: Option<DateRange>,
}

impl CampaignFilter {
    pub fn into_domain(self) -> Result<domain::CampaignFilter, Error> {
        Ok(domain::CampaignFilter {
            team: self.team.map(|team| team.touch_team("filter.team")).transpose()?,
            channel: self.channel,
            running: self.running.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct TouchpointFilter {
    pub customer: Option<ID>,
    pub account: Option<ID>,
    pub campaign: Option<ID>,
    pub team: Option<Team>,
    pub channel: Option<String>,
    pub kind: Option<TouchpointKind>,
    /// The customer's region.
    pub region: Option<String>,
    pub occurred: Option<TimeRange>,
}

impl TouchpointFilter {
    pub fn into_domain(self) -> Result<domain::TouchpointFilter, Error> {
        Ok(domain::TouchpointFilter {
            customer_id: row_id(self.customer.as_ref(), "Customer", "filter.customer")?,
            account_id: row_id(self.account.as_ref(), "Account", "filter.account")?,
            campaign_id: row_id(self.campaign.as_ref(), "Campaign", "filter.campaign")?,
            team: self.team.map(|team| team.touch_team("filter.team")).transpose()?,
            channel: self.channel,
            kind: self.kind.map(Into::into),
            region: self.region,
            occurred: self.occurred.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct LeadFilter {
    pub customer: Option<ID>,
    pub account: Option<ID>,
    pub source_team: Option<LeadSourceTeam>,
    pub stage: Option<LeadStage>,
    /// The customer's region.
    pub region: Option<String>,
    pub created: Option<TimeRange>,
}

impl LeadFilter {
    pub fn into_domain(self) -> Result<domain::LeadFilter, Error> {
        Ok(domain::LeadFilter {
            customer_id: row_id(self.customer.as_ref(), "Customer", "filter.customer")?,
            account_id: row_id(self.account.as_ref(), "Account", "filter.account")?,
            source_team: self.source_team.map(Into::into),
            stage: self.stage.map(Into::into),
            region: self.region,
            created: self.created.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct SurveyFilter {
    pub kind: Option<SurveyKind>,
}

impl SurveyFilter {
    pub fn into_domain(self) -> Result<domain::SurveyFilter, Error> {
        Ok(domain::SurveyFilter {
            kind: self.kind.map(Into::into),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct SurveyResponseFilter {
    pub survey: Option<ID>,
    pub customer: Option<ID>,
    /// The region the response recorded.
    pub region: Option<String>,
    pub responded: Option<TimeRange>,
}

impl SurveyResponseFilter {
    pub fn into_domain(self) -> Result<domain::SurveyResponseFilter, Error> {
        Ok(domain::SurveyResponseFilter {
            survey_id: row_id(self.survey.as_ref(), "Survey", "filter.survey")?,
            customer_id: row_id(self.customer.as_ref(), "Customer", "filter.customer")?,
            region: self.region,
            responded: self.responded.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct ProductTestFilter {
    pub product: Option<ID>,
    pub touchpoint: Option<ProductTouchpoint>,
    pub variant: Option<String>,
    pub tested: Option<TimeRange>,
}

impl ProductTestFilter {
    pub fn into_domain(self) -> Result<domain::ProductTestFilter, Error> {
        Ok(domain::ProductTestFilter {
            product_id: row_id(self.product.as_ref(), "Product", "filter.product")?,
            touchpoint: self.touchpoint.map(Into::into),
            variant: self.variant,
            tested: self.tested.into(),
        })
    }
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct BrandMentionFilter {
    pub brand: Option<String>,
    pub channel: Option<String>,
    /// Months whose first day lies in this range.
    pub period: Option<DateRange>,
}

impl BrandMentionFilter {
    pub fn into_domain(self) -> Result<domain::BrandMentionFilter, Error> {
        Ok(domain::BrandMentionFilter {
            brand: self.brand,
            channel: self.channel,
            period: self.period.into(),
        })
    }
}
