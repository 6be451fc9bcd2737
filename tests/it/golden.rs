//! Comparing API responses with the golden fixture's expected values.

use serde_json::Value;

/// Compares `actual` with `expected`, recording every difference under its
/// path. Only keys present in `expected` are compared. Two numbers of
/// which either is a float may differ by `tolerance(path, expected)`;
/// everything else must be equal.
pub fn compare(
    path: &str,
    expected: &Value,
    actual: &Value,
    differences: &mut Vec<String>,
    tolerance: &dyn Fn(&str, f64) -> f64,
) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                match actual.get(key) {
                    Some(found) => compare(&format!("{path}.{key}"), value, found, differences, tolerance),
                    None => differences.push(format!("{path}.{key}: missing")),
                }
            }
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if expected.len() != actual.len() {
                differences.push(format!(
                    "{path}: {} items expected, {} found",
                    expected.len(),
                    actual.len()
                ));
            }
            for (index, (e, a)) in expected.iter().zip(actual).enumerate() {
                compare(&format!("{path}[{index}]"), e, a, differences, tolerance);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.is_f64() || a.is_f64() => {
            let (e, a) = (e.as_f64().unwrap_or(f64::NAN), a.as_f64().unwrap_or(f64::NAN));
            let difference = (e - a).abs();
            if difference.is_nan() || difference > tolerance(path, e) {
                differences.push(format!("{path}: expected {e}, found {a}"));
            }
        }
        (e, a) if e == a => {}
        // Timestamps are equal when they are the same instant ("Z" or "+00:00").
        (Value::String(e), Value::String(a)) if same_instant(e, a) => {}
        (e, a) => differences.push(format!("{path}: expected {e}, found {a}")),
    }
}

fn same_instant(expected: &str, actual: &str) -> bool {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    parse(expected).is_some_and(|e| parse(actual) == Some(e))
}

/// expected-v2.json's tolerance for floats: relative 1e-6 with an absolute
/// floor of 1e-9 (fixtures README §6).
pub fn relative(_: &str, expected: f64) -> f64 {
    (1e-6 * expected.abs()).max(1e-9)
}

/// Fails with the first differences, if any.
pub fn assert_no_differences(what: &str, differences: &[String]) {
    assert!(
        differences.is_empty(),
        "{} difference(s) from {what}:\n{}",
        differences.len(),
        differences.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
