//! Segments: named audiences defined by a [`Rule`] over customers. A rule
//! compiles to one SQL condition; `refresh` materialises the members in
//! the database (joined and left counted there too) and records the size,
//! so memory does not grow with the audience.

pub mod behaviour;
pub mod rule;

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use entity::enums::{ConsentStatus, ContactChannel, Team};
use entity::{customer, segment, segment_size};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::db::sql::{Keys, Sql};
use crate::error::Error;
pub use rule::Rule;

/// The smallest audience whose members may be exported by default.
pub const DEFAULT_MIN_AUDIENCE: i64 = 10;

#[derive(Debug, Clone)]
pub struct NewSegment {
    pub name: String,
    pub description: Option<String>,
    pub team: Team,
    pub rule: Rule,
}

#[derive(Debug, Clone, Default)]
pub struct SegmentChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: Option<Team>,
    pub rule: Option<Rule>,
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub size: i64,
    pub joined: i64,
    pub left: i64,
}

/// Reads a stored rule.
pub fn stored_rule(segment: &segment::Model) -> Result<Rule, Error> {
    serde_json::from_value(segment.rule.clone())
        .map_err(|error| Error::Internal(format!("segment {} has an unreadable rule: {error}", segment.id)))
}

/// Loads the rules `rule` refers to, transitively, refusing unknown
/// segments and any chain that leads back to `own_id`.
async fn referenced_rules(
    db: &impl ConnectionTrait,
    rule: &Rule,
    own_id: Option<i64>,
) -> Result<HashMap<i64, Rule>, Error> {
    let mut rules = HashMap::new();
    let mut pending: Vec<i64> = rule.references();
    let mut seen: HashSet<i64> = HashSet::new();
    while let Some(id) = pending.pop() {
        if Some(id) == own_id {
            return Err(Error::validation(
                "rule.inSegment",
                "a segment cannot include itself, directly or through other segments",
            ));
        }
        if !seen.insert(id) {
            continue;
        }
        let segment = segment::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| Error::validation("rule.inSegment", format!("segment {id} does not exist")))?;
        let referenced = stored_rule(&segment)?;
        pending.extend(referenced.references());
        rules.insert(id, referenced);
    }
    Ok(rules)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A rule from the client: what it names must exist.
    Named,
    /// A stored rule, checked when it was saved.
    Stored,
}

/// Refuses a rule naming a campaign, product or category that does not
/// exist, naming the leaf's path; one statement, and none for a rule that
/// names nothing.
async fn check_named(db: &impl ConnectionTrait, rule: &Rule) -> Result<(), Error> {
    use behaviour::Named;
    let mut named = Vec::new();
    behaviour::named_rows(rule, "rule", &mut named);
    if named.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(db.get_database_backend());
    let mut first = true;
    for (kind, table, column) in [
        ("campaign", "campaign", "CAST(id AS TEXT)"),
        ("product", "product", "CAST(id AS TEXT)"),
        ("category", "product", "category"),
    ] {
        let keys: Vec<String> = named
            .iter()
            .filter_map(|(_, name)| match (name, kind) {
                (Named::Campaign(id), "campaign") | (Named::Product(id), "product") => Some(id.to_string()),
                (Named::Category(category), "category") => Some(category.clone()),
                _ => None,
            })
            .collect();
        if keys.is_empty() {
            continue;
        }
        if !first {
            sql.push(" UNION ");
        }
        first = false;
        sql.push(&format!(
            "SELECT '{kind}' AS kind, {column} AS name FROM {table} WHERE {column} IN "
        ))
        .bind_list(keys);
    }
    let mut found = HashSet::new();
    for row in sql.all(db).await? {
        found.insert((row.try_get::<String>("", "kind")?, row.try_get::<String>("", "name")?));
    }
    for (path, name) in named {
        let (kind, key, what) = match &name {
            Named::Campaign(id) => ("campaign", id.to_string(), "campaign"),
            Named::Product(id) => ("product", id.to_string(), "product"),
            Named::Category(category) => ("category", category.clone(), "product category"),
        };
        if !found.contains(&(kind.to_owned(), key.clone())) {
            let shown = if kind == "category" {
                format!("{key:?}")
            } else {
                "with that id".to_owned()
            };
            return Err(Error::validation(path, format!("no {what} {shown} exists")));
        }
    }
    Ok(())
}

/// A rule ready to be written into statements: its referenced segments
/// loaded and checked for cycles.
struct Audience {
    rule: Rule,
    segments: HashMap<i64, Rule>,
    today: NaiveDate,
}

impl Audience {
    /// Checks `rule` and loads what it refers to. A new rule's (`Check::Named`)
    /// campaigns, products and categories must exist; a stored one is not
    /// checked again at refresh, where a row deleted since matches nothing.
    async fn new(
        db: &impl ConnectionTrait,
        rule: Rule,
        own_id: Option<i64>,
        today: NaiveDate,
        check: Check,
    ) -> Result<Self, Error> {
        rule.validate()?;
        if check == Check::Named {
            check_named(db, &rule).await?;
        }
        let segments = referenced_rules(db, &rule, own_id).await?;
        Ok(Self { rule, segments, today })
    }

    /// Writes the condition selecting the audience's customers (alias `c`).
    fn write(&self, sql: &mut Sql) -> Result<(), Error> {
        sql.push("c.merged_into_id IS NULL AND ");
        rule::Compiler {
            today: self.today,
            segments: &self.segments,
        }
        .compile(&self.rule, sql)
    }
}

pub async fn create(db: &DatabaseConnection, new: NewSegment) -> Result<segment::Model, Error> {
    validate_name(&new.name)?;
    Audience::new(db, new.rule.clone(), None, Utc::now().date_naive(), Check::Named).await?;
    ensure_unique_name(db, &new.name, None).await?;
    let model = segment::ActiveModel {
        name: Set(new.name),
        description: Set(new.description),
        team: Set(new.team),
        rule: Set(serde_json::to_value(&new.rule).map_err(|e| Error::Internal(e.to_string()))?),
        created_at: Set(Utc::now()),
        refreshed_at: Set(None),
        ..Default::default()
    };
    // Committed before returning, so that a refresh right after it (on
    // another pooled connection) finds the segment, behind PgBouncer too.
    let transaction = db.begin().await?;
    let created = model.insert(&transaction).await?;
    transaction.commit().await?;
    Ok(created)
}

pub async fn update(db: &DatabaseConnection, id: i64, changes: SegmentChanges) -> Result<segment::Model, Error> {
    let existing = find(db, id).await?;
    let mut model: segment::ActiveModel = existing.into();
    if let Some(name) = changes.name {
        validate_name(&name)?;
        ensure_unique_name(db, &name, Some(id)).await?;
        model.name = Set(name);
    }
    if let Some(description) = changes.description {
        model.description = Set(Some(description));
    }
    if let Some(team) = changes.team {
        model.team = Set(team);
    }
    if let Some(rule) = changes.rule {
        Audience::new(db, rule.clone(), Some(id), Utc::now().date_naive(), Check::Named).await?;
        model.rule = Set(serde_json::to_value(&rule).map_err(|e| Error::Internal(e.to_string()))?);
    }
    Ok(model.update(db).await?)
}

/// Deletes a segment that no other segment's rule refers to.
pub async fn delete(db: &DatabaseConnection, id: i64) -> Result<(), Error> {
    find(db, id).await?;
    for other in segment::Entity::find()
        .filter(segment::Column::Id.ne(id))
        .all(db)
        .await?
    {
        if stored_rule(&other)?.references().contains(&id) {
            return Err(Error::Conflict(format!(
                "segment {:?} refers to this segment through inSegment",
                other.name
            )));
        }
    }
    // Its members go with it (ON DELETE CASCADE): insights filtered by it
    // must not be answered from the cache.
    let transaction = db.begin().await?;
    segment::Entity::delete_by_id(id).exec(&transaction).await?;
    crate::db::data_version::advance(&transaction).await?;
    transaction.commit().await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<segment::Model, Error> {
    segment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("Segment", id))
}

/// The size of `rule`'s audience now and the first `sample` members by
/// external id; nothing is written.
pub async fn preview(db: &impl ConnectionTrait, rule: &Rule, sample: u64) -> Result<(i64, Vec<i64>), Error> {
    let audience = Audience::new(db, rule.clone(), None, Utc::now().date_naive(), Check::Named).await?;
    let mut count = Sql::new(db.get_database_backend());
    count.push("SELECT CAST(COUNT(*) AS BIGINT) AS size FROM customer c WHERE ");
    audience.write(&mut count)?;
    let size = size_of(&count, db).await?;
    let mut first = Sql::new(db.get_database_backend());
    first.push("SELECT c.id FROM customer c WHERE ");
    audience.write(&mut first)?;
    first
        .push(" ORDER BY ")
        .byte_ordered("c.external_id")
        .push(" LIMIT ")
        .bind(i64::try_from(sample).unwrap_or(0));
    let mut ids = Vec::new();
    for row in first.all(db).await? {
        ids.push(row.try_get::<i64>("", "id")?);
    }
    Ok((size, ids))
}

/// Re-evaluates the segment's rule and stores its members, in one
/// transaction: customers who now match join, those who no longer do
/// leave, and the size is recorded.
pub async fn refresh(db: &DatabaseConnection, id: i64) -> Result<Refresh, Error> {
    let segment = find(db, id).await?;
    let rule = stored_rule(&segment)?;
    let now = Utc::now();
    let today = now.date_naive();
    let transaction = crate::db::begin_write(db).await?;

    let audience = Audience::new(&transaction, rule, Some(id), today, Check::Stored).await?;
    let (joined, left) = store_members(&transaction, &audience, id, now).await?;

    let size = member_count(&transaction, id).await?;
    let as_count = |rows: u64| i64::try_from(rows).unwrap_or(i64::MAX);
    segment_size::ActiveModel {
        segment_id: Set(id),
        at: Set(now),
        size: Set(size),
        joined: Set(as_count(joined)),
        left: Set(as_count(left)),
        ..Default::default()
    }
    .insert(&transaction)
    .await?;
    let mut model: segment::ActiveModel = segment.into();
    model.refreshed_at = Set(Some(now));
    model.update(&transaction).await?;
    crate::db::data_version::advance(&transaction).await?;
    transaction.commit().await?;
    Ok(Refresh {
        size,
        joined: as_count(joined),
        left: as_count(left),
    })
}

/// The temporary table holding a refresh's matching customers.
const MATCHED: &str = "segment_refresh_matched";

/// Brings segment `id`'s stored members in line with `audience` inside
/// `transaction` and returns how many joined and left. The rule is
/// evaluated once, into a temporary table keyed by customer (dropped with
/// the transaction on PostgreSQL, explicitly on SQLite, rolled back with it
/// on both); joining and leaving are then two anti-joins against it, so a
/// refresh costs one evaluation of the rule however many members change.
async fn store_members(
    transaction: &sea_orm::DatabaseTransaction,
    audience: &Audience,
    id: i64,
    now: chrono::DateTime<Utc>,
) -> Result<(u64, u64), Error> {
    let backend = transaction.get_database_backend();
    let postgres = backend == sea_orm::DatabaseBackend::Postgres;
    let run = |sql: Sql| async move { transaction.execute_raw(sql.statement()).await };
    let mut create = Sql::new(backend);
    create.push(&format!(
        "CREATE TEMPORARY TABLE {MATCHED} (customer_id BIGINT PRIMARY KEY)"
    ));
    if postgres {
        create.push(" ON COMMIT DROP");
    }
    run(create).await?;

    let mut matched = Sql::new(backend);
    matched.push(&format!(
        "INSERT INTO {MATCHED} (customer_id) SELECT c.id FROM customer c WHERE "
    ));
    audience.write(&mut matched)?;
    run(matched).await?;
    if postgres {
        // Temporary tables are never analysed automatically; without
        // statistics the planner guesses a size and may loop instead of hash.
        let mut analyse = Sql::new(backend);
        analyse.push(&format!("ANALYZE {MATCHED}"));
        run(analyse).await?;
    }

    let mut join = Sql::new(backend);
    join.push("INSERT INTO segment_member (segment_id, customer_id, joined_at) SELECT ")
        .bind(id)
        .push(", m.customer_id, ")
        .bind(now)
        .push(&format!(
            " FROM {MATCHED} m WHERE NOT EXISTS (SELECT 1 FROM segment_member s WHERE s.segment_id = "
        ))
        .bind(id)
        .push(" AND s.customer_id = m.customer_id)");
    let joined = run(join).await?.rows_affected();

    let mut leave = Sql::new(backend);
    leave
        .push("DELETE FROM segment_member WHERE segment_id = ")
        .bind(id)
        .push(&format!(
            " AND NOT EXISTS (SELECT 1 FROM {MATCHED} m WHERE m.customer_id = segment_member.customer_id)"
        ));
    let left = run(leave).await?.rows_affected();

    if !postgres {
        let mut drop = Sql::new(backend);
        drop.push(&format!("DROP TABLE temp.{MATCHED}"));
        run(drop).await?;
    }
    Ok((joined, left))
}

/// The recorded sizes of a segment, oldest first.
pub async fn size_history(db: &impl ConnectionTrait, id: i64) -> Result<Vec<segment_size::Model>, Error> {
    Ok(segment_size::Entity::find()
        .filter(segment_size::Column::SegmentId.eq(id))
        .order_by_asc(segment_size::Column::At)
        .order_by_asc(segment_size::Column::Id)
        .all(db)
        .await?)
}

fn validate_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(Error::validation("name", "must be 1 to 200 characters"));
    }
    Ok(())
}

async fn ensure_unique_name(db: &impl ConnectionTrait, name: &str, except: Option<i64>) -> Result<(), Error> {
    let mut query = segment::Entity::find().filter(segment::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(segment::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        return Err(Error::Conflict(format!("a segment named {name:?} already exists")));
    }
    Ok(())
}

/// For each account of `account_ids`, the segments its contacts belong to
/// (as of each segment's last refresh) and how many of its contacts are in
/// each; one statement.
pub async fn segments_of_accounts(
    db: &impl ConnectionTrait,
    account_ids: &[i64],
) -> Result<HashMap<i64, Vec<(i64, i64)>>, Error> {
    let mut found: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    if account_ids.is_empty() {
        return Ok(found);
    }
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT c.account_id, m.segment_id, CAST(COUNT(*) AS BIGINT) AS contacts FROM segment_member m ");
    sql.push("JOIN customer c ON c.id = m.customer_id WHERE ")
        .key_in("c.account_id", Keys::new(db.get_database_backend(), account_ids));
    sql.push(" GROUP BY c.account_id, m.segment_id ORDER BY c.account_id, m.segment_id");
    for row in sql.all(db).await? {
        let account: i64 = row.try_get("", "account_id")?;
        found
            .entry(account)
            .or_default()
            .push((row.try_get("", "segment_id")?, row.try_get("", "contacts")?));
    }
    Ok(found)
}

/// The number of members stored for a segment.
pub async fn member_count(db: &impl ConnectionTrait, id: i64) -> Result<i64, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT CAST(COUNT(*) AS BIGINT) AS size FROM segment_member WHERE segment_id = ")
        .bind(id);
    size_of(&sql, db).await
}

/// The `size` column of the one row a `SELECT COUNT(*) AS size …` returns.
async fn size_of(sql: &Sql, db: &impl ConnectionTrait) -> Result<i64, Error> {
    Ok(sql
        .one(db)
        .await?
        .map(|row| row.try_get("", "size"))
        .transpose()?
        .unwrap_or(0))
}

/// The column holding each customer's consent for `channel`.
pub fn consent_column(channel: ContactChannel) -> customer::Column {
    match channel {
        ContactChannel::Email => customer::Column::ConsentEmail,
        ContactChannel::Sms => customer::Column::ConsentSms,
        ContactChannel::Phone => customer::Column::ConsentPhone,
    }
}

/// The members of a segment who GRANTED consent for `channel`, joined to
/// their customer rows (`m`, `c`): what an export sends, and counts.
fn write_exported(sql: &mut Sql, id: i64, channel: ContactChannel) {
    sql.push(" FROM segment_member m JOIN customer c ON c.id = m.customer_id WHERE m.segment_id = ")
        .bind(id)
        .push(" AND c.")
        .push(consent_column(channel).as_str())
        .push(" = ")
        .bind(ConsentStatus::Granted.as_str());
}

/// The number of rows an export of the segment for `channel` sends.
pub async fn export_count(db: &impl ConnectionTrait, id: i64, channel: ContactChannel) -> Result<i64, Error> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT CAST(COUNT(*) AS BIGINT) AS size");
    write_exported(&mut sql, id, channel);
    size_of(&sql, db).await
}

/// The statement streaming a segment's members who GRANTED consent for
/// `channel`, for export, by external id.
pub fn export_statement(backend: sea_orm::DatabaseBackend, id: i64, channel: ContactChannel) -> sea_orm::Statement {
    let mut sql = Sql::new(backend);
    sql.push("SELECT c.external_id, c.email, c.name, c.phone, c.region, c.country, m.joined_at");
    write_exported(&mut sql, id, channel);
    sql.push(" ORDER BY ").byte_ordered("c.external_id");
    sql.statement()
}
