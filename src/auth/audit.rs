//! The audit trail: who (key id, or JWT subject) did what to which targets,
//! and when. Mutations are recorded by the access-control extension; bulk
//! loads and exports by their HTTP handlers. Targets are ids, external ids
//! and row counts, never personal data.

use chrono::Utc;
use entity::audit_log;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, DatabaseConnection};

use super::Viewer;

/// Writes one audit entry. A failure to audit is logged, not returned:
/// the action it records has already happened.
pub async fn record(db: &DatabaseConnection, viewer: &Viewer, action: &str, target: String) {
    let entry = audit_log::ActiveModel {
        api_key_id: Set(viewer.api_key_id),
        subject: Set(viewer.subject.clone()),
        action: Set(action.to_owned()),
        target: Set(target),
        at: Set(Utc::now()),
        ..Default::default()
    };
    if let Err(error) = entry.insert(db).await {
        tracing::error!(%error, "cannot write the audit log");
    }
}
