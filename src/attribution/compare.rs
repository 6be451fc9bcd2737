//! `attribution(compareTo:)`: the same attribution over the earlier window
//! ([`Window::compared`]), bucket by bucket. Credit is a sum of money, for
//! which there is no test ([`delta::NONE_MONEY_SUM`]); the number of
//! conversions is a count, compared with the exact Poisson rate test over
//! the two windows' days.

use super::{Attribution, Credit};
use crate::insights::delta::{self, Delta, Test};
use crate::insights::scope::Window;

/// A bucket's credit against the same bucket's in the earlier window.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub credit: Delta,
    /// The earlier bucket's population (its `previous_n` is this too).
    pub previous_customers: i64,
}

/// The earlier window and its totals against the current ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub window: Window,
    pub previous_customers: i64,
    pub conversions: Delta,
    pub total_value: Delta,
}

/// Adds to `current` (over `window`) the comparison with `previous`, the
/// same request over `previous_window`. Buckets are matched by key, so a
/// bucket absent from the earlier window compares with zero.
pub fn compare(current: &mut Attribution, window: Window, previous: &Attribution, previous_window: Window) {
    let start = previous_window.from;
    let compare_list = |now: &mut [(String, Credit)], then: &[(String, Credit)]| {
        for (key, credit) in now {
            let earlier = then
                .iter()
                .find(|(previous_key, _)| previous_key == key)
                .map(|(_, credit)| credit.clone())
                .unwrap_or_default();
            credit.compared = Some(Box::new(Compared {
                credit: Delta::new(
                    start,
                    Some(credit.credit_minor),
                    Some(earlier.credit_minor),
                    earlier.customers,
                    Test::money_sum(),
                ),
                previous_customers: earlier.customers,
            }));
        }
    };
    for model in &mut current.models {
        let Some(earlier) = previous.models.iter().find(|earlier| earlier.model == model.model) else {
            continue;
        };
        compare_list(&mut model.by_team, &earlier.by_team);
        compare_list(&mut model.by_channel, &earlier.by_channel);
    }
    if let (Some(now), Some(then)) = (current.by_source_team.as_mut(), previous.by_source_team.as_ref()) {
        compare_list(now, then);
    }
    #[allow(clippy::cast_precision_loss)]
    let (now_days, then_days) = (window.days() as f64, previous_window.days() as f64);
    #[allow(clippy::cast_precision_loss)]
    let as_value = |count: i64| Some(count as f64);
    current.compared = Some(Totals {
        window: previous_window,
        previous_customers: previous.customers,
        conversions: Delta::new(
            start,
            as_value(current.conversions),
            as_value(previous.conversions),
            previous.conversions,
            delta::poisson_rates(current.conversions, now_days, previous.conversions, then_days),
        ),
        total_value: Delta::new(
            start,
            as_value(current.total_value_minor),
            as_value(previous.total_value_minor),
            previous.conversions,
            Test::money_sum(),
        ),
    });
}
