//! Identity resolution: many source-system records, one customer.
//!
//! A customer record arriving through any ingest path is matched, in this
//! order, by
//! 1. its own `externalId` (a re-sent record, or a merged customer, which
//!    leads to the survivor),
//! 2. an `externalId` that an earlier record matched under (kept as an
//!    identity of the [`ALIAS_SOURCE`] source),
//! 3. any of its `identities` (`source`, `sourceId`),
//! 4. its normalised email ([`email_key`]),
//!
//! and otherwise creates a customer. Merging ([`merge`]) moves everything a
//! customer owns to another one.

pub mod find;
pub mod merge;
pub mod resolve;

/// The identity source under which a customer keeps the other `externalId`s
/// that records matched to it by identity or email were sent with, so that
/// orders and touchpoints referring to those ids find the customer.
pub const ALIAS_SOURCE: &str = "accord";

/// What identity resolution reads of an incoming customer record,
/// whichever transport it came through.
pub trait Incoming {
    fn external_id(&self) -> &str;
    fn email(&self) -> &str;
    /// Its (source, source id) pairs.
    fn identities(&self) -> Vec<(&str, &str)>;
}

/// The key that customers are matched on by email: trimmed and lower-cased.
/// ASCII-only lower-casing, so that the key never depends on a database's
/// collation or Unicode tables.
pub fn email_key(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_keys_ignore_case_and_surrounding_space() {
        assert_eq!(email_key("  Ada.Lovelace@Example.COM "), "ada.lovelace@example.com");
        assert_ne!(email_key("ada@example.com"), email_key("ada2@example.com"));
    }
}
