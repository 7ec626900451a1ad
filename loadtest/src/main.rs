//! `keel-loadtest`: mainnet-shaped gossip through Keel's real pipeline, in process.
//!
//! Owns: the load generator and its measurements — nothing the node runs. It opens a
//! `keel_core::Chain` on a temporary LMDB store anchored at a generated Fulu state (interop keys,
//! mainnet preset, every fork at epoch 0), starts the core thread (`keel_core::spawn`) and the
//! verify stage (`keel_verify::VerifyStage`) with a [`sink::Sink`] that forwards verified blocks
//! and attestations to the core's queues and records every verdict. It feeds snappy-compressed
//! SSZ [`keel_pipeline_api::RawMessage`]s on their gossip topics — single attestations,
//! aggregates and blocks, in the profiles of [`Profile`] — at a multiple of mainnet's rate for a
//! bounded number of slots, then prints (and with `--json` writes) throughput, latencies, queue
//! depths, drops and CPU use. Its last line is
//! `loadtest <profile>: <msgs/s> msgs/s, attestation p99 <ms> ms, block p99 <ms> ms, dropped
//! valid <n>, verify ratio <r>`.
//!
//! With `--transport libp2p` ([`network`]) the same pipeline gets its gossip through a real
//! keel-p2p host instead, published on the same schedule by a second host in the process.
//!
//! Everything is signed before the timed phase ([`generate`]) and cached under
//! `target/keel-loadtest/`. Sync-committee messages and contributions are not generated: the
//! verify stage does not validate them yet.

mod generate;
mod network;
mod recorder;
mod sink;

use clap::{Parser, ValueEnum};
use generate::{P, Signed, State, Tag};
use keel_config::ChainConfig;
use keel_core::{Chain, ChainAnchor, CoreError, CoreInput};
use keel_crypto::bls::{SignatureSet, verify_signature_sets_same_message};
use keel_decode::GossipDecoder;
use keel_pipeline_api::{GossipKind, GossipTopic, PeerTag, RawMessage};
use keel_queue::{Class, QueueConfig};
use keel_state_transition::accessors::compute_epoch_at_slot;
use keel_store::{Store, StoreOptions};
use keel_types::Hash256;
use keel_types::electra::{BeaconBlock, SignedBeaconBlock};
use keel_types::ssz::Encode;
use keel_types::tree_hash::TreeHash;
use keel_verify::{GossipValidator, VerifyStage};
use rayon::prelude::*;
use recorder::quantile;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("generating the load: {0}")]
    Generate(String),
    #[error("core: {0}")]
    Core(#[from] CoreError),
    #[error("store: {0}")]
    Store(#[from] keel_store::StoreError),
    #[error("starting the verify stage: {0}")]
    Stage(std::io::Error),
    #[error("network: {0}")]
    Network(String),
    #[error("{0}")]
    Args(String),
}

/// How the gossip reaches the verify stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// Submitted to the verify stage directly, receipt = submission.
    InProcess,
    /// Published by a second keel-p2p host, received by the node's keel-p2p host on loopback.
    Libp2p,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::InProcess => "in-process",
            Transport::Libp2p => "libp2p",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// 2 of 64 attestation subnets, every aggregate, the blocks.
    Home,
    /// Every single attestation as well.
    AllSubnets,
    /// All-subnets plus ~7% bad signatures, ~2% attestations to unknown roots, ~2% two epochs
    /// old, and 5% duplicates.
    Adversarial,
    /// All-subnets with 80% of a slot's attestations within 500 ms after the 1/3 mark, and 80%
    /// of its aggregates within 500 ms after the 2/3 mark (500 ms scaled by `--rate`).
    Burst,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Home => "home",
            Profile::AllSubnets => "all-subnets",
            Profile::Adversarial => "adversarial",
            Profile::Burst => "burst",
        }
    }
}

#[derive(Debug, Parser)]
#[command(about = "Mainnet-shaped gossip load through Keel's pipeline, in process or over libp2p")]
struct Args {
    #[arg(long, value_enum, default_value = "all-subnets")]
    profile: Profile,
    /// Validators in the anchor state (interop keys).
    #[arg(long, default_value_t = 16_384)]
    validators: usize,
    /// Slots of load (at most 47: attestations target the anchor's epoch or the next).
    #[arg(long, default_value_t = 4)]
    slots: u64,
    /// Multiple of mainnet's message rate: slots last 12 s / rate.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// How the gossip reaches the node: submitted in process, or over libp2p between two hosts
    /// on loopback.
    #[arg(long, value_enum, default_value = "in-process")]
    transport: Transport,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where signed messages are cached.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// The 2 of 64 attestation subnets a home node subscribes to: the first slot's first
/// committee's subnet and the one opposite (any two carry 1/32 of the attestations at 1M
/// validators; with fewer, only some subnets carry any in a given slot).
fn home_subnets(signed: &Signed) -> [u64; 2] {
    let first = signed
        .messages
        .iter()
        .find(|m| m.tag == Tag::Single)
        .map_or(0, |m| m.subnet);
    [first, (first + 32) % 64]
}
/// Anything unanswered this long after its slot ended is counted as lost.
const GRACE: Duration = Duration::from_secs(3);

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `utime + stime` of this process, in seconds (`/proc/self/stat`, 100 ticks per second).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (tick(11) + tick(12)) as f64 / 100.0
}

/// The chain config: mainnet's, with every fork from genesis and slots of `12 s / rate`.
fn config(rate: f64) -> ChainConfig {
    let mut config = ChainConfig::mainnet();
    config.config_name = "keel-loadtest".into();
    config.altair_fork_epoch = 0;
    config.bellatrix_fork_epoch = 0;
    config.capella_fork_epoch = 0;
    config.deneb_fork_epoch = 0;
    config.electra_fork_epoch = 0;
    config.fulu_fork_epoch = 0;
    config.slot_duration_ms = (12_000.0 / rate).round().max(1.0) as u64;
    config
}

/// The block the anchor state's latest block header describes.
fn anchor_block(state: &State) -> Result<SignedBeaconBlock<P>, LoadError> {
    let header = state.latest_block_header;
    let block = SignedBeaconBlock::<P> {
        message: BeaconBlock {
            slot: header.slot,
            proposer_index: header.proposer_index,
            parent_root: header.parent_root,
            state_root: header.state_root,
            body: Default::default(),
        },
        signature: Default::default(),
    };
    if block.message.body.tree_hash_root() != header.body_root {
        return Err(LoadError::Generate(
            "the anchor state's latest block has a non-empty body".into(),
        ));
    }
    Ok(block)
}

/// One message of the schedule.
struct Item {
    /// When to submit it, from the start of the timed phase.
    at: Duration,
    topic: String,
    data: Vec<u8>,
    tag: Tag,
}

fn compress(ssz: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(ssz)
        .expect("snappy compresses any input")
}

/// A uniform point in `[from, to)` of a slot, chosen by `seed`.
fn within(slot_start: Duration, slot: Duration, from: f64, to: f64, seed: u64) -> Duration {
    let u = (seed % 1_000_000) as f64 / 1_000_000.0;
    slot_start + slot.mul_f64(from + (to - from) * u)
}

/// When each message is sent: blocks 0.5 s (scaled) into the slot, attestations in the second
/// third, aggregates in the last third; bursts put 80% of each in the first 500 ms (scaled).
fn schedule(
    signed: &Signed,
    blocks: &[SignedBeaconBlock<P>],
    profile: Profile,
    digest: [u8; 4],
    first_slot: u64,
    slot: Duration,
    rate: f64,
) -> Vec<Item> {
    let topic = |kind| {
        GossipTopic {
            fork_digest: digest,
            kind,
        }
        .to_string()
    };
    let burst = profile == Profile::Burst;
    let half_second = 0.5 / 12.0;
    let home = home_subnets(signed);
    let mut items = Vec::new();
    let start = |s: u64| slot * u32::try_from(s - first_slot).unwrap_or(u32::MAX);
    for block in blocks {
        items.push(Item {
            at: start(block.message.slot) + slot.mul_f64(half_second),
            topic: topic(GossipKind::BeaconBlock),
            data: compress(&block.as_ssz_bytes()),
            tag: Tag::Block,
        });
    }
    let place = |from: f64, to: f64, slot_index: u64, seed: u64| -> Duration {
        let s0 = start(slot_index);
        if burst && seed % 10 < 8 {
            within(s0, slot, from, from + half_second, seed / 10)
        } else if burst {
            within(s0, slot, from + half_second, to, seed / 10)
        } else {
            within(s0, slot, from, to, seed)
        }
    };
    for (i, m) in signed.messages.iter().enumerate() {
        let seed = generate::mix(i as u64, 0x5eed);
        let wanted = match (m.tag, profile) {
            (Tag::Single, Profile::Home) => home.contains(&m.subnet),
            (Tag::Single | Tag::Aggregate, _) => true,
            (Tag::BadSignature | Tag::UnknownRoot | Tag::OldRoot, Profile::Adversarial) => true,
            _ => false,
        };
        if !wanted {
            continue;
        }
        let kind = match m.tag {
            Tag::Aggregate => GossipKind::BeaconAggregateAndProof,
            _ => GossipKind::BeaconAttestation(m.subnet),
        };
        let (from, to) = if m.tag == Tag::Aggregate {
            (2.0 / 3.0, 1.0)
        } else {
            (1.0 / 3.0, 2.0 / 3.0)
        };
        let at = place(from, to, m.slot, seed);
        let data = compress(&m.ssz);
        if profile == Profile::Adversarial && m.tag == Tag::Single && seed % 20 == 7 {
            items.push(Item {
                at: at + Duration::from_secs_f64((seed % 1000) as f64 / 1000.0 / rate),
                topic: topic(kind),
                data: data.clone(),
                tag: Tag::Duplicate,
            });
        }
        items.push(Item {
            at,
            topic: topic(kind),
            data,
            tag: m.tag,
        });
    }
    items.sort_by_key(|item| item.at);
    items
}

/// Raw blst same-message batch verification on every core, in sets per second: batches of 64
/// attestations over one message (the verify stage's chunk), for about two seconds.
fn raw_same_message_rate() -> f64 {
    let message = Hash256::repeat_byte(0x5a);
    let keys: Vec<_> = (0..64u64)
        .map(|i| {
            let sk = keel_crypto::bls::interop_secret_key(i).expect("interop key");
            (sk.sign(message.as_slice()), sk.public_key())
        })
        .collect();
    let sets: Vec<SignatureSet> = keys
        .iter()
        .map(|(sig, pk)| SignatureSet::single_pubkey(sig, pk, message))
        .collect();
    let run = |batches: usize| {
        (0..batches).into_par_iter().for_each(|_| {
            let mut rng = rand::rng();
            assert!(
                verify_signature_sets_same_message(&sets, &mut rng),
                "valid sets verify"
            );
        })
    };
    let started = Instant::now();
    run(rayon::current_num_threads());
    let per_round = started.elapsed().as_secs_f64().max(1e-6);
    let batches = ((2.0 / per_round) as usize * rayon::current_num_threads())
        .max(rayon::current_num_threads());
    let started = Instant::now();
    run(batches);
    (batches * sets.len()) as f64 / started.elapsed().as_secs_f64()
}

fn ms(seconds: f64) -> f64 {
    (seconds * 1000.0 * 100.0).round() / 100.0
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("keel-loadtest: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), LoadError> {
    if !(args.rate > 0.0 && args.rate <= 100.0) {
        return Err(LoadError::Args("--rate must be in (0, 100]".into()));
    }
    if args.slots == 0 || args.slots > 47 {
        return Err(LoadError::Args("--slots must be in 1..=47".into()));
    }
    let keeper = Arc::new(recorder::Keeper::default());
    metrics::set_global_recorder(recorder::Shared(Arc::clone(&keeper)))
        .map_err(|e| LoadError::Args(format!("metrics recorder: {e}")))?;
    let cache_dir = args.cache_dir.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/keel-loadtest")
    });
    let config = Arc::new(config(args.rate));
    let slot = Duration::from_millis(config.slot_duration_ms);
    println!(
        "keel-loadtest: profile {}, transport {}, {} validators, {} slots of {} ms ({}x mainnet rate), {} cores",
        args.profile.name(),
        args.transport.name(),
        args.validators,
        args.slots,
        config.slot_duration_ms,
        args.rate,
        rayon::current_num_threads()
    );
    println!(
        "  not generated: sync-committee messages and contributions (the verify stage does not validate them yet), blob/data-column sidecars"
    );

    // ---------------------------------------------------------------- preparation
    let started = Instant::now();
    let mut anchor_state = keel_benches::state_fixture::realistic_fulu_state_n(args.validators);
    let block = anchor_block(&anchor_state)?;
    let anchor_root = block.message.tree_hash_root();
    let first_slot = anchor_state.slot + 1;
    let gvr = anchor_state.genesis_validators_root;
    eprintln!(
        "anchor state (slot {}, {} validators) ready in {:.1} s",
        anchor_state.slot,
        anchor_state.validators.len(),
        started.elapsed().as_secs_f64()
    );

    let path = generate::cache_path(&cache_dir, args.validators, first_slot, args.slots);
    let signed = match generate::read_cache(&path) {
        Some(signed) => {
            eprintln!("signed messages read from {}", path.display());
            signed
        }
        None => {
            let started = Instant::now();
            eprintln!("signing the load (once; cached in {}):", path.display());
            let signed = generate::sign_all(&anchor_state, anchor_root, args.slots, &config)?;
            eprintln!(
                "signed {} messages in {:.1} s",
                signed.messages.len(),
                started.elapsed().as_secs_f64()
            );
            generate::write_cache(&path, &signed)?;
            signed
        }
    };

    let raw_rate = raw_same_message_rate();
    eprintln!("raw blst same-message batch verification: {raw_rate:.0} sets/s");

    // Over libp2p: both hosts up and connected before the chain is (they need only the anchor).
    let digest = config.compute_fork_digest(gvr, compute_epoch_at_slot::<P>(first_slot));
    let mut libp2p = match args.transport {
        Transport::InProcess => None,
        Transport::Libp2p => {
            let subnets: Vec<u64> = match args.profile {
                Profile::Home => home_subnets(&signed).to_vec(),
                _ => (0..config.attestation_subnet_count).collect(),
            };
            let topic = |kind| {
                GossipTopic {
                    fork_digest: digest,
                    kind,
                }
                .to_string()
            };
            let mut topics = vec![
                topic(GossipKind::BeaconBlock),
                topic(GossipKind::BeaconAggregateAndProof),
            ];
            topics.extend(
                subnets
                    .iter()
                    .map(|s| topic(GossipKind::BeaconAttestation(*s))),
            );
            let chain = network::ChainView {
                config: &config,
                genesis_validators_root: gvr,
                epoch: compute_epoch_at_slot::<P>(first_slot),
                status: network::anchor_status(&anchor_state, anchor_root, digest),
            };
            Some(network::Libp2p::start(&chain, topics, &subnets)?)
        }
    };

    // The genesis time puts the first slot of load a little after preparation ends (blocks,
    // database, key warm-up); if preparation overruns, it is redone later.
    let mut margin = Duration::from_secs(8)
        + Duration::from_secs_f64(args.validators as f64 / 10_000.0)
        + Duration::from_secs_f64(
            args.slots as f64 * (args.validators as f64 / 200_000.0).max(0.2),
        );
    let (blocks, store_dir, handle, stage, sink, t_start_ms) = loop {
        let t_start_ms = unix_ms() + margin.as_millis() as u64;
        let genesis_ms = t_start_ms.saturating_sub(first_slot * config.slot_duration_ms);
        // Whole seconds; the first slot starts when the genesis second says.
        let genesis_time = genesis_ms.div_ceil(1000);
        let t_start_ms = genesis_time * 1000 + first_slot * config.slot_duration_ms;
        anchor_state.genesis_time = genesis_time;
        let prepared = Instant::now();
        let blocks = generate::produce_blocks(&anchor_state, &signed, args.slots, &config)?;
        eprintln!(
            "produced {} blocks in {:.1} s",
            blocks.len(),
            prepared.elapsed().as_secs_f64()
        );
        let store_dir = tempfile::tempdir().map_err(|e| LoadError::Io(std::env::temp_dir(), e))?;
        let store = Arc::new(Store::<P>::open(
            store_dir.path(),
            &StoreOptions::default(),
        )?);
        let anchor = ChainAnchor {
            state: anchor_state.clone(),
            block: block.clone(),
        };
        let chain = Chain::open(Arc::clone(&config), store, move || Ok(anchor))?;
        eprintln!("chain opened at {:.1} s", prepared.elapsed().as_secs_f64());
        let handle = keel_core::spawn(chain, &QueueConfig::default())?;
        let sink = Arc::new(sink::Sink::new(handle.sender.clone()));
        let stage = Arc::new(
            VerifyStage::start(
                GossipDecoder::new(&config, gvr),
                GossipValidator::new(Arc::clone(&config)),
                Arc::clone(&handle.snapshots),
                Arc::clone(&handle.pubkeys),
                Arc::clone(&sink) as Arc<dyn keel_verify::StageSink<P>>,
            )
            .map_err(LoadError::Stage)?,
        );
        eprintln!(
            "core and verify stage started at {:.1} s",
            prepared.elapsed().as_secs_f64()
        );
        // A running node has long decompressed its validators' keys: so does the stage's cache.
        let keys = handle.pubkeys.load_full();
        (0..anchor_state.validators.len() as u64)
            .into_par_iter()
            .for_each(|i| {
                let _ = keys.get(&anchor_state, i);
            });
        eprintln!(
            "chain, core and verify stage up in {:.1} s (validator keys decompressed)",
            prepared.elapsed().as_secs_f64()
        );
        if unix_ms() + 500 < t_start_ms {
            break (blocks, store_dir, handle, stage, sink, t_start_ms);
        }
        margin = prepared.elapsed().mul_f64(1.3) + Duration::from_secs(5);
        eprintln!(
            "preparation overran the start; again with {:.0} s of margin",
            margin.as_secs_f64()
        );
    };

    let items = schedule(
        &signed,
        &blocks,
        args.profile,
        digest,
        first_slot,
        slot,
        args.rate,
    );
    let tags: Vec<Tag> = items.iter().map(|i| i.tag).collect();
    sink.expect(items.len());
    drop(signed);
    if let Some(net) = &mut libp2p {
        net.set_schedule(
            items
                .iter()
                .map(|item| (item.topic.as_str(), item.data.as_slice())),
        )?;
        net.start_ingest(Arc::clone(&sink), Arc::clone(&stage))?;
    }

    // ---------------------------------------------------------------- timed phase
    let wait_ms = t_start_ms.saturating_sub(unix_ms());
    eprintln!(
        "{} messages scheduled; load starts in {:.1} s",
        items.len(),
        wait_ms as f64 / 1000.0
    );
    let t0 = Instant::now() + Duration::from_millis(wait_ms);
    sink.set_start(t0);
    let stop = AtomicBool::new(false);
    let end = slot * u32::try_from(args.slots).unwrap_or(u32::MAX);
    let (cpu_before, cpu_after, wall, left) = std::thread::scope(|scope| {
        // The clock: the core's ticks at every third of a slot, and queue depth samples.
        let clock = scope.spawn(|| {
            let mut next_tick = 0u64;
            let third = config.slot_duration_ms / 3;
            loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let now = Instant::now();
                if now >= t0 {
                    let elapsed_ms = (now - t0).as_millis() as u64;
                    if elapsed_ms >= next_tick {
                        let _ = handle.sender.send_blocking(
                            Class::Block,
                            CoreInput::Tick {
                                unix_ms: t_start_ms + elapsed_ms,
                            },
                        );
                        next_tick = (elapsed_ms / third + 1) * third;
                    }
                    sink.sample_depths(handle.sender.depths(), stage.in_flight());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        std::thread::sleep(t0.saturating_duration_since(Instant::now()));
        let cpu_before = cpu_seconds();
        for (index, item) in items.into_iter().enumerate() {
            let due = t0 + item.at;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            match &libp2p {
                // The receipt time is the node's host's, set when it hands the message over.
                Some(net) => {
                    sink.published(index, Instant::now());
                    net.publish(item.topic, item.data);
                }
                None => {
                    let received_at = Instant::now();
                    sink.sent(index, received_at);
                    stage.submit(RawMessage {
                        topic: item.topic,
                        data: item.data,
                        peer: PeerTag(index as u64),
                        received_at,
                    });
                }
            }
        }
        // Wait for the last verdicts and for the core's queues to drain.
        let deadline = t0 + end + GRACE;
        while Instant::now() < deadline
            && (!sink.all_answered() || handle.sender.depths().iter().any(|d| *d > 0))
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let wall = sink.last_verdict().max(Duration::from_millis(1));
        let cpu_after = cpu_seconds();
        let left = handle.sender.depths();
        stop.store(true, Ordering::SeqCst);
        let _ = clock.join();
        (cpu_before, cpu_after, wall, left)
    });
    // The hosts first: the ingest thread holds the stage until the node's app is gone.
    let net_counts = libp2p.map(|net| {
        let connected = net.connected();
        let counts = net.counts();
        net.stop();
        (counts, connected)
    });
    drop(stage);
    let core_ok = handle.is_running();
    handle.shutdown()?;
    drop(store_dir);

    // ---------------------------------------------------------------- results
    let report = sink.report(&tags);
    let phase = end.as_secs_f64();
    let total = tags.len() as f64;
    let msgs_per_s = total / wall.as_secs_f64();
    let cpu = cpu_after - cpu_before;
    let cores = rayon::current_num_threads() as f64;
    let cpu_share = cpu / wall.as_secs_f64() / cores;
    let mut block_import = keeper.histogram(keel_core::metric::RECEIPT_TO_IMPORT_SECONDS);
    let mut commit = keeper.histogram(keel_core::metric::COMMIT_SECONDS);
    let mut import_only = keeper.histogram(keel_core::metric::BLOCK_IMPORT_SECONDS);
    let mut batch_items = keeper.histogram(keel_core::metric::BATCH_ITEMS);
    let mut bls_batch = keeper.histogram(keel_verify::stage::metric::BATCH_SIZE);
    let sigs_per_s = report.attestation_sets as f64 / wall.as_secs_f64();
    let verify_ratio = sigs_per_s / raw_rate;
    let cpu_normalized_ratio = if cpu_share > 0.0 {
        verify_ratio / cpu_share.min(1.0)
    } else {
        0.0
    };
    let block_p99 = quantile(&mut block_import, 0.99);
    let attestation_p99 = report.single_verdict_p99;

    println!(
        "\nmessages (fed over {:.1} s of load, answered within {:.1} s):",
        phase,
        wall.as_secs_f64()
    );
    for kind in &report.kinds {
        println!(
            "  {:<20} {:>8} sent {:>9.1}/s  accept {:>8} ignore {:>7} reject {:>7} unanswered {:>5}  verdict p50 {:>8.2} ms p99 {:>8.2} ms",
            kind.name,
            kind.sent,
            kind.sent as f64 / wall.as_secs_f64(),
            kind.accept,
            kind.ignore,
            kind.reject,
            kind.unanswered,
            ms(kind.p50),
            ms(kind.p99)
        );
    }
    println!(
        "receipt -> import: blocks p50 {:.2} ms p99 {:.2} ms (of which the core's import_block p50 {:.2} ms max {:.2} ms; {} imported, {} refused by the core); \
         attestations receipt -> core queue p50 {:.2} ms p99 {:.2} ms (the core does not time attestation application)",
        ms(quantile(&mut block_import.clone(), 0.5)),
        ms(block_p99),
        ms(quantile(&mut import_only, 0.5)),
        ms(quantile(&mut import_only, 1.0)),
        keeper.counter(keel_core::metric::BLOCKS_IMPORTED),
        keeper.counter(keel_core::metric::BLOCKS_REFUSED),
        ms(report.enqueue_p50),
        ms(report.enqueue_p99),
    );
    println!(
        "core: {} batches, items per batch p50 {:.0} max {:.0}, commit p50 {:.2} ms p99 {:.2} ms; attestations applied {}, refused {}",
        commit.len(),
        quantile(&mut batch_items, 0.5),
        quantile(&mut batch_items, 1.0),
        ms(quantile(&mut commit, 0.5)),
        ms(quantile(&mut commit, 0.99)),
        keeper.counter(keel_core::metric::ATTESTATIONS_APPLIED),
        keeper.counter(keel_core::metric::ATTESTATIONS_REFUSED),
    );
    println!(
        "queues: max depth block {} aggregate {} attestation {}; dropped (oldest shed) aggregate {} attestation {}; verify stage max in flight {}",
        report.max_depth[0],
        report.max_depth[2],
        report.max_depth[4],
        report.queue_drops[2],
        report.queue_drops[4],
        report.max_in_flight
    );
    if left.iter().any(|d| *d > 0) {
        println!(
            "not imported when the run stopped ({} s after the last slot): {} attestations and {} aggregates still in the core's queues",
            GRACE.as_secs(),
            left[4],
            left[2]
        );
    }
    println!(
        "bls: batch size p50 {:.0} max {:.0}; {} checks for {} sets, {} invalid",
        quantile(&mut bls_batch, 0.5),
        quantile(&mut bls_batch, 1.0),
        keeper.counter(keel_verify::bls_batch::metric::CHECKS),
        keeper.counter(keel_verify::bls_batch::metric::SETS),
        keeper.counter(keel_verify::bls_batch::metric::INVALID),
    );
    println!(
        "attestation signatures verified: {:.0}/s; raw blst same-message batches: {:.0}/s; ratio {:.3} (CPU-normalised {:.3})",
        sigs_per_s, raw_rate, verify_ratio, cpu_normalized_ratio
    );
    println!(
        "cpu: {:.1} s over {:.1} s on {} cores ({:.0}% of the machine)",
        cpu,
        wall.as_secs_f64(),
        cores,
        cpu_share * 100.0
    );
    let duplicates = tags.iter().filter(|t| **t == Tag::Duplicate).count();
    let libp2p_json = net_counts.as_ref().map(|(counts, connected)| {
        println!(
            "libp2p: publish -> receipt by the node's host p50 {:.2} ms p99 {:.2} ms; received {} of {} published, {} not received ({} exact duplicates, which gossipsub's duplicate cache stops at the sender); shed by the node's ingest queue {}; sender {}",
            ms(report.transit_p50),
            ms(report.transit_p99),
            report.received,
            report.received + report.not_received,
            report.not_received,
            duplicates,
            counts.shed,
            if *connected {
                "still connected".to_string()
            } else {
                format!(
                    "disconnected by the end ({} bans, {} penalties for invalid gossip)",
                    keeper.counter(keel_p2p::metric::BANS),
                    keeper.counter(&format!(
                        "{}{{offence=invalid_gossip}}",
                        keel_p2p::metric::PENALTIES
                    )),
                )
            },
        );
        json!({
            "publish_to_receipt_p50_ms": ms(report.transit_p50),
            "publish_to_receipt_p99_ms": ms(report.transit_p99),
            "received": report.received,
            "not_received": report.not_received,
            "duplicates_published": duplicates,
            "shed_by_ingest_queue": counts.shed,
            "probes": counts.probes,
            "sender_connected_at_end": connected,
            "bans": keeper.counter(keel_p2p::metric::BANS),
        })
    });
    if args.profile != Profile::Home {
        println!(
            "valid single attestations accepted: {:.2}%",
            report.single_accept_share * 100.0
        );
    }
    if !report.reasons.is_empty() {
        println!("verdict reasons (ignore/reject):");
        for (reason, count) in &report.reasons {
            println!("  {count:>8}  {reason}");
        }
    }
    if !core_ok {
        println!("warning: the core thread had stopped before the end of the run");
    }

    if let Some(path) = &args.json {
        let kinds: Vec<_> = report
            .kinds
            .iter()
            .map(|k| {
                json!({
                    "kind": k.name, "sent": k.sent, "per_second": k.sent as f64 / wall.as_secs_f64(),
                    "accept": k.accept, "ignore": k.ignore, "reject": k.reject, "unanswered": k.unanswered,
                    "verdict_p50_ms": ms(k.p50), "verdict_p99_ms": ms(k.p99),
                })
            })
            .collect();
        let value = json!({
            "profile": args.profile.name(),
            "transport": args.transport.name(),
            "libp2p": libp2p_json,
            "validators": args.validators,
            "slots": args.slots,
            "rate": args.rate,
            "slot_ms": config.slot_duration_ms,
            "cores": cores,
            "messages": total,
            "seconds": wall.as_secs_f64(),
            "messages_per_second": msgs_per_s,
            "kinds": kinds,
            "attestation_verdict_p99_ms": ms(attestation_p99),
            "block_receipt_to_import_p50_ms": ms(quantile(&mut block_import.clone(), 0.5)),
            "block_receipt_to_import_p99_ms": ms(block_p99),
            "block_import_only_max_ms": ms(quantile(&mut import_only, 1.0)),
            "attestation_receipt_to_core_queue_p50_ms": ms(report.enqueue_p50),
            "attestation_receipt_to_core_queue_p99_ms": ms(report.enqueue_p99),
            "blocks_imported": keeper.counter(keel_core::metric::BLOCKS_IMPORTED),
            "blocks_refused": keeper.counter(keel_core::metric::BLOCKS_REFUSED),
            "attestations_applied": keeper.counter(keel_core::metric::ATTESTATIONS_APPLIED),
            "commit_p99_ms": ms(quantile(&mut commit, 0.99)),
            "max_queue_depth": report.max_depth,
            "max_verify_in_flight": report.max_in_flight,
            "left_in_core_queues_at_stop": left,
            "queue_drops": report.queue_drops,
            "dropped_valid": report.dropped_valid,
            "valid_single_accept_share": report.single_accept_share,
            "attestation_signatures_per_second": sigs_per_s,
            "raw_same_message_sets_per_second": raw_rate,
            "verify_ratio": verify_ratio,
            "verify_ratio_cpu_normalised": cpu_normalized_ratio,
            "cpu_seconds": cpu,
            "cpu_share": cpu_share,
            "counters": keeper.counters().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "not_generated": ["sync_committee_messages", "sync_committee_contributions", "data_column_sidecars"],
        });
        let text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
        std::fs::write(path, text).map_err(|e| LoadError::Io(path.clone(), e))?;
    }

    println!(
        "loadtest {}: {:.0} msgs/s, attestation p99 {:.1} ms, block p99 {:.1} ms, dropped valid {}, verify ratio {:.3}",
        args.profile.name(),
        msgs_per_s,
        attestation_p99 * 1000.0,
        block_p99 * 1000.0,
        report.dropped_valid,
        verify_ratio
    );
    Ok(())
}
