//! Consumer tests of product touchpoints (DESIGN.md §3): approval per
//! test and variant with a Wilson interval, A/B comparisons with the
//! pooled two-proportion z-test, and `customerApproved` when the interval's
//! lower bound clears the approval threshold.

use chrono::{DateTime, Utc};
use entity::enums::ProductTouchpoint;
use sea_orm::ConnectionTrait;

use super::Definition;
use super::scope::{Rows, Scope};
use super::stats::{Proportion, TwoProportionTest, proportion, two_proportion_z_test};
use crate::db::sql::Sql;
use crate::error::Error;

/// The default approval threshold for `customerApproved`.
pub const DEFAULT_APPROVAL_THRESHOLD: f64 = 0.70;

#[derive(Debug, Clone)]
pub struct TestResult {
    pub test_id: i64,
    pub test_external_id: String,
    pub product_id: i64,
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub variant: String,
    pub tested_at: DateTime<Utc>,
    pub approval: Proportion,
    /// The interval's lower bound is at least the threshold.
    pub customer_approved: bool,
    pub rating_n: i64,
    pub mean_rating: Option<f64>,
}

/// Variant A of a touchpoint against another variant of it.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub product_external_id: String,
    pub touchpoint: ProductTouchpoint,
    pub test_a: String,
    pub test_b: String,
    pub a: Proportion,
    pub b: Proportion,
    pub test: TwoProportionTest,
}

#[derive(Debug, Clone)]
pub struct ProductTests {
    pub approval_threshold: f64,
    pub tests: Vec<TestResult>,
    pub comparisons: Vec<Comparison>,
    pub definition: Definition,
}

/// Every test run inside the window, optionally of one product.
pub async fn product_tests(
    db: &impl ConnectionTrait,
    scope: &Scope,
    product_id: Option<i64>,
    approval_threshold: f64,
) -> Result<ProductTests, Error> {
    if !(0.0..=1.0).contains(&approval_threshold) {
        return Err(Error::validation(
            "approvalThreshold",
            format!("{approval_threshold} is outside 0..=1"),
        ));
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT t.id, t.external_id, t.product_id, p.external_id AS product_external_id, t.touchpoint, t.variant, t.tested_at, \
         CAST(COUNT(v.id) AS BIGINT) AS n, CAST(COALESCE(SUM(CASE WHEN v.approved THEN 1 ELSE 0 END), 0) AS BIGINT) AS approved, \
         CAST(COUNT(v.rating) AS BIGINT) AS rating_n, CAST(COALESCE(SUM(v.rating), 0) AS BIGINT) AS rating_sum \
         FROM product_test t JOIN product p ON p.id = t.product_id LEFT JOIN product_test_vote v ON v.test_id = t.id \
         WHERE t.tested_at >= ",
    );
    sql.bind(scope.window.start())
        .push(" AND t.tested_at < ")
        .bind(scope.window.end());
    if let Some(product) = product_id {
        sql.push(" AND t.product_id = ").bind(product);
    }
    sql.push(
        " GROUP BY t.id, t.external_id, t.product_id, p.external_id, t.touchpoint, t.variant, t.tested_at ORDER BY ",
    );
    sql.byte_ordered("t.external_id");
    let mut tests = Vec::new();
    for row in sql.all(db).await? {
        let approval = proportion(row.try_get("", "approved")?, row.try_get("", "n")?);
        let rating_n: i64 = row.try_get("", "rating_n")?;
        let rating_sum: i64 = row.try_get("", "rating_sum")?;
        #[allow(clippy::cast_precision_loss)]
        let mean_rating = (rating_n > 0).then(|| rating_sum as f64 / rating_n as f64);
        tests.push(TestResult {
            test_id: row.try_get("", "id")?,
            test_external_id: row.try_get("", "external_id")?,
            product_id: row.try_get("", "product_id")?,
            product_external_id: row.try_get("", "product_external_id")?,
            touchpoint: row.try_get("", "touchpoint")?,
            variant: row.try_get("", "variant")?,
            tested_at: row.try_get("", "tested_at")?,
            customer_approved: approval.ci_low.is_some_and(|low| low >= approval_threshold),
            approval,
            rating_n,
            mean_rating,
        });
    }
    let mut comparisons = Vec::new();
    for a in tests.iter().filter(|test| test.variant == "A") {
        for b in tests
            .iter()
            .filter(|b| b.product_id == a.product_id && b.touchpoint == a.touchpoint && b.variant != "A")
        {
            comparisons.push(Comparison {
                product_external_id: a.product_external_id.clone(),
                touchpoint: a.touchpoint,
                test_a: a.test_external_id.clone(),
                test_b: b.test_external_id.clone(),
                a: a.approval,
                b: b.approval,
                test: two_proportion_z_test(a.approval.count, a.approval.n, b.approval.count, b.approval.n),
            });
        }
    }
    let definition = scope
        .describe(
            Rows::WindowOnly,
            Definition::new(
                "product_tests",
                1,
                "approval = approved votes / votes with a Wilson 95% interval; customerApproved when the lower bound \
             ≥ the threshold; variant A against each other variant of the same touchpoint with the pooled \
             two-proportion z-test (two-sided; positive z means A is better)",
            ),
        )
        .with("approvalThreshold", approval_threshold);
    Ok(ProductTests {
        approval_threshold,
        tests,
        comparisons,
        definition,
    })
}
