//! The one write path of ingest: validate each record, resolve its
//! references, and upsert the batch by `external_id` in a transaction.
//! Every caller (file import, the demo generator, later the mutations and
//! bulk HTTP) goes through [`Ingestor`], so all get the same checks.

use std::collections::HashMap;

use entity::{
    account, brand_answer, brand_mention, campaign, customer, customer_identity, driver_rating, lead, order_line,
    orders, product, product_test, product_test_vote, survey, survey_response, touchpoint,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IdenStatic,
    Iterable, QueryFilter, QuerySelect,
};

use super::batch::{EntityKind, Numbered, RecordBatch, RecordSink};
use super::records::*;
use super::references::{References, Target};
use crate::error::Error;
use crate::events::{Event, EventBus};
use crate::identity;

/// How much of an import one transaction covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atomicity {
    /// Each batch commits on its own; bad records are skipped and reported.
    PerBatch,
    /// Everything commits together, and nothing at all when any record is bad.
    AllOrNothing,
}

/// A record that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub kind: EntityKind,
    pub line: u64,
    pub external_id: Option<String>,
    pub error: FieldError,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Records written (inserted or updated), per kind.
    pub written: HashMap<EntityKind, u64>,
    pub rejected: Vec<Rejection>,
    /// False when an all-or-nothing run was rolled back.
    pub committed: bool,
}

impl IngestReport {
    pub fn written(&self, kind: EntityKind) -> u64 {
        self.written.get(&kind).copied().unwrap_or(0)
    }
}

pub struct Ingestor {
    db: DatabaseConnection,
    /// The open transaction of an all-or-nothing run.
    transaction: Option<DatabaseTransaction>,
    currency: String,
    references: References,
    report: IngestReport,
    /// Where change events go, when anyone may be listening.
    events: Option<EventBus>,
    /// Events of the open all-or-nothing transaction, sent when it commits.
    pending: Vec<Event>,
}

impl Ingestor {
    pub async fn begin(db: DatabaseConnection, atomicity: Atomicity, currency: &str) -> Result<Self, Error> {
        let transaction = match atomicity {
            Atomicity::PerBatch => None,
            Atomicity::AllOrNothing => Some(crate::db::begin_write(&db).await?),
        };
        Ok(Self {
            db,
            transaction,
            currency: currency.to_owned(),
            references: References::default(),
            report: IngestReport::default(),
            events: None,
            pending: Vec::new(),
        })
    }

    /// Publishes a change event for every order and touchpoint written.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    /// The rejections so far.
    pub fn rejected(&self) -> &[Rejection] {
        &self.report.rejected
    }

    /// Writes one batch: its good records are upserted, its bad ones reported.
    pub async fn write_batch(&mut self, batch: RecordBatch) -> Result<(), Error> {
        let kind = batch.kind();
        let announced = match self.events {
            Some(_) => announced_keys(&batch),
            None => Vec::new(),
        };
        let rejected_before = self.report.rejected.len();
        // A per-batch run opens its own transaction; an all-or-nothing run
        // lends its open one, which goes back whatever the outcome.
        let (transaction, per_batch) = match self.transaction.take() {
            Some(open) => (open, false),
            None => (crate::db::begin_write(&self.db).await?, true),
        };
        let outcome = async {
            let written = write(
                &transaction,
                &mut self.references,
                &self.currency,
                batch,
                &mut self.report.rejected,
            )
            .await?;
            let events = self
                .stage_events(&transaction, kind, announced, rejected_before)
                .await?;
            Ok::<_, Error>((written, events))
        }
        .await;
        let written = if per_batch {
            let (written, events) = outcome?;
            transaction.commit().await?;
            if let Some(bus) = &self.events {
                bus.committed(events);
            }
            written
        } else {
            self.transaction = Some(transaction);
            let (written, events) = outcome?;
            self.pending.extend(events);
            written
        };
        *self.report.written.entry(kind).or_default() += written;
        Ok(())
    }

    /// Ends the run: an all-or-nothing run commits only when nothing was rejected.
    pub async fn finish(mut self) -> Result<IngestReport, Error> {
        self.report.committed = match self.transaction.take() {
            None => true,
            Some(transaction) if self.report.rejected.is_empty() => {
                transaction.commit().await?;
                if let Some(bus) = &self.events {
                    bus.committed(std::mem::take(&mut self.pending));
                }
                true
            }
            Some(transaction) => {
                transaction.rollback().await?;
                self.report.written.clear();
                false
            }
        };
        Ok(self.report)
    }
}

impl Ingestor {
    /// Stages the events of the orders or touchpoints among `keys` that
    /// were written (not those rejected since `rejected_before`).
    async fn stage_events(
        &self,
        db: &DatabaseTransaction,
        kind: EntityKind,
        keys: Vec<String>,
        rejected_before: usize,
    ) -> Result<Vec<Event>, Error> {
        let Some(bus) = &self.events else {
            return Ok(Vec::new());
        };
        let refused: std::collections::HashSet<&str> = self.report.rejected[rejected_before..]
            .iter()
            .filter_map(|rejection| rejection.external_id.as_deref())
            .collect();
        let keys: Vec<String> = keys.into_iter().filter(|key| !refused.contains(key.as_str())).collect();
        let events = match kind {
            EntityKind::Touchpoints => {
                let rows = written_rows::<touchpoint::Entity>(
                    db,
                    keys,
                    [
                        touchpoint::Column::Id,
                        touchpoint::Column::CustomerId,
                        touchpoint::Column::AccountId,
                    ],
                    touchpoint::Column::ExternalId,
                )
                .await?;
                rows.into_iter()
                    .map(|(id, customer_id, account_id)| Event::TouchpointRecorded {
                        id,
                        customer_id,
                        account_id,
                    })
                    .collect()
            }
            EntityKind::Orders => {
                let rows = written_rows::<orders::Entity>(
                    db,
                    keys,
                    [
                        orders::Column::Id,
                        orders::Column::CustomerId,
                        orders::Column::AccountId,
                    ],
                    orders::Column::ExternalId,
                )
                .await?;
                rows.into_iter()
                    .map(|(id, customer_id, account_id)| Event::OrderRecorded {
                        id,
                        customer_id,
                        account_id,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        bus.stage(db, &events).await?;
        Ok(events)
    }
}

/// The external ids of a batch whose writes subscribers hear about.
fn announced_keys(batch: &RecordBatch) -> Vec<String> {
    match batch {
        RecordBatch::Touchpoints(records) => records.iter().map(|n| n.record.external_id.clone()).collect(),
        RecordBatch::Orders(records) => records.iter().map(|n| n.record.external_id.clone()).collect(),
        _ => Vec::new(),
    }
}

/// (id, customer id, account id) of the rows of `E` with these external ids.
async fn written_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    keys: Vec<String>,
    columns: [E::Column; 3],
    external_id: E::Column,
) -> Result<Vec<(i64, i64, Option<i64>)>, Error> {
    let mut rows = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(CHILD_ROWS_PER_STATEMENT) {
        let found: Vec<(i64, i64, Option<i64>)> = E::find()
            .select_only()
            .columns(columns)
            .filter(external_id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        rows.extend(found);
    }
    Ok(rows)
}

impl RecordSink for Ingestor {
    async fn write(&mut self, batch: RecordBatch) -> Result<(), Error> {
        self.write_batch(batch).await
    }
}

/// Keeps the last record of each external id: a later line supersedes an
/// earlier one, as a second import would. (PostgreSQL also refuses to
/// upsert one row twice in a statement.)
fn last_per_external_id<R: Keyed>(records: Vec<Numbered<R>>) -> Vec<Numbered<R>> {
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<Option<Numbered<R>>> = Vec::with_capacity(records.len());
    for record in records {
        let key = record.record.external_id().to_owned();
        if let Some(previous) = position.insert(key, kept.len()) {
            kept[previous] = None;
        }
        kept.push(Some(record));
    }
    kept.into_iter().flatten().collect()
}

/// Validates and converts each record, moving refusals into `rejected`.
fn prepare<R, M>(
    kind: EntityKind,
    records: Vec<Numbered<R>>,
    currency: &str,
    rejected: &mut Vec<Rejection>,
    convert: impl Fn(&R) -> Result<M, FieldError>,
) -> Vec<(Numbered<R>, M)>
where
    R: Validate + Keyed,
{
    let mut prepared = Vec::with_capacity(records.len());
    for numbered in last_per_external_id(records) {
        match numbered
            .record
            .validate(currency)
            .and_then(|()| convert(&numbered.record))
        {
            Ok(model) => prepared.push((numbered, model)),
            Err(error) => rejected.push(Rejection {
                kind,
                line: numbered.line,
                external_id: Some(numbered.record.external_id().to_owned()),
                error,
            }),
        }
    }
    prepared
}

/// Inserts `models`, updating every column but the id of rows whose
/// `external_id` already exists.
async fn upsert<E, A>(db: &impl ConnectionTrait, models: Vec<A>, external_id: E::Column) -> Result<(), Error>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    if models.is_empty() {
        return Ok(());
    }
    let updated: Vec<E::Column> = E::Column::iter()
        .filter(|column| !matches!(column.as_str(), "id" | "external_id"))
        .collect();
    E::insert_many(models)
        .on_conflict(OnConflict::column(external_id).update_columns(updated).to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Looks up the customers and accounts a batch of records refers to.
async fn load_parties<R: Parties>(
    references: &mut References,
    db: &impl ConnectionTrait,
    records: &[Numbered<R>],
) -> Result<(), Error> {
    references
        .load(
            db,
            Target::Customer,
            records.iter().map(|n| n.record.customer_external_id()),
        )
        .await?;
    references
        .load(
            db,
            Target::Account,
            records.iter().filter_map(|n| n.record.account_external_id()),
        )
        .await?;
    Ok(())
}

/// Upserts the prepared models of a batch and returns how many there were.
async fn upsert_prepared<R, E, A>(
    db: &impl ConnectionTrait,
    prepared: Vec<(Numbered<R>, A)>,
    external_id: E::Column,
) -> Result<u64, Error>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let written = line_count(prepared.len());
    upsert(db, prepared.into_iter().map(|(_, model)| model).collect(), external_id).await?;
    Ok(written)
}

/// The ids of just-written rows, by external id.
async fn ids_by_external_id<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    external_id: E::Column,
    keys: Vec<String>,
) -> Result<HashMap<String, i64>, Error>
where
    E: EntityTrait,
{
    let rows: Vec<(i64, String)> = E::find()
        .select_only()
        .column(id)
        .column(external_id)
        .filter(external_id.is_in(keys))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, key)| (key, id)).collect())
}

fn line_count(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Writes one batch in `db` (a transaction) and returns how many records it wrote.
async fn write(
    db: &DatabaseTransaction,
    references: &mut References,
    currency: &str,
    batch: RecordBatch,
    rejected: &mut Vec<Rejection>,
) -> Result<u64, Error> {
    let kind = batch.kind();
    match batch {
        RecordBatch::Accounts(records) => {
            let prepared = prepare(kind, records, currency, rejected, |r: &AccountRecord| {
                Ok(account::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    name: Set(r.name.clone()),
                    kind: Set(r.kind),
                    region: Set(r.region.clone()),
                    tier: Set(r.tier),
                    owner: Set(r.owner.clone()),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, account::Column::ExternalId).await
        }
        RecordBatch::Customers(records) => write_customers(db, references, currency, records, rejected).await,
        RecordBatch::Products(records) => {
            let records = refuse_taken_skus(db, records, rejected).await?;
            let prepared = prepare(kind, records, currency, rejected, |r: &ProductRecord| {
                Ok(product::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    sku: Set(r.sku.clone()),
                    name: Set(r.name.clone()),
                    category: Set(r.category.clone()),
                    launched_at: Set(r.launched_at),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, product::Column::ExternalId).await
        }
        RecordBatch::Campaigns(records) => {
            let prepared = prepare(kind, records, currency, rejected, |r: &CampaignRecord| {
                Ok(campaign::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    name: Set(r.name.clone()),
                    team: Set(r.team),
                    channel: Set(r.channel.clone()),
                    spend_minor: Set(r.spend_minor),
                    starts_on: Set(r.starts_on),
                    ends_on: Set(r.ends_on),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, campaign::Column::ExternalId).await
        }
        RecordBatch::Surveys(records) => {
            let prepared = prepare(kind, records, currency, rejected, |r: &SurveyRecord| {
                Ok(survey::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    name: Set(r.name.clone()),
                    kind: Set(r.kind),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, survey::Column::ExternalId).await
        }
        RecordBatch::Orders(records) => write_orders(db, references, currency, records, rejected).await,
        RecordBatch::Touchpoints(records) => {
            load_parties(references, db, &records).await?;
            references
                .load(
                    db,
                    Target::Campaign,
                    records.iter().filter_map(|n| n.record.campaign_external_id.as_deref()),
                )
                .await?;
            let prepared = prepare(kind, records, currency, rejected, |r: &TouchpointRecord| {
                Ok(touchpoint::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    customer_id: Set(references.require(
                        Target::Customer,
                        "customerExternalId",
                        &r.customer_external_id,
                    )?),
                    account_id: Set(references.optional(
                        Target::Account,
                        "accountExternalId",
                        r.account_external_id.as_deref(),
                    )?),
                    campaign_id: Set(references.optional(
                        Target::Campaign,
                        "campaignExternalId",
                        r.campaign_external_id.as_deref(),
                    )?),
                    team: Set(r.team),
                    channel: Set(r.channel.clone()),
                    kind: Set(r.kind),
                    occurred_at: Set(r.occurred_at),
                    properties: Set(r.properties.clone()),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, touchpoint::Column::ExternalId).await
        }
        RecordBatch::Leads(records) => {
            load_parties(references, db, &records).await?;
            let prepared = prepare(kind, records, currency, rejected, |r: &LeadRecord| {
                Ok(lead::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    customer_id: Set(references.require(
                        Target::Customer,
                        "customerExternalId",
                        &r.customer_external_id,
                    )?),
                    account_id: Set(references.optional(
                        Target::Account,
                        "accountExternalId",
                        r.account_external_id.as_deref(),
                    )?),
                    source_team: Set(r.source_team),
                    stage: Set(r.stage),
                    created_at: Set(r.created_at),
                    mql_at: Set(r.mql_at),
                    sql_at: Set(r.sql_at),
                    opportunity_at: Set(r.opportunity_at),
                    closed_at: Set(r.closed_at),
                    amount_minor: Set(r.amount_minor),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, lead::Column::ExternalId).await
        }
        RecordBatch::SurveyResponses(records) => write_responses(db, references, currency, records, rejected).await,
        RecordBatch::ProductTests(records) => {
            references
                .load(
                    db,
                    Target::Product,
                    records.iter().map(|n| n.record.product_external_id.as_str()),
                )
                .await?;
            let prepared = prepare(kind, records, currency, rejected, |r: &ProductTestRecord| {
                Ok(product_test::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    product_id: Set(references.require(
                        Target::Product,
                        "productExternalId",
                        &r.product_external_id,
                    )?),
                    touchpoint: Set(r.touchpoint),
                    variant: Set(r.variant.clone()),
                    panel: Set(r.panel.clone()),
                    tested_at: Set(r.tested_at),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, product_test::Column::ExternalId).await
        }
        RecordBatch::ProductTestVotes(records) => {
            references
                .load(
                    db,
                    Target::ProductTest,
                    records.iter().map(|n| n.record.test_external_id.as_str()),
                )
                .await?;
            let prepared = prepare(kind, records, currency, rejected, |r: &ProductTestVoteRecord| {
                Ok(product_test_vote::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    test_id: Set(references.require(Target::ProductTest, "testExternalId", &r.test_external_id)?),
                    approved: Set(r.approved),
                    rating: Set(r.rating),
                    comment: Set(r.comment.clone()),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, product_test_vote::Column::ExternalId).await
        }
        RecordBatch::BrandMentions(records) => {
            let prepared = prepare(kind, records, currency, rejected, |r: &BrandMentionRecord| {
                Ok(brand_mention::ActiveModel {
                    external_id: Set(r.external_id.clone()),
                    brand: Set(r.brand.clone()),
                    channel: Set(r.channel.clone()),
                    period_start: Set(r.period_start),
                    mentions: Set(r.mentions),
                    positive: Set(r.positive),
                    neutral: Set(r.neutral),
                    negative: Set(r.negative),
                    ..Default::default()
                })
            });
            upsert_prepared(db, prepared, brand_mention::Column::ExternalId).await
        }
    }
}

/// Customers, through identity resolution: each record updates the
/// customer it matches (see [`crate::identity`]) or creates one, and its
/// identities (and its own external id, when it matched another customer)
/// are recorded so later records and references find that customer.
async fn write_customers(
    db: &DatabaseTransaction,
    references: &mut References,
    currency: &str,
    records: Vec<Numbered<CustomerRecord>>,
    rejected: &mut Vec<Rejection>,
) -> Result<u64, Error> {
    let keys = records.iter().filter_map(|n| n.record.account_external_id.as_deref());
    references.load(db, Target::Account, keys).await?;
    let prepared = prepare(
        EntityKind::Customers,
        records,
        currency,
        rejected,
        |r: &CustomerRecord| {
            Ok(customer::ActiveModel {
                external_id: Set(r.external_id.clone()),
                account_id: Set(references.optional(
                    Target::Account,
                    "accountExternalId",
                    r.account_external_id.as_deref(),
                )?),
                email: Set(r.email.clone()),
                email_key: Set(identity::email_key(&r.email)),
                name: Set(r.name.clone()),
                phone: Set(r.phone.clone()),
                region: Set(r.region.clone()),
                country: Set(r.country.clone()),
                acquisition_channel: Set(r.acquisition_channel.clone()),
                traits: Set(r.traits.clone()),
                first_seen_at: Set(r.first_seen_at),
                ..Default::default()
            })
        },
    );
    let written = line_count(prepared.len());
    let incoming: Vec<&CustomerRecord> = prepared.iter().map(|(n, _)| &n.record).collect();
    let targets = identity::resolve::canonical_keys(db, &incoming).await?;
    // Several records may resolve to one customer; the last one's fields win,
    // as they would if the records had been sent one after another.
    let mut models: HashMap<String, (usize, customer::ActiveModel)> = HashMap::new();
    for (position, ((_, mut model), target)) in prepared.iter().cloned().zip(&targets).enumerate() {
        model.external_id = Set(target.clone());
        models.insert(target.clone(), (position, model));
    }
    let mut models: Vec<(usize, customer::ActiveModel)> = models.into_values().collect();
    models.sort_by_key(|(position, _)| *position);
    upsert(
        db,
        models.into_iter().map(|(_, model)| model).collect(),
        customer::Column::ExternalId,
    )
    .await?;
    let ids =
        ids_by_external_id::<customer::Entity>(db, customer::Column::Id, customer::Column::ExternalId, targets.clone())
            .await?;
    let mut identities = std::collections::BTreeSet::new();
    for ((numbered, _), target) in prepared.iter().zip(&targets) {
        let Some(&customer_id) = ids.get(target) else {
            return Err(Error::Internal(format!(
                "customer {target} vanished while its identities were written"
            )));
        };
        let record = &numbered.record;
        for known in &record.identities {
            identities.insert((known.source.clone(), known.source_id.clone(), customer_id));
        }
        if &record.external_id != target {
            identities.insert((
                identity::ALIAS_SOURCE.to_owned(),
                record.external_id.clone(),
                customer_id,
            ));
        }
        references.remember(Target::Customer, &record.external_id, customer_id);
    }
    insert_identities(db, identities.into_iter().collect()).await?;
    Ok(written)
}

/// Records (source, source id, customer) identities. An identity already
/// known stays with its customer: it is what matched the record, or it
/// belongs to a customer that only a merge may take it from.
async fn insert_identities(db: &impl ConnectionTrait, rows: Vec<(String, String, i64)>) -> Result<(), Error> {
    for chunk in rows.chunks(CHILD_ROWS_PER_STATEMENT) {
        let models = chunk
            .iter()
            .map(|(source, source_id, customer_id)| customer_identity::ActiveModel {
                customer_id: Set(*customer_id),
                source: Set(source.clone()),
                source_id: Set(source_id.clone()),
                ..Default::default()
            });
        customer_identity::Entity::insert_many(models)
            .on_conflict_do_nothing_on([customer_identity::Column::Source, customer_identity::Column::SourceId])
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Refuses products whose SKU already belongs to another product (in the
/// database, or earlier in the batch): SKUs are unique, and the upsert
/// would otherwise fail the whole batch on the constraint.
async fn refuse_taken_skus(
    db: &DatabaseTransaction,
    records: Vec<Numbered<ProductRecord>>,
    rejected: &mut Vec<Rejection>,
) -> Result<Vec<Numbered<ProductRecord>>, Error> {
    let skus: Vec<String> = records.iter().map(|n| n.record.sku.clone()).collect();
    let mut owner: HashMap<String, String> = HashMap::new();
    for chunk in skus.chunks(CHILD_ROWS_PER_STATEMENT) {
        let rows: Vec<(String, String)> = product::Entity::find()
            .select_only()
            .column(product::Column::Sku)
            .column(product::Column::ExternalId)
            .filter(product::Column::Sku.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        owner.extend(rows);
    }
    let mut kept = Vec::with_capacity(records.len());
    for numbered in records {
        let holder = owner
            .entry(numbered.record.sku.clone())
            .or_insert_with(|| numbered.record.external_id.clone());
        if *holder == numbered.record.external_id {
            kept.push(numbered);
        } else {
            rejected.push(Rejection {
                kind: EntityKind::Products,
                line: numbered.line,
                external_id: Some(numbered.record.external_id.clone()),
                error: FieldError::new(
                    "sku",
                    format!("{:?} already belongs to product {holder:?}", numbered.record.sku),
                ),
            });
        }
    }
    Ok(kept)
}

/// Orders and their lines: the lines of a re-sent order replace the old ones.
async fn write_orders(
    db: &DatabaseTransaction,
    references: &mut References,
    currency: &str,
    records: Vec<Numbered<OrderRecord>>,
    rejected: &mut Vec<Rejection>,
) -> Result<u64, Error> {
    load_parties(references, db, &records).await?;
    // Collected before the await: a lazy iterator of nested closures held
    // across it makes the future not provably `Send` (GraphQL needs that).
    let products: Vec<&str> = records
        .iter()
        .flat_map(|n| n.record.lines.iter().map(|line| line.product_external_id.as_str()))
        .collect();
    references.load(db, Target::Product, products).await?;
    let prepared = prepare(EntityKind::Orders, records, currency, rejected, |r: &OrderRecord| {
        let lines = r
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let field = format!("lines[{index}].productExternalId");
                Ok((
                    references.require(Target::Product, &field, &line.product_external_id)?,
                    line,
                ))
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        let order = orders::ActiveModel {
            external_id: Set(r.external_id.clone()),
            customer_id: Set(references.require(Target::Customer, "customerExternalId", &r.customer_external_id)?),
            account_id: Set(references.optional(
                Target::Account,
                "accountExternalId",
                r.account_external_id.as_deref(),
            )?),
            channel: Set(r.channel),
            amount_minor: Set(r.amount_minor),
            ordered_at: Set(r.ordered_at),
            ..Default::default()
        };
        let lines: Vec<(i32, i64, i32, i64)> = lines
            .into_iter()
            .zip(0..)
            .map(|((product_id, line), line_no)| (line_no, product_id, line.quantity, line.unit_amount_minor))
            .collect();
        Ok((order, lines))
    });
    let written = line_count(prepared.len());
    let keys: Vec<String> = prepared.iter().map(|(n, _)| n.record.external_id.clone()).collect();
    let mut line_rows = Vec::new();
    let mut order_models = Vec::with_capacity(prepared.len());
    for (numbered, (order, lines)) in prepared {
        order_models.push(order);
        line_rows.push((numbered.record.external_id, lines));
    }
    upsert(db, order_models, orders::Column::ExternalId).await?;
    let ids = ids_by_external_id::<orders::Entity>(db, orders::Column::Id, orders::Column::ExternalId, keys).await?;
    order_line::Entity::delete_many()
        .filter(order_line::Column::OrderId.is_in(ids.values().copied()))
        .exec(db)
        .await?;
    let mut lines = Vec::new();
    for (external_id, order_lines) in line_rows {
        let Some(&order_id) = ids.get(&external_id) else {
            return Err(Error::Internal(format!(
                "order {external_id} vanished while its lines were written"
            )));
        };
        lines.extend(
            order_lines.into_iter().map(
                |(line_no, product_id, quantity, unit_amount_minor)| order_line::ActiveModel {
                    order_id: Set(order_id),
                    line_no: Set(line_no),
                    product_id: Set(product_id),
                    quantity: Set(quantity),
                    unit_amount_minor: Set(unit_amount_minor),
                    ..Default::default()
                },
            ),
        );
    }
    insert_children(db, lines).await?;
    Ok(written)
}

/// Survey responses with their brand answers and attribute ratings, which
/// a re-sent response replaces.
async fn write_responses(
    db: &DatabaseTransaction,
    references: &mut References,
    currency: &str,
    records: Vec<Numbered<SurveyResponseRecord>>,
    rejected: &mut Vec<Rejection>,
) -> Result<u64, Error> {
    references
        .load(
            db,
            Target::Survey,
            records.iter().map(|n| n.record.survey_external_id.as_str()),
        )
        .await?;
    references
        .load(
            db,
            Target::Customer,
            records.iter().filter_map(|n| n.record.customer_external_id.as_deref()),
        )
        .await?;
    let prepared = prepare(
        EntityKind::SurveyResponses,
        records,
        currency,
        rejected,
        |r: &SurveyResponseRecord| {
            Ok(survey_response::ActiveModel {
                external_id: Set(r.external_id.clone()),
                survey_id: Set(references.require(Target::Survey, "surveyExternalId", &r.survey_external_id)?),
                customer_id: Set(references.optional(
                    Target::Customer,
                    "customerExternalId",
                    r.customer_external_id.as_deref(),
                )?),
                region: Set(r.region.clone()),
                responded_at: Set(r.responded_at),
                nps_score: Set(r.nps_score),
                purchase_intent: Set(r.purchase_intent),
                comment: Set(r.comment.clone()),
                ..Default::default()
            })
        },
    );
    let written = line_count(prepared.len());
    let keys: Vec<String> = prepared.iter().map(|(n, _)| n.record.external_id.clone()).collect();
    let mut answers = Vec::with_capacity(prepared.len());
    let mut models = Vec::with_capacity(prepared.len());
    for (numbered, model) in prepared {
        models.push(model);
        answers.push((
            numbered.record.external_id,
            numbered.record.brands,
            numbered.record.ratings,
        ));
    }
    upsert(db, models, survey_response::Column::ExternalId).await?;
    let ids = ids_by_external_id::<survey_response::Entity>(
        db,
        survey_response::Column::Id,
        survey_response::Column::ExternalId,
        keys,
    )
    .await?;
    let response_ids: Vec<i64> = ids.values().copied().collect();
    brand_answer::Entity::delete_many()
        .filter(brand_answer::Column::ResponseId.is_in(response_ids.iter().copied()))
        .exec(db)
        .await?;
    driver_rating::Entity::delete_many()
        .filter(driver_rating::Column::ResponseId.is_in(response_ids))
        .exec(db)
        .await?;
    let mut brand_rows = Vec::new();
    let mut rating_rows = Vec::new();
    for (external_id, brands, ratings) in answers {
        let Some(&response_id) = ids.get(&external_id) else {
            return Err(Error::Internal(format!(
                "response {external_id} vanished while its answers were written"
            )));
        };
        brand_rows.extend(brands.into_iter().map(|answer| brand_answer::ActiveModel {
            response_id: Set(response_id),
            brand: Set(answer.brand),
            aware: Set(answer.aware),
            considered: Set(answer.considered),
            preferred: Set(answer.preferred),
            ..Default::default()
        }));
        rating_rows.extend(ratings.into_iter().map(|rating| driver_rating::ActiveModel {
            response_id: Set(response_id),
            attribute: Set(rating.attribute),
            rating: Set(rating.rating),
            ..Default::default()
        }));
    }
    insert_children(db, brand_rows).await?;
    insert_children(db, rating_rows).await?;
    Ok(written)
}

/// Rows per child INSERT: keeps the bound parameters of one statement well
/// under SQLite's and PostgreSQL's limits.
const CHILD_ROWS_PER_STATEMENT: usize = 2000;

async fn insert_children<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), Error>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHILD_ROWS_PER_STATEMENT).collect();
        A::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

impl Ingestor {
    /// Records refusals found before the writer saw the records (lines that
    /// did not parse). They count like any other: an all-or-nothing run
    /// with any of them writes nothing.
    pub fn reject(&mut self, rejections: Vec<Rejection>) {
        self.report.rejected.extend(rejections);
    }
}
