//! The run drivers behind `gbion md`, `gbion mcmd` and `gbion relax`: set up the state from an input, step,
//! write the thermo log, trajectory and checkpoints, detect blow-ups, and resume from a checkpoint.
//!
//! Order within step k (k = 1 … steps): one MD step; for hybrid runs, when k is a multiple of
//! `mc.md_steps`, `mc.attempts` Monte Carlo attempts (forces re-evaluated when one was accepted); the
//! blow-up checks; a thermo row when k is a multiple of `output.thermo_every`; a trajectory frame when k is
//! a multiple of `output.trajectory_every`; a checkpoint when k is a multiple of `output.checkpoint_every`.
//! Step 0 writes a thermo row, a frame and a checkpoint. After writing a checkpoint the neighbour list is
//! rebuilt and the forces re-evaluated from the checkpointed positions, exactly as a resumed run starts,
//! so that a run killed and resumed writes the same bytes as one that was not.
//!
//! Blow-up checks after every step: every energy, position, velocity and force finite; no two atoms closer
//! than `safety.min_distance` (Å, periodic images included); T below `safety.max_temperature`. A blow-up
//! stops the run with an error naming the step; the last checkpoint (written before it) is kept.

use crate::checkpoint::{Checkpoint, Offsets};
use crate::config::{Ensemble, Input, McSettings};
use crate::engine::Engine;
use crate::integrate::{Integrator, MdState, Thermostat};
use crate::mc::MonteCarlo;
use crate::output::{ThermoLog, ThermoRow, Trajectory};
use crate::relax::{Relaxed, relax};
use crate::units::EV_A3_TO_GPA;
use crate::velocities::maxwell_boltzmann;
use crate::{Error, Result};
use gbion_atoms::Structure;
use gbion_potentials::Potential;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Name of the checkpoint file in the output directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";

/// How a run was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Molecular dynamics only (`[mc]` ignored).
    Md,
    /// Hybrid MC/MD (`[mc]` required).
    Mcmd,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Md => "md",
            Mode::Mcmd => "mcmd",
        }
    }
}

/// What a finished MD or MC/MD run reports (`--json` of the CLI).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub mode: &'static str,
    pub n_atoms: usize,
    pub steps: u64,
    pub timestep_fs: f64,
    /// The step the run resumed from, if it did.
    pub resumed_from_step: Option<u64>,
    #[serde(rename = "final_T_K")]
    pub final_temperature_k: f64,
    #[serde(rename = "final_E_pot_eV")]
    pub final_potential_ev: f64,
    #[serde(rename = "final_conserved_eV")]
    pub final_conserved_ev: f64,
    /// Conserved-quantity drift over this invocation (eV per atom per ps); not meaningful with MC moves.
    #[serde(rename = "conserved_drift_eV_atom_ps")]
    pub conserved_drift: Option<f64>,
    /// Move name → acceptance ratio over the whole run.
    pub acceptance: BTreeMap<String, Option<f64>>,
    pub force_evaluations: u64,
    pub thermo_csv: PathBuf,
    pub thermo_jsonl: PathBuf,
    pub trajectory: Option<PathBuf>,
    pub checkpoint: Option<PathBuf>,
}

fn acceptance(mc: &Option<MonteCarlo>) -> BTreeMap<String, Option<f64>> {
    let mut out = BTreeMap::new();
    if let Some(mc) = mc {
        for (m, s) in mc.moves.iter().zip(&mc.stats) {
            out.insert(m.name(), (s.attempted > 0).then(|| s.ratio()));
        }
    }
    out
}

/// The blow-up checks of the module documentation: every energy, position, velocity and force finite, no
/// two atoms closer than `min_distance` (Å), T below `max_temperature` (K); a failure is
/// [`Error::BlowUp`] at the state's step.
pub fn check_state(state: &MdState, integrator: &Integrator, min_distance: f64, max_temperature: f64) -> Result<()> {
    let step = state.step;
    let blow = |message: String| Err(Error::BlowUp { step, message });
    if !state.potential_energy.is_finite() {
        return blow(format!("non-finite potential energy {}", state.potential_energy));
    }
    let finite = |v: &[[f64; 3]]| v.iter().flatten().all(|x| x.is_finite());
    if !finite(&state.structure.positions) || !finite(state.velocities()) || !finite(&state.forces) {
        return blow("non-finite positions, velocities or forces".into());
    }
    if let Some(d) = state.structure.min_distance()?
        && d < min_distance
    {
        return blow(format!(
            "two atoms are {d:.4} Å apart, closer than min_distance = {min_distance} Å"
        ));
    }
    let t = integrator.temperature(state);
    if t > max_temperature {
        return blow(format!(
            "temperature {t:.1} K exceeds max_temperature = {max_temperature:.1} K"
        ));
    }
    Ok(())
}

/// One step k of MD or hybrid MC/MD in the order of the module documentation: one MD step (an error in it
/// becomes [`Error::BlowUp`] at step k), then, with `hybrid` and k a multiple of its `md_steps`, its
/// `attempts` Monte Carlo attempts, re-evaluating the forces when one was accepted. `stress` asks the force
/// evaluations for the stress too (always with a barostat).
pub fn md_mc_step(
    integrator: &mut Integrator,
    state: &mut MdState,
    engine: &mut Engine,
    rng: &mut Xoshiro256PlusPlus,
    hybrid: Option<(&mut MonteCarlo, &McSettings)>,
    stress: bool,
) -> Result<()> {
    let next = state.step + 1;
    integrator.step(state, engine, rng, stress).map_err(|e| match e {
        Error::BlowUp { .. } => e,
        other => Error::BlowUp {
            step: next,
            message: other.to_string(),
        },
    })?;
    if let Some((mc, settings)) = hybrid
        && next.is_multiple_of(settings.md_steps)
    {
        let mut energy = state.potential_energy;
        let any = mc.attempts(settings.attempts, &mut state.structure, &mut energy, engine, rng)?;
        if any {
            state.evaluate(engine, stress || integrator.needs_stress())?;
        }
    }
    Ok(())
}

/// Run MD or hybrid MC/MD as `input` says on `structure` (the input structure; on `resume` the checkpoint
/// in the output directory replaces its dynamic state) with `potential`; `seed` overrides the input's.
/// `progress(step, total)` is called after every step.
pub fn run_md(
    input: &Input,
    mut structure: Structure,
    potential: &dyn Potential,
    mode: Mode,
    resume: bool,
    seed: Option<u64>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary> {
    let md = input
        .md
        .as_ref()
        .ok_or_else(|| Error::Invalid("the input has no [md] table".into()))?;
    let mc_settings = match mode {
        Mode::Md => None,
        Mode::Mcmd => Some(
            input
                .mc
                .as_ref()
                .ok_or_else(|| Error::Invalid("gbion mcmd needs an [mc] table in the input".into()))?,
        ),
    };
    let seed = seed.unwrap_or(input.seed);
    let out = &input.output;
    std::fs::create_dir_all(&out.directory).map_err(Error::io(&out.directory))?;
    let checkpoint_path = out.directory.join(CHECKPOINT_FILE);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut thermostat = match md.ensemble {
        Ensemble::Nve => Thermostat::None,
        Ensemble::Langevin { damping_fs } => Thermostat::langevin(md.temperature.unwrap_or(0.0), damping_fs),
        Ensemble::NoseHoover { tau_fs, chain } => Thermostat::nose_hoover(md.temperature.unwrap_or(0.0), tau_fs, chain),
    };
    let mut mc = mc_settings
        .map(|s| MonteCarlo::new(s.moves.clone(), s.temperature))
        .transpose()?;
    if let Some(mc) = &mc {
        mc.check(&structure)?;
    }
    let move_names: Vec<String> = mc
        .as_ref()
        .map(|m| m.moves.iter().map(|k| k.name()).collect())
        .unwrap_or_default();

    let (mut log, mut trajectory, start_step) = if resume {
        let checkpoint = Checkpoint::read(&checkpoint_path)?;
        let mismatch = |message: String| Error::Checkpoint {
            path: checkpoint_path.clone(),
            message,
        };
        if checkpoint.kind != mode.name() {
            return Err(mismatch(format!(
                "written by gbion {}, not {}",
                checkpoint.kind,
                mode.name()
            )));
        }
        if checkpoint.seed != seed {
            return Err(mismatch(format!(
                "written with seed {}, this run has seed {seed}",
                checkpoint.seed
            )));
        }
        if checkpoint.timestep != md.timestep {
            return Err(mismatch(format!(
                "written with a time step of {} fs, the input has {} fs",
                checkpoint.timestep, md.timestep
            )));
        }
        if std::mem::discriminant(&checkpoint.thermostat) != std::mem::discriminant(&thermostat) {
            return Err(mismatch("its thermostat differs from the input's ensemble".into()));
        }
        checkpoint.restore_into(&mut structure, &checkpoint_path)?;
        thermostat = checkpoint.thermostat.clone();
        rng = checkpoint.rng.clone();
        if let Some(mc) = &mut mc {
            if checkpoint.mc_stats.len() != mc.stats.len() {
                return Err(mismatch("its Monte Carlo moves differ from the input's".into()));
            }
            mc.stats = checkpoint.mc_stats.clone();
        }
        let log = ThermoLog::resume(
            &out.directory,
            move_names.clone(),
            checkpoint.offsets.thermo_csv,
            checkpoint.offsets.thermo_jsonl,
        )?;
        let trajectory = (out.trajectory_every > 0)
            .then(|| Trajectory::resume(&out.directory, out.trajectory_format, checkpoint.offsets.trajectory))
            .transpose()?;
        (log, trajectory, Some(checkpoint.step))
    } else {
        let initial = md.initial_temperature.or(if structure.velocities.is_some() {
            None
        } else {
            Some(md.temperature.unwrap_or(0.0))
        });
        if let Some(t) = initial {
            maxwell_boltzmann(&mut structure, t, thermostat.conserves_momentum(), &mut rng)?;
        }
        let log = ThermoLog::create(&out.directory, move_names.clone())?;
        let trajectory = (out.trajectory_every > 0)
            .then(|| Trajectory::create(&out.directory, out.trajectory_format))
            .transpose()?;
        (log, trajectory, None)
    };

    let mut integrator = Integrator {
        dt: md.timestep,
        thermostat,
        barostat: md.barostat,
    };
    let always_stress = integrator.needs_stress();
    let mut engine = Engine::new(potential, md.skin);
    let fresh = start_step.is_none();
    let mut state = MdState::new(structure, &mut engine, fresh || always_stress)?;
    state.step = start_step.unwrap_or(0);
    let initial_temperature = integrator.temperature(&state);
    let max_temperature = input.safety.max_temperature.unwrap_or(
        10.0 * md
            .temperature
            .unwrap_or(0.0)
            .max(md.initial_temperature.unwrap_or(0.0))
            .max(initial_temperature)
            .max(300.0),
    );
    let stress_at = |step: u64| step.is_multiple_of(out.thermo_every);
    let kind = mode.name();

    let write_outputs = |state: &MdState,
                         integrator: &Integrator,
                         mc: &Option<MonteCarlo>,
                         rng: &Xoshiro256PlusPlus,
                         log: &mut ThermoLog,
                         trajectory: &mut Option<Trajectory>|
     -> Result<bool> {
        let step = state.step;
        let time_fs = step as f64 * integrator.dt;
        if step.is_multiple_of(out.thermo_every) {
            log.write(&ThermoRow {
                step,
                time_fs,
                temperature_k: integrator.temperature(state),
                potential_ev: state.potential_energy,
                kinetic_ev: state.kinetic_energy(),
                conserved_ev: integrator.conserved(state),
                pressure_gpa: state.pressure().map(|p| p * EV_A3_TO_GPA),
                volume_a3: state.structure.cell.volume(),
                accept: acceptance(mc),
            })?;
        }
        if let Some(t) = trajectory
            && step.is_multiple_of(out.trajectory_every)
        {
            t.write(&state.structure, step, time_fs)?;
        }
        if out.checkpoint_every > 0 && (step.is_multiple_of(out.checkpoint_every) || step == md.steps) {
            let offsets = Offsets {
                thermo_csv: log.csv.flush()?,
                thermo_jsonl: log.jsonl.flush()?,
                trajectory: match trajectory {
                    Some(t) => t.file.flush()?,
                    None => 0,
                },
            };
            let stats = mc.as_ref().map(|m| m.stats.clone()).unwrap_or_default();
            Checkpoint::capture(
                kind,
                seed,
                step,
                integrator.dt,
                &state.structure,
                &integrator.thermostat,
                rng,
                &stats,
                offsets,
            )
            .write(&checkpoint_path)?;
            return Ok(true);
        }
        Ok(false)
    };

    if fresh {
        check_state(&state, &integrator, input.safety.min_distance, max_temperature)?;
        if write_outputs(&state, &integrator, &mc, &rng, &mut log, &mut trajectory)? {
            engine.reset_list();
            state.evaluate(&mut engine, always_stress)?;
        }
    }
    let first_conserved = (integrator.conserved(&state), state.step);
    while state.step < md.steps {
        let stress = stress_at(state.step + 1);
        let hybrid = mc.as_mut().zip(mc_settings);
        md_mc_step(&mut integrator, &mut state, &mut engine, &mut rng, hybrid, stress)?;
        check_state(&state, &integrator, input.safety.min_distance, max_temperature)?;
        progress(state.step, md.steps);
        if write_outputs(&state, &integrator, &mc, &rng, &mut log, &mut trajectory)? {
            engine.reset_list();
            state.evaluate(&mut engine, always_stress)?;
        }
    }
    log.csv.flush()?;
    log.jsonl.flush()?;
    if let Some(t) = &mut trajectory {
        t.file.flush()?;
    }
    let n = state.structure.len();
    let elapsed_ps = (state.step - first_conserved.1) as f64 * integrator.dt / 1000.0;
    let conserved = integrator.conserved(&state);
    Ok(Summary {
        mode: mode.name(),
        n_atoms: n,
        steps: state.step,
        timestep_fs: integrator.dt,
        resumed_from_step: start_step,
        final_temperature_k: integrator.temperature(&state),
        final_potential_ev: state.potential_energy,
        final_conserved_ev: conserved,
        conserved_drift: (elapsed_ps > 0.0 && mc.is_none())
            .then(|| (conserved - first_conserved.0) / n as f64 / elapsed_ps),
        acceptance: acceptance(&mc),
        force_evaluations: engine.evaluations(),
        thermo_csv: log.csv.path().to_path_buf(),
        thermo_jsonl: log.jsonl.path().to_path_buf(),
        trajectory: trajectory.map(|t| t.file.path().to_path_buf()),
        checkpoint: (out.checkpoint_every > 0).then_some(checkpoint_path),
    })
}

/// What `gbion relax` reports.
#[derive(Clone, Debug, Serialize)]
pub struct RelaxSummary {
    pub converged: bool,
    pub steps: usize,
    #[serde(rename = "energy_eV")]
    pub energy_ev: f64,
    #[serde(rename = "fmax_eV_A")]
    pub fmax_ev_a: f64,
    #[serde(rename = "stress_residual_GPa")]
    pub stress_residual_gpa: Option<f64>,
    #[serde(rename = "volume_A3")]
    pub volume_a3: f64,
    #[serde(rename = "cell_lengths_A")]
    pub cell_lengths_a: [f64; 3],
    pub resumed: bool,
    pub structure: PathBuf,
    pub log: PathBuf,
}

/// Relax as the input's `[relax]` says. The relaxed (or last, if not converged) structure goes to
/// `relaxed.xyz` in the output directory, the log (`step,E_eV,fmax_eV_A`) to `relax.csv`; `resume`
/// continues from a previous `relaxed.xyz`. A non-zero `rattle` displaces every free atom by a seeded normal
/// random vector of that standard deviation per component (Å) first.
pub fn run_relax(
    input: &Input,
    mut structure: Structure,
    potential: &dyn Potential,
    resume: bool,
    seed: Option<u64>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RelaxSummary> {
    let settings = input
        .relax
        .as_ref()
        .ok_or_else(|| Error::Invalid("the input has no [relax] table".into()))?;
    let dir = &input.output.directory;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let out_path = dir.join("relaxed.xyz");
    if resume {
        let mut frames = gbion_atoms::io::read_file(&out_path, None, &Default::default())?;
        structure = frames.next().ok_or_else(|| Error::Checkpoint {
            path: out_path.clone(),
            message: "no frame to resume from".into(),
        })??;
    } else if settings.rattle > 0.0 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed.unwrap_or(input.seed));
        let free = crate::velocities::free_mask(&structure);
        for (p, f) in structure.positions.iter_mut().zip(free) {
            for x in p.iter_mut() {
                let xi: f64 = StandardNormal.sample(&mut rng);
                if f {
                    *x += settings.rattle * xi;
                }
            }
        }
    }
    let skin = input.md.as_ref().map_or(0.5, |m| m.skin);
    let mut engine = Engine::new(potential, skin);
    let mut log = String::from("step,E_eV,fmax_eV_A\n");
    let total = settings.options.max_steps as u64;
    let Relaxed {
        structure,
        converged,
        steps,
        energy,
        fmax,
        stress_residual,
    } = relax(structure, &mut engine, &settings.options, |step, e, f| {
        log.push_str(&format!("{step},{e},{f}\n"));
        progress(step as u64, total);
    })?;
    let log_path = dir.join("relax.csv");
    std::fs::write(&log_path, log).map_err(Error::io(&log_path))?;
    let mut frame = structure.clone();
    frame.results = Default::default();
    frame.results.energy = Some(energy);
    gbion_atoms::io::write_file(&out_path, None, [Ok(frame)], &Default::default())?;
    Ok(RelaxSummary {
        converged,
        steps,
        energy_ev: energy,
        fmax_ev_a: fmax,
        stress_residual_gpa: stress_residual.map(|s| s * EV_A3_TO_GPA),
        volume_a3: structure.cell.volume(),
        cell_lengths_a: structure.cell.lengths(),
        resumed: resume,
        structure: out_path,
        log: log_path,
    })
}
