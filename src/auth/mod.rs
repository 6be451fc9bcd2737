//! Who is asking. The HTTP layer turns a bearer credential (an API key,
//! or a JWT when configured) into a [`Viewer`]; resolvers and the access
//! rules of [`crate::graphql::access`] check it before they call the domain.
//!
//! - [`keys`]: API keys, stored hashed;
//! - [`jwt`]: optional tokens from an identity provider.

pub mod audit;
pub mod jwt;
pub mod keys;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entity::enums::Role;
use sea_orm::DatabaseConnection;

use crate::error::Error;
use crate::ingest::EntityKind;
use jwt::JwtVerifier;

/// How long a verified API key is trusted without asking the database
/// again: revoking a key takes effect within this time on other instances.
pub const CACHE_SECONDS: u64 = 10;

/// How often a key's `last_used_at` is written at most: key checks only
/// read, and the write happens in the background, so that a check never
/// waits for the database's write lock (SQLite has one for the whole file).
pub const LAST_USED_SECONDS: u64 = 60;

/// Why a credential was refused. Deliberately vague towards the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a bearer credential is required: send `Authorization: Bearer <API key>`")]
    Missing,
    #[error("the credential is not valid (unknown, revoked or expired)")]
    Invalid,
    #[error("authentication is unavailable")]
    Unavailable,
}

/// Turns credentials into viewers. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    /// Whether a request without a credential is refused. When not, it runs
    /// as ADMIN (`serve --demo`, `--insecure-no-auth`, tests).
    required: bool,
    jwt: Option<Arc<JwtVerifier>>,
    verified: Arc<Mutex<HashMap<String, (Viewer, Instant)>>>,
    /// When each key's use was last written.
    noted: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl Authenticator {
    /// With `required`, every request must authenticate; without, requests
    /// without a credential run as ADMIN and credentials still count.
    pub fn new(db: DatabaseConnection, required: bool, jwt: Option<JwtVerifier>) -> Self {
        Self {
            db,
            required,
            jwt: jwt.map(Arc::new),
            verified: Arc::default(),
            noted: Arc::default(),
        }
    }

    /// API keys only, and every request must present one.
    pub fn required(db: DatabaseConnection) -> Self {
        Self::new(db, true, None)
    }

    /// No credential needed (development and tests).
    pub fn open(db: DatabaseConnection) -> Self {
        Self::new(db, false, None)
    }

    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The viewer of an `Authorization` header value (or of its absence).
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Viewer, AuthError> {
        let Some(value) = authorization.map(str::trim).filter(|value| !value.is_empty()) else {
            return if self.required {
                Err(AuthError::Missing)
            } else {
                Ok(Viewer::unauthenticated_admin())
            };
        };
        let Some(credential) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
        else {
            return Err(AuthError::Invalid);
        };
        if credential.starts_with(keys::PREFIX) {
            return self.api_key(credential).await;
        }
        match &self.jwt {
            Some(verifier) => match verifier.verify(credential) {
                Ok(token) => Ok(Viewer {
                    role: token.role,
                    api_key_id: None,
                    subject: token.subject,
                    expires_at: token.expires_at,
                }),
                Err(reason) => {
                    tracing::info!(%reason, "refused a JWT");
                    Err(AuthError::Invalid)
                }
            },
            None => Err(AuthError::Invalid),
        }
    }

    async fn api_key(&self, secret: &str) -> Result<Viewer, AuthError> {
        let digest = keys::hash(secret);
        if let Ok(verified) = self.verified.lock()
            && let Some((viewer, at)) = verified.get(&digest)
            && at.elapsed() < Duration::from_secs(CACHE_SECONDS)
        {
            let viewer = viewer.clone();
            self.note_used(&viewer);
            return Ok(viewer);
        }
        match keys::find_active(&self.db, secret).await {
            Ok(Some(key)) => {
                let viewer = Viewer {
                    role: key.role,
                    api_key_id: Some(key.id),
                    subject: None,
                    expires_at: None,
                };
                if let Ok(mut verified) = self.verified.lock() {
                    verified.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(CACHE_SECONDS));
                    verified.insert(digest, (viewer.clone(), Instant::now()));
                }
                self.note_used(&viewer);
                Ok(viewer)
            }
            Ok(None) => Err(AuthError::Invalid),
            Err(error) => {
                tracing::error!(%error, "cannot check an API key");
                Err(AuthError::Unavailable)
            }
        }
    }
}

impl Authenticator {
    /// Writes the viewer's key's `last_used_at` in the background, at most
    /// once every [`LAST_USED_SECONDS`] per key (per instance).
    fn note_used(&self, viewer: &Viewer) {
        let Some(id) = viewer.api_key_id else {
            return;
        };
        let Ok(mut noted) = self.noted.lock() else {
            return;
        };
        let every = Duration::from_secs(LAST_USED_SECONDS);
        if noted.get(&id).is_some_and(|at| at.elapsed() < every) {
            return;
        }
        noted.retain(|_, at| at.elapsed() < every);
        noted.insert(id, Instant::now());
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(error) = keys::note_used(&db, id).await {
                tracing::warn!(%error, key = id, "cannot record that an API key was used");
            }
        });
    }
}

/// Whether `serve` may start with `required` authentication: there must be
/// a way to authenticate at all.
pub async fn check_configured(db: &DatabaseConnection, jwt: bool) -> Result<(), Error> {
    if jwt || keys::any_active(db).await? {
        Ok(())
    } else {
        Err(Error::Conflict(
            "no authentication is configured: create a key with `accord keys create --role ADMIN --name …`, \
             configure JWT, or start with --insecure-no-auth (every request is then ADMIN)"
                .to_owned(),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    /// The API key the request authenticated with, when there is one.
    pub api_key_id: Option<i64>,
    /// The JWT's `sub` claim, when it authenticated with a token.
    pub subject: Option<String>,
    /// When the credential stops being valid (a JWT's expiry); API keys
    /// have none but can be revoked.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Viewer {
    /// The viewer of a server running without authentication.
    pub fn unauthenticated_admin() -> Self {
        Self {
            role: Role::Admin,
            api_key_id: None,
            subject: None,
            expires_at: None,
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

    /// Whether this viewer may read individual records (accounts, customers,
    /// orders…) rather than only insights and aggregates.
    pub fn may_read_records(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Sales | Role::Marketing | Role::Analyst)
    }

    /// Whether this viewer may read insights and aggregates.
    pub fn may_read_insights(&self) -> bool {
        self.role != Role::Ingest
    }

    /// Whether this viewer may read the schema (`__schema`, `__type`,
    /// federation's `_service`): tools of reading roles need it.
    pub fn may_introspect(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Sales | Role::Marketing | Role::Analyst)
    }

    /// Whether this viewer may manage API keys.
    pub fn may_manage_keys(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this viewer may read email, name and phone.
    pub fn may_read_pii(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Sales | Role::Marketing)
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
        Viewer {
            role,
            api_key_id: None,
            subject: None,
            expires_at: None,
        }
    }

    #[test]
    fn writes_follow_the_roles_of_the_design() {
        let writable = |role| -> Vec<EntityKind> {
            EntityKind::ALL
                .iter()
                .copied()
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
}
