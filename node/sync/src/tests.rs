//! The sync task against a fake network (peers serving a generated chain, some of them lying)
//! and a fake chain (which only checks that parents are known, like the real one's first rule).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{Frontier, ImportError, LocalChain, SyncChain, SyncConfig, SyncNetwork, SyncService};
use keel_config::ChainConfig;
use keel_p2p::{Chunk, Family, NetworkEvent, Offence};
use keel_pipeline_api::PeerTag;
use keel_types::fulu::StatusV2;
use keel_types::phase0::BeaconBlocksByRangeRequest;
use keel_types::ssz::{Decode, Encode};
use keel_types::{ForkName, Hash256, Minimal, SignedBeaconBlock, Slot};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type P = Minimal;
type Block = Arc<SignedBeaconBlock<P>>;

/// A chain of blocks from genesis to `head`, skipping every slot where `skip(slot)`. A block
/// whose proposer index is 666 is "invalid" to the fake chain.
fn generate(head: Slot, skip: impl Fn(Slot) -> bool, fork_at: Option<(Slot, u64)>) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut parent = Hash256::ZERO;
    for slot in 0..=head {
        if slot > 0 && skip(slot) {
            continue;
        }
        let mut block = SignedBeaconBlock::<P>::default_for_fork(ForkName::Fulu);
        if let SignedBeaconBlock::Fulu(b) = &mut block {
            b.message.slot = slot;
            b.message.parent_root = parent;
            // A distinct body on a fork, so that fork blocks have their own roots.
            if let Some((from, graffiti)) = fork_at
                && slot >= from
            {
                b.message.body.graffiti = Hash256::with_last_byte(graffiti as u8);
            }
        }
        parent = block.canonical_root();
        blocks.push(Arc::new(block));
    }
    blocks
}

fn status(blocks: &[Block], earliest: Slot) -> StatusV2 {
    let head = blocks.last().unwrap();
    StatusV2 {
        head_slot: head.slot(),
        head_root: head.canonical_root(),
        earliest_available_slot: earliest,
        ..StatusV2::default()
    }
}

#[derive(Default)]
struct ChainState {
    blocks: HashMap<Hash256, Block>,
    head: (Slot, Hash256),
    frontier: Option<Frontier>,
    imports: Vec<Slot>,
}

struct FakeChain {
    state: Mutex<ChainState>,
    current_slot: Slot,
}

impl FakeChain {
    /// Holds `blocks` (the first is the anchor: history below it is missing).
    fn anchored(blocks: &[Block], current_slot: Slot) -> Arc<Self> {
        let mut state = ChainState::default();
        for block in blocks {
            state
                .blocks
                .insert(block.canonical_root(), Arc::clone(block));
        }
        let head = blocks.last().unwrap();
        state.head = (head.slot(), head.canonical_root());
        let anchor = &blocks[0];
        state.frontier = Some(Frontier {
            slot: anchor.slot(),
            parent_root: anchor.parent_root(),
        });
        Arc::new(Self {
            state: Mutex::new(state),
            current_slot,
        })
    }

    fn head(&self) -> (Slot, Hash256) {
        self.state.lock().unwrap().head
    }
}

impl SyncChain<P> for FakeChain {
    fn local(&self) -> LocalChain {
        let (head_slot, head_root) = self.head();
        LocalChain {
            head_slot,
            head_root,
            finalized_slot: 0,
            current_slot: self.current_slot,
            genesis_validators_root: Hash256::ZERO,
        }
    }

    fn status(&self) -> StatusV2 {
        StatusV2::default()
    }

    fn has_block(&self, root: &Hash256) -> bool {
        self.state.lock().unwrap().blocks.contains_key(root)
    }

    fn frontier(&self) -> Option<Frontier> {
        self.state.lock().unwrap().frontier
    }

    async fn import(&self, block: Block, root: Hash256) -> Result<(), ImportError> {
        let mut state = self.state.lock().unwrap();
        if !state.blocks.contains_key(&block.parent_root()) {
            return Err(ImportError::UnknownParent(block.parent_root()));
        }
        if block.message().proposer_index() == 666 {
            return Err(ImportError::Invalid("proposer 666".into()));
        }
        state.imports.push(block.slot());
        if block.slot() > state.head.0 {
            state.head = (block.slot(), root);
        }
        state.blocks.insert(root, block);
        Ok(())
    }

    async fn backfill(&self, blocks: Vec<Block>) -> Result<Frontier, ImportError> {
        let mut state = self.state.lock().unwrap();
        let mut front = state.frontier.unwrap();
        for block in blocks.iter().rev() {
            if block.canonical_root() != front.parent_root {
                return Err(ImportError::Invalid("does not chain".into()));
            }
            front = Frontier {
                slot: block.slot(),
                parent_root: block.parent_root(),
            };
        }
        for block in blocks {
            state.blocks.insert(block.canonical_root(), block);
        }
        state.frontier = Some(front);
        Ok(front)
    }
}

/// How a fake peer answers.
#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    Honest,
    /// Undecodable bytes for every block.
    Garbage,
    /// Blocks the chain finds invalid.
    Invalid,
}

/// Each fake peer's chain and how it answers.
type FakePeers = HashMap<u64, (Vec<Block>, Behaviour)>;

#[derive(Clone, Default)]
struct FakeNetwork {
    peers: Arc<Mutex<FakePeers>>,
    penalties: Arc<Mutex<Vec<(u64, Offence)>>>,
}

impl FakeNetwork {
    fn new(peers: Vec<(u64, Vec<Block>, Behaviour)>) -> Self {
        Self {
            peers: Arc::new(Mutex::new(
                peers
                    .into_iter()
                    .map(|(tag, blocks, behaviour)| (tag, (blocks, behaviour)))
                    .collect(),
            )),
            penalties: Arc::default(),
        }
    }

    fn chunk(&self, block: &Block, behaviour: Behaviour) -> Chunk {
        let context = ChainConfig::dev(1000).compute_fork_digest(Hash256::ZERO, block.slot() / 8);
        let ssz = match behaviour {
            Behaviour::Honest => block.as_ssz_bytes(),
            Behaviour::Garbage => vec![0xff; 7],
            Behaviour::Invalid => {
                let mut bad = (**block).clone();
                if let SignedBeaconBlock::Fulu(b) = &mut bad {
                    b.message.proposer_index = 666;
                }
                bad.as_ssz_bytes()
            }
        };
        Chunk::Success { context, ssz }
    }

    fn penalised(&self, peer: u64) -> bool {
        self.penalties
            .lock()
            .unwrap()
            .iter()
            .any(|(p, _)| *p == peer)
    }
}

impl SyncNetwork for FakeNetwork {
    async fn request(
        &self,
        peer: PeerTag,
        family: Family,
        body: Vec<u8>,
    ) -> Result<Vec<Chunk>, String> {
        let (blocks, behaviour) = self
            .peers
            .lock()
            .unwrap()
            .get(&peer.0)
            .cloned()
            .ok_or("disconnected")?;
        match family {
            Family::BlocksByRange => {
                let request = BeaconBlocksByRangeRequest::from_ssz_bytes(&body).unwrap();
                let end = request.start_slot + request.count;
                Ok(blocks
                    .iter()
                    .filter(|b| (request.start_slot..end).contains(&b.slot()))
                    .map(|b| self.chunk(b, behaviour))
                    .collect())
            }
            Family::BlocksByRoot => Ok(body
                .chunks_exact(32)
                .filter_map(|root| {
                    let root = Hash256::from_slice(root);
                    blocks.iter().find(|b| b.canonical_root() == root)
                })
                .map(|b| self.chunk(b, behaviour))
                .collect()),
            Family::Status => Ok(vec![Chunk::Success {
                context: [0; 4],
                ssz: status(&blocks, 0).as_ssz_bytes(),
            }]),
            _ => Err("unsupported".into()),
        }
    }

    fn penalise(&self, peer: PeerTag, offence: Offence) {
        self.penalties.lock().unwrap().push((peer.0, offence));
    }
}

fn config() -> SyncConfig {
    SyncConfig {
        tick: Duration::from_millis(10),
        status_interval: Duration::from_secs(3600),
        ..SyncConfig::new::<P>(&ChainConfig::dev(1000))
    }
}

/// Runs sync until `done` holds (or fails the test after 20 s).
async fn sync_until(
    chain: &Arc<FakeChain>,
    network: &FakeNetwork,
    statuses: Vec<(u64, StatusV2)>,
    done: impl Fn(&FakeChain) -> bool,
) {
    let service = SyncService::<P, _, _>::new(
        Arc::clone(chain),
        network.clone(),
        Arc::new(ChainConfig::dev(1000)),
        config(),
    );
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    for (peer, status) in statuses {
        events_tx
            .send(NetworkEvent::PeerReady {
                peer: PeerTag(peer),
                status,
            })
            .unwrap();
    }
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(service.run(events, shutdown));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(chain) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sync did not finish; head {:?}",
            chain.head()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();
    drop(events_tx);
}

#[tokio::test]
async fn range_sync_reaches_the_peers_head_in_order_across_skipped_slots() {
    let remote = generate(100, |slot| slot % 7 == 3, None);
    let chain = FakeChain::anchored(&remote[..1], 100);
    let network = FakeNetwork::new(vec![
        (1, remote.clone(), Behaviour::Honest),
        (2, remote.clone(), Behaviour::Honest),
    ]);
    let target = remote.last().unwrap().canonical_root();
    sync_until(
        &chain,
        &network,
        vec![(1, status(&remote, 0)), (2, status(&remote, 0))],
        |c| c.head().1 == target,
    )
    .await;
    let imports = chain.state.lock().unwrap().imports.clone();
    assert_eq!(imports.len(), remote.len() - 1, "every block once");
    assert!(imports.windows(2).all(|w| w[0] < w[1]), "in slot order");
    assert!(network.penalties.lock().unwrap().is_empty());
}

#[tokio::test]
async fn lying_peers_are_penalised_and_honest_ones_finish_the_sync() {
    let remote = generate(60, |_| false, None);
    let chain = FakeChain::anchored(&remote[..1], 60);
    let network = FakeNetwork::new(vec![
        (1, remote.clone(), Behaviour::Garbage),
        (2, remote.clone(), Behaviour::Invalid),
        (3, remote.clone(), Behaviour::Honest),
    ]);
    let target = remote.last().unwrap().canonical_root();
    sync_until(
        &chain,
        &network,
        (1..=3).map(|p| (p, status(&remote, 0))).collect(),
        |c| c.head().1 == target,
    )
    .await;
    assert!(network.penalised(1), "garbage is penalised");
    assert!(network.penalised(2), "invalid blocks are penalised");
    assert!(!network.penalised(3), "the honest peer is not");
    let penalties = network.penalties.lock().unwrap().clone();
    assert!(penalties.contains(&(1, Offence::Malformed)));
    assert!(penalties.contains(&(2, Offence::InvalidResponse)));
}

#[tokio::test]
async fn a_node_on_a_fork_finds_the_peers_branch_by_root() {
    // Both share slots 0..=20; the local node then built its own blocks 21..=24, the peer
    // (which the network followed) its blocks 21..=40.
    let ours = generate(24, |_| false, Some((21, 1)));
    let theirs = generate(40, |_| false, Some((21, 2)));
    assert_eq!(ours[20].canonical_root(), theirs[20].canonical_root());
    assert_ne!(ours[21].canonical_root(), theirs[21].canonical_root());
    let chain = FakeChain::anchored(&ours, 40);
    let network = FakeNetwork::new(vec![(1, theirs.clone(), Behaviour::Honest)]);
    let target = theirs.last().unwrap().canonical_root();
    sync_until(&chain, &network, vec![(1, status(&theirs, 0))], |c| {
        c.head().1 == target
    })
    .await;
    assert!(network.penalties.lock().unwrap().is_empty());
}

#[tokio::test]
async fn backfill_fills_history_down_to_genesis() {
    let remote = generate(90, |slot| slot % 5 == 2, None);
    // Anchored at the block of slot 64 (a checkpoint), head there too.
    let anchor = remote.iter().position(|b| b.slot() == 64).unwrap();
    let chain = FakeChain::anchored(&remote[anchor..=anchor], 64);
    let network = FakeNetwork::new(vec![(1, remote[..=anchor].to_vec(), Behaviour::Honest)]);
    sync_until(
        &chain,
        &network,
        vec![(1, status(&remote[..=anchor], 0))],
        |c| c.frontier().map(|f| f.slot) == Some(0),
    )
    .await;
    let state = chain.state.lock().unwrap();
    for block in &remote[..=anchor] {
        assert!(state.blocks.contains_key(&block.canonical_root()));
    }
}

#[tokio::test]
async fn backfill_refuses_a_history_that_does_not_chain() {
    let remote = generate(40, |_| false, None);
    let other = generate(40, |_| false, Some((1, 9)));
    let chain = FakeChain::anchored(&remote[32..=32], 32);
    let network = FakeNetwork::new(vec![
        (1, other[..=32].to_vec(), Behaviour::Honest),
        (2, remote[..=32].to_vec(), Behaviour::Honest),
    ]);
    let statuses = vec![
        (1, status(&other[..=32], 0)),
        (2, status(&remote[..=32], 0)),
    ];
    sync_until(&chain, &network, statuses, |c| {
        c.frontier().map(|f| f.slot) == Some(0)
    })
    .await;
    assert!(
        network.penalised(1),
        "a history that does not chain is penalised"
    );
    assert!(!network.penalised(2));
}
