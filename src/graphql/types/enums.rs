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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[graphql(remote = "entity::enums::Team")]
#[serde(into = "entity::enums::Team")]
pub enum Team {
    Marketing,
    Sales,
    Service,
    Product,
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
