//! A batch of records of one entity type: the unit that ingest validates,
//! resolves and writes in one transaction, whichever way the records
//! arrived (file import, demo generator, and later mutations and bulk HTTP).

use super::records::*;

/// The entity types that can be ingested, in the order that satisfies
/// their references (a record may only refer to kinds listed before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Accounts,
    Customers,
    Products,
    Campaigns,
    Surveys,
    Orders,
    Touchpoints,
    Leads,
    SurveyResponses,
    ProductTests,
    ProductTestVotes,
    BrandMentions,
}

impl EntityKind {
    /// Every kind in dependency order.
    pub const ALL: [EntityKind; 12] = [
        EntityKind::Accounts,
        EntityKind::Customers,
        EntityKind::Products,
        EntityKind::Campaigns,
        EntityKind::Surveys,
        EntityKind::Orders,
        EntityKind::Touchpoints,
        EntityKind::Leads,
        EntityKind::SurveyResponses,
        EntityKind::ProductTests,
        EntityKind::ProductTestVotes,
        EntityKind::BrandMentions,
    ];

    /// The file stem used in an import directory (`orders.ndjson`).
    pub fn file_stem(self) -> &'static str {
        match self {
            EntityKind::Accounts => "accounts",
            EntityKind::Customers => "customers",
            EntityKind::Products => "products",
            EntityKind::Campaigns => "campaigns",
            EntityKind::Surveys => "surveys",
            EntityKind::Orders => "orders",
            EntityKind::Touchpoints => "touchpoints",
            EntityKind::Leads => "leads",
            EntityKind::SurveyResponses => "survey_responses",
            EntityKind::ProductTests => "product_tests",
            EntityKind::ProductTestVotes => "product_test_votes",
            EntityKind::BrandMentions => "brand_mentions",
        }
    }

    /// The kind whose file stem is `stem`, if any.
    pub fn from_file_stem(stem: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|kind| kind.file_stem() == stem)
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file_stem())
    }
}

/// Records of one kind, each with the line (or position) it came from so
/// that a refusal can point at it.
#[derive(Debug, Clone)]
pub enum RecordBatch {
    Accounts(Vec<Numbered<AccountRecord>>),
    Customers(Vec<Numbered<CustomerRecord>>),
    Products(Vec<Numbered<ProductRecord>>),
    Campaigns(Vec<Numbered<CampaignRecord>>),
    Surveys(Vec<Numbered<SurveyRecord>>),
    Orders(Vec<Numbered<OrderRecord>>),
    Touchpoints(Vec<Numbered<TouchpointRecord>>),
    Leads(Vec<Numbered<LeadRecord>>),
    SurveyResponses(Vec<Numbered<SurveyResponseRecord>>),
    ProductTests(Vec<Numbered<ProductTestRecord>>),
    ProductTestVotes(Vec<Numbered<ProductTestVoteRecord>>),
    BrandMentions(Vec<Numbered<BrandMentionRecord>>),
}

/// A record and its 1-based line number in its source.
#[derive(Debug, Clone)]
pub struct Numbered<T> {
    pub line: u64,
    pub record: T,
}

impl RecordBatch {
    pub fn kind(&self) -> EntityKind {
        match self {
            RecordBatch::Accounts(_) => EntityKind::Accounts,
            RecordBatch::Customers(_) => EntityKind::Customers,
            RecordBatch::Products(_) => EntityKind::Products,
            RecordBatch::Campaigns(_) => EntityKind::Campaigns,
            RecordBatch::Surveys(_) => EntityKind::Surveys,
            RecordBatch::Orders(_) => EntityKind::Orders,
            RecordBatch::Touchpoints(_) => EntityKind::Touchpoints,
            RecordBatch::Leads(_) => EntityKind::Leads,
            RecordBatch::SurveyResponses(_) => EntityKind::SurveyResponses,
            RecordBatch::ProductTests(_) => EntityKind::ProductTests,
            RecordBatch::ProductTestVotes(_) => EntityKind::ProductTestVotes,
            RecordBatch::BrandMentions(_) => EntityKind::BrandMentions,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            RecordBatch::Accounts(records) => records.len(),
            RecordBatch::Customers(records) => records.len(),
            RecordBatch::Products(records) => records.len(),
            RecordBatch::Campaigns(records) => records.len(),
            RecordBatch::Surveys(records) => records.len(),
            RecordBatch::Orders(records) => records.len(),
            RecordBatch::Touchpoints(records) => records.len(),
            RecordBatch::Leads(records) => records.len(),
            RecordBatch::SurveyResponses(records) => records.len(),
            RecordBatch::ProductTests(records) => records.len(),
            RecordBatch::ProductTestVotes(records) => records.len(),
            RecordBatch::BrandMentions(records) => records.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where generated or parsed batches go. The ingest writer is the real
/// implementation; it validates, resolves references and upserts.
#[allow(async_fn_in_trait)]
pub trait RecordSink {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), crate::error::Error>;
}
