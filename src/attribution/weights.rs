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
}

impl Model {
    pub const ALL: [Model; 5] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::TimeDecay,
        Model::PositionBased,
    ];
}

/// The weight of each touch, given each touch's age at the conversion in
/// days (oldest first). Empty when there are no touches.
pub fn weights(model: Model, ages_in_days: &[f64], half_life_days: f64) -> Vec<f64> {
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
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_splits() {
        assert_eq!(weights(Model::FirstTouch, &[3.0, 2.0, 1.0], 7.0), vec![1.0, 0.0, 0.0]);
        assert_eq!(weights(Model::LastTouch, &[3.0, 2.0, 1.0], 7.0), vec![0.0, 0.0, 1.0]);
        assert_eq!(weights(Model::PositionBased, &[3.0, 1.0], 7.0), vec![0.5, 0.5]);
        assert_eq!(
            weights(Model::PositionBased, &[4.0, 3.0, 2.0, 1.0], 7.0),
            vec![0.4, 0.1, 0.1, 0.4]
        );
        // A touch one half-life older weighs half as much.
        let decay = weights(Model::TimeDecay, &[8.0, 1.0], 7.0);
        assert!((decay[0] - 1.0 / 3.0).abs() < 1e-15 && (decay[1] - 2.0 / 3.0).abs() < 1e-15);
        assert!(weights(Model::Linear, &[], 7.0).is_empty());
    }

    proptest! {
        #[test]
        fn weights_sum_to_one(ages in proptest::collection::vec(0.0f64..90.0, 1..40), half_life in 0.5f64..30.0) {
            let mut ages = ages;
            ages.sort_by(|a, b| b.total_cmp(a));
            for model in Model::ALL {
                let weights = weights(model, &ages, half_life);
                let total: f64 = weights.iter().sum();
                prop_assert!((total - 1.0).abs() < 1e-12, "{model:?}: {total}");
                prop_assert!(weights.iter().all(|w| *w >= 0.0));
            }
        }
    }
}
