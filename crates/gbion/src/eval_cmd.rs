//! `gbion eval`: energies, forces, stresses and per-atom energies of every frame of a structure file with a
//! potential: an MLIP `.mtp` file, a rigid-ion TOML parameter file (or a shipped set, `builtin:NAME`), or an
//! external command (`cmd:COMMAND LINE`, the oracle protocol of DESIGN.md).
//!
//! JSON (`--json`): an array with one object per frame: `energy_eV`, `energies_eV` (per atom), `forces_eV_A`,
//! `stress_GPa` (Voigt xx yy zz yz xz xy, ASE sign: negative under compression; null when the cell is not
//! periodic in three directions).

use crate::output::emit;
use crate::structure_cmd::{open_frames, parse_elements};
use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_atoms::io::{self, Format, WriteOptions};
use gbion_atoms::{Element, Property, Structure};
use gbion_potentials::{Output, Potential, Request, evaluate};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gbion_dynamics::units::EV_A3_TO_GPA as EV_PER_A3_TO_GPA;

#[derive(Args)]
pub struct EvalArgs {
    /// The potential: an MLIP `.mtp` file, a rigid-ion `.toml` parameter file, `builtin:NAME` for a shipped
    /// parameter set, or `cmd:COMMAND` for an external command (placeholders `{input}`, `{output}`).
    #[arg(long)]
    pub potential: String,
    /// Structure or trajectory file (every frame is evaluated).
    pub structure: PathBuf,
    /// Elements of the potential's type indices, in order (MLIP `.mtp` files carry no element names), e.g.
    /// `Li,Sr,Ta,Zr,O`.
    #[arg(long, value_delimiter = ',')]
    pub species: Option<Vec<String>>,
    /// Structure file format (default: from the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Elements of numeric atom types in the structure file (LAMMPS, MLIP .cfg), in type order.
    #[arg(long, value_delimiter = ',')]
    pub type_map: Option<Vec<String>>,
    /// Kill an external command that runs longer than this many seconds.
    #[arg(long)]
    pub timeout_s: Option<f64>,
    /// Write the frames with energy, forces, stress and per-atom energies to this extended XYZ file.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print a JSON array (one object per frame) instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

/// The JSON schema of one frame of `gbion eval --json`.
#[derive(Serialize)]
struct FrameReport {
    #[serde(rename = "energy_eV")]
    energy_ev: f64,
    #[serde(rename = "energies_eV")]
    energies_ev: Vec<f64>,
    #[serde(rename = "forces_eV_A")]
    forces_ev_a: Vec<[f64; 3]>,
    #[serde(rename = "stress_GPa")]
    stress_gpa: Option<[f64; 6]>,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let species = parse_elements(args.species.as_deref(), "--species")?;
    let potential = load_potential(&args.potential, species, args.timeout_s)?;
    let frames = open_frames(&args.structure, args.format.as_deref(), args.type_map.as_deref())?;
    let mut reports = Vec::new();
    let mut evaluated = Vec::new();
    for (k, frame) in frames.enumerate() {
        let frame = frame.with_context(|| format!("cannot read {}", args.structure.display()))?;
        let request = Request {
            forces: true,
            stress: frame.cell.pbc().iter().all(|&p| p),
            energies: true,
        };
        let out = evaluate(potential.as_ref(), &frame, request)
            .with_context(|| format!("frame {k} of {}", args.structure.display()))?;
        reports.push(frame_report(&out)?);
        if args.output.is_some() {
            evaluated.push(with_results(frame, out));
        }
    }
    if reports.is_empty() {
        bail!("{} holds no frames", args.structure.display());
    }
    if let Some(path) = &args.output {
        write_frames(path, evaluated)?;
    }
    emit(args.json, &reports, || human_summary(potential.as_ref(), &reports))
}

/// The potential named by `spec` (see [`EvalArgs::potential`] and [`gbion_potentials::spec::load`]).
pub(crate) fn load_potential(
    spec: &str,
    species: Option<Vec<Element>>,
    timeout_s: Option<f64>,
) -> Result<Box<dyn Potential>> {
    let timeout = match timeout_s {
        Some(t) if !(t.is_finite() && t > 0.0) => bail!("--timeout-s must be a positive number of seconds, got {t}"),
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    Ok(gbion_potentials::spec::load(spec, species, timeout)?)
}

fn frame_report(out: &Output) -> Result<FrameReport> {
    Ok(FrameReport {
        energy_ev: out.energy,
        energies_ev: out
            .energies
            .clone()
            .context("the potential gave no per-atom energies")?,
        forces_ev_a: out.forces.clone().context("the potential gave no forces")?,
        stress_gpa: out.stress.map(|s| s.map(|v| v * EV_PER_A3_TO_GPA)),
    })
}

/// The frame with the potential's results attached (per-atom energies as the `energies` column, ASE's name).
fn with_results(mut frame: Structure, out: Output) -> Structure {
    frame.results.energy = Some(out.energy);
    frame.results.forces = out.forces;
    frame.results.stress = out.stress;
    if let Some(energies) = out.energies {
        frame.properties.insert(
            "energies".into(),
            Property::Real {
                data: energies,
                columns: 1,
            },
        );
    }
    frame
}

fn write_frames(path: &Path, frames: Vec<Structure>) -> Result<()> {
    io::write_file(
        path,
        Some(Format::ExtXyz),
        frames.into_iter().map(Ok),
        &WriteOptions::default(),
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn human_summary(potential: &dyn Potential, reports: &[FrameReport]) -> String {
    let mut text = format!("potential: {}\n", potential.describe());
    for (k, r) in reports.iter().enumerate() {
        let n = r.energies_ev.len();
        let max_force = r
            .forces_ev_a
            .iter()
            .map(|f| (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt())
            .fold(0.0, f64::max);
        text += &format!(
            "frame {k}: {n} atoms, E = {:.6} eV ({:.6} eV/atom), max |F| = {:.4} eV/Å",
            r.energy_ev,
            r.energy_ev / n as f64,
            max_force
        );
        if let Some(s) = r.stress_gpa {
            let pressure = -(s[0] + s[1] + s[2]) / 3.0;
            text += &format!(
                ", stress (GPa, xx yy zz yz xz xy; negative = compressive) = [{:.4}, {:.4}, {:.4}, {:.4}, {:.4}, {:.4}], P = {pressure:.4} GPa",
                s[0], s[1], s[2], s[3], s[4], s[5]
            );
        }
        text += "\n";
    }
    text
}
