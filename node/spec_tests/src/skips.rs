//! The one list of deliberately skipped cases, each with its reason.
//!
//! A pattern matches a case when every `/`-separated component equals the case's component at that
//! position or is `*` (`preset/fork/runner/handler/suite/case`; shorter patterns match prefixes).
//! Cases of unknown runners or handlers are skipped too, but are not listed here: the runner
//! reports them itself so that new vectors never pass silently.

pub const KNOWN_SKIPS: &[(&str, &str)] = &[
    // Deneb -> Electra transition cases start from a Deneb state before the fork slot (checked
    // for every case: `pre.slot < ELECTRA_FORK_EPOCH * SLOTS_PER_EPOCH`), so each processes
    // Deneb slots and epochs (and some Deneb blocks) before `upgrade_to_electra`.
    (
        "*/electra/transition",
        "needs Deneb block processing (Keel implements Electra onwards)",
    ),
];

pub fn known_skip(components: &[&str]) -> Option<&'static str> {
    KNOWN_SKIPS.iter().find_map(|(pattern, reason)| {
        let matches = pattern
            .split('/')
            .zip(components.iter())
            .all(|(p, c)| p == "*" || p == *c);
        (matches && pattern.split('/').count() <= components.len()).then_some(*reason)
    })
}
