//! Key driver analysis: which attributes explain an outcome such as overall
//! satisfaction or likelihood to recommend.
//!
//! The analysis regresses the outcome on the attribute ratings and splits the
//! model's R² between the attributes with exact Shapley values (also known as
//! LMG or "dominance" relative importance). Shapley values are used because
//! attribute ratings are usually strongly correlated, and then regression
//! coefficients or single correlations attribute the shared explanatory power
//! arbitrarily; Shapley values average over every order in which attributes
//! could enter the model, so the shares are stable and always add up to R².
//!
//! Everything is computed from sufficient statistics (n, sums and cross
//! products) so that the database can aggregate the raw responses and only a
//! (p + 1) × (p + 1) matrix crosses the wire.

use crate::insights::stats::{RELATIVE_VARIANCE_TOLERANCE, median};
use std::fmt;

/// The largest number of attributes accepted by [`shapley_decomposition`].
///
/// Exact Shapley values need the R² of all 2^p attribute subsets, so the cost
/// more than doubles with every attribute; 15 attributes (32 768 subsets)
/// still take only a few milliseconds, and dashboards rarely show more.
pub const MAX_ATTRIBUTES: usize = 15;

/// Sufficient statistics of the complete cases for a driver analysis.
///
/// With `p` attributes the variables are numbered `0..p` for the attributes
/// and `p` for the outcome. `sum[i]` is `Σ v_i` and `cross[i][j]` is
/// `Σ v_i v_j` over the `n` rows that have every variable present, so `sum`
/// has `p + 1` entries and `cross` is a symmetric `(p + 1) × (p + 1)` matrix
/// whose last row and column belong to the outcome. The fields are private so
/// that every value in circulation has passed the checks in [`Moments::new`]
/// and the analysis can index it without risk of a panic.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    n: f64,
    sum: Vec<f64>,
    cross: Vec<Vec<f64>>,
}

impl Moments {
    /// Validates and stores the sufficient statistics.
    ///
    /// It fails when `sum` is empty, `cross` is not `sum.len()` square, any
    /// value is not finite, `n` is negative, or `cross` is not symmetric to
    /// within a relative 1e-9. The two triangles are then averaged so that
    /// rounding differences between `Σ v_i v_j` and `Σ v_j v_i` computed by
    /// the database cannot leak into the analysis.
    pub fn new(n: f64, sum: Vec<f64>, mut cross: Vec<Vec<f64>>) -> Result<Self, DriverError> {
        let size = sum.len();
        if size == 0 {
            return Err(DriverError::DimensionMismatch { expected: 1, found: 0 });
        }
        if cross.len() != size {
            return Err(DriverError::DimensionMismatch {
                expected: size,
                found: cross.len(),
            });
        }
        if let Some(row) = cross.iter().find(|row| row.len() != size) {
            return Err(DriverError::DimensionMismatch {
                expected: size,
                found: row.len(),
            });
        }
        let all_finite =
            n.is_finite() && sum.iter().all(|v| v.is_finite()) && cross.iter().flatten().all(|v| v.is_finite());
        if !all_finite || n < 0.0 {
            return Err(DriverError::InvalidMoment);
        }
        let pairs = (0..size).flat_map(|row| ((row + 1)..size).map(move |col| (row, col)));
        for (row, col) in pairs {
            let upper = cross[row][col];
            let lower = cross[col][row];
            if (upper - lower).abs() > SYMMETRY_TOLERANCE * upper.abs().max(lower.abs()) {
                return Err(DriverError::AsymmetricCrossProducts { row, col });
            }
            let average = upper.midpoint(lower);
            cross[row][col] = average;
            cross[col][row] = average;
        }
        Ok(Self { n, sum, cross })
    }

    /// Returns the number of complete cases the statistics were computed from.
    pub fn n(&self) -> f64 {
        self.n
    }

    /// Returns the number of attributes `p`, which excludes the outcome.
    pub fn attributes(&self) -> usize {
        self.sum.len().saturating_sub(1)
    }

    /// Returns the sums `Σ v_i`, with the outcome last.
    pub fn sum(&self) -> &[f64] {
        &self.sum
    }

    /// Returns the cross products `Σ v_i v_j`, with the outcome last.
    pub fn cross(&self) -> &[Vec<f64>] {
        &self.cross
    }

    /// Returns the mean of variable `index` (the outcome is `index == p`).
    ///
    /// Attribute means are the second axis of the quadrant chart, so they are
    /// offered here to avoid a second database round trip. It is `None` for
    /// an out-of-range index or when there are no rows.
    pub fn mean(&self, index: usize) -> Option<f64> {
        let total = *self.sum.get(index)?;
        (self.n > 0.0).then(|| total / self.n)
    }
}

/// The outcome of a key driver analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverResult {
    /// The R² of the regression of the outcome on all attributes.
    pub r_squared: f64,
    /// Each attribute's Shapley share of R²; the shares sum to `r_squared`
    /// and are never negative beyond rounding, because adding a predictor
    /// can never lower R².
    pub shapley: Vec<f64>,
    /// Each attribute's share as a percentage of R² (`100 · shapley / r²`),
    /// summing to 100. When the attributes explain nothing at all
    /// (`r_squared == 0`) there is nothing to share and every entry is 0.
    pub importance: Vec<f64>,
}

/// Reasons why a driver analysis cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverError {
    /// The sums and cross products do not have consistent dimensions.
    DimensionMismatch {
        /// The length implied by the other inputs.
        expected: usize,
        /// The length that was supplied.
        found: usize,
    },
    /// A statistic is NaN or infinite, or the row count is negative.
    InvalidMoment,
    /// The cross-product matrix is not symmetric at the given position.
    AsymmetricCrossProducts {
        /// The row of the first mismatching entry.
        row: usize,
        /// The column of the first mismatching entry.
        col: usize,
    },
    /// There are no attributes to analyse.
    NoAttributes,
    /// There are more attributes than the exact computation supports.
    TooManyAttributes {
        /// The number of attributes supplied.
        count: usize,
        /// The supported maximum, [`MAX_ATTRIBUTES`].
        max: usize,
    },
    /// There are too few complete cases to fit the full model with at least
    /// one residual degree of freedom.
    TooFewObservations {
        /// The number of complete cases supplied.
        n: f64,
        /// The minimum number of complete cases needed.
        required: usize,
    },
    /// The outcome is constant, so there is no variance to explain.
    ZeroOutcomeVariance,
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DimensionMismatch { expected, found } => write!(
                f,
                "driver statistics have inconsistent dimensions: expected {expected} entries, found {found}"
            ),
            Self::InvalidMoment => write!(
                f,
                "driver statistics contain a non-finite value or a negative row count"
            ),
            Self::AsymmetricCrossProducts { row, col } => {
                write!(f, "driver cross products are not symmetric at row {row}, column {col}")
            }
            Self::NoAttributes => write!(f, "driver analysis needs at least one attribute"),
            Self::TooManyAttributes { count, max } => write!(
                f,
                "driver analysis supports at most {max} attributes, but {count} were given"
            ),
            Self::TooFewObservations { n, required } => write!(
                f,
                "driver analysis needs at least {required} complete responses, but only {n} were found"
            ),
            Self::ZeroOutcomeVariance => write!(
                f,
                "driver analysis needs an outcome that varies, but every response has the same value"
            ),
        }
    }
}

impl std::error::Error for DriverError {}

/// Where an attribute falls on the importance × performance chart.
///
/// The chart tells a customer which attributes to protect and which to fix:
/// important attributes that score well are strengths, important ones that
/// score poorly are the first place to invest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quadrant {
    /// High importance and high mean: protect it and talk about it.
    KeyStrength,
    /// High importance but low mean: the most valuable place to improve.
    PriorityToImprove,
    /// Low importance but high mean: keep it up without further investment.
    Maintain,
    /// Low importance and low mean: address only once the rest is done.
    LowPriority,
}

/// Computes the R² of regressing the outcome on the attributes in `subset`.
///
/// The model always includes an intercept, so R²(∅) = 0. The regression is
/// solved on the correlation matrix of the centred data with a Cholesky
/// factorisation, which is scale-free and well conditioned for rating data.
/// Collinear attributes do not cause a failure: an attribute whose
/// correlation matrix pivot falls below 1e-10 (it is a linear combination
/// of the attributes before it, up to a variance inflation factor of 1e10)
/// is dropped, which yields exactly the R² of the least-squares (pseudo-
/// inverse) fit, because R² only depends on the space the columns span.
/// Constant attributes are dropped for the same reason, and repeated indices
/// count once. The result is `None` when `n < 2`, the outcome has no
/// variance, or an index is not below `moments.attributes()`.
pub fn r_squared(moments: &Moments, subset: &[usize]) -> Option<f64> {
    let data = Standardized::new(moments).ok()?;
    let mut seen = vec![false; data.p];
    let mut projection = Projection::new(&data);
    let mut rank = 0;
    let mut r2 = 0.0;
    for &column in subset {
        let already_seen = seen.get_mut(column)?;
        if *already_seen {
            continue;
        }
        *already_seen = true;
        if let Some(gain) = projection.extend(rank, column) {
            rank += 1;
            r2 += gain;
        }
    }
    Some(r2.clamp(0.0, 1.0))
}

/// Splits the full model's R² between the attributes with exact Shapley
/// values.
///
/// With `p` attributes the share of attribute `i` is
/// `φ_i = Σ_{S ⊆ P∖{i}} |S|! (p − |S| − 1)! / p! · (R²(S ∪ {i}) − R²(S))`.
/// All 2^p R² values are computed once by a depth-first walk that extends a
/// Cholesky factor by one row per step, so each subset costs O(p²) and
/// `p = 15` finishes in a few milliseconds. Collinear and constant
/// attributes are handled as in [`r_squared`]; a constant attribute receives
/// a share of 0. The analysis requires `1 ≤ p ≤ MAX_ATTRIBUTES`, at least
/// `p + 2` complete cases (so the full model keeps a residual degree of
/// freedom and a perfect fit is not an artefact of too few rows), and an
/// outcome that varies.
pub fn shapley_decomposition(moments: &Moments) -> Result<DriverResult, DriverError> {
    let p = moments.attributes();
    if p == 0 {
        return Err(DriverError::NoAttributes);
    }
    if p > MAX_ATTRIBUTES {
        return Err(DriverError::TooManyAttributes {
            count: p,
            max: MAX_ATTRIBUTES,
        });
    }
    let required = p + 2;
    if moments.n < required as f64 {
        return Err(DriverError::TooFewObservations { n: moments.n, required });
    }
    let data = Standardized::new(moments)?;
    let mut table = vec![0.0; 1 << p];
    Projection::new(&data).fill(&mut table, 0, 0, 0, 0.0);

    // weights[s] = s! (p − s − 1)! / p! = 1 / (p · C(p − 1, s)).
    let weights: Vec<f64> = (0..p).map(|s| 1.0 / (p as f64 * binomial(p - 1, s))).collect();
    let mut shapley = vec![0.0; p];
    for (i, share) in shapley.iter_mut().enumerate() {
        let bit = 1usize << i;
        let mut total = 0.0;
        for (mask, &without) in table.iter().enumerate() {
            if mask & bit != 0 {
                continue;
            }
            let size = mask.count_ones() as usize;
            let (Some(&weight), Some(&with)) = (weights.get(size), table.get(mask | bit)) else {
                continue;
            };
            total += weight * (with - without);
        }
        *share = total;
    }
    let r_squared = table.last().copied().unwrap_or(0.0);
    let importance = if r_squared > 0.0 {
        shapley.iter().map(|v| 100.0 * v / r_squared).collect()
    } else {
        vec![0.0; p]
    };
    Ok(DriverResult {
        r_squared,
        shapley,
        importance,
    })
}

/// Places one attribute on the importance × performance chart.
///
/// A value at or above its median counts as high, so that with an odd
/// number of attributes the median attribute itself is high rather than
/// falling between quadrants. NaN inputs compare as low.
pub fn quadrant(importance: f64, median_importance: f64, mean: f64, median_mean: f64) -> Quadrant {
    match (importance >= median_importance, mean >= median_mean) {
        (true, true) => Quadrant::KeyStrength,
        (true, false) => Quadrant::PriorityToImprove,
        (false, true) => Quadrant::Maintain,
        (false, false) => Quadrant::LowPriority,
    }
}

/// Places every attribute on the chart, using the medians of `importance`
/// and `means` as the dividing lines.
///
/// It returns `None` when the slices are empty or differ in length, since
/// the attributes could not then be paired up.
pub fn quadrants(importance: &[f64], means: &[f64]) -> Option<Vec<Quadrant>> {
    if importance.len() != means.len() {
        return None;
    }
    let median_importance = median(importance)?;
    let median_mean = median(means)?;
    Some(
        importance
            .iter()
            .zip(means)
            .map(|(&imp, &mean)| quadrant(imp, median_importance, mean, median_mean))
            .collect(),
    )
}

/// The relative tolerance for asymmetry between `Σ v_i v_j` and `Σ v_j v_i`.
const SYMMETRY_TOLERANCE: f64 = 1e-9;

/// The smallest Cholesky pivot, on the correlation scale, for an attribute to
/// count as linearly independent of the attributes already in the model.
///
/// A pivot is `1 − R²` of the attribute regressed on the earlier ones, so
/// this drops attributes with a variance inflation factor above 1e10, whose
/// coefficients would be dominated by rounding error.
const PIVOT_TOLERANCE: f64 = 1e-10;

/// The correlation structure of the attributes and the outcome.
///
/// Working with correlations instead of raw covariances makes the pivot
/// tolerance independent of the rating scale.
struct Standardized {
    /// The number of attributes.
    p: usize,
    /// The p × p attribute correlation matrix, row-major; a constant
    /// attribute has an all-zero row and column, including its diagonal.
    corr: Vec<f64>,
    /// The correlation of each attribute with the outcome.
    with_outcome: Vec<f64>,
}

impl Standardized {
    /// Centres the moments and scales them to correlations.
    fn new(moments: &Moments) -> Result<Self, DriverError> {
        let p = moments.attributes();
        let n = moments.n;
        if n < 2.0 {
            return Err(DriverError::TooFewObservations { n, required: 2 });
        }
        let centred = |i: usize, j: usize| -> f64 { moments.cross[i][j] - moments.sum[i] * moments.sum[j] / n };
        let inverse_sd = |i: usize| -> f64 {
            let ss = centred(i, i);
            if ss > RELATIVE_VARIANCE_TOLERANCE * moments.cross[i][i].abs() {
                1.0 / ss.sqrt()
            } else {
                0.0
            }
        };
        let outcome_scale = inverse_sd(p);
        if outcome_scale == 0.0 {
            return Err(DriverError::ZeroOutcomeVariance);
        }
        let scales: Vec<f64> = (0..p).map(inverse_sd).collect();
        let mut corr = vec![0.0; p * p];
        for (i, row) in corr.chunks_exact_mut(p.max(1)).enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = if i == j {
                    if scales[i] > 0.0 { 1.0 } else { 0.0 }
                } else {
                    (centred(i, j) * scales[i] * scales[j]).clamp(-1.0, 1.0)
                };
            }
        }
        let with_outcome = (0..p)
            .map(|i| (centred(i, p) * scales[i] * outcome_scale).clamp(-1.0, 1.0))
            .collect();
        Ok(Self { p, corr, with_outcome })
    }
}

/// An incrementally grown Cholesky factor of the correlation matrix of the
/// attributes currently in the model.
///
/// Appending attribute `c` after the basis `b_0 … b_{k−1}` adds one row to
/// the factor `L` (forward substitution, O(k²)) and one entry to
/// `w = L⁻¹ r`, where `r` holds the correlations with the outcome. The model's
/// R² is `‖w‖²`, so each new attribute adds `w_k²` to the R² of its parent
/// subset, and no subset needs a factorisation from scratch.
struct Projection<'a> {
    data: &'a Standardized,
    /// Row `k` (of length `p`) holds `L[k][0..=k]` for the `k`-th basis entry.
    lower: Vec<f64>,
    /// The attributes that form the current basis, in insertion order.
    basis: Vec<usize>,
    /// The entries of `w = L⁻¹ r` for the current basis.
    weights: Vec<f64>,
}

impl<'a> Projection<'a> {
    fn new(data: &'a Standardized) -> Self {
        Self {
            data,
            lower: vec![0.0; data.p * data.p],
            basis: vec![0; data.p],
            weights: vec![0.0; data.p],
        }
    }

    /// Appends `column` as basis entry number `rank`, overwriting whatever a
    /// previous sibling left there, and returns its gain in R².
    ///
    /// It returns `None`, leaving the basis unchanged, when the attribute is
    /// numerically dependent on the current basis or the indices are out of
    /// range.
    fn extend(&mut self, rank: usize, column: usize) -> Option<f64> {
        let p = self.data.p;
        if rank >= p || column >= p {
            return None;
        }
        let corr = &self.data.corr;
        let row = rank * p;
        let mut pivot = corr[column * p + column];
        for j in 0..rank {
            let mut value = corr[column * p + self.basis[j]];
            for m in 0..j {
                value -= self.lower[row + m] * self.lower[j * p + m];
            }
            value /= self.lower[j * p + j];
            self.lower[row + j] = value;
            pivot -= value * value;
        }
        if pivot.is_nan() || pivot <= PIVOT_TOLERANCE {
            return None;
        }
        let diagonal = pivot.sqrt();
        self.lower[row + rank] = diagonal;
        let mut w = self.data.with_outcome[column];
        for j in 0..rank {
            w -= self.lower[row + j] * self.weights[j];
        }
        w /= diagonal;
        self.weights[rank] = w;
        self.basis[rank] = column;
        Some(w * w)
    }

    /// Records `r2` for `mask` and recurses into every superset formed by
    /// adding attributes numbered `start` or higher.
    ///
    /// Adding attributes in increasing order visits each subset exactly once
    /// and only ever appends to the factor, which is what makes the walk
    /// O(2^p · p²) instead of O(2^p · p³).
    fn fill(&mut self, table: &mut [f64], mask: usize, start: usize, rank: usize, r2: f64) {
        if let Some(slot) = table.get_mut(mask) {
            *slot = r2.clamp(0.0, 1.0);
        }
        for column in start..self.data.p {
            let next = mask | (1 << column);
            match self.extend(rank, column) {
                Some(gain) => self.fill(table, next, column + 1, rank + 1, r2 + gain),
                None => self.fill(table, next, column + 1, rank, r2),
            }
        }
    }
}

/// Returns the binomial coefficient C(n, k) as a float.
///
/// The product form is exact in double precision for the small arguments
/// used here (n < 15).
fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n.saturating_sub(k));
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::stats::pearson_r;
    use proptest::prelude::*;

    /// A small linear congruential generator, so tests need no extra crates.
    struct Lcg(u64);

    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        /// An approximately standard normal draw (Irwin–Hall with 12 terms).
        fn normal(&mut self) -> f64 {
            (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
        }
    }

    /// Accumulates moments from rows laid out as `[x_1, …, x_p, y]`.
    fn moments_from_rows(rows: &[Vec<f64>]) -> Moments {
        let size = rows[0].len();
        let mut sum = vec![0.0; size];
        let mut cross = vec![vec![0.0; size]; size];
        for row in rows {
            for i in 0..size {
                sum[i] += row[i];
                for j in 0..size {
                    cross[i][j] += row[i] * row[j];
                }
            }
        }
        Moments::new(rows.len() as f64, sum, cross).unwrap()
    }

    /// Computes R² on raw rows via the uncentred normal equations with an
    /// intercept column and the residual sum of squares, independently of
    /// the code under test.
    fn reference_r_squared(rows: &[Vec<f64>], subset: &[usize]) -> f64 {
        let y_index = rows[0].len() - 1;
        let design =
            |row: &Vec<f64>| -> Vec<f64> { std::iter::once(1.0).chain(subset.iter().map(|&j| row[j])).collect() };
        let k = subset.len() + 1;
        let mut a = vec![vec![0.0; k + 1]; k];
        for row in rows {
            let x = design(row);
            for i in 0..k {
                for j in 0..k {
                    a[i][j] += x[i] * x[j];
                }
                a[i][k] += x[i] * row[y_index];
            }
        }
        for col in 0..k {
            let pivot = (col..k)
                .max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            let pivot_row = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let factor = row[col] / pivot_row[col];
                    for (value, pivot_value) in row.iter_mut().zip(&pivot_row).skip(col) {
                        *value -= factor * pivot_value;
                    }
                }
            }
        }
        let beta: Vec<f64> = (0..k).map(|i| a[i][k] / a[i][i]).collect();
        let mean_y = rows.iter().map(|r| r[y_index]).sum::<f64>() / rows.len() as f64;
        let (mut sse, mut sst) = (0.0, 0.0);
        for row in rows {
            let fitted: f64 = design(row).iter().zip(&beta).map(|(x, b)| x * b).sum();
            sse += (row[y_index] - fitted).powi(2);
            sst += (row[y_index] - mean_y).powi(2);
        }
        1.0 - sse / sst
    }

    /// Generates correlated attribute ratings and an outcome that depends on
    /// them, like a real survey.
    fn synthetic_rows(seed: u64, n: usize, p: usize) -> Vec<Vec<f64>> {
        let mut rng = Lcg(seed);
        (0..n)
            .map(|_| {
                let halo = rng.normal();
                let mut row: Vec<f64> = (0..p)
                    .map(|j| 5.0 + halo + (1.0 + j as f64 * 0.3) * rng.normal())
                    .collect();
                let y = row
                    .iter()
                    .enumerate()
                    .map(|(j, x)| x * (0.2 + 0.1 * j as f64))
                    .sum::<f64>()
                    + 2.0 * rng.normal();
                row.push(y);
                row
            })
            .collect()
    }

    fn assert_close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected}, got {actual} (tolerance {tol:e})"
        );
    }

    fn assert_consistent(result: &DriverResult) {
        let total: f64 = result.shapley.iter().sum();
        assert_close(total, result.r_squared, 1e-12);
        let percent: f64 = result.importance.iter().sum();
        assert_close(percent, 100.0, 1e-9);
    }

    /// Rows for which the exact answer was computed with numpy (`lstsq` on
    /// every subset, then the Shapley formula).
    fn survey_rows() -> Vec<Vec<f64>> {
        [
            [7, 6, 8, 7],
            [5, 5, 6, 5],
            [9, 8, 9, 9],
            [4, 6, 5, 5],
            [8, 7, 7, 8],
            [6, 4, 6, 5],
            [3, 5, 4, 4],
            [10, 9, 8, 10],
            [7, 8, 6, 7],
            [5, 3, 5, 4],
            [6, 7, 9, 7],
            [8, 6, 7, 6],
        ]
        .iter()
        .map(|row| row.iter().map(|&v| f64::from(v)).collect())
        .collect()
    }

    #[test]
    fn matches_numpy_reference_shapley_values() {
        let moments = moments_from_rows(&survey_rows());
        let result = shapley_decomposition(&moments).unwrap();
        assert_close(result.r_squared, 0.9576003162020378, 1e-12);
        let expected = [0.34750767574434294, 0.3662147406509955, 0.24387789980669922];
        for (actual, expected) in result.shapley.iter().zip(expected) {
            assert_close(*actual, expected, 1e-12);
        }
        assert_consistent(&result);
        let subsets: [(&[usize], f64); 4] = [
            (&[0], 0.8113272955756814),
            (&[2], 0.6525837161938142),
            (&[0, 1], 0.9448928308721921),
            (&[2, 1], 0.8963768583787718),
        ];
        for (subset, expected) in subsets {
            assert_close(r_squared(&moments, subset).unwrap(), expected, 1e-12);
        }
    }

    #[test]
    fn shares_sum_to_full_r_squared_which_matches_raw_data() {
        let rows = synthetic_rows(42, 500, 6);
        let moments = moments_from_rows(&rows);
        let result = shapley_decomposition(&moments).unwrap();
        assert_consistent(&result);
        let all: Vec<usize> = (0..6).collect();
        assert_close(result.r_squared, reference_r_squared(&rows, &all), 1e-10);
        assert_close(r_squared(&moments, &all).unwrap(), result.r_squared, 1e-12);
        for subset in [&[1usize][..], &[0, 3], &[5, 2, 4]] {
            assert_close(
                r_squared(&moments, subset).unwrap(),
                reference_r_squared(&rows, subset),
                1e-10,
            );
        }
        assert_eq!(r_squared(&moments, &[]), Some(0.0));
        assert!(result.shapley.iter().all(|&v| v > 0.0));
    }

    #[test]
    fn single_attribute_gets_all_of_r_squared() {
        let rows = synthetic_rows(7, 80, 1);
        let moments = moments_from_rows(&rows);
        let result = shapley_decomposition(&moments).unwrap();
        assert_eq!(result.shapley.len(), 1);
        assert_close(result.shapley[0], result.r_squared, 1e-15);
        assert_close(result.importance[0], 100.0, 1e-12);
        let r = pearson_r(
            moments.n(),
            moments.sum()[0],
            moments.sum()[1],
            moments.cross()[0][0],
            moments.cross()[1][1],
            moments.cross()[0][1],
        )
        .unwrap();
        assert_close(result.r_squared, r * r, 1e-12);
    }

    #[test]
    fn uncorrelated_attributes_keep_their_own_r_squared() {
        // Two orthogonal ±1 patterns, so the sample correlation is exactly 0.
        let mut rng = Lcg(3);
        let rows: Vec<Vec<f64>> = (0..400)
            .map(|i| {
                let x1 = if i % 2 == 0 { 1.0 } else { -1.0 };
                let x2 = if (i / 2) % 2 == 0 { 1.0 } else { -1.0 };
                vec![x1, x2, 2.0 * x1 + 0.7 * x2 + rng.normal()]
            })
            .collect();
        let moments = moments_from_rows(&rows);
        let result = shapley_decomposition(&moments).unwrap();
        let alone_1 = r_squared(&moments, &[0]).unwrap();
        let alone_2 = r_squared(&moments, &[1]).unwrap();
        assert_close(result.shapley[0], alone_1, 1e-12);
        assert_close(result.shapley[1], alone_2, 1e-12);
        assert_close(result.r_squared, alone_1 + alone_2, 1e-12);
        assert_consistent(&result);
    }

    #[test]
    fn collinear_attributes_use_the_least_squares_fit() {
        let mut rows = synthetic_rows(11, 200, 2);
        for row in &mut rows {
            let y = row.pop().unwrap();
            row.push(row[0] + 2.0 * row[1]);
            row.push(row[0]);
            row.push(y);
        }
        let moments = moments_from_rows(&rows);
        let base = r_squared(&moments, &[0, 1]).unwrap();
        assert_close(r_squared(&moments, &[0, 1, 2, 3]).unwrap(), base, 1e-12);
        assert_close(r_squared(&moments, &[2, 1]).unwrap(), base, 1e-12);
        assert_close(
            r_squared(&moments, &[3]).unwrap(),
            r_squared(&moments, &[0]).unwrap(),
            1e-12,
        );
        let result = shapley_decomposition(&moments).unwrap();
        assert_close(result.r_squared, base, 1e-12);
        assert_consistent(&result);
        // The exact duplicates must receive identical shares.
        assert_close(result.shapley[0], result.shapley[3], 1e-12);
    }

    #[test]
    fn constant_attribute_gets_no_share() {
        let mut rows = synthetic_rows(5, 100, 2);
        for row in &mut rows {
            row.insert(1, 0.1);
        }
        let moments = moments_from_rows(&rows);
        let result = shapley_decomposition(&moments).unwrap();
        assert_eq!(result.shapley[1], 0.0);
        assert_consistent(&result);
    }

    #[test]
    fn fifteen_attributes_work_and_sixteen_are_refused() {
        let rows = synthetic_rows(99, 300, MAX_ATTRIBUTES);
        let moments = moments_from_rows(&rows);
        let result = shapley_decomposition(&moments).unwrap();
        assert_eq!(result.shapley.len(), MAX_ATTRIBUTES);
        assert_consistent(&result);
        let all: Vec<usize> = (0..MAX_ATTRIBUTES).collect();
        assert_close(result.r_squared, reference_r_squared(&rows, &all), 1e-10);

        let rows = synthetic_rows(99, 300, MAX_ATTRIBUTES + 1);
        let error = shapley_decomposition(&moments_from_rows(&rows)).unwrap_err();
        assert_eq!(error, DriverError::TooManyAttributes { count: 16, max: 15 });
        let message = error.to_string();
        assert!(message.contains("15") && message.contains("16"), "{message}");
    }

    #[test]
    fn degenerate_inputs_are_errors() {
        let only_outcome = Moments::new(10.0, vec![5.0], vec![vec![30.0]]).unwrap();
        assert_eq!(shapley_decomposition(&only_outcome), Err(DriverError::NoAttributes));

        let mut rows = synthetic_rows(1, 50, 3);
        for row in &mut rows {
            row[3] = 4.0;
        }
        let flat = moments_from_rows(&rows);
        assert_eq!(shapley_decomposition(&flat), Err(DriverError::ZeroOutcomeVariance));
        assert_eq!(r_squared(&flat, &[0]), None);

        let few = moments_from_rows(&synthetic_rows(2, 4, 3));
        assert_eq!(
            shapley_decomposition(&few),
            Err(DriverError::TooFewObservations { n: 4.0, required: 5 })
        );
        let fine = moments_from_rows(&synthetic_rows(2, 5, 3));
        assert!(shapley_decomposition(&fine).is_ok());
        assert_eq!(r_squared(&fine, &[3]), None);
    }

    #[test]
    fn moments_are_validated() {
        assert_eq!(
            Moments::new(3.0, vec![], vec![]),
            Err(DriverError::DimensionMismatch { expected: 1, found: 0 })
        );
        assert_eq!(
            Moments::new(3.0, vec![1.0, 2.0], vec![vec![1.0, 2.0]]),
            Err(DriverError::DimensionMismatch { expected: 2, found: 1 })
        );
        assert_eq!(
            Moments::new(3.0, vec![1.0, 2.0], vec![vec![1.0, 2.0], vec![2.0]]),
            Err(DriverError::DimensionMismatch { expected: 2, found: 1 })
        );
        assert_eq!(
            Moments::new(3.0, vec![1.0, 2.0], vec![vec![1.0, 2.0], vec![2.5, 4.0]]),
            Err(DriverError::AsymmetricCrossProducts { row: 0, col: 1 })
        );
        assert_eq!(
            Moments::new(f64::NAN, vec![1.0], vec![vec![1.0]]),
            Err(DriverError::InvalidMoment)
        );
        assert_eq!(
            Moments::new(-1.0, vec![1.0], vec![vec![1.0]]),
            Err(DriverError::InvalidMoment)
        );
        let nearly = Moments::new(4.0, vec![1.0, 2.0], vec![vec![1.0, 2.0], vec![2.0 + 1e-13, 4.0]]).unwrap();
        assert_eq!(nearly.cross()[0][1], nearly.cross()[1][0]);
        assert_eq!(nearly.attributes(), 1);
        assert_eq!(nearly.mean(1), Some(0.5));
        assert_eq!(nearly.mean(2), None);
        let moments = moments_from_rows(&survey_rows());
        assert_eq!(r_squared(&moments, &[3]), None);
        assert_eq!(r_squared(&moments, &[0, 0, 0]), r_squared(&moments, &[0]));
    }

    #[test]
    fn quadrant_uses_at_or_above_median_as_high() {
        assert_eq!(quadrant(30.0, 20.0, 8.0, 7.0), Quadrant::KeyStrength);
        assert_eq!(quadrant(30.0, 20.0, 6.0, 7.0), Quadrant::PriorityToImprove);
        assert_eq!(quadrant(10.0, 20.0, 8.0, 7.0), Quadrant::Maintain);
        assert_eq!(quadrant(10.0, 20.0, 6.0, 7.0), Quadrant::LowPriority);
        assert_eq!(quadrant(20.0, 20.0, 7.0, 7.0), Quadrant::KeyStrength);
        assert_eq!(quadrant(f64::NAN, 20.0, 7.0, 7.0), Quadrant::Maintain);
    }

    #[test]
    fn quadrants_use_medians() {
        let importance = [40.0, 30.0, 20.0, 10.0];
        let means = [6.0, 8.0, 9.0, 5.0];
        assert_eq!(
            quadrants(&importance, &means),
            Some(vec![
                Quadrant::PriorityToImprove,
                Quadrant::KeyStrength,
                Quadrant::Maintain,
                Quadrant::LowPriority,
            ])
        );
        assert_eq!(quadrants(&[], &[]), None);
        assert_eq!(quadrants(&[1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn binomial_is_exact_for_small_arguments() {
        assert_eq!(binomial(14, 7), 3432.0);
        assert_eq!(binomial(14, 0), 1.0);
        assert_eq!(binomial(14, 14), 1.0);
        assert_eq!(binomial(0, 0), 1.0);
    }

    fn dataset() -> impl Strategy<Value = Vec<Vec<f64>>> {
        (1usize..=5).prop_flat_map(|p| {
            let row = prop::collection::vec(1u8..=10, p + 1);
            prop::collection::vec(row, (p + 2)..40).prop_map(|rows| {
                rows.into_iter()
                    .map(|row| row.into_iter().map(f64::from).collect())
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn shapley_shares_sum_to_one_hundred(rows in dataset()) {
            let moments = moments_from_rows(&rows);
            let result = match shapley_decomposition(&moments) {
                Ok(result) => result,
                Err(DriverError::ZeroOutcomeVariance) => return Ok(()),
                Err(other) => return Err(TestCaseError::fail(other.to_string())),
            };
            prop_assert!((0.0..=1.0).contains(&result.r_squared));
            let total: f64 = result.shapley.iter().sum();
            prop_assert!((total - result.r_squared).abs() < 1e-12);
            prop_assert!(result.shapley.iter().all(|&v| v > -1e-12));
            if result.r_squared > 0.0 {
                let percent: f64 = result.importance.iter().sum();
                prop_assert!((percent - 100.0).abs() < 1e-9, "{percent}");
            }
            // Dropping an attribute can never raise R².
            let p = moments.attributes();
            for left_out in 0..p {
                let rest: Vec<usize> = (0..p).filter(|&j| j != left_out).collect();
                let reduced = r_squared(&moments, &rest).unwrap();
                prop_assert!(reduced <= result.r_squared + 1e-12);
            }
        }
    }
}
