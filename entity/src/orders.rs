//! An omnichannel purchase. The table is `orders` because `order` is an SQL keyword.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub external_id: String,
    pub customer_id: i64,
    /// The retail partner or account the order sold through.
    pub account_id: Option<i64>,
    pub channel: OrderChannel,
    /// In minor units of the reporting currency; always the sum of the lines.
    pub amount_minor: i64,
    pub ordered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
