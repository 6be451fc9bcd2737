//! One scan over customers' records as several statements over disjoint
//! ranges of customer ids, run at once on their own pooled connections.
//!
//! PostgreSQL runs a window function on one core: a series statement that
//! orders every customer's records (LAG over `PARTITION BY customer_id`)
//! cannot use a parallel worker. Statements over disjoint customer sets
//! can, each on its own connection, and whatever a caller sums per group
//! — counts, sums, customers counted where their first record falls —
//! adds up across them. The ranges are cut in the statement itself from
//! the smallest and largest customer id (two index lookups), so the cut
//! costs no statement of its own and follows the data as it grows.

use futures::future::try_join_all;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::sql::Sql;

/// The statements a scan that is cut runs as, each on its own pooled
/// connection: as many as the machine's cores (2 here; the insight gate
/// gives such an insight as many places).
pub const PARTS: u32 = 2;

/// The part `index` of `of` equal ranges of customer ids. A record without
/// a customer is in none: cut only scans of records that always have one
/// (a `NOT NULL` customer column). An `IS NULL OR` here would turn the
/// range scan of the `(customer_id, …)` index, which yields the records in
/// customer order, into a bitmap scan and a full sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerPart {
    index: u32,
    of: u32,
}

impl CustomerPart {
    /// The `of` parts that together cover every customer once.
    pub fn all(of: u32) -> impl Iterator<Item = CustomerPart> {
        let of = of.max(1);
        (0..of).map(move |index| CustomerPart { index, of })
    }

    /// Appends ` AND <column in this part's range>` (nothing for the whole).
    pub fn filter(self, sql: &mut Sql, column: &str) {
        let bound = |sql: &mut Sql, index: u32| {
            let (min, max) = ("(SELECT MIN(id) FROM customer)", "(SELECT MAX(id) FROM customer)");
            sql.push(&format!("{min} + ({max} - {min} + 1) * "))
                .bind(i64::from(index))
                .push(" / ")
                .bind(i64::from(self.of));
        };
        if self.index > 0 {
            sql.push(&format!(" AND {column} >= "));
            bound(sql, self.index);
        }
        if self.index + 1 < self.of {
            sql.push(&format!(" AND {column} < "));
            bound(sql, self.index + 1);
        }
    }
}

/// Runs the statement `build` makes for each of `of` parts at once and
/// returns all their rows (part by part).
pub async fn query_in_parts(
    db: &impl ConnectionTrait,
    of: u32,
    build: impl Fn(CustomerPart) -> Sql,
) -> Result<Vec<QueryResult>, DbErr> {
    let statements: Vec<Sql> = CustomerPart::all(of).map(build).collect();
    let rows = try_join_all(statements.iter().map(|sql| sql.all(db))).await?;
    Ok(rows.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DatabaseBackend;

    fn text(part: CustomerPart) -> String {
        let mut sql = Sql::new(DatabaseBackend::Sqlite);
        part.filter(&mut sql, "c");
        sql.statement().sql
    }

    #[test]
    fn the_parts_are_adjacent_ranges_from_the_first_customer_to_the_last() {
        let whole: Vec<String> = CustomerPart::all(1).map(text).collect();
        assert_eq!(whole, [""], "one part is every customer");
        let texts: Vec<String> = CustomerPart::all(3).map(text).collect();
        let (first, middle, last) = (&texts[0], &texts[1], &texts[2]);
        assert!(first.starts_with(" AND c < ") && !first.contains(">="), "{first}");
        assert!(
            middle.starts_with(" AND c >= ") && middle.contains(" AND c < "),
            "{middle}"
        );
        assert!(last.starts_with(" AND c >= ") && !last.contains(" < "), "{last}");
        assert_eq!(CustomerPart::all(0).count(), 1, "no parts is one whole");
    }
}
