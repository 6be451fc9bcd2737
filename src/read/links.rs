//! Which rows belong to an account or a customer, as link statements of
//! `(link_child, link_parent)` pairs for many parents at once.
//!
//! An account's touchpoints, orders and leads are those recorded against
//! the account **or** made by any of its contacts, from every team: a
//! marketing touch of a contact that names no account is still part of
//! the account's story. Its survey responses are its contacts'. A
//! customer's rows are those with its `customer_id`.
//!
//! Nested lists ([`crate::read::relations`]), the account's stats and the
//! journey all read these statements, so the rule lives here only.

use crate::db::keyset::{LINK_CHILD, LINK_PARENT};
use crate::db::sql::Keys;
use entity::{customer, lead, orders, survey_response, touchpoint};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden, Query, SelectStatement, UnionType};

/// The tables whose rows belong to accounts and customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owned {
    Touchpoints,
    Orders,
    Leads,
    SurveyResponses,
}

impl Owned {
    fn table(self) -> sea_orm::sea_query::DynIden {
        match self {
            Owned::Touchpoints => touchpoint::Entity.into_iden(),
            Owned::Orders => orders::Entity.into_iden(),
            Owned::Leads => lead::Entity.into_iden(),
            Owned::SurveyResponses => survey_response::Entity.into_iden(),
        }
    }

    /// Whether the table records an account of its own.
    fn has_account(self) -> bool {
        !matches!(self, Owned::SurveyResponses)
    }
}

/// Whose rows a link selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Account,
    Customer,
}

/// The `(link_child, link_parent)` pairs of `table`'s rows owned by the
/// parents in `parent_ids`; each pair once.
pub fn links(owner: Owner, table: Owned, parent_ids: Keys<'_>) -> SelectStatement {
    match owner {
        Owner::Customer => direct(table, "customer_id", parent_ids),
        Owner::Account => {
            let mut through_contacts = Query::select();
            through_contacts
                .expr_as(Expr::col((table.table(), Alias::new("id"))), Alias::new(LINK_CHILD))
                .expr_as(
                    Expr::col((customer::Entity, customer::Column::AccountId)),
                    Alias::new(LINK_PARENT),
                )
                .from(table.table())
                .inner_join(
                    customer::Entity,
                    Expr::col((customer::Entity, customer::Column::Id))
                        .equals((table.table(), Alias::new("customer_id"))),
                )
                .and_where(parent_ids.contain(Expr::col((customer::Entity, customer::Column::AccountId))));
            if !table.has_account() {
                return through_contacts;
            }
            let mut recorded = direct(table, "account_id", parent_ids);
            recorded.union(UnionType::Distinct, through_contacts);
            recorded
        }
    }
}

/// Pairs through a column of the table itself.
fn direct(table: Owned, parent_column: &'static str, parent_ids: Keys<'_>) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col((table.table(), Alias::new("id"))), Alias::new(LINK_CHILD))
        .expr_as(
            Expr::col((table.table(), Alias::new(parent_column))),
            Alias::new(LINK_PARENT),
        )
        .from(table.table())
        .and_where(parent_ids.contain(Expr::col((table.table(), Alias::new(parent_column)))))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::*;

    fn has<C: IdenStatic + Iterable>(name: &str) -> bool {
        C::iter().any(|column| column.as_str() == name)
    }

    #[test]
    fn the_linked_tables_have_the_columns_the_links_name() {
        assert!(has::<touchpoint::Column>("customer_id") && has::<touchpoint::Column>("account_id"));
        assert!(has::<orders::Column>("customer_id") && has::<orders::Column>("account_id"));
        assert!(has::<lead::Column>("customer_id") && has::<lead::Column>("account_id"));
        assert!(has::<survey_response::Column>("customer_id") && !has::<survey_response::Column>("account_id"));
    }
}
