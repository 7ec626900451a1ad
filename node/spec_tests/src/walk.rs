//! Finding cases in the vector tree and running them.

use crate::case::{Case, CaseError, Outcome};
use crate::runners::{self, Lookup};
use crate::skips;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Which cases to run; `None` fields match everything.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub preset: Option<String>,
    pub fork: Option<String>,
    pub runner: Option<String>,
    pub handler: Option<String>,
    /// A substring of the case's path (`preset/fork/runner/handler/suite/case`).
    pub case: Option<String>,
}

impl Filter {
    fn admits(&self, case: &Case) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.preset, &case.preset)
            && ok(&self.fork, &case.fork)
            && ok(&self.runner, &case.runner)
            && ok(&self.handler, &case.handler)
            && self
                .case
                .as_deref()
                .is_none_or(|c| case.display_path().contains(c))
    }
}

/// The result of one case.
#[derive(Debug)]
pub enum Verdict {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug)]
pub struct CaseReport {
    pub case: Case,
    pub verdict: Verdict,
}

/// The vector root: `$CONSENSUS_SPEC_TESTS_DIR` if set, else `../shared/spec-tests` beside the
/// workspace root.
pub fn default_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONSENSUS_SPEC_TESTS_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec-tests")
}

fn subdirs(path: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// Lists every case under `root/tests` that the filter admits.
pub fn discover(root: &Path, filter: &Filter) -> std::io::Result<Vec<Case>> {
    let tests = root.join("tests");
    let mut cases = Vec::new();
    for (preset, p) in subdirs(&tests)? {
        for (fork, f) in subdirs(&p)? {
            for (runner, r) in subdirs(&f)? {
                for (handler, h) in subdirs(&r)? {
                    for (suite, s) in subdirs(&h)? {
                        for (name, path) in subdirs(&s)? {
                            let case = Case {
                                preset: preset.clone(),
                                fork: fork.clone(),
                                runner: runner.clone(),
                                handler: handler.clone(),
                                suite: suite.clone(),
                                name,
                                path,
                            };
                            if filter.admits(&case) {
                                cases.push(case);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(cases)
}

/// Runs one case, turning a panic into a failure so that one bad case cannot stop the run.
pub fn run_case(case: &Case) -> Verdict {
    let components = [
        case.preset.as_str(),
        case.fork.as_str(),
        case.runner.as_str(),
        case.handler.as_str(),
        case.suite.as_str(),
        case.name.as_str(),
    ];
    if let Some(reason) = skips::known_skip(&components) {
        return Verdict::Skipped(reason.to_string());
    }
    let handler = match runners::lookup(&case.preset, &case.fork, &case.runner, &case.handler) {
        Lookup::Run(f) => f,
        Lookup::Unknown(reason) => return Verdict::Skipped(reason),
    };
    if let Err(e) = check_meta(case) {
        return Verdict::Failed(e.to_string());
    }
    match catch_unwind(AssertUnwindSafe(|| handler(case))) {
        Ok(Ok(Outcome::Pass)) => Verdict::Passed,
        Ok(Ok(Outcome::Skip(reason))) => Verdict::Skipped(reason),
        Ok(Err(CaseError::Mismatch(msg))) => Verdict::Failed(msg),
        Ok(Err(e)) => Verdict::Failed(e.to_string()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Verdict::Failed(format!("panicked: {msg}"))
        }
    }
}

/// Every case's `meta.yaml`, where present, must be a well-formed mapping and any
/// `bls_setting` one of the format's values (0 optional, 1 required, 2 ignored): handlers that
/// depend on it read it themselves, but a damaged file fails the case whichever handler runs.
fn check_meta(case: &Case) -> Result<(), CaseError> {
    if !case.exists("meta.yaml") {
        return Ok(());
    }
    let meta: serde_yaml::Mapping = case.read_yaml("meta.yaml")?;
    match meta.get("bls_setting") {
        None => Ok(()),
        Some(v) if matches!(v.as_u64(), Some(0..=2)) => Ok(()),
        Some(v) => Err(CaseError::Mismatch(format!(
            "meta.yaml: bad bls_setting {v:?}"
        ))),
    }
}

pub fn run_all(cases: Vec<Case>) -> Vec<CaseReport> {
    cases
        .into_par_iter()
        .map(|case| {
            let verdict = run_case(&case);
            CaseReport { case, verdict }
        })
        .collect()
}

/// Passed / failed / skipped counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed(_) => self.failed += 1,
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Tallies keyed by `"<preset> <fork> <runner>"`, plus the total.
pub fn tally(reports: &[CaseReport]) -> (BTreeMap<String, Tally>, Tally) {
    let mut per_runner: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for r in reports {
        let key = format!("{} {} {}", r.case.preset, r.case.fork, r.case.runner);
        per_runner.entry(key).or_default().add(&r.verdict);
        total.add(&r.verdict);
    }
    (per_runner, total)
}
