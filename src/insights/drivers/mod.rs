//! Key driver analysis (DESIGN.md §3): which product attributes move the
//! outcome (purchase intent or NPS). SQL pivots each response's ratings
//! and returns only sums and cross-products per region ([`Moments`]); the
//! regression and the exact Shapley split of R² happen in [`shapley`].

pub mod shapley;

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;

use super::Definition;
use super::scope::{Rows, Scope};
use super::stats::{median, pearson_r};
use crate::db::sql::Sql;
use crate::error::Error;
pub use shapley::{MAX_ATTRIBUTES, Moments, Quadrant};

/// Sums and cross-products as SQL returns them, added up across regions
/// before they become [`Moments`]. Variables 0..p are the attributes and
/// p the outcome.
#[derive(Debug, Clone, PartialEq)]
struct Sums {
    n: f64,
    sum: Vec<f64>,
    cross: Vec<Vec<f64>>,
}

impl Sums {
    fn zero(attributes: usize) -> Self {
        Self {
            n: 0.0,
            sum: vec![0.0; attributes + 1],
            cross: vec![vec![0.0; attributes + 1]; attributes + 1],
        }
    }

    fn add(&mut self, other: &Sums) {
        self.n += other.n;
        for (mine, theirs) in self.sum.iter_mut().zip(&other.sum) {
            *mine += theirs;
        }
        for (my_row, their_row) in self.cross.iter_mut().zip(&other.cross) {
            for (mine, theirs) in my_row.iter_mut().zip(their_row) {
                *mine += theirs;
            }
        }
    }

    fn set_cross(&mut self, i: usize, j: usize, value: f64) {
        self.cross[i][j] = value;
        self.cross[j][i] = value;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    PurchaseIntent,
    NpsScore,
}

impl Outcome {
    fn column(self) -> &'static str {
        match self {
            Outcome::PurchaseIntent => "purchase_intent",
            Outcome::NpsScore => "nps_score",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AttributeDriver {
    pub attribute: String,
    /// Mean rating: how well the product performs on it.
    pub mean: f64,
    pub pearson_r: Option<f64>,
    /// The attribute's Shapley share of R² (sums to R² over attributes).
    pub shapley_r2: f64,
    /// 100 × shapley / R² (sums to 100).
    pub importance: f64,
    pub quadrant: Quadrant,
}

#[derive(Debug, Clone)]
pub struct DriverBlock {
    /// Complete cases: responses with the outcome and every attribute rated.
    pub n: i64,
    pub r_squared: Option<f64>,
    pub median_importance: Option<f64>,
    pub median_mean: Option<f64>,
    pub attributes: Vec<AttributeDriver>,
}

#[derive(Debug, Clone)]
pub struct PurchaseDrivers {
    pub outcome: Outcome,
    pub attributes: Vec<String>,
    pub overall: DriverBlock,
    pub by_region: Vec<(String, DriverBlock)>,
    pub definition: Definition,
}

/// Driver analysis of `outcome` on `attributes` (all rated attributes
/// when empty), overall and per response region.
pub async fn purchase_drivers(
    db: &impl ConnectionTrait,
    scope: &Scope,
    outcome: Outcome,
    attributes: &[String],
) -> Result<PurchaseDrivers, Error> {
    let attributes = if attributes.is_empty() {
        rated_attributes(db, scope).await?
    } else {
        attributes.to_vec()
    };
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(Error::validation(
            "attributes",
            format!(
                "{} attributes given; the exact Shapley split handles at most {MAX_ATTRIBUTES}",
                attributes.len()
            ),
        ));
    }
    let mut by_region = BTreeMap::new();
    if !attributes.is_empty() {
        by_region = region_moments(db, scope, outcome, &attributes).await?;
    }
    let mut overall = Sums::zero(attributes.len());
    for sums in by_region.values() {
        overall.add(sums);
    }
    let definition = scope
        .describe(
            Rows::People,
            Definition::new(
                "purchase_drivers",
                1,
                "over complete cases (outcome and every attribute rated): OLS of the outcome on the ratings with an \
             intercept; importance = the attribute's exact Shapley share of R² (average gain in R² over all orders \
             of the attributes), in % of R²; mean rating and Pearson r per attribute; quadrant by importance and \
             mean against their medians (a value at the median counts as high)",
            ),
        )
        .with_enum("outcome", outcome)
        .with("attributes", attributes.join(","));
    Ok(PurchaseDrivers {
        outcome,
        overall: block(&attributes, &overall)?,
        by_region: by_region
            .iter()
            .map(|(region, moments)| Ok((region.clone(), block(&attributes, moments)?)))
            .collect::<Result<_, Error>>()?,
        attributes,
        definition,
    })
}

/// The attributes rated in the window's responses, alphabetically.
async fn rated_attributes(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<String>, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT DISTINCT d.attribute FROM driver_rating d JOIN survey_response r ON r.id = d.response_id WHERE ");
    response_scope(&mut sql, scope);
    sql.push(" ORDER BY d.attribute");
    let mut attributes = Vec::new();
    for row in sql.all(db).await? {
        attributes.push(row.try_get::<String>("", "attribute")?);
    }
    Ok(attributes)
}

fn response_scope(sql: &mut Sql, scope: &Scope) {
    sql.push("r.responded_at >= ").bind(scope.window.start());
    sql.push(" AND r.responded_at < ").bind(scope.window.end());
    scope.response_filters(sql);
}

/// Sums and cross-products of the complete cases, per response region.
async fn region_moments(
    db: &impl ConnectionTrait,
    scope: &Scope,
    outcome: Outcome,
    attributes: &[String],
) -> Result<BTreeMap<String, Sums>, Error> {
    let p = attributes.len();
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("WITH pivot AS (SELECT r.id, r.region, r.")
        .push(outcome.column())
        .push(" AS v0");
    for (index, attribute) in attributes.iter().enumerate() {
        sql.push(", MAX(CASE WHEN d.attribute = ").bind(attribute.clone());
        sql.push(&format!(" THEN d.rating END) AS v{}", index + 1));
    }
    sql.push(" FROM survey_response r JOIN driver_rating d ON d.response_id = r.id WHERE r.");
    sql.push(outcome.column()).push(" IS NOT NULL AND ");
    response_scope(&mut sql, scope);
    sql.push(" GROUP BY r.id, r.region, r.").push(outcome.column());
    sql.push("), complete AS (SELECT * FROM pivot WHERE ");
    let complete: Vec<String> = (1..=p).map(|index| format!("v{index} IS NOT NULL")).collect();
    sql.push(&complete.join(" AND "));
    sql.push(") SELECT region, CAST(COUNT(*) AS BIGINT) AS n");
    // Variable 0 is the outcome, 1..=p the attributes.
    for i in 0..=p {
        sql.push(&format!(", CAST(SUM(v{i}) AS BIGINT) AS s{i}"));
        for j in i..=p {
            sql.push(&format!(", CAST(SUM(v{i} * v{j}) AS BIGINT) AS c{i}_{j}"));
        }
    }
    sql.push(" FROM complete GROUP BY region");
    let mut regions = BTreeMap::new();
    for row in sql.all(db).await? {
        let region: String = row.try_get("", "region")?;
        let n: i64 = row.try_get("", "n")?;
        let mut sums = Sums::zero(p);
        #[allow(clippy::cast_precision_loss)]
        let as_f64 = |value: i64| value as f64;
        sums.n = as_f64(n);
        for i in 0..=p {
            sums.sum[variable(i, p)] = as_f64(row.try_get("", &format!("s{i}"))?);
            for j in i..=p {
                sums.set_cross(
                    variable(i, p),
                    variable(j, p),
                    as_f64(row.try_get("", &format!("c{i}_{j}"))?),
                );
            }
        }
        regions.insert(region, sums);
    }
    Ok(regions)
}

/// SQL numbers the outcome 0 and attributes 1..=p; [`Sums`] numbers the
/// attributes 0..p and the outcome p.
fn variable(sql_index: usize, p: usize) -> usize {
    if sql_index == 0 { p } else { sql_index - 1 }
}

/// The analysis of one group. Too few complete cases or no variance in the
/// outcome give an empty block (n only), not an error.
fn block(attributes: &[String], sums: &Sums) -> Result<DriverBlock, Error> {
    #[allow(clippy::cast_possible_truncation)]
    let n = sums.n.round() as i64;
    let p = attributes.len();
    let empty = DriverBlock {
        n,
        r_squared: None,
        median_importance: None,
        median_mean: None,
        attributes: Vec::new(),
    };
    if p == 0 || n < 2 {
        return Ok(empty);
    }
    let moments = Moments::new(sums.n, sums.sum.clone(), sums.cross.clone())
        .map_err(|error| Error::Internal(format!("driver moments: {error}")))?;
    let Ok(result) = shapley::shapley_decomposition(&moments) else {
        return Ok(empty);
    };
    let means: Vec<f64> = (0..p).map(|i| sums.sum[i] / sums.n).collect();
    let median_importance = median(&result.importance);
    let median_mean = median(&means);
    let attributes = attributes
        .iter()
        .enumerate()
        .map(|(i, attribute)| AttributeDriver {
            attribute: attribute.clone(),
            mean: means[i],
            pearson_r: pearson_r(
                sums.n,
                sums.sum[i],
                sums.sum[p],
                sums.cross[i][i],
                sums.cross[p][p],
                sums.cross[i][p],
            ),
            shapley_r2: result.shapley[i],
            importance: result.importance[i],
            quadrant: shapley::quadrant(
                result.importance[i],
                median_importance.unwrap_or(f64::NAN),
                means[i],
                median_mean.unwrap_or(f64::NAN),
            ),
        })
        .collect();
    Ok(DriverBlock {
        n,
        r_squared: Some(result.r_squared),
        median_importance,
        median_mean,
        attributes,
    })
}
