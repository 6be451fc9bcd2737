//! `orderBy` inputs: for each list, the fields it can be sorted by (each
//! mirroring a sort of [`crate::read::sorts`]) and a direction.

use async_graphql::{Enum, InputObject};

use crate::db::keyset::Direction;
use crate::graphql::connection::SortDirection;
use crate::read::sorts;

/// Declares a sort-field enum mirroring `$remote`, an `orderBy` input
/// around it, and the default order used when a client gives none.
macro_rules! order_by {
    (
        $(#[$meta:meta])*
        $input:ident, $field:ident = $remote:literal as $domain:ty { $($variant:ident),+ $(,)? },
        default $default_field:ident $default_direction:ident
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        #[graphql(remote = $remote)]
        pub enum $field {
            $($variant),+
        }

        $(#[$meta])*
        #[derive(Debug, Clone, Copy, InputObject)]
        pub struct $input {
            pub field: $field,
            #[graphql(default)]
            pub direction: SortDirection,
        }

        impl $input {
            /// The sort to apply: the client's, or the list's default.
            pub fn resolve(order: Option<Self>) -> ($domain, Direction) {
                match order {
                    Some(order) => (order.field.into(), order.direction.into()),
                    None => (<$domain>::$default_field, Direction::$default_direction),
                }
            }
        }
    };
}

/// What accounts can be sorted by: a column, or what sales acts on
/// (computed per account, [`crate::accounts::ranking`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AccountSortField {
    ExternalId,
    Name,
    /// The health score today (`health.score`).
    Health,
    /// The last order's day; accounts without an order sort as the oldest.
    LastOrderAt,
}

/// How to sort accounts (default: by external id).
#[derive(Debug, Clone, Copy, InputObject)]
pub struct AccountOrderBy {
    pub field: AccountSortField,
    #[graphql(default)]
    pub direction: SortDirection,
}

/// An account order: a column's keyset, or a ranking computed per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountOrder {
    Column(sorts::AccountSort, Direction),
    Ranked(crate::accounts::ranking::RankBy, Direction),
}

impl AccountOrderBy {
    /// The order to apply: the client's, or by external id.
    pub fn resolve(order: Option<Self>) -> AccountOrder {
        use crate::accounts::ranking::RankBy;
        let (field, direction) = order.map_or((AccountSortField::ExternalId, Direction::Asc), |order| {
            (order.field, order.direction.into())
        });
        match field {
            AccountSortField::ExternalId => AccountOrder::Column(sorts::AccountSort::ExternalId, direction),
            AccountSortField::Name => AccountOrder::Column(sorts::AccountSort::Name, direction),
            AccountSortField::Health => AccountOrder::Ranked(RankBy::Health, direction),
            AccountSortField::LastOrderAt => AccountOrder::Ranked(RankBy::LastOrderAt, direction),
        }
    }
}

impl AccountOrder {
    /// The same order as a ranking (for a list that must be ranked anyway,
    /// because it is filtered by health).
    pub fn ranked(self) -> (crate::accounts::ranking::RankBy, Direction) {
        use crate::accounts::ranking::RankBy;
        match self {
            AccountOrder::Column(sorts::AccountSort::ExternalId, direction) => (RankBy::ExternalId, direction),
            AccountOrder::Column(sorts::AccountSort::Name, direction) => (RankBy::Name, direction),
            AccountOrder::Ranked(by, direction) => (by, direction),
        }
    }
}
order_by!(
    /// How to sort customers (default: by external id).
    CustomerOrderBy, CustomerSortField = "crate::read::sorts::CustomerSort" as sorts::CustomerSort {
        ExternalId, Name, FirstSeenAt
    },
    default ExternalId Asc
);
order_by!(
    /// How to sort products (default: by external id).
    ProductOrderBy, ProductSortField = "crate::read::sorts::ProductSort" as sorts::ProductSort {
        ExternalId, Name, LaunchedAt
    },
    default ExternalId Asc
);
order_by!(
    /// How to sort orders (default: most recent first).
    OrderOrderBy, OrderSortField = "crate::read::sorts::OrderSort" as sorts::OrderSort { OrderedAt, Amount, ExternalId },
    default OrderedAt Desc
);
order_by!(
    /// How to sort campaigns (default: latest start first).
    CampaignOrderBy, CampaignSortField = "crate::read::sorts::CampaignSort" as sorts::CampaignSort {
        StartsOn, Spend, ExternalId, Name
    },
    default StartsOn Desc
);
order_by!(
    /// How to sort touchpoints (default: most recent first).
    TouchpointOrderBy, TouchpointSortField = "crate::read::sorts::TouchpointSort" as sorts::TouchpointSort {
        OccurredAt, ExternalId
    },
    default OccurredAt Desc
);
order_by!(
    /// How to sort leads (default: newest first).
    LeadOrderBy, LeadSortField = "crate::read::sorts::LeadSort" as sorts::LeadSort { CreatedAt, ExternalId },
    default CreatedAt Desc
);
order_by!(
    /// How to sort surveys (default: by external id).
    SurveyOrderBy, SurveySortField = "crate::read::sorts::SurveySort" as sorts::SurveySort { ExternalId, Name },
    default ExternalId Asc
);
order_by!(
    /// How to sort survey responses (default: most recent first).
    SurveyResponseOrderBy, SurveyResponseSortField = "crate::read::sorts::SurveyResponseSort" as sorts::SurveyResponseSort {
        RespondedAt, ExternalId
    },
    default RespondedAt Desc
);
order_by!(
    /// How to sort product tests (default: most recent first).
    ProductTestOrderBy, ProductTestSortField = "crate::read::sorts::ProductTestSort" as sorts::ProductTestSort {
        TestedAt, ExternalId
    },
    default TestedAt Desc
);
order_by!(
    /// How to sort the votes of a product test (default: by external id).
    ProductTestVoteOrderBy, ProductTestVoteSortField = "crate::read::sorts::ProductTestVoteSort" as sorts::ProductTestVoteSort {
        ExternalId
    },
    default ExternalId Asc
);
order_by!(
    /// How to sort brand mentions (default: latest month first).
    BrandMentionOrderBy, BrandMentionSortField = "crate::read::sorts::BrandMentionSort" as sorts::BrandMentionSort {
        PeriodStart, Mentions, ExternalId
    },
    default PeriodStart Desc
);
order_by!(
    /// How to sort segments (default: by name).
    SegmentOrderBy, SegmentSortField = "crate::read::sorts::SegmentSort" as sorts::SegmentSort { Name, CreatedAt },
    default Name Asc
);
