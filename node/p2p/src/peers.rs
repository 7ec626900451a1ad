//! The peer table: who is connected, what they told us (Status, MetaData), how they behaved
//! (a score that gossip verdicts and req/resp conduct move), and who is banned until when.
//!
//! Scores decay towards zero, so an honest peer that once forwarded a bad message recovers; a
//! peer whose score falls below [`BAN_THRESHOLD`] is sent a Goodbye, disconnected and banned.

use keel_pipeline_api::PeerTag;
use keel_types::fulu::StatusV2;
use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Below this score a peer is disconnected and banned.
pub const BAN_THRESHOLD: f64 = -100.0;
/// Scores halve every this long.
const SCORE_HALF_LIFE: Duration = Duration::from_secs(600);

/// Misbehaviour, by how much it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offence {
    /// A gossip message the pipeline rejected (invalid signature, bad block, ...).
    InvalidGossip,
    /// Bytes that are not the protocol: bad snappy, bad framing, oversized messages.
    Malformed,
    /// A req/resp answer that was invalid (blocks that do not chain, or fail import).
    InvalidResponse,
    /// A request the peer should not have made (beyond limits, too often).
    AbusiveRequest,
    /// No answer in time.
    Timeout,
    /// On another chain: a different fork digest or finalized checkpoint.
    IrrelevantNetwork,
}

impl Offence {
    pub fn penalty(self) -> f64 {
        match self {
            Offence::InvalidGossip => 20.0,
            Offence::Malformed => 40.0,
            Offence::InvalidResponse => 50.0,
            Offence::AbusiveRequest => 15.0,
            Offence::Timeout => 5.0,
            Offence::IrrelevantNetwork => 1000.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Offence::InvalidGossip => "invalid_gossip",
            Offence::Malformed => "malformed",
            Offence::InvalidResponse => "invalid_response",
            Offence::AbusiveRequest => "abusive_request",
            Offence::Timeout => "timeout",
            Offence::IrrelevantNetwork => "irrelevant_network",
        }
    }
}

/// Goodbye reasons (`uint64`), as the spec numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoodbyeReason {
    ClientShutdown,
    IrrelevantNetwork,
    Fault,
    TooManyPeers,
    BadScore,
    Banned,
    Other(u64),
}

impl GoodbyeReason {
    pub fn code(self) -> u64 {
        match self {
            Self::ClientShutdown => 1,
            Self::IrrelevantNetwork => 2,
            Self::Fault => 3,
            Self::TooManyPeers => 129,
            Self::BadScore => 250,
            Self::Banned => 251,
            Self::Other(code) => code,
        }
    }

    pub fn from_code(code: u64) -> Self {
        match code {
            1 => Self::ClientShutdown,
            2 => Self::IrrelevantNetwork,
            3 => Self::Fault,
            129 => Self::TooManyPeers,
            250 => Self::BadScore,
            251 => Self::Banned,
            other => Self::Other(other),
        }
    }
}

/// What the node knows of one connected peer.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub tag: PeerTag,
    pub peer_id: PeerId,
    pub address: Option<libp2p::Multiaddr>,
    pub inbound: bool,
    pub status: Option<StatusV2>,
    pub score: f64,
    pub agent: Option<String>,
    pub connected_at: Instant,
}

#[derive(Debug)]
struct Entry {
    info: PeerInfo,
    scored_at: Instant,
}

/// Connected peers, their tags, scores and the ban list.
#[derive(Debug, Default)]
pub struct PeerTable {
    connected: HashMap<PeerId, Entry>,
    tags: HashMap<PeerTag, PeerId>,
    banned: HashMap<PeerId, Instant>,
    next_tag: u64,
}

impl PeerTable {
    /// Records a connection; returns its tag. Tags are never reused, so a late verdict cannot
    /// hit a different peer.
    pub fn connected(
        &mut self,
        peer_id: PeerId,
        address: Option<libp2p::Multiaddr>,
        inbound: bool,
        now: Instant,
    ) -> PeerTag {
        if let Some(entry) = self.connected.get(&peer_id) {
            return entry.info.tag;
        }
        // Tag 0 is the node itself (locally produced messages).
        self.next_tag += 1;
        let tag = PeerTag(self.next_tag);
        self.tags.insert(tag, peer_id);
        self.connected.insert(
            peer_id,
            Entry {
                info: PeerInfo {
                    tag,
                    peer_id,
                    address,
                    inbound,
                    status: None,
                    score: 0.0,
                    agent: None,
                    connected_at: now,
                },
                scored_at: now,
            },
        );
        tag
    }

    pub fn disconnected(&mut self, peer_id: &PeerId) {
        if let Some(entry) = self.connected.remove(peer_id) {
            self.tags.remove(&entry.info.tag);
        }
    }

    pub fn peer_of(&self, tag: PeerTag) -> Option<PeerId> {
        self.tags.get(&tag).copied()
    }

    pub fn tag_of(&self, peer_id: &PeerId) -> Option<PeerTag> {
        self.connected.get(peer_id).map(|e| e.info.tag)
    }

    pub fn info(&self, peer_id: &PeerId) -> Option<&PeerInfo> {
        self.connected.get(peer_id).map(|e| &e.info)
    }

    pub fn set_status(&mut self, peer_id: &PeerId, status: StatusV2) {
        if let Some(entry) = self.connected.get_mut(peer_id) {
            entry.info.status = Some(status);
        }
    }

    pub fn set_agent(&mut self, peer_id: &PeerId, agent: String) {
        if let Some(entry) = self.connected.get_mut(peer_id) {
            entry.info.agent = Some(agent);
        }
    }

    /// Applies an offence; returns the new score (decayed first).
    pub fn penalise(&mut self, peer_id: &PeerId, offence: Offence, now: Instant) -> Option<f64> {
        let entry = self.connected.get_mut(peer_id)?;
        decay(entry, now);
        entry.info.score -= offence.penalty();
        Some(entry.info.score)
    }

    /// Bans the peer until `now + duration`.
    pub fn ban(&mut self, peer_id: PeerId, now: Instant, duration: Duration) {
        self.banned.insert(peer_id, now + duration);
    }

    /// Whether the peer is banned at `now` (expired bans are forgotten).
    pub fn is_banned(&mut self, peer_id: &PeerId, now: Instant) -> bool {
        match self.banned.get(peer_id) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.banned.remove(peer_id);
                false
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.connected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.connected.is_empty()
    }

    pub fn inbound_count(&self) -> usize {
        self.connected.values().filter(|e| e.info.inbound).count()
    }

    pub fn is_connected(&self, peer_id: &PeerId) -> bool {
        self.connected.contains_key(peer_id)
    }

    /// Every connected peer, scores decayed to `now`.
    pub fn snapshot(&mut self, now: Instant) -> Vec<PeerInfo> {
        self.connected
            .values_mut()
            .map(|entry| {
                decay(entry, now);
                entry.info.clone()
            })
            .collect()
    }

    pub fn banned_count(&self) -> usize {
        self.banned.len()
    }
}

fn decay(entry: &mut Entry, now: Instant) {
    let elapsed = now.saturating_duration_since(entry.scored_at).as_secs_f64();
    entry.info.score *= 0.5f64.powf(elapsed / SCORE_HALF_LIFE.as_secs_f64());
    entry.scored_at = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offences_accumulate_to_a_ban_and_scores_recover() {
        let mut table = PeerTable::default();
        let now = Instant::now();
        let peer = PeerId::random();
        let tag = table.connected(peer, None, true, now);
        assert_eq!(table.peer_of(tag), Some(peer));
        let mut score = 0.0;
        for _ in 0..3 {
            score = table.penalise(&peer, Offence::Malformed, now).unwrap();
        }
        assert!(score < BAN_THRESHOLD, "{score}");
        let later = now + SCORE_HALF_LIFE * 4;
        let info = table.snapshot(later);
        assert!(info[0].score > BAN_THRESHOLD, "{}", info[0].score);

        table.ban(peer, now, Duration::from_secs(60));
        assert!(table.is_banned(&peer, now + Duration::from_secs(59)));
        assert!(!table.is_banned(&peer, now + Duration::from_secs(61)));
    }

    #[test]
    fn tags_are_not_reused() {
        let mut table = PeerTable::default();
        let now = Instant::now();
        let peer = PeerId::random();
        let first = table.connected(peer, None, false, now);
        table.disconnected(&peer);
        assert_eq!(table.peer_of(first), None);
        let second = table.connected(peer, None, false, now);
        assert_ne!(first, second);
    }
}
