//! Behavioural rule leaves: what a customer did, read from their
//! touchpoints, orders, survey responses and leads — `touched`,
//! `purchased`, `responded`, `leadStage` — and `sequence` ("A then B
//! within N days", "A and no B within N days"). Each compiles into one
//! condition on the customer row `c`, so a rule stays one SQL condition
//! however many leaves it has.
//!
//! The conditions are set-based — `c.id IN (SELECT customer_id … [GROUP BY
//! customer_id HAVING …])` — so the database scans each leaf's events once
//! and hashes the matching customers, rather than probing the events of
//! every customer in turn (on the large data set a three-leaf rule went
//! from 8.5 s to a fraction of it). Only a count or amount that zero
//! satisfies (`count: {operator: LT, value: 2}`) stays a per-customer
//! subquery, since a set of customers *with* events cannot hold those with
//! none.
//!
//! Windows are those of the `metric` leaf: `windowDays: N` keeps events
//! from the start of the day N days before the evaluation day to the end
//! of the evaluation day; without it, every event up to the end of the
//! evaluation day counts.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use entity::enums::{LeadSourceTeam, LeadStage, SurveyKind, Team, TouchpointKind};
use serde::{Deserialize, Serialize};

use super::rule::{Operator, Rule, check_number, operator_name};
use crate::db::sql::Sql;
use crate::error::Error;

/// The widest window and the longest sequence gap accepted, in days.
pub const MAX_DAYS: i64 = 3650;

/// A count or amount compared with a number (`GTE 3`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub operator: Operator,
    pub value: f64,
}

impl Comparison {
    /// Whether `value` satisfies the comparison, as SQL would decide it.
    fn holds(self, value: f64) -> bool {
        match self.operator {
            Operator::Eq => value == self.value,
            Operator::Neq => value != self.value,
            Operator::Gt => value > self.value,
            Operator::Gte => value >= self.value,
            Operator::Lt => value < self.value,
            Operator::Lte => value <= self.value,
            _ => false,
        }
    }
}

/// Touchpoints matching every filter given; by default at least one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Touched {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TouchpointKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Team>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A campaign's row id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<i64>,
    /// How many touchpoints; at least one when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i64>,
}

/// Orders holding a line of the product (or of a product of the
/// category); by default at least one such order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchased {
    /// A product's row id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// How many orders hold a matching line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Comparison>,
    /// The amount of the matching lines (quantity × unit amount), in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i64>,
}

/// The NPS categories of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NpsCategory {
    /// 9–10.
    Promoter,
    /// 7–8.
    Passive,
    /// 0–6.
    Detractor,
}

impl NpsCategory {
    fn scores(self) -> (i32, i32) {
        match self {
            NpsCategory::Promoter => (9, 10),
            NpsCategory::Passive => (7, 8),
            NpsCategory::Detractor => (0, 6),
        }
    }
}

/// NPS scores from `min` to `max`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreRange {
    pub min: i32,
    pub max: i32,
}

/// Survey responses matching every filter given; by default at least one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Responded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_kind: Option<SurveyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_category: Option<NpsCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_score: Option<ScoreRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i64>,
}

/// A lead of the customer that reached `stage` (or a later one, as the
/// revenue cycle counts it) inside the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadStageCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_team: Option<LeadSourceTeam>,
    pub stage: LeadStage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SequenceMode {
    /// A `first` event followed by a `then` event within the days.
    #[default]
    Followed,
    /// A `first` event with no `then` event in the days after it (up to
    /// the evaluation day: the days need not have passed yet).
    NotFollowed,
}

/// "A then B within N days" or "A and no B within N days": A and B are
/// `touched`, `purchased` or `responded` leaves without count or amount,
/// each matching single events. "Then" is strictly later, at most
/// `within_days` × 24 hours after A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sequence {
    pub first: Box<Rule>,
    pub then: Box<Rule>,
    pub within_days: i64,
    #[serde(default)]
    pub mode: SequenceMode,
}

/// A row that a rule names by id or value and that must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    Campaign(i64),
    Product(i64),
    Category(String),
}

pub fn check_window(path: &str, field: &str, days: Option<i64>) -> Result<(), Error> {
    match days {
        Some(days) if !(1..=MAX_DAYS).contains(&days) => Err(Error::validation(
            format!("{path}.{field}"),
            format!("{days} is outside 1..={MAX_DAYS}"),
        )),
        _ => Ok(()),
    }
}

fn check_comparison(path: &str, comparison: Option<&Comparison>) -> Result<(), Error> {
    let Some(comparison) = comparison else {
        return Ok(());
    };
    if comparison.operator.comparison().is_none() {
        return Err(Error::validation(
            format!("{path}.operator"),
            format!(
                "{} does not compare numbers; allowed: EQ, NEQ, GT, GTE, LT, LTE",
                operator_name(comparison.operator)
            ),
        ));
    }
    check_number(&format!("{path}.value"), comparison.value)
}

fn check_text(path: &str, text: Option<&String>) -> Result<(), Error> {
    match text {
        Some(text) if text.trim().is_empty() => Err(Error::validation(path, "must not be empty")),
        _ => Ok(()),
    }
}

/// Refuses `count` (and `amountMinor`) on a sequence step: a step matches
/// single events.
fn single_events(path: &str, fields: &[(&str, bool)]) -> Result<(), Error> {
    match fields.iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(Error::validation(
            format!("{path}.{field}"),
            "a sequence step matches single events: leave it out",
        )),
        None => Ok(()),
    }
}

impl Touched {
    pub fn validate(&self, path: &str, in_sequence: bool) -> Result<(), Error> {
        check_text(&format!("{path}.channel"), self.channel.as_ref())?;
        check_comparison(&format!("{path}.count"), self.count.as_ref())?;
        check_window(path, "windowDays", self.window_days)?;
        if in_sequence {
            single_events(path, &[("count", self.count.is_some())])?;
        }
        Ok(())
    }
}

impl Purchased {
    pub fn validate(&self, path: &str, in_sequence: bool) -> Result<(), Error> {
        if self.product.is_some() && self.category.is_some() {
            return Err(Error::validation(
                format!("{path}.category"),
                "give a product or a category, not both",
            ));
        }
        if self.count.is_some() && self.amount_minor.is_some() {
            return Err(Error::validation(
                format!("{path}.amountMinor"),
                "compare the count or the amount, not both",
            ));
        }
        check_text(&format!("{path}.category"), self.category.as_ref())?;
        check_comparison(&format!("{path}.count"), self.count.as_ref())?;
        check_comparison(&format!("{path}.amountMinor"), self.amount_minor.as_ref())?;
        check_window(path, "windowDays", self.window_days)?;
        if in_sequence {
            single_events(
                path,
                &[
                    ("count", self.count.is_some()),
                    ("amountMinor", self.amount_minor.is_some()),
                ],
            )?;
        }
        Ok(())
    }
}

impl Responded {
    pub fn validate(&self, path: &str, in_sequence: bool) -> Result<(), Error> {
        if let Some(range) = self.nps_score {
            if self.nps_category.is_some() {
                return Err(Error::validation(
                    format!("{path}.npsScore"),
                    "give an NPS category or a score range, not both",
                ));
            }
            if !(0..=10).contains(&range.min) || !(0..=10).contains(&range.max) || range.min > range.max {
                return Err(Error::validation(
                    format!("{path}.npsScore"),
                    format!("{}..={} is not a range within 0..=10", range.min, range.max),
                ));
            }
        }
        check_comparison(&format!("{path}.count"), self.count.as_ref())?;
        check_window(path, "windowDays", self.window_days)?;
        if in_sequence {
            single_events(path, &[("count", self.count.is_some())])?;
        }
        Ok(())
    }
}

impl Sequence {
    pub fn validate(&self, path: &str) -> Result<(), Error> {
        check_window(path, "withinDays", Some(self.within_days))?;
        for (step, rule) in [("first", &self.first), ("then", &self.then)] {
            let at = format!("{path}.{step}");
            match rule.as_ref() {
                Rule::Touched(leaf) => leaf.validate(&format!("{at}.touched"), true)?,
                Rule::Purchased(leaf) => leaf.validate(&format!("{at}.purchased"), true)?,
                Rule::Responded(leaf) => leaf.validate(&format!("{at}.responded"), true)?,
                Rule::Sequence(_) => {
                    return Err(Error::validation(
                        format!("{at}.sequence"),
                        "a sequence cannot hold another sequence; its steps are touched, purchased or responded leaves",
                    ));
                }
                _ => {
                    return Err(Error::validation(
                        at,
                        "a sequence step is a touched, purchased or responded leaf",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The rows `rule`'s own behavioural leaves name, each with its path, to
/// be checked against the database ([`super::check_named`]).
pub fn named_rows(rule: &Rule, path: &str, found: &mut Vec<(String, Named)>) {
    match rule {
        Rule::All(rules) | Rule::Any(rules) => {
            let kind = if matches!(rule, Rule::All(_)) { "all" } else { "any" };
            for (index, rule) in rules.iter().enumerate() {
                named_rows(rule, &format!("{path}.{kind}[{index}]"), found);
            }
        }
        Rule::Not(rule) => named_rows(rule, &format!("{path}.not"), found),
        Rule::Touched(leaf) => {
            if let Some(id) = leaf.campaign {
                found.push((format!("{path}.touched.campaign"), Named::Campaign(id)));
            }
        }
        Rule::Purchased(leaf) => {
            if let Some(id) = leaf.product {
                found.push((format!("{path}.purchased.product"), Named::Product(id)));
            }
            if let Some(category) = &leaf.category {
                found.push((format!("{path}.purchased.category"), Named::Category(category.clone())));
            }
        }
        Rule::Sequence(sequence) => {
            named_rows(&sequence.first, &format!("{path}.sequence.first"), found);
            named_rows(&sequence.then, &format!("{path}.sequence.then"), found);
        }
        _ => {}
    }
}

/// The time bounds of a leaf as of `today`: from the start of the day
/// `days` before (none without a window) to the end of `today`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn new(today: NaiveDate, days: Option<i64>) -> Self {
        let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        Self {
            since: days.map(|days| midnight(today.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(today))),
            end: midnight(today.checked_add_days(Days::new(1)).unwrap_or(today)),
        }
    }

    /// ` AND column < end [AND column >= since]`.
    pub fn write(&self, sql: &mut Sql, column: &str) {
        sql.push(&format!(" AND {column} < ")).bind(self.end);
        if let Some(since) = self.since {
            sql.push(&format!(" AND {column} >= ")).bind(since);
        }
    }
}

/// A leaf's events: the `FROM … WHERE …` of one table under `alias`, and
/// the column holding each event's time.
trait Events {
    fn window_days(&self) -> Option<i64>;
    /// Writes `FROM … WHERE <alias>.customer_id IS NOT NULL AND <filters>`
    /// (no window): the events of every customer.
    fn source(&self, sql: &mut Sql, alias: &str);
    fn time_column(&self, alias: &str) -> String;

    /// Writes the events with their window as of `today`.
    fn events(&self, sql: &mut Sql, alias: &str, today: NaiveDate) {
        self.source(sql, alias);
        Window::new(today, self.window_days()).write(sql, &self.time_column(alias));
    }
}

impl Events for Touched {
    fn window_days(&self) -> Option<i64> {
        self.window_days
    }

    fn source(&self, sql: &mut Sql, alias: &str) {
        sql.push(&format!(
            "FROM touchpoint {alias} WHERE {alias}.customer_id IS NOT NULL"
        ));
        if let Some(kind) = self.kind {
            sql.push(&format!(" AND {alias}.kind = ")).bind(kind.as_str());
        }
        if let Some(team) = self.team {
            sql.push(&format!(" AND {alias}.team = ")).bind(team.as_str());
        }
        if let Some(channel) = &self.channel {
            sql.push(&format!(" AND {alias}.channel = ")).bind(channel.clone());
        }
        if let Some(campaign) = self.campaign {
            sql.push(&format!(" AND {alias}.campaign_id = ")).bind(campaign);
        }
    }

    fn time_column(&self, alias: &str) -> String {
        format!("{alias}.occurred_at")
    }
}

impl Purchased {
    /// ` AND <line>` restricted to the product or category, if any.
    fn line_filter(&self, sql: &mut Sql, line: &str) {
        if let Some(product) = self.product {
            sql.push(&format!(" AND {line}.product_id = ")).bind(product);
        }
        if let Some(category) = &self.category {
            sql.push(&format!(
                " AND {line}.product_id IN (SELECT id FROM product WHERE category = "
            ))
            .bind(category.clone())
            .push(")");
        }
    }
}

impl Events for Purchased {
    fn window_days(&self) -> Option<i64> {
        self.window_days
    }

    fn source(&self, sql: &mut Sql, alias: &str) {
        sql.push(&format!("FROM orders {alias} WHERE {alias}.customer_id IS NOT NULL"));
        if self.product.is_some() || self.category.is_some() {
            let line = format!("{alias}_line");
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM order_line {line} WHERE {line}.order_id = {alias}.id"
            ));
            self.line_filter(sql, &line);
            sql.push(")");
        }
    }

    fn time_column(&self, alias: &str) -> String {
        format!("{alias}.ordered_at")
    }
}

impl Events for Responded {
    fn window_days(&self) -> Option<i64> {
        self.window_days
    }

    fn source(&self, sql: &mut Sql, alias: &str) {
        sql.push(&format!(
            "FROM survey_response {alias} WHERE {alias}.customer_id IS NOT NULL"
        ));
        if let Some(kind) = self.survey_kind {
            sql.push(&format!(
                " AND {alias}.survey_id IN (SELECT id FROM survey WHERE kind = "
            ))
            .bind(kind.as_str())
            .push(")");
        }
        if let Some((min, max)) = self
            .nps_category
            .map(NpsCategory::scores)
            .or(self.nps_score.map(|r| (r.min, r.max)))
        {
            sql.push(&format!(" AND {alias}.nps_score >= ")).bind(min);
            sql.push(&format!(" AND {alias}.nps_score <= ")).bind(max);
        }
    }

    fn time_column(&self, alias: &str) -> String {
        format!("{alias}.responded_at")
    }
}

/// The condition that a lead under `alias` reached `stage`, and the time it
/// did. "Reached" is the revenue cycle's (`insights::revenue_cycle`): a
/// stage's timestamp, a later stage's, or a current stage at or past it;
/// the time is the first of those timestamps (creation when none is set).
fn reached(stage: LeadStage, alias: &str) -> (String, String) {
    let later = |stages: &[&str], columns: &[&str]| {
        let stamps: Vec<String> = columns.iter().map(|c| format!("{alias}.{c} IS NOT NULL")).collect();
        let current: Vec<String> = stages.iter().map(|s| format!("'{s}'")).collect();
        let at: Vec<String> = columns.iter().map(|c| format!("{alias}.{c}")).collect();
        (
            format!("({} OR {alias}.stage IN ({}))", stamps.join(" OR "), current.join(", ")),
            format!("COALESCE({}, {alias}.created_at)", at.join(", ")),
        )
    };
    match stage {
        LeadStage::Lead => ("1 = 1".to_owned(), format!("{alias}.created_at")),
        LeadStage::Mql => later(
            &["MQL", "SQL", "OPPORTUNITY", "WON"],
            &["mql_at", "sql_at", "opportunity_at"],
        ),
        LeadStage::Sql => later(&["SQL", "OPPORTUNITY", "WON"], &["sql_at", "opportunity_at"]),
        LeadStage::Opportunity => later(&["OPPORTUNITY", "WON"], &["opportunity_at"]),
        LeadStage::Won | LeadStage::Lost => (
            format!("{alias}.stage = '{}'", stage.as_str()),
            format!("{alias}.closed_at"),
        ),
    }
}

/// Writes `leaf` as a condition on `c`, as of `today`.
pub fn compile_counted(leaf: &Rule, sql: &mut Sql, today: NaiveDate) {
    let (events, count): (&dyn Events, Option<Comparison>) = match leaf {
        Rule::Touched(leaf) => (leaf, leaf.count),
        Rule::Responded(leaf) => (leaf, leaf.count),
        Rule::Purchased(leaf) => {
            if let Some(amount) = leaf.amount_minor {
                compile_amount(leaf, amount, sql, today);
                return;
            }
            (leaf, leaf.count)
        }
        _ => return,
    };
    match count {
        None => {
            sql.push("c.id IN (SELECT e.customer_id ");
            events.events(sql, "e", today);
            sql.push(")");
        }
        Some(count) if !count.holds(0.0) => {
            sql.push("c.id IN (SELECT e.customer_id ");
            events.events(sql, "e", today);
            sql.push(" GROUP BY e.customer_id HAVING (COUNT(*");
            compare(sql, count);
            sql.push(")");
        }
        Some(count) => {
            sql.push("((SELECT COUNT(*) ");
            events.events(sql, "e", today);
            sql.push(" AND e.customer_id = c.id");
            compare(sql, count);
        }
    }
}

/// `) <op> value)`, closing a `((SELECT …` (or `(COUNT(*`) opened by the caller.
fn compare(sql: &mut Sql, comparison: Comparison) {
    sql.push(") ")
        .push(comparison.operator.comparison().unwrap_or("="))
        .push(" ")
        .bind(comparison.value)
        .push(")");
}

fn compile_amount(leaf: &Purchased, amount: Comparison, sql: &mut Sql, today: NaiveDate) {
    let lines = |sql: &mut Sql| {
        sql.push("FROM orders e JOIN order_line e_line ON e_line.order_id = e.id WHERE e.customer_id IS NOT NULL");
        leaf.line_filter(sql, "e_line");
        Window::new(today, leaf.window_days).write(sql, "e.ordered_at");
    };
    let total = "COALESCE(SUM(e_line.quantity * e_line.unit_amount_minor), 0";
    if amount.holds(0.0) {
        sql.push("((SELECT ").push(total).push(") ");
        lines(sql);
        sql.push(" AND e.customer_id = c.id");
        compare(sql, amount);
    } else {
        sql.push("c.id IN (SELECT e.customer_id ");
        lines(sql);
        sql.push(" GROUP BY e.customer_id HAVING (").push(total);
        compare(sql, amount);
        sql.push(")");
    }
}

pub fn compile_lead_stage(leaf: &LeadStageCondition, sql: &mut Sql, today: NaiveDate) {
    let (condition, at) = reached(leaf.stage, "e");
    sql.push("c.id IN (SELECT e.customer_id FROM lead e WHERE e.customer_id IS NOT NULL AND ")
        .push(&condition);
    if let Some(team) = leaf.source_team {
        sql.push(" AND e.source_team = ").bind(team.as_str());
    }
    Window::new(today, leaf.window_days).write(sql, &at);
    sql.push(")");
}

fn step(rule: &Rule) -> Option<&dyn Events> {
    match rule {
        Rule::Touched(leaf) => Some(leaf),
        Rule::Purchased(leaf) => Some(leaf),
        Rule::Responded(leaf) => Some(leaf),
        _ => None,
    }
}

/// `c.id IN (SELECT a.customer_id FROM A a WHERE [NOT] EXISTS (B b WHERE
/// b.customer_id = a.customer_id AND a.t < b.t ≤ a.t + N days))`: one
/// semi-join (or anti-join) of the two steps' events, per customer.
pub fn compile_sequence(sequence: &Sequence, sql: &mut Sql, today: NaiveDate) -> Result<(), Error> {
    let (Some(first), Some(then)) = (step(&sequence.first), step(&sequence.then)) else {
        return Err(Error::validation(
            "rule.sequence",
            "a sequence step is a touched, purchased or responded leaf",
        ));
    };
    let (a, b) = (first.time_column("a"), then.time_column("b"));
    sql.push("c.id IN (SELECT a.customer_id ");
    first.events(sql, "a", today);
    sql.push(match sequence.mode {
        SequenceMode::Followed => " AND EXISTS (SELECT 1 ",
        SequenceMode::NotFollowed => " AND NOT EXISTS (SELECT 1 ",
    });
    then.events(sql, "b", today);
    sql.push(&format!(" AND b.customer_id = a.customer_id AND {b} > {a} AND "));
    sql.epoch_seconds(&b).push(" - ").epoch_seconds(&a);
    sql.push(" <= ").bind(sequence.within_days.saturating_mul(86_400));
    sql.push("))");
    Ok(())
}
