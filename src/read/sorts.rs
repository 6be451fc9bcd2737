//! The orders each list can be sorted in. Every order is one column plus
//! the id as a tie-break (see [`crate::db::keyset`]).

use entity::{
    account, brand_answer, brand_mention, campaign, customer, customer_identity, driver_rating, lead, order_line,
    orders, product, product_test, product_test_vote, segment, survey, survey_response, touchpoint,
};

use crate::db::keyset::{Keyset, SortField, SortKey};

macro_rules! keyset {
    ($($table:ident),+ $(,)?) => {
        $(impl Keyset for $table::Entity {
            fn id_column() -> $table::Column {
                $table::Column::Id
            }
            fn row_id(model: &$table::Model) -> i64 {
                model.id
            }
        })+
    };
}

keyset!(
    account,
    customer,
    customer_identity,
    product,
    orders,
    campaign,
    touchpoint,
    lead,
    survey,
    survey_response,
    product_test,
    product_test_vote,
    brand_mention,
    order_line,
    brand_answer,
    driver_rating,
    segment,
);

/// Declares a sort enum: each variant names its column, the kind of its
/// value and the model field that holds it.
macro_rules! sort_field {
    ($(#[$meta:meta])* $name:ident for $table:ident {
        $($variant:ident => $column:ident : $key:ident($field:ident)),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl SortField<$table::Entity> for $name {
            fn column(self) -> $table::Column {
                match self {
                    $($name::$variant => $table::Column::$column,)+
                }
            }

            fn key(self, model: &$table::Model) -> SortKey {
                match self {
                    $($name::$variant => SortKey::$key(model.$field.clone()),)+
                }
            }

            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                }
            }
        }
    };
}

sort_field!(
    /// Orders of the account list.
    AccountSort for account { ExternalId => ExternalId: Text(external_id), Name => Name: Text(name) }
);
sort_field!(
    /// Orders of the customer list.
    CustomerSort for customer {
        ExternalId => ExternalId: Text(external_id),
        Name => Name: Text(name),
        FirstSeenAt => FirstSeenAt: Time(first_seen_at),
    }
);
sort_field!(
    /// Orders of the product list.
    ProductSort for product {
        ExternalId => ExternalId: Text(external_id),
        Name => Name: Text(name),
        LaunchedAt => LaunchedAt: Time(launched_at),
    }
);
sort_field!(
    /// Orders of the order list.
    OrderSort for orders {
        OrderedAt => OrderedAt: Time(ordered_at),
        Amount => AmountMinor: Int(amount_minor),
        ExternalId => ExternalId: Text(external_id),
    }
);
sort_field!(
    /// Orders of the campaign list.
    CampaignSort for campaign {
        StartsOn => StartsOn: Date(starts_on),
        Spend => SpendMinor: Int(spend_minor),
        ExternalId => ExternalId: Text(external_id),
        Name => Name: Text(name),
    }
);
sort_field!(
    /// Orders of the touchpoint list.
    TouchpointSort for touchpoint { OccurredAt => OccurredAt: Time(occurred_at), ExternalId => ExternalId: Text(external_id) }
);
sort_field!(
    /// Orders of the lead list.
    LeadSort for lead { CreatedAt => CreatedAt: Time(created_at), ExternalId => ExternalId: Text(external_id) }
);
sort_field!(
    /// Orders of the survey list.
    SurveySort for survey { ExternalId => ExternalId: Text(external_id), Name => Name: Text(name) }
);
sort_field!(
    /// Orders of the survey response list.
    SurveyResponseSort for survey_response {
        RespondedAt => RespondedAt: Time(responded_at),
        ExternalId => ExternalId: Text(external_id),
    }
);
sort_field!(
    /// Orders of the product test list.
    ProductTestSort for product_test { TestedAt => TestedAt: Time(tested_at), ExternalId => ExternalId: Text(external_id) }
);
sort_field!(
    /// Orders of a product test's votes.
    ProductTestVoteSort for product_test_vote { ExternalId => ExternalId: Text(external_id) }
);
sort_field!(
    /// Orders of the brand mention list.
    BrandMentionSort for brand_mention {
        PeriodStart => PeriodStart: Date(period_start),
        Mentions => Mentions: Int(mentions),
        ExternalId => ExternalId: Text(external_id),
    }
);
sort_field!(
    /// Orders of the segment list.
    SegmentSort for segment { Name => Name: Text(name), CreatedAt => CreatedAt: Time(created_at) }
);
