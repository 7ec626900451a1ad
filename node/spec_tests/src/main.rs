//! `keel-spec-tests`: run the consensus spec-test vectors and print the tally.

use clap::Parser;
use keel_spec_tests::walk::{self, Filter, Verdict};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(about = "Runs the official consensus spec tests against Keel")]
struct Args {
    /// Folder holding the `tests/` tree (default: $CONSENSUS_SPEC_TESTS_DIR or ../shared/spec-tests).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Only this preset (`minimal`, `mainnet`, `general`).
    #[arg(long)]
    preset: Option<String>,
    /// Only this fork.
    #[arg(long)]
    fork: Option<String>,
    /// Only this runner.
    #[arg(long)]
    runner: Option<String>,
    /// Only this handler.
    #[arg(long)]
    handler: Option<String>,
    /// Only cases whose path contains this text.
    #[arg(long)]
    case: Option<String>,
    /// Where to write the list of skipped cases with their reasons.
    #[arg(long, default_value = "target/spec-tests-skipped.txt")]
    skips_file: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = args.root.unwrap_or_else(walk::default_root);
    let filter = Filter {
        preset: args.preset,
        fork: args.fork,
        runner: args.runner,
        handler: args.handler,
        case: args.case,
    };
    let cases = match walk::discover(&root, &filter) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!(
                "spec-tests: cannot read vectors under {}: {e}",
                root.display()
            );
            return ExitCode::FAILURE;
        }
    };
    if cases.is_empty() {
        eprintln!(
            "spec-tests: no cases found under {} for {filter:?}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    let reports = walk::run_all(cases);

    let mut skipped_lines = Vec::new();
    for r in &reports {
        match &r.verdict {
            Verdict::Failed(msg) => println!("FAIL {}: {msg}", r.case.display_path()),
            Verdict::Skipped(reason) => {
                skipped_lines.push(format!("{}\t{reason}", r.case.display_path()))
            }
            Verdict::Passed => {}
        }
    }
    skipped_lines.sort();
    if let Err(e) = write_skips(&args.skips_file, &skipped_lines) {
        eprintln!(
            "spec-tests: cannot write {}: {e}",
            args.skips_file.display()
        );
    }

    let (per_runner, total) = walk::tally(&reports);
    for (key, t) in &per_runner {
        println!("{key}: {t}");
    }
    if !skipped_lines.is_empty() {
        println!(
            "{} skipped cases with reasons in {}",
            skipped_lines.len(),
            args.skips_file.display()
        );
    }
    println!("spec-tests: {total}");
    if total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn write_skips(path: &PathBuf, lines: &[String]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::File::create(path)?;
    for line in lines {
        writeln!(f, "{line}")?;
    }
    Ok(())
}
