//! The spec's custom types (`Slot`, `Gwei`, `Root`, `BLSPubkey`, ...).
//!
//! Integers are plain `u64` aliases: SSZ and the spec treat them as `uint64`, and newtypes would cost
//! conversions on every hot path of the state transition. Byte strings that are hashed or compared
//! as a whole are fixed-size arrays, so that a million validators do not mean a million heap
//! allocations.

use ssz::{Decode, DecodeError, Encode};
use tree_hash::{PackedEncoding, TreeHash, TreeHashType};

pub use alloy_primitives::{Address as ExecutionAddress, B256 as Hash256};

pub type Slot = u64;
pub type Epoch = u64;
pub type CommitteeIndex = u64;
pub type ValidatorIndex = u64;
pub type Gwei = u64;
pub type WithdrawalIndex = u64;
pub type BlobIndex = u64;
pub type ColumnIndex = u64;
pub type CustodyIndex = u64;
pub type RowIndex = u64;
pub type Root = Hash256;
pub type Bytes32 = Hash256;
pub type Hash32 = Hash256;
pub type Version = [u8; 4];
pub type DomainType = [u8; 4];
pub type ForkDigest = [u8; 4];
pub type Domain = [u8; 32];
pub type ParticipationFlags = u8;
pub type Uint256 = alloy_primitives::U256;

/// Generates a fixed-size byte-string type with SSZ and tree-hash impls, hex `Debug`/`Display`,
/// and a zero default. Used for byte strings longer than 32 bytes that the spec treats as opaque
/// (`BLSPubkey`, `BLSSignature`, `KZGCommitment`, ...).
macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const LEN: usize = $len;

            pub const fn zero() -> Self {
                Self([0; $len])
            }

            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Parses `0x`-prefixed (or bare) hex of exactly the right length.
            pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
                let mut out = [0u8; $len];
                hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut out)?;
                Ok(Self(out))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::zero()
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }

        impl Encode for $name {
            fn is_ssz_fixed_len() -> bool {
                true
            }
            fn ssz_fixed_len() -> usize {
                $len
            }
            fn ssz_bytes_len(&self) -> usize {
                $len
            }
            fn ssz_append(&self, buf: &mut Vec<u8>) {
                buf.extend_from_slice(&self.0);
            }
        }

        impl Decode for $name {
            fn is_ssz_fixed_len() -> bool {
                true
            }
            fn ssz_fixed_len() -> usize {
                $len
            }
            fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
                <[u8; $len]>::from_ssz_bytes(bytes).map(Self)
            }
        }

        impl TreeHash for $name {
            fn tree_hash_type() -> TreeHashType {
                TreeHashType::Vector
            }
            fn tree_hash_packed_encoding(&self) -> PackedEncoding {
                unreachable!("Vector should never be packed")
            }
            fn tree_hash_packing_factor() -> usize {
                unreachable!("Vector should never be packed")
            }
            fn tree_hash_root(&self) -> Hash256 {
                self.0.tree_hash_root()
            }
        }
    };
}

fixed_bytes!(
    /// A compressed BLS12-381 G1 point, as it travels on the wire and sits in the state.
    /// Decompression and subgroup checks happen in `keel-crypto`, once, and are cached there.
    PublicKeyBytes,
    48
);
fixed_bytes!(
    /// A compressed BLS12-381 G2 point (a signature), unchecked until `keel-crypto` verifies it.
    SignatureBytes,
    96
);
fixed_bytes!(
    /// A KZG commitment (compressed G1 point).
    KzgCommitment,
    48
);
fixed_bytes!(
    /// A KZG proof (compressed G1 point).
    KzgProof,
    48
);

pub type BlsPubkey = PublicKeyBytes;
pub type BlsSignature = SignatureBytes;

impl SignatureBytes {
    /// The point at infinity: the signature of an empty aggregate (`G2_POINT_AT_INFINITY`).
    pub const fn infinity() -> Self {
        let mut bytes = [0u8; 96];
        bytes[0] = 0xc0;
        Self(bytes)
    }
}
