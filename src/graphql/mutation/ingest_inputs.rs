//! The input objects of the upserts and of `ingest(batch:)`: one per
//! ingest record, field for field. They do no checking of their own: an
//! input is serialised to JSON and read back as its record with
//! [`read_record`], the same reader NDJSON import uses, so the record's
//! serde rules and its `Validate` stay the only checks.

use async_graphql::{Enum, InputObject, Json, OneofObject};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::graphql::scalars::{BigInt, Date};
use crate::graphql::types::enums::{
    AccountKind, AccountTier, ConsentStatus, LeadSourceTeam, LeadStage, OrderChannel, ProductTouchpoint, SurveyKind,
    Team, TouchpointKind,
};
use crate::ingest::records::{self, FieldError, read_record};
use crate::ingest::{AnyRecord, EntityKind, UnreadableRecord};

/// An input object that stands for one ingest record.
pub trait RecordInput: Serialize {
    type Record: DeserializeOwned + Into<AnyRecord>;
    const KIND: EntityKind;

    fn external_id(&self) -> &str;

    /// The record this input stands for, or why it is not one (the field
    /// at fault is named as in the record).
    fn to_record(&self) -> Result<AnyRecord, UnreadableRecord> {
        let unreadable = |error: FieldError| UnreadableRecord {
            kind: Self::KIND,
            external_id: self.external_id().to_owned(),
            error,
        };
        let value =
            serde_json::to_value(self).map_err(|error| unreadable(FieldError::new("record", error.to_string())))?;
        read_record::<Self::Record, _>(value)
            .map(Into::into)
            .map_err(unreadable)
    }
}

/// A retail partner, distributor or business customer, by `externalId`.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInput {
    pub external_id: String,
    pub name: String,
    pub kind: AccountKind,
    pub region: String,
    pub tier: AccountTier,
    /// The sales rep who owns the account.
    pub owner: String,
}

/// A person, by `externalId`. A customer whose identity or normalised email
/// is already known updates that customer.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInput {
    pub external_id: String,
    pub account_external_id: Option<String>,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub region: String,
    /// ISO 3166 alpha-2, e.g. "GB".
    pub country: String,
    pub acquisition_channel: String,
    pub first_seen_at: DateTime<Utc>,
    /// A JSON object of free-form attributes; `{}` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traits: Option<Json<serde_json::Value>>,
    /// The customer's ids in source systems.
    #[graphql(default)]
    pub identities: Vec<IdentityInput>,
    /// Consent to contact per channel. A channel left out keeps what is
    /// stored, and consent older (by `updatedAt`) than the stored one is
    /// ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentInput>,
}

/// A customer's consent per channel; each channel is optional.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<ChannelConsentInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<ChannelConsentInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<ChannelConsentInput>,
}

/// One channel's consent, as the source system recorded it.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelConsentInput {
    pub status: ConsentStatus,
    /// When the source recorded it; an older one than the stored is ignored.
    pub updated_at: DateTime<Utc>,
    /// Where it was given: a preference centre, a signup form, a checkout.
    pub source: String,
}

/// One source system's id for a customer.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityInput {
    pub source: String,
    pub source_id: String,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductInput {
    pub external_id: String,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub launched_at: DateTime<Utc>,
}

/// An order with all its lines; re-sending it replaces the lines.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderInput {
    pub external_id: String,
    pub customer_external_id: String,
    /// The retail partner or account the order sold through.
    pub account_external_id: Option<String>,
    pub channel: OrderChannel,
    pub ordered_at: DateTime<Utc>,
    /// Must be the reporting currency.
    pub currency: String,
    /// Must equal the sum of quantity × unitAmountMinor over the lines.
    pub amount_minor: BigInt,
    pub lines: Vec<OrderLineInput>,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineInput {
    pub product_external_id: String,
    pub quantity: i32,
    pub unit_amount_minor: BigInt,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignInput {
    pub external_id: String,
    pub name: String,
    pub team: Team,
    pub channel: String,
    pub spend_minor: BigInt,
    /// First day, inclusive.
    pub starts_on: Date,
    /// Last day, inclusive.
    pub ends_on: Date,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TouchpointInput {
    pub external_id: String,
    pub customer_external_id: String,
    pub account_external_id: Option<String>,
    pub campaign_external_id: Option<String>,
    pub team: Team,
    pub channel: String,
    pub kind: TouchpointKind,
    pub occurred_at: DateTime<Utc>,
    /// A JSON object of source-specific details; `{}` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Json<serde_json::Value>>,
}

/// A lead at its current stage, with the time it reached each stage.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadInput {
    pub external_id: String,
    pub customer_external_id: String,
    pub account_external_id: Option<String>,
    pub source_team: LeadSourceTeam,
    pub stage: LeadStage,
    pub created_at: DateTime<Utc>,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
    pub opportunity_at: Option<DateTime<Utc>>,
    /// Set exactly when the stage is WON or LOST.
    pub closed_at: Option<DateTime<Utc>>,
    pub amount_minor: Option<BigInt>,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyInput {
    pub external_id: String,
    pub name: String,
    pub kind: SurveyKind,
}

/// One respondent's answers; re-sending it replaces its brand answers and
/// ratings.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyResponseInput {
    pub external_id: String,
    pub survey_external_id: String,
    /// Left out for anonymous panelists.
    pub customer_external_id: Option<String>,
    pub region: String,
    pub responded_at: DateTime<Utc>,
    /// 0–10.
    pub nps_score: Option<i32>,
    /// 1–5.
    pub purchase_intent: Option<i32>,
    pub comment: Option<String>,
    #[graphql(default)]
    pub brands: Vec<BrandAnswerInput>,
    #[graphql(default)]
    pub ratings: Vec<DriverRatingInput>,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandAnswerInput {
    pub brand: String,
    pub aware: bool,
    pub considered: bool,
    pub preferred: bool,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverRatingInput {
    pub attribute: String,
    /// 1–10.
    pub rating: i32,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductTestInput {
    pub external_id: String,
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub variant: String,
    pub panel: String,
    pub tested_at: DateTime<Utc>,
}

#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductTestVoteInput {
    pub external_id: String,
    pub test_external_id: String,
    pub approved: bool,
    /// 1–5.
    pub rating: Option<i32>,
    pub comment: Option<String>,
}

/// A month of one brand's mentions in one channel.
#[derive(InputObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandMentionInput {
    pub external_id: String,
    pub brand: String,
    pub channel: String,
    pub period_start: Date,
    /// Must equal positive + neutral + negative.
    pub mentions: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
}

/// Generates, from the one list of kinds, each input's [`RecordInput`]
/// impl, the `@oneOf` input of `ingest(batch:)` and the enum that names
/// the kinds in results.
macro_rules! record_inputs {
    ($($kind:ident($record:ident, $stem:literal, $singular:ident, $input:ident)),+ $(,)?) => {
        $(impl RecordInput for $input {
            type Record = records::$record;
            const KIND: EntityKind = EntityKind::$kind;

            fn external_id(&self) -> &str {
                &self.external_id
            }
        })+

        /// One record of a batch: exactly one of the fields.
        #[derive(OneofObject)]
        pub enum IngestRecordInput {
            $($singular($input)),+
        }

        impl IngestRecordInput {
            pub fn kind(&self) -> EntityKind {
                match self {
                    $(IngestRecordInput::$singular(_) => EntityKind::$kind),+
                }
            }

            /// The record this input stands for, or why it is not one.
            pub fn to_record(&self) -> Result<AnyRecord, UnreadableRecord> {
                match self {
                    $(IngestRecordInput::$singular(input) => input.to_record()),+
                }
            }
        }

        /// The kinds of record a batch may hold.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        pub enum IngestEntity {
            $($singular),+
        }

        impl IngestEntity {
            pub fn of(kind: EntityKind) -> Self {
                match kind {
                    $(EntityKind::$kind => IngestEntity::$singular),+
                }
            }
        }
    };
}

crate::ingest::entity_kinds!(record_inputs);
