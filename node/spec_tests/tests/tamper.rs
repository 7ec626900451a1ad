//! A vector altered by one byte must make its case fail: for every (preset, fork, runner, handler)
//! in the vector tree, the first cases that pass are copied, one file at a time has one byte
//! changed, and the case must then fail. This guards against handlers that cannot fail.
//!
//! Every file of the pure-function runners (SSZ, BLS, KZG, shuffling, Merkle proofs) is altered;
//! for transition runners, the expected results and metadata (see `guards_the_result`). Cases
//! that expect a rejection are left out: an altered invalid input is usually still invalid.

use keel_spec_tests::Case;
use keel_spec_tests::walk::{self, Filter, Verdict};
use std::collections::BTreeMap;
use std::path::Path;

const CASES_PER_HANDLER: usize = 2;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Changes one byte of what the file says. In a YAML file, the last byte that is not white space
/// (the file keeps its shape, the value changes). In an `.ssz_snappy` file, the middle byte of
/// the SSZ inside: altering the compressed bytes could leave the content the same (a snappy copy
/// of a run of zeros decodes to zeros from many offsets).
fn alter_one_byte(path: &Path) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    let name = path.to_string_lossy();
    let altered = if name.ends_with(".ssz_snappy") {
        let mut ssz = snap::raw::Decoder::new()
            .decompress_vec(&bytes)
            .map_err(std::io::Error::other)?;
        if let Some(middle) = ssz.len().checked_div(2).filter(|_| !ssz.is_empty()) {
            ssz[middle] ^= 0x01;
        }
        snap::raw::Encoder::new()
            .compress_vec(&ssz)
            .map_err(std::io::Error::other)?
    } else {
        let mut bytes = bytes;
        if let Some(pos) = bytes.iter().rposition(|b| !b.is_ascii_whitespace()) {
            bytes[pos] ^= 0x01;
        }
        bytes
    };
    std::fs::write(path, altered)
}

fn files_of(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Runners that apply a transition to an input state: a processing step may overwrite or ignore
/// parts of its inputs (an epoch step resets `eth1_data_votes`, `withdrawals` looks only at a
/// payload's withdrawals), so one changed input byte need not show in the result. What every
/// such case must guard is its expected result and its metadata.
const TRANSITION_RUNNERS: &[&str] = &[
    "operations",
    "epoch_processing",
    "sanity",
    "finality",
    "random",
    "transition",
    "rewards",
    "fork",
];

fn guards_the_result(case: &Case, file: &str) -> bool {
    // Gossip verdicts are categorical (valid / ignore / reject): a byte of the anchor state or
    // of a message that is ignored for its slot legitimately leaves the verdict as it was.
    // Those cases are guarded by the runner comparing every message's verdict, not here.
    if case.runner == "networking" {
        return false;
    }
    if !TRANSITION_RUNNERS.contains(&case.runner.as_str()) {
        return true;
    }
    file == "post.ssz_snappy" || file == "meta.yaml" || file.ends_with("_deltas.ssz_snappy")
}

#[test]
fn altering_one_byte_fails_the_case() {
    let root = walk::default_root();
    let cases = walk::discover(&root, &Filter::default()).expect("vector tree is readable");
    assert!(!cases.is_empty(), "no vectors under {}", root.display());

    let mut by_handler: BTreeMap<(String, String, String, String), Vec<Case>> = BTreeMap::new();
    for case in cases {
        let key = (
            case.preset.clone(),
            case.fork.clone(),
            case.runner.clone(),
            case.handler.clone(),
        );
        by_handler.entry(key).or_default().push(case);
    }

    let scratch = std::env::temp_dir().join(format!("keel-tamper-{}", std::process::id()));
    let mut checked = 0usize;
    for (key, cases) in by_handler {
        let passing = cases
            .into_iter()
            // Cases that expect a rejection (an `invalid` suite, or a `pre` state without a
            // `post`) may stay rejected when altered; only cases with an expected result count.
            .filter(|c| c.suite != "invalid")
            // (`rewards` cases have no `post`: their expected results are the deltas files.)
            .filter(|c| {
                !c.exists("pre.ssz_snappy") || c.exists("post.ssz_snappy") || c.runner == "rewards"
            })
            .filter(|c| matches!(walk::run_case(c), Verdict::Passed))
            .take(CASES_PER_HANDLER);
        for case in passing {
            for file in files_of(&case.path) {
                if !guards_the_result(&case, &file) {
                    continue;
                }
                let copy = scratch.join(format!("case-{checked}"));
                copy_dir(&case.path, &copy).expect("copy case");
                alter_one_byte(&copy.join(&file)).expect("alter file");
                let altered = Case {
                    path: copy.clone(),
                    ..case.clone()
                };
                let verdict = walk::run_case(&altered);
                assert!(
                    matches!(verdict, Verdict::Failed(_)),
                    "{key:?}: altering {file} of {} did not fail the case: {verdict:?}",
                    case.display_path()
                );
                std::fs::remove_dir_all(&copy).ok();
                checked += 1;
            }
        }
    }
    std::fs::remove_dir_all(&scratch).ok();
    assert!(checked > 0, "no passing case was found to alter");
    eprintln!("altered {checked} files; every altered case failed");
}
