//! A vector altered by one byte must make its case fail: for every (preset, fork, runner, handler)
//! in the vector tree, the first cases that pass are copied, one file at a time has one byte
//! changed, and the case must then fail. This guards against handlers that cannot fail. Cases
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

/// Changes one byte. In a YAML file, the last byte that is not white space (the file keeps its
/// shape, the value changes); in an SSZ file, the middle byte: the tail of a state can be a field
/// that the operation under test overwrites (`latest_execution_payload_header` in
/// `execution_payload` cases), so a change there is not always visible in the result.
fn alter_one_byte(path: &Path) -> std::io::Result<()> {
    let mut bytes = std::fs::read(path)?;
    let is_yaml = path.extension().is_some_and(|e| e == "yaml");
    let position = if is_yaml {
        bytes.iter().rposition(|b| !b.is_ascii_whitespace())
    } else {
        (!bytes.is_empty()).then_some(bytes.len() / 2)
    };
    if let Some(pos) = position {
        bytes[pos] ^= 0x01;
    }
    std::fs::write(path, bytes)
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
            .filter(|c| !c.exists("pre.ssz_snappy") || c.exists("post.ssz_snappy"))
            .filter(|c| matches!(walk::run_case(c), Verdict::Passed))
            .take(CASES_PER_HANDLER);
        for case in passing {
            for file in files_of(&case.path) {
                // An operation may ignore parts of its input (a payload's transactions in
                // `withdrawals`, a request for an unknown key), so a change there need not show
                // in the result; the states and the metadata are what every case must guard.
                let state_file = matches!(
                    file.as_str(),
                    "pre.ssz_snappy" | "post.ssz_snappy" | "meta.yaml"
                );
                if case.runner == "operations" && !state_file {
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
