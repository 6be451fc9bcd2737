//! Small, dependency-free statistics used by the insights endpoints.
//!
//! Every estimate that is shown to a customer comes with an uncertainty
//! interval, because sales and marketing teams otherwise over-read small
//! differences between segments. The formulas deliberately mirror the ones in
//! Python's statsmodels so that analysts can reproduce any number from the
//! service in a notebook and get the same digits.
//!
//! Functions never panic: inputs that cannot describe a valid sample (for
//! example a count larger than its total) produce `None` instead of a number,
//! so that the caller can render "not enough data" rather than a misleading
//! value.

use std::f64::consts::SQRT_2;

/// The 97.5% quantile of the standard normal distribution.
///
/// It is the critical value for two-sided 95% intervals. The literal is the
/// correctly rounded double of 1.95996398454005423552…, which differs from
/// the value statsmodels computes at run time by at most one unit in the last
/// place, so results agree with statsmodels far below any displayed precision.
pub const Z_95: f64 = 1.959963984540054;

/// An observed proportion together with its Wilson score 95% interval.
///
/// The Wilson interval is used instead of the textbook normal ("Wald")
/// interval because it stays inside [0, 1] and keeps close to nominal
/// coverage for the small segments and extreme rates that are common in
/// customer data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    /// The number of observations with the property of interest.
    pub count: i64,
    /// The number of observations in the sample.
    pub n: i64,
    /// The observed rate `count / n`, or `None` when it is undefined.
    pub rate: Option<f64>,
    /// The lower end of the Wilson 95% interval, or `None` when undefined.
    pub ci_low: Option<f64>,
    /// The upper end of the Wilson 95% interval, or `None` when undefined.
    pub ci_high: Option<f64>,
}

/// Computes a rate and its Wilson score 95% interval.
///
/// The result matches statsmodels'
/// `proportion_confint(count, n, method="wilson")` to about 1e-15. The rate
/// and both bounds are `None` when `n` is not positive or `count` lies outside
/// `0..=n`, because no meaningful proportion exists in those cases. The bounds
/// are clamped to [0, 1] only to remove rounding noise of the order of 1e-17
/// at `count = 0` and `count = n`.
pub fn proportion(count: i64, n: i64) -> Proportion {
    let undefined = Proportion {
        count,
        n,
        rate: None,
        ci_low: None,
        ci_high: None,
    };
    if n <= 0 || count < 0 || count > n {
        return undefined;
    }
    let n_f = n as f64;
    let p = count as f64 / n_f;
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / n_f;
    let center = (p + z2 / (2.0 * n_f)) / denom;
    let half = Z_95 * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    Proportion {
        count,
        n,
        rate: Some(p),
        ci_low: Some((center - half).max(0.0)),
        ci_high: Some((center + half).min(1.0)),
    }
}

/// A Net Promoter Score together with its 95% confidence interval.
///
/// NPS is reported on the usual −100…100 scale. The interval treats each
/// response as a draw from a three-category multinomial, which is the
/// standard large-sample interval for a difference of two proportions that
/// share one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NpsScore {
    /// The total number of responses; it saturates at `i64::MAX` on overflow.
    pub n: i64,
    /// The number of responses scoring 9 or 10.
    pub promoters: i64,
    /// The number of responses scoring 7 or 8.
    pub passives: i64,
    /// The number of responses scoring 0 to 6.
    pub detractors: i64,
    /// The score `100 · (promoters − detractors) / n`, or `None` when undefined.
    pub nps: Option<f64>,
    /// The lower end of the 95% interval, or `None` when undefined.
    pub ci_low: Option<f64>,
    /// The upper end of the 95% interval, or `None` when undefined.
    pub ci_high: Option<f64>,
}

/// Computes the Net Promoter Score and its multinomial 95% interval.
///
/// With `p_P` and `p_D` the promoter and detractor shares, the variance of
/// one response's contribution is `p_P + p_D − (p_P − p_D)²`, and the
/// interval is `nps ∓ Z_95 · 100 · sqrt(var / n)`. The interval is not
/// clamped to [−100, 100] so that it stays symmetric and honest about how
/// little a tiny sample says. Everything except the counts is `None` when
/// there are no responses, any count is negative, or the total overflows.
pub fn nps(promoters: i64, passives: i64, detractors: i64) -> NpsScore {
    let total = promoters
        .checked_add(passives)
        .and_then(|sum| sum.checked_add(detractors));
    let mut score = NpsScore {
        n: promoters.saturating_add(passives).saturating_add(detractors),
        promoters,
        passives,
        detractors,
        nps: None,
        ci_low: None,
        ci_high: None,
    };
    let valid_counts = promoters >= 0 && passives >= 0 && detractors >= 0;
    let Some(n) = total.filter(|&n| n > 0 && valid_counts) else {
        return score;
    };
    let n_f = n as f64;
    let p_promoters = promoters as f64 / n_f;
    let p_detractors = detractors as f64 / n_f;
    let diff = p_promoters - p_detractors;
    // Rounding can push an exactly-zero variance a hair below zero.
    let variance = (p_promoters + p_detractors - diff * diff).max(0.0);
    let value = 100.0 * diff;
    let half = Z_95 * 100.0 * (variance / n_f).sqrt();
    score.nps = Some(value);
    score.ci_low = Some(value - half);
    score.ci_high = Some(value + half);
    score
}

/// Evaluates the standard normal cumulative distribution function Φ(x).
///
/// The implementation is W. J. Cody's rational Chebyshev approximation (the
/// algorithm behind R's `pnorm`), which is accurate to within a few units in
/// the last place over the whole real line, including both tails; a cheaper
/// approximation would make small p-values visibly wrong. NaN propagates.
pub fn normal_cdf(x: f64) -> f64 {
    normal_tails(x).0
}

/// Returns the two-sided p-value `2 · (1 − Φ(|z|))` for a z statistic.
///
/// The value is computed as `2 · Φ(−|z|)` from the upper tail directly, so
/// very significant results (say z = 10, p ≈ 1.5e-23) keep full relative
/// precision instead of cancelling to zero. NaN propagates.
pub fn two_sided_p(z: f64) -> f64 {
    2.0 * normal_tails(z.abs()).1
}

/// The result of a pooled two-proportion z-test.
///
/// The fields are optional because the test is undefined for empty groups
/// and for samples without any variation, and callers should show that
/// rather than a fabricated statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoProportionTest {
    /// The pooled rate `(x_a + x_b) / (n_a + n_b)` used for the standard error.
    pub pooled_rate: Option<f64>,
    /// The z statistic for `rate_a − rate_b`.
    pub z: Option<f64>,
    /// The two-sided p-value of the z statistic.
    pub p_value: Option<f64>,
}

/// Tests whether two groups have different rates with a pooled z-test.
///
/// This matches statsmodels' `proportions_ztest([x_a, x_b], [n_a, n_b])`
/// with its defaults (pooled variance, two-sided alternative). All fields are
/// `None` when either group is empty or has a count outside `0..=n`. The
/// pooled rate is still reported when both groups agree perfectly (pooled
/// rate 0 or 1), but `z` and `p_value` are then `None` because the standard
/// error is zero.
pub fn two_proportion_z_test(x_a: i64, n_a: i64, x_b: i64, n_b: i64) -> TwoProportionTest {
    let mut result = TwoProportionTest {
        pooled_rate: None,
        z: None,
        p_value: None,
    };
    let group_valid = |x: i64, n: i64| n > 0 && (0..=n).contains(&x);
    if !group_valid(x_a, n_a) || !group_valid(x_b, n_b) {
        return result;
    }
    // Converting before adding avoids any chance of integer overflow.
    let (xa, na, xb, nb) = (x_a as f64, n_a as f64, x_b as f64, n_b as f64);
    let pooled = (xa + xb) / (na + nb);
    result.pooled_rate = Some(pooled);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se > 0.0 && se.is_finite() {
        let z = (xa / na - xb / nb) / se;
        result.z = Some(z);
        result.p_value = Some(two_sided_p(z));
    }
    result
}

/// Returns the median of `values`, or `None` when the slice is empty.
///
/// For an even number of values the mean of the two middle values is used,
/// matching `numpy.median`. Ordering uses `f64::total_cmp`, so NaNs never
/// cause a panic: positive NaNs sort after every number and negative NaNs
/// before, which means a NaN only affects the result when it lands in the
/// middle.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let upper = *sorted.get(mid)?;
    if sorted.len() % 2 == 1 {
        return Some(upper);
    }
    let lower = *sorted.get(mid.checked_sub(1)?)?;
    Some(lower.midpoint(upper))
}

/// Computes Pearson's correlation from sufficient statistics.
///
/// The database returns `n`, `Σx`, `Σy`, `Σx²`, `Σy²` and `Σxy`, so the
/// correlation can be computed without shipping raw rows. The result is
/// `None` when `n` is not positive, an input is not finite, or either
/// variable has (numerically) zero variance; a centred sum of squares at or
/// below 1e-12 of the raw sum of squares is treated as zero because that is
/// the level at which cancellation makes it meaningless. The result is
/// clamped to [−1, 1] to absorb rounding.
pub fn pearson_r(n: f64, sum_x: f64, sum_y: f64, sum_xx: f64, sum_yy: f64, sum_xy: f64) -> Option<f64> {
    let inputs = [n, sum_x, sum_y, sum_xx, sum_yy, sum_xy];
    if !inputs.iter().all(|v| v.is_finite()) || n <= 0.0 {
        return None;
    }
    let ss_x = sum_xx - sum_x * sum_x / n;
    let ss_y = sum_yy - sum_y * sum_y / n;
    let sp_xy = sum_xy - sum_x * sum_y / n;
    if ss_x <= RELATIVE_VARIANCE_TOLERANCE * sum_xx.abs() || ss_y <= RELATIVE_VARIANCE_TOLERANCE * sum_yy.abs() {
        return None;
    }
    Some((sp_xy / (ss_x * ss_y).sqrt()).clamp(-1.0, 1.0))
}

/// The fraction of a raw sum of squares below which a centred sum of squares
/// is considered to be zero.
///
/// Centring `Σx² − (Σx)²/n` loses about as many digits as the ratio of the
/// squared mean to the variance, so anything smaller than this is dominated
/// by rounding error rather than by real variation.
pub(super) const RELATIVE_VARIANCE_TOLERANCE: f64 = 1e-12;

/// `sqrt(32)`, the boundary between Cody's middle and tail approximations.
const SQRT_32: f64 = 4.0 * SQRT_2;

/// `1 / sqrt(2π)`, the normal density at zero.
const FRAC_1_SQRT_2PI: f64 = 0.3989422804014327;

/// Cody's numerator coefficients for |x| ≤ 0.67448975.
const CODY_A: [f64; 5] = [
    2.2352520354606837,
    161.02823106855587,
    1067.6894854603709,
    18154.98125334356,
    0.06568233791820745,
];
/// Cody's denominator coefficients for |x| ≤ 0.67448975.
const CODY_B: [f64; 4] = [
    47.202581904688245,
    976.0985517377767,
    10260.932208618979,
    45507.78933502673,
];

/// Cody's numerator coefficients for 0.67448975 < |x| ≤ sqrt(32).
const CODY_C: [f64; 9] = [
    0.39894151208813466,
    8.883149794388377,
    93.50665613217785,
    597.2702763948002,
    2494.5375852903726,
    6848.190450536283,
    11602.65143764735,
    9842.714838383978,
    1.0765576773720192e-8,
];
/// Cody's denominator coefficients for 0.67448975 < |x| ≤ sqrt(32).
const CODY_D: [f64; 8] = [
    22.266688044328117,
    235.387901782625,
    1519.3775994075547,
    6485.558298266761,
    18615.571640885097,
    34900.95272114598,
    38912.00328609327,
    19685.429676859992,
];

/// Cody's numerator coefficients for |x| > sqrt(32), in powers of 1/x².
const CODY_P: [f64; 6] = [
    0.215898534057957,
    0.12740116116024736,
    0.022235277870649807,
    0.0014216191932278934,
    2.9112874951168793e-5,
    0.023073441764940174,
];
/// Cody's denominator coefficients for |x| > sqrt(32), in powers of 1/x².
const CODY_Q: [f64; 5] = [
    1.284260096144911,
    0.4682382124808651,
    0.06598813786892856,
    0.0037823963320275824,
    7.297515550839662e-5,
];

/// Beyond this |x| the smaller tail underflows to zero in double precision.
const TAIL_UNDERFLOW: f64 = 40.0;

/// Returns `(Φ(x), 1 − Φ(x))`, each computed without cancellation.
///
/// Computing both tails together lets `two_sided_p` use the small tail
/// directly instead of subtracting from one.
fn normal_tails(x: f64) -> (f64, f64) {
    if x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let y = x.abs();
    if y <= 0.674_489_75 {
        let xsq = x * x;
        let mut num = CODY_A[4] * xsq;
        let mut den = xsq;
        for (a, b) in CODY_A.iter().zip(CODY_B.iter()).take(3) {
            num = (num + a) * xsq;
            den = (den + b) * xsq;
        }
        let t = x * (num + CODY_A[3]) / (den + CODY_B[3]);
        return (0.5 + t, 0.5 - t);
    }
    let small_tail = if y <= SQRT_32 {
        let mut num = CODY_C[8] * y;
        let mut den = y;
        for (c, d) in CODY_C.iter().zip(CODY_D.iter()).take(7) {
            num = (num + c) * y;
            den = (den + d) * y;
        }
        gaussian_factor(y) * (num + CODY_C[7]) / (den + CODY_D[7])
    } else if y < TAIL_UNDERFLOW {
        let inv_sq = 1.0 / (y * y);
        let mut num = CODY_P[5] * inv_sq;
        let mut den = inv_sq;
        for (p, q) in CODY_P.iter().zip(CODY_Q.iter()).take(4) {
            num = (num + p) * inv_sq;
            den = (den + q) * inv_sq;
        }
        let correction = inv_sq * (num + CODY_P[4]) / (den + CODY_Q[4]);
        gaussian_factor(y) * (FRAC_1_SQRT_2PI - correction) / y
    } else {
        0.0
    };
    if x > 0.0 {
        (1.0 - small_tail, small_tail)
    } else {
        (small_tail, 1.0 - small_tail)
    }
}

/// Returns `exp(−y²/2)` with `y²` split into an exactly representable part
/// and a small remainder, which avoids the relative error that rounding `y²`
/// would otherwise amplify in the tails.
fn gaussian_factor(y: f64) -> f64 {
    let head = (y * 16.0).trunc() / 16.0;
    let rest = (y - head) * (y + head);
    (-head * head * 0.5).exp() * (-rest * 0.5).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected:e}, got {actual:e} (tolerance {tol:e})"
        );
    }

    fn assert_rel(actual: f64, expected: f64, rel: f64) {
        assert!(
            (actual - expected).abs() <= rel * expected.abs(),
            "expected {expected:e}, got {actual:e} (relative tolerance {rel:e})"
        );
    }

    #[test]
    fn z_95_is_the_975_quantile() {
        assert_close(normal_cdf(Z_95), 0.975, 1e-15);
    }

    // Reference values from statsmodels 0.14 `proportion_confint(method="wilson")`.
    #[test]
    fn wilson_matches_statsmodels() {
        let cases: [(i64, i64, f64, f64); 6] = [
            (81, 263, 0.2552885198782742, 0.36620957698280004),
            (0, 10, 0.0, 0.27753279986288926),
            (10, 10, 0.7224672001371106, 1.0),
            (1, 1_000_000, 1.7652457674537176e-07, 5.664911804311445e-06),
            (500_000, 1_000_000, 0.4990200198900048, 0.5009799801099952),
            (3, 7, 0.15821985525146964, 0.7495416354723428),
        ];
        for (count, n, low, high) in cases {
            let result = proportion(count, n);
            assert_eq!(result.count, count);
            assert_eq!(result.n, n);
            assert_close(result.rate.unwrap(), count as f64 / n as f64, 0.0);
            assert_close(result.ci_low.unwrap(), low, 1e-12);
            assert_close(result.ci_high.unwrap(), high, 1e-12);
        }
    }

    #[test]
    fn wilson_is_undefined_without_a_valid_sample() {
        for (count, n) in [(0, 0), (1, 0), (-1, 10), (11, 10), (0, -5)] {
            let result = proportion(count, n);
            assert_eq!(result.rate, None);
            assert_eq!(result.ci_low, None);
            assert_eq!(result.ci_high, None);
        }
    }

    // Reference values from mpmath.ncdf at 50 significant digits.
    #[test]
    fn normal_cdf_matches_high_precision_values() {
        let cases = [
            (0.0, 0.5),
            (1.0, 0.8413447460685429),
            (1.959963984540054, 0.975),
            (-5.0, 2.866515718791939e-7),
            (8.0, 0.9999999999999993),
            (-1.5, 0.06680720126885807),
            (0.3, 0.6179114221889527),
            (2.5, 0.9937903346742238),
            (-0.6744897501960817, 0.25),
        ];
        for (x, expected) in cases {
            assert_close(normal_cdf(x), expected, 1e-15);
        }
    }

    #[test]
    fn normal_cdf_is_relatively_accurate_in_the_lower_tail() {
        let cases = [
            (-5.0, 2.866515718791939e-7),
            (-7.0, 1.279812543885835e-12),
            (-20.0, 2.7536241186062337e-89),
            (-37.0, 5.725571222524577e-300),
        ];
        for (x, expected) in cases {
            assert_rel(normal_cdf(x), expected, 1e-14);
        }
        assert_eq!(normal_cdf(-45.0), 0.0);
        assert_eq!(normal_cdf(45.0), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn two_sided_p_keeps_precision_for_large_z() {
        assert_close(two_sided_p(0.0), 1.0, 1e-15);
        assert_close(two_sided_p(Z_95), 0.05, 1e-15);
        assert_close(two_sided_p(-Z_95), 0.05, 1e-15);
        assert_rel(two_sided_p(8.0), 2.0 * 6.220960574271784e-16, 1e-13);
        assert_rel(two_sided_p(10.0), 1.523970604832105e-23, 1e-13);
        assert_rel(two_sided_p(-30.0), 9.813427854296374e-198, 1e-13);
        assert_eq!(two_sided_p(f64::INFINITY), 0.0);
        assert!(two_sided_p(f64::NAN).is_nan());
    }

    // Reference values from statsmodels 0.14 `proportions_ztest`.
    #[test]
    fn two_proportion_test_matches_statsmodels() {
        let cases = [
            (
                (81, 263, 120, 300),
                (0.35701598579040855, -2.27352640514242, 0.02299447675775155),
            ),
            ((45, 100, 60, 110), (0.5, -1.3816985594155142, 0.16706427691489423)),
            (
                (5, 1000, 15, 1100),
                (0.009523809523809525, -2.0351210424303163, 0.04183869518636562),
            ),
            ((30, 50, 30, 50), (0.6, 0.0, 1.0)),
            (
                (1, 40, 12, 35),
                (0.17333333333333334, -3.6279317130716633, 0.00028570079742603824),
            ),
        ];
        for ((xa, na, xb, nb), (pooled, z, p)) in cases {
            let result = two_proportion_z_test(xa, na, xb, nb);
            assert_close(result.pooled_rate.unwrap(), pooled, 1e-15);
            assert_close(result.z.unwrap(), z, 1e-12);
            assert_close(result.p_value.unwrap(), p, 1e-12);
            let swapped = two_proportion_z_test(xb, nb, xa, na);
            assert_close(swapped.z.unwrap(), -z, 1e-12);
            assert_close(swapped.p_value.unwrap(), p, 1e-12);
        }
    }

    #[test]
    fn two_proportion_test_degenerate_inputs() {
        let empty = two_proportion_z_test(0, 0, 3, 10);
        assert_eq!(empty.pooled_rate, None);
        assert_eq!(empty.z, None);
        assert_eq!(empty.p_value, None);
        let invalid = two_proportion_z_test(11, 10, 3, 10);
        assert_eq!(invalid.pooled_rate, None);
        let all_yes = two_proportion_z_test(10, 10, 20, 20);
        assert_eq!(all_yes.pooled_rate, Some(1.0));
        assert_eq!(all_yes.z, None);
        assert_eq!(all_yes.p_value, None);
        let all_no = two_proportion_z_test(0, 10, 0, 20);
        assert_eq!(all_no.pooled_rate, Some(0.0));
        assert_eq!(all_no.z, None);
    }

    #[test]
    fn nps_example_has_expected_interval() {
        let score = nps(514, 608, 514);
        assert_eq!(score.n, 1636);
        assert_close(score.nps.unwrap(), 0.0, 1e-12);
        assert_close(score.ci_low.unwrap(), -3.841151, 1e-6);
        assert_close(score.ci_high.unwrap(), 3.841151, 1e-6);
        assert_close(score.ci_high.unwrap(), 3.8411507249807144, 1e-12);
    }

    #[test]
    fn nps_matches_reference_for_an_asymmetric_sample() {
        let score = nps(300, 200, 100);
        assert_close(score.nps.unwrap(), 33.333333333333336, 1e-12);
        assert_close(score.ci_low.unwrap(), 27.369352854276144, 1e-12);
        assert_close(score.ci_high.unwrap(), 39.29731381239053, 1e-12);
    }

    #[test]
    fn nps_edge_cases() {
        let empty = nps(0, 0, 0);
        assert_eq!(empty.n, 0);
        assert_eq!(empty.nps, None);
        assert_eq!(empty.ci_low, None);
        let negative = nps(-1, 5, 5);
        assert_eq!(negative.nps, None);
        let overflow = nps(i64::MAX, 1, 0);
        assert_eq!(overflow.n, i64::MAX);
        assert_eq!(overflow.nps, None);
        let all_promoters = nps(7, 0, 0);
        assert_eq!(all_promoters.nps, Some(100.0));
        assert_eq!(all_promoters.ci_low, Some(100.0));
        assert_eq!(all_promoters.ci_high, Some(100.0));
        // A tiny sample may produce an interval beyond 100; it is not clamped.
        let tiny = nps(1, 0, 1);
        assert!(tiny.ci_high.unwrap() > 100.0);
    }

    #[test]
    fn median_handles_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[4.0]), Some(4.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::MAX, f64::MAX]), Some(f64::MAX));
        assert_eq!(median(&[1.0, f64::NAN, 2.0, 3.0, 0.0]), Some(2.0));
    }

    #[test]
    fn pearson_r_from_sufficient_statistics() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        let ys = [2.0, 4.0, 5.0, 4.0, 5.0];
        let n = xs.len() as f64;
        let sx: f64 = xs.iter().sum();
        let sy: f64 = ys.iter().sum();
        let sxx: f64 = xs.iter().map(|x| x * x).sum();
        let syy: f64 = ys.iter().map(|y| y * y).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| x * y).sum();
        // numpy.corrcoef gives 0.7745966692414834 (= sqrt(0.6)).
        assert_close(pearson_r(n, sx, sy, sxx, syy, sxy).unwrap(), 0.7745966692414834, 1e-15);
        assert_close(
            pearson_r(n, sx, -sy, sxx, syy, -sxy).unwrap(),
            -0.7745966692414834,
            1e-15,
        );
        // A constant x has no variance, even when rounding leaves a residue.
        assert_eq!(pearson_r(3.0, 0.3, 1.0, 0.03, 1.0, 0.1), None);
        assert_eq!(pearson_r(n, sx, 5.0, sxx, 5.0, sx), None);
        assert_eq!(pearson_r(0.0, 0.0, 0.0, 0.0, 0.0, 0.0), None);
        assert_eq!(pearson_r(n, f64::NAN, sy, sxx, syy, sxy), None);
    }

    proptest! {
        #[test]
        fn wilson_bounds_contain_the_rate(
            (count, n) in (1i64..=1_000_000).prop_flat_map(|n| (0..=n, Just(n)))
        ) {
            let result = proportion(count, n);
            let rate = result.rate.unwrap();
            let low = result.ci_low.unwrap();
            let high = result.ci_high.unwrap();
            prop_assert!((0.0..=1.0).contains(&low));
            prop_assert!((0.0..=1.0).contains(&high));
            prop_assert!(low <= rate && rate <= high, "{low} <= {rate} <= {high}");
        }

        #[test]
        fn nps_interval_shrinks_with_more_responses(
            promoters in 0i64..2000,
            passives in 0i64..2000,
            detractors in 0i64..2000,
            k in 2i64..100,
        ) {
            prop_assume!(promoters + passives + detractors > 0);
            let small = nps(promoters, passives, detractors);
            let large = nps(k * promoters, k * passives, k * detractors);
            let width = |s: &NpsScore| s.ci_high.unwrap() - s.ci_low.unwrap();
            let (w_small, w_large) = (width(&small), width(&large));
            prop_assert!((small.nps.unwrap() - large.nps.unwrap()).abs() < 1e-9);
            prop_assert!(w_large <= w_small);
            if w_small > 0.0 {
                prop_assert!(w_large < w_small);
                let expected_ratio = 1.0 / (k as f64).sqrt();
                prop_assert!((w_large / w_small - expected_ratio).abs() < 1e-9);
            }
        }

        #[test]
        fn normal_cdf_is_symmetric_and_bounded(x in -40.0f64..40.0) {
            let lower = normal_cdf(x);
            let upper = normal_cdf(-x);
            prop_assert!((0.0..=1.0).contains(&lower));
            prop_assert!((lower + upper - 1.0).abs() <= 2e-16);
            let p = two_sided_p(x);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!(normal_cdf(x + 1e-3) >= lower);
        }

        #[test]
        fn median_lies_between_min_and_max(values in prop::collection::vec(-1e6f64..1e6, 1..50)) {
            let m = median(&values).unwrap();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(min <= m && m <= max);
        }
    }
}
