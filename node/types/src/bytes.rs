//! Byte strings: `ByteVector[N]` and `ByteList[N]`.
//!
//! `ssz_types::{FixedVector, VariableList}<u8, N>` decode through a fast path but encode and
//! merkleize one byte at a time (one `SmallVec` per byte for the tree hash). That is fine for a
//! 32-byte graffiti and wasteful for a 128 KiB blob, a 2 KiB cell (128 of them per column) or a
//! megabyte transaction, so byte strings get their own types here: a boxed slice that is copied in
//! and out with `memcpy` and merkleized 32 bytes at a time.

use std::fmt;
use std::marker::PhantomData;

use ssz::{Decode, DecodeError, Encode};
use tree_hash::{Hash256, PackedEncoding, TreeHash, TreeHashType};
use typenum::Unsigned;

/// Number of 32-byte chunks needed for `len` bytes.
const fn chunks_for(len: usize) -> usize {
    len.div_ceil(tree_hash::BYTES_PER_CHUNK)
}

fn fmt_hex(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Long byte strings (blobs, cells) print their head and length, not 256 KiB of hex.
    const MAX_SHOWN: usize = 64;
    if bytes.len() <= MAX_SHOWN {
        write!(f, "0x{}", hex::encode(bytes))
    } else {
        write!(
            f,
            "0x{}..({} bytes)",
            hex::encode(&bytes[..MAX_SHOWN]),
            bytes.len()
        )
    }
}

/// Implements `Clone`, `PartialEq`, `Eq` and `Hash` on the bytes alone, without the bounds on the
/// length parameter that `derive` would add.
macro_rules! impl_byte_traits {
    ($name:ident, $field:ident, $marker:ident) => {
        impl<N> Clone for $name<N> {
            fn clone(&self) -> Self {
                Self {
                    $field: self.$field.clone(),
                    $marker: PhantomData,
                }
            }
        }

        impl<N> PartialEq for $name<N> {
            fn eq(&self, other: &Self) -> bool {
                self.$field == other.$field
            }
        }

        impl<N> Eq for $name<N> {}

        impl<N> std::hash::Hash for $name<N> {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.$field.hash(state)
            }
        }
    };
}

/// The spec's `ByteVector[N]`: exactly `N` bytes, heap-allocated.
pub struct ByteVector<N> {
    bytes: Box<[u8]>,
    _len: PhantomData<N>,
}

impl_byte_traits!(ByteVector, bytes, _len);

impl<N: Unsigned> ByteVector<N> {
    /// The length every value of this type has.
    pub fn fixed_len() -> usize {
        N::to_usize()
    }

    /// `N` zero bytes.
    pub fn zero() -> Self {
        Self {
            bytes: vec![0; N::to_usize()].into_boxed_slice(),
            _len: PhantomData,
        }
    }

    /// Copies `bytes`, which must be exactly `N` long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != N::to_usize() {
            return Err(DecodeError::InvalidByteLength {
                len: bytes.len(),
                expected: N::to_usize(),
            });
        }
        Ok(Self {
            bytes: bytes.into(),
            _len: PhantomData,
        })
    }

    /// Takes ownership of `bytes`, which must be exactly `N` long.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        if bytes.len() != N::to_usize() {
            return Err(DecodeError::InvalidByteLength {
                len: bytes.len(),
                expected: N::to_usize(),
            });
        }
        Ok(Self {
            bytes: bytes.into_boxed_slice(),
            _len: PhantomData,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.bytes.into_vec()
    }
}

impl<N: Unsigned> Default for ByteVector<N> {
    fn default() -> Self {
        Self::zero()
    }
}

impl<N> AsRef<[u8]> for ByteVector<N> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl<N> fmt::Debug for ByteVector<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex(&self.bytes, f)
    }
}

impl<N: Unsigned> Encode for ByteVector<N> {
    fn is_ssz_fixed_len() -> bool {
        true
    }
    fn ssz_fixed_len() -> usize {
        N::to_usize()
    }
    fn ssz_bytes_len(&self) -> usize {
        self.bytes.len()
    }
    fn ssz_append(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.bytes);
    }
}

impl<N: Unsigned> Decode for ByteVector<N> {
    fn is_ssz_fixed_len() -> bool {
        true
    }
    fn ssz_fixed_len() -> usize {
        N::to_usize()
    }
    fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_slice(bytes)
    }
}

impl<N: Unsigned> TreeHash for ByteVector<N> {
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
        tree_hash::merkle_root(&self.bytes, chunks_for(N::to_usize()))
    }
}

/// The spec's `ByteList[N]`: at most `N` bytes.
pub struct ByteList<N> {
    bytes: Vec<u8>,
    _max: PhantomData<N>,
}

impl_byte_traits!(ByteList, bytes, _max);

impl<N: Unsigned> ByteList<N> {
    /// The maximum length of this type.
    pub fn max_len() -> usize {
        N::to_usize()
    }

    pub fn empty() -> Self {
        Self {
            bytes: Vec::new(),
            _max: PhantomData,
        }
    }

    /// Copies `bytes`, which must be at most `N` long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::check_len(bytes.len())?;
        Ok(Self {
            bytes: bytes.to_vec(),
            _max: PhantomData,
        })
    }

    /// Takes ownership of `bytes`, which must be at most `N` long.
    pub fn from_vec(bytes: Vec<u8>) -> Result<Self, DecodeError> {
        Self::check_len(bytes.len())?;
        Ok(Self {
            bytes,
            _max: PhantomData,
        })
    }

    fn check_len(len: usize) -> Result<(), DecodeError> {
        if len > N::to_usize() {
            return Err(DecodeError::BytesInvalid(format!(
                "ByteList of {len} bytes exceeds maximum of {}",
                N::to_usize()
            )));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

impl<N: Unsigned> Default for ByteList<N> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<N> AsRef<[u8]> for ByteList<N> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl<N> fmt::Debug for ByteList<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex(&self.bytes, f)
    }
}

impl<N: Unsigned> Encode for ByteList<N> {
    fn is_ssz_fixed_len() -> bool {
        false
    }
    fn ssz_bytes_len(&self) -> usize {
        self.bytes.len()
    }
    fn ssz_append(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.bytes);
    }
}

impl<N: Unsigned> Decode for ByteList<N> {
    fn is_ssz_fixed_len() -> bool {
        false
    }
    fn from_ssz_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_slice(bytes)
    }
}

impl<N: Unsigned> TreeHash for ByteList<N> {
    fn tree_hash_type() -> TreeHashType {
        TreeHashType::List
    }
    fn tree_hash_packed_encoding(&self) -> PackedEncoding {
        unreachable!("List should never be packed")
    }
    fn tree_hash_packing_factor() -> usize {
        unreachable!("List should never be packed")
    }
    fn tree_hash_root(&self) -> Hash256 {
        let root = tree_hash::merkle_root(&self.bytes, chunks_for(N::to_usize()));
        tree_hash::mix_in_length(&root, self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssz_types::{FixedVector, VariableList};
    use typenum::{U0, U5, U32, U33, U256, U1024};

    fn same_as_ssz_types_vector<N: Unsigned>(bytes: &[u8]) {
        let ours = ByteVector::<N>::from_ssz_bytes(bytes).expect("valid length");
        let theirs = FixedVector::<u8, N>::new(bytes.to_vec()).expect("valid length");
        assert_eq!(ours.as_ssz_bytes(), theirs.as_ssz_bytes());
        assert_eq!(ours.tree_hash_root(), theirs.tree_hash_root());
    }

    fn same_as_ssz_types_list<N: Unsigned>(bytes: &[u8]) {
        let ours = ByteList::<N>::from_ssz_bytes(bytes).expect("valid length");
        let theirs = VariableList::<u8, N>::new(bytes.to_vec()).expect("valid length");
        assert_eq!(ours.as_ssz_bytes(), theirs.as_ssz_bytes());
        assert_eq!(ours.tree_hash_root(), theirs.tree_hash_root());
    }

    #[test]
    fn byte_vector_matches_fixed_vector() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
        same_as_ssz_types_vector::<U5>(&data[..5]);
        same_as_ssz_types_vector::<U32>(&data[..32]);
        same_as_ssz_types_vector::<U33>(&data[..33]);
        same_as_ssz_types_vector::<U256>(&data[..256]);
        same_as_ssz_types_vector::<U1024>(&data);
    }

    #[test]
    fn byte_list_matches_variable_list() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
        for len in [0, 1, 31, 32, 33, 100, 1024] {
            same_as_ssz_types_list::<U1024>(&data[..len]);
        }
        same_as_ssz_types_list::<U32>(&data[..0]);
        same_as_ssz_types_list::<U32>(&data[..32]);
        same_as_ssz_types_list::<U0>(&[]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        assert!(ByteVector::<U32>::from_ssz_bytes(&[0; 31]).is_err());
        assert!(ByteVector::<U32>::from_ssz_bytes(&[0; 33]).is_err());
        assert!(ByteVector::<U32>::from_ssz_bytes(&[]).is_err());
        assert!(ByteList::<U32>::from_ssz_bytes(&[0; 33]).is_err());
        assert!(ByteList::<U32>::from_ssz_bytes(&[0; 32]).is_ok());
    }
}
