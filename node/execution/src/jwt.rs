//! The Engine API's shared secret and its HS256 tokens (execution-apis `src/engine/authentication.md`).
//!
//! The secret is 32 bytes, stored as hex in a file both clients read. Every request carries a fresh
//! token whose only claim is `iat` (seconds since the Unix epoch); the execution client rejects a
//! token whose `iat` is more than [`IAT_TOLERANCE_SECS`] away from its own clock.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Length of the secret in bytes (the spec's 256-bit key).
pub const JWT_SECRET_LEN: usize = 32;

/// How far `iat` may be from the verifier's clock, in seconds (the spec's ±60 s).
pub const IAT_TOLERANCE_SECS: u64 = 60;

/// What can go wrong with the secret file or a token.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("JWT secret file {path} does not exist")]
    Missing { path: PathBuf },
    #[error("cannot read JWT secret file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write JWT secret file {path}: {source}")]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "JWT secret file {path} is malformed: expected {expected} hex characters (32 bytes, optional 0x), found {found}"
    )]
    WrongLength {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error("JWT secret file {path} is malformed: not hex ({reason})")]
    NotHex { path: PathBuf, reason: String },
    #[error("cannot sign JWT: {0}")]
    Sign(String),
    #[error("JWT invalid: {0}")]
    InvalidToken(String),
    #[error("JWT iat {iat} is more than {IAT_TOLERANCE_SECS} s away from now ({now})")]
    StaleIat { iat: u64, now: u64 },
}

/// The 32-byte shared secret. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret([u8; JWT_SECRET_LEN]);

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// The claims Keel signs and the mock checks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Claims {
    iat: u64,
}

/// Seconds since the Unix epoch; a clock before 1970 reads as 0 rather than panicking.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl JwtSecret {
    pub const fn from_bytes(bytes: [u8; JWT_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; JWT_SECRET_LEN] {
        &self.0
    }

    /// A fresh secret from the OS-seeded thread RNG.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Parses the file format: 64 hex characters, optional `0x`, surrounding whitespace ignored.
    /// `path` only labels the error.
    pub fn parse(text: &str, path: &Path) -> Result<Self, JwtError> {
        let trimmed = text.trim();
        let hex_part = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed);
        let expected = JWT_SECRET_LEN * 2;
        if hex_part.len() != expected {
            return Err(JwtError::WrongLength {
                path: path.to_owned(),
                expected,
                found: hex_part.len(),
            });
        }
        let mut bytes = [0u8; JWT_SECRET_LEN];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|e| JwtError::NotHex {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self(bytes))
    }

    /// Reads the secret from `path`; a missing file is an error (the operator named it).
    pub fn load(path: &Path) -> Result<Self, JwtError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(JwtError::Missing {
                path: path.to_owned(),
            }),
            Err(e) => Err(JwtError::Unreadable {
                path: path.to_owned(),
                source: e,
            }),
        }
    }

    /// Reads the secret from `path`, or, if the file does not exist, generates one and writes it
    /// there (as `0x`-prefixed hex) so the execution client can be pointed at the same file.
    pub fn load_or_generate(path: &Path) -> Result<Self, JwtError> {
        match Self::load(path) {
            Err(JwtError::Missing { .. }) => {
                let secret = Self::random();
                std::fs::write(path, secret.to_hex()).map_err(|e| JwtError::Unwritable {
                    path: path.to_owned(),
                    source: e,
                })?;
                Ok(secret)
            }
            other => other,
        }
    }

    /// The file format: `0x` followed by 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// A token with `iat = now`.
    pub fn token(&self) -> Result<String, JwtError> {
        self.token_at(unix_now())
    }

    /// A token with the given `iat` (tests use it to forge stale tokens).
    pub fn token_at(&self, iat: u64) -> Result<String, JwtError> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { iat },
            &EncodingKey::from_secret(&self.0),
        )
        .map_err(|e| JwtError::Sign(e.to_string()))
    }

    /// Checks an HS256 token signed with this secret whose `iat` is within ±60 s of `now`.
    pub fn verify(&self, token: &str, now: u64) -> Result<(), JwtError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // The Engine API tokens carry no `exp`/`aud`: freshness is judged on `iat` below.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.0), &validation)
                .map_err(|e| JwtError::InvalidToken(e.to_string()))?;
        let iat = data.claims.iat;
        if iat.abs_diff(now) > IAT_TOLERANCE_SECS {
            return Err(JwtError::StaleIat { iat, now });
        }
        Ok(())
    }
}
