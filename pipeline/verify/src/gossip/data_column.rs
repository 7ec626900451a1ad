//! `data_column_sidecar_{subnet_id}` (`specs/fulu/p2p-interface.md`) and its partial messages
//! (`specs/fulu/partial-columns/p2p-interface.md`).
//!
//! Both check a signed block header the same way as a block's gossip rules check a block
//! (timing, finality, parent, proposer), plus the commitments' inclusion proof and the cells'
//! KZG proofs ([`keel_state_transition::fulu::p2p_interface`]). The header signature is the one
//! check left to [`GossipValidator::finish`], batched with everything else.
//!
//! The spec checks the proposer signature right after the proposer index; here it is checked
//! last, in the batch. A message whose signature is bad *and* which fails a later rule gets that
//! rule's verdict, which is a reject too except for the unknown-parent ignore: a peer sending a
//! forged header for an unknown parent is ignored rather than penalised.

use super::{
    GossipContext, GossipError, GossipValidator, PartialHeaderEntry, Pending, SeenKey,
    checkpoint_block, ignore, owned_set, reject,
};
use crate::verified::{VerifiedDataColumnSidecar, VerifiedPartialDataColumnSidecar};
use keel_crypto::kzg::Kzg;
use keel_pipeline_api::StateEntry;
use keel_state_transition::fulu::p2p_interface::{
    compute_subnet_for_data_column_sidecar, verify_data_column_sidecar,
    verify_data_column_sidecar_inclusion_proof, verify_data_column_sidecar_kzg_proofs,
    verify_partial_data_column_header_inclusion_proof,
    verify_partial_data_column_sidecar_kzg_proofs,
};
use keel_state_transition::signature_sets::proposer_slashing_header_set;
use keel_types::fulu::{
    DataColumnSidecar, PartialDataColumnGroupID, PartialDataColumnHeader, PartialDataColumnSidecar,
    SignedBeaconBlockHeader,
};
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Preset};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

/// What the header rules found: the parent's post-state, for the proposer and the signature.
pub(super) struct HeaderChecks<'s, P: Preset> {
    pub(super) parent_state: &'s StateEntry<P>,
}

impl<P: Preset> GossipValidator<P> {
    /// `data_column_sidecar_{subnet_id}` (Fulu's `validate_data_column_sidecar_gossip`).
    pub fn validate_data_column_sidecar(
        &self,
        ctx: &GossipContext<'_, P>,
        subnet: u64,
        sidecar: &Arc<DataColumnSidecar<P>>,
        received_at: Instant,
    ) -> Result<Pending<VerifiedDataColumnSidecar<P>>, GossipError> {
        let signed_header = &sidecar.signed_block_header;
        let header = &signed_header.message;
        // [IGNORE] the first sidecar for (slot, proposer, index).
        let seen = SeenKey::DataColumn(header.slot, header.proposer_index, sidecar.index);
        if self.is_seen(&seen) {
            return Err(ignore(
                "already seen sidecar from this proposer for this slot and index",
            ));
        }
        // [REJECT] `verify_data_column_sidecar`.
        if !verify_data_column_sidecar(&self.config, sidecar) {
            return Err(reject("invalid sidecar"));
        }
        // [REJECT] the right subnet.
        if compute_subnet_for_data_column_sidecar(&self.config, sidecar.index) != Some(subnet) {
            return Err(reject(format!(
                "sidecar for column {} is for the wrong subnet {subnet}",
                sidecar.index
            )));
        }
        let checks = self.check_block_header(ctx, signed_header, "sidecar")?;
        // [REJECT] `verify_data_column_sidecar_inclusion_proof`.
        if !verify_data_column_sidecar_inclusion_proof(sidecar) {
            return Err(reject("invalid sidecar inclusion proof"));
        }
        // [REJECT] `verify_data_column_sidecar_kzg_proofs` (inputs c-kzg cannot read are
        // invalid proofs just the same).
        match verify_data_column_sidecar_kzg_proofs(&Kzg::mainnet(), sidecar) {
            Ok(true) => {}
            Ok(false) => return Err(reject("invalid sidecar kzg proofs")),
            Err(e) => return Err(reject(format!("invalid sidecar kzg proofs: {e}"))),
        }
        self.check_header_proposer(&checks, signed_header, "sidecar")?;
        let set = self.header_signature_set(ctx, &checks, signed_header)?;
        Ok(Pending {
            item: VerifiedDataColumnSidecar {
                sidecar: Arc::clone(sidecar),
                block_root: header.tree_hash_root(),
                received_at,
            },
            sets: vec![set],
            seen: vec![seen],
            aggregate_bits: None,
        })
    }

    /// A partial data column sidecar on `data_column_sidecar_{subnet_id}`
    /// (`validate_partial_data_column_sidecar_gossip`): its header, if it carries one, is
    /// validated like a sidecar's (and remembered for the block once its signature verified);
    /// its cells, if any, are checked against that header or the one validated before.
    ///
    /// Unlike the spec, a valid header whose cells then fail is not remembered: its signature
    /// is only checked in [`GossipValidator::finish`], which a rejected message never reaches.
    /// The sender is penalised either way; a later message must bring the header again.
    pub fn validate_partial_data_column_sidecar(
        &self,
        ctx: &GossipContext<'_, P>,
        sidecar: &Arc<PartialDataColumnSidecar<P>>,
        group_id: &PartialDataColumnGroupID,
        column_index: u64,
        received_at: Instant,
    ) -> Result<Pending<VerifiedPartialDataColumnSidecar<P>>, GossipError> {
        let block_root = group_id.beacon_block_root;
        let message_header = sidecar.header.first();
        let cells_present = sidecar.cells_present_bitmap.iter().filter(|b| *b).count();
        let has_cells = cells_present > 0;
        // [REJECT] a header and/or cells.
        if message_header.is_none() && !has_cells {
            return Err(reject("partial message is semantically empty"));
        }
        // [REJECT] one cell and one proof per set bit.
        if sidecar.partial_column.len() != cells_present {
            return Err(reject("number of cells does not match number of set bits"));
        }
        if sidecar.kzg_proofs.len() != cells_present {
            return Err(reject("number of proofs does not match number of set bits"));
        }

        let mut sets = Vec::new();
        let mut seen = Vec::new();
        let mut candidate = None;
        let mut cells_header: Option<Arc<PartialDataColumnHeader<P>>> = None;
        if let Some(header) = message_header {
            let signed_header = &header.signed_block_header;
            let block_header = &signed_header.message;
            let header_root = header.tree_hash_root();
            // [REJECT] the same header as any validated before for this block.
            if self
                .validated_partial_header(&block_root)
                .is_some_and(|prior| prior.root != header_root)
            {
                return Err(reject("header differs from previously validated header"));
            }
            // [REJECT] the header names the group's block.
            if block_header.tree_hash_root() != block_root {
                return Err(reject(
                    "header's block root does not match group id's block root",
                ));
            }
            // [REJECT] at least one commitment.
            if header.kzg_commitments.is_empty() {
                return Err(reject("header's kzg_commitments is empty"));
            }
            let checks = self.check_block_header(ctx, signed_header, "header")?;
            // [REJECT] `verify_partial_data_column_header_inclusion_proof`.
            if !verify_partial_data_column_header_inclusion_proof(header) {
                return Err(reject("invalid header inclusion proof"));
            }
            self.check_header_proposer(&checks, signed_header, "header")?;
            sets.push(self.header_signature_set(ctx, &checks, signed_header)?);
            seen.push(SeenKey::PartialHeader(
                block_header.slot,
                block_root,
                header_root,
            ));
            let header = Arc::new(header.clone());
            candidate = Some(PartialHeaderEntry {
                root: header_root,
                header: Arc::clone(&header),
            });
            cells_header = Some(header);
        }

        if has_cells {
            // [IGNORE] a valid header for the block has been seen (this message's own header
            // counts: it passed every rule above, and its signature is checked with the cells).
            let header = match cells_header.take() {
                Some(header) => header,
                None => self
                    .validated_partial_header(&block_root)
                    .map(|entry| entry.header)
                    .ok_or_else(|| ignore("valid corresponding header has not been seen"))?,
            };
            let block_header = &header.signed_block_header.message;
            // [IGNORE] the header is not from a future slot.
            if !self.is_not_from_future_slot(ctx, block_header.slot) {
                return Err(ignore("corresponding header is from a future slot"));
            }
            // [IGNORE] the header is after the latest finalized slot.
            if block_header.slot <= self.finalized_slot(ctx) {
                return Err(ignore(
                    "corresponding header is not from a slot greater than the latest finalized slot",
                ));
            }
            // [REJECT] one bit per commitment.
            if sidecar.cells_present_bitmap.len() != header.kzg_commitments.len() {
                return Err(reject("bitmap length does not match commitments length"));
            }
            // [REJECT] `verify_partial_data_column_sidecar_kzg_proofs`.
            match verify_partial_data_column_sidecar_kzg_proofs(
                &Kzg::mainnet(),
                sidecar,
                &header.kzg_commitments,
                column_index,
            ) {
                Ok(true) => {}
                Ok(false) => return Err(reject("invalid sidecar kzg proofs")),
                Err(e) => return Err(reject(format!("invalid sidecar kzg proofs: {e}"))),
            }
            cells_header = Some(header);
        }

        if let Some(entry) = candidate {
            self.partial_header_candidates
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(entry.root, entry);
        }
        Ok(Pending {
            item: VerifiedPartialDataColumnSidecar {
                sidecar: Arc::clone(sidecar),
                block_root,
                column_index,
                header: cells_header.or_else(|| {
                    self.validated_partial_header(&block_root)
                        .map(|entry| entry.header)
                }),
                received_at,
            },
            sets,
            seen,
            aggregate_bits: None,
        })
    }

    /// Records `header` as validated for `block_root` without gossip validation: for a header
    /// derived from a block or a full sidecar that passed their own rules (the spec's note:
    /// "this header can be derived from a beacon block or a `DataColumnSidecar`").
    pub fn remember_partial_data_column_header(
        &self,
        block_root: Hash256,
        header: PartialDataColumnHeader<P>,
    ) {
        let entry = PartialHeaderEntry {
            root: header.tree_hash_root(),
            header: Arc::new(header),
        };
        self.partial_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(block_root, entry);
    }

    fn validated_partial_header(&self, block_root: &Hash256) -> Option<PartialHeaderEntry<P>> {
        self.partial_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(block_root)
            .cloned()
    }

    /// `compute_start_slot_at_epoch(store.finalized_checkpoint.epoch)`.
    pub(super) fn finalized_slot(&self, ctx: &GossipContext<'_, P>) -> u64 {
        ctx.snapshot
            .finalized
            .epoch
            .saturating_mul(P::slots_per_epoch())
    }

    /// The rules a sidecar's (or a partial header's) signed block header shares with a
    /// block's: not from the future, after finality, a known proposer, a known and valid
    /// parent at a lower slot, and the finalized checkpoint among its ancestors. `what` names
    /// the message in the reasons ("sidecar", "header").
    pub(super) fn check_block_header<'s>(
        &self,
        ctx: &GossipContext<'s, P>,
        signed_header: &SignedBeaconBlockHeader,
        what: &str,
    ) -> Result<HeaderChecks<'s, P>, GossipError> {
        let header = &signed_header.message;
        // [IGNORE] not from a future slot.
        if !self.is_not_from_future_slot(ctx, header.slot) {
            return Err(ignore(format!("{what} is from a future slot")));
        }
        // [IGNORE] after the latest finalized slot.
        if header.slot <= self.finalized_slot(ctx) {
            return Err(ignore(format!(
                "{what} is not from a slot greater than the latest finalized slot"
            )));
        }
        // [REJECT] a validator's proposer index (the registry only grows, so the head state's
        // is the largest the snapshot knows).
        if let Some(head) = ctx.snapshot.head_state()
            && header.proposer_index >= head.state.validators.len() as u64
        {
            return Err(reject("proposer index out of range"));
        }
        // [IGNORE] the parent has been seen.
        let nodes = &ctx.snapshot.fork_choice.nodes;
        let Some(parent) = nodes.iter().find(|n| n.block_root == header.parent_root) else {
            return Err(ignore(format!("{what}'s parent has not been seen")));
        };
        // [REJECT] the parent passed validation (a node without a post-state failed it).
        let Some(parent_state) = ctx.snapshot.state_by_block_root(&header.parent_root) else {
            return Err(reject(format!("{what}'s parent failed validation")));
        };
        // [REJECT] a higher slot than the parent's.
        if header.slot <= parent.slot {
            return Err(reject(format!(
                "{what} is not from a higher slot than its parent"
            )));
        }
        // [REJECT] the finalized checkpoint is an ancestor.
        let finalized = ctx.snapshot.finalized;
        if checkpoint_block::<P>(nodes, &header.parent_root, finalized.epoch)
            != Some(finalized.root)
        {
            return Err(reject(format!(
                "finalized checkpoint is not an ancestor of {what}'s block"
            )));
        }
        Ok(HeaderChecks { parent_state })
    }

    /// [REJECT] the header's proposer is the parent state's proposer for its slot (read from
    /// the parent state, or from it advanced when its fork does not know the slot's proposer
    /// yet).
    pub(super) fn check_header_proposer(
        &self,
        checks: &HeaderChecks<'_, P>,
        signed_header: &SignedBeaconBlockHeader,
        what: &str,
    ) -> Result<(), GossipError> {
        let header = &signed_header.message;
        let expected = self.expected_proposer(checks.parent_state, header.slot)?;
        if expected != header.proposer_index {
            return Err(reject(format!(
                "{what} proposer_index does not match expected proposer"
            )));
        }
        Ok(())
    }

    /// The proposer's signature over the header, in `DOMAIN_BEACON_PROPOSER` of its epoch
    /// (checked in the batch).
    pub(super) fn header_signature_set(
        &self,
        ctx: &GossipContext<'_, P>,
        checks: &HeaderChecks<'_, P>,
        signed_header: &SignedBeaconBlockHeader,
    ) -> Result<keel_crypto::bls::SignatureSet<'static>, GossipError> {
        let set = proposer_slashing_header_set::<P, _>(
            checks.parent_state.state.as_ref(),
            ctx.pubkeys,
            signed_header,
        )
        .map_err(|e| reject(format!("invalid proposer signature on header: {e}")))?
        .ok_or_else(|| reject("no proposer signature set"))?;
        Ok(owned_set(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_config::ChainConfig;
    use keel_types::Minimal;

    fn header(slot: u64) -> PartialDataColumnHeader<Minimal> {
        let mut header = PartialDataColumnHeader::<Minimal>::default();
        header.signed_block_header.message.slot = slot;
        header
    }

    /// A header-carrying message that passed its rules, as `validate_*` leaves it.
    fn pending_header(
        validator: &GossipValidator<Minimal>,
        block_root: Hash256,
        header: PartialDataColumnHeader<Minimal>,
    ) -> Pending<()> {
        let root = header.tree_hash_root();
        let slot = header.signed_block_header.message.slot;
        validator
            .partial_header_candidates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                root,
                PartialHeaderEntry {
                    root,
                    header: Arc::new(header),
                },
            );
        Pending {
            item: (),
            sets: vec![],
            seen: vec![SeenKey::PartialHeader(slot, block_root, root)],
            aggregate_bits: None,
        }
    }

    #[test]
    fn a_header_is_remembered_once_finished_and_a_different_one_is_rejected() {
        let validator = GossipValidator::<Minimal>::new(Arc::new(ChainConfig::minimal()));
        let block_root = Hash256::repeat_byte(7);
        let mut rng = rand::rng();
        let first = pending_header(&validator, block_root, header(3));
        assert!(validator.validated_partial_header(&block_root).is_none());
        let results = validator.finish(vec![first], &mut rng);
        assert!(matches!(results.as_slice(), [Ok(())]));
        let remembered = validator.validated_partial_header(&block_root);
        assert_eq!(
            remembered.map(|entry| entry.root),
            Some(header(3).tree_hash_root())
        );
        // The same header again is fine; another one for the block is not.
        let same = pending_header(&validator, block_root, header(3));
        let other = pending_header(&validator, block_root, header(4));
        let results = validator.finish(vec![same, other], &mut rng);
        assert!(matches!(
            results.as_slice(),
            [Ok(()), Err(GossipError::Reject(_))]
        ));
        // Pruning past the header's epoch forgets it.
        validator.prune(1);
        assert!(validator.validated_partial_header(&block_root).is_none());
    }
}
