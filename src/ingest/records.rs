//! The ingest format of DESIGN.md §6: one record type per entity, exactly as
//! it appears in an NDJSON line (camelCase fields, references by
//! `externalId`). Unknown fields are refused so a typo in a source system
//! is reported instead of silently dropped.
//!
//! Each record checks what it can on its own in [`Validate::validate`];
//! references to other records are resolved when the batch is written.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{
    AccountKind, AccountTier, ConsentStatus, ContactChannel, LeadSourceTeam, LeadStage, OrderChannel,
    ProductTouchpoint, SurveyKind, Team, TouchpointKind,
};
use serde::{Deserialize, Deserializer, Serialize};

/// Why a single record was refused: the field at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Reads one record from JSON (an NDJSON line, or a value built by the
/// GraphQL layer), naming the field at fault when it does not fit: every
/// transport reports a malformed record the same way.
pub fn read_record<'de, R, D>(deserializer: D) -> Result<R, FieldError>
where
    R: Deserialize<'de>,
    D: Deserializer<'de, Error = serde_json::Error>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        // The path is "." (or "?" after a syntax error) when no field is at fault.
        let field = if path == "." || path == "?" {
            "record".to_owned()
        } else {
            path
        };
        let inner = error.into_inner();
        // serde_json appends " at line 1 column N"; the line is the caller's to report.
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {message}")
        } else {
            message
        };
        FieldError::new(field, message)
    })
}

/// The longest external id (any `externalId` or `…ExternalId`), in
/// characters: an index key must stay well under PostgreSQL's limit of
/// about 2,700 bytes per B-tree entry.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;
/// The longest text value (a name, a comment, a string inside `traits`).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The largest amount in minor units (any `…Minor` field): 10^15, i.e. ten
/// trillion in a currency of two decimals. Sums of many such amounts stay
/// far inside 64 bits.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// Refuses what a database would refuse or could not sum, whatever the
/// record's kind: a NUL character in any string (PostgreSQL's text and
/// JSON types cannot hold one), an external id or text over its maximum
/// length, an amount over [`MAX_AMOUNT_MINOR`], a day outside
/// [`crate::db::dates`]' range. The field is named by its
/// path (`lines[1].unitAmountMinor`, `traits.note`).
pub fn check_values(record: &impl Serialize) -> Result<(), FieldError> {
    let value = serde_json::to_value(record).map_err(|error| FieldError::new("record", error.to_string()))?;
    check_value("", &value)
}

fn check_value(path: &str, value: &serde_json::Value) -> Result<(), FieldError> {
    use serde_json::Value;
    let field = || {
        if path.is_empty() {
            "record".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::String(text) => {
            if text.contains('\0') {
                return Err(FieldError::new(field(), "must not contain a NUL character"));
            }
            if let Some(reason) = crate::db::dates::text_out_of_range(text) {
                return Err(FieldError::new(field(), reason));
            }
            let is_id = path.ends_with("externalId") || path.ends_with("ExternalId");
            let limit = if is_id { MAX_EXTERNAL_ID_CHARS } else { MAX_TEXT_CHARS };
            let chars = text.chars().count();
            if chars > limit {
                return Err(FieldError::new(
                    field(),
                    format!("is {chars} characters long; the most is {limit}"),
                ));
            }
        }
        Value::Number(number)
            if path.ends_with("Minor") && number.as_i64().is_none_or(|amount| amount.abs() > MAX_AMOUNT_MINOR) =>
        {
            return Err(FieldError::new(
                field(),
                format!("{number} is beyond the largest amount, {MAX_AMOUNT_MINOR} minor units"),
            ));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_value(&format!("{path}[{index}]"), item)?;
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                if key.contains('\0') {
                    return Err(FieldError::new(field(), "a key must not contain a NUL character"));
                }
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                check_value(&inner, item)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks a record on its own, before any database lookup.
pub trait Validate {
    /// `currency` is the reporting currency that money must be in.
    fn validate(&self, currency: &str) -> Result<(), FieldError>;
}

/// Every ingestible record has an `externalId`, its upsert key
/// (implemented for each kind by [`super::kinds::entity_kinds!`]).
pub trait Keyed {
    fn external_id(&self) -> &str;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountRecord {
    pub external_id: String,
    pub name: String,
    pub kind: AccountKind,
    pub region: String,
    pub tier: AccountTier,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerRecord {
    pub external_id: String,
    #[serde(default)]
    pub account_external_id: Option<String>,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub region: String,
    pub country: String,
    pub acquisition_channel: String,
    pub first_seen_at: DateTime<Utc>,
    #[serde(default = "empty_object")]
    pub traits: serde_json::Value,
    /// The customer's ids in source systems (the shop, the CRM, …). A record
    /// whose identity or normalised email is already known updates that
    /// customer instead of creating another one.
    #[serde(default)]
    pub identities: Vec<IdentityRecord>,
    /// Consent to contact per channel. A channel (or the whole object) left
    /// out leaves what is stored unchanged, and a channel's consent older
    /// than the stored one is ignored: consent is a timestamped fact, kept
    /// newest first, not a field that the last record overwrites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentRecord>,
}

/// A customer's consent to contact, per channel; each channel is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<ChannelConsentRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<ChannelConsentRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<ChannelConsentRecord>,
}

impl ConsentRecord {
    /// The consent given for `channel`, if any.
    pub fn channel(&self, channel: ContactChannel) -> Option<&ChannelConsentRecord> {
        match channel {
            ContactChannel::Email => self.email.as_ref(),
            ContactChannel::Sms => self.sms.as_ref(),
            ContactChannel::Phone => self.phone.as_ref(),
        }
    }

    fn channel_mut(&mut self, channel: ContactChannel) -> &mut Option<ChannelConsentRecord> {
        match channel {
            ContactChannel::Email => &mut self.email,
            ContactChannel::Sms => &mut self.sms,
            ContactChannel::Phone => &mut self.phone,
        }
    }

    /// Takes `later`'s consent for each channel it gives that is not older
    /// than this one's: the rule the upsert applies to stored consent, for
    /// records of one batch that resolve to the same customer.
    pub fn merge_newer(&mut self, later: &ConsentRecord) {
        for &channel in ContactChannel::ALL {
            let Some(incoming) = later.channel(channel) else {
                continue;
            };
            let slot = self.channel_mut(channel);
            if slot.as_ref().is_none_or(|held| incoming.updated_at >= held.updated_at) {
                *slot = Some(incoming.clone());
            }
        }
    }
}

/// One channel's consent: its status, when the source recorded it, and
/// which source (a preference centre, a signup form, a shop checkout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelConsentRecord {
    pub status: ConsentStatus,
    pub updated_at: DateTime<Utc>,
    pub source: String,
}

/// One source system's id for a customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityRecord {
    pub source: String,
    pub source_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRecord {
    pub external_id: String,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub launched_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderRecord {
    pub external_id: String,
    pub customer_external_id: String,
    #[serde(default)]
    pub account_external_id: Option<String>,
    pub channel: OrderChannel,
    pub ordered_at: DateTime<Utc>,
    pub currency: String,
    pub amount_minor: i64,
    pub lines: Vec<OrderLineRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLineRecord {
    pub product_external_id: String,
    pub quantity: i32,
    pub unit_amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignRecord {
    pub external_id: String,
    pub name: String,
    pub team: Team,
    pub channel: String,
    pub spend_minor: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TouchpointRecord {
    pub external_id: String,
    pub customer_external_id: String,
    #[serde(default)]
    pub account_external_id: Option<String>,
    #[serde(default)]
    pub campaign_external_id: Option<String>,
    pub team: Team,
    pub channel: String,
    pub kind: TouchpointKind,
    pub occurred_at: DateTime<Utc>,
    #[serde(default = "empty_object")]
    pub properties: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeadRecord {
    pub external_id: String,
    pub customer_external_id: String,
    #[serde(default)]
    pub account_external_id: Option<String>,
    pub source_team: LeadSourceTeam,
    pub stage: LeadStage,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub mql_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub sql_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub opportunity_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub amount_minor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SurveyRecord {
    pub external_id: String,
    pub name: String,
    pub kind: SurveyKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SurveyResponseRecord {
    pub external_id: String,
    pub survey_external_id: String,
    #[serde(default)]
    pub customer_external_id: Option<String>,
    pub region: String,
    pub responded_at: DateTime<Utc>,
    #[serde(default)]
    pub nps_score: Option<i32>,
    #[serde(default)]
    pub purchase_intent: Option<i32>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub brands: Vec<BrandAnswerRecord>,
    #[serde(default)]
    pub ratings: Vec<DriverRatingRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandAnswerRecord {
    pub brand: String,
    pub aware: bool,
    pub considered: bool,
    pub preferred: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriverRatingRecord {
    pub attribute: String,
    pub rating: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductTestRecord {
    pub external_id: String,
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub variant: String,
    pub panel: String,
    pub tested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductTestVoteRecord {
    pub external_id: String,
    pub test_external_id: String,
    pub approved: bool,
    #[serde(default)]
    pub rating: Option<i32>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandMentionRecord {
    pub external_id: String,
    pub brand: String,
    pub channel: String,
    pub period_start: NaiveDate,
    pub mentions: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// Refuses an empty (or blank) text field.
fn required(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        Err(FieldError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Refuses a number outside `low..=high`.
fn within(field: &str, value: i64, low: i64, high: i64) -> Result<(), FieldError> {
    if (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{value} is out of range {low}..={high}"),
        ))
    }
}

fn not_negative(field: &str, value: i64) -> Result<(), FieldError> {
    within(field, value, 0, i64::MAX)
}

impl Validate for AccountRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("name", &self.name)?;
        required("region", &self.region)?;
        required("owner", &self.owner)
    }
}

impl Validate for CustomerRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("name", &self.name)?;
        required("region", &self.region)?;
        match self.email.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') => {}
            _ => {
                return Err(FieldError::new(
                    "email",
                    format!("{:?} is not an email address", self.email),
                ));
            }
        }
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "country",
                format!("{:?} is not an ISO 3166 alpha-2 code such as \"GB\"", self.country),
            ));
        }
        if !self.traits.is_object() {
            return Err(FieldError::new("traits", "must be a JSON object"));
        }
        for (index, identity) in self.identities.iter().enumerate() {
            required(&format!("identities[{index}].source"), &identity.source)?;
            required(&format!("identities[{index}].sourceId"), &identity.source_id)?;
        }
        if let Some(consent) = &self.consent {
            for (name, given) in [
                ("email", &consent.email),
                ("sms", &consent.sms),
                ("phone", &consent.phone),
            ] {
                if let Some(given) = given {
                    required(&format!("consent.{name}.source"), &given.source)?;
                }
            }
        }
        Ok(())
    }
}

impl Validate for ProductRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("sku", &self.sku)?;
        required("name", &self.name)?;
        required("category", &self.category)
    }
}

impl Validate for OrderRecord {
    fn validate(&self, currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("customerExternalId", &self.customer_external_id)?;
        if self.currency != currency {
            return Err(FieldError::new(
                "currency",
                format!("{:?} is not the reporting currency {currency:?}", self.currency),
            ));
        }
        if self.lines.is_empty() {
            return Err(FieldError::new("lines", "an order needs at least one line"));
        }
        let mut total: i64 = 0;
        for (index, line) in self.lines.iter().enumerate() {
            required(&format!("lines[{index}].productExternalId"), &line.product_external_id)?;
            within(
                &format!("lines[{index}].quantity"),
                line.quantity.into(),
                1,
                i64::from(i32::MAX),
            )?;
            not_negative(&format!("lines[{index}].unitAmountMinor"), line.unit_amount_minor)?;
            let line_total = line
                .unit_amount_minor
                .checked_mul(line.quantity.into())
                .and_then(|value| total.checked_add(value));
            total = line_total.ok_or_else(|| FieldError::new("lines", "the line amounts overflow"))?;
        }
        if total != self.amount_minor {
            return Err(FieldError::new(
                "amountMinor",
                format!(
                    "{} does not equal the sum of quantity × unitAmountMinor over the lines ({total})",
                    self.amount_minor
                ),
            ));
        }
        Ok(())
    }
}

impl Validate for CampaignRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("name", &self.name)?;
        required("channel", &self.channel)?;
        not_negative("spendMinor", self.spend_minor)?;
        if self.ends_on < self.starts_on {
            return Err(FieldError::new("endsOn", "must not be before startsOn"));
        }
        Ok(())
    }
}

impl Validate for TouchpointRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("customerExternalId", &self.customer_external_id)?;
        required("channel", &self.channel)?;
        if !self.properties.is_object() {
            return Err(FieldError::new("properties", "must be a JSON object"));
        }
        Ok(())
    }
}

impl Validate for LeadRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("customerExternalId", &self.customer_external_id)?;
        let closed = matches!(self.stage, LeadStage::Won | LeadStage::Lost);
        if closed != self.closed_at.is_some() {
            return Err(FieldError::new(
                "closedAt",
                "must be set exactly when stage is WON or LOST",
            ));
        }
        // A stage's timestamp never precedes the one before it.
        let mut previous = ("createdAt", self.created_at);
        for (field, at) in [
            ("mqlAt", self.mql_at),
            ("sqlAt", self.sql_at),
            ("opportunityAt", self.opportunity_at),
            ("closedAt", self.closed_at),
        ] {
            if let Some(at) = at {
                if at < previous.1 {
                    return Err(FieldError::new(field, format!("must not be before {}", previous.0)));
                }
                previous = (field, at);
            }
        }
        let reached_later_stage = match self.stage {
            LeadStage::Lead => self.mql_at.or(self.sql_at).or(self.opportunity_at).is_some(),
            LeadStage::Mql => self.sql_at.or(self.opportunity_at).is_some(),
            LeadStage::Sql => self.opportunity_at.is_some(),
            _ => false,
        };
        if reached_later_stage {
            return Err(FieldError::new(
                "stage",
                format!("{} has a timestamp of a later stage", self.stage),
            ));
        }
        if self.stage == LeadStage::Won && (self.amount_minor.is_none() || self.opportunity_at.is_none()) {
            return Err(FieldError::new(
                "amountMinor",
                "a WON lead needs amountMinor and opportunityAt",
            ));
        }
        if let Some(amount) = self.amount_minor {
            not_negative("amountMinor", amount)?;
        }
        Ok(())
    }
}

impl Validate for SurveyRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("name", &self.name)
    }
}

impl Validate for SurveyResponseRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("surveyExternalId", &self.survey_external_id)?;
        required("region", &self.region)?;
        if let Some(score) = self.nps_score {
            within("npsScore", score.into(), 0, 10)?;
        }
        if let Some(intent) = self.purchase_intent {
            within("purchaseIntent", intent.into(), 1, 5)?;
        }
        let mut brands = std::collections::HashSet::new();
        for (index, answer) in self.brands.iter().enumerate() {
            required(&format!("brands[{index}].brand"), &answer.brand)?;
            if !brands.insert(answer.brand.as_str()) {
                return Err(FieldError::new(
                    format!("brands[{index}].brand"),
                    format!("{:?} is answered twice", answer.brand),
                ));
            }
            if (answer.preferred && !answer.considered) || (answer.considered && !answer.aware) {
                return Err(FieldError::new(
                    format!("brands[{index}]"),
                    "preferred implies considered, and considered implies aware",
                ));
            }
        }
        let mut attributes = std::collections::HashSet::new();
        for (index, rating) in self.ratings.iter().enumerate() {
            required(&format!("ratings[{index}].attribute"), &rating.attribute)?;
            within(&format!("ratings[{index}].rating"), rating.rating.into(), 1, 10)?;
            if !attributes.insert(rating.attribute.as_str()) {
                return Err(FieldError::new(
                    format!("ratings[{index}].attribute"),
                    format!("{:?} is rated twice", rating.attribute),
                ));
            }
        }
        Ok(())
    }
}

impl Validate for ProductTestRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("productExternalId", &self.product_external_id)?;
        required("variant", &self.variant)?;
        required("panel", &self.panel)
    }
}

impl Validate for ProductTestVoteRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("testExternalId", &self.test_external_id)?;
        if let Some(rating) = self.rating {
            within("rating", rating.into(), 1, 5)?;
        }
        Ok(())
    }
}

impl Validate for BrandMentionRecord {
    fn validate(&self, _currency: &str) -> Result<(), FieldError> {
        required("externalId", &self.external_id)?;
        required("brand", &self.brand)?;
        required("channel", &self.channel)?;
        for (field, value) in [
            ("mentions", self.mentions),
            ("positive", self.positive),
            ("neutral", self.neutral),
            ("negative", self.negative),
        ] {
            not_negative(field, value)?;
        }
        if self.positive + self.neutral + self.negative != self.mentions {
            return Err(FieldError::new("mentions", "must equal positive + neutral + negative"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(amount_minor: i64) -> OrderRecord {
        OrderRecord {
            external_id: "O1".into(),
            customer_external_id: "C1".into(),
            account_external_id: None,
            channel: OrderChannel::Online,
            ordered_at: Utc::now(),
            currency: "USD".into(),
            amount_minor,
            lines: vec![OrderLineRecord {
                product_external_id: "P1".into(),
                quantity: 2,
                unit_amount_minor: 150,
            }],
        }
    }

    #[test]
    fn an_order_must_add_up_and_be_in_the_reporting_currency() {
        assert_eq!(order(300).validate("USD"), Ok(()));
        assert_eq!(
            order(301).validate("USD").map_err(|e| e.field),
            Err("amountMinor".to_string())
        );
        assert_eq!(
            order(300).validate("EUR").map_err(|e| e.field),
            Err("currency".to_string())
        );
    }

    #[test]
    fn unknown_fields_and_enum_values_are_refused_by_name() {
        let unknown = serde_json::from_str::<SurveyRecord>(r#"{"externalId":"S1","name":"x","kind":"NPS","colour":1}"#);
        assert!(unknown.is_err_and(|e| e.to_string().contains("colour")));
        let bad_enum = serde_json::from_str::<SurveyRecord>(r#"{"externalId":"S1","name":"x","kind":"POLL"}"#);
        assert!(bad_enum.is_err_and(|e| e.to_string().contains("POLL")));
    }

    #[test]
    fn what_a_database_would_refuse_is_refused_by_field() {
        let mut record = order(2500);
        record.lines[0].product_external_id = "P\u{0}1".to_owned();
        assert_eq!(
            check_values(&record).map_err(|e| e.field),
            Err("lines[0].productExternalId".to_owned())
        );
        let mut record = order(2500);
        record.external_id = "x".repeat(MAX_EXTERNAL_ID_CHARS + 1);
        assert_eq!(check_values(&record).map_err(|e| e.field), Err("externalId".to_owned()));
        let mut record = order(2500);
        record.amount_minor = MAX_AMOUNT_MINOR + 1;
        assert_eq!(
            check_values(&record).map_err(|e| e.field),
            Err("amountMinor".to_owned())
        );
        assert_eq!(check_values(&order(2500)), Ok(()));
    }

    #[test]
    fn scores_out_of_range_name_the_field() {
        let response: SurveyResponseRecord = serde_json::from_str(
            r#"{"externalId":"R1","surveyExternalId":"S1","region":"UK","respondedAt":"2025-01-01T00:00:00Z","npsScore":11}"#,
        )
        .expect("valid JSON");
        assert_eq!(
            response.validate("USD").map_err(|e| e.field),
            Err("npsScore".to_string())
        );
    }

    #[test]
    fn consent_out_of_the_set_names_its_field_and_newer_consent_wins() {
        let line = r#"{"externalId":"C1","email":"a@example.com","name":"A","region":"EU","country":"DE","acquisitionChannel":"ads","firstSeenAt":"2025-01-01T00:00:00Z","consent":{"email":{"status":"MAYBE","updatedAt":"2025-01-01T00:00:00Z","source":"form"}}}"#;
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let error = read_record::<CustomerRecord, _>(&mut deserializer).expect_err("MAYBE is refused");
        assert_eq!(error.field, "consent.email.status");
        assert!(error.message.contains("MAYBE"), "{error}");

        let at = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2025, 1, day)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
                .expect("a day")
        };
        let given = |status, day, source: &str| ChannelConsentRecord {
            status,
            updated_at: at(day),
            source: source.to_owned(),
        };
        let mut held = ConsentRecord {
            email: Some(given(ConsentStatus::Denied, 5, "unsubscribe")),
            ..Default::default()
        };
        held.merge_newer(&ConsentRecord {
            email: Some(given(ConsentStatus::Granted, 4, "old")),
            sms: Some(given(ConsentStatus::Granted, 1, "form")),
            phone: None,
        });
        assert_eq!(held.email, Some(given(ConsentStatus::Denied, 5, "unsubscribe")));
        assert_eq!(held.sms, Some(given(ConsentStatus::Granted, 1, "form")));
        held.merge_newer(&ConsentRecord {
            email: Some(given(ConsentStatus::Granted, 5, "tie")),
            ..Default::default()
        });
        assert_eq!(
            held.email,
            Some(given(ConsentStatus::Granted, 5, "tie")),
            "a tie goes to the later record"
        );
        assert_eq!(held.channel(ContactChannel::Phone), None);
    }
}
