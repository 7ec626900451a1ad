//! `ssz_generic`: the classic handlers (`uints`, `boolean`, `basic_vector`, `bitvector`,
//! `bitlist`, `containers`). The SSZ type is encoded in each case's name
//! (`tests/formats/ssz_generic/README.md`), so the handler parses the name and dispatches to a
//! monomorphized check.
//!
//! Valid cases: decode `serialized`, compare with `value.yaml`, re-encode byte for byte, compare the
//! hash-tree-root with `meta.yaml`. Invalid cases: decoding must fail.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::{ensure, ensure_eq};

use alloy_primitives::{U128 as Uint128, U256 as Uint256};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use ssz::{Decode, Encode};
use ssz_derive::{Decode, Encode};
use ssz_types::typenum::operator_aliases::{Add1, Sum};
use ssz_types::typenum::*;
use ssz_types::{BitList, BitVector, FixedVector, VariableList};
use tree_hash::TreeHash;
use tree_hash_derive::TreeHash;

pub fn handler(_preset: &str, _fork: &str, handler: &str) -> Option<HandlerFn> {
    Some(match handler {
        "uints" => run_uints,
        "boolean" => run_boolean,
        "basic_vector" => run_basic_vector,
        "bitvector" => run_bitvector,
        "bitlist" => run_bitlist,
        "containers" => run_containers,
        _ => return None,
    })
}

/// The value as the vectors' `value.yaml` writes it.
pub trait ToYaml {
    fn to_yaml(&self) -> Value;
}

macro_rules! yaml_number {
    ($($t:ty),*) => {$(
        impl ToYaml for $t {
            fn to_yaml(&self) -> Value {
                Value::Number((*self).into())
            }
        }
    )*};
}
yaml_number!(u8, u16, u32, u64);

impl ToYaml for bool {
    fn to_yaml(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToYaml for Uint128 {
    fn to_yaml(&self) -> Value {
        Value::String(self.to_string())
    }
}
impl ToYaml for Uint256 {
    fn to_yaml(&self) -> Value {
        Value::String(self.to_string())
    }
}
impl<T: ToYaml, N: Unsigned> ToYaml for FixedVector<T, N> {
    fn to_yaml(&self) -> Value {
        Value::Sequence(self.iter().map(ToYaml::to_yaml).collect())
    }
}
impl<N: Unsigned> ToYaml for VariableList<u16, N> {
    fn to_yaml(&self) -> Value {
        Value::Sequence(self.iter().map(ToYaml::to_yaml).collect())
    }
}
/// A `ByteList` is written as hex.
impl<N: Unsigned> ToYaml for VariableList<u8, N> {
    fn to_yaml(&self) -> Value {
        Value::String(format!("0x{}", hex::encode(&self[..])))
    }
}
impl<N: Unsigned + Clone> ToYaml for BitVector<N> {
    fn to_yaml(&self) -> Value {
        Value::String(format!("0x{}", hex::encode(self.as_ssz_bytes())))
    }
}
impl<N: Unsigned + Clone> ToYaml for BitList<N> {
    fn to_yaml(&self) -> Value {
        Value::String(format!("0x{}", hex::encode(self.as_ssz_bytes())))
    }
}

macro_rules! test_container {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, PartialEq, Encode, Decode, TreeHash)]
        #[allow(non_snake_case)]
        pub struct $name { $(pub $field: $ty),* }

        impl ToYaml for $name {
            fn to_yaml(&self) -> Value {
                let mut m = Mapping::new();
                $(m.insert(Value::String(stringify!($field).into()), self.$field.to_yaml());)*
                Value::Mapping(m)
            }
        }
    };
}

test_container!(SingleFieldTestStruct { A: u8 });
test_container!(SmallTestStruct { A: u16, B: u16 });
test_container!(FixedTestStruct {
    A: u8,
    B: u64,
    C: u32
});
test_container!(VarTestStruct { A: u16, B: VariableList<u16, U1024>, C: u8 });
test_container!(ComplexTestStruct {
    A: u16,
    B: VariableList<u16, U128>,
    C: u8,
    D: VariableList<u8, U256>,
    E: VarTestStruct,
    F: FixedVector<FixedTestStruct, U4>,
    G: FixedVector<VarTestStruct, U2>,
});
test_container!(BitsStruct {
    A: BitList<U5>,
    B: BitVector<U2>,
    C: BitVector<U1>,
    D: BitList<U6>,
    E: BitVector<U8>,
});

/// EIP-7916's unbounded bitlist. Only its decoding is exercised here (the vectors hold it in
/// invalid `ProgressiveBitsStruct` cases only), so it carries the SSZ decoding rules of a bitlist
/// without a limit and no merkleization.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressiveBitList(Vec<u8>);

impl Decode for ProgressiveBitList {
    fn is_ssz_fixed_len() -> bool {
        false
    }
    fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, ssz::DecodeError> {
        match bytes.last() {
            Some(&last) if last != 0 => Ok(Self(bytes.to_vec())),
            _ => Err(ssz::DecodeError::BytesInvalid(
                "bitlist without a delimiter bit".into(),
            )),
        }
    }
}

/// typenum has no aliases for 1280 and 1281.
type U1280 = Sum<U1024, U256>;
type U1281 = Add1<U1280>;

#[derive(Debug, Clone, PartialEq, Decode)]
#[allow(non_snake_case)]
pub struct ProgressiveBitsStruct {
    pub A: BitVector<U256>,
    pub B: BitList<U256>,
    pub C: ProgressiveBitList,
    pub D: BitVector<U257>,
    pub E: BitList<U257>,
    pub F: ProgressiveBitList,
    pub G: BitVector<U1280>,
    pub H: BitList<U1280>,
    pub I: ProgressiveBitList,
    pub J: BitVector<U1281>,
    pub K: BitList<U1281>,
    pub L: ProgressiveBitList,
}

#[derive(Deserialize)]
struct Meta {
    root: String,
}

/// The checks of one case for a type that supports the full round trip.
fn check<T>(case: &Case) -> CaseResult
where
    T: Encode + Decode + TreeHash + ToYaml + std::fmt::Debug,
{
    let bytes = case.read_ssz_snappy("serialized")?;
    match case.suite.as_str() {
        "valid" => {
            let value = T::from_ssz_bytes(&bytes)
                .map_err(|e| CaseError::Mismatch(format!("valid bytes failed to decode: {e:?}")))?;
            let expected_value: Value = case.read_yaml("value.yaml")?;
            ensure_eq!(value.to_yaml(), expected_value, "decoded value");
            ensure!(
                value.as_ssz_bytes() == bytes,
                "re-encoding differs from serialized"
            );
            let meta: Meta = case.read_yaml("meta.yaml")?;
            let root = format!("{:?}", value.tree_hash_root());
            ensure_eq!(root, meta.root, "hash_tree_root");
            Ok(Outcome::Pass)
        }
        "invalid" => check_invalid::<T>(&bytes),
        other => Err(CaseError::Mismatch(format!("unknown suite `{other}`"))),
    }
}

fn check_invalid<T: Decode + std::fmt::Debug>(bytes: &[u8]) -> CaseResult {
    match T::from_ssz_bytes(bytes) {
        Ok(value) => Err(CaseError::Mismatch(format!(
            "invalid bytes decoded to {value:?}"
        ))),
        Err(_) => Ok(Outcome::Pass),
    }
}

/// For type declarations that are themselves invalid (a 0-length vector): the spec counts
/// rejecting the type as rejecting the data, so such cases pass only in the `invalid` suite.
fn invalid_type(case: &Case, what: &str) -> CaseResult {
    ensure!(
        case.suite == "invalid",
        "{what} is not a valid SSZ type but the case is valid"
    );
    Ok(Outcome::Pass)
}

fn unknown_name(case: &Case) -> CaseError {
    CaseError::Mismatch(format!("case name `{}` names no known SSZ type", case.name))
}

/// Splits `prefix_<a>_<b>_rest` style names into their `_`-separated parts after `prefix`.
fn name_parts<'a>(case: &'a Case, prefix: &str) -> Result<Vec<&'a str>, CaseError> {
    case.name
        .strip_prefix(prefix)
        .map(|rest| rest.split('_').collect())
        .ok_or_else(|| unknown_name(case))
}

fn run_uints(case: &Case) -> CaseResult {
    let parts = name_parts(case, "uint_")?;
    match parts.first().copied() {
        Some("8") => check::<u8>(case),
        Some("16") => check::<u16>(case),
        Some("32") => check::<u32>(case),
        Some("64") => check::<u64>(case),
        Some("128") => check::<Uint128>(case),
        Some("256") => check::<Uint256>(case),
        _ => Err(unknown_name(case)),
    }
}

fn run_boolean(case: &Case) -> CaseResult {
    check::<bool>(case)
}

/// Expands to a match from a length literal to `$check::<$ty<..., U$len>>`.
macro_rules! by_length {
    ($case:expr, $len:expr, $wrap:ident, $elem:ty; $($n:literal => $u:ty),*) => {
        match $len {
            $($n => check::<$wrap<$elem, $u>>($case),)*
            _ => Err(unknown_name($case)),
        }
    };
}

macro_rules! vector_lengths {
    ($case:expr, $len:expr, $elem:ty) => {
        by_length!($case, $len, FixedVector, $elem;
            1 => U1, 2 => U2, 3 => U3, 4 => U4, 5 => U5, 8 => U8, 16 => U16, 31 => U31,
            512 => U512, 513 => U513)
    };
}

fn run_basic_vector(case: &Case) -> CaseResult {
    let parts = name_parts(case, "vec_")?;
    let (Some(elem), Some(len)) = (parts.first(), parts.get(1)) else {
        return Err(unknown_name(case));
    };
    let len: usize = len.parse().map_err(|_| unknown_name(case))?;
    if len == 0 {
        return invalid_type(case, "a 0-length vector");
    }
    match *elem {
        "bool" => vector_lengths!(case, len, bool),
        "uint8" => vector_lengths!(case, len, u8),
        "uint16" => vector_lengths!(case, len, u16),
        "uint32" => vector_lengths!(case, len, u32),
        "uint64" => vector_lengths!(case, len, u64),
        "uint128" => vector_lengths!(case, len, Uint128),
        "uint256" => vector_lengths!(case, len, Uint256),
        _ => Err(unknown_name(case)),
    }
}

macro_rules! bits_by_length {
    ($case:expr, $len:expr, $wrap:ident) => {
        match $len {
            1 => check::<$wrap<U1>>($case),
            2 => check::<$wrap<U2>>($case),
            3 => check::<$wrap<U3>>($case),
            4 => check::<$wrap<U4>>($case),
            5 => check::<$wrap<U5>>($case),
            6 => check::<$wrap<U6>>($case),
            7 => check::<$wrap<U7>>($case),
            8 => check::<$wrap<U8>>($case),
            9 => check::<$wrap<U9>>($case),
            15 => check::<$wrap<U15>>($case),
            16 => check::<$wrap<U16>>($case),
            17 => check::<$wrap<U17>>($case),
            31 => check::<$wrap<U31>>($case),
            32 => check::<$wrap<U32>>($case),
            33 => check::<$wrap<U33>>($case),
            511 => check::<$wrap<U511>>($case),
            512 => check::<$wrap<U512>>($case),
            513 => check::<$wrap<U513>>($case),
            _ => Err(unknown_name($case)),
        }
    };
}

fn run_bitvector(case: &Case) -> CaseResult {
    let parts = name_parts(case, "bitvec_")?;
    let len: usize = parts
        .first()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| unknown_name(case))?;
    if len == 0 {
        return invalid_type(case, "a 0-length bitvector");
    }
    bits_by_length!(case, len, BitVector)
}

fn run_bitlist(case: &Case) -> CaseResult {
    let parts = name_parts(case, "bitlist_")?;
    let limit: usize = parts
        .first()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| unknown_name(case))?;
    bits_by_length!(case, limit, BitList)
}

fn run_containers(case: &Case) -> CaseResult {
    let type_name = case.name.split('_').next().unwrap_or_default();
    match type_name {
        "SingleFieldTestStruct" => check::<SingleFieldTestStruct>(case),
        "SmallTestStruct" => check::<SmallTestStruct>(case),
        "FixedTestStruct" => check::<FixedTestStruct>(case),
        "VarTestStruct" => check::<VarTestStruct>(case),
        "ComplexTestStruct" => check::<ComplexTestStruct>(case),
        "BitsStruct" => check::<BitsStruct>(case),
        "ProgressiveBitsStruct" => {
            ensure!(
                case.suite == "invalid",
                "valid ProgressiveBitsStruct cases need merkleization of progressive bitlists"
            );
            check_invalid::<ProgressiveBitsStruct>(&case.read_ssz_snappy("serialized")?)
        }
        _ => Err(unknown_name(case)),
    }
}
