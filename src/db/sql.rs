//! Hand-written SQL for aggregations, portable between SQLite and
//! PostgreSQL. [`Sql`] collects text and bound values and writes each
//! placeholder in the backend's syntax; the few expressions whose SQL
//! differs (calendar periods, day numbers) are the [`Sql::period_index`]
//! and [`Sql::day_index`] helpers — the one dialect switch of the project.
//! [`Keys`] is the membership test of a batch of ids, for both styles.

use sea_orm::sea_query::{ArrayType, Expr, ExprTrait, extension::postgres::PgFunc};
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

    /// Appends `column` tested for membership in `keys`, bound as one
    /// parameter: the text of [`Keys::contain`], for hand-written SQL.
    pub fn key_in(&mut self, column: &str, keys: Keys<'_>) -> &mut Self {
        self.push(column);
        match self.backend {
            DatabaseBackend::Postgres => self.push(" = ANY(").bind(keys.value()).push(")"),
            _ => self
                .push(" IN (SELECT value FROM json_each(")
                .bind(keys.value())
                .push("))"),
        }
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

    /// The first instant (UTC) of the DATE `column`, comparable with bound
    /// timestamps: SQLite compares timestamps as the RFC 3339 text sqlx
    /// writes, so the date is written out the same way.
    pub fn day_start(&mut self, column: &str) -> &mut Self {
        let expression = match self.backend {
            DatabaseBackend::Postgres => format!("(CAST({column} AS TIMESTAMP) AT TIME ZONE 'UTC')"),
            _ => format!("({column} || 'T00:00:00+00:00')"),
        };
        self.push(&expression)
    }

    /// The rows of `input` (a subquery written by the closure) grouped by
    /// `first` and, separately, by `second`, each group with `aggregates`:
    /// rows `(by_second, key, aggregates…)`, where `by_second` is 0 for the
    /// groups of `first` and 1 for those of `second`. PostgreSQL reads the
    /// input once (`GROUPING SETS`); SQLite, which has none, twice.
    pub fn grouped_twice(
        &mut self,
        input: impl FnOnce(&mut Sql),
        first: &str,
        second: &str,
        aggregates: &str,
    ) -> &mut Self {
        match self.backend {
            DatabaseBackend::Postgres => {
                self.push(&format!(
                    "SELECT CAST(GROUPING({first}) AS BIGINT) AS by_second, COALESCE({first}, {second}) AS key, {aggregates} FROM ("
                ));
                input(self);
                self.push(&format!(") g GROUP BY GROUPING SETS (({first}), ({second}))"))
            }
            _ => {
                self.push("WITH g AS (");
                input(self);
                self.push(&format!(
                    ") SELECT 0 AS by_second, {first} AS key, {aggregates} FROM g GROUP BY {first} \
                     UNION ALL SELECT 1, {second}, {aggregates} FROM g GROUP BY {second}"
                ))
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

    /// Appends a statement built with sea-query (a subquery), keeping its
    /// bound values: one definition of a row set serves both query styles.
    pub fn push_query(&mut self, query: &sea_orm::sea_query::SelectStatement) -> &mut Self {
        let built = self.backend.build(query);
        let values = built.values.map(|values| values.0).unwrap_or_default();
        match self.backend {
            // PostgreSQL numbers its placeholders: shift them past ours.
            DatabaseBackend::Postgres => {
                let text = renumber_placeholders(&built.sql, self.values.len());
                self.text.push_str(&text);
            }
            _ => self.text.push_str(&built.sql),
        }
        self.values.extend(values);
        self
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

/// A batch of ids (a loader's keys) to test a column against, bound as one
/// parameter: `= ANY($1)` with a `BIGINT[]` on PostgreSQL, `IN (SELECT value
/// FROM json_each(?))` with a JSON array on SQLite. An `IN (?, ?, …)` list
/// would make one statement text per batch size, each parsed and planned
/// on its own; this makes one for every size.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    backend: DatabaseBackend,
    ids: &'a [i64],
}

impl<'a> Keys<'a> {
    pub fn new(backend: DatabaseBackend, ids: &'a [i64]) -> Self {
        Self { backend, ids }
    }

    /// `column` is one of the keys, for sea-query statements.
    pub fn contain(self, column: impl Into<Expr>) -> Expr {
        match self.backend {
            DatabaseBackend::Postgres => column.into().eq(PgFunc::any(Expr::val(self.value()))),
            _ => Expr::cust_with_exprs(
                "? IN (SELECT value FROM json_each(?))",
                [column.into(), Expr::val(self.value())],
            ),
        }
    }

    /// The one bound value.
    fn value(self) -> Value {
        match self.backend {
            DatabaseBackend::Postgres => Value::Array(
                ArrayType::BigInt,
                Some(Box::new(self.ids.iter().copied().map(Value::from).collect())),
            ),
            _ => Value::from(serde_json::Value::from(self.ids).to_string()),
        }
    }
}

/// `$n` → `$(n + offset)` in PostgreSQL text that sea-query wrote. Its
/// values are always bound and its identifiers quoted, so a `$` followed by
/// digits outside quotes is a placeholder.
fn renumber_placeholders(text: &str, offset: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    let mut quoted: Option<char> = None;
    while let Some(c) = chars.next() {
        match quoted {
            Some(quote) => {
                out.push(c);
                if c == quote {
                    quoted = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quoted = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                    digits.push(digit);
                }
                let number: usize = digits.parse().unwrap_or(0);
                out.push('$');
                out.push_str(&(number + offset).to_string());
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_query_keeps_its_values_after_ours() {
        use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
        let query = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("a")).eq(7))
            .and_where(Expr::col(Alias::new("b")).eq("x$1"))
            .to_owned();
        let mut postgres = Sql::new(DatabaseBackend::Postgres);
        postgres
            .push("a = ")
            .bind(1)
            .push(" AND id IN (")
            .push_query(&query)
            .push(")");
        let statement = postgres.statement();
        assert_eq!(
            statement.sql,
            r#"a = $1 AND id IN (SELECT "id" FROM "t" WHERE "a" = $2 AND "b" = $3)"#
        );
        assert_eq!(statement.values.map(|v| v.0.len()), Some(3));
        let mut sqlite = Sql::new(DatabaseBackend::Sqlite);
        sqlite.bind(1).push_query(&query);
        assert_eq!(sqlite.statement().values.map(|v| v.0.len()), Some(3));
    }

    #[test]
    fn keys_bind_as_one_value_whatever_their_number() {
        use sea_orm::sea_query::{Alias, Query};
        let text = |backend: DatabaseBackend, ids: &[i64]| {
            let query = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("t"))
                .and_where(Keys::new(backend, ids).contain(Expr::col(Alias::new("parent"))))
                .to_owned();
            let statement = backend.build(&query);
            (statement.sql, statement.values.map(|v| v.0.len()))
        };
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            assert_eq!(text(backend, &[1, 2, 3]), text(backend, &[1, 2, 3, 4, 5, 6, 7]));
            assert_eq!(text(backend, &[1]).1, Some(1));
        }
        assert_eq!(
            text(DatabaseBackend::Postgres, &[1]).0,
            r#"SELECT "id" FROM "t" WHERE "parent" = ANY($1)"#
        );
        assert_eq!(
            text(DatabaseBackend::Sqlite, &[1]).0,
            r#"SELECT "id" FROM "t" WHERE "parent" IN (SELECT value FROM json_each(?))"#
        );
        let mut sqlite = Sql::new(DatabaseBackend::Sqlite);
        sqlite.key_in("a.id", Keys::new(DatabaseBackend::Sqlite, &[4, 5]));
        let statement = sqlite.statement();
        assert_eq!(statement.sql, "a.id IN (SELECT value FROM json_each(?))");
        assert_eq!(statement.values.map(|v| v.0), Some(vec![Value::from("[4,5]")]));
        let mut postgres = Sql::new(DatabaseBackend::Postgres);
        postgres.key_in("a.id", Keys::new(DatabaseBackend::Postgres, &[4, 5]));
        assert_eq!(postgres.statement().sql, "a.id = ANY($1)");
    }

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
