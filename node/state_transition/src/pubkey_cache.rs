//! [`PubkeyCache`]: validator index → decompressed BLS public key, and pubkey → validator index.
//!
//! Decompressing and subgroup-checking a public key costs tens of microseconds; a block carries
//! signatures by thousands of validators, and the spec's `validator_pubkeys.index(pubkey)` is an
//! O(n) scan. The cache holds, for a prefix `0..len` of the registry, each validator's compressed
//! key (for the reverse map and consistency checks) and its decompressed key, decompressed lazily
//! on first use (so that building the cache for a million validators only copies bytes).
//!
//! # Sharing between clones
//!
//! Clones share their storage: entries live in `Arc`'d fixed-size chunks of write-once slots,
//! so a key decompressed through one clone is decompressed for every clone (the verify stage and
//! the core hold clones of one cache), and a clone costs one `Arc` per chunk. Appending fills the
//! next free slots in place; a slot another clone already filled is reused if it holds the same
//! key, else (that clone followed another branch) the partial chunk is copied first. The reverse
//! map is a large shared base plus a small shared tail merged into the base once it grows, so
//! appends copy at most the tail, and a merge (a copy of the base if shared) happens only after
//! the tail grew by a fraction of the base.
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
use std::sync::{Arc, OnceLock};

/// From this many keys on, [`PubkeyCache::aggregate`] sums the two halves in parallel.
const PARALLEL_SUM_MIN_KEYS: usize = 8192;

/// Slots per chunk: a clone costs one `Arc` per chunk (245 at a million validators), and an
/// append that finds its partial chunk taken by another branch copies at most this many entries.
const CHUNK: usize = 4096;

/// The reverse map's tail is merged into its base once it holds more than this many keys or a
/// `1 / TAIL_BASE_FRACTION` share of the base, whichever is larger: a merge copies the base when
/// it is shared, so it must stay rare relative to the appends that pay for it.
const TAIL_MIN_KEYS: usize = 1024;
const TAIL_BASE_FRACTION: usize = 16;

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

/// `CHUNK` write-once slots. A slot is filled by the first clone that appends there; clones only
/// read the slots below their own `len`, which never change once filled.
#[derive(Debug)]
struct Chunk {
    slots: Box<[OnceLock<Entry>]>,
}

impl Chunk {
    fn empty() -> Self {
        Self {
            slots: (0..CHUNK).map(|_| OnceLock::new()).collect(),
        }
    }

    /// A private chunk holding a copy of `self`'s first `len` entries (their decompressed keys
    /// included), for a clone whose next slot another clone filled with a different key.
    fn fork(&self, len: usize) -> Self {
        let chunk = Self::empty();
        for (from, to) in self.slots.iter().zip(chunk.slots.iter()).take(len) {
            if let Some(entry) = from.get() {
                let _ = to.set(entry.clone());
            }
        }
        chunk
    }
}

/// Validator index → decompressed public key (lazily), and pubkey → index. See the module docs.
/// Clones share entries and decompressed keys.
#[derive(Debug, Clone, Default)]
pub struct PubkeyCache {
    chunks: Vec<Arc<Chunk>>,
    /// Number of validators covered: slots `0..len` across `chunks`.
    len: usize,
    /// The first index of each pubkey among the entries: keys in `base`, else in `tail`.
    base: Arc<HashMap<PublicKeyBytes, ValidatorIndex>>,
    tail: Arc<HashMap<PublicKeyBytes, ValidatorIndex>>,
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
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `self` and `other` are clones covering the same entries (so a holder of one need
    /// not replace it with the other). Cheap: one pointer comparison per chunk.
    pub fn shares_entries_with(&self, other: &Self) -> bool {
        self.len == other.len
            && self.chunks.len() == other.chunks.len()
            && self
                .chunks
                .iter()
                .zip(&other.chunks)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// Whether the key at `position` has been decompressed, by this cache or any clone.
    #[cfg(test)]
    fn is_decompressed(&self, position: usize) -> bool {
        self.entry(position)
            .is_some_and(|e| e.decompressed.get().is_some())
    }

    /// The entry at `position`, if covered.
    fn entry(&self, position: usize) -> Option<&Entry> {
        if position >= self.len {
            return None;
        }
        self.chunks
            .get(position / CHUNK)?
            .slots
            .get(position % CHUNK)?
            .get()
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
        self.base = Arc::default();
        self.tail = Arc::default();
    }

    /// Appends `bytes` as entry `self.len`, sharing the slot when another clone already appended
    /// the same key there.
    fn push(&mut self, bytes: PublicKeyBytes) {
        let (chunk_index, slot) = (self.len / CHUNK, self.len % CHUNK);
        if chunk_index == self.chunks.len() {
            self.chunks.push(Arc::new(Chunk::empty()));
        }
        let Some(chunk) = self.chunks.get_mut(chunk_index) else {
            // `len` and `chunks` agree by construction; refuse rather than corrupt if not.
            return;
        };
        let shared_ok = chunk
            .slots
            .get(slot)
            .is_some_and(|s| s.get_or_init(|| Entry::new(bytes)).bytes == bytes);
        if !shared_ok {
            let forked = Chunk::fork(chunk, slot);
            if let Some(s) = forked.slots.get(slot) {
                let _ = s.set(Entry::new(bytes));
            }
            *chunk = Arc::new(forked);
        }
        let index = self.len as u64;
        if !self.base.contains_key(&bytes) {
            Arc::make_mut(&mut self.tail).entry(bytes).or_insert(index);
        }
        self.len = self.len.saturating_add(1);
    }

    /// Folds the reverse map's tail into its base once the tail is large enough that the copy a
    /// shared base costs is amortized over many appends.
    fn maybe_merge_tail(&mut self) {
        let threshold = TAIL_MIN_KEYS.max(self.base.len() / TAIL_BASE_FRACTION);
        if self.tail.len() <= threshold {
            return;
        }
        let tail = std::mem::take(&mut self.tail);
        if self.base.is_empty() {
            // A cache built from scratch: the tail is the whole map, no need to rehash it.
            self.base = tail;
            return;
        }
        let base = Arc::make_mut(&mut self.base);
        match Arc::try_unwrap(tail) {
            Ok(tail) => base.extend(tail),
            Err(tail) => base.extend(tail.iter().map(|(k, v)| (*k, *v))),
        }
    }

    /// Brings the cache up to date with `state`'s registry: appends the validators it lacks
    /// (copying bytes only; decompression happens on first use). If the cache does not match the
    /// state (another branch's registry, or a longer one), it is rebuilt.
    pub fn update<P: Preset, S: PostElectraState<P>>(&mut self, state: &S) {
        let validators = state.validators();
        if !self.is_consistent_with(validators) {
            self.clear();
        }
        let start = self.len;
        if start >= validators.len() {
            return;
        }
        Arc::make_mut(&mut self.tail).reserve(validators.len().saturating_sub(start));
        if let Ok(iter) = validators.iter_from(start) {
            for validator in iter {
                self.push(validator.pubkey);
            }
        }
        self.maybe_merge_tail();
    }

    /// Whether every cached entry can belong to `validators`: not longer than the registry, and
    /// the last cached key is the registry's key at that index.
    fn is_consistent_with<N: keel_types::typenum::Unsigned>(
        &self,
        validators: &keel_types::milhouse::List<keel_types::electra::Validator, N>,
    ) -> bool {
        match self.len.checked_sub(1) {
            None => true,
            Some(last) => validators
                .get(last)
                .zip(self.entry(last))
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
        if let Some(entry) = self.entry(position)
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
        let consistent = self.is_consistent_with(validators);
        indices
            .iter()
            .map(|&index| {
                let position = to_usize(index).map_err(|_| PubkeyError::UnknownValidator(index))?;
                if let Some(entry) = self.entry(position).filter(|_| consistent) {
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
            self.len
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
                    .and_then(|p| self.entry(p))?;
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
        if let Some(&index) = self.base.get(pubkey).or_else(|| self.tail.get(pubkey)) {
            let matches = to_usize(index)
                .ok()
                .and_then(|i| validators.get(i))
                .is_some_and(|v| &v.pubkey == pubkey);
            return if matches { Some(index) } else { scan_all() };
        }
        // Not among the cached prefix; look at the validators added since.
        let start = self.len.min(validators.len());
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

    /// A registry entry with distinct, not necessarily valid, key bytes: enough for the index
    /// map and consistency checks, and much cheaper than deriving thousands of real keys.
    fn fake(tag: u8, i: usize) -> PublicKeyBytes {
        let mut bytes = [0u8; 48];
        bytes[0] = tag;
        bytes[1..9].copy_from_slice(&(i as u64).to_le_bytes());
        PublicKeyBytes(bytes)
    }

    fn push_fake(state: &mut BeaconState<Minimal>, tag: u8, i: usize) {
        let validator = Validator {
            pubkey: fake(tag, i),
            ..Validator::default()
        };
        state.validators.push(validator).unwrap();
    }

    #[test]
    fn clones_share_decompressed_keys() {
        let mut state = BeaconState::<Minimal>::default();
        for i in 0..4 {
            push(&mut state, i);
        }
        let core = PubkeyCache::from_state(&state);
        let verify = core.clone();
        assert!(!core.is_decompressed(1) && !verify.is_decompressed(1));
        assert_eq!(*verify.get(&state, 1).unwrap(), key(1));
        assert!(core.is_decompressed(1));
        assert!(!core.is_decompressed(2));
        core.aggregate(&state, &[2, 3]).unwrap();
        assert!(verify.is_decompressed(2) && verify.is_decompressed(3));

        // Appends after the clone land in the shared chunk, so a clone brought up to date the
        // same way shares the new keys too.
        let mut core = core;
        let mut verify = verify;
        push(&mut state, 4);
        core.update(&state);
        assert!(!verify.shares_entries_with(&core));
        verify.update(&state);
        assert!(verify.shares_entries_with(&core));
        assert_eq!(*core.get(&state, 4).unwrap(), key(4));
        assert!(verify.is_decompressed(4));
    }

    #[test]
    fn updates_across_chunks_and_branches_stay_consistent() {
        let mut state = BeaconState::<Minimal>::default();
        let first = CHUNK - 3;
        for i in 0..first {
            push_fake(&mut state, 1, i);
        }
        let mut a = PubkeyCache::from_state(&state);
        let mut b = a.clone();
        // A duplicate pubkey: the reverse map keeps the first index.
        push_fake(&mut state, 1, 7);
        for i in first + 1..CHUNK + 2 * TAIL_MIN_KEYS {
            push_fake(&mut state, 1, i);
        }
        a.update(&state);
        assert_eq!(a.len(), state.validators.len());
        assert_eq!(a.index_of(&state, &fake(1, 7)), Some(7));
        for i in (0..a.len())
            .step_by(97)
            .chain([first - 1, CHUNK, a.len() - 1])
        {
            if i != first {
                assert_eq!(a.index_of(&state, &fake(1, i)), Some(i as u64), "{i}");
            }
        }

        // `b` took another branch from the same prefix: its partial chunk is forked, and
        // neither clone sees the other's entries.
        let mut other = BeaconState::<Minimal>::default();
        for i in 0..first {
            push_fake(&mut other, 1, i);
        }
        for i in first..CHUNK + 10 {
            push_fake(&mut other, 2, i);
        }
        b.update(&other);
        assert_eq!(b.len(), other.validators.len());
        assert_eq!(b.index_of(&other, &fake(2, first)), Some(first as u64));
        assert_eq!(b.index_of(&other, &fake(1, first + 1)), None);
        assert_eq!(
            a.index_of(&state, &fake(1, first + 1)),
            Some(first as u64 + 1)
        );
        assert_eq!(a.index_of(&state, &fake(2, first)), None);
        assert_eq!(a.entry(first).unwrap().bytes, fake(1, 7));
        assert_eq!(b.entry(first).unwrap().bytes, fake(2, first));

        // `a` handed the other branch is not trusted and is rebuilt to match it.
        assert_eq!(a.index_of(&other, &fake(2, CHUNK)), Some(CHUNK as u64));
        a.update(&other);
        assert_eq!(a.len(), other.validators.len());
        assert_eq!(a.index_of(&other, &fake(2, first)), Some(first as u64));
        assert_eq!(a.index_of(&other, &fake(1, 3)), Some(3));
    }
}
