//! The Beacon API's JSON encoding of consensus types (behind the `serde` feature).
//!
//! The encoding: integers are decimal strings (`"12"`), byte strings, roots, public keys,
//! signatures and bitfields are `0x`-prefixed lowercase hex, containers are objects keyed by the
//! spec's snake_case field names, lists are arrays.
//!
//! How it is done: the containers derive a plain `serde::Serialize` (field names come for free),
//! the byte types serialize themselves as hex (here), and [`Quoted`] wraps whatever serializer the
//! caller uses (`serde_json`'s) so that every integer reaching it is written as a string. That
//! keeps the many `u64` fields (and `List<u64>`, `Vector<Gwei>`, ...) free of annotations; only
//! the fields whose Rust type would otherwise come out wrong carry one: `Version`-like `[u8; 4]`
//! arrays ([`hex_bytes`]) and `Uint256` ([`uint256_decimal`], whose own impl writes hex).
//!
//! Serialize with `serde_json::to_vec(&Quoted(&value))`. Without [`Quoted`], integers come out
//! as JSON numbers (the shape is otherwise the same).
//!
//! Reading back ([`from_value`], [`from_str`], [`signed_block_from_value`]) goes through a
//! `serde_json::Value`, whose digit-only strings are turned into numbers first; every container
//! but `BeaconState` derives `Deserialize`. Meant for request bodies (blocks, attestations), not
//! for bulk data.

use serde::de::{self, DeserializeOwned};
use serde::ser::{self, Serialize, Serializer};
use serde::{Deserialize, Deserializer};
use typenum::Unsigned;

use crate::bytes::{ByteList, ByteVector};
use crate::map_fork_name;
use crate::preset::Preset;
use crate::primitives::{KzgCommitment, KzgProof, PublicKeyBytes, SignatureBytes, Uint256};
use crate::{ForkName, SignedBeaconBlock};

/// `0x` followed by the lowercase hex of `bytes`.
fn hex_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    out.push_str(&hex::encode(bytes));
    out
}

/// `serialize_with` helper: any byte string (`Version`, `ForkDigest`, `Domain`, ...) as `0x` hex.
pub fn hex_bytes<T: AsRef<[u8]>, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex_string(value.as_ref()))
}

/// Parses `0x`-prefixed hex (either case) into bytes.
fn parse_hex<E: de::Error>(s: &str) -> Result<Vec<u8>, E> {
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| E::custom(format!("expected 0x-prefixed hex, found {s:?}")))?;
    hex::decode(digits).map_err(|e| E::custom(format!("invalid hex: {e}")))
}

/// A `0x` hex string, deserialized as bytes of any length.
fn deserialize_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse_hex(&s)
}

/// `#[serde(with)]` module for fixed byte arrays (`Version`, `ForkDigest`, `Domain`): `0x` hex.
pub mod hex_array {
    use super::*;

    pub fn serialize<T: AsRef<[u8]>, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        hex_bytes(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let bytes = deserialize_hex(deserializer)?;
        <[u8; N]>::try_from(bytes.as_slice())
            .map_err(|_| de::Error::invalid_length(bytes.len(), &"the array's length in bytes"))
    }
}

/// `#[serde(with)]` module for `Uint256` as a decimal string (the Beacon API's `Uint256`; the
/// type's own impl writes hex). Deserializing also accepts a JSON number.
pub mod uint256_decimal {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Uint256, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uint256, D::Error> {
        struct Decimal;
        impl de::Visitor<'_> for Decimal {
            type Value = Uint256;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal uint256")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Uint256, E> {
                Ok(Uint256::from(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Uint256, E> {
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom(format!(
                        "expected a decimal uint256, found {v:?}"
                    )));
                }
                Uint256::from_str_radix(v, 10).map_err(|e| E::custom(format!("uint256: {e}")))
            }
        }
        deserializer.deserialize_any(Decimal)
    }
}

macro_rules! hex_serde {
    ($($ty:ident),*) => {
        $(
            impl Serialize for $ty {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    hex_bytes(&self.0, serializer)
                }
            }

            impl<'de> Deserialize<'de> for $ty {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    hex_array::deserialize(deserializer).map(Self)
                }
            }
        )*
    };
}

hex_serde!(PublicKeyBytes, SignatureBytes, KzgCommitment, KzgProof);

impl<N> Serialize for ByteVector<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        hex_bytes(self, serializer)
    }
}

impl<'de, N: Unsigned> Deserialize<'de> for ByteVector<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = deserialize_hex(deserializer)?;
        Self::from_vec(bytes).map_err(|e| de::Error::custom(format!("{e:?}")))
    }
}

impl<N> Serialize for ByteList<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        hex_bytes(self, serializer)
    }
}

impl<'de, N: Unsigned> Deserialize<'de> for ByteList<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = deserialize_hex(deserializer)?;
        Self::from_vec(bytes).map_err(|e| de::Error::custom(format!("{e:?}")))
    }
}

/// Why a JSON value is not the container asked for.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON for the requested type: {0}")]
pub struct JsonError(#[from] serde_json::Error);

/// Turns the Beacon API's quoted integers back into JSON numbers, in place: every string made
/// only of decimal digits that fits a `u64`. (Consensus containers hold no other digit-only
/// strings: byte strings are `0x` hex.) Larger digit strings stay strings for `Uint256`.
fn unquote_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            if let Ok(n) = s.parse::<u64>() {
                *value = Value::from(n);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unquote_integers),
        Value::Object(fields) => fields.values_mut().for_each(unquote_integers),
        _ => {}
    }
}

/// Reads a container from its Beacon API JSON (the inverse of serializing through [`Quoted`]).
/// Every container except `BeaconState` (whose persistent vectors have no `Deserialize`)
/// supports it.
pub fn from_value<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, JsonError> {
    unquote_integers(&mut value);
    Ok(T::deserialize(value)?)
}

/// As [`from_value`], from JSON text.
pub fn from_str<T: DeserializeOwned>(json: &str) -> Result<T, JsonError> {
    from_value(serde_json::from_str(json)?)
}

/// A signed block of the given fork from its Beacon API JSON (JSON does not say its fork; the
/// API's `version` field or `Eth-Consensus-Version` header does).
pub fn signed_block_from_value<P: Preset>(
    value: serde_json::Value,
    fork: ForkName,
) -> Result<SignedBeaconBlock<P>, JsonError> {
    map_fork_name!(fork, SignedBeaconBlock, Variant, types =>
        from_value::<types::SignedBeaconBlock<P>>(value).map(Variant))
}

/// Serializes the wrapped value with every integer written as a decimal string.
///
/// Booleans, strings (and therefore hex) and `null` pass through unchanged; integers nested at
/// any depth (struct fields, list elements, map values and keys) are quoted.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<T>(pub T);

impl<T: Serialize> Serialize for Quoted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(QuotingSerializer(serializer))
    }
}

/// The serializer [`Quoted`] hands to the value: forwards everything to the inner serializer,
/// turning integers into strings and wrapping every nested value again.
struct QuotingSerializer<S>(S);

/// A compound serializer (sequence, struct, map, ...) whose elements are wrapped in [`Quoted`].
struct QuotingCompound<C>(C);

macro_rules! quote_ints {
    ($($method:ident: $ty:ty,)*) => {
        $(
            fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
                self.0.serialize_str(&v.to_string())
            }
        )*
    };
}

impl<S: Serializer> Serializer for QuotingSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = QuotingCompound<S::SerializeSeq>;
    type SerializeTuple = QuotingCompound<S::SerializeTuple>;
    type SerializeTupleStruct = QuotingCompound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = QuotingCompound<S::SerializeTupleVariant>;
    type SerializeMap = QuotingCompound<S::SerializeMap>;
    type SerializeStruct = QuotingCompound<S::SerializeStruct>;
    type SerializeStructVariant = QuotingCompound<S::SerializeStructVariant>;

    quote_ints! {
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.0.serialize_bool(v)
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.0.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.0.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.0.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(v)
    }
    /// Raw bytes (a type without a hex impl) are written as hex rather than an array of numbers.
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(&hex_string(v))
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Quoted(value))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, variant_index, variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Quoted(value))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, variant_index, variant, &Quoted(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(QuotingCompound)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(QuotingCompound)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0
            .serialize_tuple_struct(name, len)
            .map(QuotingCompound)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, variant_index, variant, len)
            .map(QuotingCompound)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(QuotingCompound)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(QuotingCompound)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, variant_index, variant, len)
            .map(QuotingCompound)
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<C: ser::SerializeSeq> ser::SerializeSeq for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_element(&Quoted(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeTuple> ser::SerializeTuple for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_element(&Quoted(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeTupleStruct> ser::SerializeTupleStruct for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_field(&Quoted(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeTupleVariant> ser::SerializeTupleVariant for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_field(&Quoted(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeMap> ser::SerializeMap for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), C::Error> {
        self.0.serialize_key(&Quoted(key))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Quoted(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStruct> ser::SerializeStruct for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Quoted(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStructVariant> ser::SerializeStructVariant for QuotingCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Quoted(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phase0::{Checkpoint, Fork, Validator};
    use crate::{ForkName, Hash256, Minimal, SignedBeaconBlock, fulu};
    use serde_json::{Value, json};

    fn to_json<T: Serialize>(value: &T) -> Value {
        serde_json::to_value(Quoted(value)).expect("serializable")
    }

    #[test]
    fn integers_are_strings_and_bytes_are_hex() {
        let checkpoint = Checkpoint {
            epoch: 7,
            root: Hash256::repeat_byte(0xab),
        };
        assert_eq!(
            to_json(&checkpoint),
            json!({"epoch": "7", "root": format!("0x{}", "ab".repeat(32))})
        );
        let fork = Fork {
            previous_version: [0, 0, 0, 1],
            current_version: [1, 2, 3, 4],
            epoch: u64::MAX,
        };
        assert_eq!(
            to_json(&fork),
            json!({
                "previous_version": "0x00000001",
                "current_version": "0x01020304",
                "epoch": "18446744073709551615",
            })
        );
        let validator = Validator {
            pubkey: PublicKeyBytes([0x11; 48]),
            slashed: true,
            effective_balance: 32_000_000_000,
            ..Default::default()
        };
        let v = to_json(&validator);
        assert_eq!(v["pubkey"], json!(format!("0x{}", "11".repeat(48))));
        assert_eq!(v["slashed"], json!(true));
        assert_eq!(v["effective_balance"], json!("32000000000"));
    }

    #[test]
    fn fulu_state_and_block_shapes() {
        let mut state = fulu::BeaconState::<Minimal>::default();
        state.balances.push(5).expect("room");
        state.previous_epoch_participation.push(7).expect("room");
        let v = to_json(&state);
        assert_eq!(v["balances"], json!(["5"]));
        assert_eq!(v["previous_epoch_participation"], json!(["7"]));
        assert_eq!(v["justification_bits"], json!("0x00"));
        assert_eq!(
            v["latest_execution_payload_header"]["base_fee_per_gas"],
            json!("0")
        );
        assert_eq!(
            v["latest_execution_payload_header"]["fee_recipient"],
            json!(format!("0x{}", "00".repeat(20)))
        );
        assert_eq!(
            v["latest_execution_payload_header"]["extra_data"],
            json!("0x")
        );
        assert_eq!(
            v["current_sync_committee"]["pubkeys"]
                .as_array()
                .map(Vec::len),
            Some(32)
        );
        assert_eq!(v["proposer_lookahead"].as_array().map(Vec::len), Some(16));

        let block = SignedBeaconBlock::<Minimal>::default_for_fork(ForkName::Fulu);
        let v = to_json(&block);
        assert_eq!(v["message"]["slot"], json!("0"));
        assert_eq!(v["signature"], json!(format!("0x{}", "00".repeat(96))));
        let body = &v["message"]["body"];
        assert_eq!(body["execution_requests"]["deposits"], json!([]));
        assert_eq!(body["blob_kzg_commitments"], json!([]));
        assert_eq!(
            body["sync_aggregate"]["sync_committee_bits"],
            json!("0x00000000")
        );
    }

    #[test]
    fn blocks_round_trip_through_json() {
        let mut inner = fulu::SignedBeaconBlock::<Minimal>::default();
        inner.message.slot = 12_345;
        inner.message.body.graffiti = Hash256::repeat_byte(7);
        inner.message.body.execution_payload.base_fee_per_gas = Uint256::from(u128::MAX);
        inner.message.body.execution_payload.extra_data =
            crate::ByteList::from_slice(&[1, 2, 3]).expect("short");
        inner
            .message
            .body
            .execution_payload
            .transactions
            .push(crate::ByteList::from_slice(&[9; 40]).expect("short"))
            .expect("room");
        inner.signature = SignatureBytes::infinity();
        let block = SignedBeaconBlock::Fulu(inner);
        let value = to_json(&block);
        assert_eq!(
            value["message"]["body"]["execution_payload"]["base_fee_per_gas"],
            json!(u128::MAX.to_string())
        );
        let back =
            signed_block_from_value::<Minimal>(value.clone(), ForkName::Fulu).expect("decodes");
        assert_eq!(back, block);
        // Unquoted integers are accepted too; wrong lengths and bad hex are not.
        let mut plain = serde_json::to_value(&block).expect("serializable");
        assert_eq!(plain["message"]["slot"], json!(12_345));
        assert!(signed_block_from_value::<Minimal>(plain.clone(), ForkName::Fulu).is_ok());
        plain["signature"] = json!("0x00");
        assert!(signed_block_from_value::<Minimal>(plain, ForkName::Fulu).is_err());
        let mut bad = value;
        bad["message"]["body"]["graffiti"] = json!("0xzz");
        assert!(signed_block_from_value::<Minimal>(bad, ForkName::Fulu).is_err());
        let checkpoint: Checkpoint = from_str(&format!(
            r#"{{"epoch":"3","root":"{}"}}"#,
            Hash256::repeat_byte(1)
        ))
        .expect("checkpoint");
        assert_eq!(checkpoint.epoch, 3);
    }
}
