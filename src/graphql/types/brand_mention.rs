use async_graphql::{ID, Object};
use entity::brand_mention;

use crate::graphql::ids;
use crate::graphql::scalars::Date;

/// A month of one brand's mentions in one channel, for share of voice.
pub struct BrandMention(pub brand_mention::Model);
super::wraps!(BrandMention(brand_mention::Model));

#[Object]
impl BrandMention {
    pub async fn id(&self) -> ID {
        ids::encode("BrandMention", self.0.id)
    }
    /// The id in the source system; unique among brand mentions.
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }
    async fn brand(&self) -> &str {
        &self.0.brand
    }
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    /// The first day of the month counted.
    async fn period_start(&self) -> Date {
        Date(self.0.period_start)
    }
    async fn mentions(&self) -> i64 {
        self.0.mentions
    }
    async fn positive(&self) -> i64 {
        self.0.positive
    }
    async fn neutral(&self) -> i64 {
        self.0.neutral
    }
    async fn negative(&self) -> i64 {
        self.0.negative
    }
}
