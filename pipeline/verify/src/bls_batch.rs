//! BLS verification of many messages at once.
//!
//! Each message brings one or more signature sets and is valid when all of them verify. The
//! batch is split by signing root: sets over the same root (attestations of one committee and
//! data, sync messages for one block root) are checked with
//! [`verify_signature_sets_same_message`] — two multi-scalar multiplications and one pairing
//! check however many there are — and the rest together with [`verify_signature_sets`]. A group
//! that fails is bisected until the bad sets are isolated, so a poisoned batch costs
//! `O(bad · log n)` extra checks and every good message still gets through.

use keel_crypto::bls::{SignatureSet, verify_signature_sets, verify_signature_sets_same_message};
use keel_types::Hash256;
use rand::CryptoRng;
use std::collections::HashMap;

/// Metric names.
pub mod metric {
    pub const SETS: &str = "keel_bls_batch_sets_total";
    pub const CHECKS: &str = "keel_bls_batch_checks_total";
    pub const INVALID: &str = "keel_bls_batch_invalid_sets_total";
}

/// One message's sets, with whatever the caller wants back.
pub struct BatchItem<'a, T> {
    pub item: T,
    pub sets: Vec<SignatureSet<'a>>,
}

/// How much work a batch took.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    pub sets: usize,
    /// Same-message groups (two or more sets over one root).
    pub same_message_groups: usize,
    /// Verification calls, including those of bisection.
    pub checks: usize,
    pub invalid_sets: usize,
}

/// Sets that are verified together, with the item each came from.
struct Group<'a> {
    same_message: bool,
    sets: Vec<SignatureSet<'a>>,
    owners: Vec<usize>,
}

/// Verifies every item's sets; returns each item with whether all its sets verified, in the
/// input order. An item without sets has nothing to disprove and is returned as valid: callers
/// build at least one set for anything signed.
pub fn verify_batch<'a, T, R: CryptoRng + ?Sized>(
    items: Vec<BatchItem<'a, T>>,
    rng: &mut R,
) -> (Vec<(T, bool)>, BatchStats) {
    let mut stats = BatchStats::default();
    let mut by_root: HashMap<Hash256, Group<'a>> = HashMap::new();
    let mut results = Vec::with_capacity(items.len());
    for (owner, BatchItem { item, sets }) in items.into_iter().enumerate() {
        results.push((item, true));
        for set in sets {
            stats.sets += 1;
            let group = by_root.entry(*set.message()).or_insert_with(|| Group {
                same_message: true,
                sets: Vec::new(),
                owners: Vec::new(),
            });
            group.sets.push(set);
            group.owners.push(owner);
        }
    }

    // Roots with a single set are pooled into one distinct-message group.
    let mut distinct = Group {
        same_message: false,
        sets: Vec::new(),
        owners: Vec::new(),
    };
    let mut groups = Vec::new();
    let mut roots: Vec<Hash256> = by_root.keys().copied().collect();
    // A fixed order keeps the random scalars' use, and so the work done, reproducible.
    roots.sort_unstable();
    for root in roots {
        let Some(group) = by_root.remove(&root) else {
            continue;
        };
        if group.sets.len() >= 2 {
            stats.same_message_groups += 1;
            groups.push(group);
        } else {
            distinct.sets.extend(group.sets);
            distinct.owners.extend(group.owners);
        }
    }
    if !distinct.sets.is_empty() {
        groups.push(distinct);
    }

    for group in &groups {
        let mut valid = vec![true; group.sets.len()];
        check(group.same_message, &group.sets, &mut valid, rng, &mut stats);
        for (owner, ok) in group.owners.iter().zip(valid) {
            if !ok && let Some(result) = results.get_mut(*owner) {
                result.1 = false;
            }
        }
    }
    metrics::counter!(metric::SETS).increment(stats.sets as u64);
    metrics::counter!(metric::CHECKS).increment(stats.checks as u64);
    metrics::counter!(metric::INVALID).increment(stats.invalid_sets as u64);
    (results, stats)
}

/// Marks in `valid` the sets of `sets` that fail, bisecting a failing slice.
fn check<R: CryptoRng + ?Sized>(
    same_message: bool,
    sets: &[SignatureSet<'_>],
    valid: &mut [bool],
    rng: &mut R,
    stats: &mut BatchStats,
) {
    if sets.is_empty() {
        return;
    }
    stats.checks += 1;
    let ok = match sets {
        [only] => only.verify(),
        _ if same_message => verify_signature_sets_same_message(sets, rng),
        _ => verify_signature_sets(sets, rng),
    };
    if ok {
        return;
    }
    if let ([_], [flag]) = (sets, &mut *valid) {
        *flag = false;
        stats.invalid_sets += 1;
        return;
    }
    let mid = sets.len() / 2;
    let (left_sets, right_sets) = sets.split_at(mid);
    let (left_valid, right_valid) = valid.split_at_mut(mid);
    check(same_message, left_sets, left_valid, rng, stats);
    check(same_message, right_sets, right_valid, rng, stats);
}
