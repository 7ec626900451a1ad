//! Merkle proofs over SSZ merkleization: the spec's `is_valid_merkle_branch` and
//! `compute_merkle_proof`, built from the field roots of containers and the element roots of
//! lists.
//!
//! Proofs are listed bottom-up (the sibling of the leaf first), as the spec and the vectors write
//! them. A proof through a nested object is the proof inside the child followed by the proof of
//! the child in its parent; `MerkleProof::then` composes them.

use ethereum_hashing::hash32_concat;
use keel_types::Hash256;
use thiserror::Error;
use tree_hash::TreeHash;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MerkleError {
    #[error("leaf index {index} is outside a tree of depth {depth}")]
    IndexOutOfRange { index: u64, depth: usize },
    #[error("{leaves} leaves do not fit a tree of depth {depth}")]
    TooManyLeaves { leaves: usize, depth: usize },
    #[error("generalized index {gindex} does not name a field of {container}")]
    UnknownGindex { gindex: u64, container: &'static str },
}

/// Root of the all-zero subtree of each height: `ZERO_HASHES[h]`.
fn zero_hash(height: usize) -> Hash256 {
    let mut h = [0u8; 32];
    for _ in 0..height {
        h = hash32_concat(&h, &h);
    }
    Hash256::from(h)
}

/// The spec's `is_valid_merkle_branch`.
pub fn is_valid_merkle_branch(
    leaf: Hash256,
    branch: &[Hash256],
    depth: usize,
    index: u64,
    root: Hash256,
) -> bool {
    if branch.len() < depth {
        return false;
    }
    let mut value = leaf.0;
    for (i, sibling) in branch.iter().take(depth).enumerate() {
        value = if (index >> i) & 1 == 1 {
            hash32_concat(sibling.as_slice(), &value)
        } else {
            hash32_concat(&value, sibling.as_slice())
        };
    }
    Hash256::from(value) == root
}

/// A proof: siblings bottom-up, and the path bits (1 = right child) of the leaf, bottom-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerkleProof {
    pub branch: Vec<Hash256>,
    /// The leaf's position below the proof's root (its generalized index without the top bit).
    pub index: u64,
}

impl MerkleProof {
    /// Extends a proof inside a child with the proof of that child in its parent.
    pub fn then(mut self, parent: MerkleProof) -> MerkleProof {
        let shift = self.branch.len();
        self.index |= parent.index << shift;
        self.branch.extend(parent.branch);
        self
    }

    /// The generalized index of the leaf below the final root.
    pub fn gindex(&self) -> u64 {
        (1u64 << self.branch.len()) | self.index
    }
}

/// Proof for `leaves[index]` in a tree of the given depth, padded with zero subtrees.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
// `index < 2^depth` and `leaves.len() <= 2^depth` are checked; every layer index below is then
// within the layer's length or handled by the zero-subtree fallback.
pub fn merkle_proof_of_leaves(
    leaves: &[Hash256],
    depth: usize,
    index: u64,
) -> Result<MerkleProof, MerkleError> {
    if depth >= 64 || index >= (1u64 << depth) {
        return Err(MerkleError::IndexOutOfRange { index, depth });
    }
    if leaves.len() as u64 > (1u64 << depth) {
        return Err(MerkleError::TooManyLeaves { leaves: leaves.len(), depth });
    }
    let mut branch = Vec::with_capacity(depth);
    let mut layer: Vec<Hash256> = leaves.to_vec();
    let mut position = index as usize;
    for height in 0..depth {
        let sibling = position ^ 1;
        branch.push(layer.get(sibling).copied().unwrap_or_else(|| zero_hash(height)));
        let zero = zero_hash(height);
        layer = layer
            .chunks(2)
            .map(|pair| {
                let right = pair.get(1).copied().unwrap_or(zero);
                Hash256::from(hash32_concat(pair[0].as_slice(), right.as_slice()))
            })
            .collect();
        position /= 2;
    }
    Ok(MerkleProof { branch, index })
}

/// The depth of a tree with `leaf_count` leaves (`ceil(log2)`, at least 0).
pub fn tree_depth(leaf_count: usize) -> usize {
    leaf_count.next_power_of_two().trailing_zeros() as usize
}

/// Proof of field `field_index` in a container with these field roots.
pub fn container_field_proof(
    field_roots: &[Hash256],
    field_index: usize,
) -> Result<MerkleProof, MerkleError> {
    merkle_proof_of_leaves(field_roots, tree_depth(field_roots.len()), field_index as u64)
}

/// Proof of element `index` of an SSZ list of composite items (one chunk per item) with the
/// given limit, including the length mix-in.
pub fn list_element_proof<T: TreeHash>(
    items: &[T],
    limit: usize,
    index: usize,
) -> Result<MerkleProof, MerkleError> {
    let roots: Vec<Hash256> = items.iter().map(TreeHash::tree_hash_root).collect();
    let in_data = merkle_proof_of_leaves(&roots, tree_depth(limit), index as u64)?;
    let mut length_chunk = [0u8; 32];
    length_chunk[..8].copy_from_slice(&(items.len() as u64).to_le_bytes());
    // The data root is the left child of the list root; the length is its sibling.
    Ok(in_data.then(MerkleProof { branch: vec![Hash256::from(length_chunk)], index: 0 }))
}

/// Root of a container from its field roots (for checking field-root listings).
pub fn merkleize_field_roots(field_roots: &[Hash256]) -> Hash256 {
    let depth = tree_depth(field_roots.len());
    let mut layer: Vec<Hash256> = field_roots.to_vec();
    for height in 0..depth {
        let zero = zero_hash(height);
        layer = layer
            .chunks(2)
            .map(|pair| {
                let left = pair.first().copied().unwrap_or(zero);
                let right = pair.get(1).copied().unwrap_or(zero);
                Hash256::from(hash32_concat(left.as_slice(), right.as_slice()))
            })
            .collect();
    }
    layer.first().copied().unwrap_or(Hash256::ZERO)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn proofs_verify_for_every_leaf() {
        let leaves: Vec<Hash256> = (0..13u8).map(|i| Hash256::repeat_byte(i + 1)).collect();
        let root = merkleize_field_roots(&leaves);
        for i in 0..leaves.len() {
            let proof = container_field_proof(&leaves, i).unwrap();
            assert!(is_valid_merkle_branch(leaves[i], &proof.branch, 4, i as u64, root));
            assert!(!is_valid_merkle_branch(leaves[i], &proof.branch, 4, (i as u64) ^ 1, root));
        }
    }
}
