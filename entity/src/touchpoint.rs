//! One step of a customer's journey: an impression, a call, a store visit…

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "touchpoint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub external_id: String,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub team: Team,
    pub channel: String,
    pub kind: TouchpointKind,
    pub occurred_at: DateTimeUtc,
    pub properties: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
