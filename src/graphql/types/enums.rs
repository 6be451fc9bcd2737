//! The data model's vocabularies as GraphQL enums. Each mirrors an enum of
//! the `entity` crate (`remote`), which generates the conversions both
//! ways, so the two cannot drift apart silently. They serialise through
//! that conversion too (`serde(into)`), so an input object serialised for
//! ingest carries exactly the names the ingest records read.

use async_graphql::Enum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::AccountKind")]
#[serde(into = "entity::enums::AccountKind")]
pub enum AccountKind {
    Retailer,
    Distributor,
    Business,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::AccountTier")]
#[serde(into = "entity::enums::AccountTier")]
pub enum AccountTier {
    Strategic,
    Key,
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::OrderChannel")]
#[serde(into = "entity::enums::OrderChannel")]
pub enum OrderChannel {
    Online,
    Retail,
    Marketplace,
    DirectSales,
    Phone,
}

/// Every team, in one vocabulary: the teams behind campaigns, touchpoints
/// and segments (MARKETING, SALES, SERVICE, PRODUCT) and the teams that
/// source leads (MARKETING, SALES, PARTNER). MARKETING and SALES are the
/// same team in both roles, so attribution's credit by team, leads' source
/// team and the revenue cycle line up. Where an input takes a touchpoint
/// team, PARTNER is refused (partners source leads but make no touches);
/// where only a source team applies, the input type is `LeadSourceTeam`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Team {
    Marketing,
    Sales,
    Service,
    Product,
    /// Lead source only: a retail or channel partner.
    Partner,
}

impl Team {
    /// The team whose GraphQL name is `name` (`"NONE"` is none).
    pub fn parse(name: &str) -> Option<Team> {
        let touch = entity::enums::Team::parse(name).map(Team::from);
        touch.or_else(|| entity::enums::LeadSourceTeam::parse(name).map(Team::from))
    }

    /// The touchpoint (campaign, segment) team, or BAD_USER_INPUT naming
    /// `argument` for PARTNER.
    pub fn touch_team(self, argument: &str) -> Result<entity::enums::Team, crate::error::Error> {
        use entity::enums::Team as Touch;
        match self {
            Team::Marketing => Ok(Touch::Marketing),
            Team::Sales => Ok(Touch::Sales),
            Team::Service => Ok(Touch::Service),
            Team::Product => Ok(Touch::Product),
            Team::Partner => Err(crate::error::Error::validation(
                argument,
                "PARTNER sources leads only: campaigns, touchpoints and segments belong to MARKETING, SALES, \
                 SERVICE or PRODUCT",
            )),
        }
    }
}

impl From<entity::enums::Team> for Team {
    fn from(team: entity::enums::Team) -> Self {
        use entity::enums::Team as Touch;
        match team {
            Touch::Marketing => Team::Marketing,
            Touch::Sales => Team::Sales,
            Touch::Service => Team::Service,
            Touch::Product => Team::Product,
        }
    }
}

impl From<entity::enums::LeadSourceTeam> for Team {
    fn from(team: entity::enums::LeadSourceTeam) -> Self {
        use entity::enums::LeadSourceTeam as Source;
        match team {
            Source::Marketing => Team::Marketing,
            Source::Sales => Team::Sales,
            Source::Partner => Team::Partner,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::TouchpointKind")]
#[serde(into = "entity::enums::TouchpointKind")]
pub enum TouchpointKind {
    Impression,
    Click,
    Visit,
    EmailOpen,
    FormFill,
    Call,
    Meeting,
    Demo,
    StoreVisit,
    Support,
}

/// The teams that source leads: the input type wherever only a source team
/// applies (outputs use [`Team`], which holds these too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::LeadSourceTeam")]
#[serde(into = "entity::enums::LeadSourceTeam")]
pub enum LeadSourceTeam {
    Marketing,
    Sales,
    Partner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::LeadStage")]
#[serde(into = "entity::enums::LeadStage")]
pub enum LeadStage {
    Lead,
    Mql,
    Sql,
    Opportunity,
    Won,
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::SurveyKind")]
#[serde(into = "entity::enums::SurveyKind")]
pub enum SurveyKind {
    Nps,
    BrandTracker,
    Drivers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::ProductTouchpoint")]
#[serde(into = "entity::enums::ProductTouchpoint")]
pub enum ProductTouchpoint {
    Knob,
    Handle,
    Button,
    Screen,
    Imagery,
    Video,
    Messaging,
    Packaging,
}

/// Whether a customer agreed to be contacted on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::ConsentStatus")]
#[serde(into = "entity::enums::ConsentStatus")]
pub enum ConsentStatus {
    Granted,
    Denied,
    /// Never recorded, or recorded as not known.
    Unknown,
}

/// A way to contact a customer that needs their consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::ContactChannel")]
#[serde(into = "entity::enums::ContactChannel")]
pub enum ContactChannel {
    Email,
    Sms,
    Phone,
}
