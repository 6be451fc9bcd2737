//! Customer identity: merging two records of one person.

use async_graphql::{Context, ID, Object};
use entity::customer;
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::auth::Viewer;
use crate::error::Error;
use crate::graphql::error::IntoGraphql;
use crate::graphql::ids;
use crate::graphql::types::customer::Customer;
use crate::identity::merge::merge_customers;

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Moves everything `merged` owns (identities, orders, touchpoints,
    /// survey responses, leads, segment memberships) to `survivor` in one
    /// transaction, and returns the survivor. `merged` keeps `mergedInto`,
    /// and reading it by id leads to the survivor.
    async fn merge_customers(&self, ctx: &Context<'_>, survivor: ID, merged: ID) -> async_graphql::Result<Customer> {
        let viewer = ctx.data::<Viewer>()?;
        if !viewer.may_merge_customers() {
            return Err(Error::Forbidden(format!(
                "role {} may not merge customers",
                viewer.role
            )))
            .gql();
        }
        let survivor = ids::decode_as(&survivor, "Customer", "survivor").gql()?;
        let merged = ids::decode_as(&merged, "Customer", "merged").gql()?;
        let db = ctx.data::<DatabaseConnection>()?;
        let outcome = merge_customers(db, survivor, merged).await.gql()?;
        tracing::info!(survivor, merged, moved = ?outcome.moved, "merged customers");
        customer::Entity::find_by_id(outcome.survivor_id)
            .one(db)
            .await
            .gql()?
            .map(Customer)
            .ok_or_else(|| Error::not_found("Customer", outcome.survivor_id))
            .gql()
    }
}
