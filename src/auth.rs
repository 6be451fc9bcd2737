//! Who is asking. Every request carries a [`Viewer`]; resolvers check it
//! before they call the domain. Authentication (API keys, JWT) fills it
//! in; until that exists, `serve` runs every request as ADMIN and says so
//! at start-up.

use entity::enums::Role;

use crate::ingest::EntityKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    /// The API key the request authenticated with, when there is one.
    pub api_key_id: Option<i64>,
}

impl Viewer {
    /// The viewer of a server running without authentication.
    pub fn unauthenticated_admin() -> Self {
        Self {
            role: Role::Admin,
            api_key_id: None,
        }
    }

    /// Whether this viewer may create, change, refresh and export segments.
    pub fn may_manage_segments(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Marketing)
    }

    /// Whether this viewer may merge two customers into one (an identity
    /// decision, taken by administrators and by the source systems' sync).
    pub fn may_merge_customers(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Ingest)
    }

    /// Whether this viewer may read email, name and phone.
    pub fn may_read_pii(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Sales | Role::Marketing)
    }

    /// Whether this viewer may read the schema itself: introspection
    /// (`__schema`, `__type`) and the federation fields (`_service`,
    /// `_entities`). Dashboards and ingest jobs run fixed operations and
    /// need neither.
    pub fn may_introspect(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Sales | Role::Marketing | Role::Analyst)
    }

    /// Whether this viewer may write records of `kind` (upserts and batch
    /// ingest). ADMIN and INGEST write everything; sales records its own
    /// touchpoints and leads; marketing its campaigns (DESIGN.md §5).
    pub fn may_write(&self, kind: EntityKind) -> bool {
        match self.role {
            Role::Admin | Role::Ingest => true,
            Role::Sales => matches!(kind, EntityKind::Touchpoints | EntityKind::Leads),
            Role::Marketing => kind == EntityKind::Campaigns,
            Role::Analyst | Role::Dashboard => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role) -> Viewer {
        Viewer { role, api_key_id: None }
    }

    #[test]
    fn writes_follow_the_roles_of_the_design() {
        let writable = |role| -> Vec<EntityKind> {
            EntityKind::ALL
                .into_iter()
                .filter(|kind| viewer(role).may_write(*kind))
                .collect()
        };
        assert_eq!(writable(Role::Admin), EntityKind::ALL.to_vec());
        assert_eq!(writable(Role::Ingest), EntityKind::ALL.to_vec());
        assert_eq!(writable(Role::Sales), vec![EntityKind::Touchpoints, EntityKind::Leads]);
        assert_eq!(writable(Role::Marketing), vec![EntityKind::Campaigns]);
        assert!(writable(Role::Analyst).is_empty());
        assert!(writable(Role::Dashboard).is_empty());
    }

    #[test]
    fn dashboards_and_ingest_jobs_may_not_introspect() {
        let may = |role| viewer(role).may_introspect();
        assert!(may(Role::Admin) && may(Role::Sales) && may(Role::Marketing) && may(Role::Analyst));
        assert!(!may(Role::Dashboard) && !may(Role::Ingest));
    }
}
