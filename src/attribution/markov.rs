//! Data-driven attribution: a first-order absorbing Markov chain over touch
//! states (channels, or teams) and each state's removal effect.
//!
//! Paths are START → the states of a conversion's touches → CONVERSION,
//! and START → a customer's touches that lead to no conversion → NULL.
//! Transition probabilities are counts over outgoing counts. The
//! probability of reaching CONVERSION from START is solved exactly from
//! `(I − Q) B = R` (Q: transient to transient, R: transient to
//! CONVERSION) with nalgebra's LU decomposition, not simulated. A state's
//! removal effect is `1 − P(conversion with every transition into the
//! state sent to NULL) / P(conversion)`; credit is split in proportion to
//! the removal effects.

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};

/// Where a transition goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum To {
    State(usize),
    Conversion,
    Null,
}

/// Transition counts over the states of one kind. Transient state 0 is
/// START; state `i` of [`Chain::states`] is transient state `i + 1`.
#[derive(Debug, Clone)]
pub struct Chain {
    pub states: Vec<String>,
    index: HashMap<String, usize>,
    counts: HashMap<(usize, To), u64>,
    pub paths: u64,
    pub conversion_paths: u64,
}

impl Chain {
    pub fn new(states: Vec<String>) -> Self {
        let index = states.iter().enumerate().map(|(i, state)| (state.clone(), i)).collect();
        Self {
            states,
            index,
            counts: HashMap::new(),
            paths: 0,
            conversion_paths: 0,
        }
    }

    /// Adds one path through `states` (in time order), ending in a
    /// conversion or not. A state the chain does not know is skipped.
    pub fn add_path<'a>(&mut self, states: impl IntoIterator<Item = &'a str>, converted: bool) {
        let mut from = 0;
        for state in states {
            let Some(&i) = self.index.get(state) else { continue };
            *self.counts.entry((from, To::State(i))).or_default() += 1;
            from = i + 1;
        }
        let end = if converted { To::Conversion } else { To::Null };
        *self.counts.entry((from, end)).or_default() += 1;
        self.paths += 1;
        self.conversion_paths += u64::from(converted);
    }

    /// P(CONVERSION | START), with the transitions into `removed` sent to NULL.
    fn p_conversion(&self, removed: Option<usize>) -> f64 {
        let n = self.states.len() + 1;
        let mut outgoing = vec![0u64; n];
        for (&(from, _), &count) in &self.counts {
            outgoing[from] += count;
        }
        let mut q = DMatrix::<f64>::zeros(n, n);
        let mut r = DVector::<f64>::zeros(n);
        #[allow(clippy::cast_precision_loss)]
        for (&(from, to), &count) in &self.counts {
            let p = count as f64 / outgoing[from] as f64;
            match to {
                To::State(i) if Some(i) == removed => {}
                To::State(i) => q[(from, i + 1)] += p,
                To::Conversion => r[from] += p,
                To::Null => {}
            }
        }
        // A state no path reaches has no outgoing transitions: its row of
        // I − Q is the identity's, so the system stays regular.
        let system = DMatrix::<f64>::identity(n, n) - q;
        system.lu().solve(&r).map_or(0.0, |b| b[0])
    }

    /// P(CONVERSION | START) of the whole chain.
    pub fn conversion_probability(&self) -> f64 {
        self.p_conversion(None)
    }

    /// Each state's removal effect; 0 for a state that never occurs, and
    /// every effect 0 when nothing converts.
    pub fn removal_effects(&self) -> Vec<f64> {
        let whole = self.conversion_probability();
        (0..self.states.len())
            .map(|i| {
                let occurs = self.counts.keys().any(|&(_, to)| to == To::State(i));
                if whole > 0.0 && occurs {
                    1.0 - self.p_conversion(Some(i)) / whole
                } else {
                    0.0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_effects_of_a_small_chain_match_the_hand_solution() {
        // START → a → CONV, START → a → b → NULL, START → b → CONV.
        let mut chain = Chain::new(vec!["a".to_owned(), "b".to_owned()]);
        chain.add_path(["a"], true);
        chain.add_path(["a", "b"], false);
        chain.add_path(["b"], true);
        // P(a) = 2/3, P(b) = 1/3 from START; a: 1/2 CONV, 1/2 → b; b: 1/2
        // CONV, 1/2 NULL. P = 2/3·(1/2 + 1/2·1/2) + 1/3·1/2 = 2/3.
        let p = chain.conversion_probability();
        assert!((p - 2.0 / 3.0).abs() < 1e-12, "{p}");
        // Without a: only START → b → CONV at 1/3·1/2 = 1/6: effect 3/4.
        // Without b: 2/3·1/2 = 1/3: effect 1/2.
        let effects = chain.removal_effects();
        assert!(
            (effects[0] - 0.75).abs() < 1e-12 && (effects[1] - 0.5).abs() < 1e-12,
            "{effects:?}"
        );
    }

    #[test]
    fn self_loops_and_unknown_states_leave_absorption_alone() {
        let mut chain = Chain::new(vec!["a".to_owned(), "never".to_owned()]);
        chain.add_path(["a", "a", "a", "elsewhere"], true);
        chain.add_path(["a"], false);
        assert!((chain.conversion_probability() - 0.5).abs() < 1e-12);
        assert_eq!(chain.removal_effects(), vec![1.0, 0.0]);
    }
}
