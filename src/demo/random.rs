//! Small random helpers and the fixed calendar of the demo data.
//!
//! Everything is driven by one seeded `ChaCha8Rng`, so the helpers take the
//! generator explicitly and never read the clock: the same seed must give
//! the same data on every machine and every day.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The one generator type used throughout the demo.
pub(super) type DemoRng = ChaCha8Rng;

pub(super) const MINUTE: i64 = 60;
pub(super) const HOUR: i64 = 3_600;
pub(super) const DAY: i64 = 86_400;

/// 2024-01-01T00:00:00Z: the earliest `firstSeenAt`.
pub(super) const HISTORY_START: i64 = 1_704_067_200;
/// 2024-10-01T00:00:00Z: the first touchpoint, so that the lookback windows
/// of early-2025 purchases have data.
pub(super) const TOUCH_START: i64 = 1_727_740_800;
/// 2025-01-01T00:00:00Z: the first order, lead and survey response.
pub(super) const DATA_START: i64 = 1_735_689_600;
/// 2026-06-30T23:59:59Z: nothing happens after this instant.
pub(super) const DATA_END: i64 = 1_782_863_999;

/// A generator for one independent part of the data set.
///
/// Each part (catalogue, customers, market data) reads its own ChaCha stream
/// of the same seed, so that changing how many customers are drawn does not
/// change the catalogue or the brand mentions.
pub(super) fn section_rng(seed: u64, section: u64) -> DemoRng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(section);
    rng
}

/// True with probability `probability`, which may lie outside 0..=1.
pub(super) fn chance(rng: &mut DemoRng, probability: f64) -> bool {
    rng.random::<f64>() < probability
}

/// A uniform integer in `low..=high`, or `low` when the range is empty, so
/// that callers never have to guard against a panicking empty range.
pub(super) fn between(rng: &mut DemoRng, low: i64, high: i64) -> i64 {
    if high <= low { low } else { rng.random_range(low..=high) }
}

/// A uniform float in `0.0..1.0`.
pub(super) fn unit(rng: &mut DemoRng) -> f64 {
    rng.random::<f64>()
}

/// One element of a fixed, non-empty array.
///
/// The array length is checked at compile time, so the index is always in
/// range.
pub(super) fn pick<T: Copy, const N: usize>(rng: &mut DemoRng, items: &[T; N]) -> T {
    const { assert!(N > 0, "pick needs a non-empty array") };
    items[rng.random_range(0..N)]
}

/// One element of a fixed, non-empty array of `(value, weight)` pairs,
/// chosen with probability proportional to its weight.
pub(super) fn pick_weighted<T: Copy, const N: usize>(rng: &mut DemoRng, items: &[(T, f64); N]) -> T {
    const { assert!(N > 0, "pick_weighted needs a non-empty array") };
    let total: f64 = items.iter().map(|(_, weight)| weight).sum();
    let mut remaining = unit(rng) * total;
    for (item, weight) in items {
        if remaining < *weight {
            return *item;
        }
        remaining -= weight;
    }
    items[N - 1].0
}

/// An index into `weights`, chosen with probability proportional to its
/// weight. An index with weight zero is never chosen; `None` only when no
/// weight is positive.
pub(super) fn pick_index(rng: &mut DemoRng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    let mut remaining = unit(rng) * total;
    for (index, weight) in weights.iter().enumerate() {
        if remaining < *weight {
            return Some(index);
        }
        remaining -= weight;
    }
    // Rounding can leave a sliver after the last weight.
    weights.iter().rposition(|weight| *weight > 0.0)
}

/// A standard normal deviate (Box–Muller), for latent traits such as
/// satisfaction that should cluster around a mean.
pub(super) fn normal(rng: &mut DemoRng) -> f64 {
    let radius_draw = 1.0 - unit(rng); // in (0, 1], so the logarithm is finite
    let angle = std::f64::consts::TAU * unit(rng);
    (-2.0 * radius_draw.ln()).sqrt() * angle.cos()
}

/// An exponential deviate with the given mean, for waiting times.
pub(super) fn exponential(rng: &mut DemoRng, mean: f64) -> f64 {
    -mean * (1.0 - unit(rng)).ln()
}

/// A Poisson count with mean `lambda` (Knuth's method, which is exact and
/// fast for the small means used here); capped so a huge mean cannot loop
/// for long.
pub(super) fn poisson(rng: &mut DemoRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    let limit = (-lambda.min(30.0)).exp();
    let mut count = 0;
    let mut product = unit(rng);
    while product > limit && count < 200 {
        count += 1;
        product *= unit(rng);
    }
    count
}

/// Rounds a latent score to an integer scale point in `low..=high`.
pub(super) fn scale_point(latent: f64, low: i32, high: i32) -> i32 {
    // The clamp keeps the value far inside i32, so the cast cannot truncate.
    latent.round().clamp(f64::from(low), f64::from(high)) as i32
}

/// The UTC instant `seconds` after the Unix epoch.
pub(super) fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// The UTC calendar date of the instant `seconds`.
pub(super) fn date_of(seconds: i64) -> NaiveDate {
    timestamp(seconds).date_naive()
}

/// Seconds since the epoch of midnight UTC at the start of `date`.
pub(super) fn midnight(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|moment| moment.and_utc().timestamp())
        .unwrap_or_default()
}

/// The first day of the month `months` after January 2025.
pub(super) fn month_start(months: u32) -> NaiveDate {
    let year = 2025 + i32::try_from(months / 12).unwrap_or_default();
    NaiveDate::from_ymd_opt(year, months % 12 + 1, 1).unwrap_or_default()
}

/// How busy a calendar month is for retail, relative to the busiest.
///
/// November and December carry Black Friday and Christmas; the summer is
/// quiet. Orders are drawn in proportion to these weights.
pub(super) fn season_weight(seconds: i64) -> f64 {
    const WEIGHTS: [f64; 12] = [0.52, 0.47, 0.53, 0.53, 0.50, 0.42, 0.39, 0.42, 0.53, 0.60, 0.85, 1.0];
    let month = timestamp(seconds).month0() as usize;
    WEIGHTS.get(month).copied().unwrap_or(1.0)
}

/// An instant in `from..=to` whose month follows the retail season.
pub(super) fn seasonal_instant(rng: &mut DemoRng, from: i64, to: i64) -> i64 {
    let mut candidate = between(rng, from, to);
    // Rejection sampling: a handful of tries is plenty, and the last
    // candidate is kept so the loop always ends.
    for _ in 0..12 {
        if chance(rng, season_weight(candidate)) {
            break;
        }
        candidate = between(rng, from, to);
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_constants_are_the_documented_instants() {
        let parse = |text: &str| text.parse::<DateTime<Utc>>().map(|moment| moment.timestamp());
        assert_eq!(parse("2024-01-01T00:00:00Z"), Ok(HISTORY_START));
        assert_eq!(parse("2024-10-01T00:00:00Z"), Ok(TOUCH_START));
        assert_eq!(parse("2025-01-01T00:00:00Z"), Ok(DATA_START));
        assert_eq!(parse("2026-06-30T23:59:59Z"), Ok(DATA_END));
        assert_eq!(month_start(17), NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default());
    }

    #[test]
    fn weighted_picks_never_choose_a_zero_weight() {
        let mut rng = section_rng(1, 0);
        assert!((0..1_000).all(|_| pick_index(&mut rng, &[0.0, 1.0, 0.0]) == Some(1)));
        assert_eq!(pick_index(&mut rng, &[0.0, 0.0]), None);
        assert_eq!(pick_index(&mut rng, &[]), None);
    }

    #[test]
    fn scale_points_stay_in_range() {
        assert_eq!(scale_point(11.7, 0, 10), 10);
        assert_eq!(scale_point(-3.0, 1, 5), 1);
        assert_eq!(scale_point(3.4, 1, 5), 3);
    }
}
