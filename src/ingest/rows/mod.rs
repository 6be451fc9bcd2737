//! What each kind's validated record becomes: its row, given the resolved
//! references, and for some kinds their children ([`orders`],
//! [`responses`]), identity resolution ([`customers`]) or a unique key
//! other than the external id ([`products`]). One [`Kind`] impl per kind;
//! adding a field to a record means adding it to its row here.

mod customers;
mod orders;
mod products;
mod responses;

use entity::{account, brand_mention, campaign, lead, product_test, product_test_vote, survey, touchpoint};
use sea_orm::ActiveValue::Set;

use super::kinds::{EntityKind, Kind, Reference, Row, WrittenRow};
use super::records::*;
use super::references::References;
use crate::events::Event;

impl Kind for AccountRecord {
    const KIND: EntityKind = EntityKind::Accounts;
    type Entity = account::Entity;

    fn row(&self, _: &References) -> Result<Row<Self>, FieldError> {
        Ok(account::ActiveModel {
            external_id: Set(self.external_id.clone()),
            name: Set(self.name.clone()),
            kind: Set(self.kind),
            region: Set(self.region.clone()),
            tier: Set(self.tier),
            owner: Set(self.owner.clone()),
            ..Default::default()
        })
    }
}

impl Kind for CampaignRecord {
    const KIND: EntityKind = EntityKind::Campaigns;
    type Entity = campaign::Entity;

    fn row(&self, _: &References) -> Result<Row<Self>, FieldError> {
        Ok(campaign::ActiveModel {
            external_id: Set(self.external_id.clone()),
            name: Set(self.name.clone()),
            team: Set(self.team),
            channel: Set(self.channel.clone()),
            spend_minor: Set(self.spend_minor),
            starts_on: Set(self.starts_on),
            ends_on: Set(self.ends_on),
            ..Default::default()
        })
    }
}

impl Kind for SurveyRecord {
    const KIND: EntityKind = EntityKind::Surveys;
    type Entity = survey::Entity;

    fn row(&self, _: &References) -> Result<Row<Self>, FieldError> {
        Ok(survey::ActiveModel {
            external_id: Set(self.external_id.clone()),
            name: Set(self.name.clone()),
            kind: Set(self.kind),
            ..Default::default()
        })
    }
}

/// The customer and (optional) account a record concerns.
struct Parties<'a> {
    customer: Reference<'a>,
    account: Option<Reference<'a>>,
}

impl<'a> Parties<'a> {
    fn of(customer: &'a str, account: Option<&'a str>) -> Self {
        Self {
            customer: Reference::to(EntityKind::Customers, "customerExternalId", customer),
            account: account.map(|key| Reference::to(EntityKind::Accounts, "accountExternalId", key)),
        }
    }

    fn references(self) -> Vec<Reference<'a>> {
        std::iter::once(self.customer).chain(self.account).collect()
    }

    /// The ids of the customer and account, or the field naming an unknown one.
    fn ids(&self, references: &References) -> Result<(i64, Option<i64>), FieldError> {
        Ok((references.id(&self.customer)?, references.id_if(self.account.as_ref())?))
    }
}

impl TouchpointRecord {
    fn parties(&self) -> Parties<'_> {
        Parties::of(&self.customer_external_id, self.account_external_id.as_deref())
    }

    fn campaign(&self) -> Option<Reference<'_>> {
        (self.campaign_external_id.as_deref())
            .map(|key| Reference::to(EntityKind::Campaigns, "campaignExternalId", key))
    }
}

impl Kind for TouchpointRecord {
    const KIND: EntityKind = EntityKind::Touchpoints;
    type Entity = touchpoint::Entity;
    const ANNOUNCED: bool = true;

    fn references(&self) -> Vec<Reference<'_>> {
        let mut references = self.parties().references();
        references.extend(self.campaign());
        references
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        let (customer_id, account_id) = self.parties().ids(references)?;
        Ok(touchpoint::ActiveModel {
            external_id: Set(self.external_id.clone()),
            customer_id: Set(customer_id),
            account_id: Set(account_id),
            campaign_id: Set(references.id_if(self.campaign().as_ref())?),
            team: Set(self.team),
            channel: Set(self.channel.clone()),
            kind: Set(self.kind),
            occurred_at: Set(self.occurred_at),
            properties: Set(self.properties.clone()),
            ..Default::default()
        })
    }

    fn announce(row: WrittenRow) -> Option<Event> {
        Some(Event::TouchpointRecorded {
            id: row.id,
            customer_id: row.customer_id,
            account_id: row.account_id,
        })
    }
}

impl Kind for LeadRecord {
    const KIND: EntityKind = EntityKind::Leads;
    type Entity = lead::Entity;

    fn references(&self) -> Vec<Reference<'_>> {
        Parties::of(&self.customer_external_id, self.account_external_id.as_deref()).references()
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        let (customer_id, account_id) =
            Parties::of(&self.customer_external_id, self.account_external_id.as_deref()).ids(references)?;
        Ok(lead::ActiveModel {
            external_id: Set(self.external_id.clone()),
            customer_id: Set(customer_id),
            account_id: Set(account_id),
            source_team: Set(self.source_team),
            stage: Set(self.stage),
            created_at: Set(self.created_at),
            mql_at: Set(self.mql_at),
            sql_at: Set(self.sql_at),
            opportunity_at: Set(self.opportunity_at),
            closed_at: Set(self.closed_at),
            amount_minor: Set(self.amount_minor),
            ..Default::default()
        })
    }
}

impl ProductTestRecord {
    fn product(&self) -> Reference<'_> {
        Reference::to(EntityKind::Products, "productExternalId", &self.product_external_id)
    }
}

impl Kind for ProductTestRecord {
    const KIND: EntityKind = EntityKind::ProductTests;
    type Entity = product_test::Entity;

    fn references(&self) -> Vec<Reference<'_>> {
        vec![self.product()]
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        Ok(product_test::ActiveModel {
            external_id: Set(self.external_id.clone()),
            product_id: Set(references.id(&self.product())?),
            touchpoint: Set(self.touchpoint),
            variant: Set(self.variant.clone()),
            panel: Set(self.panel.clone()),
            tested_at: Set(self.tested_at),
            ..Default::default()
        })
    }
}

impl ProductTestVoteRecord {
    fn test(&self) -> Reference<'_> {
        Reference::to(EntityKind::ProductTests, "testExternalId", &self.test_external_id)
    }
}

impl Kind for ProductTestVoteRecord {
    const KIND: EntityKind = EntityKind::ProductTestVotes;
    type Entity = product_test_vote::Entity;

    fn references(&self) -> Vec<Reference<'_>> {
        vec![self.test()]
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        Ok(product_test_vote::ActiveModel {
            external_id: Set(self.external_id.clone()),
            test_id: Set(references.id(&self.test())?),
            approved: Set(self.approved),
            rating: Set(self.rating),
            comment: Set(self.comment.clone()),
            ..Default::default()
        })
    }
}

impl Kind for BrandMentionRecord {
    const KIND: EntityKind = EntityKind::BrandMentions;
    type Entity = brand_mention::Entity;

    fn row(&self, _: &References) -> Result<Row<Self>, FieldError> {
        Ok(brand_mention::ActiveModel {
            external_id: Set(self.external_id.clone()),
            brand: Set(self.brand.clone()),
            channel: Set(self.channel.clone()),
            period_start: Set(self.period_start),
            mentions: Set(self.mentions),
            positive: Set(self.positive),
            neutral: Set(self.neutral),
            negative: Set(self.negative),
            ..Default::default()
        })
    }
}
