//! The fork schedule a [`ChainConfig`] defines: which fork is active at an epoch, its version,
//! the state's `Fork`, fork digests (with Fulu's blob-parameter mask) and blob limits.
//!
//! Only the forks of [`ForkName`] take part; `GLOAS_*`/`HEZE_*` are parsed and reported but not
//! scheduled here until Keel implements those forks.

use crate::chain_config::{BlobParameters, ChainConfig};
use crate::constants::{FAR_FUTURE_EPOCH, GENESIS_EPOCH};
use crate::signing::{
    compute_domain, compute_fork_digest_phase0, compute_fork_digest_with_blob_parameters,
};
use keel_types::phase0::Fork;
use keel_types::{Domain, DomainType, Epoch, ForkDigest, ForkName, Root, Slot, Version};

impl ChainConfig {
    /// `<FORK>_FORK_EPOCH` (`GENESIS_EPOCH` for phase0).
    pub fn fork_epoch(&self, fork: ForkName) -> Epoch {
        match fork {
            ForkName::Phase0 => GENESIS_EPOCH,
            ForkName::Altair => self.altair_fork_epoch,
            ForkName::Bellatrix => self.bellatrix_fork_epoch,
            ForkName::Capella => self.capella_fork_epoch,
            ForkName::Deneb => self.deneb_fork_epoch,
            ForkName::Electra => self.electra_fork_epoch,
            ForkName::Fulu => self.fulu_fork_epoch,
        }
    }

    /// `<FORK>_FORK_VERSION` (`GENESIS_FORK_VERSION` for phase0).
    pub fn fork_version(&self, fork: ForkName) -> Version {
        match fork {
            ForkName::Phase0 => self.genesis_fork_version,
            ForkName::Altair => self.altair_fork_version,
            ForkName::Bellatrix => self.bellatrix_fork_version,
            ForkName::Capella => self.capella_fork_version,
            ForkName::Deneb => self.deneb_fork_version,
            ForkName::Electra => self.electra_fork_version,
            ForkName::Fulu => self.fulu_fork_version,
        }
    }

    /// The fork active at `epoch`: the latest fork whose epoch is `<= epoch`. Forks sharing an
    /// epoch (e.g. Hoodi's Altair..Deneb at 0) resolve to the latest of them. Like the spec's
    /// `compute_fork_version`, an unscheduled fork (`FAR_FUTURE_EPOCH`) counts as active at
    /// `epoch == FAR_FUTURE_EPOCH` only.
    pub fn fork_at_epoch(&self, epoch: Epoch) -> ForkName {
        ForkName::ALL
            .iter()
            .rev()
            .copied()
            .find(|f| epoch >= self.fork_epoch(*f))
            .unwrap_or(ForkName::Phase0)
    }

    /// The fork active at `slot`. `slots_per_epoch` is the preset's `SLOTS_PER_EPOCH`
    /// (`P::slots_per_epoch()`); a zero is treated as one rather than dividing by zero.
    pub fn fork_for_slot(&self, slot: Slot, slots_per_epoch: u64) -> ForkName {
        self.fork_at_epoch(slot / slots_per_epoch.max(1))
    }

    /// The spec's `compute_fork_version(epoch)`.
    pub fn compute_fork_version(&self, epoch: Epoch) -> Version {
        self.fork_version(self.fork_at_epoch(epoch))
    }

    /// The `Fork` a beacon state carries at `epoch`, as the upgrade functions set it:
    /// `previous_version` is the version of the fork before the active one (for phase0, the
    /// genesis version itself), `epoch` the active fork's activation epoch.
    pub fn state_fork(&self, epoch: Epoch) -> Fork {
        let current = self.fork_at_epoch(epoch);
        let previous = current.previous().unwrap_or(current);
        Fork {
            previous_version: self.fork_version(previous),
            current_version: self.fork_version(current),
            epoch: self.fork_epoch(current),
        }
    }

    /// Forks with a scheduled epoch (not `FAR_FUTURE_EPOCH`), in activation order, phase0 first.
    pub fn scheduled_forks(&self) -> Vec<(ForkName, Epoch)> {
        ForkName::ALL
            .iter()
            .copied()
            .map(|f| (f, self.fork_epoch(f)))
            .filter(|(_, e)| *e != FAR_FUTURE_EPOCH)
            .collect()
    }

    /// The next regular fork strictly after `epoch`, if one is scheduled.
    pub fn next_fork(&self, epoch: Epoch) -> Option<(ForkName, Epoch)> {
        self.scheduled_forks()
            .into_iter()
            .find(|(_, fork_epoch)| *fork_epoch > epoch)
    }

    /// ENR `next_fork_version`: the version of the next regular fork (blob-parameter-only forks
    /// do not change it), or the current version if none is scheduled.
    pub fn next_fork_version(&self, epoch: Epoch) -> Version {
        match self.next_fork(epoch) {
            Some((fork, _)) => self.fork_version(fork),
            None => self.compute_fork_version(epoch),
        }
    }

    /// ENR `next_fork_epoch` as of Fulu: the epoch of the next fork after `epoch`, regular *or*
    /// blob-parameter-only, or `FAR_FUTURE_EPOCH` if none is scheduled. A `BLOB_SCHEDULE` entry
    /// counts only from `FULU_FORK_EPOCH` on, since only then does it change the fork digest.
    pub fn next_fork_epoch(&self, epoch: Epoch) -> Epoch {
        let regular = self.next_fork(epoch).map(|(_, e)| e);
        let bpo = self
            .blob_schedule
            .iter()
            .map(|b| b.epoch)
            .filter(|e| *e > epoch && *e >= self.fulu_fork_epoch && *e != FAR_FUTURE_EPOCH)
            .min();
        match (regular, bpo) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => FAR_FUTURE_EPOCH,
        }
    }

    /// ENR `nfd`: the digest of the next fork (regular or blob-parameter-only) after `epoch`, or
    /// the zero digest if none is scheduled.
    pub fn next_fork_digest(&self, genesis_validators_root: Root, epoch: Epoch) -> ForkDigest {
        match self.next_fork_epoch(epoch) {
            FAR_FUTURE_EPOCH => ForkDigest::default(),
            next => self.compute_fork_digest(genesis_validators_root, next),
        }
    }

    /// The spec's Fulu `get_blob_parameters(epoch)`: the `BLOB_SCHEDULE` entry with the greatest
    /// epoch `<= epoch`, else `(ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA)`. Like the spec's
    /// stable `sorted(..., reverse=True)`, the first listed entry wins a tie between equal epochs.
    pub fn get_blob_parameters(&self, epoch: Epoch) -> BlobParameters {
        let mut best: Option<&BlobParameters> = None;
        for entry in self.blob_schedule.iter().filter(|b| epoch >= b.epoch) {
            if best.is_none_or(|b| entry.epoch > b.epoch) {
                best = Some(entry);
            }
        }
        best.copied().unwrap_or(BlobParameters {
            epoch: self.electra_fork_epoch,
            max_blobs_per_block: self.max_blobs_per_block_electra,
        })
    }

    /// The block blob limit at `epoch`: `get_blob_parameters` from Fulu on,
    /// `MAX_BLOBS_PER_BLOCK_ELECTRA` in Electra, `MAX_BLOBS_PER_BLOCK` in Deneb, and 0 before
    /// Deneb (blocks carry no blobs).
    pub fn get_max_blobs_per_block(&self, epoch: Epoch) -> u64 {
        match self.fork_at_epoch(epoch) {
            ForkName::Fulu => self.get_blob_parameters(epoch).max_blobs_per_block,
            ForkName::Electra => self.max_blobs_per_block_electra,
            ForkName::Deneb => self.max_blobs_per_block,
            ForkName::Phase0 | ForkName::Altair | ForkName::Bellatrix | ForkName::Capella => 0,
        }
    }

    /// The spec's `compute_fork_digest(genesis_validators_root, epoch)` as modified in Fulu:
    /// the first four bytes of the fork data root before `FULU_FORK_EPOCH`, and from then on
    /// those of the fork data root XOR `hash(uint64(epoch) ++ uint64(max_blobs_per_block))` of
    /// `get_blob_parameters(epoch)`.
    pub fn compute_fork_digest(&self, genesis_validators_root: Root, epoch: Epoch) -> ForkDigest {
        let fork_version = self.compute_fork_version(epoch);
        if epoch < self.fulu_fork_epoch {
            return compute_fork_digest_phase0(fork_version, genesis_validators_root);
        }
        compute_fork_digest_with_blob_parameters(
            fork_version,
            genesis_validators_root,
            self.get_blob_parameters(epoch),
        )
    }

    /// The spec's `compute_domain(domain_type)` with its defaults: `GENESIS_FORK_VERSION` and a
    /// zero genesis validators root. Deposits (and builder registrations) are signed this way,
    /// so that they stay valid across forks.
    pub fn genesis_domain(&self, domain_type: DomainType) -> Domain {
        compute_domain(domain_type, self.genesis_fork_version, Root::ZERO)
    }
}
