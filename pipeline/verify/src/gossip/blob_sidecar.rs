//! `blob_sidecar_{subnet_id}` (`specs/deneb/p2p-interface.md` as modified by
//! `specs/electra/p2p-interface.md`: Electra's blob limit and subnet count).
//!
//! The signed block header is checked as a data column sidecar's is (timing, finality, parent,
//! proposer: [`GossipValidator::check_block_header`]), then the commitment's inclusion proof and
//! the blob's KZG proof ([`keel_state_transition::electra::p2p_interface`]). The header signature
//! is the one check left to [`GossipValidator::finish`], batched with everything else; as for
//! columns, a message whose signature is bad *and* which fails a later rule gets that rule's
//! verdict.
//!
//! The topic exists before Fulu only (data columns replace it); Keel implements Electra
//! onwards, so a sidecar whose block would be a Fulu block is rejected.

use super::{GossipContext, GossipError, GossipValidator, Pending, SeenKey, ignore, reject};
use crate::verified::VerifiedBlobSidecar;
use keel_crypto::kzg::Kzg;
use keel_state_transition::electra::p2p_interface::{
    compute_subnet_for_blob_sidecar, verify_blob_sidecar_inclusion_proof,
    verify_blob_sidecar_kzg_proof,
};
use keel_state_transition::held_state::StateFork;
use keel_types::Preset;
use keel_types::deneb::BlobSidecar;
use keel_types::tree_hash::TreeHash;
use std::sync::Arc;
use std::time::Instant;

impl<P: Preset> GossipValidator<P> {
    /// `blob_sidecar_{subnet_id}` (Electra's `validate_blob_sidecar_gossip`), in the spec's
    /// order except for the header signature (batched).
    pub fn validate_blob_sidecar(
        &self,
        ctx: &GossipContext<'_, P>,
        subnet: u64,
        sidecar: &Arc<BlobSidecar<P>>,
        received_at: Instant,
    ) -> Result<Pending<VerifiedBlobSidecar<P>>, GossipError> {
        let signed_header = &sidecar.signed_block_header;
        let header = &signed_header.message;
        // [REJECT] the index is below `MAX_BLOBS_PER_BLOCK_ELECTRA`.
        if sidecar.index >= self.config.max_blobs_per_block_electra {
            return Err(reject(format!("blob index {} out of range", sidecar.index)));
        }
        // [REJECT] the right subnet.
        if compute_subnet_for_blob_sidecar(&self.config, sidecar.index) != Some(subnet) {
            return Err(reject(format!(
                "blob sidecar {} is for the wrong subnet {subnet}",
                sidecar.index
            )));
        }
        let checks = self.check_block_header(ctx, signed_header, "blob sidecar")?;
        // Not a rule of the spec's (the topic is gone from Fulu on): the rules above are
        // Electra's, so the sidecar's block must be an Electra block.
        let fork = self.state_fork_at(checks.parent_state, header.slot)?;
        if fork != StateFork::Electra {
            return Err(reject(format!("a blob sidecar for a block of {fork:?}")));
        }
        // [REJECT] `verify_blob_sidecar_inclusion_proof`.
        if !verify_blob_sidecar_inclusion_proof(sidecar) {
            return Err(reject("invalid blob sidecar inclusion proof"));
        }
        // [REJECT] `verify_blob_kzg_proof` (inputs c-kzg cannot read are invalid proofs just
        // the same).
        match verify_blob_sidecar_kzg_proof(&Kzg::mainnet(), sidecar) {
            Ok(true) => {}
            Ok(false) => return Err(reject("invalid blob kzg proof")),
            Err(e) => return Err(reject(format!("invalid blob kzg proof: {e}"))),
        }
        // [IGNORE] the first sidecar for (slot, proposer, index).
        let seen = SeenKey::BlobSidecar(header.slot, header.proposer_index, sidecar.index);
        if self.is_seen(&seen) {
            return Err(ignore(
                "already seen blob sidecar from this proposer for this slot and index",
            ));
        }
        // [REJECT] the expected proposer.
        self.check_header_proposer(&checks, signed_header, "blob sidecar")?;
        let set = self.header_signature_set(ctx, &checks, signed_header)?;
        Ok(Pending {
            item: VerifiedBlobSidecar {
                sidecar: Arc::clone(sidecar),
                block_root: header.tree_hash_root(),
                received_at,
            },
            sets: vec![set],
            seen: vec![seen],
            aggregate_bits: None,
        })
    }
}
