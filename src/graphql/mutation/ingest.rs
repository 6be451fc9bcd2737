//! Writes from GraphQL: an upsert by `externalId` per ingestible entity,
//! answering with what it wrote (the object itself only to roles that may
//! read records), and `ingest(batch:)` for up to 10,000 records of mixed
//! kinds in one transaction. Every one of them goes through
//! [`crate::ingest::write_mixed`], the validated ingest path that file
//! import uses; nothing here checks a record.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use entity::{
    account, brand_mention, campaign, customer, lead, orders, product, product_test, product_test_vote, survey,
    survey_response, touchpoint,
};
use sea_orm::DatabaseConnection;

use super::ingest_inputs::*;
use crate::auth::Viewer;
use crate::config::ApiConfig;
use crate::error::Error;
use crate::events::EventBus;
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::account::Account;
use crate::graphql::types::brand_mention::BrandMention;
use crate::graphql::types::campaign::Campaign;
use crate::graphql::types::customer::Customer;
use crate::graphql::types::lead::Lead;
use crate::graphql::types::load_by_id;
use crate::graphql::types::order::Order;
use crate::graphql::types::product::{Product, ProductTest, ProductTestVote};
use crate::graphql::types::survey::{Survey, SurveyResponse};
use crate::graphql::types::touchpoint::Touchpoint;
use crate::ingest::{
    AnyRecord, EntityKind, MixedReport, Outcome, RecordOutcome, UnreadableRecord, check_batch_size, write_mixed,
};

#[derive(Default)]
pub struct IngestMutation;

#[Object]
impl IngestMutation {
    /// Creates or updates the account with this `externalId`.
    async fn upsert_account(
        &self,
        ctx: &Context<'_>,
        input: AccountInput,
    ) -> async_graphql::Result<UpsertAccountPayload> {
        upsert(ctx, &input).await.map(UpsertAccountPayload)
    }

    /// Creates or updates a customer: the one with this `externalId`, or the
    /// one identity resolution matches (then `status` is MATCHED).
    async fn upsert_customer(
        &self,
        ctx: &Context<'_>,
        input: CustomerInput,
    ) -> async_graphql::Result<UpsertCustomerPayload> {
        let mut answer = upsert(ctx, &input).await?;
        // Whether the record went to a customer known by another external id:
        // read here, never shown (the customer's fields need record access).
        let written = load_by_id::<customer::Entity, Customer>(ctx, answer.row_id).await?;
        if written.is_some_and(|customer| customer.0.external_id != answer.external_id) {
            answer.status = UpsertStatus::Matched;
        }
        Ok(UpsertCustomerPayload(answer))
    }

    async fn upsert_product(
        &self,
        ctx: &Context<'_>,
        input: ProductInput,
    ) -> async_graphql::Result<UpsertProductPayload> {
        upsert(ctx, &input).await.map(UpsertProductPayload)
    }

    async fn upsert_campaign(
        &self,
        ctx: &Context<'_>,
        input: CampaignInput,
    ) -> async_graphql::Result<UpsertCampaignPayload> {
        upsert(ctx, &input).await.map(UpsertCampaignPayload)
    }

    async fn upsert_survey(&self, ctx: &Context<'_>, input: SurveyInput) -> async_graphql::Result<UpsertSurveyPayload> {
        upsert(ctx, &input).await.map(UpsertSurveyPayload)
    }

    /// Creates or updates an order; its lines replace the ones it had.
    async fn upsert_order(&self, ctx: &Context<'_>, input: OrderInput) -> async_graphql::Result<UpsertOrderPayload> {
        upsert(ctx, &input).await.map(UpsertOrderPayload)
    }

    async fn upsert_touchpoint(
        &self,
        ctx: &Context<'_>,
        input: TouchpointInput,
    ) -> async_graphql::Result<UpsertTouchpointPayload> {
        upsert(ctx, &input).await.map(UpsertTouchpointPayload)
    }

    /// Creates a lead or moves it on: re-send it with its new stage.
    async fn upsert_lead(&self, ctx: &Context<'_>, input: LeadInput) -> async_graphql::Result<UpsertLeadPayload> {
        upsert(ctx, &input).await.map(UpsertLeadPayload)
    }

    /// Creates or updates a response; its brand answers and ratings replace
    /// the ones it had.
    async fn upsert_survey_response(
        &self,
        ctx: &Context<'_>,
        input: SurveyResponseInput,
    ) -> async_graphql::Result<UpsertSurveyResponsePayload> {
        upsert(ctx, &input).await.map(UpsertSurveyResponsePayload)
    }

    async fn upsert_product_test(
        &self,
        ctx: &Context<'_>,
        input: ProductTestInput,
    ) -> async_graphql::Result<UpsertProductTestPayload> {
        upsert(ctx, &input).await.map(UpsertProductTestPayload)
    }

    async fn upsert_product_test_vote(
        &self,
        ctx: &Context<'_>,
        input: ProductTestVoteInput,
    ) -> async_graphql::Result<UpsertProductTestVotePayload> {
        upsert(ctx, &input).await.map(UpsertProductTestVotePayload)
    }

    async fn upsert_brand_mention(
        &self,
        ctx: &Context<'_>,
        input: BrandMentionInput,
    ) -> async_graphql::Result<UpsertBrandMentionPayload> {
        upsert(ctx, &input).await.map(UpsertBrandMentionPayload)
    }

    /// Writes up to 10,000 records of any kinds in one transaction, in
    /// whatever order (a record may refer to another of the batch). When
    /// any record is refused nothing is written: its result says why, and
    /// the others say NOT_WRITTEN. A viewer who may not write one of the
    /// kinds gets FORBIDDEN for the whole batch.
    async fn ingest(
        &self,
        ctx: &Context<'_>,
        batch: Vec<IngestRecordInput>,
    ) -> async_graphql::Result<IngestBatchResult> {
        check_batch_size(batch.len()).gql()?;
        may_write(ctx, batch.iter().map(IngestRecordInput::kind))?;
        let records = batch.iter().map(IngestRecordInput::to_record).collect();
        Ok(IngestBatchResult::from(write(ctx, records).await?))
    }
}

/// What an upsert wrote, which is all it answers with unless the caller
/// may read records: a role that may write but not read (INGEST) learns
/// nothing about a customer its record matched.
pub struct UpsertAnswer {
    id: ID,
    row_id: i64,
    external_id: String,
    status: UpsertStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UpsertStatus {
    /// Inserted, or updated in place, under its own `externalId`.
    Written,
    /// A customer record that identity resolution wrote to an existing
    /// customer known by another `externalId` (same email or identity, or
    /// merged): `id` is that customer's.
    Matched,
}

/// The answer type of one upsert mutation: the written record's `id`,
/// `externalId` and `status` for every writer, and the object itself in
/// field `$field`, which (like every edge to a record) needs record access.
macro_rules! upsert_payload {
    ($payload:ident, $field:ident: $object:ident of $entity:ident) => {
        pub struct $payload(UpsertAnswer);

        /// What an upsert wrote. Every writer gets `id`, `externalId` and
        /// `status`; the object itself needs record access.
        #[Object]
        impl $payload {
            /// The global id of the object now holding the record.
            async fn id(&self) -> &ID {
                &self.0.id
            }
            /// The `externalId` the record was sent with.
            async fn external_id(&self) -> &str {
                &self.0.external_id
            }
            async fn status(&self) -> UpsertStatus {
                self.0.status
            }
            /// The written object as it now stands. Needs record access:
            /// INGEST keys get null and FORBIDDEN.
            async fn $field(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<$object>> {
                load_by_id::<$entity::Entity, $object>(ctx, self.0.row_id).await
            }
        }
    };
}

upsert_payload!(UpsertAccountPayload, account: Account of account);
upsert_payload!(UpsertCustomerPayload, customer: Customer of customer);
upsert_payload!(UpsertProductPayload, product: Product of product);
upsert_payload!(UpsertCampaignPayload, campaign: Campaign of campaign);
upsert_payload!(UpsertSurveyPayload, survey: Survey of survey);
upsert_payload!(UpsertOrderPayload, order: Order of orders);
upsert_payload!(UpsertTouchpointPayload, touchpoint: Touchpoint of touchpoint);
upsert_payload!(UpsertLeadPayload, lead: Lead of lead);
upsert_payload!(UpsertSurveyResponsePayload, survey_response: SurveyResponse of survey_response);
upsert_payload!(UpsertProductTestPayload, product_test: ProductTest of product_test);
upsert_payload!(UpsertProductTestVotePayload, product_test_vote: ProductTestVote of product_test_vote);
upsert_payload!(UpsertBrandMentionPayload, brand_mention: BrandMention of brand_mention);

/// The result of `ingest(batch:)`.
#[derive(SimpleObject)]
pub struct IngestBatchResult {
    /// Whether the batch was written. False when any record was refused:
    /// then nothing was.
    pub committed: bool,
    pub written: usize,
    pub rejected: usize,
    pub not_written: usize,
    /// One result per record, in the order of the batch.
    pub results: Vec<IngestRecordResult>,
}

/// What became of one record of a batch.
#[derive(SimpleObject)]
pub struct IngestRecordResult {
    /// The record's position in the batch, from 0.
    pub index: usize,
    pub entity: IngestEntity,
    pub external_id: String,
    pub status: IngestStatus,
    /// The global id of the object now holding the record, when written.
    pub id: Option<ID>,
    /// The field at fault, when rejected (`lines[0].quantity`).
    pub field: Option<String>,
    /// Why the record was rejected.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum IngestStatus {
    /// Inserted or updated.
    Written,
    /// Refused; `field` and `message` say why.
    Rejected,
    /// Valid, but not written because another record refused the batch.
    NotWritten,
}

impl From<RecordOutcome> for IngestRecordResult {
    fn from(outcome: RecordOutcome) -> Self {
        let entity = IngestEntity::of(outcome.kind);
        let (status, id, error) = match outcome.outcome {
            Outcome::Written { id } => (
                IngestStatus::Written,
                id.map(|id| ids::encode(outcome.kind.type_name(), id)),
                None,
            ),
            Outcome::Rejected(error) => (IngestStatus::Rejected, None, Some(error)),
            Outcome::NotWritten => (IngestStatus::NotWritten, None, None),
        };
        let (field, message) = error.map(|error| (error.field, error.message)).unzip();
        IngestRecordResult {
            index: outcome.index,
            entity,
            external_id: outcome.external_id,
            status,
            id,
            field,
            message,
        }
    }
}

impl From<MixedReport> for IngestBatchResult {
    fn from(report: MixedReport) -> Self {
        IngestBatchResult {
            committed: report.committed,
            written: report.count(|outcome| matches!(outcome, Outcome::Written { .. })),
            rejected: report.count(|outcome| matches!(outcome, Outcome::Rejected(_))),
            not_written: report.count(|outcome| matches!(outcome, Outcome::NotWritten)),
            results: report.outcomes.into_iter().map(IngestRecordResult::from).collect(),
        }
    }
}

/// Refuses the request unless the viewer may write every kind in `kinds`.
fn may_write(ctx: &Context<'_>, kinds: impl IntoIterator<Item = EntityKind>) -> async_graphql::Result<()> {
    let viewer = ctx.data::<Viewer>()?;
    match kinds.into_iter().find(|kind| !viewer.may_write(*kind)) {
        None => Ok(()),
        Some(kind) => Err(Error::Forbidden(format!("role {} may not write {kind}", viewer.role))).gql(),
    }
}

/// Writes records through the one ingest path. Every write of this module
/// ends here, after its commit.
async fn write(
    ctx: &Context<'_>,
    records: Vec<Result<AnyRecord, UnreadableRecord>>,
) -> async_graphql::Result<MixedReport> {
    let db = ctx.data::<DatabaseConnection>()?;
    let currency = &ctx.data::<ApiConfig>()?.ingest.currency;
    // The ingestor announces written orders and touchpoints when (and only
    // if) the transaction commits.
    let events = ctx.data::<EventBus>()?.clone();
    let report = write_mixed(db, records, currency, Some(events)).await.gql()?;
    Ok(report)
}

/// One record through [`write`]: what was written, or the refusal as
/// BAD_USER_INPUT naming `input.<field>`.
async fn upsert<I: RecordInput>(ctx: &Context<'_>, input: &I) -> async_graphql::Result<UpsertAnswer> {
    may_write(ctx, [I::KIND])?;
    let report = write(ctx, vec![input.to_record()]).await?;
    let Some(outcome) = report.outcomes.into_iter().next() else {
        return Err(Error::Internal("a write of one record reported no outcome".to_owned())).gql();
    };
    let row_id = outcome.into_id("input").gql()?;
    Ok(UpsertAnswer {
        id: ids::encode(I::KIND.type_name(), row_id),
        row_id,
        external_id: input.external_id().to_owned(),
        status: UpsertStatus::Written,
    })
}
