//! Optional JWT bearer tokens from a company identity provider: HS256 with
//! a shared secret, or RS256 with the provider's public keys in a JWKS
//! file. A claim (default `role`) names the Accord role.

use std::path::Path;

use entity::enums::Role;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

/// How tokens are checked.
pub struct JwtVerifier {
    keys: Keys,
    validation: Validation,
    role_claim: String,
}

enum Keys {
    Shared(DecodingKey),
    Published(JwkSet),
}

/// The JWT settings of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct JwtConfig {
    /// Accept HS256 JWTs signed with this secret.
    #[arg(long, env = "ACCORD_JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<String>,
    /// Accept RS256 JWTs signed by a key of this JWKS file.
    #[arg(long, env = "ACCORD_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<std::path::PathBuf>,
    /// The claim that holds the Accord role (ADMIN, SALES, MARKETING, ANALYST, DASHBOARD, INGEST).
    #[arg(long, env = "ACCORD_JWT_ROLE_CLAIM", default_value = "role")]
    pub jwt_role_claim: String,
    /// Require this issuer (`iss`).
    #[arg(long, env = "ACCORD_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Require this audience (`aud`).
    #[arg(long, env = "ACCORD_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Seconds a token is still accepted after its `exp` (clock skew).
    #[arg(long, env = "ACCORD_JWT_LEEWAY_SECONDS", default_value_t = 60)]
    pub jwt_leeway_seconds: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            jwt_hs256_secret: None,
            jwt_jwks_file: None,
            jwt_role_claim: "role".to_owned(),
            jwt_issuer: None,
            jwt_audience: None,
            jwt_leeway_seconds: 60,
        }
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub role: Role,
    /// Its `sub` claim, for the audit log.
    pub subject: Option<String>,
    /// When it stops being accepted: its `exp` plus the leeway. An open
    /// WebSocket connection is closed then.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl JwtVerifier {
    /// The verifier `config` asks for, if any.
    pub fn from_config(config: &JwtConfig) -> Result<Option<Self>, String> {
        let (keys, algorithm) = match (&config.jwt_hs256_secret, &config.jwt_jwks_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => return Err("give either a JWT secret or a JWKS file, not both".to_owned()),
            (Some(secret), None) => {
                if secret.len() < 32 {
                    return Err("the HS256 secret must be at least 32 bytes".to_owned());
                }
                (
                    Keys::Shared(DecodingKey::from_secret(secret.as_bytes())),
                    Algorithm::HS256,
                )
            }
            (None, Some(path)) => (Keys::Published(read_jwks(path)?), Algorithm::RS256),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.jwt_leeway_seconds;
        if let Some(issuer) = &config.jwt_issuer {
            validation.set_issuer(&[issuer]);
        }
        match &config.jwt_audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(Some(Self {
            keys,
            validation,
            role_claim: config.jwt_role_claim.clone(),
        }))
    }

    /// What a valid token grants, or why the token is refused.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, String> {
        let key = match &self.keys {
            Keys::Shared(key) => key.clone(),
            Keys::Published(set) => {
                let header = decode_header(token).map_err(|e| format!("unreadable token: {e}"))?;
                let kid = header.kid.ok_or("the token names no key (kid)")?;
                let jwk = set.find(&kid).ok_or_else(|| format!("no key {kid:?} in the JWKS"))?;
                DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable key {kid:?}: {e}"))?
            }
        };
        let claims = decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &self.validation)
            .map_err(|e| format!("invalid token: {e}"))?
            .claims;
        let role = claims
            .get(&self.role_claim)
            .and_then(|value| value.as_str())
            .ok_or_else(|| format!("the token has no {:?} claim", self.role_claim))?;
        let role = Role::parse(&role.to_ascii_uppercase()).ok_or_else(|| format!("{role:?} is not an Accord role"))?;
        let subject = claims.get("sub").and_then(|value| value.as_str()).map(str::to_owned);
        // `exp` is required and checked by the validation; it is a number.
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        let expires_at = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .and_then(|exp| chrono::DateTime::from_timestamp(exp.saturating_add(leeway), 0));
        Ok(VerifiedToken {
            role,
            subject,
            expires_at,
        })
    }
}

fn read_jwks(path: &Path) -> Result<JwkSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a JWKS: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

    fn verifier() -> JwtVerifier {
        let config = JwtConfig {
            jwt_hs256_secret: Some(SECRET.to_owned()),
            jwt_role_claim: "accord_role".to_owned(),
            ..JwtConfig::default()
        };
        JwtVerifier::from_config(&config).ok().flatten().expect("a verifier")
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap_or_default()
    }

    #[test]
    fn a_signed_token_grants_its_role_claim() {
        let exp = chrono::Utc::now().timestamp() + 600;
        let good = token(serde_json::json!({ "accord_role": "analyst", "exp": exp }), SECRET);
        let verified = verifier().verify(&good).expect("valid");
        assert_eq!((verified.role, verified.subject), (Role::Analyst, None));
        assert_eq!(
            verified.expires_at.map(|at| at.timestamp()),
            Some(exp + 60),
            "exp plus the default leeway"
        );
        let named = token(
            serde_json::json!({ "accord_role": "sales", "sub": "rep-7", "exp": exp }),
            SECRET,
        );
        let verified = verifier().verify(&named).expect("valid");
        assert_eq!(
            (verified.role, verified.subject),
            (Role::Sales, Some("rep-7".to_owned()))
        );
    }

    #[test]
    fn forged_expired_and_roleless_tokens_are_refused() {
        let exp = chrono::Utc::now().timestamp() + 600;
        let forged = token(
            serde_json::json!({ "accord_role": "ADMIN", "exp": exp }),
            "another-secret-another-secret-xx",
        );
        assert!(verifier().verify(&forged).is_err());
        let expired = token(serde_json::json!({ "accord_role": "ADMIN", "exp": 1000 }), SECRET);
        assert!(verifier().verify(&expired).is_err());
        let roleless = token(serde_json::json!({ "exp": exp }), SECRET);
        assert!(verifier().verify(&roleless).is_err());
        let unknown = token(serde_json::json!({ "accord_role": "OWNER", "exp": exp }), SECRET);
        assert!(verifier().verify(&unknown).is_err());
    }
}
