//! The server key that makes cursors opaque: each cursor is sealed with
//! XChaCha20-Poly1305 (authenticated encryption) under it, so a client can
//! neither read the sort key a cursor holds (a customer's name, say) nor
//! forge or alter one.
//!
//! The key is `ACCORD_CURSOR_KEY` (64 hexadecimal characters, 32 bytes)
//! when set; otherwise the first instance to start generates one and
//! stores it in the one-row `server_secret` table, and every instance on
//! the same database reads that row, so a cursor from one instance works
//! on all of them. Changing the key invalidates every cursor handed out
//! under the old one (clients then get BAD_USER_INPUT and start over).
//!
//! A sealed cursor is base64url (no padding) of
//! `version (1 byte) ‖ nonce (24 random bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! What the cursor is bound to (its list and order) is authenticated as
//! associated data, not carried: opening it for another list fails.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::Utc;
use entity::server_secret;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, TransactionSession, TransactionTrait};

/// The first byte of every sealed cursor: the format, so that a later
/// format can tell old cursors apart.
const FORMAT_VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;
const KEY_BYTES: usize = 32;
/// The `server_secret` row holding the generated key.
const SECRET_NAME: &str = "cursor_key";

/// The key cursors are sealed under.
#[derive(Clone)]
pub struct CursorKey {
    cipher: XChaCha20Poly1305,
    /// Hexadecimal, as stored and configured.
    hex: String,
}

impl fmt::Debug for CursorKey {
    // Never print the key itself (configuration is logged with `{:?}`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("CursorKey(…)")
    }
}

impl CursorKey {
    /// Reads a key written as 64 hexadecimal characters (`ACCORD_CURSOR_KEY`).
    pub fn from_hex(text: &str) -> Result<CursorKey, String> {
        let invalid = || {
            format!(
                "a cursor key is {} hexadecimal characters ({KEY_BYTES} bytes)",
                KEY_BYTES * 2
            )
        };
        let bytes = hex::decode(text.trim()).map_err(|_| invalid())?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| invalid())?;
        Ok(Self::from_bytes(bytes))
    }

    /// A new random key.
    pub fn generate() -> CursorKey {
        let key: [u8; KEY_BYTES] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
        Self::from_bytes(key)
    }

    fn from_bytes(bytes: [u8; KEY_BYTES]) -> CursorKey {
        CursorKey {
            cipher: XChaCha20Poly1305::new(&chacha20poly1305::Key::from(bytes)),
            hex: hex::encode(bytes),
        }
    }

    /// Encrypts `plaintext`, bound to `binding`; the text handed to clients.
    pub fn seal(&self, binding: &[u8], plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: binding,
        };
        // Encryption fails only for messages longer than the cipher's
        // counter allows (256 GiB); a cursor is a few dozen bytes.
        let ciphertext = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The plaintext of a text [`CursorKey::seal`] made with this key and
    /// `binding`; `None` for anything else: altered, sealed for another
    /// binding or under another key, or not a cursor at all.
    pub fn open(&self, binding: &[u8], text: &str) -> Option<Vec<u8>> {
        let sealed = URL_SAFE_NO_PAD.decode(text).ok()?;
        let (&version, rest) = sealed.split_first()?;
        if version != FORMAT_VERSION || rest.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: binding,
        };
        self.cipher.decrypt(&XNonce::from(nonce), payload).ok()
    }
}

/// The configured key, or else the one stored in the database, created
/// there first if no instance has yet. Concurrent first starts agree: each
/// inserts its own candidate only if no row exists, then all read the row
/// that won. Both statements run in one transaction, which commits before
/// this returns: behind a transaction-pooling PgBouncer a plain statement
/// commits only when its connection goes back to the pool
/// ([`crate::db::pooler`]), later than another connection may look.
pub async fn configured_or_stored(
    db: &impl TransactionTrait,
    configured: Option<CursorKey>,
) -> Result<CursorKey, DbErr> {
    if let Some(key) = configured {
        return Ok(key);
    }
    let candidate = server_secret::ActiveModel {
        name: Set(SECRET_NAME.to_owned()),
        value: Set(CursorKey::generate().hex),
        created_at: Set(Utc::now()),
    };
    let transaction = db.begin().await?;
    server_secret::Entity::insert(candidate)
        .on_conflict(OnConflict::column(server_secret::Column::Name).do_nothing().to_owned())
        .exec_without_returning(&transaction)
        .await?;
    let stored = server_secret::Entity::find_by_id(SECRET_NAME.to_owned())
        .one(&transaction)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server_secret {SECRET_NAME}")))?;
    transaction.commit().await?;
    CursorKey::from_hex(&stored.value).map_err(|reason| DbErr::Custom(format!("the stored cursor key: {reason}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_cursor_opens_only_with_its_key_and_binding() {
        let key = CursorKey::generate();
        let sealed = key.seal(b"customer NAME ASC", b"Max Meyer");
        assert_eq!(
            key.open(b"customer NAME ASC", &sealed).as_deref(),
            Some(&b"Max Meyer"[..])
        );
        assert!(!sealed.contains("Max"));
        assert_eq!(key.open(b"account NAME ASC", &sealed), None);
        assert_eq!(CursorKey::generate().open(b"customer NAME ASC", &sealed), None);
        // Two seals of the same cursor differ (random nonce) and both open.
        assert_ne!(sealed, key.seal(b"customer NAME ASC", b"Max Meyer"));
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let key = CursorKey::generate();
        let sealed = URL_SAFE_NO_PAD.decode(key.seal(b"list", b"position")).expect("base64");
        for index in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[index] ^= 0x01;
            assert_eq!(
                key.open(b"list", &URL_SAFE_NO_PAD.encode(&altered)),
                None,
                "byte {index}"
            );
        }
        assert_eq!(key.open(b"list", ""), None);
        assert_eq!(key.open(b"list", "not base64!"), None);
    }

    #[test]
    fn keys_are_64_hex_characters() {
        let hex = "00".repeat(32);
        let key = CursorKey::from_hex(&hex).expect("a key");
        assert_eq!(key.hex, hex);
        assert!(CursorKey::from_hex(&"00".repeat(31)).is_err());
        assert!(CursorKey::from_hex(&"zz".repeat(32)).is_err());
        assert_eq!(format!("{key:?}"), "CursorKey(…)");
    }
}
