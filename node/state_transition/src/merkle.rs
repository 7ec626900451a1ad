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
    UnknownGindex {
        gindex: u64,
        container: &'static str,
    },
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
#[allow(clippy::arithmetic_side_effects)]
// `depth < 64` and `index < 2^depth` are checked, so the shifts cannot overflow.
pub fn merkle_proof_of_leaves(
    leaves: &[Hash256],
    depth: usize,
    index: u64,
) -> Result<MerkleProof, MerkleError> {
    if depth >= 64 || index >= (1u64 << depth) {
        return Err(MerkleError::IndexOutOfRange { index, depth });
    }
    if leaves.len() as u64 > (1u64 << depth) {
        return Err(MerkleError::TooManyLeaves {
            leaves: leaves.len(),
            depth,
        });
    }
    let mut branch = Vec::with_capacity(depth);
    let mut layer: Vec<Hash256> = leaves.to_vec();
    let mut position = index as usize;
    for height in 0..depth {
        let sibling = position ^ 1;
        branch.push(
            layer
                .get(sibling)
                .copied()
                .unwrap_or_else(|| zero_hash(height)),
        );
        layer = parent_layer(&layer, height);
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
    merkle_proof_of_leaves(
        field_roots,
        tree_depth(field_roots.len()),
        field_index as u64,
    )
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
    Ok(in_data.then(MerkleProof {
        branch: vec![Hash256::from(length_chunk)],
        index: 0,
    }))
}

/// Root of a container from its field roots (for checking field-root listings).
pub fn merkleize_field_roots(field_roots: &[Hash256]) -> Hash256 {
    merkleize_leaves(field_roots, tree_depth(field_roots.len()))
}

/// One layer up: pairs hashed, an odd last node paired with the zero subtree of its height.
fn parent_layer(layer: &[Hash256], height: usize) -> Vec<Hash256> {
    let zero = zero_hash(height);
    layer
        .chunks(2)
        .map(|pair| {
            let left = pair.first().copied().unwrap_or(zero);
            let right = pair.get(1).copied().unwrap_or(zero);
            Hash256::from(hash32_concat(left.as_slice(), right.as_slice()))
        })
        .collect()
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
            assert!(is_valid_merkle_branch(
                leaves[i],
                &proof.branch,
                4,
                i as u64,
                root
            ));
            assert!(!is_valid_merkle_branch(
                leaves[i],
                &proof.branch,
                4,
                (i as u64) ^ 1,
                root
            ));
        }
    }
}

/// An SSZ value whose Merkle tree can be descended for proofs: its leaves (field roots of a
/// container, element roots of a list), and its children where a proof may go deeper.
pub trait Merkleized {
    /// Roots of the leaves of this value's own tree (before any length mix-in).
    fn leaves(&self) -> Vec<Hash256>;
    /// Depth of the leaves' tree (a list's limit, a container's field count, rounded up).
    fn leaves_depth(&self) -> usize {
        tree_depth(self.leaves().len())
    }
    /// `Some(len)` for lists, whose root mixes in their length.
    fn mixed_in_length(&self) -> Option<u64> {
        None
    }
    /// The value at leaf `index`, where proofs into it are supported.
    fn child(&self, _index: usize) -> Option<&dyn Merkleized> {
        None
    }
    fn name(&self) -> &'static str;
}

fn length_chunk(len: u64) -> Hash256 {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&len.to_le_bytes());
    Hash256::from(chunk)
}

/// The spec's `compute_merkle_proof(object, index)`: the branch (bottom-up) for generalized index
/// `gindex` below `object`'s root, and the leaf found there.
pub fn compute_merkle_proof(
    object: &dyn Merkleized,
    gindex: u64,
) -> Result<(Hash256, Vec<Hash256>), MerkleError> {
    if gindex == 0 {
        return Err(MerkleError::UnknownGindex {
            gindex,
            container: object.name(),
        });
    }
    let depth = 63usize.saturating_sub(gindex.leading_zeros() as usize);
    // Path bits from the root down.
    let path: Vec<bool> = (0..depth)
        .rev()
        .map(|bit| (gindex >> bit) & 1 == 1)
        .collect();
    proof_along(object, &path, gindex)
}

fn proof_along(
    object: &dyn Merkleized,
    path: &[bool],
    gindex: u64,
) -> Result<(Hash256, Vec<Hash256>), MerkleError> {
    let unknown = || MerkleError::UnknownGindex {
        gindex,
        container: object.name(),
    };
    let leaves = object.leaves();
    let depth = object.leaves_depth();
    let data_root = || merkleize_leaves(&leaves, depth);
    let (path, length_sibling) = match (object.mixed_in_length(), path.split_first()) {
        (None, _) => (path, None),
        // Left child: the data tree; its sibling is the length.
        (Some(len), Some((false, rest))) => (rest, Some(length_chunk(len))),
        // Right child: the length itself; its sibling is the data root.
        (Some(len), Some((true, []))) => return Ok((length_chunk(len), vec![data_root()])),
        (Some(_), _) => return Err(unknown()),
    };
    if path.len() < depth {
        return Err(unknown());
    }
    let (here, below) = path.split_at(depth);
    let index = here
        .iter()
        .fold(0u64, |acc, &bit| (acc << 1) | u64::from(bit));
    let in_tree = merkle_proof_of_leaves(&leaves, depth, index)?;
    let (leaf, mut branch) = if below.is_empty() {
        let leaf = leaves.get(index as usize).copied().unwrap_or(Hash256::ZERO);
        (leaf, Vec::new())
    } else {
        let child = object.child(index as usize).ok_or_else(unknown)?;
        proof_along(child, below, gindex)?
    };
    branch.extend(in_tree.branch);
    branch.extend(length_sibling);
    Ok((leaf, branch))
}

/// Root of a tree of the given depth over these leaves, zero-padded.
pub fn merkleize_leaves(leaves: &[Hash256], depth: usize) -> Hash256 {
    let mut layer: Vec<Hash256> = leaves.to_vec();
    for height in 0..depth {
        if layer.is_empty() {
            return zero_hash(depth);
        }
        layer = parent_layer(&layer, height);
    }
    layer.first().copied().unwrap_or(zero_hash(depth))
}

/// Implements `Merkleized` for a container by listing its fields in order; a unit test per type
/// checks that the listed fields merkleize to the container's `tree_hash_root`, so a missing or
/// misordered field cannot go unnoticed.
macro_rules! merkleized_container {
    ($ty:ty, $name:literal, [$($field:ident),* $(,)?] $(, children: { $($index:literal => $child:ident),* })?) => {
        impl<P: keel_types::Preset> Merkleized for $ty {
            fn leaves(&self) -> Vec<Hash256> {
                vec![$(self.$field.tree_hash_root()),*]
            }
            fn name(&self) -> &'static str {
                $name
            }
            $(fn child(&self, index: usize) -> Option<&dyn Merkleized> {
                match index {
                    $($index => Some(&self.$child),)*
                    _ => None,
                }
            })?
        }
    };
}

impl Merkleized for keel_types::phase0::Checkpoint {
    fn leaves(&self) -> Vec<Hash256> {
        vec![self.epoch.tree_hash_root(), self.root]
    }
    fn name(&self) -> &'static str {
        "Checkpoint"
    }
}

impl<N: keel_types::typenum::Unsigned> Merkleized
    for keel_types::ssz_types::VariableList<keel_types::KzgCommitment, N>
{
    fn leaves(&self) -> Vec<Hash256> {
        self.iter().map(TreeHash::tree_hash_root).collect()
    }
    fn leaves_depth(&self) -> usize {
        tree_depth(N::to_usize())
    }
    fn mixed_in_length(&self) -> Option<u64> {
        Some(self.len() as u64)
    }
    fn name(&self) -> &'static str {
        "List[KZGCommitment]"
    }
}

merkleized_container!(
    keel_types::electra::BeaconBlockBody<P>,
    "BeaconBlockBody",
    [
        randao_reveal, eth1_data, graffiti, proposer_slashings, attester_slashings, attestations,
        deposits, voluntary_exits, sync_aggregate, execution_payload, bls_to_execution_changes,
        blob_kzg_commitments, execution_requests,
    ],
    children: { 11 => blob_kzg_commitments }
);

macro_rules! electra_state_fields {
    ($callback:ident, $ty:ty, [$($extra:ident),*]) => {
        $callback!(
            $ty,
            "BeaconState",
            [
                genesis_time, genesis_validators_root, slot, fork, latest_block_header, block_roots,
                state_roots, historical_roots, eth1_data, eth1_data_votes, eth1_deposit_index,
                validators, balances, randao_mixes, slashings, previous_epoch_participation,
                current_epoch_participation, justification_bits, previous_justified_checkpoint,
                current_justified_checkpoint, finalized_checkpoint, inactivity_scores,
                current_sync_committee, next_sync_committee, latest_execution_payload_header,
                next_withdrawal_index, next_withdrawal_validator_index, historical_summaries,
                deposit_requests_start_index, deposit_balance_to_consume, exit_balance_to_consume,
                earliest_exit_epoch, consolidation_balance_to_consume, earliest_consolidation_epoch,
                pending_deposits, pending_partial_withdrawals, pending_consolidations
                $(, $extra)*
            ],
            children: { 20 => finalized_checkpoint }
        );
    };
}
electra_state_fields!(
    merkleized_container,
    keel_types::electra::BeaconState<P>,
    []
);
electra_state_fields!(
    merkleized_container,
    keel_types::fulu::BeaconState<P>,
    [proposer_lookahead]
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod container_tests {
    use super::*;
    use keel_types::{Minimal, electra, fulu};

    fn check<T: Merkleized + TreeHash>(value: &T) {
        let leaves = value.leaves();
        assert_eq!(
            merkleize_leaves(&leaves, tree_depth(leaves.len())),
            value.tree_hash_root()
        );
    }

    #[test]
    fn listed_fields_merkleize_to_the_container_root() {
        check(&electra::BeaconBlockBody::<Minimal>::default());
        check(&electra::BeaconState::<Minimal>::default());
        check(&fulu::BeaconState::<Minimal>::default());
    }

    #[test]
    fn list_proofs_include_the_length() {
        let body = electra::BeaconBlockBody::<Minimal>::default();
        // Field 11 of 16 leaves, then the data subtree (left), then element 0 of 4096.
        let gindex = ((16 + 11) * 2) << 12;
        let (leaf, branch) = compute_merkle_proof(&body, gindex).unwrap();
        assert_eq!(branch.len(), 17);
        assert!(is_valid_merkle_branch(
            leaf,
            &branch,
            17,
            gindex - (1 << 17),
            body.tree_hash_root()
        ));
    }
}
