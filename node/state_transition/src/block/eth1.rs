//! `process_eth1_data`.

use super::OperationError;
use crate::error::Error;
use crate::math::SafeArith;
use crate::state::PostElectraState;
use keel_types::Preset;
use keel_types::electra::BeaconBlockBody;

/// `process_eth1_data`: record the vote; adopt the data once more than half of the voting
/// period's slots voted for it.
pub fn process_eth1_data<P: Preset, S: PostElectraState<P>>(
    state: &mut S,
    body: &BeaconBlockBody<P>,
) -> Result<(), OperationError> {
    let votes = state.eth1_data_votes_mut();
    votes
        .push(body.eth1_data)
        .map_err(Error::tree("eth1_data_votes", "push"))?;
    let count = votes.iter().filter(|v| **v == body.eth1_data).count() as u64;
    let period_slots = P::EPOCHS_PER_ETH1_VOTING_PERIOD.safe_mul(P::slots_per_epoch())?;
    if count.safe_mul(2)? > period_slots {
        *state.eth1_data_mut() = body.eth1_data;
    }
    Ok(())
}
