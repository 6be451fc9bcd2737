//! Touchpoints: the marketing, sales, service and product moments of a
//! customer's journey.
//!
//! A campaign touch always takes the campaign's team and channel and falls
//! on one of its days, so that attribution by campaign, team and channel
//! agree with each other.

use entity::enums::{OrderChannel, Team, TouchpointKind};
use serde_json::{Map, Value};

use super::catalog::Catalog;
use super::people::Person;
use super::random::{
    DATA_END, DAY, DemoRng, HOUR, MINUTE, TOUCH_START, between, chance, pick, pick_weighted, poisson, timestamp, unit,
};
use crate::ingest::records::TouchpointRecord;

/// What a touch was about, stored in its `properties`.
#[derive(Debug, Clone, Copy)]
enum Detail {
    Nothing,
    Page(&'static str),
    Topic(&'static str),
    Screen(&'static str),
}

/// A touchpoint before it has an externalId.
pub(super) struct TouchDraft {
    pub at: i64,
    pub team: Team,
    channel: &'static str,
    kind: TouchpointKind,
    campaign: Option<usize>,
    detail: Detail,
}

impl TouchDraft {
    fn new(at: i64, team: Team, channel: &'static str, kind: TouchpointKind, detail: Detail) -> Self {
        TouchDraft {
            at,
            team,
            channel,
            kind,
            campaign: None,
            detail,
        }
    }

    /// The record, with the externalId it is numbered with. Campaign
    /// touches on digital channels carry the campaign's tracking tag.
    pub fn into_record(self, external_id: String, person: &Person, catalog: &Catalog) -> TouchpointRecord {
        let campaign = self.campaign.and_then(|index| catalog.campaigns.get(index));
        let mut properties = Map::new();
        let property = match (campaign, self.detail) {
            // Digital campaign touches carry the tracking tag the ad server
            // would have added.
            (Some(campaign), _) if self.team == Team::Marketing && self.channel != "tv" => {
                Some(("utm_campaign", campaign.id.to_ascii_lowercase()))
            }
            (_, Detail::Page(page)) => Some(("page", page.to_string())),
            (_, Detail::Topic(topic)) => Some(("topic", topic.to_string())),
            (_, Detail::Screen(screen)) => Some(("screen", screen.to_string())),
            _ => None,
        };
        if let Some((key, value)) = property {
            properties.insert(key.to_string(), Value::String(value));
        }
        // Sales and service work with the account, marketing with the person.
        let account = match self.team {
            Team::Sales | Team::Service => catalog.account_id(person.account),
            Team::Marketing | Team::Product => None,
        };
        TouchpointRecord {
            external_id,
            customer_external_id: person.id.clone(),
            account_external_id: account,
            campaign_external_id: campaign.map(|c| c.id.clone()),
            team: self.team,
            channel: self.channel.to_string(),
            kind: self.kind,
            occurred_at: timestamp(self.at),
            properties: Value::Object(properties),
        }
    }
}

const PAGES: [&str; 4] = ["/", "/cordless", "/robot", "/offers"];

/// Touches in the weeks before an order, most of them close to it; a few
/// fall just outside the 30-day attribution window, as they do in reality.
/// `rate` scales how many there are.
pub(super) fn before_order(
    rng: &mut DemoRng,
    catalog: &Catalog,
    order_at: i64,
    channel: OrderChannel,
    rate: f64,
    touches: &mut Vec<TouchDraft>,
) {
    for _ in 0..poisson(rng, rate * 0.7) {
        let offset = 20 * MINUTE + (33.0 * DAY as f64 * unit(rng).powf(1.6)) as i64;
        let at = order_at - offset;
        let touch = match channel {
            OrderChannel::Retail if chance(rng, 0.45) => {
                TouchDraft::new(at, Team::Sales, "store", TouchpointKind::StoreVisit, Detail::Nothing)
            }
            OrderChannel::DirectSales if chance(rng, 0.75) => sales(rng, catalog, at, None),
            OrderChannel::Phone if chance(rng, 0.5) => sales(rng, catalog, at, Some("phone")),
            OrderChannel::Online | OrderChannel::Marketplace if chance(rng, 0.05) => app(rng, at, "home"),
            _ => marketing(rng, catalog, at),
        };
        touches.push(touch);
    }
    // Online buyers often land on the site shortly before they buy.
    if channel == OrderChannel::Online && chance(rng, 0.3 * rate) {
        let at = order_at - between(rng, 5 * MINUTE, 90 * MINUTE);
        let page = pick(rng, &PAGES);
        touches.push(TouchDraft::new(
            at,
            Team::Marketing,
            "web",
            TouchpointKind::Visit,
            Detail::Page(page),
        ));
    }
}

/// Support contacts (more likely for unhappy customers) and, for products
/// with an app, registration and later app use.
pub(super) fn after_order(
    rng: &mut DemoRng,
    person: &Person,
    order_at: i64,
    connected: bool,
    touches: &mut Vec<TouchDraft>,
) {
    let support_probability = (0.10 - 0.06 * person.satisfaction).clamp(0.02, 0.35);
    if chance(rng, support_probability) {
        let topic = pick_weighted(
            rng,
            &[
                ("delivery", 0.45),
                ("how_to", 0.25),
                ("warranty", 0.20),
                ("returns", 0.10),
            ],
        );
        let at = order_at + between(rng, 2 * DAY, 45 * DAY);
        let channel = pick_weighted(rng, &[("phone", 0.6), ("chat", 0.4)]);
        touches.push(TouchDraft::new(
            at,
            Team::Service,
            channel,
            TouchpointKind::Support,
            Detail::Topic(topic),
        ));
    }
    if connected && chance(rng, 0.25) {
        let registered = order_at + between(rng, HOUR, 3 * DAY);
        touches.push(app(rng, registered, "register"));
        for _ in 0..poisson(rng, 0.5) {
            let later = registered + between(rng, DAY, 120 * DAY);
            let screen = pick(rng, &["home", "tips"]);
            touches.push(app(rng, later, screen));
        }
    }
}

/// A marketing touch: usually from a campaign running at the time, with
/// the campaign's channel; otherwise organic browsing or a newsletter.
pub(super) fn marketing(rng: &mut DemoRng, catalog: &Catalog, at: i64) -> TouchDraft {
    if chance(rng, 0.75)
        && let Some(index) = catalog.running_campaign(rng, Team::Marketing, at)
        && let Some(campaign) = catalog.campaigns.get(index)
    {
        let kind = match campaign.channel {
            "email" if chance(rng, 0.8) => TouchpointKind::EmailOpen,
            "social" | "display" if chance(rng, 0.45) => TouchpointKind::Impression,
            "tv" => TouchpointKind::Impression,
            _ => TouchpointKind::Click,
        };
        let mut touch = TouchDraft::new(at, Team::Marketing, campaign.channel, kind, Detail::Nothing);
        touch.campaign = Some(index);
        return touch;
    }
    let (channel, kind) = pick_weighted(
        rng,
        &[
            (("web", TouchpointKind::Visit), 0.45),
            (("email", TouchpointKind::EmailOpen), 0.30),
            (("paid_search", TouchpointKind::Click), 0.15),
            (("social", TouchpointKind::Click), 0.10),
        ],
    );
    let detail = if channel == "web" {
        Detail::Page(pick(rng, &PAGES))
    } else {
        Detail::Nothing
    };
    TouchDraft::new(at, Team::Marketing, channel, kind, detail)
}

/// A web form filled in: how a marketing lead is born.
pub(super) fn form_fill(at: i64, page: &'static str) -> TouchDraft {
    TouchDraft::new(at, Team::Marketing, "web", TouchpointKind::FormFill, Detail::Page(page))
}

/// A sales touch on `channel` (or a typical one), credited to the quarter's
/// sales programme when that runs on the same channel.
pub(super) fn sales(rng: &mut DemoRng, catalog: &Catalog, at: i64, channel: Option<&'static str>) -> TouchDraft {
    let channel = channel.unwrap_or_else(|| pick_weighted(rng, &[("field", 0.4), ("phone", 0.5), ("events", 0.1)]));
    let campaign = catalog.running_campaign(rng, Team::Sales, at).filter(|&index| {
        catalog
            .campaigns
            .get(index)
            .is_some_and(|campaign| campaign.channel == channel)
            && chance(rng, 0.6)
    });
    let kind = match channel {
        "phone" => TouchpointKind::Call,
        "events" => TouchpointKind::Demo,
        _ if chance(rng, 0.3) => TouchpointKind::Demo,
        _ => TouchpointKind::Meeting,
    };
    let mut touch = TouchDraft::new(at, Team::Sales, channel, kind, Detail::Nothing);
    touch.campaign = campaign;
    touch
}

fn app(rng: &mut DemoRng, at: i64, screen: &'static str) -> TouchDraft {
    let kind = if chance(rng, 0.5) {
        TouchpointKind::Visit
    } else {
        TouchpointKind::Click
    };
    TouchDraft::new(at, Team::Product, "app", kind, Detail::Screen(screen))
}

/// Sorts the touches, drops those outside the touch window, and moves
/// apart touches that share an instant with each other or with an order,
/// so that every customer's journey has a strict order.
pub(super) fn settle(catalog: &Catalog, touches: &mut Vec<TouchDraft>, order_times: &[i64]) {
    touches.retain(|touch| (TOUCH_START..=DATA_END).contains(&touch.at));
    touches.sort_by_key(|touch| touch.at);
    let mut previous = i64::MIN;
    for touch in touches.iter_mut() {
        let mut at = touch.at.max(previous.saturating_add(1));
        while order_times.contains(&at) {
            at += 1;
        }
        touch.at = at;
        previous = at;
        // A nudge of a second may cross midnight out of a campaign's last
        // day; the touch then no longer belongs to it.
        if touch
            .campaign
            .and_then(|index| catalog.campaigns.get(index))
            .is_some_and(|c| !c.runs_at(at))
        {
            touch.campaign = None;
        }
    }
    touches.retain(|touch| touch.at <= DATA_END);
}
