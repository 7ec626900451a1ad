//! `operations/<handler>`: one block-processing step or operation applied to `pre`, compared
//! with `post` (absent: processing must fail), for Electra and Fulu.
//!
//! Every case runs with signatures verified one by one (`Verify`) and again with the
//! operation's signatures batched (`Batch`); both must give the expected outcome. Cases whose
//! `meta.yaml` says `bls_setting: 2` (BLS ignored) run with `Skip`.
//!
//! With `KEEL_DEBUG_OPS` set in the environment, the reason each expected rejection was
//! rejected for is printed to stderr (here and in `sanity/blocks`), to check that invalid cases
//! fail for the right reason.

use crate::case::{Case, CaseError, CaseResult, HandlerFn, Outcome};
use crate::runners::common::{check, config, decode, read_ssz};
use keel_state_transition::Caches;
use keel_state_transition::block::attestation::process_attestation;
use keel_state_transition::block::execution_payload::process_execution_payload;
use keel_state_transition::block::header::process_block_header;
use keel_state_transition::block::operations::{
    process_attester_slashing, process_bls_to_execution_change, process_deposit,
    process_proposer_slashing, process_voluntary_exit,
};
use keel_state_transition::block::requests::{
    process_consolidation_request, process_deposit_request, process_withdrawal_request,
};
use keel_state_transition::block::sync_aggregate::process_sync_aggregate;
use keel_state_transition::block::withdrawals::process_withdrawals;
use keel_state_transition::block::{BlockContext, BlockState, StaticExecutionEngine};
use keel_state_transition::pubkey_cache::PubkeyCache;
use keel_state_transition::signature_sets::SignatureMode;
use keel_types::ssz::Decode;
use keel_types::{Mainnet, Minimal, Preset, electra, fulu};
use serde::Deserialize;
use std::marker::PhantomData;

/// One operation handler: the input file and the processing call.
trait Operation<P: Preset, S: BlockState<P>> {
    type Input: Decode;
    /// The input's file stem (`<stem>.ssz_snappy`).
    const INPUT: &'static str;
    fn apply(
        state: &mut S,
        input: &Self::Input,
        ctx: &mut BlockContext<'_>,
        case: &Case,
    ) -> Result<Result<(), String>, CaseError>;
}

fn display<E: std::fmt::Display>(result: Result<(), E>) -> Result<Result<(), String>, CaseError> {
    Ok(result.map_err(|e| e.to_string()))
}

macro_rules! operation {
    ($name:ident, $input:ty, $stem:literal, |$state:ident, $op:ident, $ctx:ident, $case:ident| $body:expr) => {
        struct $name<P, S>(PhantomData<(P, S)>);
        impl<P: Preset, S: BlockState<P>> Operation<P, S> for $name<P, S> {
            type Input = $input;
            const INPUT: &'static str = $stem;
            fn apply(
                $state: &mut S,
                $op: &Self::Input,
                $ctx: &mut BlockContext<'_>,
                $case: &Case,
            ) -> Result<Result<(), String>, CaseError> {
                $body
            }
        }
    };
}

operation!(
    Attestation,
    electra::Attestation<P>,
    "attestation",
    |state, op, ctx, _case| display(process_attestation(state, op, 0, ctx))
);
operation!(
    AttesterSlashing,
    electra::AttesterSlashing<P>,
    "attester_slashing",
    |state, op, ctx, _case| display(process_attester_slashing(state, op, 0, ctx))
);
operation!(
    BlockHeader,
    electra::BeaconBlock<P>,
    "block",
    |state, op, ctx, _case| display(process_block_header(state, op, ctx))
);
operation!(
    BlsToExecutionChange,
    electra::SignedBLSToExecutionChange,
    "address_change",
    |state, op, ctx, _case| display(process_bls_to_execution_change(state, op, 0, ctx))
);
operation!(
    ConsolidationRequest,
    electra::ConsolidationRequest,
    "consolidation_request",
    |state, op, ctx, _case| display(process_consolidation_request(state, op, ctx))
);
operation!(
    Deposit,
    electra::Deposit,
    "deposit",
    |state, op, ctx, _case| display(process_deposit(state, op, ctx))
);
operation!(
    DepositRequest,
    electra::DepositRequest,
    "deposit_request",
    |state, op, _ctx, _case| display(process_deposit_request(state, op))
);
operation!(
    ExecutionPayload,
    electra::BeaconBlockBody<P>,
    "body",
    |state, op, ctx, case| {
        let execution: ExecutionYaml = case.read_yaml("execution.yaml")?;
        let engine = StaticExecutionEngine(execution.execution_valid);
        display(process_execution_payload(state, op, &engine, ctx))
    }
);
operation!(
    ProposerSlashing,
    electra::ProposerSlashing,
    "proposer_slashing",
    |state, op, ctx, _case| display(process_proposer_slashing(state, op, 0, ctx))
);
operation!(
    SyncAggregate,
    electra::SyncAggregate<P>,
    "sync_aggregate",
    |state, op, ctx, _case| display(process_sync_aggregate(state, op, ctx))
);
operation!(
    VoluntaryExit,
    electra::SignedVoluntaryExit,
    "voluntary_exit",
    |state, op, ctx, _case| display(process_voluntary_exit(state, op, 0, ctx))
);
operation!(
    WithdrawalRequest,
    electra::WithdrawalRequest,
    "withdrawal_request",
    |state, op, ctx, _case| display(process_withdrawal_request(state, op, ctx))
);
operation!(
    Withdrawals,
    electra::ExecutionPayload<P>,
    "execution_payload",
    |state, op, _ctx, _case| display(process_withdrawals(state, op))
);

#[derive(Deserialize)]
struct ExecutionYaml {
    execution_valid: bool,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    bls_setting: u8,
}

pub fn handler(preset: &str, fork: &str, handler: &str) -> Option<HandlerFn> {
    match (preset, fork) {
        ("minimal", "electra") => handlers::<Minimal, electra::BeaconState<Minimal>>(handler, true),
        ("minimal", "fulu") => handlers::<Minimal, fulu::BeaconState<Minimal>>(handler, false),
        ("mainnet", "electra") => handlers::<Mainnet, electra::BeaconState<Mainnet>>(handler, true),
        ("mainnet", "fulu") => handlers::<Mainnet, fulu::BeaconState<Mainnet>>(handler, false),
        _ => None,
    }
}

/// The handlers of a fork; `eth1_deposits`: whether the fork still has `process_deposit`
/// (removed in Fulu).
fn handlers<P: Preset, S: BlockState<P>>(handler: &str, eth1_deposits: bool) -> Option<HandlerFn> {
    Some(match handler {
        "attestation" => run::<P, S, Attestation<P, S>>,
        "attester_slashing" => run::<P, S, AttesterSlashing<P, S>>,
        "block_header" => run::<P, S, BlockHeader<P, S>>,
        "bls_to_execution_change" => run::<P, S, BlsToExecutionChange<P, S>>,
        "consolidation_request" => run::<P, S, ConsolidationRequest<P, S>>,
        "deposit" if eth1_deposits => run::<P, S, Deposit<P, S>>,
        "deposit_request" => run::<P, S, DepositRequest<P, S>>,
        "execution_payload" => run::<P, S, ExecutionPayload<P, S>>,
        "proposer_slashing" => run::<P, S, ProposerSlashing<P, S>>,
        "sync_aggregate" => run::<P, S, SyncAggregate<P, S>>,
        "voluntary_exit" => run::<P, S, VoluntaryExit<P, S>>,
        "withdrawal_request" => run::<P, S, WithdrawalRequest<P, S>>,
        "withdrawals" => run::<P, S, Withdrawals<P, S>>,
        _ => return None,
    })
}

fn run<P: Preset, S: BlockState<P>, O: Operation<P, S>>(case: &Case) -> CaseResult {
    let config = config::<P>();
    let pre: S = read_ssz(case, "pre")?;
    let input: O::Input = decode(O::INPUT, &case.read_ssz_snappy(O::INPUT)?)?;
    let post = case.read_ssz_snappy_opt("post")?;
    let meta: Meta = if case.exists("meta.yaml") {
        case.read_yaml("meta.yaml")?
    } else {
        Meta::default()
    };
    let modes: &[SignatureMode] = if meta.bls_setting == 2 {
        &[SignatureMode::Skip]
    } else {
        &[SignatureMode::Verify, SignatureMode::Batch]
    };

    let pubkeys = PubkeyCache::from_state(&pre);
    for &mode in modes {
        let mut state = pre.clone();
        let mut caches = Caches::new();
        let result = {
            let mut ctx = BlockContext::new(config, &mut caches, &pubkeys, mode);
            let result = O::apply(&mut state, &input, &mut ctx, case)?;
            result.and_then(|()| {
                ctx.signatures
                    .verify_batch(&mut rand::rng())
                    .map_err(|origin| format!("invalid signature: {origin}"))
            })
        };
        check(&format!("post ({mode:?})"), result, state, post.as_deref())?;
    }
    Ok(Outcome::Pass)
}
