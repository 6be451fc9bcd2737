//! The data model's vocabularies as GraphQL enums. Each mirrors an enum of
//! the `entity` crate (`remote`), which generates the conversions both
//! ways, so the two cannot drift apart silently.

use async_graphql::Enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::AccountKind")]
pub enum AccountKind {
    Retailer,
    Distributor,
    Business,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::AccountTier")]
pub enum AccountTier {
    Strategic,
    Key,
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::OrderChannel")]
pub enum OrderChannel {
    Online,
    Retail,
    Marketplace,
    DirectSales,
    Phone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::Team")]
pub enum Team {
    Marketing,
    Sales,
    Service,
    Product,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::TouchpointKind")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::LeadSourceTeam")]
pub enum LeadSourceTeam {
    Marketing,
    Sales,
    Partner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::LeadStage")]
pub enum LeadStage {
    Lead,
    Mql,
    Sql,
    Opportunity,
    Won,
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::SurveyKind")]
pub enum SurveyKind {
    Nps,
    BrandTracker,
    Drivers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::enums::ProductTouchpoint")]
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
