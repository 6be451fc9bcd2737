//! Cuts generated records into numbered batches for a [`RecordSink`] and
//! counts what was written.

use super::DemoSummary;
use super::shift::Shift;
use crate::error::Error;
use crate::ingest::kinds::{EntityKind, Kind, Numbered, RecordSink};

/// The most records in one batch (an order with its lines is one record).
pub(super) const BATCH_SIZE: usize = 1_000;

/// Writes records of any kind to one sink, keeping each kind's line
/// numbers running across batches.
pub(super) struct BatchWriter<'s, S> {
    sink: &'s mut S,
    /// Moves each batch's dates to the chosen last day.
    shift: Option<Shift>,
    /// Records written per kind, in `EntityKind::ALL` order.
    counts: [u64; EntityKind::ALL.len()],
}

impl<'s, S: RecordSink> BatchWriter<'s, S> {
    pub fn new(sink: &'s mut S, shift: Option<Shift>) -> Self {
        BatchWriter {
            sink,
            shift,
            counts: [0; EntityKind::ALL.len()],
        }
    }

    /// Writes `records` in batches of at most [`BATCH_SIZE`]. Line numbers
    /// continue across batches of the same kind, as if each kind were one
    /// file.
    pub async fn write<T: Kind>(&mut self, records: Vec<T>) -> Result<(), Error> {
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
            let mut batch = T::into_batch(numbered);
            if let Some(shift) = self.shift {
                shift.apply(&mut batch);
            }
            self.sink.write(batch).await?;
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
