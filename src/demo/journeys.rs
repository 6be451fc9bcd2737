//! One customer's journey: their orders, leads and the touchpoints around
//! them, drawn together so that they fit each other.
//!
//! Everything is drafted with plain `i64` instants first and turned into
//! records (with externalIds) only once the journey is complete, so that
//! each customer's orders, touchpoints and leads are numbered in time order.

use entity::enums::{LeadStage, Team};

use super::Sequences;
use super::catalog::Catalog;
use super::leads::{self, LeadDraft};
use super::orders::{self, OrderDraft};
use super::people::Person;
use super::random::{DATA_END, DATA_START, DAY, DemoRng, TOUCH_START, between, chance, poisson, seasonal_instant};
use super::touches::{self, TouchDraft};
use crate::ingest::records::{LeadRecord, OrderRecord, TouchpointRecord};

const YEAR: f64 = 365.0 * DAY as f64;

/// How active customers are: multipliers on the base order and touch rates.
#[derive(Debug, Clone, Copy)]
pub(super) struct Activity {
    pub orders: f64,
    pub touches: f64,
}

/// Everything one customer did, before externalIds are assigned.
pub(super) struct Journey {
    pub orders: Vec<OrderDraft>,
    pub touches: Vec<TouchDraft>,
    pub leads: Vec<LeadDraft>,
}

impl Journey {
    /// The earliest order, touch or lead, if the customer did anything.
    pub fn earliest_activity(&self) -> Option<i64> {
        let orders = self.orders.iter().map(|order| order.at);
        let touches = self.touches.iter().map(|touch| touch.at);
        let leads = self.leads.iter().map(|lead| lead.created_at);
        orders.chain(touches).chain(leads).min()
    }

    /// Support contacts in the `days` before `at`: a sign of a product problem.
    pub fn support_before(&self, at: i64, days: i64) -> usize {
        let window = at - days * DAY..at;
        self.touches
            .iter()
            .filter(|touch| touch.team == Team::Service && window.contains(&touch.at))
            .count()
    }

    /// Sales touches in total, a proxy for how looked-after an account feels.
    pub fn sales_touches(&self) -> usize {
        self.touches.iter().filter(|touch| touch.team == Team::Sales).count()
    }

    /// Leads that ended LOST.
    pub fn lost_leads(&self) -> usize {
        self.leads.iter().filter(|lead| lead.stage == LeadStage::Lost).count()
    }

    /// Turns the drafts into records, numbering orders, touchpoints and
    /// leads in time order.
    pub fn into_records(
        mut self,
        person: &Person,
        catalog: &Catalog,
        sequences: &mut Sequences,
    ) -> (Vec<OrderRecord>, Vec<TouchpointRecord>, Vec<LeadRecord>) {
        // Touches are already in time order (see `touches::settle`).
        self.orders.sort_by_key(|order| order.at);
        self.leads.sort_by_key(|lead| lead.created_at);
        let orders = self
            .orders
            .into_iter()
            .map(|o| o.into_record(sequences.next_order(), person, catalog))
            .collect();
        let touches = self
            .touches
            .into_iter()
            .map(|t| t.into_record(sequences.next_touchpoint(), person, catalog))
            .collect();
        let leads = self
            .leads
            .into_iter()
            .map(|l| l.into_record(sequences.next_lead(), person, catalog))
            .collect();
        (orders, touches, leads)
    }
}

/// Draws everything `person` does between their first activity and the end
/// of the data.
pub(super) fn journey(rng: &mut DemoRng, catalog: &Catalog, person: &Person, activity: Activity) -> Journey {
    let mut journey = Journey {
        orders: Vec::new(),
        touches: Vec::new(),
        leads: Vec::new(),
    };
    let from = person.active_from.max(DATA_START);

    // Orders: a first purchase within four months of arriving, then repeat
    // purchases. Happy customers and business contacts buy more often, and
    // customers who arrive late have less time left to buy in.
    if from < DATA_END - DAY && !chance(rng, 0.08) {
        let years_left = (DATA_END - from) as f64 / YEAR;
        let contact_boost = if person.is_contact() { 1.6 } else { 1.0 };
        let repeat_mean = activity.orders * 1.6 * years_left * (0.3 * person.satisfaction).exp() * contact_boost;
        let first = seasonal_instant(rng, from, (from + 120 * DAY).min(DATA_END));
        let mut times = vec![first];
        if first + DAY < DATA_END {
            for _ in 0..poisson(rng, repeat_mean) {
                times.push(seasonal_instant(rng, first + DAY, DATA_END));
            }
        }
        for at in times {
            journey.orders.extend(orders::order(rng, catalog, person, at));
        }
    }

    // Leads: mostly business contacts; consumers only now and then, for a
    // large household or small-office purchase.
    let lead_count = if person.is_contact() {
        poisson(rng, 0.55)
    } else {
        u32::from(chance(rng, 0.06))
    };
    let lead_window_end = DATA_END - 3 * DAY;
    if from < lead_window_end {
        for _ in 0..lead_count {
            let created = between(rng, from, lead_window_end);
            let (lead, won_order) = leads::lead(rng, catalog, person, created, &mut journey.touches);
            journey.leads.push(lead);
            journey.orders.extend(won_order);
        }
    }

    // Touches around each order: before it (what attribution credits) and
    // after it (support and product registration).
    for order in &journey.orders {
        touches::before_order(
            rng,
            catalog,
            order.at,
            order.channel,
            activity.touches,
            &mut journey.touches,
        );
        touches::after_order(rng, person, order.at, order.connected, &mut journey.touches);
    }

    // Background: newsletters, browsing and, for contacts, account
    // management, spread over the customer's whole active time.
    let background_from = (person.active_from - 30 * DAY).max(TOUCH_START);
    let years_active = (DATA_END - background_from).max(0) as f64 / YEAR;
    for _ in 0..poisson(rng, activity.touches * 0.55 * years_active) {
        let at = between(rng, background_from, DATA_END);
        journey.touches.push(touches::marketing(rng, catalog, at));
    }
    if person.is_contact() {
        for _ in 0..poisson(rng, activity.touches * 0.5 * years_active) {
            let at = between(rng, background_from, DATA_END);
            journey.touches.push(touches::sales(rng, catalog, at, None));
        }
    }

    let order_times: Vec<i64> = journey.orders.iter().map(|order| order.at).collect();
    touches::settle(catalog, &mut journey.touches, &order_times);
    journey
}
