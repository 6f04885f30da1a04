//! Helpers shared by the CLI tests: running the built `gbion` binary and reading its JSON.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path relative to the repository root.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// Run `gbion` with `args`.
pub fn gbion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gbion"))
        .args(args)
        .output()
        .expect("gbion runs")
}

/// Run `gbion` with `args`, assert success and parse stdout as JSON.
pub fn gbion_json(args: &[&str]) -> Value {
    let out = gbion(args);
    assert!(
        out.status.success(),
        "gbion {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Run `gbion` with `args`, assert failure, and return stderr.
pub fn gbion_error(args: &[&str]) -> String {
    let out = gbion(args);
    assert!(!out.status.success(), "gbion {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
