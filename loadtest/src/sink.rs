//! The verify stage's sink: verified blocks and attestations go to the core's queues (blocks
//! with the engine's `VALID`: there is no engine here), every verdict is recorded with its time.
//! Messages are numbered by their [`PeerTag`] (the load test gives each message its own).
//!
//! Over libp2p (`crate::network`) the node's host tags messages with the sender's peer tag; the
//! ingest thread records that tag under the message's number, and every verdict goes back to
//! gossipsub with it ([`keel_p2p::NetworkHandle::report`]), as the node's sink does.

use crate::generate::{P, Tag};
use crate::recorder::quantile;
use keel_core::CoreInput;
use keel_pipeline_api::{PayloadStatus, PeerTag, Verdict};
use keel_queue::{Class, QueueSender, SendOutcome};
use keel_verify::{AttestationOrigin, StageSink, VerifiedAttestation, VerifiedBlock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NONE: u8 = 0;
const ACCEPT: u8 = 1;
const IGNORE: u8 = 2;
const REJECT: u8 = 3;
/// Verdicts that come out of the BLS batch: the signature was checked.
const REJECT_SIGNATURE: u8 = 4;
const IGNORE_DUPLICATE: u8 = 5;
/// An aggregate whose bits are a subset of one already seen: ignored by the spec's rule, and
/// its votes are in the pool already, so not a loss.
const IGNORE_SUBSET: u8 = 6;

pub struct Sink {
    core: QueueSender<CoreInput<P>>,
    start: OnceLock<Instant>,
    /// Receipt: submitted to the verify stage (in process), or received by the node's host.
    sent_ns: OnceLock<Vec<AtomicU64>>,
    /// Published by the sender's host (libp2p only).
    published_ns: OnceLock<Vec<AtomicU64>>,
    /// The peer tag the node's host gave each message's source (libp2p only).
    origin: OnceLock<Vec<AtomicU64>>,
    /// The node's host, to report verdicts to (libp2p only).
    network: OnceLock<keel_p2p::NetworkHandle>,
    verdict_ns: OnceLock<Vec<AtomicU64>>,
    verdict: OnceLock<Vec<AtomicU8>>,
    answered: AtomicUsize,
    last_ns: AtomicU64,
    /// Receipt → handed to the core's queue, attestations (seconds).
    enqueue: Mutex<Vec<f64>>,
    drops: [AtomicU64; 6],
    max_depth: [AtomicUsize; 6],
    max_in_flight: AtomicUsize,
    reasons: Mutex<HashMap<String, u64>>,
}

/// The recorded run, summarised.
pub struct Report {
    pub kinds: Vec<KindReport>,
    pub single_verdict_p99: f64,
    pub enqueue_p50: f64,
    pub enqueue_p99: f64,
    pub max_depth: [usize; 6],
    /// Most messages in the verify stage at once (sampled every 5 ms).
    pub max_in_flight: usize,
    pub queue_drops: [u64; 6],
    pub dropped_valid: u64,
    pub single_accept_share: f64,
    /// Attestation signature sets that went through BLS (a single attestation has one, an
    /// aggregate three).
    pub attestation_sets: u64,
    pub reasons: Vec<(String, u64)>,
    /// Libp2p only: publish → receipt by the node's host, seconds, and how many of the
    /// published messages the node's host never delivered to the app.
    pub transit_p50: f64,
    pub transit_p99: f64,
    pub received: u64,
    pub not_received: u64,
}

pub struct KindReport {
    pub name: &'static str,
    pub sent: u64,
    pub accept: u64,
    pub ignore: u64,
    pub reject: u64,
    pub unanswered: u64,
    pub p50: f64,
    pub p99: f64,
}

/// A verdict's reason without the roots and numbers that make every one different.
fn normalise(reason: &str) -> String {
    let cut = reason
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(reason.len());
    reason[..cut].trim_end().to_string()
}

impl Sink {
    pub fn new(core: QueueSender<CoreInput<P>>) -> Self {
        Sink {
            core,
            start: OnceLock::new(),
            sent_ns: OnceLock::new(),
            published_ns: OnceLock::new(),
            origin: OnceLock::new(),
            network: OnceLock::new(),
            verdict_ns: OnceLock::new(),
            verdict: OnceLock::new(),
            answered: AtomicUsize::new(0),
            last_ns: AtomicU64::new(0),
            enqueue: Mutex::new(Vec::new()),
            drops: Default::default(),
            max_depth: Default::default(),
            max_in_flight: AtomicUsize::new(0),
            reasons: Mutex::new(HashMap::new()),
        }
    }

    /// Sizes the records for `n` messages (before the first is sent).
    pub fn expect(&self, n: usize) {
        let _ = self
            .sent_ns
            .set((0..n).map(|_| AtomicU64::new(0)).collect());
        let _ = self
            .verdict_ns
            .set((0..n).map(|_| AtomicU64::new(0)).collect());
        let _ = self
            .verdict
            .set((0..n).map(|_| AtomicU8::new(NONE)).collect());
        let _ = self
            .published_ns
            .set((0..n).map(|_| AtomicU64::new(0)).collect());
        let _ = self.origin.set((0..n).map(|_| AtomicU64::new(0)).collect());
    }

    /// Verdicts go back to this host's gossipsub from now on.
    pub fn set_network(&self, network: keel_p2p::NetworkHandle) {
        let _ = self.network.set(network);
    }

    /// Libp2p: message `index` was handed to the sender's host at `at`.
    pub fn published(&self, index: usize, at: Instant) {
        if let Some(slot) = self.published_ns.get().and_then(|v| v.get(index)) {
            slot.store(self.since_start(at), Ordering::Relaxed);
        }
    }

    /// Libp2p: the node's host received message `index` at `at` from the peer it tags `peer`.
    pub fn received(&self, index: usize, at: Instant, peer: PeerTag) {
        if let Some(slot) = self.origin.get().and_then(|v| v.get(index)) {
            slot.store(peer.0, Ordering::Relaxed);
        }
        self.sent(index, at);
    }

    pub fn set_start(&self, start: Instant) {
        let _ = self.start.set(start);
    }

    fn since_start(&self, at: Instant) -> u64 {
        self.start
            .get()
            .map_or(0, |s| at.saturating_duration_since(*s).as_nanos() as u64)
            .saturating_add(1)
    }

    pub fn sent(&self, index: usize, at: Instant) {
        if let Some(slot) = self.sent_ns.get().and_then(|v| v.get(index)) {
            slot.store(self.since_start(at), Ordering::Relaxed);
        }
    }

    pub fn all_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed) >= self.sent_ns.get().map_or(0, Vec::len)
    }

    /// When the last verdict came, from the start of the load.
    pub fn last_verdict(&self) -> Duration {
        Duration::from_nanos(self.last_ns.load(Ordering::Relaxed))
    }

    pub fn sample_depths(&self, depths: [usize; 6], in_flight: usize) {
        self.max_in_flight.fetch_max(in_flight, Ordering::Relaxed);
        for (max, depth) in self.max_depth.iter().zip(depths) {
            max.fetch_max(depth, Ordering::Relaxed);
        }
    }

    fn count_drop(&self, class: Class) {
        if let Some(c) = Class::ALL
            .iter()
            .position(|c| *c == class)
            .and_then(|i| self.drops.get(i))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn report(&self, tags: &[Tag]) -> Report {
        let empty = Vec::new();
        let sent = self.sent_ns.get().unwrap_or(&empty);
        let done = self.verdict_ns.get().unwrap_or(&empty);
        let empty_v = Vec::new();
        let verdicts = self.verdict.get().unwrap_or(&empty_v);
        let mut by_tag: BTreeMap<Tag, (KindReport, Vec<f64>)> = BTreeMap::new();
        let mut dropped_valid = 0u64;
        let mut attestation_sets = 0u64;
        let (mut singles, mut singles_accepted) = (0u64, 0u64);
        let mut single_latencies = Vec::new();
        let published = self.published_ns.get().unwrap_or(&empty);
        let mut transit = Vec::new();
        let (mut received, mut not_received) = (0u64, 0u64);
        for (i, tag) in tags.iter().enumerate() {
            let entry = by_tag.entry(*tag).or_insert_with(|| {
                (
                    KindReport {
                        name: tag.name(),
                        sent: 0,
                        accept: 0,
                        ignore: 0,
                        reject: 0,
                        unanswered: 0,
                        p50: 0.0,
                        p99: 0.0,
                    },
                    Vec::new(),
                )
            });
            entry.0.sent += 1;
            let verdict = verdicts.get(i).map_or(NONE, |v| v.load(Ordering::Relaxed));
            match verdict {
                ACCEPT => entry.0.accept += 1,
                IGNORE | IGNORE_DUPLICATE | IGNORE_SUBSET => entry.0.ignore += 1,
                REJECT | REJECT_SIGNATURE => entry.0.reject += 1,
                _ => entry.0.unanswered += 1,
            }
            if matches!(verdict, ACCEPT | REJECT_SIGNATURE | IGNORE_DUPLICATE) {
                attestation_sets += match tag {
                    Tag::Aggregate => 3,
                    Tag::Block => 0,
                    _ => 1,
                };
            }
            if tag.valid() && verdict != ACCEPT && verdict != IGNORE_SUBSET {
                dropped_valid += 1;
            }
            let (s, d) = (
                sent.get(i).map_or(0, |v| v.load(Ordering::Relaxed)),
                done.get(i).map_or(0, |v| v.load(Ordering::Relaxed)),
            );
            if s > 0 && d >= s {
                let latency = (d - s) as f64 / 1e9;
                entry.1.push(latency);
                if *tag == Tag::Single {
                    single_latencies.push(latency);
                }
            }
            let p = published.get(i).map_or(0, |v| v.load(Ordering::Relaxed));
            if p > 0 && s > 0 {
                received += 1;
                transit.push(s.saturating_sub(p) as f64 / 1e9);
            } else if p > 0 {
                not_received += 1;
            }
            if *tag == Tag::Single {
                singles += 1;
                singles_accepted += u64::from(verdict == ACCEPT);
            }
        }
        let mut enqueue = self
            .enqueue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut queue_drops = [0u64; 6];
        for (out, d) in queue_drops.iter_mut().zip(&self.drops) {
            *out = d.load(Ordering::Relaxed);
        }
        let mut max_depth = [0usize; 6];
        for (out, d) in max_depth.iter_mut().zip(&self.max_depth) {
            *out = d.load(Ordering::Relaxed);
        }
        let mut reasons: Vec<(String, u64)> = self
            .reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        Report {
            kinds: by_tag
                .into_values()
                .map(|(mut k, mut latencies)| {
                    k.p50 = quantile(&mut latencies, 0.5);
                    k.p99 = quantile(&mut latencies, 0.99);
                    k
                })
                .collect(),
            single_verdict_p99: quantile(&mut single_latencies, 0.99),
            enqueue_p50: quantile(&mut enqueue, 0.5),
            enqueue_p99: quantile(&mut enqueue, 0.99),
            max_depth,
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            // Attestations shed by the core's queues were valid and accepted.
            dropped_valid: dropped_valid + queue_drops.iter().sum::<u64>(),
            queue_drops,
            single_accept_share: if singles == 0 {
                1.0
            } else {
                singles_accepted as f64 / singles as f64
            },
            attestation_sets,
            reasons,
            transit_p50: quantile(&mut transit, 0.5),
            transit_p99: quantile(&mut transit, 0.99),
            received,
            not_received,
        }
    }
}

impl StageSink<P> for Sink {
    fn block(&self, block: VerifiedBlock<P>) {
        let seen_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let input = CoreInput::Block {
            block,
            payload: PayloadStatus::Valid,
            seen_at_ms,
        };
        if self.core.send_blocking(Class::Block, input).is_err() {
            self.count_drop(Class::Block);
        }
    }

    fn attestation(&self, attestation: VerifiedAttestation<P>) {
        let class = match attestation.origin() {
            AttestationOrigin::Aggregate => Class::Aggregate,
            AttestationOrigin::Single => Class::Attestation,
        };
        let waited = attestation.received_at().elapsed().as_secs_f64();
        self.enqueue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(waited);
        match self.core.send(class, CoreInput::Attestation(attestation)) {
            Ok(SendOutcome::Enqueued) => {}
            Ok(SendOutcome::EnqueuedDroppedOldest) | Err(_) => self.count_drop(class),
        }
    }

    /// Not generated by the load test; nothing in the core takes them yet.
    fn sync_message(&self, _message: keel_verify::VerifiedSyncMessage) {}

    // The load test generates no sync committee traffic (see README).
    fn contribution(&self, _contribution: keel_verify::VerifiedContribution<P>) {}

    fn verdict(&self, message_id: [u8; 20], peer: PeerTag, verdict: Verdict) {
        let now = self.since_start(Instant::now());
        let index = usize::try_from(peer.0).unwrap_or(usize::MAX);
        if let (Some(network), Some(origin)) = (
            self.network.get(),
            self.origin.get().and_then(|v| v.get(index)),
        ) {
            // What gossipsub holds the message for: forward it (Accept) or drop it, and score
            // the peer it came from.
            network.report(
                message_id,
                PeerTag(origin.load(Ordering::Relaxed)),
                verdict.clone(),
            );
        }
        let code = match &verdict {
            Verdict::Accept => ACCEPT,
            Verdict::Ignore(reason) if reason == "duplicate" => IGNORE_DUPLICATE,
            Verdict::Ignore(reason) if reason.contains("superset of these bits") => IGNORE_SUBSET,
            Verdict::Reject(reason) if reason == "invalid signature" => REJECT_SIGNATURE,
            Verdict::Ignore(_) => IGNORE,
            Verdict::Reject(_) => REJECT,
        };
        if let Verdict::Ignore(reason) | Verdict::Reject(reason) = &verdict {
            let label = match verdict {
                Verdict::Reject(_) => "reject",
                _ => "ignore",
            };
            *self
                .reasons
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(format!("{label}: {}", normalise(reason)))
                .or_default() += 1;
        }
        if let (Some(at), Some(v)) = (
            self.verdict_ns.get().and_then(|v| v.get(index)),
            self.verdict.get().and_then(|v| v.get(index)),
        ) {
            at.store(now, Ordering::Relaxed);
            if v.swap(code, Ordering::Relaxed) == NONE {
                self.answered.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.last_ns.fetch_max(now, Ordering::Relaxed);
    }
}
