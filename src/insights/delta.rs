//! A value against an earlier one (`compareTo`): the change, the relative
//! change and a two-sided p-value from the test the value's kind needs.
//!
//! The tests are honest about what a sample can say: below
//! [`MIN_PER_SIDE`] observations on either side, or when both samples have
//! no variance at all, there is no p-value and `method` starts with
//! `NONE:` and says why. A zero-variance sample (six promoters out of six)
//! has a standard error of zero, and dividing by it turns any difference
//! into "certain", which is the opposite of what six answers show.
//!
//! Distributions come from `statrs` (Student's t, binomial); the normal
//! tail is [`super::stats::two_sided_p`].

use chrono::NaiveDate;
use statrs::distribution::{Binomial, ContinuousCDF, Discrete, StudentsT};

use super::stats::{NpsScore, two_proportion_z_test, two_sided_p};

/// Fewer observations than this on either side: no test.
pub const MIN_PER_SIDE: i64 = 10;

pub const NONE_TOO_FEW: &str = "NONE: fewer than 10 on one side";
pub const NONE_ZERO_VARIANCE: &str = "NONE: zero variance in both samples";
pub const NONE_MONEY_SUM: &str = "NONE: no test for a sum of money";

pub const EXACT_POISSON: &str = "EXACT_POISSON_CONDITIONAL_BINOMIAL";
pub const WELCH_T: &str = "WELCH_T";
pub const NPS_DIFFERENCE_Z: &str = "NPS_DIFFERENCE_Z";
pub const TWO_PROPORTION_Z: &str = "TWO_PROPORTION_Z";

/// The outcome of a significance test, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub p_value: Option<f64>,
    /// The z statistic, for the z-tests.
    pub z: Option<f64>,
    pub method: &'static str,
}

impl Test {
    fn none(method: &'static str) -> Self {
        Self {
            p_value: None,
            z: None,
            method,
        }
    }

    /// A sum of money has no test: its spread is not a count's, and there
    /// is no sample of amounts behind a total to test with.
    pub fn money_sum() -> Self {
        Self::none(NONE_MONEY_SUM)
    }

    fn z(z: f64, method: &'static str) -> Self {
        Self {
            p_value: Some(two_sided_p(z)),
            z: Some(z),
            method,
        }
    }
}

/// A value against the value of an earlier period.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// The first day of the period compared with.
    pub previous_period_start: NaiveDate,
    pub previous: Option<f64>,
    pub previous_n: i64,
    /// value − previous.
    pub change: Option<f64>,
    /// change / previous; `None` when previous is 0 or undefined.
    pub relative_change: Option<f64>,
    pub test: Test,
}

impl Delta {
    pub fn new(
        previous_period_start: NaiveDate,
        value: Option<f64>,
        previous: Option<f64>,
        previous_n: i64,
        test: Test,
    ) -> Self {
        let change = value.zip(previous).map(|(now, then)| now - then);
        let relative_change = change
            .zip(previous)
            .and_then(|(change, previous)| (previous != 0.0).then(|| change / previous));
        Self {
            previous_period_start,
            previous,
            previous_n,
            change,
            relative_change,
            test,
        }
    }
}

/// Exact test that two Poisson counts have the same rate per unit of
/// exposure (days): conditional on the total, the current count is
/// binomial with p = its share of the exposure. Two-sided as in
/// `scipy.stats.binomtest`: the probability of every outcome no more
/// likely than the one observed.
pub fn poisson_rates(current: i64, current_exposure: f64, previous: i64, previous_exposure: f64) -> Test {
    if current < MIN_PER_SIDE || previous < MIN_PER_SIDE {
        return Test::none(NONE_TOO_FEW);
    }
    let total = current + previous;
    let share = current_exposure / (current_exposure + previous_exposure);
    let (Ok(total_u), Ok(current_u)) = (u64::try_from(total), u64::try_from(current)) else {
        return Test::none(NONE_TOO_FEW);
    };
    let Ok(binomial) = Binomial::new(share, total_u) else {
        return Test::none(NONE_ZERO_VARIANCE);
    };
    // scipy's relative tolerance for "as likely as the observed outcome".
    let threshold = binomial.pmf(current_u) * (1.0 + 1e-7);
    let p: f64 = (0..=total_u)
        .map(|k| binomial.pmf(k))
        .filter(|&probability| probability <= threshold)
        .sum();
    Test {
        p_value: Some(p.min(1.0)),
        z: None,
        method: EXACT_POISSON,
    }
}

/// A sample summarised by its size, sum and sum of squares.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    pub n: i64,
    pub sum: f64,
    pub squares: f64,
}

impl Moments {
    pub fn mean(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The sample (n − 1) variance.
    pub fn variance(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        let n = self.n as f64;
        (self.n > 1).then(|| ((self.squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0))
    }

    /// The 95% t interval of the mean, `mean ± t(0.975, n−1)·s/√n`.
    pub fn mean_interval(&self) -> Option<(f64, f64)> {
        let (mean, variance) = self.mean().zip(self.variance())?;
        #[allow(clippy::cast_precision_loss)]
        let n = self.n as f64;
        let t = StudentsT::new(0.0, 1.0, n - 1.0).ok()?.inverse_cdf(0.975);
        let half = t * (variance / n).sqrt();
        Some((mean - half, mean + half))
    }
}

/// Welch's unequal-variance t-test of two means, as
/// `scipy.stats.ttest_ind(equal_var=False)`.
pub fn welch_t(current: &Moments, previous: &Moments) -> Test {
    if current.n < MIN_PER_SIDE || previous.n < MIN_PER_SIDE {
        return Test::none(NONE_TOO_FEW);
    }
    let (Some(m1), Some(v1), Some(m2), Some(v2)) =
        (current.mean(), current.variance(), previous.mean(), previous.variance())
    else {
        return Test::none(NONE_TOO_FEW);
    };
    #[allow(clippy::cast_precision_loss)]
    let (n1, n2) = (current.n as f64, previous.n as f64);
    let (a, b) = (v1 / n1, v2 / n2);
    if a + b <= 0.0 {
        return Test::none(NONE_ZERO_VARIANCE);
    }
    let t = (m1 - m2) / (a + b).sqrt();
    let df = (a + b).powi(2) / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0));
    let Ok(distribution) = StudentsT::new(0.0, 1.0, df) else {
        return Test::none(NONE_ZERO_VARIANCE);
    };
    Test {
        p_value: Some((2.0 * distribution.cdf(-t.abs())).min(1.0)),
        z: None,
        method: WELCH_T,
    }
}

/// The z-test of the difference of two independent NPS values,
/// z = (NPS₁ − NPS₂) / (100·√(var₁/n₁ + var₂/n₂)).
pub fn nps_difference(current: &NpsScore, previous: &NpsScore) -> Test {
    if current.n < MIN_PER_SIDE || previous.n < MIN_PER_SIDE {
        return Test::none(NONE_TOO_FEW);
    }
    let variance_over_n = |score: &NpsScore| {
        #[allow(clippy::cast_precision_loss)]
        let n = score.n as f64;
        #[allow(clippy::cast_precision_loss)]
        let (p, d) = (score.promoters as f64 / n, score.detractors as f64 / n);
        (p + d - (p - d).powi(2)).max(0.0) / n
    };
    let pooled = variance_over_n(current) + variance_over_n(previous);
    let (Some(now), Some(then)) = (current.nps, previous.nps) else {
        return Test::none(NONE_TOO_FEW);
    };
    if pooled <= 0.0 {
        return Test::none(NONE_ZERO_VARIANCE);
    }
    Test::z((now - then) / (100.0 * pooled.sqrt()), NPS_DIFFERENCE_Z)
}

/// The pooled two-proportion z-test of `(count, n)` against `(count, n)`.
pub fn proportions(current: (i64, i64), previous: (i64, i64)) -> Test {
    if current.1 < MIN_PER_SIDE || previous.1 < MIN_PER_SIDE {
        return Test::none(NONE_TOO_FEW);
    }
    let result = two_proportion_z_test(current.0, current.1, previous.0, previous.1);
    match result.z {
        Some(z) => Test::z(z, TWO_PROPORTION_Z),
        None => Test::none(NONE_ZERO_VARIANCE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::stats::nps;

    fn assert_rel(actual: Option<f64>, expected: f64) {
        let actual = actual.unwrap_or(f64::NAN);
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1e-9),
            "expected {expected:e}, got {actual:e}"
        );
    }

    // scipy.stats.binomtest(356, 657, 0.5) and binomtest(30, 130, 0.4).
    #[test]
    fn poisson_rates_match_scipy_binomtest() {
        assert_rel(poisson_rates(356, 1.0, 301, 1.0).p_value, 0.035_060_296_004_075_696);
        assert_rel(poisson_rates(30, 2.0, 100, 3.0).p_value, 6.938_957_112_789_741e-5);
        assert_rel(poisson_rates(50, 1.0, 50, 1.0).p_value, 1.0);
        assert_eq!(poisson_rates(9, 1.0, 50, 1.0).method, NONE_TOO_FEW);
    }

    // scipy.stats.ttest_ind(1..=12, [3, 5, …, 31], equal_var=False).
    #[test]
    fn welch_matches_scipy() {
        let sample = |values: &[f64]| Moments {
            n: i64::try_from(values.len()).unwrap_or(0),
            sum: values.iter().sum(),
            squares: values.iter().map(|x| x * x).sum(),
        };
        let a: Vec<f64> = (1..=12).map(f64::from).collect();
        let b: Vec<f64> = (0..15).map(|i| f64::from(3 + 2 * i)).collect();
        let test = welch_t(&sample(&a), &sample(&b));
        assert_eq!(test.method, WELCH_T);
        assert_rel(test.p_value, 5.368_737_215_337_108e-4);
        let constant = sample(&[5.0; 12]);
        assert_eq!(welch_t(&constant, &constant).method, NONE_ZERO_VARIANCE);
        assert_eq!(welch_t(&sample(&a[..9]), &sample(&b)).method, NONE_TOO_FEW);
    }

    #[test]
    fn t_interval_matches_scipy() {
        // scipy.stats.t.interval(0.95, 11, loc=6.5, scale=sem(1..=12)).
        let sample = Moments {
            n: 12,
            sum: 78.0,
            squares: 650.0,
        };
        let (low, high) = sample.mean_interval().unwrap_or_default();
        assert_rel(Some(low), 4.209_142_013_453_857);
        assert_rel(Some(high), 8.790_857_986_546_143);
    }

    #[test]
    fn nps_of_a_tiny_or_constant_sample_has_no_p_value() {
        // The reproducer: six promoters against a large mixed sample.
        let six_promoters = nps(6, 0, 0);
        let mixed = nps(500, 300, 200);
        assert_eq!(nps_difference(&six_promoters, &mixed).p_value, None);
        assert_eq!(nps_difference(&six_promoters, &mixed).method, NONE_TOO_FEW);
        let all_promoters = nps(20, 0, 0);
        let all_detractors = nps(0, 0, 20);
        assert_eq!(
            nps_difference(&all_promoters, &all_detractors).method,
            NONE_ZERO_VARIANCE
        );
        let test = nps_difference(&nps(15, 12, 16), &nps(12, 14, 18));
        assert_rel(test.z, 0.634_013_104_427);
        assert_rel(test.p_value, 0.526_072_270_016);
    }

    #[test]
    fn proportions_refuse_degenerate_samples() {
        assert_eq!(proportions((10, 10), (20, 20)).method, NONE_ZERO_VARIANCE);
        assert_eq!(proportions((3, 5), (20, 40)).method, NONE_TOO_FEW);
        assert_eq!(proportions((81, 263), (120, 300)).method, TWO_PROPORTION_Z);
    }
}
