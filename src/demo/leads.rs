//! Leads and their way through the revenue cycle:
//! LEAD → MQL → SQL → OPPORTUNITY → WON or LOST.
//!
//! Each stage is reached with some probability after a waiting time;
//! a lead that does not advance is usually closed as lost and otherwise
//! stalls. Nothing may happen after the end of the data, so a stage that
//! would be reached later leaves the lead open where it is. The touches
//! that move a lead on are added to the journey, and a won deal becomes
//! an order.

use entity::enums::{AccountTier, LeadSourceTeam, LeadStage};

use super::catalog::Catalog;
use super::orders::{self, OrderDraft};
use super::people::Person;
use super::random::{
    DATA_END, DAY, DemoRng, HOUR, MINUTE, between, chance, exponential, pick_weighted, timestamp, unit,
};
use super::touches::{self, TouchDraft};
use crate::ingest::records::LeadRecord;

/// A lead before it has an externalId.
pub(super) struct LeadDraft {
    source_team: LeadSourceTeam,
    pub stage: LeadStage,
    pub created_at: i64,
    mql_at: Option<i64>,
    sql_at: Option<i64>,
    opportunity_at: Option<i64>,
    closed_at: Option<i64>,
    amount_minor: Option<i64>,
}

impl LeadDraft {
    /// The record, with the externalId it is numbered with.
    pub fn into_record(self, external_id: String, person: &Person, catalog: &Catalog) -> LeadRecord {
        LeadRecord {
            external_id,
            customer_external_id: person.id.clone(),
            account_external_id: catalog.account_id(person.account),
            source_team: self.source_team,
            stage: self.stage,
            created_at: timestamp(self.created_at),
            mql_at: self.mql_at.map(timestamp),
            sql_at: self.sql_at.map(timestamp),
            opportunity_at: self.opportunity_at.map(timestamp),
            closed_at: self.closed_at.map(timestamp),
            amount_minor: self.amount_minor,
        }
    }
}

/// Draws a lead created at `created`, walks it through the revenue cycle,
/// and returns it with the order that fulfils it when it was won.
pub(super) fn lead(
    rng: &mut DemoRng,
    catalog: &Catalog,
    person: &Person,
    created: i64,
    journey_touches: &mut Vec<TouchDraft>,
) -> (LeadDraft, Option<OrderDraft>) {
    let source_team = if person.is_contact() {
        pick_weighted(
            rng,
            &[
                (LeadSourceTeam::Sales, 0.45),
                (LeadSourceTeam::Marketing, 0.40),
                (LeadSourceTeam::Partner, 0.15),
            ],
        )
    } else {
        pick_weighted(
            rng,
            &[(LeadSourceTeam::Marketing, 0.85), (LeadSourceTeam::Partner, 0.15)],
        )
    };
    let mut lead = LeadDraft {
        source_team,
        stage: LeadStage::Lead,
        created_at: created,
        mql_at: None,
        sql_at: None,
        opportunity_at: None,
        closed_at: None,
        amount_minor: None,
    };

    // How the lead was born: a form after some marketing, or a sales call.
    match source_team {
        LeadSourceTeam::Marketing => {
            for _ in 0..between(rng, 0, 2) {
                let at = created - between(rng, DAY, 25 * DAY);
                journey_touches.push(touches::marketing(rng, catalog, at));
            }
            let page = if person.is_contact() { "/business" } else { "/offers" };
            journey_touches.push(touches::form_fill(created - between(rng, MINUTE, 2 * HOUR), page));
        }
        LeadSourceTeam::Sales => {
            let at = created - between(rng, 5 * MINUTE, HOUR);
            journey_touches.push(touches::sales(rng, catalog, at, Some("phone")));
        }
        LeadSourceTeam::Partner => {}
    }

    let Some(opportunity_at) = qualify(rng, catalog, person, &mut lead, journey_touches) else {
        return (lead, None);
    };

    let happy = 0.04 * person.satisfaction;
    let draw = unit(rng);
    if draw < 0.48 + happy {
        close(rng, &mut lead, LeadStage::Won, opportunity_at, 28.0);
    } else if draw < 0.86 + happy {
        close(rng, &mut lead, LeadStage::Lost, opportunity_at, 28.0);
    }
    let (LeadStage::Won, Some(closed_at), Some(amount)) = (lead.stage, lead.closed_at, lead.amount_minor) else {
        return (lead, None);
    };
    let closing_call = between(rng, opportunity_at + 1, closed_at - 1);
    journey_touches.push(touches::sales(rng, catalog, closing_call, Some("phone")));
    let ordered_at = closed_at + between(rng, DAY, 10 * DAY);
    let order = if ordered_at <= DATA_END {
        orders::won_order(rng, catalog, person, ordered_at, amount)
    } else {
        None
    };
    // The won amount is what the customer was actually invoiced.
    if let Some(order) = &order {
        lead.amount_minor = Some(order.amount_minor());
    }
    (lead, order)
}

/// Moves `lead` from LEAD up to OPPORTUNITY, stage by stage. Returns when
/// it became an opportunity, or `None` when it was lost or stalled before.
fn qualify(
    rng: &mut DemoRng,
    catalog: &Catalog,
    person: &Person,
    lead: &mut LeadDraft,
    journey_touches: &mut Vec<TouchDraft>,
) -> Option<i64> {
    // Sales and partner leads are often qualified on the first call and
    // skip MQL.
    let skips_mql = lead.source_team != LeadSourceTeam::Marketing && chance(rng, 0.35);
    let plan: &[(LeadStage, f64, f64)] = if skips_mql {
        &[(LeadStage::Sql, 0.72, 6.0), (LeadStage::Opportunity, 0.62, 12.0)]
    } else {
        let to_mql = if lead.source_team == LeadSourceTeam::Marketing {
            0.62
        } else {
            0.8
        };
        &[
            (LeadStage::Mql, to_mql, 4.0),
            (LeadStage::Sql, 0.55, 8.0),
            (LeadStage::Opportunity, 0.6, 12.0),
        ]
    };
    let happy = 0.04 * person.satisfaction;
    let mut last = lead.created_at;
    for &(next, probability, mean_days) in plan {
        if !chance(rng, probability + happy) {
            // Most leads that do not advance are closed as lost; the rest
            // simply stall and stay open.
            if chance(rng, 0.7) {
                close(rng, lead, LeadStage::Lost, last, 14.0);
            }
            return None;
        }
        let at = last + wait(rng, mean_days);
        if at > DATA_END {
            return None;
        }
        // The sales work that moved the lead on happened in between.
        if next != LeadStage::Mql {
            let channel = if next == LeadStage::Opportunity {
                "field"
            } else {
                "phone"
            };
            let touch_at = between(rng, last + 1, at - 1);
            journey_touches.push(touches::sales(rng, catalog, touch_at, Some(channel)));
        }
        match next {
            LeadStage::Mql => lead.mql_at = Some(at),
            LeadStage::Sql => lead.sql_at = Some(at),
            _ => {
                lead.opportunity_at = Some(at);
                lead.amount_minor = Some(deal_size(rng, person));
            }
        }
        lead.stage = next;
        last = at;
    }
    lead.opportunity_at
}

/// A stage duration: exponential around `mean_days`, plus at least an hour.
fn wait(rng: &mut DemoRng, mean_days: f64) -> i64 {
    exponential(rng, mean_days * DAY as f64) as i64 + between(rng, HOUR, DAY)
}

/// Closes `lead` as `stage` some time after `last`, unless that would fall
/// after the end of the data, in which case the lead stays open.
fn close(rng: &mut DemoRng, lead: &mut LeadDraft, stage: LeadStage, last: i64, mean_days: f64) {
    let at = last + wait(rng, mean_days) + DAY;
    if at <= DATA_END {
        lead.stage = stage;
        lead.closed_at = Some(at);
    }
}

/// The pipeline value of an opportunity, by the size of the buyer.
fn deal_size(rng: &mut DemoRng, person: &Person) -> i64 {
    let (low, high) = match person.account_tier {
        Some(AccountTier::Strategic) => (20_000, 200_000),
        Some(AccountTier::Key) => (5_000, 50_000),
        Some(AccountTier::Standard) => (1_000, 15_000),
        None => (300, 2_500),
    };
    between(rng, low, high) * 100
}
