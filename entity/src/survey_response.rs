//! One respondent's answers to a survey. Panel respondents may be anonymous.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_response")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub external_id: String,
    pub survey_id: i64,
    pub customer_id: Option<i64>,
    /// The respondent's region as the survey recorded it.
    pub region: String,
    pub responded_at: DateTimeUtc,
    /// 0–10.
    pub nps_score: Option<i32>,
    /// 1–5, intent to buy the own brand.
    pub purchase_intent: Option<i32>,
    pub comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
