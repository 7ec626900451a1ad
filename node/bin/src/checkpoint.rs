//! Checkpoint sync: the finalized state and its block, as SSZ, from any standard Beacon API
//! (`/eth/v2/debug/beacon/states/finalized`, `/eth/v2/beacon/blocks/{root}`), checked to belong
//! together before the chain is anchored there.

use crate::node::NodeError;
use keel_core::ChainAnchor;
use keel_types::tree_hash::TreeHash;
use keel_types::{BeaconState, ForkName, Hash256, Preset, SignedBeaconBlock};
use std::time::Duration;

/// Fetches the finalized state and its block as SSZ from a standard Beacon API and checks that
/// they belong together.
pub async fn checkpoint_sync<P: Preset>(url: &str) -> Result<ChainAnchor<P>, NodeError> {
    let base = url.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| NodeError::CheckpointSync(e.to_string()))?;
    tracing::info!(%base, "checkpoint sync: downloading the finalized state");
    let (fork, state_bytes) = fetch_ssz(
        &client,
        &format!("{base}/eth/v2/debug/beacon/states/finalized"),
    )
    .await?;
    let state = match BeaconState::<P>::from_ssz_bytes_for_fork(&state_bytes, fork) {
        Ok(BeaconState::Fulu(state)) => state,
        Ok(other) => {
            return Err(NodeError::CheckpointSync(format!(
                "the finalized state is {:?}; Keel follows Fulu",
                other.fork_name()
            )));
        }
        Err(e) => return Err(NodeError::CheckpointSync(format!("state SSZ: {e:?}"))),
    };
    let mut header = state.latest_block_header;
    if header.state_root == Hash256::ZERO {
        header.state_root = state.tree_hash_root();
    }
    let block_root = header.tree_hash_root();
    tracing::info!(slot = state.slot, %block_root, "checkpoint sync: downloading its block");
    let (block_fork, block_bytes) = fetch_ssz(
        &client,
        &format!("{base}/eth/v2/beacon/blocks/{block_root}"),
    )
    .await?;
    let block = match SignedBeaconBlock::<P>::from_ssz_bytes_for_fork(&block_bytes, block_fork) {
        Ok(SignedBeaconBlock::Fulu(block)) => block,
        Ok(other) => {
            return Err(NodeError::CheckpointSync(format!(
                "the block is {:?}",
                other.fork_name()
            )));
        }
        Err(e) => return Err(NodeError::CheckpointSync(format!("block SSZ: {e:?}"))),
    };
    if block.message.tree_hash_root() != block_root {
        return Err(NodeError::CheckpointSync(
            "the block served is not the state's latest block".into(),
        ));
    }
    Ok(ChainAnchor { state, block })
}

async fn fetch_ssz(client: &reqwest::Client, url: &str) -> Result<(ForkName, Vec<u8>), NodeError> {
    let fail = |reason: String| NodeError::CheckpointSync(format!("{url}: {reason}"));
    let response = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let fork = response
        .headers()
        .get("Eth-Consensus-Version")
        .and_then(|v| v.to_str().ok())
        .and_then(|name| ForkName::ALL.iter().copied().find(|f| f.as_str() == name))
        .ok_or_else(|| fail("no usable Eth-Consensus-Version header".into()))?;
    let total = response.content_length().unwrap_or(0);
    let progress = crate::progress::Progress::new("checkpoint download", total, "bytes");
    let mut bytes = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        bytes.extend_from_slice(&chunk);
        progress.set(bytes.len() as u64);
    }
    progress.finish();
    Ok((fork, bytes))
}
