//! Parsing what the client sends: state, block and validator ids, query parameters, and the
//! extractors that turn axum's own rejections into the spec's JSON 400.

use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::request::Parts;
use keel_types::{Hash256, PublicKeyBytes, Slot, ValidatorIndex};
use serde::de::DeserializeOwned;

use crate::error::RequestError;

/// `state_id`: `head`, `genesis`, `finalized`, `justified`, a slot, or a 0x state root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateId {
    Head,
    Genesis,
    Finalized,
    Justified,
    Slot(Slot),
    Root(Hash256),
}

/// `block_id`: `head`, `genesis`, `finalized`, `justified`, a slot, or a 0x block root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    Head,
    Genesis,
    Finalized,
    Justified,
    Slot(Slot),
    Root(Hash256),
}

/// The named ids, a decimal slot, or a 0x root (shared grammar of state and block ids).
enum Named {
    Head,
    Genesis,
    Finalized,
    Justified,
    Slot(Slot),
    Root(Hash256),
}

fn parse_named(s: &str, what: &str) -> Result<Named, RequestError> {
    let bad = || RequestError::bad_request(format!("invalid {what}: {s:?}"));
    Ok(match s {
        "head" => Named::Head,
        "genesis" => Named::Genesis,
        "finalized" => Named::Finalized,
        "justified" => Named::Justified,
        _ if s.starts_with("0x") => Named::Root(parse_root(s).ok_or_else(bad)?),
        _ => Named::Slot(parse_u64(s).ok_or_else(bad)?),
    })
}

impl StateId {
    pub fn parse(s: &str) -> Result<Self, RequestError> {
        Ok(match parse_named(s, "state id")? {
            Named::Head => StateId::Head,
            Named::Genesis => StateId::Genesis,
            Named::Finalized => StateId::Finalized,
            Named::Justified => StateId::Justified,
            Named::Slot(slot) => StateId::Slot(slot),
            Named::Root(root) => StateId::Root(root),
        })
    }
}

impl BlockId {
    pub fn parse(s: &str) -> Result<Self, RequestError> {
        Ok(match parse_named(s, "block id")? {
            Named::Head => BlockId::Head,
            Named::Genesis => BlockId::Genesis,
            Named::Finalized => BlockId::Finalized,
            Named::Justified => BlockId::Justified,
            Named::Slot(slot) => BlockId::Slot(slot),
            Named::Root(root) => BlockId::Root(root),
        })
    }
}

/// A decimal `uint64` with no sign, spaces or leading `+` (what the spec's examples show).
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `0x` followed by exactly 64 hex digits.
pub fn parse_root(s: &str) -> Option<Hash256> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(Hash256::from(out))
}

/// A validator named by index or by 0x public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidatorId {
    Index(ValidatorIndex),
    Pubkey(PublicKeyBytes),
}

impl ValidatorId {
    pub fn parse(s: &str) -> Result<Self, RequestError> {
        let bad = || RequestError::bad_request(format!("invalid validator id: {s:?}"));
        if let Some(digits) = s.strip_prefix("0x") {
            if digits.len() != 2 * PublicKeyBytes::LEN {
                return Err(bad());
            }
            return PublicKeyBytes::from_hex(digits)
                .map(ValidatorId::Pubkey)
                .map_err(|_| bad());
        }
        parse_u64(s).map(ValidatorId::Index).ok_or_else(bad)
    }
}

/// The path parameters, as strings; axum's rejection (bad percent-encoding, non-UTF-8) becomes
/// a JSON 400.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathParams(v))
            .map_err(|e| RequestError::bad_request(format!("invalid path: {e}")))
    }
}

/// The query string as `(key, value)` pairs, in order; repeated keys are kept.
pub struct Query(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = RequestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(|_| RequestError::bad_request("invalid query string"))?;
        let pairs = raw
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Query(pairs))
    }
}

impl Query {
    /// Every value of `key`, with comma-separated values split (the spec allows both
    /// `id=1&id=2` and `id=1,2`).
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The single value of `key`; given twice with different values is a 400.
    pub fn single(&self, key: &str) -> Result<Option<&str>, RequestError> {
        let mut values = self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
        let first = values.next();
        if let Some(first) = first
            && values.any(|v| v != first)
        {
            return Err(RequestError::bad_request(format!(
                "query parameter {key} given more than once"
            )));
        }
        Ok(first.map(String::as_str))
    }

    /// The single `uint64` value of `key`, if present.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, RequestError> {
        self.single(key)?
            .map(|v| {
                parse_u64(v).ok_or_else(|| {
                    RequestError::bad_request(format!("invalid {key}: {v:?} (expected a uint64)"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        assert_eq!(StateId::parse("head").ok(), Some(StateId::Head));
        assert_eq!(StateId::parse("12").ok(), Some(StateId::Slot(12)));
        assert!(StateId::parse("-1").is_err());
        assert!(StateId::parse("+1").is_err());
        assert!(StateId::parse("18446744073709551616").is_err());
        assert!(StateId::parse("0x12").is_err());
        assert!(StateId::parse("Head").is_err());
        let root = format!("0x{}", "ab".repeat(32));
        assert_eq!(
            BlockId::parse(&root).ok(),
            Some(BlockId::Root(Hash256::repeat_byte(0xab)))
        );
        assert!(BlockId::parse(&format!("0x{}", "zz".repeat(32))).is_err());
        assert_eq!(ValidatorId::parse("3").ok(), Some(ValidatorId::Index(3)));
        assert!(ValidatorId::parse(&format!("0x{}", "11".repeat(48))).is_ok());
        assert!(ValidatorId::parse(&format!("0x{}", "11".repeat(47))).is_err());
    }
}
