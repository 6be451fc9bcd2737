//! Cuts generated records into numbered batches for a [`RecordSink`] and
//! counts what was written.

use super::DemoSummary;
use crate::error::Error;
use crate::ingest::batch::{EntityKind, Numbered, RecordBatch, RecordSink};
use crate::ingest::records::*;

/// The most records in one batch (an order with its lines is one record).
pub(super) const BATCH_SIZE: usize = 1_000;

/// A record type, and the batch variant that carries it.
pub(super) trait Batched: Sized {
    const KIND: EntityKind;
    fn batch(records: Vec<Numbered<Self>>) -> RecordBatch;
}

macro_rules! batched {
    ($($record:ty => $variant:ident),+ $(,)?) => {
        $(impl Batched for $record {
            const KIND: EntityKind = EntityKind::$variant;
            fn batch(records: Vec<Numbered<Self>>) -> RecordBatch {
                RecordBatch::$variant(records)
            }
        })+
    };
}

batched!(
    AccountRecord => Accounts,
    CustomerRecord => Customers,
    ProductRecord => Products,
    CampaignRecord => Campaigns,
    SurveyRecord => Surveys,
    OrderRecord => Orders,
    TouchpointRecord => Touchpoints,
    LeadRecord => Leads,
    SurveyResponseRecord => SurveyResponses,
    ProductTestRecord => ProductTests,
    ProductTestVoteRecord => ProductTestVotes,
    BrandMentionRecord => BrandMentions,
);

/// Writes records of any kind to one sink, keeping each kind's line
/// numbers running across batches.
pub(super) struct BatchWriter<'s, S> {
    sink: &'s mut S,
    /// Records written per kind, in `EntityKind::ALL` order.
    counts: [u64; EntityKind::ALL.len()],
}

impl<'s, S: RecordSink> BatchWriter<'s, S> {
    pub fn new(sink: &'s mut S) -> Self {
        BatchWriter {
            sink,
            counts: [0; EntityKind::ALL.len()],
        }
    }

    /// Writes `records` in batches of at most [`BATCH_SIZE`]. Line numbers
    /// continue across batches of the same kind, as if each kind were one
    /// file.
    pub async fn write<T: Batched>(&mut self, records: Vec<T>) -> Result<(), Error> {
        let slot = EntityKind::ALL
            .iter()
            .position(|kind| *kind == T::KIND)
            .unwrap_or_default();
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let written = self.counts.get(slot).copied().unwrap_or_default();
            let numbered: Vec<Numbered<T>> = records
                .by_ref()
                .take(BATCH_SIZE)
                .zip(written + 1..)
                .map(|(record, line)| Numbered { line, record })
                .collect();
            let size = numbered.len() as u64;
            self.sink.write(T::batch(numbered)).await?;
            if let Some(count) = self.counts.get_mut(slot) {
                *count += size;
            }
        }
        Ok(())
    }

    pub fn summary(&self) -> DemoSummary {
        let counts = EntityKind::ALL.iter().copied().zip(self.counts.iter().copied());
        DemoSummary {
            counts: counts.collect(),
        }
    }
}
