//! Gauss's hypergeometric function ₂F₁, which the BG/NBD expectation needs.
//!
//! statrs (already a dependency, used here for ln Γ) has no ₂F₁, and the
//! Rust crates that do (mathru, GSL bindings) bring a linear-algebra stack
//! or a C library for one function. The BG/NBD only ever evaluates it at
//! z = t / (α + T + t), so 0 ≤ z < 1 and all of a, b, c are positive: the
//! Gauss series converges there (its term ratio tends to z), every term is
//! positive so summing them loses no precision to cancellation, and we stop
//! once a term no longer changes the sum.

/// Terms summed at most; at z = 0.99 a term falls below 1e-16 of the sum
/// after a few thousand terms even for a and b in the hundreds.
const MAX_TERMS: usize = 200_000;

/// ln ₂F₁(a, b; c; z) for a, b, c > 0 and 0 ≤ z < 1, or `None` when the
/// series did not converge in [`MAX_TERMS`] or overflowed.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) || a <= 0.0 || b <= 0.0 || c <= 0.0 {
        return None;
    }
    // Sum in scaled form: `sum` is Σ terms / e^shift, so that huge
    // intermediate terms (large a and b near z = 1) do not overflow.
    let (mut term, mut sum, mut shift) = (1.0_f64, 1.0_f64, 0.0_f64);
    for k in 0..MAX_TERMS {
        #[allow(clippy::cast_precision_loss)]
        let k = k as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if sum > 1e250 {
            shift += sum.ln();
            term /= sum;
            sum = 1.0;
        }
        if term <= sum * f64::EPSILON * 0.5 {
            return Some(sum.ln() + shift);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z.
        for z in [0.1, 0.5, 0.9, 0.99] {
            let expected = (-(1.0_f64 - z).ln() / z).ln();
            let found = ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap_or(f64::NAN);
            assert!((found - expected).abs() < 1e-12, "z = {z}: {found} vs {expected}");
        }
        // ₂F₁(a, b; b; z) = (1 − z)^(−a).
        let found = ln_hyp2f1(30.5, 40.25, 40.25, 0.8).unwrap_or(f64::NAN);
        let expected = -30.5 * 0.2_f64.ln();
        assert!(
            (found - expected).abs() < 1e-10 * expected.abs(),
            "{found} vs {expected}"
        );
        assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, 0.0), Some(0.0));
        assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0), None);
    }
}
