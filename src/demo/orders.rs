//! Orders: which channel a purchase goes through, what is in the basket,
//! and what it costs.

use entity::enums::{AccountKind, AccountTier, OrderChannel};

use super::catalog::{CATEGORIES, Catalog, Product};
use super::people::Person;
use super::random::{DemoRng, between, chance, pick_index, pick_weighted, season_weight, timestamp};
use crate::ingest::records::{OrderLineRecord, OrderRecord};

/// An order before it has an externalId.
pub(super) struct OrderDraft {
    pub at: i64,
    pub channel: OrderChannel,
    account: Option<usize>,
    lines: Vec<OrderLineRecord>,
    /// Whether the order holds a robot or cordless vacuum, the products
    /// that come with an app.
    pub connected: bool,
}

impl OrderDraft {
    /// Σ quantity × unit amount: the only total an order may carry.
    pub fn amount_minor(&self) -> i64 {
        self.lines
            .iter()
            .map(|line| line.unit_amount_minor * i64::from(line.quantity))
            .sum()
    }

    /// The record, with the externalId it is numbered with.
    pub fn into_record(self, external_id: String, person: &Person, catalog: &Catalog) -> OrderRecord {
        OrderRecord {
            external_id,
            customer_external_id: person.id.clone(),
            account_external_id: catalog.account_id(self.account),
            channel: self.channel,
            ordered_at: timestamp(self.at),
            currency: "USD".to_string(),
            amount_minor: self.amount_minor(),
            lines: self.lines,
        }
    }
}

/// Draws one order at `at`, following the channel rules: RETAIL goes
/// through a retailer, DIRECT_SALES through the customer's own account,
/// PHONE through it when there is one, MARKETPLACE sometimes through a
/// distributor, and ONLINE never through an account.
pub(super) fn order(rng: &mut DemoRng, catalog: &Catalog, person: &Person, at: i64) -> Option<OrderDraft> {
    let mut channel = if person.is_contact() {
        pick_weighted(
            rng,
            &[
                (OrderChannel::DirectSales, 0.50),
                (OrderChannel::Phone, 0.15),
                (OrderChannel::Online, 0.15),
                (OrderChannel::Marketplace, 0.10),
                (OrderChannel::Retail, 0.10),
            ],
        )
    } else {
        pick_weighted(
            rng,
            &[
                (OrderChannel::Online, 0.48),
                (OrderChannel::Retail, 0.26),
                (OrderChannel::Marketplace, 0.16),
                (OrderChannel::Phone, 0.10),
            ],
        )
    };
    let account = match channel {
        OrderChannel::Retail => {
            let retailer = catalog.account_of(rng, AccountKind::Retailer, person.region);
            if retailer.is_none() {
                channel = OrderChannel::Online;
            }
            retailer
        }
        OrderChannel::Marketplace if chance(rng, 0.6) => {
            catalog.account_of(rng, AccountKind::Distributor, person.region)
        }
        OrderChannel::DirectSales | OrderChannel::Phone => person.account,
        OrderChannel::Marketplace | OrderChannel::Online => None,
    };

    // Businesses buying direct order in bulk at a negotiated discount;
    // consumers buy one or two of a thing, on offer around the holidays.
    let (max_quantity, discount_percent) = match (channel, person.account_tier) {
        (OrderChannel::DirectSales, Some(AccountTier::Strategic)) => (40, between(rng, 15, 25)),
        (OrderChannel::DirectSales, Some(AccountTier::Key)) => (25, between(rng, 10, 18)),
        (OrderChannel::DirectSales, _) => (12, between(rng, 5, 12)),
        (OrderChannel::Phone, Some(_)) => (6, between(rng, 0, 8)),
        _ => (1, holiday_discount(rng, at)),
    };
    let line_count = pick_weighted(rng, &[(1, 0.75), (2, 0.19), (3, 0.06)]);
    let products = basket(rng, catalog, person, at, line_count);
    let lines = products
        .iter()
        .map(|product| {
            let quantity = if max_quantity > 1 {
                between(rng, 2, max_quantity)
            } else {
                1 + i64::from(chance(rng, 0.08))
            };
            line(product, quantity, discounted(product.price_minor, discount_percent))
        })
        .collect();
    draft(at, channel, account, &products, lines)
}

/// The order that fulfils a won deal worth about `amount_minor`, at list
/// prices: direct to the account for business contacts, online otherwise.
pub(super) fn won_order(
    rng: &mut DemoRng,
    catalog: &Catalog,
    person: &Person,
    at: i64,
    amount_minor: i64,
) -> Option<OrderDraft> {
    let channel = if person.is_contact() {
        OrderChannel::DirectSales
    } else {
        OrderChannel::Online
    };
    let line_count = between(rng, 1, 3);
    let products = basket(rng, catalog, person, at, line_count as usize);
    let budget = amount_minor / line_count;
    let lines = products
        .iter()
        .map(|product| {
            line(
                product,
                (budget / product.price_minor.max(1)).clamp(1, 10_000),
                product.price_minor,
            )
        })
        .collect();
    draft(at, channel, person.account, &products, lines)
}

/// Up to `count` different products for `person`, drawn by their category
/// tastes among the products on sale at `at`.
fn basket<'c>(rng: &mut DemoRng, catalog: &'c Catalog, person: &Person, at: i64, count: usize) -> Vec<&'c Product> {
    let mut products: Vec<&Product> = Vec::with_capacity(count);
    for _ in 0..count {
        let product = pick_index(rng, &person.category_weights)
            .and_then(|category| catalog.product_of(rng, category, at))
            .and_then(|index| catalog.products.get(index));
        if let Some(product) = product
            && !products.iter().any(|chosen| chosen.id == product.id)
        {
            products.push(product);
        }
    }
    products
}

fn line(product: &Product, quantity: i64, unit_amount_minor: i64) -> OrderLineRecord {
    OrderLineRecord {
        product_external_id: product.id.clone(),
        quantity: i32::try_from(quantity).unwrap_or(1),
        unit_amount_minor,
    }
}

/// The draft of a non-empty basket; `None` when no product was available.
fn draft(
    at: i64,
    channel: OrderChannel,
    account: Option<usize>,
    products: &[&Product],
    lines: Vec<OrderLineRecord>,
) -> Option<OrderDraft> {
    let connected = products.iter().any(|product| is_connected(product.category));
    (!lines.is_empty()).then_some(OrderDraft {
        at,
        channel,
        account,
        lines,
        connected,
    })
}

/// Whether products of `category` come with an app.
fn is_connected(category: usize) -> bool {
    CATEGORIES
        .get(category)
        .is_some_and(|c| matches!(c.name, "cordless_vacuum" | "robot_vacuum"))
}

/// A consumer discount: common around Black Friday and Christmas, rare
/// otherwise.
fn holiday_discount(rng: &mut DemoRng, at: i64) -> i64 {
    let probability = if season_weight(at) >= 0.85 { 0.35 } else { 0.08 };
    if chance(rng, probability) {
        between(rng, 10, 25)
    } else {
        0
    }
}

/// A list price less `percent`, kept at a price ending in 99 cents.
fn discounted(price_minor: i64, percent: i64) -> i64 {
    if percent <= 0 {
        return price_minor;
    }
    let reduced = price_minor * (100 - percent) / 100;
    (reduced / 100 * 100 - 1).max(99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounted_prices_end_in_99_and_never_rise() {
        assert_eq!(discounted(34_999, 0), 34_999);
        assert_eq!(discounted(34_999, 10), 31_399);
        assert!(discounted(34_999, 25) < 34_999);
        assert_eq!(discounted(100, 50), 99);
    }

    #[test]
    fn only_cordless_and_robot_vacuums_have_an_app() {
        let connected: Vec<&str> = CATEGORIES
            .iter()
            .enumerate()
            .filter(|(index, _)| is_connected(*index))
            .map(|(_, c)| c.name)
            .collect();
        assert_eq!(connected, ["cordless_vacuum", "robot_vacuum"]);
    }
}
