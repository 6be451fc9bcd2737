//! How each attribution model splits one conversion among its touches
//! (DESIGN.md §3). Pure functions: the weights of a conversion always sum
//! to 1, so its credits always sum to its value.

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    FirstTouch,
    LastTouch,
    Linear,
    TimeDecay,
    PositionBased,
    /// 30% to each milestone touch (the first, the last before the lead was
    /// created, the last before it became an opportunity), 10% over the
    /// rest; only for conversions with milestones (WON leads).
    WShaped,
    /// Data-driven: credit in proportion to each state's removal effect in
    /// an absorbing Markov chain over every path ([`super::markov`]); it
    /// weighs no single conversion's touches, so it is not in [`Model::ALL`].
    Markov,
}

impl Model {
    /// The models that split each conversion over its own touches.
    pub const ALL: [Model; 6] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::TimeDecay,
        Model::PositionBased,
        Model::WShaped,
    ];

    /// Whether the model needs a conversion's milestones.
    pub fn needs_milestones(self) -> bool {
        self == Model::WShaped
    }
}

/// Where a lead's milestones fall among its conversion's touches: the
/// index of the last touch strictly before each, `None` when no touch
/// precedes it (the role is missing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    pub lead_created: Option<usize>,
    pub opportunity_created: Option<usize>,
}

impl Milestones {
    /// Which of W_SHAPED's three roles no touch holds
    /// (`[FIRST, LEAD_CREATED, OPPORTUNITY_CREATED]`), for `n` touches.
    pub fn missing(self, n: usize) -> [bool; 3] {
        [n == 0, self.lead_created.is_none(), self.opportunity_created.is_none()]
    }
}

/// The weight of each touch, given each touch's age at the conversion in
/// days (oldest first). Empty when there are no touches, and for MARKOV,
/// which weighs the chain of every path instead.
pub fn weights(model: Model, ages_in_days: &[f64], half_life_days: f64, milestones: Milestones) -> Vec<f64> {
    let n = ages_in_days.len();
    if n == 0 {
        return Vec::new();
    }
    let mut weights = vec![0.0; n];
    #[allow(clippy::cast_precision_loss)]
    let count = n as f64;
    match model {
        Model::FirstTouch => weights[0] = 1.0,
        Model::LastTouch => weights[n - 1] = 1.0,
        Model::Linear => weights.fill(1.0 / count),
        Model::TimeDecay => {
            // 2^(−age/half-life), normalised. Relative to the youngest touch
            // so that old touches cannot underflow all weights to zero.
            let youngest = ages_in_days.iter().copied().fold(f64::INFINITY, f64::min);
            for (weight, age) in weights.iter_mut().zip(ages_in_days) {
                *weight = (-(age - youngest) / half_life_days).exp2();
            }
            let total: f64 = weights.iter().sum();
            weights.iter_mut().for_each(|weight| *weight /= total);
        }
        Model::PositionBased => match n {
            1 => weights[0] = 1.0,
            2 => weights.fill(0.5),
            _ => {
                weights.fill(0.2 / (count - 2.0));
                weights[0] = 0.4;
                weights[n - 1] = 0.4;
            }
        },
        Model::WShaped => w_shaped(&mut weights, milestones),
        Model::Markov => return Vec::new(),
    }
    weights
}

/// Each present role gets 30% and shares a missing role's 30% evenly with
/// the other present roles; 10% goes evenly to the touches holding no
/// role, or to the roles when every touch holds one. A touch holding
/// several roles gets all their shares.
fn w_shaped(weights: &mut [f64], milestones: Milestones) {
    let n = weights.len();
    let roles: Vec<usize> = [Some(0), milestones.lead_created, milestones.opportunity_created]
        .into_iter()
        .flatten()
        .filter(|&touch| touch < n)
        .collect();
    let others: Vec<usize> = (0..n).filter(|touch| !roles.contains(touch)).collect();
    #[allow(clippy::cast_precision_loss)]
    let role_count = roles.len() as f64;
    let role_share = if others.is_empty() { 1.0 } else { 0.9 } / role_count;
    for &touch in &roles {
        weights[touch] += role_share;
    }
    #[allow(clippy::cast_precision_loss)]
    let other_share = 0.1 / others.len().max(1) as f64;
    for &touch in &others {
        weights[touch] += other_share;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONE: Milestones = Milestones {
        lead_created: None,
        opportunity_created: None,
    };

    fn w(n: usize, lead_created: Option<usize>, opportunity_created: Option<usize>) -> Vec<f64> {
        let ages: Vec<f64> = (0..n).rev().map(|age| age as f64).collect();
        let milestones = Milestones {
            lead_created,
            opportunity_created,
        };
        weights(Model::WShaped, &ages, 7.0, milestones)
            .into_iter()
            .map(|weight| (weight * 1e12).round() / 1e12)
            .collect()
    }

    #[test]
    fn w_shaped_gives_milestones_thirty_percent_and_the_rest_ten() {
        // Three roles on three of five touches.
        assert_eq!(w(5, Some(2), Some(4)), vec![0.3, 0.05, 0.3, 0.05, 0.3]);
        // A missing role's share goes to the present roles.
        assert_eq!(w(3, None, Some(2)), vec![0.45, 0.1, 0.45]);
        // One touch holding every role; and every touch holding a role.
        assert_eq!(w(1, Some(0), Some(0)), vec![1.0]);
        assert_eq!(w(2, Some(0), Some(1)), vec![0.666_666_666_667, 0.333_333_333_333]);
        // Only the first touch holds a role: 90% to it, 10% over the others.
        assert_eq!(w(3, None, None), vec![0.9, 0.05, 0.05]);
    }

    #[test]
    fn known_splits() {
        assert_eq!(
            weights(Model::FirstTouch, &[3.0, 2.0, 1.0], 7.0, NONE),
            vec![1.0, 0.0, 0.0]
        );
        assert_eq!(
            weights(Model::LastTouch, &[3.0, 2.0, 1.0], 7.0, NONE),
            vec![0.0, 0.0, 1.0]
        );
        assert_eq!(weights(Model::PositionBased, &[3.0, 1.0], 7.0, NONE), vec![0.5, 0.5]);
        assert_eq!(
            weights(Model::PositionBased, &[4.0, 3.0, 2.0, 1.0], 7.0, NONE),
            vec![0.4, 0.1, 0.1, 0.4]
        );
        // A touch one half-life older weighs half as much.
        let decay = weights(Model::TimeDecay, &[8.0, 1.0], 7.0, NONE);
        assert!((decay[0] - 1.0 / 3.0).abs() < 1e-15 && (decay[1] - 2.0 / 3.0).abs() < 1e-15);
        assert!(weights(Model::Linear, &[], 7.0, NONE).is_empty());
    }

    proptest! {
        #[test]
        fn weights_sum_to_one(
            ages in proptest::collection::vec(0.0f64..90.0, 1..40),
            half_life in 0.5f64..30.0,
            lead_created in proptest::option::of(0usize..40),
            opportunity_created in proptest::option::of(0usize..40),
        ) {
            let mut ages = ages;
            ages.sort_by(|a, b| b.total_cmp(a));
            let milestones = Milestones {
                lead_created: lead_created.map(|i| i % ages.len()),
                opportunity_created: opportunity_created.map(|i| i % ages.len()),
            };
            for model in Model::ALL {
                let weights = weights(model, &ages, half_life, milestones);
                let total: f64 = weights.iter().sum();
                prop_assert!((total - 1.0).abs() < 1e-12, "{model:?}: {total}");
                prop_assert!(weights.iter().all(|w| *w >= 0.0));
            }
        }
    }
}
