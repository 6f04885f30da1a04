//! `gbion learn`: the active-learning loop of gbion-learn (fit, explore with grading, select, label with
//! the oracle, repeat until nothing is selected) from a TOML input; `--example` prints one that runs as it is
//! with the built-in oracle; `--resume` continues a killed run from its `state.json`.
//!
//! JSON (`--json`): `converged`, `rounds`, `oracle_calls`, `quarantined`, `train_configurations`,
//! `potential` (the last `.mtp`), `output`, `train_*` and `valid_*` error metrics (`*_energy_rmse_meV_atom`,
//! `*_energy_mae_meV_atom`, `*_force_rmse_eV_A`, `*_force_mae_eV_A`, `*_stress_rmse_GPa`,
//! `*_stress_mae_GPa`; valid ones null without `[validation]`) and `history` (one object per round; its
//! `max_grade` is null for +∞, a configuration outside the training span, as in `gbion grade --json`).

use crate::dynamics_cmd::load_structure;
use crate::output::emit;
use crate::train_cmd::insert_errors;
use anyhow::{Context, Result};
use clap::Args;
use gbion_learn::learn::{LearnInput, run_learn};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

const LEARN_EXAMPLE: &str = include_str!("../assets/learn/learn_example.toml");

#[derive(Args)]
pub struct LearnArgs {
    /// The input TOML (see `--example`).
    pub input: Option<PathBuf>,
    /// Print a commented example input that runs as it is.
    #[arg(long)]
    pub example: bool,
    /// Continue the run in the input's output directory from its state.json.
    #[arg(long)]
    pub resume: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: LearnArgs) -> Result<()> {
    if args.example {
        return emit(false, &(), || LEARN_EXAMPLE.to_string());
    }
    let path = args.input.context("give an input TOML (or --example)")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let input = LearnInput::parse(&text, &path)?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let source = gbion_dynamics::config::structure_source(input.structure.clone(), base)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let structure = load_structure(&source, input.seed)?;
    let quiet = args.json;
    let summary = run_learn(&input, &structure, base, args.resume, &mut |line| {
        if !quiet {
            eprintln!("{line}");
        }
    })?;
    let mut report = Map::new();
    report.insert("converged".into(), json!(summary.converged));
    report.insert("rounds".into(), json!(summary.rounds));
    report.insert("oracle_calls".into(), json!(summary.oracle_calls));
    report.insert("quarantined".into(), json!(summary.quarantined));
    report.insert("train_configurations".into(), json!(summary.train_configurations));
    report.insert("potential".into(), json!(summary.potential));
    report.insert("output".into(), json!(summary.output));
    insert_errors(&mut report, "train", Some(&summary.train_errors));
    insert_errors(&mut report, "valid", summary.valid_errors.as_ref());
    report.insert("history".into(), serde_json::to_value(&summary.history)?);
    let report = Value::Object(report);
    emit(args.json, &report, || {
        format!(
            "{} after {} rounds, {} oracle calls ({} quarantined), {} training configurations\npotential: {}\n{}",
            if summary.converged {
                "converged"
            } else {
                "not converged"
            },
            summary.rounds,
            summary.oracle_calls,
            summary.quarantined,
            summary.train_configurations,
            summary.potential.display(),
            crate::train_cmd::errors_human(&report)
        )
    })
}
