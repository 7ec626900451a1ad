//! Progress displays for long work (key derivation, checkpoint download): a bar with rate and
//! ETA on a terminal, periodic log lines otherwise (so that logs and CI output stay readable).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: u64,
    started: Instant,
    last_logged: AtomicU64,
}

impl Progress {
    pub fn new(what: &'static str, total: u64, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let template = match unit {
                "bytes" => "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                _ => "{msg} [{bar:40}] {pos}/{len} {per_sec} ETA {eta}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            what,
            total,
            started: Instant::now(),
            last_logged: AtomicU64::new(0),
        }
    }

    pub fn set(&self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                // One line every ten seconds at most.
                let elapsed = self.started.elapsed().as_secs();
                let last = self.last_logged.load(Ordering::Relaxed);
                if elapsed >= last + 10
                    && self
                        .last_logged
                        .compare_exchange(last, elapsed, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                    && done > 0
                {
                    let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                    let eta = self.total.saturating_sub(done) as f64 / rate.max(1e-9);
                    tracing::info!(
                        "{}: {done}/{} ({rate:.0}/s, ETA {eta:.0} s)",
                        self.what,
                        self.total
                    );
                }
            }
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        tracing::info!(
            "{}: done in {:.1} s",
            self.what,
            self.started.elapsed().as_secs_f64()
        );
    }
}
