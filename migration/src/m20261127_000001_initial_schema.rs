//! The whole data model of DESIGN.md §2: tables, foreign keys, unique
//! external ids and the indexes that the read paths use.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a foreign key does when its parent row is deleted.
#[derive(Clone, Copy)]
enum OnParentDelete {
    /// The child belongs to the parent (order lines, brand answers…).
    Cascade,
    /// The reference is optional context (an order's account…).
    SetNull,
    /// The child is a record in its own right; deleting the parent is refused.
    Restrict,
}

/// A table under construction: a big-integer id plus the columns, foreign
/// keys and indexes added to it.
struct TableSpec {
    name: &'static str,
    create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
}

impl TableSpec {
    fn new(name: &'static str) -> Self {
        let mut create = Table::create();
        create.table(name).col(big_pk_auto("id"));
        Self {
            name,
            create,
            indexes: Vec::new(),
        }
    }

    /// A table keyed by the pair of its `columns` instead of a surrogate id.
    fn keyed_by(name: &'static str, columns: [&'static str; 2]) -> Self {
        let mut create = Table::create();
        create
            .table(name)
            .primary_key(Index::create().col(columns[0]).col(columns[1]));
        Self {
            name,
            create,
            indexes: Vec::new(),
        }
    }

    /// The `external_id` that ingest upserts by, unique per table.
    fn external_id(self) -> Self {
        self.col(string_uniq("external_id"))
    }

    fn col(mut self, column: ColumnDef) -> Self {
        self.create.col(column);
        self
    }

    fn reference(
        mut self,
        column: &'static str,
        parent: &'static str,
        nullable: bool,
        on_delete: OnParentDelete,
    ) -> Self {
        let column_def = if nullable {
            big_integer_null(column)
        } else {
            big_integer(column)
        };
        self.create.col(column_def);
        let action = match on_delete {
            OnParentDelete::Cascade => ForeignKeyAction::Cascade,
            OnParentDelete::SetNull => ForeignKeyAction::SetNull,
            OnParentDelete::Restrict => ForeignKeyAction::Restrict,
        };
        self.create.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{}_{}", self.name, column))
                .from(self.name, column)
                .to(parent, "id")
                .on_delete(action),
        );
        self
    }

    fn index(self, columns: &[&'static str]) -> Self {
        self.add_index(columns, false)
    }

    fn unique(self, columns: &[&'static str]) -> Self {
        self.add_index(columns, true)
    }

    fn add_index(mut self, columns: &[&'static str], unique: bool) -> Self {
        let mut index = Index::create();
        index
            .name(format!("ix_{}_{}", self.name, columns.join("_")))
            .table(self.name);
        for column in columns {
            index.col(*column);
        }
        if unique {
            index.unique();
        }
        self.indexes.push(index.to_owned());
        self
    }
}

use OnParentDelete::{Cascade, Restrict, SetNull};

/// Every table in creation order: parents before children.
fn tables() -> Vec<TableSpec> {
    vec![
        TableSpec::new("account")
            .external_id()
            .col(string("name"))
            .col(string("kind"))
            .col(string("region"))
            .col(string("tier"))
            .col(string("owner"))
            .index(&["region"])
            .index(&["name"]),
        TableSpec::new("customer")
            .external_id()
            .reference("account_id", "account", true, SetNull)
            .col(string("email"))
            .col(string("name"))
            .col(string_null("phone"))
            .col(string("region"))
            .col(string("country"))
            .col(string("acquisition_channel"))
            .col(json_binary("traits"))
            .col(timestamp_with_time_zone("first_seen_at"))
            .reference("merged_into_id", "customer", true, SetNull)
            .index(&["account_id"])
            .index(&["email"])
            .index(&["region"])
            .index(&["name"])
            .index(&["first_seen_at"]),
        TableSpec::new("customer_identity")
            .reference("customer_id", "customer", false, Cascade)
            .col(string("source"))
            .col(string("source_id"))
            .unique(&["source", "source_id"])
            .index(&["customer_id"]),
        TableSpec::new("product")
            .external_id()
            .col(string_uniq("sku"))
            .col(string("name"))
            .col(string("category"))
            .col(timestamp_with_time_zone("launched_at"))
            .index(&["category"]),
        TableSpec::new("orders")
            .external_id()
            .reference("customer_id", "customer", false, Restrict)
            .reference("account_id", "account", true, SetNull)
            .col(string("channel"))
            .col(big_integer("amount_minor"))
            .col(timestamp_with_time_zone("ordered_at"))
            .index(&["customer_id", "ordered_at"])
            .index(&["account_id", "ordered_at"])
            .index(&["ordered_at"]),
        TableSpec::new("order_line")
            .reference("order_id", "orders", false, Cascade)
            .col(integer("line_no"))
            .reference("product_id", "product", false, Restrict)
            .col(integer("quantity"))
            .col(big_integer("unit_amount_minor"))
            .unique(&["order_id", "line_no"])
            .index(&["product_id"]),
        TableSpec::new("campaign")
            .external_id()
            .col(string("name"))
            .col(string("team"))
            .col(string("channel"))
            .col(big_integer("spend_minor"))
            .col(date("starts_on"))
            .col(date("ends_on"))
            .index(&["starts_on"]),
        TableSpec::new("touchpoint")
            .external_id()
            .reference("customer_id", "customer", false, Restrict)
            .reference("account_id", "account", true, SetNull)
            .reference("campaign_id", "campaign", true, SetNull)
            .col(string("team"))
            .col(string("channel"))
            .col(string("kind"))
            .col(timestamp_with_time_zone("occurred_at"))
            .col(json_binary("properties"))
            .index(&["customer_id", "occurred_at"])
            .index(&["account_id", "occurred_at"])
            .index(&["campaign_id", "occurred_at"])
            .index(&["occurred_at"]),
        TableSpec::new("lead")
            .external_id()
            .reference("customer_id", "customer", false, Restrict)
            .reference("account_id", "account", true, SetNull)
            .col(string("source_team"))
            .col(string("stage"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("mql_at"))
            .col(timestamp_with_time_zone_null("sql_at"))
            .col(timestamp_with_time_zone_null("opportunity_at"))
            .col(timestamp_with_time_zone_null("closed_at"))
            .col(big_integer_null("amount_minor"))
            .index(&["customer_id", "created_at"])
            .index(&["account_id", "created_at"])
            .index(&["created_at"]),
        TableSpec::new("survey")
            .external_id()
            .col(string("name"))
            .col(string("kind")),
        TableSpec::new("survey_response")
            .external_id()
            .reference("survey_id", "survey", false, Restrict)
            .reference("customer_id", "customer", true, SetNull)
            .col(string("region"))
            .col(timestamp_with_time_zone("responded_at"))
            .col(integer_null("nps_score"))
            .col(integer_null("purchase_intent"))
            .col(text_null("comment"))
            .index(&["survey_id", "responded_at"])
            .index(&["customer_id", "responded_at"])
            .index(&["responded_at"]),
        TableSpec::new("brand_answer")
            .reference("response_id", "survey_response", false, Cascade)
            .col(string("brand"))
            .col(boolean("aware"))
            .col(boolean("considered"))
            .col(boolean("preferred"))
            .unique(&["response_id", "brand"]),
        TableSpec::new("driver_rating")
            .reference("response_id", "survey_response", false, Cascade)
            .col(string("attribute"))
            .col(integer("rating"))
            .unique(&["response_id", "attribute"]),
        TableSpec::new("product_test")
            .external_id()
            .reference("product_id", "product", false, Restrict)
            .col(string("touchpoint"))
            .col(string("variant"))
            .col(string("panel"))
            .col(timestamp_with_time_zone("tested_at"))
            .index(&["product_id", "touchpoint", "variant"])
            .index(&["tested_at"]),
        TableSpec::new("product_test_vote")
            .external_id()
            .reference("test_id", "product_test", false, Cascade)
            .col(boolean("approved"))
            .col(integer_null("rating"))
            .col(text_null("comment"))
            .index(&["test_id"]),
        TableSpec::new("brand_mention")
            .external_id()
            .col(string("brand"))
            .col(string("channel"))
            .col(date("period_start"))
            .col(big_integer("mentions"))
            .col(big_integer("positive"))
            .col(big_integer("neutral"))
            .col(big_integer("negative"))
            .index(&["period_start", "brand", "channel"]),
        TableSpec::new("segment")
            .col(string_uniq("name"))
            .col(text_null("description"))
            .col(string("team"))
            .col(json_binary("rule"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("refreshed_at")),
        TableSpec::keyed_by("segment_member", ["segment_id", "customer_id"])
            .reference("segment_id", "segment", false, Cascade)
            .reference("customer_id", "customer", false, Cascade)
            .col(timestamp_with_time_zone("joined_at"))
            .index(&["customer_id"]),
        TableSpec::new("segment_size")
            .reference("segment_id", "segment", false, Cascade)
            .col(timestamp_with_time_zone("at"))
            .col(big_integer("size"))
            .col(big_integer("joined"))
            .col(big_integer("left"))
            .index(&["segment_id", "at"]),
        TableSpec::new("api_key")
            .col(string("name"))
            .col(string("role"))
            .col(string_uniq("key_hash"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .col(timestamp_with_time_zone_null("last_used_at")),
        TableSpec::new("audit_log")
            .reference("api_key_id", "api_key", true, SetNull)
            .col(string("action"))
            .col(text("target"))
            .col(timestamp_with_time_zone("at"))
            .index(&["at"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table.create).await?;
            for index in table.indexes {
                manager.create_index(index).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().into_iter().rev() {
            manager.drop_table(Table::drop().table(table.name).to_owned()).await?;
        }
        Ok(())
    }
}
