//! Who is asking. Every request carries a [`Viewer`]; resolvers check it
//! before they call the domain. Authentication (API keys, JWT) fills it
//! in; until that exists, `serve` runs every request as ADMIN and says so
//! at start-up.

use entity::enums::Role;

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
}
