//! Products: unique by SKU as well as by external id.

use std::collections::HashMap;

use async_trait::async_trait;
use entity::product;
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseTransaction;

use crate::db::sql::Sql;
use crate::error::Error;
use crate::ingest::kinds::{EntityKind, Kind, Numbered, Row};
use crate::ingest::records::{FieldError, ProductRecord};
use crate::ingest::references::References;
use crate::ingest::upsert::KEYS_PER_LOOKUP;
use crate::ingest::writer::Rejection;

#[async_trait]
impl Kind for ProductRecord {
    const KIND: EntityKind = EntityKind::Products;
    type Entity = product::Entity;

    fn row(&self, _: &References) -> Result<Row<Self>, FieldError> {
        Ok(product::ActiveModel {
            external_id: Set(self.external_id.clone()),
            sku: Set(self.sku.clone()),
            name: Set(self.name.clone()),
            category: Set(self.category.clone()),
            launched_at: Set(self.launched_at),
            ..Default::default()
        })
    }

    /// Refuses products whose SKU already belongs to another product (in
    /// the database, or earlier in the batch): the upsert would otherwise
    /// fail the whole batch on the constraint.
    async fn screen(
        db: &DatabaseTransaction,
        records: Vec<Numbered<Self>>,
        rejected: &mut Vec<Rejection>,
    ) -> Result<Vec<Numbered<Self>>, Error> {
        let skus: Vec<String> = records.iter().map(|n| n.record.sku.clone()).collect();
        let mut owner: HashMap<String, String> = HashMap::new();
        for chunk in skus.chunks(KEYS_PER_LOOKUP) {
            let mut sql = Sql::new(sea_orm::ConnectionTrait::get_database_backend(db));
            sql.push("SELECT sku, external_id FROM product WHERE sku IN ")
                .bind_list(chunk.iter().cloned());
            for row in sql.all(db).await? {
                owner.insert(row.try_get("", "sku")?, row.try_get("", "external_id")?);
            }
        }
        let mut kept = Vec::with_capacity(records.len());
        for numbered in records {
            let holder = owner
                .entry(numbered.record.sku.clone())
                .or_insert_with(|| numbered.record.external_id.clone());
            if *holder == numbered.record.external_id {
                kept.push(numbered);
            } else {
                rejected.push(Rejection::of(
                    &numbered,
                    FieldError::new(
                        "sku",
                        format!("{:?} already belongs to product {holder:?}", numbered.record.sku),
                    ),
                ));
            }
        }
        Ok(kept)
    }
}
