//! The data-column helpers of `specs/fulu/p2p-interface.md` (and of
//! `partial-columns/p2p-interface.md`): structural checks, the commitments' inclusion proof, the
//! cells' KZG proofs and the subnet of a column.
//!
//! Pure functions over a sidecar, shared by every path a sidecar arrives by: the gossip rules
//! (`keel-verify`) and req/resp responses, which the spec checks with the same three functions.

use crate::accessors::compute_epoch_at_slot;
use crate::merkle::is_valid_merkle_branch;
use keel_config::ChainConfig;
use keel_crypto::kzg::{Kzg, KzgError};
use keel_types::fulu::{
    DataColumnSidecar, PartialDataColumnHeader, PartialDataColumnSidecar, SignedBeaconBlockHeader,
};
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;
use keel_types::{KzgCommitment, Preset};

/// `get_subtree_index(get_generalized_index(BeaconBlockBody, "blob_kzg_commitments"))`: the
/// field's position among the body's 16 leaves (it is the twelfth field from Deneb on).
pub const BLOB_KZG_COMMITMENTS_SUBTREE_INDEX: u64 = 11;

/// `verify_data_column_sidecar`: the index is a column, there is at least one commitment and no
/// more than the epoch's blob limit, and one cell and one proof per commitment.
pub fn verify_data_column_sidecar<P: Preset>(
    config: &ChainConfig,
    sidecar: &DataColumnSidecar<P>,
) -> bool {
    if sidecar.index >= P::number_of_columns() {
        return false;
    }
    let commitments = sidecar.kzg_commitments.len();
    if commitments == 0 {
        return false;
    }
    let epoch = compute_epoch_at_slot::<P>(sidecar.signed_block_header.message.slot);
    if commitments as u64 > config.get_blob_parameters(epoch).max_blobs_per_block {
        return false;
    }
    sidecar.column.len() == commitments && sidecar.kzg_proofs.len() == commitments
}

/// The inclusion proof of `kzg_commitments` in the block body `header` names.
fn commitments_included<P: Preset>(
    kzg_commitments: &keel_types::deneb::BlobKzgCommitments<P>,
    proof: &keel_types::fulu::KzgCommitmentsInclusionProof<P>,
    header: &SignedBeaconBlockHeader,
) -> bool {
    is_valid_merkle_branch(
        kzg_commitments.tree_hash_root(),
        proof,
        P::KzgCommitmentsInclusionProofDepth::to_usize(),
        BLOB_KZG_COMMITMENTS_SUBTREE_INDEX,
        header.message.body_root,
    )
}

/// `verify_data_column_sidecar_inclusion_proof`: the sidecar's commitments are the block's.
pub fn verify_data_column_sidecar_inclusion_proof<P: Preset>(
    sidecar: &DataColumnSidecar<P>,
) -> bool {
    commitments_included::<P>(
        &sidecar.kzg_commitments,
        &sidecar.kzg_commitments_inclusion_proof,
        &sidecar.signed_block_header,
    )
}

/// `verify_partial_data_column_header_inclusion_proof`.
pub fn verify_partial_data_column_header_inclusion_proof<P: Preset>(
    header: &PartialDataColumnHeader<P>,
) -> bool {
    commitments_included::<P>(
        &header.kzg_commitments,
        &header.kzg_commitments_inclusion_proof,
        &header.signed_block_header,
    )
}

/// `verify_data_column_sidecar_kzg_proofs`: every cell of the column (cell index = column
/// index) matches its commitment and proof, checked as one batch. `Err` for inputs c-kzg
/// refuses to read (a point off the curve, a non-canonical field element): the spec's
/// `verify_cell_kzg_proof_batch` raises on those, which makes the sidecar invalid just the same.
pub fn verify_data_column_sidecar_kzg_proofs<P: Preset>(
    kzg: &Kzg,
    sidecar: &DataColumnSidecar<P>,
) -> Result<bool, KzgError> {
    let cell_indices = vec![sidecar.index; sidecar.column.len()];
    kzg.verify_cell_kzg_proof_batch(
        &sidecar.kzg_commitments,
        &cell_indices,
        &sidecar.column,
        &sidecar.kzg_proofs,
    )
}

/// `verify_partial_data_column_sidecar_kzg_proofs`: the cells flagged in the bitmap against
/// the commitments of the same blobs. `Ok(false)` when the bitmap names a blob past
/// `all_commitments` (the spec's list index would raise).
pub fn verify_partial_data_column_sidecar_kzg_proofs<P: Preset>(
    kzg: &Kzg,
    sidecar: &PartialDataColumnSidecar<P>,
    all_commitments: &[KzgCommitment],
    column_index: u64,
) -> Result<bool, KzgError> {
    let mut commitments = Vec::with_capacity(sidecar.partial_column.len());
    for (blob_index, present) in sidecar.cells_present_bitmap.iter().enumerate() {
        if !present {
            continue;
        }
        match all_commitments.get(blob_index) {
            Some(commitment) => commitments.push(*commitment),
            None => return Ok(false),
        }
    }
    let cell_indices = vec![column_index; commitments.len()];
    kzg.verify_cell_kzg_proof_batch(
        &commitments,
        &cell_indices,
        &sidecar.partial_column,
        &sidecar.kzg_proofs,
    )
}

/// `compute_subnet_for_data_column_sidecar`: `column_index % DATA_COLUMN_SIDECAR_SUBNET_COUNT`
/// (`None` with a zero subnet count, which no valid config has).
pub fn compute_subnet_for_data_column_sidecar(
    config: &ChainConfig,
    column_index: u64,
) -> Option<u64> {
    column_index.checked_rem(config.data_column_sidecar_subnet_count)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::merkle::compute_merkle_proof;
    use keel_crypto::kzg::{BYTES_PER_BLOB, BYTES_PER_FIELD_ELEMENT};
    use keel_types::fulu::{BeaconBlockBody, BeaconBlockHeader, Cell};
    use keel_types::ssz_types::{FixedVector, VariableList};
    use keel_types::{Hash256, Minimal};

    type P = Minimal;
    const COLUMN: u64 = 5;

    /// A blob of small canonical field elements.
    fn test_blob(seed: u8) -> Vec<u8> {
        let mut blob = vec![0u8; BYTES_PER_BLOB];
        for (i, fe) in blob.chunks_exact_mut(BYTES_PER_FIELD_ELEMENT).enumerate() {
            fe[31] = seed.wrapping_add(i as u8);
            fe[30] = (i >> 8) as u8;
        }
        blob
    }

    /// Column `COLUMN` of a block with two blobs, with a correct inclusion proof.
    fn sidecar() -> DataColumnSidecar<P> {
        let kzg = Kzg::mainnet();
        let mut body = BeaconBlockBody::<P>::default();
        let mut column = Vec::new();
        let mut proofs = Vec::new();
        for seed in [1, 2] {
            let blob = test_blob(seed);
            body.blob_kzg_commitments
                .push(kzg.blob_to_kzg_commitment(&blob).unwrap())
                .unwrap();
            let (cells, cell_proofs) = kzg.compute_cells_and_kzg_proofs(&blob).unwrap();
            column.push(Cell::<P>::from_slice(&cells[COLUMN as usize]).unwrap());
            proofs.push(cell_proofs[COLUMN as usize]);
        }
        // The commitments' generalized index: 16 body leaves, field 11.
        let gindex = 16 + BLOB_KZG_COMMITMENTS_SUBTREE_INDEX;
        let (_, branch) = compute_merkle_proof(&body, gindex).unwrap();
        let header = BeaconBlockHeader {
            slot: 1,
            proposer_index: 0,
            parent_root: Hash256::ZERO,
            state_root: Hash256::ZERO,
            body_root: body.tree_hash_root(),
        };
        DataColumnSidecar {
            index: COLUMN,
            column: VariableList::new(column).unwrap(),
            kzg_commitments: body.blob_kzg_commitments.clone(),
            kzg_proofs: VariableList::new(proofs).unwrap(),
            signed_block_header: SignedBeaconBlockHeader {
                message: header,
                signature: Default::default(),
            },
            kzg_commitments_inclusion_proof: FixedVector::new(branch).unwrap(),
        }
    }

    #[test]
    fn a_well_formed_sidecar_verifies() {
        let config = ChainConfig::minimal();
        let sidecar = sidecar();
        assert!(verify_data_column_sidecar(&config, &sidecar));
        assert!(verify_data_column_sidecar_inclusion_proof(&sidecar));
        assert!(verify_data_column_sidecar_kzg_proofs(&Kzg::mainnet(), &sidecar).unwrap());
    }

    #[test]
    fn structural_checks() {
        let config = ChainConfig::minimal();
        let mut bad_index = sidecar();
        bad_index.index = P::number_of_columns();
        assert!(!verify_data_column_sidecar(&config, &bad_index));
        let mut no_proof = sidecar();
        no_proof.kzg_proofs = Default::default();
        assert!(!verify_data_column_sidecar(&config, &no_proof));
        let mut empty = sidecar();
        empty.kzg_commitments = Default::default();
        empty.column = Default::default();
        empty.kzg_proofs = Default::default();
        assert!(!verify_data_column_sidecar(&config, &empty));
    }

    #[test]
    fn tampering_breaks_the_proofs() {
        let kzg = Kzg::mainnet();
        let mut moved = sidecar();
        moved.signed_block_header.message.body_root = Hash256::repeat_byte(1);
        assert!(!verify_data_column_sidecar_inclusion_proof(&moved));
        // The cells of another column do not match this column's proofs.
        let mut other_column = sidecar();
        other_column.index = COLUMN + 1;
        assert!(!verify_data_column_sidecar_kzg_proofs(&kzg, &other_column).unwrap());
    }

    #[test]
    fn partial_cells_use_the_flagged_commitments() {
        let kzg = Kzg::mainnet();
        let full = sidecar();
        // Only the second blob's cell.
        let mut bitmap = keel_types::ssz_types::BitList::with_capacity(2).unwrap();
        bitmap.set(1, true).unwrap();
        let partial = PartialDataColumnSidecar::<P> {
            cells_present_bitmap: bitmap,
            partial_column: VariableList::new(vec![full.column[1].clone()]).unwrap(),
            kzg_proofs: VariableList::new(vec![full.kzg_proofs[1]]).unwrap(),
            header: Default::default(),
        };
        assert!(
            verify_partial_data_column_sidecar_kzg_proofs(
                &kzg,
                &partial,
                &full.kzg_commitments,
                COLUMN
            )
            .unwrap()
        );
        // Against the first blob's commitment it fails; past the commitments it is false.
        let swapped: Vec<KzgCommitment> = full.kzg_commitments.iter().rev().copied().collect();
        assert!(
            !verify_partial_data_column_sidecar_kzg_proofs(&kzg, &partial, &swapped, COLUMN)
                .unwrap()
        );
        assert!(
            !verify_partial_data_column_sidecar_kzg_proofs(&kzg, &partial, &swapped[..1], COLUMN)
                .unwrap()
        );
    }

    #[test]
    fn subnets_wrap_at_the_subnet_count() {
        let config = ChainConfig::minimal();
        let count = config.data_column_sidecar_subnet_count;
        assert_eq!(compute_subnet_for_data_column_sidecar(&config, 3), Some(3));
        assert_eq!(
            compute_subnet_for_data_column_sidecar(&config, count + 3),
            Some(3)
        );
    }
}
