//! The ingestible entity kinds, listed once.
//!
//! [`entity_kinds!`] is the one list; [`EntityKind`], [`RecordBatch`],
//! [`AnyRecord`] and the GraphQL input union are generated from it. What a
//! kind *is* — its table, the references it makes and the row a validated
//! record becomes — is its [`Kind`] implementation in [`super::rows`].
//! Adding a kind is a record type, its `Kind` impl, its GraphQL input and
//! one line of the list; adding a field touches the record, its row
//! mapping and its GraphQL input.

use async_trait::async_trait;
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::*;
use super::references::References;
use super::writer::Rejection;
use crate::error::Error;
use crate::events::Event;
use std::borrow::Cow;

/// Calls `$callback!` with every ingestible kind, in dependency order (a
/// record may only refer to kinds listed before its own), as
/// `Plural(Record, "file_stem", Singular, GraphqlInput)`. The singular is
/// the GraphQL type of the kind's objects; the input is the GraphQL input
/// object that stands for its record.
macro_rules! entity_kinds {
    ($callback:ident) => {
        $callback! {
            Accounts(AccountRecord, "accounts", Account, AccountInput),
            Customers(CustomerRecord, "customers", Customer, CustomerInput),
            Products(ProductRecord, "products", Product, ProductInput),
            Campaigns(CampaignRecord, "campaigns", Campaign, CampaignInput),
            Surveys(SurveyRecord, "surveys", Survey, SurveyInput),
            Orders(OrderRecord, "orders", Order, OrderInput),
            Touchpoints(TouchpointRecord, "touchpoints", Touchpoint, TouchpointInput),
            Leads(LeadRecord, "leads", Lead, LeadInput),
            SurveyResponses(SurveyResponseRecord, "survey_responses", SurveyResponse, SurveyResponseInput),
            ProductTests(ProductTestRecord, "product_tests", ProductTest, ProductTestInput),
            ProductTestVotes(ProductTestVoteRecord, "product_test_votes", ProductTestVote, ProductTestVoteInput),
            BrandMentions(BrandMentionRecord, "brand_mentions", BrandMention, BrandMentionInput),
        }
    };
}
pub(crate) use entity_kinds;

/// The row type a kind's records become.
pub type Row<R> = <<R as Kind>::Entity as EntityTrait>::ActiveModel;

/// Another record that a record refers to by external id, and the field
/// of the record that names it (so an unknown one is refused naming it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    pub kind: EntityKind,
    pub field: Cow<'static, str>,
    pub key: &'a str,
}

impl<'a> Reference<'a> {
    pub fn to(kind: EntityKind, field: impl Into<Cow<'static, str>>, key: &'a str) -> Self {
        Self {
            kind,
            field: field.into(),
            key,
        }
    }
}

/// (id, customer id, account id) of a written row whose kind announces
/// its writes to subscribers.
#[derive(Debug, Clone, Copy)]
pub struct WrittenRow {
    pub id: i64,
    pub customer_id: i64,
    pub account_id: Option<i64>,
}

/// A record type's place among the generated enums (implemented by
/// [`entity_kinds!`], never by hand).
pub trait Listed: Sized + Into<AnyRecord> {
    fn into_batch(records: Vec<Numbered<Self>>) -> RecordBatch;
    fn from_any(record: AnyRecord) -> Option<Self>;
}

/// One ingestible entity kind, defined by its record type.
#[async_trait]
pub trait Kind:
    Listed + Validate + Keyed + DeserializeOwned + Serialize + Clone + std::fmt::Debug + Send + Sync + 'static
{
    /// Its place in [`entity_kinds!`].
    const KIND: EntityKind;
    /// The table its rows are upserted into by `external_id`.
    type Entity: EntityTrait<ActiveModel: Send + Sync>;

    /// The records this one refers to; all are resolved before [`Kind::row`].
    fn references(&self) -> Vec<Reference<'_>> {
        Vec::new()
    }

    /// The row this (validated) record becomes, given its resolved
    /// references; an unknown reference is refused naming its field.
    fn row(&self, references: &References) -> Result<Row<Self>, FieldError>;

    /// Takes from an earlier record of the batch with the same external id
    /// what this later one does not supersede (a customer's consent that
    /// is newer than this record's), as if the two had been sent one after
    /// the other. By default the later record replaces the earlier whole.
    fn absorb_earlier(&mut self, _earlier: Self) {}

    /// Refuses, before anything is written, records that would break a
    /// constraint other than the external id (a product's SKU).
    async fn screen(
        _db: &DatabaseTransaction,
        records: Vec<Numbered<Self>>,
        _rejected: &mut Vec<Rejection>,
    ) -> Result<Vec<Numbered<Self>>, Error> {
        Ok(records)
    }

    /// Writes the rows of the accepted records: by default an upsert by
    /// external id, then [`Kind::replace_children`].
    async fn write_rows(
        db: &DatabaseTransaction,
        references: &mut References,
        accepted: Vec<(Numbered<Self>, Row<Self>)>,
    ) -> Result<(), Error> {
        super::upsert::write_parents_and_children::<Self>(db, references, accepted).await
    }

    /// Whether [`Kind::replace_children`] has work to do (saves the id
    /// lookup for kinds without children).
    const HAS_CHILDREN: bool = false;

    /// Replaces the child rows (order lines, brand answers, ratings) of
    /// the just-written parents, given as (row id, record).
    async fn replace_children(
        _db: &DatabaseTransaction,
        _references: &References,
        _parents: Vec<(i64, Self)>,
    ) -> Result<(), Error> {
        Ok(())
    }

    /// The event announcing a written row, for kinds subscribers hear about.
    fn announce(_row: WrittenRow) -> Option<Event> {
        None
    }

    /// Whether [`Kind::announce`] announces anything.
    const ANNOUNCED: bool = false;
}

/// Something to do with one kind's record type, whichever kind it is.
pub trait KindVisitor {
    type Output;
    fn visit<R: Kind>(self) -> Self::Output;
}

/// Something to do with a batch's records, whichever kind they are.
pub trait BatchVisitor {
    type Output;
    fn visit<R: Kind>(self, records: Vec<Numbered<R>>) -> Self::Output;
}

/// A record and its 1-based line number in its source.
#[derive(Debug, Clone)]
pub struct Numbered<T> {
    pub line: u64,
    pub record: T,
}

macro_rules! define_kinds {
    ($($kind:ident($record:ident, $stem:literal, $singular:ident, $input:ident)),+ $(,)?) => {
        /// The entity types that can be ingested, in dependency order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EntityKind {
            $($kind),+
        }

        impl EntityKind {
            /// Every kind in dependency order.
            pub const ALL: &'static [EntityKind] = &[$(EntityKind::$kind),+];

            /// The file stem used in an import directory and in
            /// `POST /ingest/{entity}` (`survey_responses`).
            pub fn file_stem(self) -> &'static str {
                match self {
                    $(EntityKind::$kind => $stem),+
                }
            }

            /// The GraphQL type of its objects (`SurveyResponse`).
            pub fn type_name(self) -> &'static str {
                match self {
                    $(EntityKind::$kind => stringify!($singular)),+
                }
            }

            /// The table its rows live in.
            pub fn table(self) -> &'static str {
                use sea_orm::EntityName;
                match self {
                    $(EntityKind::$kind => <<$record as Kind>::Entity as Default>::default().table_name()),+
                }
            }

            /// Calls `visitor` with this kind's record type.
            pub fn visit<V: KindVisitor>(self, visitor: V) -> V::Output {
                match self {
                    $(EntityKind::$kind => visitor.visit::<$record>()),+
                }
            }
        }

        /// Records of one kind, each with the line (or position) it came
        /// from so that a refusal can point at it: the unit that ingest
        /// validates, resolves and writes in one transaction.
        #[derive(Debug, Clone)]
        pub enum RecordBatch {
            $($kind(Vec<Numbered<$record>>)),+
        }

        impl RecordBatch {
            pub fn kind(&self) -> EntityKind {
                match self {
                    $(RecordBatch::$kind(_) => EntityKind::$kind),+
                }
            }

            pub fn len(&self) -> usize {
                match self {
                    $(RecordBatch::$kind(records) => records.len()),+
                }
            }

            /// Calls `visitor` with the records, typed.
            pub fn visit<V: BatchVisitor>(self, visitor: V) -> V::Output {
                match self {
                    $(RecordBatch::$kind(records) => visitor.visit(records)),+
                }
            }
        }

        /// One record of any ingestible kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AnyRecord {
            $($kind($record)),+
        }

        impl AnyRecord {
            pub fn kind(&self) -> EntityKind {
                match self {
                    $(AnyRecord::$kind(_) => EntityKind::$kind),+
                }
            }

            pub fn external_id(&self) -> &str {
                match self {
                    $(AnyRecord::$kind(record) => record.external_id()),+
                }
            }
        }

        $(
            impl From<$record> for AnyRecord {
                fn from(record: $record) -> Self {
                    AnyRecord::$kind(record)
                }
            }

            impl Keyed for $record {
                fn external_id(&self) -> &str {
                    &self.external_id
                }
            }

            impl Listed for $record {
                fn into_batch(records: Vec<Numbered<Self>>) -> RecordBatch {
                    RecordBatch::$kind(records)
                }

                fn from_any(record: AnyRecord) -> Option<Self> {
                    match record {
                        AnyRecord::$kind(record) => Some(record),
                        _ => None,
                    }
                }
            }
        )+
    };
}

entity_kinds!(define_kinds);

impl EntityKind {
    /// The kind whose file stem is `stem`, if any.
    pub fn from_file_stem(stem: &str) -> Option<EntityKind> {
        EntityKind::ALL.iter().copied().find(|kind| kind.file_stem() == stem)
    }

    /// The file stems of every kind, for messages that list them.
    pub fn file_stems() -> String {
        let stems: Vec<&str> = EntityKind::ALL.iter().map(|kind| kind.file_stem()).collect();
        stems.join(", ")
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file_stem())
    }
}

impl RecordBatch {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where generated or parsed batches go. The ingestor is the real
/// implementation; it validates, resolves references and upserts.
#[allow(async_fn_in_trait)]
pub trait RecordSink {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct KindOf;

    impl KindVisitor for KindOf {
        type Output = EntityKind;
        fn visit<R: Kind>(self) -> EntityKind {
            R::KIND
        }
    }

    #[test]
    fn every_record_type_names_its_own_place_in_the_list() {
        for &kind in EntityKind::ALL {
            assert_eq!(kind.visit(KindOf), kind);
            assert_eq!(EntityKind::from_file_stem(kind.file_stem()), Some(kind));
        }
    }

    #[test]
    fn tables_are_the_entities_tables() {
        assert_eq!(EntityKind::Orders.table(), "orders");
        assert_eq!(EntityKind::SurveyResponses.table(), "survey_response");
        assert_eq!(EntityKind::SurveyResponses.type_name(), "SurveyResponse");
    }
}
