//! API keys: created once and shown once, stored only as a SHA-256 hash.
//!
//! A key is `acc_` followed by 32 random bytes (base64url). Because the
//! secret is high-entropy, a fast hash is enough to make a stolen table
//! useless; slow password hashes protect low-entropy secrets and would cost
//! every request dearly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::api_key;
use entity::enums::Role;
use rand::TryRngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// What every key starts with, so that a leaked key is recognisable (and
/// secret scanners can be taught to find it).
pub const PREFIX: &str = "acc_";

/// A new key: the only time the secret exists outside its holder.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: api_key::Model,
    pub secret: String,
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub async fn create(db: &impl ConnectionTrait, role: Role, name: &str) -> Result<CreatedKey, Error> {
    if name.trim().is_empty() {
        return Err(Error::validation("name", "must not be empty"));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for a key: {e}")))?;
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let key = api_key::ActiveModel {
        name: Set(name.trim().to_owned()),
        role: Set(role),
        key_hash: Set(hash(&secret)),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(CreatedKey { key, secret })
}

/// Every key, newest first, revoked ones included (their history matters).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, Error> {
    Ok(api_key::Entity::find()
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Revokes key `id`; servers that verified it recently stop accepting it
/// within [`super::CACHE_SECONDS`].
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> Result<api_key::Model, Error> {
    let Some(key) = api_key::Entity::find_by_id(id).one(db).await? else {
        return Err(Error::not_found("ApiKey", id));
    };
    if key.revoked_at.is_some() {
        return Err(Error::Conflict(format!("key {id} is already revoked")));
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    Ok(active.update(db).await?)
}

/// Whether any key can still be used: `serve` refuses to run open otherwise.
pub async fn any_active(db: &impl ConnectionTrait) -> Result<bool, Error> {
    let count = api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    Ok(count > 0)
}

/// The active key whose secret is `secret`. A read only: checking a key
/// never waits for the write lock (see [`note_used`]).
pub async fn find_active(db: &impl ConnectionTrait, secret: &str) -> Result<Option<api_key::Model>, Error> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash(secret)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

/// Whether key `id` exists and is not revoked (open WebSocket connections
/// ask this periodically).
pub async fn is_active(db: &impl ConnectionTrait, id: i64) -> Result<bool, Error> {
    let active = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    Ok(active > 0)
}

/// Records that key `id` was used now.
pub async fn note_used(db: &impl ConnectionTrait, id: i64) -> Result<(), Error> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256_and_differ_per_secret() {
        let first = hash("acc_one");
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, hash("acc_two"));
        assert_eq!(first, hash("acc_one"));
    }
}
