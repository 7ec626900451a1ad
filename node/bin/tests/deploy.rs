//! The Grafana dashboard and the Prometheus config in `deploy/` name only metrics the code
//! exports, and the systemd unit runs a command line the binary accepts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// Metric names in a PromQL expression: identifiers followed by `{`, `[`, `)`, space or end.
fn metric_names(expr: &str) -> Vec<String> {
    let functions = ["rate", "sum", "by", "increase", "histogram_quantile"];
    let mut names = Vec::new();
    let mut current = String::new();
    let mut in_braces = false;
    for c in expr.chars().chain([' ']) {
        if c == '{' {
            in_braces = true;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            current.push(c);
            continue;
        }
        if !in_braces
            && !current.is_empty()
            && c != '('
            && current.contains('_')
            && !functions.contains(&current.as_str())
        {
            names.push(current.clone());
        }
        current.clear();
        if c == '}' {
            in_braces = false;
        }
    }
    names
}

#[test]
fn dashboard_metrics_exist_in_the_code() {
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/dashboards/keel.json")).unwrap(),
    )
    .unwrap();
    let mut code = String::new();
    sources(&repo().join("node"), &mut code);
    sources(&repo().join("pipeline"), &mut code);
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for name in metric_names(expr) {
                assert!(
                    code.contains(&format!("\"{name}\"")),
                    "panel {:?} uses {name}, which no crate exports",
                    panel["title"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} metric references found");
}

#[test]
fn systemd_unit_command_line_parses() {
    let unit = std::fs::read_to_string(repo().join("deploy/systemd/keel.service")).unwrap();
    let exec = unit
        .split("ExecStart=")
        .nth(1)
        .unwrap()
        .split("\n# ")
        .next()
        .unwrap()
        .replace("\\\n", " ");
    let args: Vec<&str> = exec.split_whitespace().skip(1).collect();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
