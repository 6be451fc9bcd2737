//! Hand-written SQL for aggregations, portable between SQLite and
//! PostgreSQL. [`Sql`] collects text and bound values and writes each
//! placeholder in the backend's syntax; the few expressions whose SQL
//! differs (calendar periods, day numbers) are the [`Sql::period_index`]
//! and [`Sql::day_index`] helpers — the one dialect switch of the project.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

/// A calendar period (UTC; weeks are ISO weeks starting on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A statement under construction.
#[derive(Debug, Clone)]
pub struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let placeholder = format!("${}", self.values.len());
                self.text.push_str(&placeholder);
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(p1, p2, …)`, one placeholder per value, for `IN` lists.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.text.push('(');
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    /// The number of the UTC calendar `unit` that the timestamp `column`
    /// falls in, counted so that consecutive periods differ by one: days
    /// since 1970-01-01, weeks since the Monday 1969-12-29, months and
    /// quarters since year 0, years. [`crate::insights::period`] turns
    /// these numbers back into dates.
    pub fn period_index(&mut self, column: &str, unit: PeriodUnit) -> &mut Self {
        let expression = match unit {
            PeriodUnit::Day => self.day_expression(column),
            PeriodUnit::Week => format!("(({}) + 3) / 7", self.day_expression(column)),
            PeriodUnit::Month => {
                let (year, month) = self.year_month(column);
                format!("({year} * 12 + {month} - 1)")
            }
            PeriodUnit::Quarter => {
                let (year, month) = self.year_month(column);
                format!("({year} * 4 + ({month} - 1) / 3)")
            }
            PeriodUnit::Year => self.year_month(column).0,
        };
        self.push(&format!("CAST({expression} AS BIGINT)"))
    }

    /// `column` compared by code point (byte order), whatever the
    /// database's collation: the tie-break rule of the metric definitions.
    pub fn byte_ordered(&mut self, column: &str) -> &mut Self {
        match self.backend {
            DatabaseBackend::Postgres => self.push(&format!("{column} COLLATE \"C\"")),
            _ => self.push(column),
        }
    }

    /// Seconds from 1970-01-01T00:00:00Z to the timestamp `column`.
    pub fn epoch_seconds(&mut self, column: &str) -> &mut Self {
        let expression = match self.backend {
            DatabaseBackend::Postgres => format!("CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"),
            _ => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
        };
        self.push(&expression)
    }

    /// The value under `key` of the JSON object in `column`, as text
    /// (booleans as `true`/`false`); NULL when absent.
    pub fn json_text(&mut self, column: &str, key: &str) -> &mut Self {
        match self.backend {
            DatabaseBackend::Postgres => self.push(&format!("({column} ->> ")).bind(key.to_owned()).push(")"),
            _ => {
                self.push(&format!("(CASE json_type({column}, "))
                    .bind(format!("$.{key}"));
                self.push(&format!(
                    ") WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract({column}, "
                ));
                self.bind(format!("$.{key}")).push(") AS TEXT) END)")
            }
        }
    }

    /// The number under `key` of the JSON object in `column`; NULL when
    /// absent or not a number.
    pub fn json_number(&mut self, column: &str, key: &str) -> &mut Self {
        match self.backend {
            DatabaseBackend::Postgres => {
                self.push(&format!("(CASE WHEN jsonb_typeof({column} -> "))
                    .bind(key.to_owned());
                self.push(&format!(") = 'number' THEN CAST({column} ->> "))
                    .bind(key.to_owned());
                self.push(" AS DOUBLE PRECISION) END)")
            }
            _ => {
                self.push(&format!("(CASE WHEN json_type({column}, "))
                    .bind(format!("$.{key}"));
                self.push(&format!(") IN ('integer', 'real') THEN json_extract({column}, "));
                self.bind(format!("$.{key}")).push(") END)")
            }
        }
    }

    /// Whether the JSON list under `key` of `column` holds the string `value`.
    pub fn json_array_contains(&mut self, column: &str, key: &str, value: &str) -> &mut Self {
        match self.backend {
            DatabaseBackend::Postgres => {
                self.push(&format!("(jsonb_typeof({column} -> ")).bind(key.to_owned());
                self.push(&format!(") = 'array' AND jsonb_exists({column} -> "))
                    .bind(key.to_owned());
                self.push(", ").bind(value.to_owned()).push("))")
            }
            _ => {
                self.push(&format!("(json_type({column}, ")).bind(format!("$.{key}"));
                self.push(&format!(") = 'array' AND EXISTS (SELECT 1 FROM json_each({column}, "))
                    .bind(format!("$.{key}"));
                self.push(") WHERE value = ").bind(value.to_owned()).push("))")
            }
        }
    }

    /// Days from 1970-01-01 to the UTC date of the timestamp `column`.
    pub fn day_index(&mut self, column: &str) -> &mut Self {
        let expression = self.day_expression(column);
        self.push(&format!("CAST({expression} AS BIGINT)"))
    }

    fn day_expression(&self, column: &str) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"),
            _ => format!("CAST(julianday(date({column})) - 2440587.5 AS INTEGER)"),
        }
    }

    fn year_month(&self, column: &str) -> (String, String) {
        match self.backend {
            DatabaseBackend::Postgres => (
                format!("CAST(EXTRACT(YEAR FROM {column} AT TIME ZONE 'UTC') AS INTEGER)"),
                format!("CAST(EXTRACT(MONTH FROM {column} AT TIME ZONE 'UTC') AS INTEGER)"),
            ),
            _ => (
                format!("CAST(strftime('%Y', {column}) AS INTEGER)"),
                format!("CAST(strftime('%m', {column}) AS INTEGER)"),
            ),
        }
    }

    pub fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone())
    }

    pub async fn all(&self, db: &impl ConnectionTrait) -> Result<Vec<QueryResult>, DbErr> {
        db.query_all_raw(self.statement()).await
    }

    pub async fn one(&self, db: &impl ConnectionTrait) -> Result<Option<QueryResult>, DbErr> {
        db.query_one_raw(self.statement()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        let mut postgres = Sql::new(DatabaseBackend::Postgres);
        postgres.push("a = ").bind(1).push(" AND b = ").bind(2);
        assert_eq!(postgres.statement().sql, "a = $1 AND b = $2");
        let mut sqlite = Sql::new(DatabaseBackend::Sqlite);
        sqlite.push("a = ").bind(1);
        assert_eq!(sqlite.statement().sql, "a = ?");
    }
}
