//! Fixtures shared by Keel's criterion benchmarks (`benches/`). Performance targets live here and
//! in `loadtest/`, never in timed unit tests; measured results go to `BENCHMARKS.md`.
//!
//! The shared spec-test vectors are minimal-preset only, so mainnet-preset objects are built here:
//! deterministic, mainnet-shaped contents (a full registry, full attestations, a payload with
//! transactions). Their bytes are pseudo-random where the content does not matter to SSZ or
//! hashing (public keys, signatures, roots). [`state_fixture`] builds the state-transition
//! benchmarks' realistic 1M-validator state and a fully signed block valid on it (cached on
//! disk under [`fixture_dir`]).

use keel_types::electra::{ExecutionRequests, IndexedAttestation};
use keel_types::fulu::{
    Attestation, AttestationData, BeaconBlock, BeaconBlockBody, BeaconState, Checkpoint,
    ExecutionPayload, ExecutionPayloadHeader, SignedBeaconBlock, SyncAggregate, SyncCommittee,
    Validator, Withdrawal,
};
use keel_types::milhouse::{List, Vector};
use keel_types::ssz_types::{BitList, BitVector, FixedVector, VariableList};
use keel_types::typenum::Unsigned;
use keel_types::*;
use std::sync::Arc;

pub mod state_fixture;

/// A small deterministic generator (splitmix64): fixtures must be identical run to run.
pub struct Fill(u64);

impl Fill {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
    pub fn root(&mut self) -> Hash256 {
        Hash256::from(self.bytes::<32>())
    }
}

/// A mainnet-preset Fulu state with `validators` active validators, 32 ETH each, and full
/// participation flags: the shape of mainnet's registry, for SSZ and hashing benchmarks.
pub fn mainnet_fulu_state(validators: usize) -> BeaconState<Mainnet> {
    let mut fill = Fill::new(1);
    let epoch = 400_000u64;
    let validator = |fill: &mut Fill| Validator {
        pubkey: PublicKeyBytes(fill.bytes::<48>()),
        withdrawal_credentials: fill.root(),
        effective_balance: 32_000_000_000,
        slashed: false,
        activation_eligibility_epoch: 0,
        activation_epoch: 0,
        exit_epoch: u64::MAX,
        withdrawable_epoch: u64::MAX,
    };
    let validators_list: Vec<Validator> = (0..validators).map(|_| validator(&mut fill)).collect();
    let roots = |fill: &mut Fill, n: usize| (0..n).map(|_| fill.root()).collect::<Vec<_>>();
    let sync_committee = |fill: &mut Fill| SyncCommittee::<Mainnet> {
        pubkeys: FixedVector::new(
            (0..<Mainnet as Preset>::SyncCommitteeSize::to_usize())
                .map(|_| PublicKeyBytes(fill.bytes::<48>()))
                .collect(),
        )
        .expect("sync committee size"),
        aggregate_pubkey: PublicKeyBytes(fill.bytes::<48>()),
    };
    let slots_per_root = <Mainnet as Preset>::SlotsPerHistoricalRoot::to_usize();
    BeaconState {
        genesis_time: 1_606_824_023,
        genesis_validators_root: fill.root(),
        slot: epoch * 32,
        block_roots: Vector::new(roots(&mut fill, slots_per_root)).expect("block roots"),
        state_roots: Vector::new(roots(&mut fill, slots_per_root)).expect("state roots"),
        balances: List::new(vec![32_000_000_000; validators]).expect("balances"),
        randao_mixes: Vector::new(roots(
            &mut fill,
            <Mainnet as Preset>::EpochsPerHistoricalVector::to_usize(),
        ))
        .expect("randao mixes"),
        previous_epoch_participation: List::new(vec![0b111; validators]).expect("participation"),
        current_epoch_participation: List::new(vec![0b111; validators]).expect("participation"),
        inactivity_scores: List::new(vec![0; validators]).expect("inactivity"),
        current_sync_committee: Arc::new(sync_committee(&mut fill)),
        next_sync_committee: Arc::new(sync_committee(&mut fill)),
        latest_execution_payload_header: ExecutionPayloadHeader::default(),
        finalized_checkpoint: Checkpoint {
            epoch: epoch - 2,
            root: fill.root(),
        },
        validators: List::new(validators_list).expect("validators"),
        ..Default::default()
    }
}

/// A full mainnet-preset Fulu block: 8 Electra aggregates covering all 64 committees of a slot
/// (~31k attesters at 1M validators), a full sync aggregate, 16 withdrawals, 200 transactions of
/// 300 bytes, 6 blob commitments and 2 attester slashings' worth of indices.
pub fn mainnet_fulu_block() -> SignedBeaconBlock<Mainnet> {
    let mut fill = Fill::new(2);
    let max_bits = <Mainnet as Preset>::MaxValidatorsPerSlot::to_usize();
    let attesters_per_slot = 1_000_000 / 32;
    let attestation = |fill: &mut Fill| {
        let mut aggregation_bits =
            BitList::with_capacity(attesters_per_slot.min(max_bits)).expect("aggregation bits");
        for i in 0..aggregation_bits.len() {
            aggregation_bits
                .set(i, !fill.next_u64().is_multiple_of(20))
                .expect("bit in range");
        }
        let mut committee_bits = BitVector::new();
        for i in 0..<Mainnet as Preset>::MaxCommitteesPerSlot::to_usize() {
            committee_bits.set(i, true).expect("bit in range");
        }
        Attestation::<Mainnet> {
            aggregation_bits,
            data: AttestationData {
                slot: 12_800_000,
                index: 0,
                beacon_block_root: fill.root(),
                source: Checkpoint {
                    epoch: 399_998,
                    root: fill.root(),
                },
                target: Checkpoint {
                    epoch: 399_999,
                    root: fill.root(),
                },
            },
            signature: SignatureBytes(fill.bytes::<96>()),
            committee_bits,
        }
    };
    let attestations: Vec<_> = (0..8).map(|_| attestation(&mut fill)).collect();
    let withdrawals: Vec<Withdrawal> = (0..16)
        .map(|i| Withdrawal {
            index: 90_000_000 + i,
            validator_index: 500_000 + i,
            address: ExecutionAddress::from(fill.bytes::<20>()),
            amount: 18_000_000,
        })
        .collect();
    let transactions = (0..200)
        .map(|_| {
            let tx: Vec<u8> = (0..300).map(|_| fill.next_u64() as u8).collect();
            ByteList::from_vec(tx).expect("transaction size")
        })
        .collect();
    let mut sync_bits = BitVector::new();
    for i in 0..<Mainnet as Preset>::SyncCommitteeSize::to_usize() {
        sync_bits.set(i, true).expect("bit in range");
    }
    let indexed = |fill: &mut Fill| IndexedAttestation::<Mainnet> {
        attesting_indices: VariableList::new(
            (0..500).map(|i| i * 7 + fill.next_u64() % 7).collect(),
        )
        .expect("indices"),
        data: AttestationData::default(),
        signature: SignatureBytes(fill.bytes::<96>()),
    };
    let slashing = keel_types::electra::AttesterSlashing::<Mainnet> {
        attestation_1: indexed(&mut fill),
        attestation_2: indexed(&mut fill),
    };
    let body = BeaconBlockBody::<Mainnet> {
        randao_reveal: SignatureBytes(fill.bytes::<96>()),
        graffiti: fill.root(),
        attester_slashings: VariableList::new(vec![slashing]).expect("slashings"),
        attestations: VariableList::new(attestations).expect("attestations"),
        sync_aggregate: SyncAggregate {
            sync_committee_bits: sync_bits,
            sync_committee_signature: SignatureBytes(fill.bytes::<96>()),
        },
        execution_payload: ExecutionPayload {
            parent_hash: fill.root(),
            block_number: 23_000_000,
            gas_limit: 45_000_000,
            gas_used: 30_000_000,
            timestamp: 1_760_000_000,
            block_hash: fill.root(),
            transactions: VariableList::new(transactions).expect("transactions"),
            withdrawals: VariableList::new(withdrawals).expect("withdrawals"),
            ..Default::default()
        },
        blob_kzg_commitments: VariableList::new(
            (0..6).map(|_| KzgCommitment(fill.bytes::<48>())).collect(),
        )
        .expect("commitments"),
        execution_requests: ExecutionRequests::default(),
        ..Default::default()
    };
    SignedBeaconBlock {
        message: BeaconBlock {
            slot: 12_800_001,
            proposer_index: 123_456,
            parent_root: fill.root(),
            state_root: fill.root(),
            body,
        },
        signature: SignatureBytes(fill.bytes::<96>()),
    }
}

/// Where generated fixtures are cached between runs (outside git): `$KEEL_FIXTURE_DIR`, or
/// `target/keel-fixtures` in the workspace.
pub fn fixture_dir() -> std::path::PathBuf {
    std::env::var_os("KEEL_FIXTURE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/keel-fixtures")
        })
}

/// The compressed public keys of interop validators `0..n`, derived in parallel and cached on
/// disk: deriving a million keys takes tens of seconds, reading them back a fraction of one.
pub fn interop_pubkeys(n: usize) -> Vec<PublicKeyBytes> {
    use rayon::prelude::*;
    let path = fixture_dir().join(format!("interop-pubkeys-{n}.bin"));
    if let Ok(bytes) = std::fs::read(&path)
        && bytes.len() == n * 48
    {
        return bytes
            .chunks_exact(48)
            .map(|c| PublicKeyBytes(c.try_into().expect("48-byte chunk")))
            .collect();
    }
    let started = std::time::Instant::now();
    let keys: Vec<PublicKeyBytes> = (0..n as u64)
        .into_par_iter()
        .map(|i| {
            keel_crypto::bls::interop_secret_key(i)
                .expect("interop key")
                .public_key()
                .to_bytes()
        })
        .collect();
    eprintln!(
        "derived {n} interop public keys in {:.1} s; caching them in {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let bytes: Vec<u8> = keys.iter().flat_map(|k| k.0).collect();
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("could not cache interop keys at {}: {e}", path.display());
    }
    keys
}
