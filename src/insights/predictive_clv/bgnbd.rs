//! The BG/NBD model of purchase frequency and dropout (Fader, Hardie and
//! Lee 2005), in day units, with lifetimes' formulas for its predictions.

use std::collections::HashMap;

use argmin::core::{CostFunction, Gradient};

use super::history::History;
use super::optimise::{exp_all, minimise_smooth};
use super::special::ln_hyp2f1;
use crate::error::Error;

/// Fitted BG/NBD parameters: purchase rates are Gamma(r, α) (α in days),
/// dropout probabilities Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Customers with the same (frequency, recency, T) have the same
/// likelihood: the fit evaluates each distinct triple once, weighted.
/// Recency and T are whole days, so they are kept as indices into a table
/// of ln(α + day) that each evaluation fills once.
#[derive(Debug, Clone)]
struct Triples {
    /// (x, t_x, T, customers), sorted by x.
    rows: Vec<(f64, usize, usize, f64)>,
    /// The largest T (and so recency) of any row.
    max_day: usize,
}

impl Triples {
    fn new(histories: &[History]) -> Self {
        let mut counts: HashMap<(i64, usize, usize), u32> = HashMap::new();
        let day = |days: i64| usize::try_from(days).unwrap_or(0);
        for history in histories {
            *counts
                .entry((history.frequency, day(history.recency), day(history.t)))
                .or_default() += 1;
        }
        let mut rows: Vec<_> = counts.into_iter().collect();
        rows.sort_unstable();
        let max_day = rows.iter().map(|((_, _, t), _)| *t).max().unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let rows = rows
            .into_iter()
            .map(|((x, t_x, t), n)| (x as f64, t_x, t, f64::from(n)))
            .collect();
        Self { rows, max_day }
    }
}

/// ln(e^a + e^b), without overflow.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let (max, min) = if a >= b { (a, b) } else { (b, a) };
    max + (min - max).exp().ln_1p()
}

/// Running sums over k = 0 … x−1 that give the frequency's part of the
/// log-likelihood and its derivatives for a whole-number x:
/// ln Γ(r+x) − ln Γ(r) = Σ ln(r+k) and
/// ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x) = Σ [ln(b+k) − ln(a+b+k)].
/// Advanced term by term as x grows (the fit's rows are sorted by x).
#[derive(Debug, Clone, Copy, Default)]
struct FrequencyTerms {
    /// The next k to add.
    next: f64,
    ln_r: f64,
    ln_b_over_ab: f64,
    /// ∂/∂r, ∂/∂a, ∂/∂b of the sums.
    d_r: f64,
    d_a: f64,
    d_b: f64,
}

impl FrequencyTerms {
    fn advance(&mut self, model: &BgNbd, x: f64) {
        let BgNbd { r, a, b, .. } = *model;
        while self.next < x {
            let k = self.next;
            self.ln_r += (r + k).ln();
            self.ln_b_over_ab += (b + k).ln() - (a + b + k).ln();
            self.d_r += 1.0 / (r + k);
            self.d_a -= 1.0 / (a + b + k);
            self.d_b += 1.0 / (b + k) - 1.0 / (a + b + k);
            self.next += 1.0;
        }
    }

    fn value(&self, model: &BgNbd) -> f64 {
        self.ln_r + model.r * model.alpha.ln() + self.ln_b_over_ab
    }
}

impl BgNbd {
    /// Maximum likelihood over the customers' histories (at least one).
    pub fn fit(histories: &[History]) -> Result<Self, Error> {
        let triples = Triples::new(histories);
        #[allow(clippy::cast_precision_loss)]
        let max_t = histories.iter().map(|h| h.t).max().unwrap_or(1).max(1) as f64;
        // lifetimes starts at 1 for every parameter on times scaled to
        // max T = 1, i.e. α = max T in days.
        let start = vec![0.0, max_t.ln(), 0.0, 0.0];
        let found = exp_all(&minimise_smooth(MeanNegativeLogLikelihood(triples), start)?);
        Ok(Self {
            r: found[0],
            alpha: found[1],
            a: found[2],
            b: found[3],
        })
    }

    /// One customer's log-likelihood (eq. 6 of the paper).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.frequency_part(x) + self.tail(x, t_x, t)
    }

    /// The part of the log-likelihood that depends on the frequency only:
    /// ln Γ(r+x) − ln Γ(r) + r ln α + ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) −
    /// ln Γ(a+b+x), summed as its [`FrequencyTerms`] (x is a whole number
    /// of days), which stays exact where a and b are large and the Γ
    /// differences cancel to noise.
    fn frequency_part(&self, x: f64) -> f64 {
        let mut terms = FrequencyTerms::default();
        terms.advance(self, x);
        terms.value(self)
    }

    /// The part of the log-likelihood that depends on recency and T:
    /// ln[(α+T)^−(r+x) + [x>0] a/(b+x−1) (α+t_x)^−(r+x)], as a log-sum-exp.
    fn tail(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        let a3 = -(r + x) * (alpha + t).ln();
        if x <= 0.0 {
            return a3;
        }
        let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
        log_add_exp(a3, a4)
    }

    /// The total log-likelihood over the histories.
    pub fn total_log_likelihood(&self, histories: &[History]) -> f64 {
        histories
            .iter()
            .map(|h| self.log_likelihood(h.x(), h.t_x(), h.t_days()))
            .sum()
    }

    /// E[purchases in (T, T + t]] for a customer with history (x, t_x, T):
    /// lifetimes' `conditional_expected_number_of_purchases_up_to_time`.
    pub fn expected_purchases(&self, days: f64, x: f64, t_x: f64, t: f64) -> f64 {
        if days <= 0.0 {
            return 0.0;
        }
        let Self { r, alpha, a, b } = *self;
        let (ha, hb, hc) = (r + x, b + x, a + b + x - 1.0);
        let z = days / (alpha + t + days);
        // Euler's transformation, lifetimes' fallback where the direct
        // series overflows: ₂F₁(a,b;c;z) = (1−z)^(c−a−b) ₂F₁(c−a,c−b;c;z).
        let ln_hyp = ln_hyp2f1(ha, hb, hc, z)
            .or_else(|| ln_hyp2f1(hc - ha, hc - hb, hc, z).map(|value| value + (hc - ha - hb) * (1.0 - z).ln()))
            .unwrap_or(f64::NAN);
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - (ln_hyp + (r + x) * ((alpha + t) / (alpha + days + t)).ln()).exp();
        let denominator = if x > 0.0 {
            1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        first * second / denominator
    }

    /// P(alive at T | x, t_x, T): lifetimes' `conditional_probability_alive`.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        let Self { r, alpha, a, b } = *self;
        let log_div = (r + x) * ((alpha + t) / (alpha + t_x)).ln() + (a / (b + x - 1.0)).ln();
        1.0 / (1.0 + log_div.exp())
    }
}

#[derive(Clone)]
struct MeanNegativeLogLikelihood(Triples);

impl MeanNegativeLogLikelihood {
    /// The mean negative log-likelihood at `log_params` and its gradient
    /// with respect to them, in one pass over the rows.
    ///
    /// The same sums as `log_likelihood`, arranged for 10⁵ rows and every
    /// evaluation of a fit: ln(α + day) and 1/(α + day) come from tables,
    /// and the terms that depend on the frequency alone are summed once per
    /// value (rows are sorted by it). With
    /// L = A1 + A2 + ln(e^A3 + [x>0] e^A4) per customer and w = the share of
    /// e^A4 in that sum, the derivatives are
    /// ∂L/∂r = Σ 1/(r+k) + ln α − (1−w) ln(α+T) − w ln(α+t_x),
    /// ∂L/∂α = r/α − (r+x) [(1−w)/(α+T) + w/(α+t_x)],
    /// ∂L/∂a = −Σ 1/(a+b+k) + w/a,
    /// ∂L/∂b = Σ [1/(b+k) − 1/(a+b+k)] − w/(b+x−1) (k = 0 … x−1, see
    /// [`FrequencyTerms`]), and ∂/∂ln p = p ∂/∂p.
    fn evaluate(&self, log_params: &[f64]) -> (f64, [f64; 4]) {
        let p = exp_all(log_params);
        let model = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        };
        let BgNbd { r, alpha, a, b } = model;
        #[allow(clippy::cast_precision_loss)]
        let days: Vec<f64> = (0..=self.0.max_day).map(|day| alpha + day as f64).collect();
        let ln_days: Vec<f64> = days.iter().map(|d| d.ln()).collect();
        let (ln_a, ln_alpha) = (a.ln(), alpha.ln());
        let (mut total, mut weight) = (0.0, 0.0);
        let mut gradient = [0.0; 4];
        let mut terms = FrequencyTerms::default();
        // Per frequency: its part of L and ln(a/(b+x−1)).
        let mut current = (f64::NAN, 0.0, 0.0);
        for &(x, t_x, t, n) in &self.0.rows {
            if x != current.0 {
                terms.advance(&model, x);
                current = (x, terms.value(&model), ln_a - (b + x - 1.0).ln());
            }
            let (_, frequency_part, ln_dropout_odds) = current;
            let a3 = -(r + x) * ln_days[t];
            let (tail, w) = if x > 0.0 {
                let a4 = ln_dropout_odds - (r + x) * ln_days[t_x];
                (log_add_exp(a3, a4), 1.0 / (1.0 + (a3 - a4).exp()))
            } else {
                (a3, 0.0)
            };
            total += n * (frequency_part + tail);
            weight += n;
            gradient[0] += n * (terms.d_r + ln_alpha - (1.0 - w) * ln_days[t] - w * ln_days[t_x]);
            gradient[1] += n * (r / alpha - (r + x) * ((1.0 - w) / days[t] + w / days[t_x]));
            gradient[2] += n * (terms.d_a + w / a);
            if x > 0.0 {
                gradient[3] += n * (terms.d_b - w / (b + x - 1.0));
            } else {
                gradient[3] += n * terms.d_b;
            }
        }
        for (g, p) in gradient.iter_mut().zip(&p) {
            *g *= -p / weight;
        }
        (-total / weight, gradient)
    }
}

impl CostFunction for MeanNegativeLogLikelihood {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(finite_or_worst(self.evaluate(log_params).0))
    }
}

impl Gradient for MeanNegativeLogLikelihood {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, log_params: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(log_params).1.to_vec())
    }
}

/// A cost the simplex can rank: a parameter vector whose likelihood is not
/// finite is as bad as possible.
pub fn finite_or_worst(cost: f64) -> f64 {
    if cost.is_finite() { cost } else { f64::MAX }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(frequency: i64, recency: i64, t: i64) -> History {
        History {
            customer_id: 0,
            region: String::new(),
            account_id: None,
            frequency,
            recency,
            t,
            monetary_value: 0.0,
        }
    }

    #[test]
    fn the_gradient_is_the_slope_of_the_likelihood() {
        let histories: Vec<History> = [
            (0, 0, 40),
            (2, 30, 90),
            (5, 200, 210),
            (1, 3, 400),
            (2, 30, 90),
            (9, 350, 360),
        ]
        .iter()
        .map(|&(x, t_x, t)| history(x, t_x, t))
        .collect();
        let cost = MeanNegativeLogLikelihood(Triples::new(&histories));
        let at = [0.3_f64.ln(), 40.0_f64.ln(), 0.8_f64.ln(), 2.5_f64.ln()];
        let (value, gradient) = cost.evaluate(&at);
        let model = BgNbd {
            r: 0.3,
            alpha: 40.0,
            a: 0.8,
            b: 2.5,
        };
        #[allow(clippy::cast_precision_loss)]
        let mean = -model.total_log_likelihood(&histories) / histories.len() as f64;
        assert!((value - mean).abs() < 1e-12, "{value} vs {mean}");
        for i in 0..4 {
            let h = 1e-6;
            let (mut up, mut down) = (at, at);
            up[i] += h;
            down[i] -= h;
            let slope = (cost.evaluate(&up).0 - cost.evaluate(&down).0) / (2.0 * h);
            assert!(
                (gradient[i] - slope).abs() < 1e-6,
                "parameter {i}: {} vs {slope}",
                gradient[i]
            );
        }
    }
}
