//! Monthly brand mentions per brand and channel, with sentiment: the input
//! of share of voice.
//!
//! Volumes follow each brand's size, the retail season and a slow upward
//! trend for Shark; sentiment differs by brand and is more neutral in the
//! news than on social media.

use super::random::{DemoRng, month_start, unit};
use crate::ingest::records::BrandMentionRecord;

const MONTHS: u32 = 18;

/// Brands with their volume relative to Shark and their typical positive
/// and negative shares.
const BRANDS: [(&str, f64, f64, f64); 4] = [
    ("Shark", 1.0, 0.46, 0.17),
    ("Dyson", 1.35, 0.50, 0.15),
    ("Bissell", 0.45, 0.40, 0.19),
    ("Vax", 0.35, 0.37, 0.22),
];

/// Channels with Shark's typical monthly volume and how strongly the
/// channel leans to an opinion (news is more neutral).
const CHANNELS: [(&str, f64, f64); 3] = [("social", 1_100.0, 1.0), ("news", 250.0, 0.8), ("forums", 480.0, 1.0)];

/// Relative volume by calendar month, January first.
const SEASON: [f64; 12] = [1.1, 0.95, 0.95, 0.95, 0.95, 0.9, 0.88, 0.9, 1.0, 1.05, 1.35, 1.25];

/// One row per (month, brand, channel), numbered in that order.
pub(super) fn brand_mentions(rng: &mut DemoRng) -> Vec<BrandMentionRecord> {
    let mut rows = Vec::with_capacity(MONTHS as usize * BRANDS.len() * CHANNELS.len());
    for month in 0..MONTHS {
        let season = SEASON.get((month % 12) as usize).copied().unwrap_or(1.0);
        for (brand, volume, positive_share, negative_share) in BRANDS {
            let trend = if brand == "Shark" {
                1.0 + 0.015 * f64::from(month)
            } else {
                1.0
            };
            for (channel, base, opinion) in CHANNELS {
                let noise = 0.85 + 0.3 * unit(rng);
                let mentions = (base * volume * season * trend * noise).round() as i64;
                let positive_rate = (positive_share * opinion + 0.08 * unit(rng) - 0.04).clamp(0.0, 1.0);
                let negative_rate = (negative_share * opinion + 0.04 * unit(rng) - 0.02).clamp(0.0, 1.0);
                let positive = (mentions as f64 * positive_rate).round() as i64;
                let negative = ((mentions as f64 * negative_rate).round() as i64).min(mentions - positive);
                rows.push(BrandMentionRecord {
                    external_id: format!("B{:04}", rows.len() + 1),
                    brand: brand.to_string(),
                    channel: channel.to_string(),
                    period_start: month_start(month),
                    mentions,
                    positive,
                    neutral: mentions - positive - negative,
                    negative,
                });
            }
        }
    }
    rows
}
