//! Orders and their lines: the lines of a re-sent order replace the old ones.

use async_trait::async_trait;
use entity::{order_line, orders};
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseTransaction;

use super::Parties;
use crate::error::Error;
use crate::events::Event;
use crate::ingest::kinds::{EntityKind, Kind, Reference, Row, WrittenRow};
use crate::ingest::records::{FieldError, OrderRecord};
use crate::ingest::references::References;
use crate::ingest::upsert::{delete_children, insert_rows};

impl OrderRecord {
    fn parties(&self) -> Parties<'_> {
        Parties::of(&self.customer_external_id, self.account_external_id.as_deref())
    }

    /// The product each line refers to, in line order.
    fn line_products(&self) -> impl Iterator<Item = Reference<'_>> {
        self.lines.iter().enumerate().map(|(index, line)| {
            let field = format!("lines[{index}].productExternalId");
            Reference::to(EntityKind::Products, field, &line.product_external_id)
        })
    }

    /// The product id of each line, or the line at fault.
    fn line_product_ids(&self, references: &References) -> Result<Vec<i64>, FieldError> {
        self.line_products().map(|product| references.id(&product)).collect()
    }
}

#[async_trait]
impl Kind for OrderRecord {
    const KIND: EntityKind = EntityKind::Orders;
    type Entity = orders::Entity;
    const HAS_CHILDREN: bool = true;
    const ANNOUNCED: bool = true;

    fn references(&self) -> Vec<Reference<'_>> {
        let mut references = self.parties().references();
        references.extend(self.line_products());
        references
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        self.line_product_ids(references)?;
        let (customer_id, account_id) = self.parties().ids(references)?;
        Ok(orders::ActiveModel {
            external_id: Set(self.external_id.clone()),
            customer_id: Set(customer_id),
            account_id: Set(account_id),
            channel: Set(self.channel),
            amount_minor: Set(self.amount_minor),
            ordered_at: Set(self.ordered_at),
            ..Default::default()
        })
    }

    async fn replace_children(
        db: &DatabaseTransaction,
        references: &References,
        parents: Vec<(i64, Self)>,
    ) -> Result<(), Error> {
        let ids: Vec<i64> = parents.iter().map(|(id, _)| *id).collect();
        delete_children::<order_line::Entity>(db, order_line::Column::OrderId, &ids).await?;
        let mut lines = Vec::new();
        for (order_id, order) in parents {
            // Checked when the row was built; a failure here is ours.
            let products = order
                .line_product_ids(references)
                .map_err(|error| Error::Internal(format!("order {}: {error}", order.external_id)))?;
            lines.extend(
                order
                    .lines
                    .iter()
                    .zip(products)
                    .zip(0..)
                    .map(|((line, product_id), line_no)| order_line::ActiveModel {
                        order_id: Set(order_id),
                        line_no: Set(line_no),
                        product_id: Set(product_id),
                        quantity: Set(line.quantity),
                        unit_amount_minor: Set(line.unit_amount_minor),
                        ..Default::default()
                    }),
            );
        }
        insert_rows(db, lines).await
    }

    fn announce(row: WrittenRow) -> Option<Event> {
        Some(Event::OrderRecorded {
            id: row.id,
            customer_id: row.customer_id,
            account_id: row.account_id,
        })
    }
}
