//! Customers, through identity resolution: each record updates the
//! customer it matches (see [`crate::identity`]) or creates one, and its
//! identities (and its own external id, when it matched another customer)
//! are recorded so later records and references find that customer.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use entity::{customer, customer_identity};
use sea_orm::ActiveValue::Set;
use sea_orm::DatabaseTransaction;

use crate::error::Error;
use crate::identity;
use crate::ingest::kinds::{EntityKind, Kind, Numbered, Reference, Row};
use crate::ingest::records::{ConsentRecord, CustomerRecord, FieldError};
use crate::ingest::references::References;
use crate::ingest::upsert::{Guarded, ids_by_external_id, insert_rows_new_on, upsert_by_external_id_guarded};

/// The consent columns, each channel's written only when its `updated_at`
/// is given and not older than the stored one (see [`Guarded`]), so a
/// record without consent, or with older consent, leaves it as it is.
const CONSENT_COLUMNS: [Guarded; 3] = [
    Guarded {
        when: "consent_email_updated_at",
        columns: &["consent_email", "consent_email_source"],
    },
    Guarded {
        when: "consent_sms_updated_at",
        columns: &["consent_sms", "consent_sms_source"],
    },
    Guarded {
        when: "consent_phone_updated_at",
        columns: &["consent_phone", "consent_phone_source"],
    },
];

/// Sets the consent columns of `row` from `consent`: UNKNOWN with no time
/// for a channel the record leaves out (what a new customer stores; an
/// existing one keeps its own, as the upsert guards these columns).
fn set_consent(row: &mut customer::ActiveModel, consent: Option<&ConsentRecord>) {
    use entity::enums::{ConsentStatus, ContactChannel};
    let given = |channel| consent.and_then(|consent| consent.channel(channel));
    let status = |channel| given(channel).map_or(ConsentStatus::Unknown, |given| given.status);
    let updated_at = |channel| given(channel).map(|given| given.updated_at);
    let source = |channel| given(channel).map(|given| given.source.clone());
    row.consent_email = Set(status(ContactChannel::Email));
    row.consent_email_updated_at = Set(updated_at(ContactChannel::Email));
    row.consent_email_source = Set(source(ContactChannel::Email));
    row.consent_sms = Set(status(ContactChannel::Sms));
    row.consent_sms_updated_at = Set(updated_at(ContactChannel::Sms));
    row.consent_sms_source = Set(source(ContactChannel::Sms));
    row.consent_phone = Set(status(ContactChannel::Phone));
    row.consent_phone_updated_at = Set(updated_at(ContactChannel::Phone));
    row.consent_phone_source = Set(source(ContactChannel::Phone));
}

impl identity::Incoming for CustomerRecord {
    fn external_id(&self) -> &str {
        &self.external_id
    }

    fn email(&self) -> &str {
        &self.email
    }

    fn identities(&self) -> Vec<(&str, &str)> {
        self.identities
            .iter()
            .map(|known| (known.source.as_str(), known.source_id.as_str()))
            .collect()
    }
}

impl CustomerRecord {
    fn account(&self) -> Option<Reference<'_>> {
        (self.account_external_id.as_deref()).map(|key| Reference::to(EntityKind::Accounts, "accountExternalId", key))
    }
}

#[async_trait]
impl Kind for CustomerRecord {
    const KIND: EntityKind = EntityKind::Customers;
    type Entity = customer::Entity;

    fn references(&self) -> Vec<Reference<'_>> {
        self.account().into_iter().collect()
    }

    /// An earlier line's consent stays where it is newer than this line's
    /// (a channel with a blank source, which validation refuses, is not
    /// taken).
    fn absorb_earlier(&mut self, earlier: Self) {
        let Some(mut held) = earlier.consent else {
            return;
        };
        for given in [&mut held.email, &mut held.sms, &mut held.phone] {
            if given.as_ref().is_some_and(|given| given.source.trim().is_empty()) {
                *given = None;
            }
        }
        if let Some(later) = &self.consent {
            held.merge_newer(later);
        }
        self.consent = Some(held);
    }

    fn row(&self, references: &References) -> Result<Row<Self>, FieldError> {
        let mut row = customer::ActiveModel {
            external_id: Set(self.external_id.clone()),
            account_id: Set(references.id_if(self.account().as_ref())?),
            email: Set(self.email.clone()),
            email_key: Set(identity::email_key(&self.email)),
            name: Set(self.name.clone()),
            phone: Set(self.phone.clone()),
            region: Set(self.region.clone()),
            country: Set(self.country.clone()),
            acquisition_channel: Set(self.acquisition_channel.clone()),
            traits: Set(self.traits.clone()),
            first_seen_at: Set(self.first_seen_at),
            ..Default::default()
        };
        set_consent(&mut row, self.consent.as_ref());
        Ok(row)
    }

    async fn write_rows(
        db: &DatabaseTransaction,
        references: &mut References,
        accepted: Vec<(Numbered<Self>, Row<Self>)>,
    ) -> Result<(), Error> {
        let incoming: Vec<&CustomerRecord> = accepted.iter().map(|(n, _)| &n.record).collect();
        let targets = identity::resolve::canonical_keys(db, &incoming).await?;
        // Several records may resolve to one customer; the last one's fields
        // win, as they would if the records had been sent one after another,
        // and so does each channel's newest consent among them.
        let mut rows: HashMap<&str, (usize, Row<Self>, Option<ConsentRecord>)> = HashMap::new();
        for (position, ((numbered, row), target)) in accepted.iter().zip(&targets).enumerate() {
            let mut row = row.clone();
            row.external_id = Set(target.clone());
            let mut consent = rows.remove(target.as_str()).and_then(|(_, _, consent)| consent);
            if let Some(incoming) = &numbered.record.consent {
                consent.get_or_insert_with(ConsentRecord::default).merge_newer(incoming);
            }
            set_consent(&mut row, consent.as_ref());
            rows.insert(target.as_str(), (position, row, consent));
        }
        let mut rows: Vec<(usize, Row<Self>, Option<ConsentRecord>)> = rows.into_values().collect();
        rows.sort_by_key(|(position, _, _)| *position);
        upsert_by_external_id_guarded(db, rows.into_iter().map(|(_, row, _)| row).collect(), &CONSENT_COLUMNS).await?;

        let ids = ids_by_external_id(db, EntityKind::Customers.table(), &targets).await?;
        let mut identities = BTreeSet::new();
        for ((numbered, _), target) in accepted.iter().zip(&targets) {
            let Some(&customer_id) = ids.get(target) else {
                return Err(Error::Internal(format!(
                    "customer {target} vanished while its identities were written"
                )));
            };
            let record = &numbered.record;
            for known in &record.identities {
                identities.insert((known.source.clone(), known.source_id.clone(), customer_id));
            }
            if &record.external_id != target {
                identities.insert((
                    identity::ALIAS_SOURCE.to_owned(),
                    record.external_id.clone(),
                    customer_id,
                ));
            }
            references.remember(EntityKind::Customers, &record.external_id, customer_id);
        }
        // An identity already known stays with its customer: it is what
        // matched the record, or it belongs to a customer that only a merge
        // may take it from.
        let rows = identities
            .into_iter()
            .map(|(source, source_id, customer_id)| customer_identity::ActiveModel {
                customer_id: Set(customer_id),
                source: Set(source),
                source_id: Set(source_id),
                ..Default::default()
            })
            .collect();
        insert_rows_new_on(
            db,
            rows,
            vec![customer_identity::Column::Source, customer_identity::Column::SourceId],
        )
        .await
    }
}
