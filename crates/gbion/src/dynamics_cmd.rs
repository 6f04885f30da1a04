//! `gbion md`, `gbion mcmd` and `gbion relax`: molecular dynamics, hybrid Monte Carlo / MD and relaxation
//! from a TOML input (format: gbion_dynamics::config; `--example` prints a commented one that runs as it
//! is). Outputs go to the input's output directory: `thermo.csv`, `thermo.jsonl`, `trajectory.xyz` or
//! `trajectory.dump`, `checkpoint.json` (MD), `relaxed.xyz` and `relax.csv` (relax).
//!
//! JSON (`--json`): for md/mcmd the run summary (gbion_dynamics::run::Summary: `mode`, `n_atoms`, `steps`,
//! `timestep_fs`, `resumed_from_step`, `final_T_K`, `final_E_pot_eV`, `final_conserved_eV`,
//! `conserved_drift_eV_atom_ps`, `acceptance`, `force_evaluations`, `thermo_csv`, `thermo_jsonl`,
//! `trajectory`, `checkpoint`); for relax gbion_dynamics::run::RelaxSummary (`converged`, `steps`,
//! `energy_eV`, `fmax_eV_A`, `stress_residual_GPa`, `volume_A3`, `cell_lengths_A`, `resumed`, `structure`,
//! `log`).

use crate::build_cmd::parse_ordering;
use crate::eval_cmd::load_potential;
use crate::output::{Progress, emit};
use crate::structure_cmd::open_frames;
use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_atoms::Structure;
use gbion_build::{Formula, PerovskiteSpec};
use gbion_dynamics::config::{self, Input, PotentialSource, StructureSource};
use gbion_dynamics::run::{Mode, RelaxSummary, Summary, run_md, run_relax};
use gbion_potentials::Potential;
use gbion_potentials::rigid_ion::RigidIon;
use std::path::PathBuf;
use std::time::Instant;

const MD_EXAMPLE: &str = include_str!("../assets/dynamics/md_example.toml");
const MCMD_EXAMPLE: &str = include_str!("../assets/dynamics/mcmd_example.toml");
const RELAX_EXAMPLE: &str = include_str!("../assets/dynamics/relax_example.toml");

#[derive(Args)]
pub struct DynamicsArgs {
    /// The input TOML (see `--example`).
    #[arg(required_unless_present = "example")]
    pub input: Option<PathBuf>,
    /// Continue from the checkpoint in the output directory (relax: from its relaxed.xyz); the outputs are
    /// cut back to the checkpoint and continued, identical to an uninterrupted run.
    #[arg(long)]
    pub resume: bool,
    /// Random seed (overrides the input's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print a commented example input that runs as it is, and exit.
    #[arg(long)]
    pub example: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which subcommand.
#[derive(Clone, Copy)]
pub enum Which {
    Md,
    Mcmd,
    Relax,
}

pub fn run(which: Which, args: DynamicsArgs) -> Result<()> {
    if args.example {
        let text = match which {
            Which::Md => MD_EXAMPLE,
            Which::Mcmd => MCMD_EXAMPLE,
            Which::Relax => RELAX_EXAMPLE,
        };
        return emit(false, &(), || text.to_string());
    }
    let path = args.input.context("give an input TOML (or --example)")?;
    let input = config::read(&path)?;
    let seed = args.seed.unwrap_or(input.seed);
    let structure = load_structure(&input.structure, seed)?;
    let potential = potential(&input)?;
    if matches!(which, Which::Md) && input.mc.is_some() {
        eprintln!(
            "warning: {}: [mc] is ignored by gbion md (use gbion mcmd)",
            path.display()
        );
    }
    let started = Instant::now();
    let mut progress = Progress::new(args.json, "steps");
    match which {
        Which::Md | Which::Mcmd => {
            let mode = if matches!(which, Which::Md) {
                Mode::Md
            } else {
                Mode::Mcmd
            };
            let result = run_md(
                &input,
                structure,
                potential.as_ref(),
                mode,
                args.resume,
                args.seed,
                &mut |s, t| progress.update(s, t),
            );
            progress.finish();
            let summary = result?;
            emit(args.json, &summary, || md_human(&summary, potential.as_ref(), started))
        }
        Which::Relax => {
            let result = run_relax(
                &input,
                structure,
                potential.as_ref(),
                args.resume,
                args.seed,
                &mut |s, t| progress.update(s, t),
            );
            progress.finish();
            let summary = result?;
            emit(args.json, &summary, || relax_human(&summary, started))
        }
    }
}

/// A structure input: the first frame of a file, or a perovskite built with the run's seed.
pub(crate) fn load_structure(source: &StructureSource, seed: u64) -> Result<Structure> {
    match source {
        StructureSource::File(path) => {
            let mut frames = open_frames(path, None, None)?;
            let first = frames
                .next()
                .with_context(|| format!("{} holds no structure", path.display()))?;
            Ok(first.with_context(|| format!("cannot read {}", path.display()))?)
        }
        StructureSource::Perovskite {
            formula,
            a,
            supercell,
            ordering,
        } => {
            let (ordering, _) = parse_ordering(ordering).context("structure.perovskite.ordering")?;
            let spec = PerovskiteSpec {
                formula: Formula::parse(formula).context("structure.perovskite.formula")?,
                a: *a,
                supercell: *supercell,
                ordering,
                seed,
                round: false,
            };
            Ok(spec.build().context("structure.perovskite")?.structure)
        }
    }
}

fn potential(input: &Input) -> Result<Box<dyn Potential>> {
    match &input.potential {
        PotentialSource::Spec(spec) => load_potential(spec, input.species.clone(), None),
        PotentialSource::RigidIon { text, source_name } => Ok(Box::new(RigidIon::from_toml(text, source_name)?)),
    }
}

fn md_human(s: &Summary, potential: &dyn Potential, started: Instant) -> String {
    let mut text = format!("potential: {}\n", potential.describe());
    text += &format!(
        "{}: {} atoms, {} steps of {} fs{} in {:.2} s, {} force evaluations\n",
        s.mode,
        s.n_atoms,
        s.steps,
        s.timestep_fs,
        s.resumed_from_step
            .map_or(String::new(), |k| format!(" (resumed at step {k})")),
        started.elapsed().as_secs_f64(),
        s.force_evaluations
    );
    text += &format!(
        "final T = {:.2} K, E_pot = {:.6} eV, conserved = {:.6} eV",
        s.final_temperature_k, s.final_potential_ev, s.final_conserved_ev
    );
    if let Some(d) = s.conserved_drift {
        text += &format!(" (drift {d:.3e} eV/atom/ps)");
    }
    text += "\n";
    for (name, ratio) in &s.acceptance {
        text += &format!(
            "acceptance {name}: {}\n",
            ratio.map_or("no attempts".into(), |r| format!("{r:.3}"))
        );
    }
    text += &format!("thermo: {}\n", s.thermo_csv.display());
    if let Some(t) = &s.trajectory {
        text += &format!("trajectory: {}\n", t.display());
    }
    if let Some(c) = &s.checkpoint {
        text += &format!("checkpoint: {}\n", c.display());
    }
    text
}

fn relax_human(s: &RelaxSummary, started: Instant) -> String {
    let mut text = format!(
        "{} after {} steps ({:.2} s): E = {:.6} eV, max |F| = {:.2e} eV/Å",
        if s.converged { "converged" } else { "NOT converged" },
        s.steps,
        started.elapsed().as_secs_f64(),
        s.energy_ev,
        s.fmax_ev_a
    );
    if let Some(r) = s.stress_residual_gpa {
        text += &format!(", max |σ + P| = {r:.2e} GPa");
    }
    text += &format!(
        "\ncell lengths {:.5} {:.5} {:.5} Å, volume {:.4} Å³\nstructure: {}\nlog: {}\n",
        s.cell_lengths_a[0],
        s.cell_lengths_a[1],
        s.cell_lengths_a[2],
        s.volume_a3,
        s.structure.display(),
        s.log.display()
    );
    text
}

/// Fail with the message of a run that did not converge, for scripts (`gbion relax` exits 0 either way).
#[allow(dead_code)]
fn require_converged(s: &RelaxSummary) -> Result<()> {
    if !s.converged {
        bail!("relaxation did not converge in {} steps", s.steps);
    }
    Ok(())
}
