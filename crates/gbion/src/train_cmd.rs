//! `gbion train`: fit a moment tensor potential to a training set (MLIP `.cfg` or extended XYZ with
//! energies, forces, stresses): reference energies, the linear least-squares fit of the energy coefficients,
//! then L-BFGS on all coefficients (gbion-learn), checkpointed; the result is written as an MLIP `.mtp` file
//! that MLIP and LAMMPS read.
//!
//! JSON (`--json`): `output`, `species`, `reference_energies_eV`, `iterations`, `converged`, `initial_loss`,
//! `final_loss`, `fit_seconds`, `seconds_per_configuration_iteration`, and for `train_` and `valid_`:
//! `*_configurations`, `*_energy_rmse_meV_atom`, `*_energy_mae_meV_atom`, `*_force_rmse_eV_A`,
//! `*_force_mae_eV_A`, `*_stress_rmse_GPa`, `*_stress_mae_GPa` (valid ones null without `--valid`).

use crate::output::{Progress, emit};
use crate::structure_cmd::parse_elements;
use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_learn::fit::{ErrorMetrics, LossWeights};
use gbion_learn::nonlinear::NonlinearOptions;
use gbion_learn::train::{FitStart, ReferenceEnergies, TrainOptions, train};
use gbion_learn::training::TrainingSet;
use gbion_potentials::mtp::{Mtp, MtpParameters};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainArgs {
    /// Starting potential: a trained `.mtp` (refit from its coefficients) or an untrained template (MLIP's
    /// `untrained_mtps/NN.mtp`); or use `--level` instead.
    #[arg(long, conflicts_with = "level")]
    pub potential: Option<PathBuf>,
    /// Start from gbion's untrained basis of this level (2 + 4μ + ν ≤ level), with `--min-dist`,
    /// `--max-dist`, `--radial-basis-size`.
    #[arg(long)]
    pub level: Option<usize>,
    #[arg(long, default_value_t = 1.0)]
    pub min_dist: f64,
    #[arg(long, default_value_t = 5.0)]
    pub max_dist: f64,
    #[arg(long, default_value_t = 8)]
    pub radial_basis_size: usize,
    /// Elements of the potential's types, in order, e.g. `Li,Sr,Ta,Zr,O` (also the `.cfg` type map).
    #[arg(long, value_delimiter = ',', required = true)]
    pub species: Vec<String>,
    /// Training set files (`.cfg`, `.extxyz`/`.xyz`; every frame).
    #[arg(long, num_args = 1.., required = true)]
    pub train: Vec<PathBuf>,
    /// Validation set files.
    #[arg(long, num_args = 1..)]
    pub valid: Vec<PathBuf>,
    /// Output `.mtp` file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// L-BFGS iterations over all coefficients after the linear fit (0: linear fit only).
    #[arg(long, default_value_t = 500)]
    pub iterations: usize,
    /// Iterations between checkpoints (each segment also refits the linear coefficients exactly).
    #[arg(long, default_value_t = 25)]
    pub checkpoint_every: usize,
    /// Checkpoint file (default: OUTPUT with `.fit-checkpoint.json` appended).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 1.0)]
    pub energy_weight: f64,
    /// Weight of the force term (Å²).
    #[arg(long, default_value_t = 0.01)]
    pub force_weight: f64,
    #[arg(long, default_value_t = 0.001)]
    pub stress_weight: f64,
    /// λ of the λ|θ|² regularisation.
    #[arg(long, default_value_t = 0.0)]
    pub regularization: f64,
    /// Per-species reference energies: `fit` (least squares, default), `zero`, or one value per species in
    /// `--species` order (eV/atom), e.g. `-1.9,-1.7,-11.9,-8.5,-4.9`.
    #[arg(long, default_value = "fit")]
    pub reference_energies: String,
    /// Seed of the starting radial coefficients of an untrained potential.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Start of an untrained potential: `pair` (the least-squares pair potential in its radial basis, then
    /// many-body terms) or `random` (seeded radial coefficients).
    #[arg(long, default_value = "pair")]
    pub start: FitStart,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let species = parse_elements(Some(&args.species), "--species")?.unwrap_or_default();
    let parameters = match (&args.potential, args.level) {
        (Some(path), None) => MtpParameters::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        (None, Some(level)) => MtpParameters::untrained(
            level,
            species.len(),
            args.min_dist,
            args.max_dist,
            args.radial_basis_size,
        )?,
        _ => bail!("give the starting potential: --potential FILE.mtp or --level N"),
    };
    let checkpoint = args.checkpoint.clone().unwrap_or_else(|| {
        let mut name = args.output.clone().into_os_string();
        name.push(".fit-checkpoint.json");
        PathBuf::from(name)
    });
    if args.resume && !checkpoint.exists() {
        bail!("--resume: no checkpoint at {}", checkpoint.display());
    }
    let init = Mtp::new(parameters)?.with_species(species.clone())?;
    let train_set = TrainingSet::read(&args.train, Some(&species)).context("cannot read the training set")?;
    let valid_set = if args.valid.is_empty() {
        None
    } else {
        Some(TrainingSet::read(&args.valid, Some(&species)).context("cannot read the validation set")?)
    };
    let options = TrainOptions {
        weights: LossWeights {
            energy: args.energy_weight,
            force: args.force_weight,
            stress: args.stress_weight,
            regularization: args.regularization,
        },
        nonlinear: NonlinearOptions {
            max_iterations: args.iterations,
            checkpoint_every: args.checkpoint_every,
            ..NonlinearOptions::default()
        },
        reference_energies: parse_reference_energies(&args.reference_energies, species.len())?,
        seed: args.seed,
        start: args.start,
    };
    let mut progress = Progress::new(args.json, "iterations");
    let total = args.iterations as u64;
    let outcome = train(
        &init,
        &train_set,
        valid_set.as_ref(),
        &options,
        Some(&checkpoint),
        args.resume,
        &mut |iteration, _| progress.update(iteration as u64, total),
    )?;
    progress.finish();
    outcome
        .mtp
        .parameters()
        .write(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let iterations = outcome.nonlinear.as_ref().map_or(0, |r| r.iterations);
    let mut report = Map::new();
    report.insert("output".into(), json!(args.output));
    report.insert("species".into(), json!(args.species));
    report.insert("reference_energies_eV".into(), json!(outcome.reference_energies));
    report.insert("iterations".into(), json!(iterations));
    report.insert(
        "converged".into(),
        json!(outcome.nonlinear.as_ref().map(|r| r.converged)),
    );
    report.insert(
        "initial_loss".into(),
        json!(outcome.nonlinear.as_ref().map(|r| r.initial_loss)),
    );
    report.insert(
        "final_loss".into(),
        json!(outcome.nonlinear.as_ref().map(|r| r.final_loss)),
    );
    report.insert("start".into(), json!(outcome.start));
    report.insert("fit_seconds".into(), json!(outcome.fit_seconds));
    let evaluations = outcome.nonlinear.as_ref().map_or(0, |r| r.evaluations).max(1);
    report.insert(
        "seconds_per_configuration_iteration".into(),
        json!(outcome.fit_seconds / (evaluations * train_set.len()) as f64),
    );
    insert_errors(&mut report, "train", Some(&outcome.train_errors));
    insert_errors(&mut report, "valid", outcome.valid_errors.as_ref());
    let report = Value::Object(report);
    emit(args.json, &report, || human(&report))
}

/// `fit`, `zero` or comma-separated values.
fn parse_reference_energies(text: &str, species: usize) -> Result<ReferenceEnergies> {
    match text.trim() {
        "fit" => Ok(ReferenceEnergies::Fit),
        "zero" => Ok(ReferenceEnergies::Zero),
        list => {
            let values = list
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .with_context(|| format!("--reference-energies: {v:?} is not a number"))
                })
                .collect::<Result<Vec<f64>>>()?;
            if values.len() != species {
                bail!("--reference-energies: {} values for {species} species", values.len());
            }
            Ok(ReferenceEnergies::Given(values))
        }
    }
}

/// `prefix_configurations`, `prefix_energy_rmse_meV_atom`, ... (null when absent).
pub(crate) fn insert_errors(report: &mut Map<String, Value>, prefix: &str, errors: Option<&ErrorMetrics>) {
    let value = errors.map(|e| serde_json::to_value(e).expect("metrics serialise"));
    let fields = [
        "configurations",
        "energy_rmse_meV_atom",
        "energy_mae_meV_atom",
        "force_rmse_eV_A",
        "force_mae_eV_A",
        "stress_rmse_GPa",
        "stress_mae_GPa",
    ];
    for field in fields {
        let v = value.as_ref().map_or(Value::Null, |v| v[field].clone());
        report.insert(format!("{prefix}_{field}"), v);
    }
}

fn human(report: &Value) -> String {
    format!(
        "wrote {} after {} L-BFGS iterations ({:.1} s)\n{}",
        report["output"].as_str().unwrap_or(""),
        report["iterations"],
        report["fit_seconds"].as_f64().unwrap_or(0.0),
        errors_human(report)
    )
}

/// One line per set (train, valid) with its error metrics.
pub(crate) fn errors_human(report: &Value) -> String {
    let mut text = String::new();
    for set in ["train", "valid"] {
        if report[format!("{set}_configurations")].is_null() {
            continue;
        }
        let f = |key: &str| report[format!("{set}_{key}")].as_f64().unwrap_or(f64::NAN);
        text += &format!(
            "{set} ({} configurations): energy RMSE {:.3} meV/atom (MAE {:.3}), force RMSE {:.1} meV/Å (MAE {:.1}), stress RMSE {:.4} GPa\n",
            report[format!("{set}_configurations")],
            f("energy_rmse_meV_atom"),
            f("energy_mae_meV_atom"),
            1e3 * f("force_rmse_eV_A"),
            1e3 * f("force_mae_eV_A"),
            f("stress_rmse_GPa"),
        );
    }
    text
}
