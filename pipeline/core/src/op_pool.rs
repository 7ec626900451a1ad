//! The operation pool: verified attestations, aggregated per (data, committee), from which block
//! production packs Electra's on-chain aggregates.
//!
//! The core is its only writer; block production reads it. A short mutex guards it (inserts
//! and reads are microseconds), so a reader never waits on the state transition.

use keel_crypto::bls::{AggregateSignature, Signature};
use keel_types::electra::{Attestation, AttestationData};
use keel_types::phase0::Checkpoint;
use keel_types::ssz_types::{BitList, BitVector};
use keel_types::tree_hash::TreeHash;
use keel_types::typenum::Unsigned;
use keel_types::{Epoch, Hash256, Preset, Slot};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

/// One committee's best aggregate for one `AttestationData`.
#[derive(Clone)]
struct CommitteeAggregate {
    /// Bit `i`: the committee's `i`-th member attested.
    bits: Vec<bool>,
    signature: AggregateSignature,
}

impl CommitteeAggregate {
    /// Adds a verified aggregate of one committee: disjoint attesters are merged into what is
    /// there; an overlapping one replaces it only if it has more (aggregates cannot be split).
    /// One of another length is not from this shuffling and is dropped.
    /// Returns the aggregate to insert where there was none.
    fn merge(
        existing: Option<&mut CommitteeAggregate>,
        bits: Vec<bool>,
        signature: &Signature,
    ) -> Option<CommitteeAggregate> {
        let fresh = |bits| CommitteeAggregate {
            bits,
            signature: AggregateSignature::from_signature(signature),
        };
        let Some(existing) = existing else {
            return Some(fresh(bits));
        };
        if existing.bits.len() != bits.len() {
            return None;
        }
        let overlaps = existing.bits.iter().zip(&bits).any(|(a, b)| *a && *b);
        if !overlaps {
            for (mine, theirs) in existing.bits.iter_mut().zip(&bits) {
                *mine |= *theirs;
            }
            existing.signature.add(signature);
        } else if count(&bits) > count(&existing.bits) {
            *existing = fresh(bits);
        }
        None
    }
}

#[derive(Default)]
struct Pool {
    /// By `hash_tree_root(data)`, then committee index.
    by_data: HashMap<Hash256, (AttestationData, BTreeMap<u64, CommitteeAggregate>)>,
    /// Sync committee signatures by `(slot, beacon_block_root, subcommittee)`: a bit per
    /// position of the subcommittee (what a contribution carries).
    sync: HashMap<(Slot, Hash256, u64), CommitteeAggregate>,
}

/// Verified attestations waiting to be packed into a block.
#[derive(Default)]
pub struct OperationPool {
    pool: Mutex<Pool>,
}

impl OperationPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a one-committee attestation whose signature was verified. Disjoint attesters are
    /// merged into the existing aggregate; an overlapping one replaces it only if it has more
    /// attesters (aggregates cannot be split).
    pub fn insert<P: Preset>(&self, attestation: &Attestation<P>, committee_index: u64) {
        let Ok(signature) = Signature::from_signature_bytes(&attestation.signature) else {
            return;
        };
        self.insert_decoded(attestation, committee_index, &signature);
    }

    /// [`OperationPool::insert`] with the signature already decoded (the verify stage did).
    pub fn insert_decoded<P: Preset>(
        &self,
        attestation: &Attestation<P>,
        committee_index: u64,
        signature: &Signature,
    ) {
        let bits: Vec<bool> = attestation.aggregation_bits.iter().collect();
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, committees) = pool
            .by_data
            .entry(attestation.data.tree_hash_root())
            .or_insert_with(|| (attestation.data, BTreeMap::new()));
        if let Some(new) =
            CommitteeAggregate::merge(committees.get_mut(&committee_index), bits, signature)
        {
            committees.insert(committee_index, new);
        }
    }

    /// Up to `MAX_ATTESTATIONS_ELECTRA` on-chain aggregates for a block at `slot` whose
    /// pre-state has the given justified checkpoints (`process_attestation`'s source rule):
    /// each combines every committee's aggregate for one `AttestationData`, best first (most
    /// attesters, then newest).
    pub fn attestations_for_block<P: Preset>(
        &self,
        slot: Slot,
        current_justified: Checkpoint,
        previous_justified: Checkpoint,
    ) -> Vec<Attestation<P>> {
        let current_epoch = slot / P::slots_per_epoch();
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let mut candidates: Vec<(usize, Slot, Attestation<P>)> = pool
            .by_data
            .values()
            .filter(|(data, _)| {
                let included_from = data.slot.saturating_add(P::MIN_ATTESTATION_INCLUSION_DELAY);
                let epoch = data.target.epoch;
                let source = if epoch == current_epoch {
                    current_justified
                } else {
                    previous_justified
                };
                included_from <= slot
                    && (epoch == current_epoch || epoch.saturating_add(1) == current_epoch)
                    && data.source == source
            })
            .filter_map(|(data, committees)| {
                let attesters = committees.values().map(|c| count(&c.bits)).sum();
                on_chain_aggregate::<P>(data, committees).map(|a| (attesters, data.slot, a))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        candidates
            .into_iter()
            .take(P::MaxAttestationsElectra::to_usize())
            .map(|(_, _, a)| a)
            .collect()
    }

    /// Forgets what a block included: each committee aggregate whose attesters the block's
    /// attestation already covers.
    pub fn on_included<P: Preset>(&self, attestation: &Attestation<P>) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let root = attestation.data.tree_hash_root();
        let Some((_, committees)) = pool.by_data.get_mut(&root) else {
            return;
        };
        let included: Vec<bool> = attestation.aggregation_bits.iter().collect();
        let mut offset = 0usize;
        for (index, bit) in attestation.committee_bits.iter().enumerate() {
            if !bit {
                continue;
            }
            let Some(aggregate) = committees.get(&(index as u64)) else {
                // The committee's length is unknown here: nothing after it can be placed.
                return;
            };
            let len = aggregate.bits.len();
            let covered = aggregate
                .bits
                .iter()
                .enumerate()
                .all(|(i, mine)| !*mine || included.get(offset + i).copied().unwrap_or(false));
            if covered {
                committees.remove(&(index as u64));
            }
            offset += len;
        }
        if committees.is_empty() {
            pool.by_data.remove(&root);
        }
    }

    /// The best aggregate of one committee for `data` (what an aggregator publishes).
    pub fn aggregate<P: Preset>(
        &self,
        data: &AttestationData,
        committee_index: u64,
    ) -> Option<Attestation<P>> {
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, committees) = pool.by_data.get(&data.tree_hash_root())?;
        let aggregate = committees.get(&committee_index)?;
        let one = BTreeMap::from([(committee_index, aggregate.clone())]);
        on_chain_aggregate::<P>(data, &one)
    }

    /// Adds a verified sync committee message: its signature counts once per committee
    /// position it holds on its subnet (as `eth_fast_aggregate_verify` over the positions'
    /// keys expects).
    pub fn insert_sync_message<P: Preset>(
        &self,
        slot: Slot,
        beacon_block_root: Hash256,
        positions: &[usize],
        signature: &keel_types::SignatureBytes,
    ) {
        let Ok(signature) = Signature::from_signature_bytes(signature) else {
            return;
        };
        let size = sync_subcommittee_size::<P>();
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        for &position in positions {
            let key = (slot, beacon_block_root, (position / size) as u64);
            let entry = pool.sync.entry(key).or_insert_with(|| CommitteeAggregate {
                bits: vec![false; size],
                signature: AggregateSignature::infinity(),
            });
            if let Some(bit) = entry.bits.get_mut(position % size)
                && !*bit
            {
                *bit = true;
                entry.signature.add(&signature);
            }
        }
    }

    /// Adds a verified contribution: merged if it shares no position with what the pool has
    /// for its subcommittee, else kept instead only if it has more.
    pub fn insert_contribution<P: Preset>(
        &self,
        contribution: &keel_types::altair::SyncCommitteeContribution<P>,
    ) {
        let Ok(signature) = Signature::from_signature_bytes(&contribution.signature) else {
            return;
        };
        let bits: Vec<bool> = contribution.aggregation_bits.iter().collect();
        let key = (
            contribution.slot,
            contribution.beacon_block_root,
            contribution.subcommittee_index,
        );
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(new) = CommitteeAggregate::merge(pool.sync.get_mut(&key), bits, &signature) {
            pool.sync.insert(key, new);
        }
    }

    /// What a sync aggregator of `subcommittee` publishes for `slot` over `beacon_block_root`.
    pub fn sync_contribution<P: Preset>(
        &self,
        slot: Slot,
        beacon_block_root: Hash256,
        subcommittee: u64,
    ) -> Option<keel_types::altair::SyncCommitteeContribution<P>> {
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pool.sync.get(&(slot, beacon_block_root, subcommittee))?;
        let mut aggregation_bits = BitVector::new();
        for (i, set) in entry.bits.iter().enumerate() {
            if *set {
                aggregation_bits.set(i, true).ok()?;
            }
        }
        Some(keel_types::altair::SyncCommitteeContribution {
            slot,
            beacon_block_root,
            subcommittee_index: subcommittee,
            aggregation_bits,
            signature: entry.signature.to_bytes(),
        })
    }

    /// The sync aggregate a block at `slot + 1` carries for the signatures of `slot` over
    /// `beacon_block_root`: every subcommittee's bits side by side and their signatures summed;
    /// empty (no bits, the point at infinity) without any.
    pub fn sync_aggregate<P: Preset>(
        &self,
        slot: Slot,
        beacon_block_root: Hash256,
    ) -> keel_types::altair::SyncAggregate<P> {
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        let size = sync_subcommittee_size::<P>();
        let mut bits = BitVector::new();
        let mut signature = AggregateSignature::infinity();
        let mut any = false;
        for subcommittee in 0..keel_config::constants::SYNC_COMMITTEE_SUBNET_COUNT {
            let Some(entry) = pool.sync.get(&(slot, beacon_block_root, subcommittee)) else {
                continue;
            };
            for (i, set) in entry.bits.iter().enumerate() {
                if *set {
                    let _ = bits.set(subcommittee as usize * size + i, true);
                    any = true;
                }
            }
            signature.add_aggregate(&entry.signature);
        }
        keel_types::altair::SyncAggregate {
            sync_committee_bits: bits,
            sync_committee_signature: if any {
                signature.to_bytes()
            } else {
                keel_types::SignatureBytes::infinity()
            },
        }
    }

    /// Drops attestations that can no longer be included (target before the previous epoch)
    /// and sync messages older than that.
    pub fn prune<P: Preset>(&self, current_epoch: Epoch) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.by_data
            .retain(|_, (data, _)| data.target.epoch.saturating_add(1) >= current_epoch);
        let oldest_slot = current_epoch
            .saturating_sub(1)
            .saturating_mul(P::slots_per_epoch());
        pool.sync.retain(|(slot, _, _), _| *slot >= oldest_slot);
    }

    pub fn len(&self) -> usize {
        let pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.by_data.values().map(|(_, c)| c.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT`.
fn sync_subcommittee_size<P: Preset>() -> usize {
    (P::sync_committee_size() / keel_config::constants::SYNC_COMMITTEE_SUBNET_COUNT).max(1) as usize
}

fn count(bits: &[bool]) -> usize {
    bits.iter().filter(|b| **b).count()
}

/// Electra's aggregate over several committees: committee bits for each, aggregation bits
/// concatenated in committee order, signatures summed.
fn on_chain_aggregate<P: Preset>(
    data: &AttestationData,
    committees: &BTreeMap<u64, CommitteeAggregate>,
) -> Option<Attestation<P>> {
    let total: usize = committees.values().map(|c| c.bits.len()).sum();
    let mut aggregation_bits = BitList::with_capacity(total).ok()?;
    let mut committee_bits = BitVector::new();
    let mut signature = AggregateSignature::infinity();
    let mut offset = 0;
    for (&index, aggregate) in committees {
        committee_bits
            .set(usize::try_from(index).ok()?, true)
            .ok()?;
        for (i, bit) in aggregate.bits.iter().enumerate() {
            if *bit {
                aggregation_bits.set(offset + i, true).ok()?;
            }
        }
        offset += aggregate.bits.len();
        signature.add_aggregate(&aggregate.signature);
    }
    Some(Attestation {
        aggregation_bits,
        data: *data,
        signature: signature.to_bytes(),
        committee_bits,
    })
}
