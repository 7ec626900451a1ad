//! Swap-or-not shuffling (`compute_shuffled_index`, `compute_shuffled_permutation`).
//!
//! `compute_shuffled_index` follows one index through every round, as the spec writes it.
//! `shuffle_list` permutes a whole list in one pass per round: each round of swap-or-not is an
//! involution made of disjoint swaps `x ↔ pivot - x (mod n)`, decided by the bit of the larger
//! position, so a round can be applied to the list by walking the two mirrored halves once, with
//! one hash per 256 positions. Applying rounds from last to first yields
//! `out[i] = input[compute_shuffled_index(i)]`, which is what `compute_committee` needs.

use ethereum_hashing::hash_fixed;
use keel_types::Hash256;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ShufflingError {
    #[error("index {index} out of range for a list of {count}")]
    IndexOutOfRange { index: u64, count: u64 },
    #[error("cannot shuffle {count} items: at most 2^32 positions fit the bucket encoding")]
    ListTooLong { count: u64 },
}

const SEED_LEN: usize = 32;
/// seed ‖ round ‖ position bucket (4 bytes, little-endian).
const SOURCE_INPUT_LEN: usize = SEED_LEN + 1 + 4;

fn pivot(seed: &Hash256, round: u8, index_count: u64) -> u64 {
    let mut input = [0u8; SEED_LEN + 1];
    input[..SEED_LEN].copy_from_slice(seed.as_slice());
    input[SEED_LEN] = round;
    let digest = hash_fixed(&input);
    let mut first8 = [0u8; 8];
    first8.copy_from_slice(&digest[..8]);
    // Callers guarantee index_count > 0.
    u64::from_le_bytes(first8)
        .checked_rem(index_count)
        .unwrap_or(0)
}

/// The hash whose bits decide the swaps for positions `256 * bucket .. 256 * (bucket + 1)`.
fn source(seed: &Hash256, round: u8, bucket: u32) -> [u8; 32] {
    let mut input = [0u8; SOURCE_INPUT_LEN];
    input[..SEED_LEN].copy_from_slice(seed.as_slice());
    input[SEED_LEN] = round;
    input[SEED_LEN + 1..].copy_from_slice(&bucket.to_le_bytes());
    hash_fixed(&input)
}

fn bit_at(source: &[u8; 32], position: u64) -> bool {
    // (position % 256) / 8 < 32: the lookup cannot miss, and the compiler drops the check.
    let byte = source
        .get(((position % 256) / 8) as usize)
        .copied()
        .unwrap_or(0);
    (byte >> (position % 8)) & 1 == 1
}

/// Swaps `list[i] ↔ list[j]` for `i` rising from `lo` and `j` falling from `hi` while `i < j`,
/// where the bit of position `j` (the larger of the pair) is set. `j` is walked one bucket of 256
/// positions at a time so that each source hash is computed once.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
// Callers pass hi < list.len() ≤ 2^32. Each step takes k ≥ 1 pairs with 2k ≤ j - i + 1, so the
// left run [i, i + k) ends before the right run [j + 1 - k, j] starts, and j ≥ bucket_start.
fn mirror_swaps<T: Copy>(list: &mut [T], lo: u64, hi: u64, seed: &Hash256, round: u8) {
    let (mut i, mut j) = (lo as usize, hi as usize);
    while i < j {
        let bucket = j / 256;
        let source = source(seed, round, bucket as u32);
        let k = (j - bucket * 256 + 1).min((j - i).div_ceil(2));
        let (head, tail) = list.split_at_mut(j + 1 - k);
        let left = &mut head[i..i + k];
        let right = &mut tail[..k];
        for (t, (a, b)) in left.iter_mut().zip(right.iter_mut().rev()).enumerate() {
            // Branch-free select: the bit is a coin flip, so a branch would mispredict half the time.
            let swap = bit_at(&source, (j - t) as u64);
            let (x, y) = (*a, *b);
            *a = if swap { y } else { x };
            *b = if swap { x } else { y };
        }
        i += k;
        j -= k;
    }
}

/// The spec's `compute_shuffled_index`: where `index` lands after `rounds` rounds of
/// swap-or-not with `seed`.
pub fn compute_shuffled_index(
    index: u64,
    index_count: u64,
    seed: &Hash256,
    rounds: u8,
) -> Result<u64, ShufflingError> {
    ShuffledIndex::new(index_count, seed, rounds)?.get(index)
}

/// `compute_shuffled_index` for many indices of one `(index_count, seed)`: the round pivots
/// (one hash each) are computed once instead of once per index, which halves the hashing of
/// the spec's effective-balance sampling loops (proposers, sync committees).
#[derive(Debug, Clone)]
pub struct ShuffledIndex<'s> {
    seed: &'s Hash256,
    index_count: u64,
    pivots: Vec<u64>,
}

impl<'s> ShuffledIndex<'s> {
    /// Errors if `index_count > 2^32` (the bucket encoding's limit).
    pub fn new(index_count: u64, seed: &'s Hash256, rounds: u8) -> Result<Self, ShufflingError> {
        if index_count > 1 << 32 {
            return Err(ShufflingError::ListTooLong { count: index_count });
        }
        let pivots = if index_count == 0 {
            Vec::new()
        } else {
            (0..rounds)
                .map(|round| pivot(seed, round, index_count))
                .collect()
        };
        Ok(Self {
            seed,
            index_count,
            pivots,
        })
    }

    /// `compute_shuffled_index(index, index_count, seed, rounds)`.
    #[allow(clippy::arithmetic_side_effects)]
    // index < index_count ≤ 2^32 (checked), so `pivot + index_count - index` and the bucket
    // cast cannot overflow.
    pub fn get(&self, index: u64) -> Result<u64, ShufflingError> {
        let index_count = self.index_count;
        if index >= index_count {
            return Err(ShufflingError::IndexOutOfRange {
                index,
                count: index_count,
            });
        }
        let mut index = index;
        for (round, &pivot) in (0u8..).zip(&self.pivots) {
            let flip = (pivot + index_count - index) % index_count;
            let position = index.max(flip);
            let source = source(self.seed, round, (position / 256) as u32);
            if bit_at(&source, position) {
                index = flip;
            }
        }
        Ok(index)
    }
}

/// Shuffles `list` in place so that afterwards `list[i]` holds what was at
/// `compute_shuffled_index(i, len, seed, rounds)`.
///
/// With `list = [0, 1, .., n-1]` this is the spec's `compute_shuffled_permutation`.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
// n ≤ 2^32 (checked); every position used is < n, so `swap` and the bucket cast are in range and
// `pivot + n - i` cannot overflow a u64.
pub fn shuffle_list<T: Copy>(
    list: &mut [T],
    seed: &Hash256,
    rounds: u8,
) -> Result<(), ShufflingError> {
    let n = list.len() as u64;
    if n > 1 << 32 {
        return Err(ShufflingError::ListTooLong { count: n });
    }
    if n <= 1 {
        return Ok(());
    }
    for round in (0..rounds).rev() {
        let pivot = pivot(seed, round, n);
        // Pairs inside [0, pivot]: i ↔ pivot - i; pairs inside [pivot + 1, n - 1]: i ↔ pivot + n - i.
        mirror_swaps(list, 0, pivot, seed, round);
        mirror_swaps(list, pivot + 1, n - 1, seed, round);
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn whole_list_agrees_with_single_index(
            seed in any::<[u8; 32]>(), n in 0u64..600, rounds in 0u8..20,
        ) {
            let seed = Hash256::from(seed);
            let mut list: Vec<u64> = (0..n).collect();
            shuffle_list(&mut list, &seed, rounds).unwrap();
            for (i, v) in list.iter().enumerate() {
                prop_assert_eq!(*v, compute_shuffled_index(i as u64, n, &seed, rounds).unwrap());
            }
        }
    }

    #[test]
    fn out_of_range_index_is_an_error() {
        assert_eq!(
            compute_shuffled_index(5, 5, &Hash256::ZERO, 90),
            Err(ShufflingError::IndexOutOfRange { index: 5, count: 5 })
        );
    }
}
