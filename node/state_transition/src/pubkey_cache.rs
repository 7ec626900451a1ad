//! [`PubkeyCache`]: validator index → decompressed BLS public key, and pubkey → validator index.
//!
//! Decompressing and subgroup-checking a public key costs tens of microseconds; a block carries
//! signatures by thousands of validators, and the spec's `validator_pubkeys.index(pubkey)` is an
//! O(n) scan. The cache holds, for a prefix `0..len` of the registry, each validator's compressed
//! key (for the reverse map and consistency checks) and its decompressed key, decompressed lazily
//! on first use (so that building the cache for a million validators only copies bytes).
//!
//! # Consistency with the state
//!
//! Validators are only ever appended and their pubkeys never change, so a cache built from any
//! state of a chain stays valid for that chain's later states: [`PubkeyCache::update`] appends the
//! new validators. A cache built from another branch (whose registry diverged) is detected when
//! its last entry does not match the state (an O(1) check made by every lookup, once per call for
//! the many keys of [`PubkeyCache::get_many`] and [`PubkeyCache::aggregate`]): `update`
//! rebuilds it, and until then lookups answer from the state alone. [`PubkeyCache::index_of`]
//! also checks the state's pubkey at the index it returns, and scans the validators the cache
//! does not cover yet (e.g. added earlier in the same block).
//!
//! Not detected: registries that agree on the cache's last entry but differ before it. Electra
//! appends validators only from the canonical Eth1 deposit sequence and from deposit requests
//! once finalized, so two branches' registries agree on every index both have unless finality
//! itself conflicts; a node that sees conflicting finality must drop its caches.
//!
//! The cache is plain data owned by the caller (`Send + Sync`); it can always be dropped and
//! rebuilt from the state.

use crate::math::to_usize;
use crate::state::PostElectraState;
use keel_crypto::{AggregatePublicKey, BlsError, PublicKey};
use keel_types::{Preset, PublicKeyBytes, ValidatorIndex};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// From this many keys on, [`PubkeyCache::aggregate`] sums the two halves in parallel.
const PARALLEL_SUM_MIN_KEYS: usize = 8192;

/// One validator's key: the compressed bytes and, once needed, the decompressed key (or why it
/// does not decompress).
#[derive(Debug)]
struct Entry {
    bytes: PublicKeyBytes,
    decompressed: OnceLock<Result<PublicKey, BlsError>>,
}

impl Entry {
    fn new(bytes: PublicKeyBytes) -> Self {
        Self {
            bytes,
            decompressed: OnceLock::new(),
        }
    }

    fn key(&self) -> Result<&PublicKey, BlsError> {
        self.decompressed
            .get_or_init(|| PublicKey::from_pubkey_bytes(&self.bytes))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        let decompressed = OnceLock::new();
        if let Some(value) = self.decompressed.get() {
            let _ = decompressed.set(value.clone());
        }
        Self {
            bytes: self.bytes,
            decompressed,
        }
    }
}

/// Validator index → decompressed public key (lazily), and pubkey → index. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct PubkeyCache {
    entries: Vec<Entry>,
    /// The first index of each pubkey among `entries`.
    indices: HashMap<PublicKeyBytes, ValidatorIndex>,
}

impl PubkeyCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache covering every validator of `state`.
    pub fn from_state<P: Preset, S: PostElectraState<P>>(state: &S) -> Self {
        let mut cache = Self::new();
        cache.update(state);
        cache
    }

    /// Number of validators covered (`0..len`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Brings the cache up to date with `state`'s registry: appends the validators it lacks
    /// (copying bytes only; decompression happens on first use). If the cache does not match the
    /// state (another branch's registry, or a longer one), it is rebuilt.
    pub fn update<P: Preset, S: PostElectraState<P>>(&mut self, state: &S) {
        let validators = state.validators();
        if !self.is_consistent_with(validators) {
            self.entries.clear();
            self.indices.clear();
        }
        let start = self.entries.len();
        if start >= validators.len() {
            return;
        }
        self.entries.reserve(validators.len().saturating_sub(start));
        if let Ok(iter) = validators.iter_from(start) {
            for (validator, index) in iter.zip(start as u64..) {
                self.indices.entry(validator.pubkey).or_insert(index);
                self.entries.push(Entry::new(validator.pubkey));
            }
        }
    }

    /// Whether every cached entry can belong to `validators`: not longer than the registry, and
    /// the last cached key is the registry's key at that index.
    fn is_consistent_with<N: keel_types::typenum::Unsigned>(
        &self,
        validators: &keel_types::milhouse::List<keel_types::electra::Validator, N>,
    ) -> bool {
        match self.entries.len().checked_sub(1) {
            None => true,
            Some(last) => validators
                .get(last)
                .zip(self.entries.last())
                .is_some_and(|(v, e)| v.pubkey == e.bytes),
        }
    }

    /// The decompressed key of validator `index`, borrowed from the cache if it covers `index`,
    /// else decompressed now from the state (a validator added since the last [`update`]).
    ///
    /// [`update`]: PubkeyCache::update
    pub fn get<'a, P: Preset, S: PostElectraState<P>>(
        &'a self,
        state: &S,
        index: ValidatorIndex,
    ) -> Result<Cow<'a, PublicKey>, PubkeyError> {
        let position = to_usize(index).map_err(|_| PubkeyError::UnknownValidator(index))?;
        let validators = state.validators();
        if let Some(entry) = self.entries.get(position)
            && self.is_consistent_with(validators)
        {
            return entry
                .key()
                .map(Cow::Borrowed)
                .map_err(|e| PubkeyError::Invalid(index, e));
        }
        let validator = validators
            .get(position)
            .ok_or(PubkeyError::UnknownValidator(index))?;
        PublicKey::from_pubkey_bytes(&validator.pubkey)
            .map(Cow::Owned)
            .map_err(|e| PubkeyError::Invalid(index, e))
    }

    /// The decompressed keys of validators `indices`, as [`PubkeyCache::get`] would return them
    /// one by one, with the cache's consistency with `state` checked once for all of them
    /// rather than once per key (an aggregate attestation names tens of thousands).
    pub fn get_many<'a, P: Preset, S: PostElectraState<P>>(
        &'a self,
        state: &S,
        indices: &[ValidatorIndex],
    ) -> Result<Vec<Cow<'a, PublicKey>>, PubkeyError> {
        let validators = state.validators();
        let covered: &[Entry] = if self.is_consistent_with(validators) {
            &self.entries
        } else {
            &[]
        };
        indices
            .iter()
            .map(|&index| {
                let position = to_usize(index).map_err(|_| PubkeyError::UnknownValidator(index))?;
                if let Some(entry) = covered.get(position) {
                    return entry
                        .key()
                        .map(Cow::Borrowed)
                        .map_err(|e| PubkeyError::Invalid(index, e));
                }
                let validator = validators
                    .get(position)
                    .ok_or(PubkeyError::UnknownValidator(index))?;
                PublicKey::from_pubkey_bytes(&validator.pubkey)
                    .map(Cow::Owned)
                    .map_err(|e| PubkeyError::Invalid(index, e))
            })
            .collect()
    }

    /// The sum of the keys of validators `indices` (the keys [`PubkeyCache::get_many`] would
    /// return, summed), with the cache's consistency with `state` checked once. The point at
    /// infinity for no indices or keys that cancel out: the caller decides what that means.
    pub fn aggregate<P: Preset, S: PostElectraState<P>>(
        &self,
        state: &S,
        indices: &[ValidatorIndex],
    ) -> Result<AggregatePublicKey, PubkeyError> {
        let validators = state.validators();
        let covered = if self.is_consistent_with(validators) {
            self.entries.len()
        } else {
            0
        };
        let mut sum = self.sum_covered(indices, covered)?;
        // Validators the cache does not cover (added since the last `update`): from the state.
        for &index in indices {
            let position = to_usize(index).map_err(|_| PubkeyError::UnknownValidator(index))?;
            if position < covered {
                continue;
            }
            let validator = validators
                .get(position)
                .ok_or(PubkeyError::UnknownValidator(index))?;
            let key = PublicKey::from_pubkey_bytes(&validator.pubkey)
                .map_err(|e| PubkeyError::Invalid(index, e))?;
            sum.add(&key);
        }
        Ok(sum)
    }

    /// The sum of the cached keys of those `indices` below `covered`. Large sets are split in
    /// halves summed with `rayon::join` (on the caller's rayon pool, or the global one that
    /// milhouse's hashing already uses); the sum does not depend on the split.
    fn sum_covered(
        &self,
        indices: &[ValidatorIndex],
        covered: usize,
    ) -> Result<AggregatePublicKey, PubkeyError> {
        if indices.len() >= PARALLEL_SUM_MIN_KEYS {
            let (left, right) = indices.split_at(indices.len() / 2);
            let (left, right) = rayon::join(
                || self.sum_covered(left, covered),
                || self.sum_covered(right, covered),
            );
            let mut sum = left?;
            sum.add_aggregate(&right?);
            return Ok(sum);
        }
        // One read of each entry, straight into the sum's buffer; the first key that does not
        // decompress ends the walk and is the error.
        let mut invalid: Option<PubkeyError> = None;
        let keys = indices
            .iter()
            .filter_map(|&index| {
                let entry = to_usize(index)
                    .ok()
                    .filter(|&p| p < covered)
                    .and_then(|p| self.entries.get(p))?;
                Some((index, entry))
            })
            .map_while(|(index, entry)| match entry.key() {
                Ok(key) => Some(key),
                Err(e) => {
                    invalid = Some(PubkeyError::Invalid(index, e));
                    None
                }
            });
        let sum = AggregatePublicKey::sum(keys);
        match invalid {
            Some(error) => Err(error),
            None => Ok(sum),
        }
    }

    /// The spec's `validator_pubkeys.index(pubkey)`: the first validator of `state` with this
    /// pubkey, or `None`.
    pub fn index_of<P: Preset, S: PostElectraState<P>>(
        &self,
        state: &S,
        pubkey: &PublicKeyBytes,
    ) -> Option<ValidatorIndex> {
        let validators = state.validators();
        let scan_all = || {
            validators
                .iter()
                .position(|v| &v.pubkey == pubkey)
                .map(|i| i as u64)
        };
        if !self.is_consistent_with(validators) {
            // The cache does not describe this state: answer from the state alone.
            return scan_all();
        }
        if let Some(&index) = self.indices.get(pubkey) {
            let matches = to_usize(index)
                .ok()
                .and_then(|i| validators.get(i))
                .is_some_and(|v| &v.pubkey == pubkey);
            return if matches { Some(index) } else { scan_all() };
        }
        // Not among the cached prefix; look at the validators added since.
        let start = self.entries.len().min(validators.len());
        validators
            .iter_from(start)
            .ok()?
            .zip(start as u64..)
            .find(|(v, _)| &v.pubkey == pubkey)
            .map(|(_, i)| i)
    }
}

/// Why a validator's public key is not available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubkeyError {
    #[error("no validator with index {0}")]
    UnknownValidator(ValidatorIndex),
    #[error("validator {0} has an invalid public key: {1}")]
    Invalid(ValidatorIndex, BlsError),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use keel_crypto::bls::interop_secret_key;
    use keel_types::Minimal;
    use keel_types::electra::{BeaconState, Validator};

    fn key(i: u64) -> PublicKey {
        interop_secret_key(i).unwrap().public_key()
    }

    fn push(state: &mut BeaconState<Minimal>, i: u64) {
        let validator = Validator {
            pubkey: key(i).to_bytes(),
            ..Validator::default()
        };
        state.validators.push(validator).unwrap();
    }

    #[test]
    fn incremental_lookups_and_rebuild() {
        let mut state = BeaconState::<Minimal>::default();
        for i in 0..4 {
            push(&mut state, i);
        }
        let mut cache = PubkeyCache::from_state(&state);
        assert_eq!(cache.len(), 4);
        assert_eq!(*cache.get(&state, 2).unwrap(), key(2));
        assert!(matches!(cache.get(&state, 2).unwrap(), Cow::Borrowed(_)));
        assert_eq!(cache.index_of(&state, &key(3).to_bytes()), Some(3));
        assert_eq!(cache.index_of(&state, &key(9).to_bytes()), None);

        // A validator added after the cache was built: found in the tail, decompressed on demand.
        push(&mut state, 7);
        assert_eq!(cache.index_of(&state, &key(7).to_bytes()), Some(4));
        assert!(matches!(cache.get(&state, 4).unwrap(), Cow::Owned(_)));
        assert_eq!(
            cache.get(&state, 5).unwrap_err(),
            PubkeyError::UnknownValidator(5)
        );
        cache.update(&state);
        assert_eq!(cache.len(), 5);
        assert!(matches!(cache.get(&state, 4).unwrap(), Cow::Borrowed(_)));

        // Another branch's registry: the cache is rebuilt, not trusted.
        let mut other = BeaconState::<Minimal>::default();
        for i in [10, 11, 12, 13, 14, 15] {
            push(&mut other, i);
        }
        assert_eq!(cache.index_of(&other, &key(12).to_bytes()), Some(2));
        cache.update(&other);
        assert_eq!(cache.len(), 6);
        assert_eq!(*cache.get(&other, 0).unwrap(), key(10));
        assert_eq!(cache.index_of(&other, &key(0).to_bytes()), None);
    }

    #[test]
    fn aggregate_and_get_many_match_get() {
        let mut state = BeaconState::<Minimal>::default();
        for i in 0..100 {
            push(&mut state, i);
        }
        let cache = PubkeyCache::from_state(&state);
        push(&mut state, 100); // not covered: read from the state
        let indices: Vec<u64> = (0..101).filter(|i| i % 3 != 1).collect();
        let keys: Vec<PublicKey> = indices
            .iter()
            .map(|&i| cache.get(&state, i).unwrap().into_owned())
            .collect();
        let many = cache.get_many(&state, &indices).unwrap();
        assert_eq!(
            many.iter().map(|k| k.as_ref().clone()).collect::<Vec<_>>(),
            keys
        );
        let refs: Vec<&PublicKey> = keys.iter().collect();
        let expected = keel_crypto::AggregatePublicKey::aggregate(&refs)
            .unwrap()
            .to_public_key()
            .unwrap();
        let got = cache.aggregate(&state, &indices).unwrap().to_public_key();
        assert_eq!(got.unwrap(), expected);
        assert_eq!(
            cache.aggregate(&state, &[101]).err(),
            Some(PubkeyError::UnknownValidator(101))
        );
    }

    #[test]
    fn invalid_key_is_an_error() {
        let mut state = BeaconState::<Minimal>::default();
        state.validators.push(Validator::default()).unwrap();
        let cache = PubkeyCache::from_state(&state);
        assert!(matches!(
            cache.get(&state, 0),
            Err(PubkeyError::Invalid(0, _))
        ));
        assert!(matches!(
            cache.aggregate(&state, &[0]),
            Err(PubkeyError::Invalid(0, _))
        ));
    }
}
