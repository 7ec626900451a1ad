//! Backfill: blocks older than the checkpoint anchor, fetched newest-first by sync, accepted
//! when they chain by parent root down from the oldest block the store holds and every
//! proposer signature verifies (in one batch). No state transition runs: the anchor is trusted,
//! and the hash chain from it fixes every older block.

use crate::chain::{Chain, meta};
use crate::error::CoreError;
use keel_config::constants::DOMAIN_BEACON_PROPOSER;
use keel_config::{compute_domain, compute_signing_root_from_root};
use keel_crypto::SignatureSet;
use keel_crypto::bls::verify_signature_sets;
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_state_transition::signature_sets::decode_signature;
use keel_types::{Hash256, Preset, SignedBeaconBlock, Slot};
use std::sync::Arc;

/// The oldest block the store holds, where backfill continues from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frontier {
    pub slot: Slot,
    pub root: Hash256,
    pub parent_root: Hash256,
}

impl Frontier {
    fn to_bytes(self) -> Vec<u8> {
        let mut out = self.slot.to_le_bytes().to_vec();
        out.extend_from_slice(self.root.as_slice());
        out.extend_from_slice(self.parent_root.as_slice());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 72 {
            return None;
        }
        Some(Frontier {
            slot: u64::from_le_bytes(bytes[..8].try_into().ok()?),
            root: Hash256::from_slice(&bytes[8..40]),
            parent_root: Hash256::from_slice(&bytes[40..72]),
        })
    }

    /// Whether history is complete (the oldest block is genesis).
    pub fn is_complete(&self) -> bool {
        self.slot == 0
    }
}

/// The oldest block in the store: the backfill record, or else the anchor block.
pub fn frontier<P: Preset>(store: &keel_store::Store<P>) -> Result<Option<Frontier>, CoreError> {
    let read = store.read()?;
    if let Some(record) = read.meta(meta::BACKFILL)? {
        return Frontier::from_bytes(&record)
            .map(Some)
            .ok_or_else(|| CoreError::Corrupt("backfill record".into()));
    }
    let Some(anchor) = read.meta(meta::ANCHOR)? else {
        return Ok(None);
    };
    let root = Hash256::from_slice(anchor.get(..32).unwrap_or(&[0; 32]));
    let Some(block) = read.block(&root)? else {
        return Ok(None);
    };
    Ok(Some(Frontier {
        slot: block.message().slot(),
        root,
        parent_root: block.message().parent_root(),
    }))
}

impl<P: Preset> Chain<P> {
    /// Stores `blocks` (oldest first) below the frontier after checking that they chain to it
    /// and that their proposers signed them; returns the new frontier.
    pub fn backfill(
        &mut self,
        blocks: &[Arc<SignedBeaconBlock<P>>],
    ) -> Result<Frontier, CoreError> {
        let invalid = |reason: String| CoreError::InvalidBlock(format!("backfill: {reason}"));
        let mut front = frontier(&self.store)?
            .ok_or_else(|| CoreError::Anchor("the chain has no anchor block".into()))?;
        let roots: Vec<Hash256> = blocks
            .iter()
            .map(|b| b.message().tree_hash_root())
            .collect();
        for (block, root) in blocks.iter().zip(&roots).rev() {
            if *root != front.parent_root {
                return Err(invalid(format!(
                    "block {root} at slot {} is not the parent {} of slot {}",
                    block.message().slot(),
                    front.parent_root,
                    front.slot
                )));
            }
            if block.message().slot() >= front.slot {
                return Err(invalid("slots do not decrease".into()));
            }
            front = Frontier {
                slot: block.message().slot(),
                root: *root,
                parent_root: block.message().parent_root(),
            };
        }
        self.verify_proposer_signatures(blocks, &roots)?;
        self.store.write(|batch| {
            for (block, root) in blocks.iter().zip(&roots) {
                batch.put_block(root, block)?;
                batch.put_block_root_at_slot(block.message().slot(), root)?;
            }
            batch.put_meta(meta::BACKFILL, &front.to_bytes())?;
            Ok::<_, CoreError>(())
        })?;
        Ok(front)
    }

    fn verify_proposer_signatures(
        &self,
        blocks: &[Arc<SignedBeaconBlock<P>>],
        roots: &[Hash256],
    ) -> Result<(), CoreError> {
        let state = &self
            .hot
            .get(&self.head.block_root)
            .ok_or_else(|| CoreError::Corrupt("no head state".into()))?
            .state;
        let genesis_validators_root = state.genesis_validators_root;
        let mut sets = Vec::with_capacity(blocks.len());
        for (block, root) in blocks.iter().zip(roots) {
            let message = block.message();
            // The genesis block is unsigned; the hash chain alone fixes it.
            if message.slot() == 0 {
                continue;
            }
            let epoch = compute_epoch_at_slot::<P>(message.slot());
            let version = self.config.fork_version(self.config.fork_at_epoch(epoch));
            let domain = compute_domain(DOMAIN_BEACON_PROPOSER, version, genesis_validators_root);
            let signature = decode_signature(block.signature())
                .map_err(|e| CoreError::InvalidBlock(format!("backfill signature: {e}")))?;
            let key = self
                .pubkeys
                .get(state.as_ref(), message.proposer_index())
                .map_err(|e| CoreError::InvalidBlock(format!("backfill proposer: {e}")))?;
            sets.push(SignatureSet::single_pubkey(
                signature,
                key,
                compute_signing_root_from_root(*root, domain),
            ));
        }
        if sets.is_empty() || verify_signature_sets(&sets, &mut rand::rng()) {
            Ok(())
        } else {
            Err(CoreError::InvalidBlock(
                "backfill: a proposer signature does not verify".into(),
            ))
        }
    }
}
