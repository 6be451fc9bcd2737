//! A customer's membership of a segment, as of the segment's last refresh.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub segment_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub joined_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
