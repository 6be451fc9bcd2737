//! A lead in the single revenue cycle that marketing and sales share.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lead")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub external_id: String,
    pub customer_id: i64,
    pub account_id: Option<i64>,
    pub source_team: LeadSourceTeam,
    pub stage: LeadStage,
    pub created_at: DateTimeUtc,
    pub mql_at: Option<DateTimeUtc>,
    pub sql_at: Option<DateTimeUtc>,
    pub opportunity_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Revenue when won; pipeline value on open or lost opportunities.
    pub amount_minor: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
