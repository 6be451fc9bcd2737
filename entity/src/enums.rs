//! The closed vocabularies of the data model, stored as their upper-case
//! names in text columns so that both SQLite and PostgreSQL hold the same
//! values and a new value needs no database type change.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a string-backed enum whose database value, serde name and
/// `Display` form are all the SCREAMING_SNAKE_CASE variant name.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $text)]
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value whose stored name is `text`.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }

            /// The stored and serialised name of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What an account is to the company: whom sales sells to.
    AccountKind { Retailer = "RETAILER", Distributor = "DISTRIBUTOR", Business = "BUSINESS" }
);

text_enum!(
    /// How much attention sales gives an account.
    AccountTier { Strategic = "STRATEGIC", Key = "KEY", Standard = "STANDARD" }
);

text_enum!(
    /// Where an order was placed.
    OrderChannel {
        Online = "ONLINE",
        Retail = "RETAIL",
        Marketplace = "MARKETPLACE",
        DirectSales = "DIRECT_SALES",
        Phone = "PHONE",
    }
);

text_enum!(
    /// The team behind a campaign or a touchpoint.
    Team { Marketing = "MARKETING", Sales = "SALES", Service = "SERVICE", Product = "PRODUCT" }
);

text_enum!(
    /// What happened at a touchpoint.
    TouchpointKind {
        Impression = "IMPRESSION",
        Click = "CLICK",
        Visit = "VISIT",
        EmailOpen = "EMAIL_OPEN",
        FormFill = "FORM_FILL",
        Call = "CALL",
        Meeting = "MEETING",
        Demo = "DEMO",
        StoreVisit = "STORE_VISIT",
        Support = "SUPPORT",
    }
);

text_enum!(
    /// The team that sourced a lead.
    LeadSourceTeam { Marketing = "MARKETING", Sales = "SALES", Partner = "PARTNER" }
);

text_enum!(
    /// The current stage of a lead in the revenue cycle.
    LeadStage {
        Lead = "LEAD",
        Mql = "MQL",
        Sql = "SQL",
        Opportunity = "OPPORTUNITY",
        Won = "WON",
        Lost = "LOST",
    }
);

text_enum!(
    /// What a survey measures.
    SurveyKind { Nps = "NPS", BrandTracker = "BRAND_TRACKER", Drivers = "DRIVERS" }
);

text_enum!(
    /// The part of a product that a consumer panel tested.
    ProductTouchpoint {
        Knob = "KNOB",
        Handle = "HANDLE",
        Button = "BUTTON",
        Screen = "SCREEN",
        Imagery = "IMAGERY",
        Video = "VIDEO",
        Messaging = "MESSAGING",
        Packaging = "PACKAGING",
    }
);

text_enum!(
    /// Whether a customer agreed to be contacted on a channel.
    ConsentStatus { Granted = "GRANTED", Denied = "DENIED", Unknown = "UNKNOWN" }
);

text_enum!(
    /// A way to contact a customer that needs their consent.
    ContactChannel { Email = "EMAIL", Sms = "SMS", Phone = "PHONE" }
);

text_enum!(
    /// Who may do what (DESIGN.md §5).
    Role {
        Admin = "ADMIN",
        Sales = "SALES",
        Marketing = "MARKETING",
        Analyst = "ANALYST",
        Dashboard = "DASHBOARD",
        Ingest = "INGEST",
    }
);
