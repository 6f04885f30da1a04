//! Exploration runs with the current potential, graded on the fly: NVT molecular dynamics (Langevin BAOAB
//! or a Nosé–Hoover chain) or hybrid MC/MD (as `gbion mcmd`), built from gbion-dynamics' pieces
//! ([`MdState`], [`Integrator`], [`MonteCarlo`], [`md_mc_step`], [`check_state`]).
//!
//! Every `grade_every` steps (step 0 included) a grader, typically the extrapolation grade γ of the
//! configuration (MaxVol, Podryabinkin & Shapeev, Comput. Mater. Sci. 140, 171 (2017), §3), is called on
//! the current configuration. Frames with γ ≥ `select_threshold` are kept as candidates for the oracle
//! (positions wrapped into the cell, velocities dropped, no results); a frame with γ ≥ `break_threshold`
//! is kept and ends the run, as MLIP's LAMMPS interface stops a run past `select:threshold-break`
//! (Novikov et al., Mach. Learn.: Sci. Technol. 2, 025002 (2021), §4.2): beyond it the potential's forces
//! are not to be trusted, so the trajectory no longer samples anything physical.
//!
//! A blow-up (non-finite energy, position, velocity or force; two atoms closer than `min_distance`;
//! T above `max_temperature`; any failure of a step, as `gbion md` counts them) ends the run cleanly: it is
//! reported in [`Exploration::stop`] with the candidates found before it, not as an error, so an
//! active-learning loop carries on with the other runs. The last graded frame before a blow-up is kept
//! ([`Exploration::before_blow_up`]) whatever its grade: the potential went wrong within `grade_every` steps
//! of it, so it marks a region where the potential needs data even when the grade did not flag it (a grade
//! measures how far a configuration lies outside the training set's span in the basis, not how wrong the
//! fitted forces are there).
//!
//! The run starts from Maxwell–Boltzmann velocities at `temperature` (velocities the start carries are
//! replaced), as `gbion md` does without a velocity file.
//!
//! Deterministic: the initial Maxwell–Boltzmann velocities, the Langevin noise and the Monte Carlo moves
//! come from one Xoshiro256++ stream seeded with `seed`; same start, potential, settings, seed and grader ⇒
//! the same frames, bit for bit. Units: Å, fs, K, eV.
//!
//! ```toml
//! [explore]
//! steps = 10000
//! timestep = "1 fs"                 # bare numbers: fs
//! temperature = "600 K"             # bare numbers: K
//! ensemble = "langevin"             # "langevin" | "nose-hoover"
//! damping = "100 fs"                # Langevin 1/γ, Nosé–Hoover period; default 100 time steps
//! chain = 3                         # Nosé–Hoover chain length
//! skin = 1.0                        # neighbour-list skin (Å)
//! grade_every = 10                  # steps between grades
//! select_threshold = 2.0            # γ ≥ this: a candidate
//! break_threshold = 10.0            # γ ≥ this: a candidate, and the run stops
//! min_distance = 0.5                # Å: closer atoms are a blow-up
//! max_temperature = "5000 K"        # default: 10 × max(temperature, 300 K)
//! [explore.mc]                      # optional: hybrid MC/MD as gbion mcmd's [mc]
//! md_steps = 100
//! attempts = 20
//! temperature = "600 K"             # default: explore.temperature
//! moves = [{ swap = ["Li", "Sr"] }]
//! ```

use gbion_atoms::Structure;
use gbion_dynamics::config::{Femtoseconds, Kelvin, McSettings};
use gbion_dynamics::mc::{MonteCarlo, MoveKind, MoveStats};
use gbion_dynamics::run::{check_state, md_mc_step};
use gbion_dynamics::velocities::maxwell_boltzmann;
use gbion_dynamics::{Engine, Integrator, MdState, Thermostat};
use gbion_potentials::Potential;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// The thermostat of an exploration run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExploreEnsemble {
    Langevin,
    NoseHoover,
}

/// Hybrid MC/MD: after every `md_steps` MD steps, `attempts` Monte Carlo attempts of `moves`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HybridSettings {
    pub md_steps: u64,
    pub attempts: u64,
    /// Monte Carlo temperature (K); default: the run's.
    #[serde(default)]
    pub temperature: Option<Kelvin>,
    pub moves: Vec<MoveKind>,
}

/// The `[explore]` table (see the module documentation).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExploreSettings {
    pub steps: u64,
    pub timestep: Femtoseconds,
    pub temperature: Kelvin,
    #[serde(default = "langevin")]
    pub ensemble: ExploreEnsemble,
    /// Langevin 1/γ or Nosé–Hoover period (fs); default 100 time steps.
    #[serde(default)]
    pub damping: Option<Femtoseconds>,
    #[serde(default = "three")]
    pub chain: usize,
    /// Neighbour-list skin (Å).
    #[serde(default = "one_angstrom")]
    pub skin: f64,
    #[serde(default = "one")]
    pub grade_every: u64,
    pub select_threshold: f64,
    pub break_threshold: f64,
    /// Å.
    #[serde(default = "half_angstrom")]
    pub min_distance: f64,
    /// K; default 10 × max(temperature, 300 K).
    #[serde(default)]
    pub max_temperature: Option<Kelvin>,
    #[serde(default)]
    pub mc: Option<HybridSettings>,
}

fn langevin() -> ExploreEnsemble {
    ExploreEnsemble::Langevin
}

fn three() -> usize {
    3
}

fn one() -> u64 {
    1
}

fn one_angstrom() -> f64 {
    1.0
}

fn half_angstrom() -> f64 {
    0.5
}

impl ExploreSettings {
    /// The settings with the defaults of the module documentation for everything but the required keys.
    pub fn new(steps: u64, timestep_fs: f64, temperature_k: f64, select_threshold: f64, break_threshold: f64) -> Self {
        ExploreSettings {
            steps,
            timestep: Femtoseconds(timestep_fs),
            temperature: Kelvin(temperature_k),
            ensemble: ExploreEnsemble::Langevin,
            damping: None,
            chain: 3,
            skin: 1.0,
            grade_every: 1,
            select_threshold,
            break_threshold,
            min_distance: 0.5,
            max_temperature: None,
            mc: None,
        }
    }

    /// Check the values serde cannot: positive temperature and time step, thresholds in order, counts ≥ 1.
    pub fn check(&self) -> Result<(), SettingsError> {
        let bad = |key, message: String| Err(SettingsError { key, message });
        let t = self.temperature.0;
        if !(t.is_finite() && t > 0.0) {
            return bad("temperature", format!("must be positive, got {t} K"));
        }
        if !(self.timestep.0.is_finite() && self.timestep.0 > 0.0) {
            return bad("timestep", format!("must be positive, got {} fs", self.timestep.0));
        }
        if self.grade_every == 0 {
            return bad("grade_every", "must be at least 1".into());
        }
        if self.chain == 0 {
            return bad("chain", "must be at least 1".into());
        }
        if !(self.skin.is_finite() && self.skin >= 0.0) {
            return bad("skin", format!("must be ≥ 0 Å, got {}", self.skin));
        }
        if !(self.min_distance.is_finite() && self.min_distance >= 0.0) {
            return bad("min_distance", format!("must be ≥ 0 Å, got {}", self.min_distance));
        }
        if self.select_threshold.is_nan() {
            return bad("select_threshold", "must be a number, got NaN".into());
        }
        if self.break_threshold.is_nan() || self.break_threshold < self.select_threshold {
            return bad(
                "break_threshold",
                format!(
                    "must be ≥ select_threshold = {}, got {}",
                    self.select_threshold, self.break_threshold
                ),
            );
        }
        if let Some(mc) = &self.mc {
            if mc.md_steps == 0 {
                return bad("mc.md_steps", "must be at least 1".into());
            }
            if mc.moves.is_empty() {
                return bad("mc.moves", "give at least one move".into());
            }
        }
        Ok(())
    }

    fn thermostat(&self) -> Thermostat {
        let t = self.temperature.0;
        let damping = self.damping.map_or(100.0 * self.timestep.0, |d| d.0);
        match self.ensemble {
            ExploreEnsemble::Langevin => Thermostat::langevin(t, damping),
            ExploreEnsemble::NoseHoover => Thermostat::nose_hoover(t, damping, self.chain),
        }
    }

    fn max_temperature(&self) -> f64 {
        self.max_temperature
            .map_or(10.0 * self.temperature.0.max(300.0), |t| t.0)
    }

    fn hybrid(&self) -> Option<McSettings> {
        self.mc.as_ref().map(|mc| McSettings {
            md_steps: mc.md_steps,
            attempts: mc.attempts,
            temperature: mc.temperature.map_or(self.temperature.0, |t| t.0),
            moves: mc.moves.clone(),
        })
    }
}

/// An inconsistent `[explore]` table: the key and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("explore.{key}: {message}")]
pub struct SettingsError {
    pub key: &'static str,
    pub message: String,
}

/// Why an exploration could not run (a blow-up is not one: see [`Stop::BlowUp`]).
#[derive(Debug, thiserror::Error)]
pub enum ExploreError<E: std::fmt::Debug + std::fmt::Display> {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Setting up the run failed: the start cannot be evaluated, the Monte Carlo moves do not fit it.
    #[error("exploration setup: {0}")]
    Setup(#[source] gbion_dynamics::Error),
    /// The grader failed on the frame of `step`.
    #[error("grading the frame of step {step}: {error}")]
    Grade { step: u64, error: E },
    /// The grader returned NaN for the frame of `step`.
    #[error("the grade of the frame of step {step} is NaN")]
    NanGrade { step: u64 },
}

/// A frame kept for the oracle.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// MD step of the frame.
    pub step: u64,
    /// Its grade.
    pub grade: f64,
    /// The configuration: positions wrapped into the cell, no velocities, no results.
    pub structure: Structure,
}

/// Why an exploration run ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Stop {
    /// All steps were run.
    Completed,
    /// The frame of `step` had `grade` ≥ the break threshold.
    Break { step: u64, grade: f64 },
    /// The run blew up at `step` (see the module documentation).
    BlowUp { step: u64, message: String },
}

/// What an exploration run found.
#[derive(Clone, Debug, PartialEq)]
pub struct Exploration {
    /// Frames with grade ≥ the select threshold, in step order.
    pub candidates: Vec<Candidate>,
    /// (step, grade) of every graded frame.
    pub grades: Vec<(u64, f64)>,
    /// MD steps completed without a blow-up.
    pub steps: u64,
    pub stop: Stop,
    /// After a blow-up: the last graded frame before it, as a candidate (whatever its grade).
    pub before_blow_up: Option<Candidate>,
    /// Monte Carlo move name → attempted and accepted counts (hybrid runs).
    pub mc_stats: Vec<(String, MoveStats)>,
}

/// Run `settings` from `start` with `potential` and random stream `seed`, grading every `grade_every` steps
/// with `grade`, which sees the MD configuration as it is (unwrapped positions, velocities).
pub fn explore<E, G>(
    start: &Structure,
    potential: &dyn Potential,
    settings: &ExploreSettings,
    seed: u64,
    mut grade: G,
) -> Result<Exploration, ExploreError<E>>
where
    E: std::fmt::Debug + std::fmt::Display,
    G: FnMut(&Structure) -> Result<f64, E>,
{
    settings.check()?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut integrator = Integrator::new(settings.timestep.0, settings.thermostat());
    let hybrid = settings.hybrid();
    let mut mc = hybrid
        .as_ref()
        .map(|h| MonteCarlo::new(h.moves.clone(), h.temperature))
        .transpose()
        .map_err(ExploreError::Setup)?;
    if let Some(mc) = &mc {
        mc.check(start).map_err(ExploreError::Setup)?;
    }
    let mut structure = start.clone();
    structure.results = Default::default();
    maxwell_boltzmann(
        &mut structure,
        settings.temperature.0,
        integrator.thermostat.conserves_momentum(),
        &mut rng,
    )
    .map_err(ExploreError::Setup)?;
    let mut engine = Engine::new(potential, settings.skin);
    let mut state = MdState::new(structure, &mut engine, false).map_err(ExploreError::Setup)?;
    let max_temperature = settings.max_temperature();
    let mut found = Exploration {
        candidates: Vec::new(),
        grades: Vec::new(),
        steps: 0,
        stop: Stop::Completed,
        before_blow_up: None,
        mc_stats: Vec::new(),
    };
    let mut last_graded = None;
    let mut step_result = check_state(&state, &integrator, settings.min_distance, max_temperature);
    loop {
        if let Err(e) = step_result {
            found.stop = blow_up(state.step, e);
            found.before_blow_up = last_graded;
            break;
        }
        found.steps = state.step;
        if state.step.is_multiple_of(settings.grade_every) {
            let (frame, stop) = grade_frame(&state, settings, &mut grade, &mut found)?;
            if let Some(stop) = stop {
                found.stop = stop;
                break;
            }
            last_graded = Some(frame);
        }
        if state.step >= settings.steps {
            break;
        }
        let pair = mc.as_mut().zip(hybrid.as_ref());
        step_result = md_mc_step(&mut integrator, &mut state, &mut engine, &mut rng, pair, false)
            .and_then(|()| check_state(&state, &integrator, settings.min_distance, max_temperature));
    }
    if let Some(mc) = &mc {
        found.mc_stats = mc
            .moves
            .iter()
            .map(|m| m.name())
            .zip(mc.stats.iter().copied())
            .collect();
    }
    Ok(found)
}

/// The stop of a failed step or check; `step` is the state's (an MD step's own failures name theirs).
fn blow_up(step: u64, error: gbion_dynamics::Error) -> Stop {
    match error {
        gbion_dynamics::Error::BlowUp { step, message } => Stop::BlowUp { step, message },
        other => Stop::BlowUp {
            step,
            message: other.to_string(),
        },
    }
}

/// Grade the current frame, keep it when selected; the frame as a candidate, and `Some(stop)` when the grade
/// reaches the break threshold.
fn grade_frame<E, G>(
    state: &MdState,
    settings: &ExploreSettings,
    grade: &mut G,
    found: &mut Exploration,
) -> Result<(Candidate, Option<Stop>), ExploreError<E>>
where
    E: std::fmt::Debug + std::fmt::Display,
    G: FnMut(&Structure) -> Result<f64, E>,
{
    let step = state.step;
    let gamma = grade(&state.structure).map_err(|error| ExploreError::Grade { step, error })?;
    if gamma.is_nan() {
        return Err(ExploreError::NanGrade { step });
    }
    found.grades.push((step, gamma));
    let frame = Candidate {
        step,
        grade: gamma,
        structure: candidate_frame(&state.structure),
    };
    if gamma >= settings.select_threshold {
        found.candidates.push(frame.clone());
    }
    let stop = (gamma >= settings.break_threshold).then_some(Stop::Break { step, grade: gamma });
    Ok((frame, stop))
}

/// A configuration for the oracle: positions wrapped into the cell, no velocities, no results.
fn candidate_frame(structure: &Structure) -> Structure {
    let mut frame = structure.clone();
    for x in &mut frame.positions {
        *x = frame.cell.wrap(*x);
    }
    frame.velocities = None;
    frame.results = Default::default();
    frame
}
