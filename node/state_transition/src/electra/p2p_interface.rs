//! The blob-sidecar helpers of `specs/deneb/p2p-interface.md` as Electra uses them
//! (`specs/electra/p2p-interface.md`, `validator.md`): the commitment's inclusion proof, the
//! blob's KZG proof and the subnet of a blob index.
//!
//! Keel implements Electra onwards, so Deneb's helpers appear here with Electra's parameters
//! (`BLOB_SIDECAR_SUBNET_COUNT_ELECTRA`). Pure functions over a sidecar, shared by every path a
//! sidecar arrives by: the gossip rules (`keel-verify`) and req/resp responses.

use crate::fulu::p2p_interface::BLOB_KZG_COMMITMENTS_SUBTREE_INDEX;
use crate::merkle::is_valid_merkle_branch;
use keel_config::ChainConfig;
use keel_crypto::kzg::{Kzg, KzgError};
use keel_types::Preset;
use keel_types::deneb::BlobSidecar;
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;

/// `compute_subnet_for_blob_sidecar` (Electra): `blob_index % BLOB_SIDECAR_SUBNET_COUNT_ELECTRA`
/// (`None` with a zero subnet count, which no valid config has).
pub fn compute_subnet_for_blob_sidecar(config: &ChainConfig, blob_index: u64) -> Option<u64> {
    blob_index.checked_rem(config.blob_sidecar_subnet_count_electra)
}

/// `get_subtree_index(get_generalized_index(BeaconBlockBody, "blob_kzg_commitments",
/// blob_index))`: the path from the body root to the commitment, top bit first — the field
/// among the body's leaves, then the left child of the list's length mix-in (its data), then
/// the element among `MAX_BLOB_COMMITMENTS_PER_BLOCK` leaves. `None` for an index past the list's
/// limit (the spec's generalized index would not name a commitment).
pub fn blob_commitment_subtree_index<P: Preset>(blob_index: u64) -> Option<u64> {
    let limit = P::MaxBlobCommitmentsPerBlock::to_u64();
    if blob_index >= limit {
        return None;
    }
    // `ceillog2(MAX_BLOB_COMMITMENTS_PER_BLOCK)`: the depth of the list's data tree.
    let list_depth = limit.next_power_of_two().trailing_zeros();
    let data = BLOB_KZG_COMMITMENTS_SUBTREE_INDEX.checked_shl(1)?;
    data.checked_shl(list_depth)?.checked_add(blob_index)
}

/// `verify_blob_sidecar_inclusion_proof`: the sidecar's commitment is the block body's
/// `blob_kzg_commitments[index]`.
pub fn verify_blob_sidecar_inclusion_proof<P: Preset>(sidecar: &BlobSidecar<P>) -> bool {
    let Some(index) = blob_commitment_subtree_index::<P>(sidecar.index) else {
        return false;
    };
    is_valid_merkle_branch(
        sidecar.kzg_commitment.tree_hash_root(),
        &sidecar.kzg_commitment_inclusion_proof,
        P::KzgCommitmentInclusionProofDepth::to_usize(),
        index,
        sidecar.signed_block_header.message.body_root,
    )
}

/// `verify_blob_kzg_proof(blob_sidecar.blob, blob_sidecar.kzg_commitment,
/// blob_sidecar.kzg_proof)`. `Err` for inputs c-kzg refuses to read (a point off the curve, a
/// non-canonical field element): the spec's function raises on those, which makes the sidecar
/// invalid just the same.
pub fn verify_blob_sidecar_kzg_proof<P: Preset>(
    kzg: &Kzg,
    sidecar: &BlobSidecar<P>,
) -> Result<bool, KzgError> {
    kzg.verify_blob_kzg_proof(
        sidecar.blob.as_ref(),
        sidecar.kzg_commitment.as_ref(),
        sidecar.kzg_proof.as_ref(),
    )
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
    use keel_types::deneb::Blob;
    use keel_types::electra::{BeaconBlockBody, BeaconBlockHeader, SignedBeaconBlockHeader};
    use keel_types::ssz_types::FixedVector;
    use keel_types::{Hash256, Minimal};

    type P = Minimal;

    fn test_blob(seed: u8) -> Vec<u8> {
        let mut blob = vec![0u8; BYTES_PER_BLOB];
        for (i, fe) in blob.chunks_exact_mut(BYTES_PER_FIELD_ELEMENT).enumerate() {
            fe[31] = seed.wrapping_add(i as u8);
            fe[30] = (i >> 8) as u8;
        }
        blob
    }

    /// Blob 1 of a block with two blobs, with its proofs.
    fn sidecar() -> BlobSidecar<P> {
        let kzg = Kzg::mainnet();
        let mut body = BeaconBlockBody::<P>::default();
        let blobs = [test_blob(1), test_blob(2)];
        for blob in &blobs {
            body.blob_kzg_commitments
                .push(kzg.blob_to_kzg_commitment(blob).unwrap())
                .unwrap();
        }
        let index = 1u64;
        let commitment = body.blob_kzg_commitments[1];
        let depth = <P as Preset>::KzgCommitmentInclusionProofDepth::to_u64();
        let gindex = (1u64 << depth) + blob_commitment_subtree_index::<P>(index).unwrap();
        let (_, branch) = compute_merkle_proof(&body, gindex).unwrap();
        BlobSidecar {
            index,
            blob: Blob::<P>::from_slice(&blobs[1]).unwrap(),
            kzg_commitment: commitment,
            kzg_proof: kzg
                .compute_blob_kzg_proof(&blobs[1], commitment.as_ref())
                .unwrap(),
            signed_block_header: SignedBeaconBlockHeader {
                message: BeaconBlockHeader {
                    slot: 1,
                    proposer_index: 0,
                    parent_root: Hash256::ZERO,
                    state_root: Hash256::ZERO,
                    body_root: body.tree_hash_root(),
                },
                signature: Default::default(),
            },
            kzg_commitment_inclusion_proof: FixedVector::new(branch).unwrap(),
        }
    }

    #[test]
    fn the_subtree_index_matches_the_spec() {
        // get_subtree_index(get_generalized_index(BeaconBlockBody, 'blob_kzg_commitments', 3))
        // with 16 body leaves and 4096 commitments: ((16 + 11) * 2 * 4096 + 3) - 2**17.
        assert_eq!(
            blob_commitment_subtree_index::<P>(3),
            Some((16 + 11) * 2 * 4096 + 3 - (1 << 17))
        );
        assert_eq!(blob_commitment_subtree_index::<P>(4096), None);
    }

    #[test]
    fn a_well_formed_sidecar_verifies() {
        let sidecar = sidecar();
        assert!(verify_blob_sidecar_inclusion_proof(&sidecar));
        assert!(verify_blob_sidecar_kzg_proof(&Kzg::mainnet(), &sidecar).unwrap());
    }

    #[test]
    fn tampering_breaks_the_proofs() {
        let mut other_index = sidecar();
        other_index.index = 0;
        assert!(!verify_blob_sidecar_inclusion_proof(&other_index));
        let mut moved = sidecar();
        moved.signed_block_header.message.body_root = Hash256::repeat_byte(1);
        assert!(!verify_blob_sidecar_inclusion_proof(&moved));
        let mut other_blob = sidecar();
        other_blob.blob = Blob::<P>::from_slice(&test_blob(1)).unwrap();
        assert!(!verify_blob_sidecar_kzg_proof(&Kzg::mainnet(), &other_blob).unwrap());
    }

    #[test]
    fn subnets_wrap_at_the_electra_subnet_count() {
        let config = ChainConfig::minimal();
        let count = config.blob_sidecar_subnet_count_electra;
        assert_eq!(compute_subnet_for_blob_sidecar(&config, 2), Some(2));
        assert_eq!(compute_subnet_for_blob_sidecar(&config, count + 2), Some(2));
    }
}
