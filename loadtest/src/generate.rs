//! Signing the load: every gossip message of the run, made and signed before the timed phase
//! and cached on disk.
//!
//! Attestations and aggregates vote for the anchor block (target: the anchor block too), so that
//! what they sign does not depend on the genesis time. The genesis time has to be chosen at run
//! time to put the wall clock at the right slot (the verify stage reads the system clock), and
//! everything else signed here depends only on the anchor state's registry, shuffling and
//! `genesis_validators_root`; so the cache stays valid from run to run. Blocks do depend on the
//! genesis time (payload timestamp, state root) and are produced at run time, see
//! [`produce_blocks`].

use crate::LoadError;
use keel_config::ChainConfig;
use keel_config::constants::{
    DOMAIN_AGGREGATE_AND_PROOF, DOMAIN_BEACON_ATTESTER, DOMAIN_SELECTION_PROOF,
};
use keel_config::signing::compute_signing_root;
use keel_crypto::bls::{AggregateSignature, SecretKey, Signature, interop_secret_key};
use keel_state_transition::Caches;
use keel_state_transition::accessors::{compute_epoch_at_slot, get_domain};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_types::electra::{
    AggregateAndProof, Attestation, AttestationData, SignedAggregateAndProof, SignedBeaconBlock,
    SingleAttestation,
};
use keel_types::phase0::Checkpoint;
use keel_types::ssz::Encode;
use keel_types::ssz_types::{BitList, BitVector};
use keel_types::tree_hash::TreeHash;
use keel_types::{Hash256, Mainnet, Preset, SignatureBytes, Slot, deneb, fulu};
use keel_validator::BlockContents;
use keel_validator::produce::{payload_request, produce_block, proposer_index, state_at_slot};
use keel_verify::gossip::{compute_subnet_for_attestation, is_aggregator};
use rayon::prelude::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub type P = Mainnet;
pub type State = fulu::BeaconState<P>;

/// Bumped whenever what is generated changes, so that stale caches are not reused.
const CACHE_VERSION: u32 = 1;
const MAGIC: &[u8; 4] = b"KLT1";

/// What a generated message is, for the profiles and the accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    /// A valid single attestation.
    Single = 0,
    /// A valid aggregate-and-proof.
    Aggregate = 1,
    /// A single attestation whose signature is another committee member's (a valid point, the
    /// wrong key): it passes every rule but BLS and poisons the batch it lands in.
    BadSignature = 2,
    /// A single attestation voting for, and targeting, a block nobody has: needs a state the
    /// snapshot does not hold.
    UnknownRoot = 3,
    /// A single attestation two epochs old.
    OldRoot = 4,
    /// A valid block (made at run time, never cached).
    Block = 5,
    /// A second copy of a valid single attestation (made at run time from the cache).
    Duplicate = 6,
}

impl Tag {
    fn from_u8(v: u8) -> Option<Tag> {
        Some(match v {
            0 => Tag::Single,
            1 => Tag::Aggregate,
            2 => Tag::BadSignature,
            3 => Tag::UnknownRoot,
            4 => Tag::OldRoot,
            5 => Tag::Block,
            6 => Tag::Duplicate,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Tag::Single => "single_attestation",
            Tag::Aggregate => "aggregate",
            Tag::BadSignature => "bad_signature",
            Tag::UnknownRoot => "unknown_root",
            Tag::OldRoot => "old_root",
            Tag::Block => "block",
            Tag::Duplicate => "duplicate",
        }
    }

    /// Whether the pipeline must accept it.
    pub fn valid(self) -> bool {
        matches!(self, Tag::Single | Tag::Aggregate | Tag::Block)
    }
}

/// One signed message: SSZ, not yet compressed.
#[derive(Debug, Clone)]
pub struct Message {
    pub tag: Tag,
    pub slot: Slot,
    /// The attestation subnet (single attestations only).
    pub subnet: u64,
    pub ssz: Vec<u8>,
}

/// Everything signed for slots `first_slot..first_slot + slots`.
pub struct Signed {
    pub messages: Vec<Message>,
    /// Per slot: the sum of every valid single attestation's signature, for the next block's
    /// on-chain aggregate.
    pub slot_aggregates: Vec<(Slot, SignatureBytes)>,
}

/// The attestation data of `slot` (voting for the anchor), given the source the state of that
/// epoch has.
fn attestation_data(slot: Slot, anchor_root: Hash256, source: Checkpoint) -> AttestationData {
    AttestationData {
        slot,
        index: 0,
        beacon_block_root: anchor_root,
        source,
        target: Checkpoint {
            epoch: compute_epoch_at_slot::<P>(slot),
            root: anchor_root,
        },
    }
}

/// The state whose justified checkpoint attestations of `epoch` name as their source, and whose
/// shuffling is the epoch's: the anchor state, advanced to `epoch` if it is later.
pub fn epoch_state(
    anchor: &State,
    epoch: u64,
    config: &ChainConfig,
    caches: &mut Caches,
) -> Result<State, LoadError> {
    let start = epoch.saturating_mul(P::slots_per_epoch());
    state_at_slot(anchor, start.max(anchor.slot), config, caches)
        .map_err(|e| LoadError::Generate(format!("advancing to epoch {epoch}: {e}")))
}

fn key(index: u64) -> SecretKey {
    interop_secret_key(index).expect("interop keys exist for every u64 index")
}

/// Deterministic pseudo-randomness for the generated load (splitmix64 of the inputs).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut fill = keel_benches::Fill::new(a.wrapping_mul(0x1000_0000_01b3) ^ b);
    fill.next_u64()
}

/// Signs every message of `slots` slots after the anchor state's slot.
pub fn sign_all(
    anchor: &State,
    anchor_root: Hash256,
    slots: u64,
    config: &ChainConfig,
) -> Result<Signed, LoadError> {
    let mut caches = Caches::new();
    let first_slot = anchor.slot + 1;
    let mut messages = Vec::new();
    let mut slot_aggregates = Vec::new();
    let mut states: Vec<(u64, State)> = Vec::new();
    for slot in first_slot..first_slot + slots {
        let started = Instant::now();
        let epoch = compute_epoch_at_slot::<P>(slot);
        if !states.iter().any(|(e, _)| *e == epoch) {
            let state = epoch_state(anchor, epoch, config, &mut caches)?;
            states.push((epoch, state));
        }
        let state = &states
            .iter()
            .find(|(e, _)| *e == epoch)
            .expect("just inserted")
            .1;
        let committees = caches
            .committee_cache(state, epoch)
            .map_err(|e| LoadError::Generate(format!("committees of epoch {epoch}: {e}")))?;
        let cps = committees.committees_per_slot();
        let data = attestation_data(slot, anchor_root, state.current_justified_checkpoint);
        let attester_root = compute_signing_root(
            &data,
            get_domain(state, DOMAIN_BEACON_ATTESTER, Some(epoch)),
        );
        let selection_root = compute_signing_root(
            &slot,
            get_domain(state, DOMAIN_SELECTION_PROOF, Some(epoch)),
        );
        let proof_domain = get_domain(state, DOMAIN_AGGREGATE_AND_PROOF, Some(epoch));
        let mut slot_sum = AggregateSignature::infinity();
        let mut count = 0usize;
        for committee_index in 0..cps {
            let committee: Vec<u64> = committees
                .get_beacon_committee(slot, committee_index)
                .map_err(|e| LoadError::Generate(format!("committee: {e}")))?
                .to_vec();
            let subnet = compute_subnet_for_attestation::<P>(
                cps,
                slot,
                committee_index,
                config.attestation_subnet_count,
            );
            // Every member's attestation and selection proof.
            let signed: Vec<(Signature, SignatureBytes)> = committee
                .par_iter()
                .map(|&v| {
                    let sk = key(v);
                    (
                        sk.sign(attester_root.as_slice()),
                        sk.sign(selection_root.as_slice()).to_bytes(),
                    )
                })
                .collect();
            count += committee.len();
            for (position, &validator) in committee.iter().enumerate() {
                let (signature, _) = &signed[position];
                slot_sum.add(signature);
                let single = SingleAttestation {
                    committee_index,
                    attester_index: validator,
                    data,
                    signature: signature.to_bytes(),
                };
                messages.push(Message {
                    tag: Tag::Single,
                    slot,
                    subnet,
                    ssz: single.as_ssz_bytes(),
                });
                // The adversarial extras, for ~11% of attesters.
                let roll = mix(slot, validator) % 100;
                let extra = match roll {
                    0..7 => {
                        let other = &signed[(position + 1) % signed.len()].0;
                        Some((
                            Tag::BadSignature,
                            SingleAttestation {
                                signature: other.to_bytes(),
                                ..single
                            },
                        ))
                    }
                    7..9 => {
                        let unknown =
                            Hash256::from(keel_benches::Fill::new(roll ^ validator).bytes::<32>());
                        let mut bad = data;
                        bad.beacon_block_root = unknown;
                        bad.target.root = unknown;
                        Some((
                            Tag::UnknownRoot,
                            SingleAttestation {
                                data: bad,
                                ..single
                            },
                        ))
                    }
                    9..11 => {
                        let mut old = data;
                        old.slot = slot.saturating_sub(2 * P::slots_per_epoch());
                        old.target.epoch = compute_epoch_at_slot::<P>(old.slot);
                        Some((
                            Tag::OldRoot,
                            SingleAttestation {
                                data: old,
                                ..single
                            },
                        ))
                    }
                    _ => None,
                };
                if let Some((tag, message)) = extra {
                    messages.push(Message {
                        tag,
                        slot,
                        subnet,
                        ssz: message.as_ssz_bytes(),
                    });
                }
            }
            // Aggregators: members whose selection proof selects them. Each aggregates a
            // slightly different ~95% of the committee, as aggregators' views differ.
            let aggregates: Vec<Vec<u8>> = committee
                .par_iter()
                .enumerate()
                .filter(|(position, _)| is_aggregator(committee.len(), &signed[*position].1))
                .map(|(position, &aggregator)| {
                    let mut bits =
                        BitList::with_capacity(committee.len()).expect("committee fits the bits");
                    let mut signature = AggregateSignature::infinity();
                    for (i, &member) in committee.iter().enumerate() {
                        if i == position || !mix(aggregator, member).is_multiple_of(20) {
                            bits.set(i, true).expect("position within the committee");
                            signature.add(&signed[i].0);
                        }
                    }
                    let mut committee_bits = BitVector::new();
                    committee_bits
                        .set(committee_index as usize, true)
                        .expect("committee index within MAX_COMMITTEES_PER_SLOT");
                    let message = AggregateAndProof {
                        aggregator_index: aggregator,
                        aggregate: Attestation::<P> {
                            aggregation_bits: bits,
                            data,
                            signature: signature.to_bytes(),
                            committee_bits,
                        },
                        selection_proof: signed[position].1,
                    };
                    let signature = key(aggregator)
                        .sign(compute_signing_root(&message, proof_domain).as_slice())
                        .to_bytes();
                    SignedAggregateAndProof { message, signature }.as_ssz_bytes()
                })
                .collect();
            messages.extend(aggregates.into_iter().map(|ssz| Message {
                tag: Tag::Aggregate,
                slot,
                subnet: 0,
                ssz,
            }));
        }
        slot_aggregates.push((slot, slot_sum.to_bytes()));
        eprintln!(
            "  signed slot {slot}: {count} attestations, their selection proofs and aggregates in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Signed {
        messages,
        slot_aggregates,
    })
}

/// Where signed messages are cached for this validator count and slot range.
pub fn cache_path(dir: &Path, validators: usize, first_slot: Slot, slots: u64) -> PathBuf {
    dir.join(format!(
        "signed-{validators}-slot{first_slot}-{slots}-v{CACHE_VERSION}.bin"
    ))
}

pub fn write_cache(path: &Path, signed: &Signed) -> Result<(), LoadError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LoadError::Io(dir.to_path_buf(), e))?;
    }
    let tmp = path.with_extension("tmp");
    let file = std::fs::File::create(&tmp).map_err(|e| LoadError::Io(tmp.clone(), e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut write = |bytes: &[u8]| out.write_all(bytes);
    let result = (|| -> std::io::Result<()> {
        write(MAGIC)?;
        write(&(signed.slot_aggregates.len() as u64).to_le_bytes())?;
        for (slot, signature) in &signed.slot_aggregates {
            write(&slot.to_le_bytes())?;
            write(signature.as_ref())?;
        }
        write(&(signed.messages.len() as u64).to_le_bytes())?;
        for m in &signed.messages {
            write(&[m.tag as u8])?;
            write(&m.slot.to_le_bytes())?;
            write(&m.subnet.to_le_bytes())?;
            write(&(m.ssz.len() as u64).to_le_bytes())?;
            write(&m.ssz)?;
        }
        Ok(())
    })();
    result
        .and_then(|()| out.flush())
        .map_err(|e| LoadError::Io(tmp.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| LoadError::Io(path.to_path_buf(), e))
}

/// The cached messages, or `None` if the file is missing or not a complete cache.
pub fn read_cache(path: &Path) -> Option<Signed> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let mut cursor = bytes.as_slice();
    let mut take = |n: usize| -> Option<&[u8]> {
        if cursor.len() < n {
            return None;
        }
        let (head, rest) = cursor.split_at(n);
        cursor = rest;
        Some(head)
    };
    let u64_of = |b: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(b.try_into().ok()?)) };
    if take(4)? != MAGIC {
        return None;
    }
    let aggregates = u64_of(take(8)?)?;
    let mut slot_aggregates = Vec::new();
    for _ in 0..aggregates {
        let slot = u64_of(take(8)?)?;
        let bytes: [u8; 96] = take(96)?.try_into().ok()?;
        let signature = SignatureBytes::from(bytes);
        slot_aggregates.push((slot, signature));
    }
    let count = u64_of(take(8)?)?;
    let mut messages = Vec::with_capacity(usize::try_from(count).ok()?.min(1 << 24));
    for _ in 0..count {
        let tag = Tag::from_u8(*take(1)?.first()?)?;
        let slot = u64_of(take(8)?)?;
        let subnet = u64_of(take(8)?)?;
        let len = usize::try_from(u64_of(take(8)?)?).ok()?;
        let ssz = take(len)?.to_vec();
        messages.push(Message {
            tag,
            slot,
            subnet,
            ssz,
        });
    }
    take(1).is_none().then_some(Signed {
        messages,
        slot_aggregates,
    })
}

/// The blocks of `first_slot..first_slot + slots`, each on the previous one (the first on the
/// anchor), each carrying the previous slot's attestations as one on-chain aggregate of every
/// committee (as a mainnet block would). Produced with the genesis time the run chose.
pub fn produce_blocks(
    anchor: &State,
    signed: &Signed,
    slots: u64,
    config: &ChainConfig,
) -> Result<Vec<SignedBeaconBlock<P>>, LoadError> {
    let mut caches = Caches::new();
    let mut state = anchor.clone();
    let mut pubkeys = PubkeyCache::from_state(anchor);
    let mut blocks = Vec::new();
    let mut head_root = {
        let mut header = anchor.latest_block_header;
        if header.state_root == Hash256::ZERO {
            header.state_root = anchor.tree_hash_root();
        }
        header.tree_hash_root()
    };
    let anchor_root = head_root;
    let build = |e: keel_validator::ValidatorError| LoadError::Generate(format!("block: {e}"));
    for slot in anchor.slot + 1..anchor.slot + 1 + slots {
        let pre = state_at_slot(&state, slot, config, &mut caches).map_err(build)?;
        let proposer = proposer_index(&pre, &mut caches).map_err(build)?;
        let request = payload_request(&pre, config, head_root).map_err(build)?;
        let mut block_hash = [0u8; 32];
        block_hash[..8].copy_from_slice(&slot.to_le_bytes());
        block_hash[31] = 0x1d;
        let payload = deneb::ExecutionPayload::<P> {
            parent_hash: request.parent_hash,
            prev_randao: request.prev_randao,
            timestamp: request.timestamp,
            withdrawals: request
                .withdrawals
                .clone()
                .try_into()
                .map_err(|_| LoadError::Generate("too many withdrawals".into()))?,
            block_number: pre.latest_execution_payload_header.block_number + 1,
            gas_limit: 45_000_000,
            block_hash: Hash256::from(block_hash),
            ..Default::default()
        };
        let mut attestations = Vec::new();
        if let Some((previous, signature)) =
            signed.slot_aggregates.iter().find(|(s, _)| *s + 1 == slot)
        {
            let epoch = compute_epoch_at_slot::<P>(*previous);
            // The previous slot's data, with the source its epoch's state has.
            let source = if epoch == compute_epoch_at_slot::<P>(slot) {
                pre.current_justified_checkpoint
            } else {
                pre.previous_justified_checkpoint
            };
            let data = attestation_data(*previous, anchor_root, source);
            let committees = caches
                .committee_cache(&pre, epoch)
                .map_err(|e| LoadError::Generate(format!("committees: {e}")))?;
            let mut total = 0usize;
            let mut committee_bits = BitVector::new();
            for c in 0..committees.committees_per_slot() {
                total += committees
                    .get_beacon_committee(*previous, c)
                    .map_err(|e| LoadError::Generate(format!("committee: {e}")))?
                    .len();
                committee_bits.set(c as usize, true).expect("committee bit");
            }
            let mut aggregation_bits = BitList::with_capacity(total).expect("slot's attesters");
            for i in 0..total {
                aggregation_bits.set(i, true).expect("bit within the slot");
            }
            attestations.push(Attestation::<P> {
                aggregation_bits,
                data,
                signature: *signature,
                committee_bits,
            });
        }
        let contents = BlockContents {
            payload,
            execution_requests: Default::default(),
            blob_kzg_commitments: Default::default(),
            attestations,
            sync_aggregate: None,
            graffiti: Default::default(),
        };
        let (block, post) = produce_block(
            &pre,
            proposer,
            &key(proposer),
            contents,
            config,
            &mut caches,
            &mut pubkeys,
        )
        .map_err(build)?;
        if block.message.body.attestations.is_empty() && slot > anchor.slot + 1 {
            eprintln!("  warning: the block of slot {slot} could not include its attestations");
        }
        head_root = block.message.tree_hash_root();
        state = post;
        blocks.push(block);
    }
    Ok(blocks)
}
