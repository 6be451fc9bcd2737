//! Writes from GraphQL: an upsert by `externalId` per ingestible entity,
//! and `ingest(batch:)` for up to 10,000 records of mixed kinds in one
//! transaction. Every one of them goes through
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
use crate::db::keyset::Keyset;
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
    async fn upsert_account(&self, ctx: &Context<'_>, input: AccountInput) -> async_graphql::Result<Account> {
        upsert::<_, account::Entity, _>(ctx, &input).await
    }

    /// Creates or updates a customer: the one with this `externalId`, or the
    /// one identity resolution matches.
    async fn upsert_customer(&self, ctx: &Context<'_>, input: CustomerInput) -> async_graphql::Result<Customer> {
        upsert::<_, customer::Entity, _>(ctx, &input).await
    }

    async fn upsert_product(&self, ctx: &Context<'_>, input: ProductInput) -> async_graphql::Result<Product> {
        upsert::<_, product::Entity, _>(ctx, &input).await
    }

    async fn upsert_campaign(&self, ctx: &Context<'_>, input: CampaignInput) -> async_graphql::Result<Campaign> {
        upsert::<_, campaign::Entity, _>(ctx, &input).await
    }

    async fn upsert_survey(&self, ctx: &Context<'_>, input: SurveyInput) -> async_graphql::Result<Survey> {
        upsert::<_, survey::Entity, _>(ctx, &input).await
    }

    /// Creates or updates an order; its lines replace the ones it had.
    async fn upsert_order(&self, ctx: &Context<'_>, input: OrderInput) -> async_graphql::Result<Order> {
        upsert::<_, orders::Entity, _>(ctx, &input).await
    }

    async fn upsert_touchpoint(&self, ctx: &Context<'_>, input: TouchpointInput) -> async_graphql::Result<Touchpoint> {
        upsert::<_, touchpoint::Entity, _>(ctx, &input).await
    }

    /// Creates a lead or moves it on: re-send it with its new stage.
    async fn upsert_lead(&self, ctx: &Context<'_>, input: LeadInput) -> async_graphql::Result<Lead> {
        upsert::<_, lead::Entity, _>(ctx, &input).await
    }

    /// Creates or updates a response; its brand answers and ratings replace
    /// the ones it had.
    async fn upsert_survey_response(
        &self,
        ctx: &Context<'_>,
        input: SurveyResponseInput,
    ) -> async_graphql::Result<SurveyResponse> {
        upsert::<_, survey_response::Entity, _>(ctx, &input).await
    }

    async fn upsert_product_test(
        &self,
        ctx: &Context<'_>,
        input: ProductTestInput,
    ) -> async_graphql::Result<ProductTest> {
        upsert::<_, product_test::Entity, _>(ctx, &input).await
    }

    async fn upsert_product_test_vote(
        &self,
        ctx: &Context<'_>,
        input: ProductTestVoteInput,
    ) -> async_graphql::Result<ProductTestVote> {
        upsert::<_, product_test_vote::Entity, _>(ctx, &input).await
    }

    async fn upsert_brand_mention(
        &self,
        ctx: &Context<'_>,
        input: BrandMentionInput,
    ) -> async_graphql::Result<BrandMention> {
        upsert::<_, brand_mention::Entity, _>(ctx, &input).await
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
    let currency = &ctx.data::<ApiConfig>()?.currency;
    // The ingestor announces written orders and touchpoints when (and only
    // if) the transaction commits.
    let events = ctx.data::<EventBus>()?.clone();
    let report = write_mixed(db, records, currency, Some(events)).await.gql()?;
    Ok(report)
}

/// One record through [`write`]: the written object, or the refusal as
/// BAD_USER_INPUT naming `input.<field>`.
async fn upsert<I, E, N>(ctx: &Context<'_>, input: &I) -> async_graphql::Result<N>
where
    I: RecordInput,
    E: Keyset,
    E::Model: Sync,
    N: From<E::Model>,
{
    may_write(ctx, [I::KIND])?;
    let report = write(ctx, vec![input.to_record()]).await?;
    let Some(outcome) = report.outcomes.into_iter().next() else {
        return Err(Error::Internal("a write of one record reported no outcome".to_owned())).gql();
    };
    let id = outcome.into_id("input").gql()?;
    match load_by_id::<E, N>(ctx, id).await? {
        Some(object) => Ok(object),
        None => Err(Error::Internal(format!(
            "{} {id} vanished after it was written",
            I::KIND
        )))
        .gql(),
    }
}
