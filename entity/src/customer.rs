//! A person, consumer or business contact. `email`, `name` and `phone` are PII;
//! consent to contact is kept per channel.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub external_id: String,
    pub account_id: Option<i64>,
    pub email: String,
    /// `email` trimmed and lower-cased: the key identity resolution matches on.
    pub email_key: String,
    pub name: String,
    pub phone: Option<String>,
    pub region: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    pub acquisition_channel: String,
    /// Free-form attributes from source systems, used by segment rules.
    pub traits: Json,
    pub first_seen_at: DateTimeUtc,
    /// Set when this customer was merged into another one (identity resolution).
    pub merged_into_id: Option<i64>,
    /// Consent to email, SMS and phone contact: each channel's status, when
    /// the source system recorded it and which source that was. A channel
    /// never heard of is UNKNOWN with no time or source.
    pub consent_email: ConsentStatus,
    pub consent_email_updated_at: Option<DateTimeUtc>,
    pub consent_email_source: Option<String>,
    pub consent_sms: ConsentStatus,
    pub consent_sms_updated_at: Option<DateTimeUtc>,
    pub consent_sms_source: Option<String>,
    pub consent_phone: ConsentStatus,
    pub consent_phone_updated_at: Option<DateTimeUtc>,
    pub consent_phone_source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
