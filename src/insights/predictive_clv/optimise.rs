//! Maximum likelihood with argmin's Nelder-Mead: the models' parameters
//! are all positive, so the search runs over their logarithms (as lifetimes
//! does) and needs no bounds.

use argmin::core::{CostFunction, Executor, State};
use argmin::solver::neldermead::NelderMead;

use crate::error::Error;

/// Iterations per Nelder-Mead run. A well-posed fit converges in a few
/// hundred; more only walk along a ridge whose maximum is at infinity (for
/// example an as-of date long after the last order), where the likelihood
/// no longer changes.
const MAX_ITERS: u64 = 1_500;

/// The simplex has converged when its costs (mean negative log-likelihoods,
/// of order 10) differ by less than this standard deviation.
const SD_TOLERANCE: f64 = 1e-12;

/// Restarts from the best point with a fresh, smaller simplex: a simplex
/// that collapsed along one direction can stop short of the optimum, and a
/// restart costs little once it is close. A restart that gains nothing
/// ends the search.
const ROUNDS: [f64; 3] = [1.0, 0.1, 0.01];

/// Minimises `cost` (a function of the log-parameters) from `start`.
pub fn minimise<C>(cost: C, start: Vec<f64>) -> Result<Vec<f64>, Error>
where
    C: CostFunction<Param = Vec<f64>, Output = f64> + Clone,
{
    let mut best = start;
    let mut best_cost = f64::INFINITY;
    for step in ROUNDS {
        let mut simplex = vec![best.clone()];
        for index in 0..best.len() {
            let mut vertex = best.clone();
            vertex[index] += step;
            simplex.push(vertex);
        }
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(SD_TOLERANCE)
            .map_err(|error| fit_failed(&error))?;
        let result = Executor::new(cost.clone(), solver)
            .configure(|state| state.max_iters(MAX_ITERS))
            .run()
            .map_err(|error| fit_failed(&error))?;
        let state = result.state();
        let gain = best_cost - state.get_best_cost();
        best_cost = state.get_best_cost();
        best = state
            .get_best_param()
            .cloned()
            .ok_or_else(|| Error::Internal("the model fit found no parameters".to_owned()))?;
        if gain <= SD_TOLERANCE {
            break;
        }
    }
    Ok(best)
}

fn fit_failed(error: &argmin::core::Error) -> Error {
    Error::Internal(format!("the model fit failed: {error}"))
}

/// exp of each log-parameter.
pub fn exp_all(log_params: &[f64]) -> Vec<f64> {
    log_params.iter().map(|value| value.exp()).collect()
}
