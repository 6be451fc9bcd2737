//! What each field costs in the query limits' estimate, and how many
//! times a list repeats what it selects. A unit is about one row read.
//!
//! - **A field** costs its weight (1 unless the table below says more)
//!   plus what it selects.
//! - **A connection's `edges` and `nodes`** cost its page size (`first`,
//!   the default page size when left out, at most the maximum) times what
//!   they select; so do the items of the lists that take a size argument
//!   (`Account.touchpointsByTeam(perTeam:)`, `previewSegment(sample:)`).
//! - **Any other list** costs its length bound times what it selects:
//!   the bound of [`LIST_BOUNDS`], else [`DEFAULT_LIST_BOUND`].
//! - **Insight fields** weigh what they scan ([`FIELD_WEIGHTS`]): each
//!   reads the whole filtered window, and aliases of one add up.
//!
//! | field | weight | why |
//! |---|---|---|
//! | `Insights.attribution` | 2,000 | every touch in the lookback of every conversion |
//! | `Insights.purchaseDrivers` | 2,000 | every rating, then an exact Shapley split over up to 15 attributes |
//! | `Insights.predictiveClv` | 2,000 | every customer's order history, then two maximum-likelihood fits |
//! | `Insights.series` | 2,000 | one ordered pass per record source of its metrics (up to ten sources), from the compared periods to the window's end |
//! | `Insights.retention`, `clv`, `revenueCycle` | 1,000 | every order (or lead) of the window, grouped by cohort or stage |
//! | `Rfm.summary`, `Rfm.customers` | 1,000 | scores every customer with an order |
//! | `Mutation.previewSegment`, `refreshSegment` | 1,000 | evaluate the rule over every customer (twice for a preview) |
//! | `Account.purchaseDrivers` | 200 | a year of its region's ratings and a Shapley split, cached per region: a page of accounts analyses each region once |
//! | `Insights.churn`, `repeatPurchase`, `nps`, `brandFunnel`, `shareOfVoice`, `productTests` | 500 | one aggregate over one table of the window |
//!
//! With the default maximum cost of 50,000 a dashboard asking for every
//! insight once costs about 12,000; 25 aliased `attribution`s are refused.

/// Extra weight of fields that scan more than a page of rows: (parent type, field, weight).
pub const FIELD_WEIGHTS: &[(&str, &str, u64)] = &[
    ("Insights", "attribution", 2_000),
    ("Insights", "purchaseDrivers", 2_000),
    ("Insights", "predictiveClv", 2_000),
    ("Insights", "series", 2_000),
    ("Mutation", "previewSegment", 1_000),
    ("Mutation", "refreshSegment", 1_000),
    ("Account", "purchaseDrivers", 200),
    ("Insights", "retention", 1_000),
    ("Insights", "clv", 1_000),
    ("Insights", "revenueCycle", 1_000),
    ("Rfm", "summary", 1_000),
    ("Rfm", "customers", 1_000),
    ("Insights", "churn", 500),
    ("Insights", "repeatPurchase", 500),
    ("Insights", "nps", 500),
    ("Insights", "brandFunnel", 500),
    ("Insights", "shareOfVoice", 500),
    ("Insights", "productTests", 500),
];

/// The length of plain lists whose bound is known: (parent type, field, bound).
pub const LIST_BOUNDS: &[(&str, &str, u64)] = &[
    // One entry per `Team`.
    ("Account", "touchpointsByTeam", 4),
    // An RFM grid is 5 × 5 cells; each score has 5 counts.
    ("RfmSummary", "grid", 25),
    // The largest `maxOffset` of retention is 120 periods.
    ("Cohort", "offsets", 121),
];

/// The assumed length of a plain list without a known bound (order lines,
/// identities, a series of periods…).
pub const DEFAULT_LIST_BOUND: u64 = 10;

/// Fields whose items are sized by an argument of the field: (parent
/// type, field, argument, default, maximum), and the field of the item
/// type that repeats per item.
pub const SIZED_LISTS: &[SizedList] = &[
    SizedList {
        parent: "Account",
        field: "touchpointsByTeam",
        argument: "perTeam",
        default: 5,
        maximum: 100,
        items: ("TeamTouchpoints", "touchpoints"),
    },
    SizedList {
        parent: "Mutation",
        field: "previewSegment",
        argument: "sample",
        default: 20,
        maximum: 100,
        items: ("SegmentPreview", "sample"),
    },
];

/// A list whose length a field argument chooses.
#[derive(Debug)]
pub struct SizedList {
    pub parent: &'static str,
    pub field: &'static str,
    pub argument: &'static str,
    pub default: u64,
    pub maximum: u64,
    /// The (type, field) whose selection repeats the argument's number of times.
    pub items: (&'static str, &'static str),
}

/// The weight of `field` on `parent`.
pub fn weight(parent: &str, field: &str) -> u64 {
    FIELD_WEIGHTS
        .iter()
        .find(|(p, f, _)| *p == parent && *f == field)
        .map_or(1, |(_, _, weight)| *weight)
}

/// The length bound of a plain list `field` on `parent`.
pub fn list_bound(parent: &str, field: &str) -> u64 {
    LIST_BOUNDS
        .iter()
        .find(|(p, f, _)| *p == parent && *f == field)
        .map_or(DEFAULT_LIST_BOUND, |(_, _, bound)| *bound)
}

/// The sized list `field` on `parent` is, if any.
pub fn sized_list(parent: &str, field: &str) -> Option<&'static SizedList> {
    SIZED_LISTS
        .iter()
        .find(|list| list.parent == parent && list.field == field)
}

/// Whether `field` on `parent` repeats once per item of its enclosing
/// sized field: a connection's `edges` and `nodes`, or a sized list's items.
pub fn is_item(parent: &str, field: &str) -> bool {
    (parent.ends_with("Connection") && matches!(field, "edges" | "nodes"))
        || SIZED_LISTS.iter().any(|list| list.items == (parent, field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::shape::shape;

    #[test]
    fn every_field_the_table_names_is_in_the_schema() {
        let shape = shape();
        for (parent, field, _) in FIELD_WEIGHTS.iter().chain(LIST_BOUNDS) {
            assert!(shape.field(parent, field).is_some(), "{parent}.{field}");
        }
        for list in SIZED_LISTS {
            assert!(shape.field(list.parent, list.field).is_some(), "{list:?}");
            let (parent, field) = list.items;
            let items = shape.field(parent, field).expect("the items field");
            assert!(items.non_null.len() > 1, "{parent}.{field} is a list");
        }
    }
}
