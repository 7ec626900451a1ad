//! Turning req/resp answers into blocks, and checking that an answer is what was asked.

use keel_config::ChainConfig;
use keel_p2p::Chunk;
use keel_types::{ForkName, Hash256, Preset, SignedBeaconBlock, Slot};
use std::sync::Arc;

/// An answer that is not what was asked: the peer is to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseFault {
    #[error("context bytes {0:02x?} are no fork digest of this chain")]
    UnknownContext([u8; 4]),
    #[error("a {fork} block does not decode: {reason}")]
    Undecodable { fork: &'static str, reason: String },
    #[error("context bytes {context:02x?} do not match the digest {expected:02x?} of slot {slot}")]
    WrongContext {
        context: [u8; 4],
        expected: [u8; 4],
        slot: Slot,
    },
    #[error("slot {slot} is outside the requested {start}..{end}")]
    OutOfRange { slot: Slot, start: Slot, end: Slot },
    #[error("slots do not increase ({previous} then {slot})")]
    NotAscending { previous: Slot, slot: Slot },
    #[error("block {0} was not requested")]
    NotRequested(Hash256),
    #[error("{0} blocks where at most {1} were asked for")]
    TooMany(usize, u64),
    #[error("an error response: {0}")]
    ErrorResponse(String),
}

/// The fork digests a chain has used or will use, so that a response chunk's context bytes
/// name the fork to decode its SSZ with. Fulu's digests change with each blob schedule entry,
/// so the table holds one row per digest, not per fork.
#[derive(Debug, Clone)]
pub struct ContextTable {
    config: Arc<ChainConfig>,
    genesis_validators_root: Hash256,
    rows: Vec<([u8; 4], ForkName)>,
}

impl ContextTable {
    pub fn new(config: Arc<ChainConfig>, genesis_validators_root: Hash256) -> Self {
        let mut epochs: Vec<u64> = ForkName::ALL
            .iter()
            .map(|fork| config.fork_epoch(*fork))
            .chain(config.blob_schedule.iter().map(|entry| entry.epoch))
            .filter(|epoch| *epoch != u64::MAX)
            .collect();
        epochs.sort_unstable();
        epochs.dedup();
        let rows = epochs
            .into_iter()
            .map(|epoch| {
                (
                    config.compute_fork_digest(genesis_validators_root, epoch),
                    config.fork_at_epoch(epoch),
                )
            })
            .collect();
        Self {
            config,
            genesis_validators_root,
            rows,
        }
    }

    fn fork_of(&self, context: [u8; 4]) -> Option<ForkName> {
        self.rows
            .iter()
            .find(|(digest, _)| *digest == context)
            .map(|(_, fork)| *fork)
    }

    /// Decodes one success chunk, checking that its context bytes are the digest of the
    /// block's own epoch.
    pub fn decode<P: Preset>(
        &self,
        context: [u8; 4],
        ssz: &[u8],
    ) -> Result<Arc<SignedBeaconBlock<P>>, ResponseFault> {
        let fork = self
            .fork_of(context)
            .ok_or(ResponseFault::UnknownContext(context))?;
        let block = SignedBeaconBlock::<P>::from_ssz_bytes_for_fork(ssz, fork).map_err(|e| {
            ResponseFault::Undecodable {
                fork: fork.as_str(),
                reason: format!("{e:?}"),
            }
        })?;
        let slot = block.slot();
        let expected = self
            .config
            .compute_fork_digest(self.genesis_validators_root, slot / P::slots_per_epoch());
        if expected != context {
            return Err(ResponseFault::WrongContext {
                context,
                expected,
                slot,
            });
        }
        Ok(Arc::new(block))
    }

    /// The blocks of a `BeaconBlocksByRange` answer for `start..start + count`: in range, in
    /// increasing slot order, no more than asked.
    pub fn decode_range<P: Preset>(
        &self,
        chunks: &[Chunk],
        start: Slot,
        count: u64,
    ) -> Result<Vec<Arc<SignedBeaconBlock<P>>>, ResponseFault> {
        let end = start.saturating_add(count);
        let blocks = self.decode_all::<P>(chunks, count)?;
        let mut previous: Option<Slot> = None;
        for block in &blocks {
            let slot = block.slot();
            if slot < start || slot >= end {
                return Err(ResponseFault::OutOfRange { slot, start, end });
            }
            if let Some(previous) = previous
                && slot <= previous
            {
                return Err(ResponseFault::NotAscending { previous, slot });
            }
            previous = Some(slot);
        }
        Ok(blocks)
    }

    /// The blocks of a `BeaconBlocksByRoot` answer, each one of `roots`.
    pub fn decode_roots<P: Preset>(
        &self,
        chunks: &[Chunk],
        roots: &[Hash256],
    ) -> Result<Vec<Arc<SignedBeaconBlock<P>>>, ResponseFault> {
        let blocks = self.decode_all::<P>(chunks, roots.len() as u64)?;
        for block in &blocks {
            let root = block.canonical_root();
            if !roots.contains(&root) {
                return Err(ResponseFault::NotRequested(root));
            }
        }
        Ok(blocks)
    }

    fn decode_all<P: Preset>(
        &self,
        chunks: &[Chunk],
        limit: u64,
    ) -> Result<Vec<Arc<SignedBeaconBlock<P>>>, ResponseFault> {
        let mut blocks = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            match chunk {
                Chunk::Success { context, ssz } => blocks.push(self.decode::<P>(*context, ssz)?),
                // A peer may end a range early with an error (e.g. ResourceUnavailable): what
                // came before stands, but an answer that is only an error is a failure.
                Chunk::Error { code, message } => {
                    if blocks.is_empty() {
                        return Err(ResponseFault::ErrorResponse(format!("{code:?}: {message}")));
                    }
                    break;
                }
            }
        }
        if blocks.len() as u64 > limit {
            return Err(ResponseFault::TooMany(blocks.len(), limit));
        }
        Ok(blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_types::Minimal;

    fn block(slot: Slot) -> SignedBeaconBlock<Minimal> {
        let mut block = SignedBeaconBlock::<Minimal>::default_for_fork(ForkName::Fulu);
        if let SignedBeaconBlock::Fulu(b) = &mut block {
            b.message.slot = slot;
        }
        block
    }

    fn table() -> (ContextTable, Arc<ChainConfig>) {
        let config = Arc::new(ChainConfig::dev(1000));
        (
            ContextTable::new(Arc::clone(&config), Hash256::repeat_byte(7)),
            config,
        )
    }

    fn chunk(table: &ContextTable, slot: Slot) -> Chunk {
        Chunk::Success {
            context: table
                .config
                .compute_fork_digest(table.genesis_validators_root, slot / 8),
            ssz: block(slot).as_ssz_bytes(),
        }
    }

    #[test]
    fn a_range_answer_decodes_in_order() {
        let (table, _) = table();
        let chunks = [chunk(&table, 3), chunk(&table, 5)];
        let blocks = table.decode_range::<Minimal>(&chunks, 0, 8).unwrap();
        assert_eq!(blocks.iter().map(|b| b.slot()).collect::<Vec<_>>(), [3, 5]);
    }

    #[test]
    fn answers_that_were_not_asked_are_faults() {
        let (table, _) = table();
        let out_of_range = [chunk(&table, 9)];
        assert!(matches!(
            table.decode_range::<Minimal>(&out_of_range, 0, 8),
            Err(ResponseFault::OutOfRange { slot: 9, .. })
        ));
        let descending = [chunk(&table, 5), chunk(&table, 3)];
        assert!(matches!(
            table.decode_range::<Minimal>(&descending, 0, 8),
            Err(ResponseFault::NotAscending { .. })
        ));
        let too_many = [chunk(&table, 1), chunk(&table, 2)];
        assert!(matches!(
            table.decode_range::<Minimal>(&too_many, 1, 1),
            Err(ResponseFault::OutOfRange { .. }) | Err(ResponseFault::TooMany(..))
        ));
        let unrequested = [chunk(&table, 1)];
        assert!(matches!(
            table.decode_roots::<Minimal>(&unrequested, &[Hash256::ZERO]),
            Err(ResponseFault::NotRequested(_))
        ));
    }

    #[test]
    fn bad_context_or_bytes_are_faults() {
        let (table, _) = table();
        let garbage = [Chunk::Success {
            context: [0xde, 0xad, 0xbe, 0xef],
            ssz: block(1).as_ssz_bytes(),
        }];
        assert!(matches!(
            table.decode_range::<Minimal>(&garbage, 0, 8),
            Err(ResponseFault::UnknownContext(_))
        ));
        let Chunk::Success { context, .. } = chunk(&table, 1) else {
            unreachable!()
        };
        let truncated = [Chunk::Success {
            context,
            ssz: vec![1, 2, 3],
        }];
        assert!(matches!(
            table.decode_range::<Minimal>(&truncated, 0, 8),
            Err(ResponseFault::Undecodable { .. })
        ));
    }

    #[test]
    fn an_error_after_blocks_ends_the_answer() {
        let (table, _) = table();
        let chunks = [
            chunk(&table, 2),
            Chunk::Error {
                code: keel_p2p::ResponseCode::ResourceUnavailable,
                message: "pruned".into(),
            },
        ];
        assert_eq!(
            table.decode_range::<Minimal>(&chunks, 0, 8).unwrap().len(),
            1
        );
        assert!(matches!(
            table.decode_range::<Minimal>(&chunks[1..], 0, 8),
            Err(ResponseFault::ErrorResponse(_))
        ));
    }
}
