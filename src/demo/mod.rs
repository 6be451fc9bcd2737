//! Placeholder until the generator lands.
use crate::error::Error;
use crate::ingest::batch::{EntityKind, RecordSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Small,
    Large,
}

#[derive(Debug, Clone, Copy)]
pub struct DemoSpec {
    pub scale: Scale,
    pub seed: u64,
}

pub struct DemoSummary {
    pub counts: Vec<(EntityKind, u64)>,
}

pub async fn generate(_spec: DemoSpec, _sink: &mut impl RecordSink, _progress: bool) -> Result<DemoSummary, Error> {
    Ok(DemoSummary { counts: Vec::new() })
}
