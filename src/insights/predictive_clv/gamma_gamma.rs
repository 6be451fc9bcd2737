//! The Gamma-Gamma model of spend per repeat purchase day (Fader, Hardie
//! and Lee 2005, "RFM and CLV"), with lifetimes' formulas.

use argmin::core::CostFunction;
use statrs::function::gamma::ln_gamma;

use super::bgnbd::finite_or_worst;
use super::history::History;
use super::optimise::{exp_all, minimise};
use crate::error::Error;

/// Fitted Gamma-Gamma parameters; `v` is in minor units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// The customers the model is fitted on: frequency > 0 and a positive
/// mean spend of the repeat days, as (x, m, ln m).
#[derive(Debug, Clone)]
struct Spenders {
    rows: Vec<(f64, f64, f64)>,
}

impl Spenders {
    fn new(histories: &[History]) -> Self {
        let mut rows: Vec<_> = histories
            .iter()
            .filter(|h| h.fits_gamma_gamma())
            .map(|h| (h.x(), h.monetary_value, h.monetary_value.ln()))
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { rows }
    }
}

impl GammaGamma {
    /// Maximum likelihood over the repeat customers; `None` when there are
    /// none (the model then has nothing to learn from).
    pub fn fit(histories: &[History]) -> Result<Option<Self>, Error> {
        let spenders = Spenders::new(histories);
        if spenders.rows.is_empty() {
            return Ok(None);
        }
        // lifetimes starts at p = q = v = 1; v in minor units is far from
        // 1, so start it at the mean spend instead (same optimum).
        #[allow(clippy::cast_precision_loss)]
        let mean = spenders.rows.iter().map(|row| row.1).sum::<f64>() / spenders.rows.len() as f64;
        let found = exp_all(&minimise(
            MeanNegativeLogLikelihood(spenders),
            vec![0.0, 0.0, mean.ln()],
        )?);
        Ok(Some(Self {
            p: found[0],
            q: found[1],
            v: found[2],
        }))
    }

    fn log_likelihood_parts(&self, x: f64, m: f64, ln_m: f64, frequency_part: f64) -> f64 {
        let Self { p, q, v } = *self;
        frequency_part + q * v.ln() + (p * x - 1.0) * ln_m + p * x * x.ln() - (p * x + q) * (x * m + v).ln()
    }

    fn frequency_part(&self, x: f64) -> f64 {
        let Self { p, q, .. } = *self;
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
    }

    /// The total log-likelihood over the customers it is fitted on.
    pub fn total_log_likelihood(&self, histories: &[History]) -> f64 {
        histories
            .iter()
            .filter(|h| h.fits_gamma_gamma())
            .map(|h| {
                let x = h.x();
                self.log_likelihood_parts(x, h.monetary_value, h.monetary_value.ln(), self.frequency_part(x))
            })
            .sum()
    }

    /// E[spend per purchase day | x, m]: lifetimes'
    /// `conditional_expected_average_profit` (the population mean for a
    /// customer without repeat days).
    pub fn expected_average_profit(&self, x: f64, monetary_value: f64) -> f64 {
        let Self { p, q, v } = *self;
        let individual_weight = p * x / (p * x + q - 1.0);
        let population_mean = v * p / (q - 1.0);
        (1.0 - individual_weight) * population_mean + individual_weight * monetary_value
    }
}

#[derive(Clone)]
struct MeanNegativeLogLikelihood(Spenders);

impl CostFunction for MeanNegativeLogLikelihood {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, argmin::core::Error> {
        let p = exp_all(log_params);
        let model = GammaGamma {
            p: p[0],
            q: p[1],
            v: p[2],
        };
        // `log_likelihood_parts` summed with what depends on the frequency
        // alone computed once per value (rows are sorted by it).
        let GammaGamma { p, q, v } = model;
        let q_ln_v = q * v.ln();
        let mut total = 0.0;
        let mut current = (f64::NAN, 0.0, 0.0);
        for &(x, m, ln_m) in &self.0.rows {
            if x != current.0 {
                current = (x, model.frequency_part(x) + q_ln_v + p * x * x.ln(), p * x);
            }
            let (_, constant, px) = current;
            total += constant + (px - 1.0) * ln_m - (px + q) * (x * m + v).ln();
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = -total / self.0.rows.len() as f64;
        Ok(finite_or_worst(mean))
    }
}
