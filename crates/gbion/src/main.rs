//! The `gbion` binary: composes the library crates into subcommands. Every analysis prints a human summary,
//! or a stable JSON object with `--json`; errors go to stderr with a non-zero exit status.

mod analyze;
mod build_cmd;
mod dynamics_cmd;
mod eval_cmd;
mod grade_cmd;
mod learn_cmd;
mod microscopy;
mod output;
mod plot;
mod quickstart;
mod structure_cmd;
mod train_cmd;
mod transport;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gbion",
    version,
    about = "Li transport through grains and grain boundaries, from atoms to SIMS images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job on an embedded default: build an LSTZ0.75 perovskite supercell and summarise it.
    Quickstart(quickstart::QuickstartArgs),
    /// Summarise a structure or trajectory file: species, cell, density, composition, shortest distance.
    Info(structure_cmd::InfoArgs),
    /// Convert between extxyz, POSCAR, LAMMPS data/dump and MLIP .cfg.
    Convert(structure_cmd::ConvertArgs),
    /// Tracer diffusion in polycrystals: models, forward simulation, SIMS inversion (paper 003).
    #[command(subcommand)]
    Transport(transport::TransportCmd),
    /// Build structures: perovskite supercells from a formula, CSL grain-boundary bicrystals.
    #[command(subcommand)]
    Build(build_cmd::BuildCmd),
    /// Evaluate a potential (MTP, pair + Coulomb, external command) on structures.
    Eval(eval_cmd::EvalArgs),
    /// Analyse simulations: diffusion, conductivity, Arrhenius, ordering, grain boundaries.
    #[command(subcommand)]
    Analyze(analyze::AnalyzeCmd),
    /// Core-loss and vibrational EELS spectrum images across grain boundaries.
    #[command(subcommand)]
    Eels(microscopy::EelsCmd),
    /// HAADF images: intensity profiles across grain boundaries, FFT superlattice spots.
    #[command(subcommand)]
    Haadf(microscopy::HaadfCmd),
    /// Molecular dynamics (NVE, Langevin, Nosé–Hoover) from a TOML input; `--example` prints one.
    Md(dynamics_cmd::DynamicsArgs),
    /// Hybrid Monte Carlo (swaps, vacancy hops) / molecular dynamics from a TOML input; `--example` prints one.
    Mcmd(dynamics_cmd::DynamicsArgs),
    /// Relax positions (and optionally the cell) with FIRE or L-BFGS from a TOML input; `--example` prints one.
    Relax(dynamics_cmd::DynamicsArgs),
    /// Fit a moment tensor potential to energies, forces and stresses (linear fit, then L-BFGS), checkpointed.
    Train(train_cmd::TrainArgs),
    /// Active learning of an MTP against an oracle (fit, explore, grade, select, label) from a TOML input.
    Learn(learn_cmd::LearnArgs),
    /// Extrapolation grade of an MTP (MaxVol) for every frame of structure files, from an active set.
    #[command(after_help = grade_cmd::GRADE_JSON)]
    Grade(grade_cmd::GradeArgs),
    /// Select the most informative configurations of a pool for training (MaxVol / D-optimality).
    #[command(after_help = grade_cmd::SELECT_JSON)]
    Select(grade_cmd::SelectArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quickstart(args) => quickstart::run(args),
        Command::Info(args) => structure_cmd::info(args),
        Command::Convert(args) => structure_cmd::convert(args),
        Command::Transport(cmd) => transport::run(cmd),
        Command::Build(cmd) => build_cmd::run(cmd),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Analyze(cmd) => analyze::run(cmd),
        Command::Eels(cmd) => microscopy::eels(cmd),
        Command::Haadf(cmd) => microscopy::haadf(cmd),
        Command::Md(args) => dynamics_cmd::run(dynamics_cmd::Which::Md, args),
        Command::Mcmd(args) => dynamics_cmd::run(dynamics_cmd::Which::Mcmd, args),
        Command::Relax(args) => dynamics_cmd::run(dynamics_cmd::Which::Relax, args),
        Command::Train(args) => train_cmd::run(args),
        Command::Learn(args) => learn_cmd::run(args),
        Command::Grade(args) => grade_cmd::grade(args),
        Command::Select(args) => grade_cmd::select(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
