//! Consumer tests of product touchpoints (DESIGN.md §3): approval per
//! test and variant with a Wilson interval, A/B comparisons with the
//! pooled two-proportion z-test, and `customerApproved` when the interval's
//! lower bound clears the approval threshold.

use chrono::{DateTime, Utc};
use entity::enums::ProductTouchpoint;
use sea_orm::ConnectionTrait;

use super::Definition;
use super::brand::compare_proportions;
use super::compare;
use super::delta::Delta;
use super::nps::CompareTo;
use super::scope::{Rows, Scope};
use super::stats::{Proportion, TwoProportionTest, proportion, two_proportion_z_test};
use crate::db::sql::{Keys, Sql};
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
    /// With `compareTo` ([`product_tests`] only): the approval against the
    /// compared window's tests of the same product and touchpoint.
    pub compared: Option<Delta>,
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

/// Which tests [`results_of`] reads.
#[derive(Debug, Clone, Copy)]
pub enum TestsOf<'a> {
    /// These tests.
    Tests(&'a [i64]),
    /// Every test of these products.
    Products(&'a [i64]),
}

/// The results of tests whatever their date (a product page's tests), by
/// the same definition as [`product_tests`]; in one statement.
pub async fn results_of(
    db: &impl ConnectionTrait,
    tests: TestsOf<'_>,
    approval_threshold: f64,
) -> Result<Vec<TestResult>, Error> {
    check_threshold(approval_threshold)?;
    let (column, ids) = match tests {
        TestsOf::Tests(ids) => ("t.id", ids),
        TestsOf::Products(ids) => ("t.product_id", ids),
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(db.get_database_backend());
    push_test_votes(&mut sql);
    sql.push(" WHERE ")
        .key_in(column, Keys::new(db.get_database_backend(), ids));
    read_test_results(db, sql, approval_threshold).await
}

/// Whether customers approved a touchpoint: the Wilson interval's lower
/// bound of its approval is at least the threshold. The one verdict every
/// field showing `customerApproved` uses.
pub fn customer_approved(approval: &Proportion, approval_threshold: f64) -> bool {
    approval.ci_low.is_some_and(|low| low >= approval_threshold)
}

/// Refuses a threshold outside 0..=1, naming `approvalThreshold`.
pub fn check_threshold(approval_threshold: f64) -> Result<(), Error> {
    if (0.0..=1.0).contains(&approval_threshold) {
        Ok(())
    } else {
        Err(Error::validation(
            "approvalThreshold",
            format!("{approval_threshold} is outside 0..=1"),
        ))
    }
}

/// The select list and joins of a test's vote counts; the caller adds the WHERE.
fn push_test_votes(sql: &mut Sql) {
    sql.push(
        "SELECT t.id, t.external_id, t.product_id, p.external_id AS product_external_id, t.touchpoint, t.variant, t.tested_at, \
         CAST(COUNT(v.id) AS BIGINT) AS n, CAST(COALESCE(SUM(CASE WHEN v.approved THEN 1 ELSE 0 END), 0) AS BIGINT) AS approved, \
         CAST(COUNT(v.rating) AS BIGINT) AS rating_n, CAST(COALESCE(SUM(v.rating), 0) AS BIGINT) AS rating_sum \
         FROM product_test t JOIN product p ON p.id = t.product_id LEFT JOIN product_test_vote v ON v.test_id = t.id",
    );
}

/// Groups, orders and reads the statement [`push_test_votes`] began.
async fn read_test_results(
    db: &impl ConnectionTrait,
    mut sql: Sql,
    approval_threshold: f64,
) -> Result<Vec<TestResult>, Error> {
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
            customer_approved: customer_approved(&approval, approval_threshold),
            approval,
            rating_n,
            mean_rating,
            compared: None,
        });
    }
    Ok(tests)
}

/// Every test run inside the window, optionally of one product; with
/// `compare_to`, each test's approval against the votes of the compared
/// window's tests of the same product and touchpoint, pooled (a test is
/// run once: the touchpoint is what is tested again).
pub async fn product_tests(
    db: &impl ConnectionTrait,
    scope: &Scope,
    product_id: Option<i64>,
    approval_threshold: f64,
    compare_to: Option<CompareTo>,
) -> Result<ProductTests, Error> {
    let mut current = product_tests_in(db, scope, product_id, approval_threshold).await?;
    let previous = compare::previous(scope, compare_to, |scope| async move {
        product_tests_in(db, &scope, product_id, approval_threshold).await
    });
    if let Some(previous) = previous.await? {
        for test in &mut current.tests {
            let (approved, votes) = previous
                .value
                .tests
                .iter()
                .filter(|earlier| earlier.product_id == test.product_id && earlier.touchpoint == test.touchpoint)
                .fold((0, 0), |(approved, votes), earlier| {
                    (approved + earlier.approval.count, votes + earlier.approval.n)
                });
            test.compared = Some(compare_proportions(
                previous.start(),
                (test.approval.count, test.approval.n),
                (approved, votes),
            ));
        }
        current.definition = previous.describe(current.definition);
    }
    Ok(current)
}

async fn product_tests_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    product_id: Option<i64>,
    approval_threshold: f64,
) -> Result<ProductTests, Error> {
    check_threshold(approval_threshold)?;
    let mut sql = Sql::new(db.get_database_backend());
    push_test_votes(&mut sql);
    sql.push(" WHERE t.tested_at >= ");
    sql.bind(scope.window.start())
        .push(" AND t.tested_at < ")
        .bind(scope.window.end());
    if let Some(product) = product_id {
        sql.push(" AND t.product_id = ").bind(product);
    }
    let tests = read_test_results(db, sql, approval_threshold).await?;
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

/// Whether customers approved every tested touchpoint of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductApproval {
    /// Touchpoints with at least one test.
    pub touchpoints_tested: i64,
    /// Touchpoints with at least one variant customers approved
    /// ([`customer_approved`]): a variant that can ship.
    pub touchpoints_approved: i64,
}

impl ProductApproval {
    /// True when at least one touchpoint was tested and each was approved.
    pub fn all_approved(&self) -> bool {
        self.touchpoints_tested > 0 && self.touchpoints_approved == self.touchpoints_tested
    }
}

/// The verdict over one product's test results.
pub fn product_approval(results: &[TestResult]) -> ProductApproval {
    let mut touchpoints: Vec<(ProductTouchpoint, bool)> = Vec::new();
    for result in results {
        match touchpoints
            .iter_mut()
            .find(|(touchpoint, _)| *touchpoint == result.touchpoint)
        {
            Some((_, approved)) => *approved |= result.customer_approved,
            None => touchpoints.push((result.touchpoint, result.customer_approved)),
        }
    }
    let count = |approved_only: bool| {
        i64::try_from(
            touchpoints
                .iter()
                .filter(|(_, approved)| *approved || !approved_only)
                .count(),
        )
        .unwrap_or(i64::MAX)
    };
    ProductApproval {
        touchpoints_tested: count(false),
        touchpoints_approved: count(true),
    }
}
