//! `process_execution_payload` (Electra, and Fulu's blob limit), with the execution engine
//! behind a caller-supplied trait: the library performs no I/O.

use super::{BlockContext, BlockState, OperationError};
use crate::accessors::{get_current_epoch, get_randao_mix};
use crate::error::Result;
use crate::math::SafeArith;
use crate::state::PostElectraState;
use ethereum_hashing::hash_fixed;
use keel_config::ChainConfig;
use keel_config::constants::{
    CONSOLIDATION_REQUEST_TYPE, DEPOSIT_REQUEST_TYPE, GENESIS_SLOT, VERSIONED_HASH_VERSION_KZG,
    WITHDRAWAL_REQUEST_TYPE,
};
use keel_types::electra::VersionedHash;
use keel_types::electra::{
    BeaconBlockBody, ExecutionPayload, ExecutionPayloadHeader, ExecutionRequests,
};
use keel_types::ssz::Encode;
use keel_types::tree_hash::TreeHash;
use keel_types::{KzgCommitment, Preset, Root, Slot};

/// The spec's `NewPayloadRequest` (Electra): what the execution engine is asked to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayloadRequest<'a, P: Preset> {
    pub execution_payload: &'a ExecutionPayload<P>,
    pub versioned_hashes: Vec<VersionedHash>,
    pub parent_beacon_block_root: Root,
    pub execution_requests: &'a ExecutionRequests<P>,
}

impl<P: Preset> NewPayloadRequest<'_, P> {
    /// `get_execution_requests_list(execution_requests)`, for `engine_newPayload`.
    pub fn execution_requests_list(&self) -> Vec<Vec<u8>> {
        get_execution_requests_list(self.execution_requests)
    }

    /// The spec's first check in `verify_and_notify_new_payload`: `b"" in
    /// execution_payload.transactions` makes the payload invalid. Engine adapters call this
    /// before asking the execution client.
    pub fn has_empty_transaction(&self) -> bool {
        self.execution_payload
            .transactions
            .iter()
            .any(|tx| tx.is_empty())
    }
}

/// The execution engine as block processing sees it: the verdict of the spec's
/// `verify_and_notify_new_payload` (block hash, versioned hashes, and the EL's own validation).
/// The node implements it over the Engine API; tests supply a fixed verdict.
pub trait ExecutionEngine<P: Preset> {
    fn verify_and_notify_new_payload(&self, request: &NewPayloadRequest<'_, P>) -> bool;
}

/// An engine with a fixed verdict (spec tests' `execution.yaml`, replay of known-valid blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticExecutionEngine(pub bool);

impl<P: Preset> ExecutionEngine<P> for StaticExecutionEngine {
    fn verify_and_notify_new_payload(&self, _request: &NewPayloadRequest<'_, P>) -> bool {
        self.0
    }
}

/// `get_execution_requests_list` (EIP-7685): `request_type ++ ssz_serialize(requests)` for
/// each non-empty request list, in type order.
pub fn get_execution_requests_list<P: Preset>(
    execution_requests: &ExecutionRequests<P>,
) -> Vec<Vec<u8>> {
    let mut requests = Vec::with_capacity(3);
    let mut push = |request_type: u8, data: Option<Vec<u8>>| {
        if let Some(data) = data {
            let mut bytes = Vec::with_capacity(data.len().saturating_add(1));
            bytes.push(request_type);
            bytes.extend_from_slice(&data);
            requests.push(bytes);
        }
    };
    let deposits = &execution_requests.deposits;
    push(
        DEPOSIT_REQUEST_TYPE,
        (!deposits.is_empty()).then(|| deposits.as_ssz_bytes()),
    );
    let withdrawals = &execution_requests.withdrawals;
    push(
        WITHDRAWAL_REQUEST_TYPE,
        (!withdrawals.is_empty()).then(|| withdrawals.as_ssz_bytes()),
    );
    let consolidations = &execution_requests.consolidations;
    push(
        CONSOLIDATION_REQUEST_TYPE,
        (!consolidations.is_empty()).then(|| consolidations.as_ssz_bytes()),
    );
    requests
}

/// `kzg_commitment_to_versioned_hash`: `VERSIONED_HASH_VERSION_KZG ++ hash(commitment)[1:]`.
pub fn kzg_commitment_to_versioned_hash(kzg_commitment: &KzgCommitment) -> VersionedHash {
    let mut hash = hash_fixed(kzg_commitment.as_ref());
    if let Some(first) = hash.first_mut() {
        *first = VERSIONED_HASH_VERSION_KZG;
    }
    VersionedHash::from(hash)
}

/// `compute_time_at_slot`: `genesis_time + (slot - GENESIS_SLOT) * SLOT_DURATION_MS // 1000`.
pub fn compute_time_at_slot<P: Preset, S: PostElectraState<P>>(
    state: &S,
    config: &ChainConfig,
    slot: Slot,
) -> Result<u64> {
    let slots_since_genesis = slot.safe_sub(GENESIS_SLOT)?;
    Ok(state.genesis_time().safe_add(
        slots_since_genesis
            .safe_mul(config.slot_duration_ms)?
            .safe_div(1000)?,
    )?)
}

/// `process_execution_payload` (Electra; Fulu's blob limit through
/// [`BlockState::max_blobs_per_block`]).
pub fn process_execution_payload<P: Preset, S: BlockState<P>>(
    state: &mut S,
    body: &BeaconBlockBody<P>,
    engine: &dyn ExecutionEngine<P>,
    ctx: &mut BlockContext<'_>,
) -> Result<(), OperationError> {
    let payload = &body.execution_payload;

    // Verify consistency of the parent hash with respect to the previous execution payload header
    let latest_block_hash = state.latest_execution_payload_header().block_hash;
    if payload.parent_hash != latest_block_hash {
        return Err(OperationError::ParentHashMismatch {
            got: payload.parent_hash,
            expected: latest_block_hash,
        });
    }
    // Verify prev_randao
    let epoch = get_current_epoch(state);
    let mix = get_randao_mix(state, epoch)?;
    if payload.prev_randao != mix {
        return Err(OperationError::PrevRandaoMismatch {
            got: payload.prev_randao,
            expected: mix,
        });
    }
    // Verify timestamp
    let time = compute_time_at_slot(state, ctx.config, state.slot())?;
    if payload.timestamp != time {
        return Err(OperationError::TimestampMismatch {
            got: payload.timestamp,
            expected: time,
        });
    }
    // Verify commitments are under limit
    let max_blobs = S::max_blobs_per_block(ctx.config, epoch);
    let count = body.blob_kzg_commitments.len() as u64;
    if count > max_blobs {
        return Err(OperationError::TooManyBlobs {
            count,
            max: max_blobs,
        });
    }

    // Compute list of versioned hashes
    let versioned_hashes = body
        .blob_kzg_commitments
        .iter()
        .map(kzg_commitment_to_versioned_hash)
        .collect();

    // Verify the execution payload is valid
    let request = NewPayloadRequest {
        execution_payload: payload,
        versioned_hashes,
        parent_beacon_block_root: state.latest_block_header().parent_root,
        execution_requests: &body.execution_requests,
    };
    if !engine.verify_and_notify_new_payload(&request) {
        return Err(OperationError::PayloadInvalid);
    }

    // Cache execution payload header
    *state.latest_execution_payload_header_mut() = execution_payload_header(payload);
    Ok(())
}

/// The header the state keeps of a payload (`process_execution_payload`'s "cache execution
/// payload header" step).
pub fn execution_payload_header<P: Preset>(
    payload: &ExecutionPayload<P>,
) -> ExecutionPayloadHeader<P> {
    ExecutionPayloadHeader {
        parent_hash: payload.parent_hash,
        fee_recipient: payload.fee_recipient,
        state_root: payload.state_root,
        receipts_root: payload.receipts_root,
        logs_bloom: payload.logs_bloom.clone(),
        prev_randao: payload.prev_randao,
        block_number: payload.block_number,
        gas_limit: payload.gas_limit,
        gas_used: payload.gas_used,
        timestamp: payload.timestamp,
        extra_data: payload.extra_data.clone(),
        base_fee_per_gas: payload.base_fee_per_gas,
        block_hash: payload.block_hash,
        transactions_root: payload.transactions.tree_hash_root(),
        withdrawals_root: payload.withdrawals.tree_hash_root(),
        blob_gas_used: payload.blob_gas_used,
        excess_blob_gas: payload.excess_blob_gas,
    }
}
