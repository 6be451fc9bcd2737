//! Parent → children relations that nested lists follow: paged ones
//! (`customer.orders`) and plain ones (`order.lines`). Each is a marker
//! type so that a DataLoader can batch the children of many parents into
//! one statement per relation.

use entity::enums::LeadStage;
use entity::{
    brand_answer, customer, customer_identity, driver_rating, lead, order_line, orders, product_test,
    product_test_vote, survey_response, touchpoint,
};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use super::filters::{LeadFilter, OrderFilter, RowFilter, SurveyResponseFilter, TouchpointFilter};
use super::links::{Owned, Owner, links};
use super::sorts::*;
use crate::db::keyset::{Keyset, SortField};
use crate::db::sql::Keys;

/// Children read a page at a time.
pub trait PagedRelation: Send + Sync + 'static {
    type Child: Keyset;
    type Sort: SortField<Self::Child>;
    /// The `filter` a client may give the nested list: the root list's
    /// filter of the same rows, or `()` when the list takes none.
    type Filter: RowFilter<Self::Child>;
    /// The children this relation ranges over (all, unless it filters).
    fn base() -> Select<Self::Child> {
        Self::Child::find()
    }
    /// How a child names its parents.
    fn parents() -> Parents<Self::Child>;
}

/// How children name their parents.
pub enum Parents<E: EntityTrait> {
    /// A column of the child holds its one parent's id.
    Column(E::Column, fn(&E::Model) -> Option<i64>),
    /// A link statement pairs children with parents ([`crate::read::links`]);
    /// a child may have several.
    Linked(fn(Keys<'_>) -> SelectStatement),
}

/// Children read all at once, in id order (an order's lines).
pub trait ListRelation: Send + Sync + 'static {
    type Child: Keyset;
    fn parent_column() -> <Self::Child as EntityTrait>::Column;
    fn parent_of(child: &<Self::Child as EntityTrait>::Model) -> Option<i64>;
}

macro_rules! paged_relation {
    ($(#[$meta:meta])* $name:ident: $child:ident by $column:ident, sorted by $sort:ty, filtered by $filter:ty, parent $field:ident $(as $optional:ident)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;

        impl PagedRelation for $name {
            type Child = $child::Entity;
            type Sort = $sort;
            type Filter = $filter;
            fn parents() -> Parents<$child::Entity> {
                Parents::Column($child::Column::$column, |child: &$child::Model| paged_relation!(@parent child.$field $(, $optional)?))
            }
        }
    };
    (@parent $value:expr) => { Some($value) };
    (@parent $value:expr, optional) => { $value };
}

macro_rules! list_relation {
    ($(#[$meta:meta])* $name:ident: $child:ident by $column:ident, parent $field:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name;

        impl ListRelation for $name {
            type Child = $child::Entity;
            fn parent_column() -> $child::Column {
                $child::Column::$column
            }
            fn parent_of(child: &$child::Model) -> Option<i64> {
                Some(child.$field)
            }
        }
    };
}

paged_relation!(
    /// An account's contacts.
    AccountCustomers: customer by AccountId, sorted by CustomerSort, filtered by (), parent account_id as optional
);
paged_relation!(
    /// A customer's orders.
    CustomerOrders: orders by CustomerId, sorted by OrderSort, filtered by OrderFilter, parent customer_id
);
paged_relation!(
    /// A customer's journey.
    CustomerTouchpoints: touchpoint by CustomerId, sorted by TouchpointSort, filtered by TouchpointFilter, parent customer_id
);
paged_relation!(
    /// A customer's leads.
    CustomerLeads: lead by CustomerId, sorted by LeadSort, filtered by LeadFilter, parent customer_id
);
paged_relation!(
    /// A customer's survey responses.
    CustomerSurveyResponses: survey_response by CustomerId, sorted by SurveyResponseSort, filtered by SurveyResponseFilter, parent customer_id as optional
);
paged_relation!(
    /// Touchpoints a campaign produced.
    CampaignTouchpoints: touchpoint by CampaignId, sorted by TouchpointSort, filtered by TouchpointFilter, parent campaign_id as optional
);
paged_relation!(
    /// A survey's responses.
    SurveyResponses: survey_response by SurveyId, sorted by SurveyResponseSort, filtered by SurveyResponseFilter, parent survey_id
);
paged_relation!(
    /// Tests of a product's touchpoints.
    ProductTests: product_test by ProductId, sorted by ProductTestSort, filtered by (), parent product_id
);
paged_relation!(
    /// The votes of a product test.
    ProductTestVotes: product_test_vote by TestId, sorted by ProductTestVoteSort, filtered by (), parent test_id
);

list_relation!(
    /// A customer's ids in source systems.
    CustomerIdentities: customer_identity by CustomerId, parent customer_id
);
list_relation!(
    /// The lines of an order.
    OrderLines: order_line by OrderId, parent order_id
);
list_relation!(
    /// The brands a respondent rated.
    ResponseBrandAnswers: brand_answer by ResponseId, parent response_id
);
list_relation!(
    /// The attributes a respondent rated.
    ResponseDriverRatings: driver_rating by ResponseId, parent response_id
);

/// An account's leads ([`AccountLeads`]) that are still open (not WON or LOST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountOpenLeads;

impl PagedRelation for AccountOpenLeads {
    type Child = lead::Entity;
    type Sort = LeadSort;
    type Filter = LeadFilter;
    fn base() -> Select<lead::Entity> {
        lead::Entity::find().filter(lead::Column::Stage.is_not_in([LeadStage::Won, LeadStage::Lost]))
    }
    fn parents() -> Parents<lead::Entity> {
        Parents::Linked(|accounts| links(Owner::Account, Owned::Leads, accounts))
    }
}

/// An account's orders: sold through it or placed by any of its contacts
/// ([`crate::read::links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountOrders;

impl PagedRelation for AccountOrders {
    type Child = orders::Entity;
    type Sort = OrderSort;
    type Filter = OrderFilter;
    fn parents() -> Parents<orders::Entity> {
        Parents::Linked(|accounts| links(Owner::Account, Owned::Orders, accounts))
    }
}

/// An account's leads: recorded against it or of any of its contacts
/// ([`crate::read::links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountLeads;

impl PagedRelation for AccountLeads {
    type Child = lead::Entity;
    type Sort = LeadSort;
    type Filter = LeadFilter;
    fn parents() -> Parents<lead::Entity> {
        Parents::Linked(|accounts| links(Owner::Account, Owned::Leads, accounts))
    }
}

/// An account's touchpoints: recorded against it or made to any of its
/// contacts, from every team ([`crate::read::links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountTouchpoints;

impl PagedRelation for AccountTouchpoints {
    type Child = touchpoint::Entity;
    type Sort = TouchpointSort;
    type Filter = TouchpointFilter;
    fn parents() -> Parents<touchpoint::Entity> {
        Parents::Linked(|accounts| links(Owner::Account, Owned::Touchpoints, accounts))
    }
}

/// An account's survey responses: its contacts' ([`crate::read::links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountSurveyResponses;

impl PagedRelation for AccountSurveyResponses {
    type Child = survey_response::Entity;
    type Sort = SurveyResponseSort;
    type Filter = SurveyResponseFilter;
    fn parents() -> Parents<survey_response::Entity> {
        Parents::Linked(|accounts| links(Owner::Account, Owned::SurveyResponses, accounts))
    }
}
