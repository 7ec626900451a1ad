//! A progress line for long syncs: where it is, where it is going, slots per second, ETA.

use std::time::{Duration, Instant};

/// Logs at most every `every`; the rate is measured over the whole run so far.
pub struct Progress {
    what: &'static str,
    started: Instant,
    start_slot: u64,
    last_log: Instant,
    every: Duration,
}

impl Progress {
    pub fn new(what: &'static str, start_slot: u64) -> Self {
        let now = Instant::now();
        Self {
            what,
            started: now,
            start_slot,
            last_log: now,
            every: Duration::from_secs(5),
        }
    }

    /// Slots per second so far.
    pub fn rate(&self, slot: u64) -> f64 {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        slot.abs_diff(self.start_slot) as f64 / elapsed
    }

    /// Seconds left at the current rate, if there is one.
    pub fn eta(&self, slot: u64, target: u64) -> Option<Duration> {
        let rate = self.rate(slot);
        (rate > 0.0).then(|| Duration::from_secs_f64(slot.abs_diff(target) as f64 / rate))
    }

    pub fn report(&mut self, slot: u64, target: u64) {
        if self.last_log.elapsed() < self.every {
            return;
        }
        self.last_log = Instant::now();
        let eta = self.eta(slot, target).map_or_else(
            || "unknown".to_string(),
            |eta| format!("{}s", eta.as_secs()),
        );
        tracing::info!(
            "{}: slot {slot} of {target} | {:.1} slots/s | ETA {eta}",
            self.what,
            self.rate(slot)
        );
    }

    pub fn finish(&self, slot: u64) {
        tracing::info!(
            "{}: reached slot {slot} in {:.1}s ({:.1} slots/s)",
            self.what,
            self.started.elapsed().as_secs_f64(),
            self.rate(slot)
        );
    }
}
