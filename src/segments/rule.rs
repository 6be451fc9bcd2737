//! Segment rules: a recursive condition over customers (`all`, `any`,
//! `not`, `trait`, `metric`, `inSegment`, and the behavioural leaves of
//! [`super::behaviour`]), checked against what exists and compiled into one
//! SQL condition on the customer row `c`, evaluated in the database.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::behaviour::{self, LeadStageCondition, Purchased, Responded, Sequence, Touched, Window};
use crate::db::sql::{PeriodUnit, Sql};
use crate::error::Error;
use crate::insights::period::index_of;

/// A segment rule, stored as JSON in `segment.rule` in this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Not(Box<Rule>),
    Trait(TraitCondition),
    Metric(MetricCondition),
    /// Members of another segment, by its id (evaluated from its rule).
    InSegment(i64),
    Touched(Touched),
    Purchased(Purchased),
    Responded(Responded),
    LeadStage(LeadStageCondition),
    Sequence(Sequence),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    Eq,
    Neq,
    In,
    NotIn,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    Exists,
}

impl Operator {
    pub(super) fn comparison(self) -> Option<&'static str> {
        match self {
            Operator::Eq => Some("="),
            Operator::Neq => Some("<>"),
            Operator::Gt => Some(">"),
            Operator::Gte => Some(">="),
            Operator::Lt => Some("<"),
            Operator::Lte => Some("<="),
            _ => None,
        }
    }
}

/// A condition on a customer field or a key of `traits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraitCondition {
    /// `region`, `country`, `acquisitionChannel`, or `traits.<key>`.
    pub field: String,
    pub operator: Operator,
    #[serde(default)]
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Metric {
    OrderCount,
    TotalSpend,
    DaysSinceLastOrder,
    Nps,
    RfmR,
    RfmF,
    RfmM,
    TouchpointCount,
}

/// A condition on a per-customer metric over the last `window_days` days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricCondition {
    pub metric: Metric,
    pub operator: Operator,
    pub value: f64,
    /// Days back from the evaluation day; `None` for all time.
    #[serde(default)]
    pub window_days: Option<i64>,
}

/// The customer columns a trait condition may name.
pub const FIELDS: [(&str, &str); 3] = [
    ("region", "region"),
    ("country", "country"),
    ("acquisitionChannel", "acquisition_channel"),
];

/// The deepest nesting accepted, so a rule cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

impl Rule {
    /// Every segment this rule refers to through `inSegment`.
    pub fn references(&self) -> Vec<i64> {
        let mut found = Vec::new();
        self.walk(&mut |rule| {
            if let Rule::InSegment(id) = rule {
                found.push(*id);
            }
        });
        found
    }

    fn walk(&self, visit: &mut impl FnMut(&Rule)) {
        visit(self);
        match self {
            Rule::All(rules) | Rule::Any(rules) => rules.iter().for_each(|rule| rule.walk(visit)),
            Rule::Not(rule) => rule.walk(visit),
            _ => {}
        }
    }

    /// Checks the rule's shape: operators that fit the field and value,
    /// known fields and metrics, sensible windows and depth.
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_at("rule", 0)
    }

    fn validate_at(&self, path: &str, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::validation(
                path,
                format!("rules nest at most {MAX_DEPTH} levels deep"),
            ));
        }
        match self {
            Rule::All(rules) | Rule::Any(rules) => {
                let kind = if matches!(self, Rule::All(_)) { "all" } else { "any" };
                if rules.is_empty() {
                    return Err(Error::validation(format!("{path}.{kind}"), "needs at least one rule"));
                }
                for (index, rule) in rules.iter().enumerate() {
                    rule.validate_at(&format!("{path}.{kind}[{index}]"), depth + 1)?;
                }
                Ok(())
            }
            Rule::Not(rule) => rule.validate_at(&format!("{path}.not"), depth + 1),
            Rule::Trait(condition) => condition.validate(&format!("{path}.trait")),
            Rule::Metric(condition) => condition.validate(&format!("{path}.metric")),
            Rule::InSegment(_) => Ok(()),
            Rule::Touched(leaf) => leaf.validate(&format!("{path}.touched"), false),
            Rule::Purchased(leaf) => leaf.validate(&format!("{path}.purchased"), false),
            Rule::Responded(leaf) => leaf.validate(&format!("{path}.responded"), false),
            Rule::LeadStage(leaf) => {
                behaviour::check_window(&format!("{path}.leadStage"), "windowDays", leaf.window_days)
            }
            Rule::Sequence(sequence) => sequence.validate(&format!("{path}.sequence")),
        }
    }
}

fn allowed_fields() -> String {
    let mut names: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
    names.push("traits.<key>");
    names.join(", ")
}

/// The largest magnitude a number in a rule may have: past any 64-bit
/// total, far from f64's limit. A rule is stored as JSON, and PostgreSQL
/// writes a number near f64::MAX back in a form that no longer reads as
/// one, which made such a segment unreadable (found by the fuzzer).
const MAX_RULE_NUMBER: f64 = 1e19;

pub(super) fn check_number(field: &str, number: f64) -> Result<(), Error> {
    if !number.is_finite() || number.abs() > MAX_RULE_NUMBER {
        return Err(Error::validation(
            field,
            format!("{number} is not a finite number within ±{MAX_RULE_NUMBER:e}"),
        ));
    }
    Ok(())
}

impl TraitCondition {
    fn validate(&self, path: &str) -> Result<(), Error> {
        let is_trait = self
            .field
            .strip_prefix("traits.")
            .is_some_and(|key| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let is_column = FIELDS.iter().any(|(name, _)| *name == self.field);
        if !is_trait && !is_column {
            return Err(Error::validation(
                format!("{path}.field"),
                format!(
                    "unknown field {:?}; allowed: {} (keys of letters, digits and _)",
                    self.field,
                    allowed_fields()
                ),
            ));
        }
        if let Some(number) = self.value.as_f64() {
            check_number(&format!("{path}.value"), number)?;
        }
        let value_error = |expected: &str| {
            Error::validation(
                format!("{path}.value"),
                format!("{} needs {expected}, got {}", operator_name(self.operator), self.value),
            )
        };
        match self.operator {
            Operator::Eq | Operator::Neq => {
                let fits = self.value.is_string() || (is_trait && (self.value.is_boolean() || self.value.is_number()));
                if !fits {
                    return Err(value_error(if is_trait {
                        "a string, number or boolean"
                    } else {
                        "a string"
                    }));
                }
            }
            Operator::In | Operator::NotIn => {
                let strings = self
                    .value
                    .as_array()
                    .is_some_and(|list| !list.is_empty() && list.iter().all(|v| v.is_string()));
                if !strings {
                    return Err(value_error("a non-empty list of strings"));
                }
            }
            Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
                if !is_trait || !self.value.is_number() {
                    return Err(Error::validation(
                        format!("{path}.operator"),
                        format!(
                            "{} compares numbers: it needs a traits.<key> field and a number value",
                            operator_name(self.operator)
                        ),
                    ));
                }
            }
            Operator::Contains => {
                if !is_trait || !self.value.is_string() {
                    return Err(Error::validation(
                        format!("{path}.operator"),
                        "CONTAINS tests a list in traits: it needs a traits.<key> field and a string value",
                    ));
                }
            }
            Operator::Exists => {
                if !is_trait {
                    return Err(Error::validation(
                        format!("{path}.operator"),
                        "EXISTS needs a traits.<key> field",
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(super) fn operator_name(operator: Operator) -> String {
    serde_json::to_value(operator)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl MetricCondition {
    fn validate(&self, path: &str) -> Result<(), Error> {
        if self.operator.comparison().is_none() {
            return Err(Error::validation(
                format!("{path}.operator"),
                format!(
                    "{} does not compare metrics; allowed: EQ, NEQ, GT, GTE, LT, LTE",
                    operator_name(self.operator)
                ),
            ));
        }
        check_number(&format!("{path}.value"), self.value)?;
        behaviour::check_window(path, "windowDays", self.window_days)?;
        if matches!(self.metric, Metric::RfmR | Metric::RfmF | Metric::RfmM) && !(1.0..=5.0).contains(&self.value) {
            return Err(Error::validation(format!("{path}.value"), "RFM scores run from 1 to 5"));
        }
        Ok(())
    }
}

/// Compiles rules into SQL conditions on the customer row `c`, as of `today`.
pub struct Compiler<'a> {
    pub today: NaiveDate,
    /// The rules of segments referenced through `inSegment`, already
    /// checked to form no cycle.
    pub segments: &'a HashMap<i64, Rule>,
}

impl Compiler<'_> {
    pub fn compile(&self, rule: &Rule, sql: &mut Sql) -> Result<(), Error> {
        self.compile_at(rule, sql, 0)
    }

    fn compile_at(&self, rule: &Rule, sql: &mut Sql, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH * 4 {
            return Err(Error::validation("rule", "segments refer to each other too deeply"));
        }
        match rule {
            Rule::All(rules) | Rule::Any(rules) => {
                let joiner = if matches!(rule, Rule::All(_)) { " AND " } else { " OR " };
                sql.push("(");
                for (index, rule) in rules.iter().enumerate() {
                    if index > 0 {
                        sql.push(joiner);
                    }
                    self.compile_at(rule, sql, depth + 1)?;
                }
                sql.push(")");
            }
            Rule::Not(rule) => {
                // NOT over a comparison with a NULL metric stays false, as the
                // customer has no such value; COALESCE makes it true instead.
                sql.push("(NOT COALESCE((");
                self.compile_at(rule, sql, depth + 1)?;
                sql.push("), FALSE))");
            }
            Rule::Trait(condition) => self.compile_trait(condition, sql),
            Rule::Metric(condition) => self.compile_metric(condition, sql),
            Rule::InSegment(id) => {
                let referenced = self
                    .segments
                    .get(id)
                    .ok_or_else(|| Error::validation("rule.inSegment", format!("segment {id} does not exist")))?;
                self.compile_at(referenced, sql, depth + 1)?;
            }
            Rule::Touched(_) | Rule::Purchased(_) | Rule::Responded(_) => {
                behaviour::compile_counted(rule, sql, self.today);
            }
            Rule::LeadStage(leaf) => behaviour::compile_lead_stage(leaf, sql, self.today),
            Rule::Sequence(sequence) => behaviour::compile_sequence(sequence, sql, self.today)?,
        }
        Ok(())
    }

    fn compile_trait(&self, condition: &TraitCondition, sql: &mut Sql) {
        let column = FIELDS
            .iter()
            .find(|(name, _)| *name == condition.field)
            .map(|(_, column)| format!("c.{column}"));
        let key = condition.field.strip_prefix("traits.").unwrap_or_default().to_owned();
        let text = |sql: &mut Sql| match &column {
            Some(column) => {
                sql.push(column);
            }
            None => {
                sql.json_text("c.traits", &key);
            }
        };
        match condition.operator {
            Operator::Eq | Operator::Neq => {
                let comparison = condition.operator.comparison().unwrap_or("=");
                sql.push("(");
                match &condition.value {
                    serde_json::Value::Bool(value) => {
                        sql.json_text("c.traits", &key);
                        sql.push(&format!(" {comparison} "))
                            .bind(if *value { "true" } else { "false" });
                    }
                    serde_json::Value::Number(number) => {
                        sql.json_number("c.traits", &key);
                        sql.push(&format!(" {comparison} "))
                            .bind(number.as_f64().unwrap_or(f64::NAN));
                    }
                    value => {
                        text(sql);
                        sql.push(&format!(" {comparison} "))
                            .bind(value.as_str().unwrap_or_default().to_owned());
                    }
                }
                sql.push(")");
            }
            Operator::In | Operator::NotIn => {
                sql.push("(");
                text(sql);
                sql.push(if condition.operator == Operator::In {
                    " IN ("
                } else {
                    " NOT IN ("
                });
                for (index, value) in condition.value.as_array().into_iter().flatten().enumerate() {
                    if index > 0 {
                        sql.push(", ");
                    }
                    sql.bind(value.as_str().unwrap_or_default().to_owned());
                }
                sql.push("))");
            }
            Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => {
                sql.push("(");
                sql.json_number("c.traits", &key);
                sql.push(&format!(" {} ", condition.operator.comparison().unwrap_or("=")));
                sql.bind(condition.value.as_f64().unwrap_or(f64::NAN)).push(")");
            }
            Operator::Contains => {
                sql.json_array_contains("c.traits", &key, condition.value.as_str().unwrap_or_default());
            }
            Operator::Exists => {
                sql.push("(");
                sql.json_text("c.traits", &key);
                sql.push(" IS NOT NULL)");
            }
        }
    }

    fn compile_metric(&self, condition: &MetricCondition, sql: &mut Sql) {
        let bounds = Window::new(self.today, condition.window_days);
        let since = bounds.since;
        let window = |sql: &mut Sql, column: &str| bounds.write(sql, column);
        let comparison = condition.operator.comparison().unwrap_or("=");
        if let Some(score) = match condition.metric {
            Metric::RfmR => Some("r"),
            Metric::RfmF => Some("f"),
            Metric::RfmM => Some("m"),
            _ => None,
        } {
            // Scores rank every customer against the others: computed once,
            // not per row.
            let from = since.map_or_else(
                || NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default(),
                |s| s.date_naive(),
            );
            let scope = crate::insights::scope::Scope::new(crate::insights::scope::Window { from, to: self.today });
            sql.push("(c.id IN (");
            crate::insights::customers::rfm_scored(sql, &scope);
            sql.push(&format!(" SELECT customer_id FROM scored WHERE {score} {comparison} "))
                .bind(condition.value)
                .push("))");
            return;
        }
        sql.push("((");
        match condition.metric {
            Metric::OrderCount => {
                sql.push("SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id");
                window(sql, "o.ordered_at");
            }
            Metric::TotalSpend => {
                sql.push("SELECT COALESCE(SUM(o.amount_minor), 0) FROM orders o WHERE o.customer_id = c.id");
                window(sql, "o.ordered_at");
            }
            Metric::DaysSinceLastOrder => {
                sql.bind(index_of(PeriodUnit::Day, self.today)).push(" - (SELECT MAX(");
                sql.day_index("o.ordered_at");
                sql.push(") FROM orders o WHERE o.customer_id = c.id");
                window(sql, "o.ordered_at");
                sql.push(")");
                sql.push(") ");
                sql.push(comparison).push(" ").bind(condition.value).push(")");
                return;
            }
            Metric::Nps => {
                sql.push(
                    "SELECT r.nps_score FROM survey_response r WHERE r.customer_id = c.id AND r.nps_score IS NOT NULL",
                );
                window(sql, "r.responded_at");
                sql.push(" ORDER BY r.responded_at DESC LIMIT 1");
            }
            Metric::TouchpointCount => {
                sql.push("SELECT COUNT(*) FROM touchpoint t WHERE t.customer_id = c.id");
                window(sql, "t.occurred_at");
            }
            Metric::RfmR | Metric::RfmF | Metric::RfmM => {}
        }
        sql.push(") ")
            .push(comparison)
            .push(" ")
            .bind(condition.value)
            .push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Rule {
        serde_json::from_str(json).unwrap_or(Rule::All(Vec::new()))
    }

    #[test]
    fn rules_read_in_the_one_of_shape() {
        let rule =
            parse(r#"{"all":[{"trait":{"field":"region","operator":"EQ","value":"UK"}},{"not":{"inSegment":7}}]}"#);
        assert_eq!(rule.references(), vec![7]);
        assert_eq!(rule.validate().ok(), Some(()));
    }

    #[test]
    fn mistakes_name_the_path_and_what_is_allowed() {
        let unknown = parse(r#"{"any":[{"trait":{"field":"colour","operator":"EQ","value":"red"}}]}"#);
        let error = unknown.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.starts_with("rule.any[0].trait.field") && error.contains("region"),
            "{error}"
        );
        let mismatch = parse(r#"{"trait":{"field":"region","operator":"IN","value":"UK"}}"#);
        assert!(
            mismatch
                .validate()
                .is_err_and(|e| e.to_string().contains("list of strings"))
        );
        let operator = parse(r#"{"metric":{"metric":"ORDER_COUNT","operator":"CONTAINS","value":1}}"#);
        assert!(operator.validate().is_err_and(|e| e.to_string().contains("GTE")));
        assert!(parse(r#"{"all":[]}"#).validate().is_err());
    }
}
