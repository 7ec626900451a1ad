//! Subnet-aware peer selection: among discovered peers, dial first those that serve the
//! attestation and sync-committee subnets this node subscribes to and has too few peers on,
//! and when close to the peer target, dial only those. A node on a subnet without peers
//! cannot publish or receive its messages, however many peers it has elsewhere.
//!
//! Coverage comes from the `attnets` and `syncnets` bitfields of the ENRs the node dialed.
//! Whether those subnets matter is the node's choice (its own ENR fields); this module only
//! counts.

/// Connected peers per subscribed subnet the node aims for.
pub const PEERS_PER_SUBNET: usize = 2;

/// A bitfield's bits (SSZ `Bitvector`: bit `i` is bit `i % 8` of byte `i / 8`).
fn bits(field: &[u8], count: usize) -> impl Iterator<Item = bool> + '_ {
    (0..count).map(move |i| {
        field
            .get(i / 8)
            .is_some_and(|byte| byte >> (i % 8) & 1 == 1)
    })
}

/// How many connected peers cover each subnet the node subscribes to.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    wanted: Vec<bool>,
    peers: Vec<usize>,
    attestation_subnets: usize,
}

impl Coverage {
    /// From the node's own `attnets` and `syncnets` (the subnets it subscribes to).
    pub fn new(attnets: &[u8], syncnets: &[u8]) -> Self {
        let attestation_subnets = attnets.len() * 8;
        let wanted: Vec<bool> = bits(attnets, attestation_subnets)
            .chain(bits(syncnets, syncnets.len() * 8))
            .collect();
        Coverage {
            peers: vec![0; wanted.len()],
            wanted,
            attestation_subnets,
        }
    }

    fn peer_bits<'a>(
        &self,
        attnets: &'a [u8],
        syncnets: &'a [u8],
    ) -> impl Iterator<Item = bool> + 'a {
        let sync_count = self.wanted.len().saturating_sub(self.attestation_subnets);
        bits(attnets, self.attestation_subnets).chain(bits(syncnets, sync_count))
    }

    pub fn add(&mut self, attnets: &[u8], syncnets: &[u8]) {
        let covered: Vec<bool> = self.peer_bits(attnets, syncnets).collect();
        for (count, covers) in self.peers.iter_mut().zip(covered) {
            if covers {
                *count = count.saturating_add(1);
            }
        }
    }

    pub fn remove(&mut self, attnets: &[u8], syncnets: &[u8]) {
        let covered: Vec<bool> = self.peer_bits(attnets, syncnets).collect();
        for (count, covers) in self.peers.iter_mut().zip(covered) {
            if covers {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// How many of the node's under-served subnets a peer with these fields would serve.
    pub fn gain(&self, attnets: &[u8], syncnets: &[u8]) -> usize {
        self.peer_bits(attnets, syncnets)
            .zip(self.wanted.iter().zip(&self.peers))
            .filter(|(covers, (wanted, peers))| *covers && **wanted && **peers < PEERS_PER_SUBNET)
            .count()
    }

    /// Subscribed subnets with fewer than [`PEERS_PER_SUBNET`] peers.
    pub fn under_served(&self) -> usize {
        self.wanted
            .iter()
            .zip(&self.peers)
            .filter(|(wanted, peers)| **wanted && **peers < PEERS_PER_SUBNET)
            .count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn peers_on_under_served_subnets_gain_until_the_subnet_has_enough() {
        // The node wants attestation subnets 0 and 9, and sync subnet 1.
        let mut coverage = Coverage::new(&[0b0000_0001, 0b0000_0010, 0, 0, 0, 0, 0, 0], &[0b0010]);
        assert_eq!(coverage.under_served(), 3);
        let on_9 = [0, 0b10, 0, 0, 0, 0, 0, 0];
        let elsewhere = [0, 0, 0xff, 0, 0, 0, 0, 0];
        assert_eq!(coverage.gain(&on_9, &[0]), 1);
        assert_eq!(coverage.gain(&elsewhere, &[0]), 0);
        assert_eq!(coverage.gain(&elsewhere, &[0b0010]), 1, "sync subnet 1");
        coverage.add(&on_9, &[0]);
        assert_eq!(coverage.gain(&on_9, &[0]), 1, "one peer is not enough");
        coverage.add(&on_9, &[0]);
        assert_eq!(coverage.gain(&on_9, &[0]), 0, "two are");
        assert_eq!(coverage.under_served(), 2);
        coverage.remove(&on_9, &[0]);
        assert_eq!(coverage.gain(&on_9, &[0]), 1);
        // Short or empty fields (a peer without them) cover nothing and do not panic.
        assert_eq!(coverage.gain(&[], &[]), 0);
    }
}
