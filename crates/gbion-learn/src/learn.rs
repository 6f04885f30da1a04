//! The active-learning loop of paper 000 (and of MLIP: Podryabinkin & Shapeev, Comput. Mater. Sci. 140,
//! 171 (2017); Novikov et al., Mach. Learn.: Sci. Technol. 2, 025002 (2021), §4): fit an MTP, explore with
//! it (MD / hybrid MC/MD), grade every visited configuration against the training set's active set, send
//! the most informative extrapolating ones to the oracle, refit, and repeat until a whole exploration round
//! selects nothing.
//!
//! Rounds and phases, each ending with the state written atomically to `state.json` in the output
//! directory, so a killed loop resumes where it was (`--resume`):
//! 1. *start* (once): `start.count` copies of the structure, rattled (uniform ±`start.rattle` Å per
//!    component) and strained (symmetric strain, components uniform ±`start.strain`), plus any labelled
//!    `start.files`, are labelled by the oracle into `train.extxyz`; the validation set (MD with the oracle
//!    potential at `validation.temperature`, one frame every `validation.every` steps, or labelled
//!    `validation.files`) goes to `valid.extxyz`.
//! 2. *fit* round r: [`crate::train::train`] on `train.extxyz`, from the previous round's potential (round 0:
//!    the untrained basis of `potential.level` or `potential.initial`) → `round_RRR/potential.mtp` (the fit
//!    checkpoints to `round_RRR/fit-checkpoint.json`).
//! 3. *explore* round r: the active set of the training set ([`ActiveSet::from_training`], `select.mode`);
//!    every `[[explore]]` run from the structure with the new potential, graded every `grade_every` steps,
//!    stopped at the first grade ≥ `select.break_threshold`; the candidates (grade ≥ `select.threshold`) of
//!    all runs pooled and at most `select.max_batch` chosen by greedy MaxVol
//!    ([`ActiveSet::select_batch`]) → `round_RRR/selected.extxyz`. A run that blew up (MD with the
//!    potential went unphysical: see [`crate::explore`]) adds its last graded frame before the blow-up to
//!    the selection whatever its grade (within `max_batch`): the grade missed a region where the fitted
//!    potential is wrong. Nothing selected (every run ended below the thresholds without a blow-up): the
//!    loop has converged.
//! 4. *label* round r: the oracle labels the selection (`oracle.parallel` at a time; failures retried, then
//!    quarantined in `round_RRR/quarantine/` and reported); the labelled ones join `train.extxyz`; next round.
//!
//! Seeds: run k of round r uses `seed + 1000 r + k`; the start set uses `seed`. `oracle_calls` counts the
//! configurations sent to the oracle (start, validation and selections; retries not counted).

use crate::explore::{ExploreSettings, Stop, explore};
use crate::fit::{ErrorMetrics, FitData, LossWeights, error_metrics};
use crate::grade::{ActiveSet, RowMode};
use crate::nonlinear::NonlinearOptions;
use crate::oracle::{Oracle, OracleKind, OracleSpec};
use crate::train::{FitStart, ReferenceEnergies, TrainOptions, train};
use crate::training::TrainingSet;
use crate::{Error, Result};
use gbion_atoms::io::{Format, WriteOptions, read_file, write_file};
use gbion_atoms::{Cell, Element, Structure};
use gbion_dynamics::config::{Femtoseconds, Kelvin};
use gbion_potentials::mtp::{Mtp, MtpParameters};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The input file of `gbion learn` (TOML; see `gbion learn --example`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnInput {
    #[serde(default = "one_u64")]
    pub seed: u64,
    /// Output directory (relative to the input file).
    #[serde(default = "default_output")]
    pub output: PathBuf,
    /// Rounds at most (fit + explore + label each).
    #[serde(default = "ten")]
    pub max_rounds: usize,
    /// Elements of the MTP's types, in order.
    pub species: Vec<String>,
    /// The structure: a file (first frame) or `{ perovskite = { ... } }` as in `gbion md` (the caller
    /// resolves it).
    pub structure: toml::Value,
    pub potential: PotentialInput,
    #[serde(default)]
    pub start: StartInput,
    #[serde(default)]
    pub fit: FitInput,
    pub oracle: OracleSpec,
    #[serde(default)]
    pub select: SelectInput,
    /// Exploration runs: the keys of [`ExploreSettings`]; `select_threshold` and `break_threshold` default
    /// to `select.threshold` and `select.break_threshold`.
    pub explore: Vec<toml::Table>,
    #[serde(default)]
    pub validation: Option<ValidationInput>,
}

/// `[potential]`: the MTP to learn.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialInput {
    /// Level of gbion's untrained basis (or give `initial`).
    pub level: Option<usize>,
    /// A starting `.mtp` file (trained or untrained), relative to the input file.
    pub initial: Option<PathBuf>,
    #[serde(default = "one_f64")]
    pub min_dist: f64,
    #[serde(default = "five")]
    pub max_dist: f64,
    #[serde(default = "eight")]
    pub radial_basis_size: usize,
}

/// `[start]`: the initial training set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StartInput {
    pub count: usize,
    /// Å.
    pub rattle: f64,
    pub strain: f64,
    /// Labelled configurations to add (relative to the input file).
    pub files: Vec<PathBuf>,
}

impl Default for StartInput {
    fn default() -> Self {
        StartInput {
            count: 10,
            rattle: 0.1,
            strain: 0.02,
            files: Vec::new(),
        }
    }
}

/// `[fit]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitInput {
    pub iterations: usize,
    pub checkpoint_every: usize,
    pub energy_weight: f64,
    pub force_weight: f64,
    pub stress_weight: f64,
    pub regularization: f64,
    /// `pair` (default) or `random`: where the first round's untrained potential starts ([`FitStart`]).
    pub start: FitStart,
}

impl Default for FitInput {
    fn default() -> Self {
        let w = LossWeights::default();
        FitInput {
            iterations: 100,
            checkpoint_every: 25,
            energy_weight: w.energy,
            force_weight: w.force,
            stress_weight: w.stress,
            regularization: w.regularization,
            start: FitStart::default(),
        }
    }
}

/// `[select]`: grades and selection.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelectInput {
    pub threshold: f64,
    pub break_threshold: f64,
    pub max_batch: usize,
    pub mode: RowMode,
}

impl Default for SelectInput {
    fn default() -> Self {
        SelectInput {
            threshold: crate::grade::DEFAULT_SELECT_THRESHOLD,
            break_threshold: crate::grade::DEFAULT_STOP_THRESHOLD,
            max_batch: 20,
            mode: RowMode::Site,
        }
    }
}

/// `[validation]`: an independent set to report errors on.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationInput {
    /// MD with the oracle potential (oracle kind "potential" only) at this temperature ...
    pub temperature: Option<Kelvin>,
    /// ... for this many steps, keeping a frame every `every` steps (from step `every` on).
    #[serde(default = "thousand")]
    pub steps: u64,
    #[serde(default = "hundred")]
    pub every: u64,
    #[serde(default = "one_fs")]
    pub timestep: Femtoseconds,
    /// Labelled validation files (relative to the input file).
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

fn one_u64() -> u64 {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn five() -> f64 {
    5.0
}
fn eight() -> usize {
    8
}
fn ten() -> usize {
    10
}
fn hundred() -> u64 {
    100
}
fn thousand() -> u64 {
    1000
}
fn one_fs() -> Femtoseconds {
    Femtoseconds(1.0)
}
fn default_output() -> PathBuf {
    PathBuf::from("learn_out")
}

impl LearnInput {
    /// Parse the TOML text of `path` (errors name the file).
    pub fn parse(text: &str, path: &Path) -> Result<LearnInput> {
        toml::from_str(text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
    }

    /// The exploration runs with the thresholds of `[select]` filled in.
    pub fn explore_settings(&self) -> Result<Vec<ExploreSettings>> {
        self.explore
            .iter()
            .enumerate()
            .map(|(k, table)| {
                let mut table = table.clone();
                table
                    .entry("select_threshold")
                    .or_insert(toml::Value::Float(self.select.threshold));
                table
                    .entry("break_threshold")
                    .or_insert(toml::Value::Float(self.select.break_threshold));
                let settings: ExploreSettings = toml::Value::Table(table)
                    .try_into()
                    .map_err(|e| Error::Invalid(format!("explore[{k}]: {e}")))?;
                settings
                    .check()
                    .map_err(|e| Error::Invalid(format!("explore[{k}].{}: {}", e.key, e.message)))?;
                Ok(settings)
            })
            .collect()
    }

    fn elements(&self) -> Result<Vec<Element>> {
        self.species
            .iter()
            .map(|s| Element::from_symbol(s).map_err(|e| Error::Invalid(format!("species: {e}"))))
            .collect()
    }
}

/// Where the loop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Start,
    Fit,
    Explore,
    Label,
    Done,
}

/// What one round did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    pub round: usize,
    pub train_configurations: usize,
    pub train_errors: ErrorMetrics,
    /// Frames with grade ≥ select over all runs, the largest grade seen (+∞ for a configuration outside
    /// the training span, stored as null in JSON), and how each run ended.
    pub candidates: usize,
    #[serde(with = "crate::grade::grade_json")]
    pub max_grade: f64,
    pub stops: Vec<String>,
    /// Frames selected: those before blow-ups (counted in `candidates` too) and the batch chosen by MaxVol.
    pub selected: usize,
    /// Last graded frames of runs that blew up, selected whatever their grade.
    #[serde(default)]
    pub blow_up_frames: usize,
    pub quarantined: usize,
}

/// The loop's state on disk (`state.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnState {
    pub version: u32,
    pub round: usize,
    pub phase: Phase,
    pub oracle_calls: usize,
    pub quarantined: usize,
    pub converged: bool,
    pub rounds: Vec<RoundRecord>,
}

const STATE_VERSION: u32 = 1;

/// The outcome of `gbion learn`.
#[derive(Clone, Debug, Serialize)]
pub struct LearnSummary {
    pub converged: bool,
    pub rounds: usize,
    pub oracle_calls: usize,
    pub quarantined: usize,
    pub train_configurations: usize,
    pub potential: PathBuf,
    pub train_errors: ErrorMetrics,
    pub valid_errors: Option<ErrorMetrics>,
    pub history: Vec<RoundRecord>,
    pub output: PathBuf,
}

/// Paths of the output directory.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    fn train(&self) -> PathBuf {
        self.dir.join("train.extxyz")
    }
    fn valid(&self) -> PathBuf {
        self.dir.join("valid.extxyz")
    }
    fn round(&self, r: usize) -> PathBuf {
        self.dir.join(format!("round_{r:03}"))
    }
    fn potential(&self, r: usize) -> PathBuf {
        self.round(r).join("potential.mtp")
    }
    fn selected(&self, r: usize) -> PathBuf {
        self.round(r).join("selected.extxyz")
    }
}

/// Run (or, with `resume`, continue from `state.json`; a run that stopped at `max_rounds` continues when
/// the input allows more) the loop of `input` (its relative paths resolved against `base`) on
/// `structure`; `log` receives one line per event.
pub fn run_learn(
    input: &LearnInput,
    structure: &Structure,
    base: &Path,
    resume: bool,
    log: &mut dyn FnMut(&str),
) -> Result<LearnSummary> {
    let species = input.elements()?;
    let explore_runs = input.explore_settings()?;
    let layout = Layout {
        dir: base.join(&input.output),
    };
    let oracle = Oracle::from_spec(&input.oracle, base).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut state = if resume {
        if !layout.state().exists() {
            return Err(Error::Invalid(format!(
                "nothing to resume: {} does not exist",
                layout.state().display()
            )));
        }
        let mut state = read_state(&layout.state())?;
        // A run that stopped at max_rounds goes on when the input now allows more rounds.
        if state.phase == Phase::Done && !state.converged && state.round < input.max_rounds {
            state.phase = Phase::Fit;
        }
        state
    } else {
        if layout.state().exists() {
            return Err(Error::Invalid(format!(
                "{} holds a learning run already: --resume it or choose another output",
                layout.dir.display()
            )));
        }
        std::fs::create_dir_all(&layout.dir).map_err(Error::io(&layout.dir))?;
        LearnState {
            version: STATE_VERSION,
            round: 0,
            phase: Phase::Start,
            oracle_calls: 0,
            quarantined: 0,
            converged: false,
            rounds: Vec::new(),
        }
    };
    loop {
        let r = state.round;
        match state.phase {
            Phase::Start => {
                let start = start_configurations(input, structure, base)?;
                let labelled = label(
                    &oracle,
                    &start.unlabelled,
                    &layout.dir.join("start_quarantine"),
                    &mut state,
                )?;
                let set: Vec<Structure> = start.labelled.into_iter().chain(labelled).collect();
                log(&format!("start: {} labelled configurations", set.len()));
                write_frames(&layout.train(), set)?;
                if let Some(valid) = validation_set(input, structure, base, &species, &oracle, &layout, &mut state)? {
                    log(&format!("validation: {} labelled configurations", valid.len()));
                    write_frames(&layout.valid(), valid)?;
                }
                state.phase = Phase::Fit;
            }
            Phase::Fit => {
                let set = TrainingSet::read(&[layout.train()], Some(&species))?;
                let init = starting_potential(input, base, &layout, r, &species)?;
                std::fs::create_dir_all(layout.round(r)).map_err(Error::io(layout.round(r)))?;
                let options = train_options(input);
                let checkpoint = layout.round(r).join("fit-checkpoint.json");
                let outcome = train(&init, &set, None, &options, Some(&checkpoint), true, &mut |_, _| {})?;
                outcome.mtp.parameters().write(&layout.potential(r))?;
                let e = &outcome.train_errors;
                log(&format!(
                    "round {r}: fitted on {} configurations (start: {:?}): energy RMSE {:.3} meV/atom, force RMSE {:.4} eV/Å",
                    set.len(),
                    outcome.start,
                    e.energy_rmse_meV_atom,
                    e.force_rmse_eV_A
                ));
                state.rounds.push(RoundRecord {
                    round: r,
                    train_configurations: set.len(),
                    train_errors: outcome.train_errors,
                    candidates: 0,
                    max_grade: 0.0,
                    stops: Vec::new(),
                    selected: 0,
                    blow_up_frames: 0,
                    quarantined: 0,
                });
                state.phase = Phase::Explore;
            }
            Phase::Explore => {
                let mtp = Mtp::read(&layout.potential(r))?.with_species(species.clone())?;
                let set = TrainingSet::read(&[layout.train()], Some(&species))?;
                let configs: Vec<Structure> = set.configurations.into_iter().map(|c| c.structure).collect();
                let mut active = ActiveSet::from_training(&mtp, &configs, input.select.mode)?;
                let mut pool = Vec::new();
                let mut blown_up = Vec::new();
                let record = state.rounds.last_mut().expect("a fitted round");
                for (k, settings) in explore_runs.iter().enumerate() {
                    let seed = input.seed + 1000 * r as u64 + k as u64;
                    let mut found = explore(structure, &mtp, settings, seed, |s| {
                        active.grade(&mtp, s).map(|g| g.configuration)
                    })
                    .map_err(|e| Error::Invalid(format!("round {r}, explore[{k}]: {e}")))?;
                    let max = found.grades.iter().map(|g| g.1).fold(0.0, f64::max);
                    record.max_grade = record.max_grade.max(max);
                    let stop = match &found.stop {
                        Stop::Completed => format!("completed {} steps", found.steps),
                        Stop::Break { step, grade } => format!("break at step {step} (grade {grade:.3})"),
                        Stop::BlowUp { step, message } => format!("blow-up at step {step}: {message}"),
                    };
                    log(&format!(
                        "round {r}, explore[{k}] at {} K: {stop}, {} candidates, max grade {max:.3}",
                        settings.temperature.0,
                        found.candidates.len()
                    ));
                    record.stops.push(stop);
                    if let Some(frame) = found.before_blow_up.take() {
                        found.candidates.retain(|c| c.step != frame.step);
                        blown_up.push(frame.structure);
                    }
                    pool.extend(found.candidates.into_iter().map(|c| c.structure));
                }
                blown_up.truncate(input.select.max_batch);
                record.candidates = pool.len() + blown_up.len();
                record.blow_up_frames = blown_up.len();
                let room = input.select.max_batch - blown_up.len();
                let chosen = if pool.is_empty() || room == 0 {
                    Vec::new()
                } else {
                    active.select_batch(&mtp, &pool, input.select.threshold, room)?
                };
                let chosen: Vec<Structure> = blown_up
                    .into_iter()
                    .chain(chosen.iter().map(|c| pool[c.index].clone()))
                    .collect();
                record.selected = chosen.len();
                log(&format!(
                    "round {r}: {} of {} candidates selected ({} frames before blow-ups)",
                    chosen.len(),
                    record.candidates,
                    record.blow_up_frames
                ));
                if chosen.is_empty() {
                    state.converged = true;
                    state.phase = Phase::Done;
                } else {
                    write_frames(&layout.selected(r), chosen)?;
                    state.phase = Phase::Label;
                }
            }
            Phase::Label => {
                let selected = read_frames(&layout.selected(r))?;
                let labelled = label(&oracle, &selected, &layout.round(r).join("quarantine"), &mut state)?;
                let record = state.rounds.last_mut().expect("a fitted round");
                record.quarantined = selected.len() - labelled.len();
                let mut set = read_frames(&layout.train())?;
                set.extend(labelled);
                write_frames(&layout.train(), set)?;
                state.round += 1;
                state.phase = if state.round >= input.max_rounds {
                    Phase::Done
                } else {
                    Phase::Fit
                };
            }
            Phase::Done => break,
        }
        write_state(&layout.state(), &state)?;
    }
    summary(input, &species, &layout, &state)
}

/// The potential a round's fit starts from: the previous round's, or the input's for round 0.
fn starting_potential(input: &LearnInput, base: &Path, layout: &Layout, r: usize, species: &[Element]) -> Result<Mtp> {
    let parameters = if r > 0 {
        MtpParameters::read(&layout.potential(r - 1))?
    } else {
        match (&input.potential.initial, input.potential.level) {
            (Some(path), None) => MtpParameters::read(&base.join(path))?,
            (None, Some(level)) => MtpParameters::untrained(
                level,
                species.len(),
                input.potential.min_dist,
                input.potential.max_dist,
                input.potential.radial_basis_size,
            )?,
            _ => {
                return Err(Error::Invalid(
                    "potential: give exactly one of level and initial".into(),
                ));
            }
        }
    };
    Ok(Mtp::new(parameters)?.with_species(species.to_vec())?)
}

fn train_options(input: &LearnInput) -> TrainOptions {
    let f = &input.fit;
    TrainOptions {
        weights: LossWeights {
            energy: f.energy_weight,
            force: f.force_weight,
            stress: f.stress_weight,
            regularization: f.regularization,
        },
        nonlinear: NonlinearOptions {
            max_iterations: f.iterations,
            checkpoint_every: f.checkpoint_every,
            ..NonlinearOptions::default()
        },
        reference_energies: ReferenceEnergies::Fit,
        seed: input.seed,
        start: input.fit.start,
    }
}

/// The start set: generated configurations (to label) and labelled files.
struct StartSet {
    unlabelled: Vec<Structure>,
    labelled: Vec<Structure>,
}

fn start_configurations(input: &LearnInput, structure: &Structure, base: &Path) -> Result<StartSet> {
    let s = &input.start;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(input.seed);
    let mut uniform = |width: f64| width * (2.0 * rng.random::<f64>() - 1.0);
    let mut unlabelled = Vec::new();
    for _ in 0..s.count {
        let e: [f64; 6] = std::array::from_fn(|_| uniform(s.strain));
        let strain = [
            [1.0 + e[0], e[5], e[4]],
            [e[5], 1.0 + e[1], e[3]],
            [e[4], e[3], 1.0 + e[2]],
        ];
        let map = |r: [f64; 3]| -> [f64; 3] { std::array::from_fn(|c| (0..3).map(|k| r[k] * strain[k][c]).sum()) };
        let mut frame = structure.clone();
        let m = structure.cell.matrix();
        frame.cell = Cell::new([map(m[0]), map(m[1]), map(m[2])], structure.cell.pbc())?;
        for r in &mut frame.positions {
            let strained = map(*r);
            *r = std::array::from_fn(|d| strained[d] + uniform(s.rattle));
        }
        frame.velocities = None;
        frame.results = Default::default();
        unlabelled.push(frame);
    }
    let mut labelled = Vec::new();
    for path in &s.files {
        labelled.extend(read_frames(&base.join(path))?);
    }
    Ok(StartSet { unlabelled, labelled })
}

/// The validation set: labelled files, plus MD frames of the oracle potential labelled by the oracle.
fn validation_set(
    input: &LearnInput,
    structure: &Structure,
    base: &Path,
    species: &[Element],
    oracle: &Oracle,
    layout: &Layout,
    state: &mut LearnState,
) -> Result<Option<Vec<Structure>>> {
    let Some(v) = &input.validation else {
        return Ok(None);
    };
    let mut frames = Vec::new();
    for path in &v.files {
        frames.extend(read_frames(&base.join(path))?);
    }
    if let Some(temperature) = v.temperature {
        if input.oracle.kind != OracleKind::Potential {
            return Err(Error::Invalid(
                "validation.temperature needs an oracle of kind \"potential\" (MD with it); give validation.files instead"
                    .into(),
            ));
        }
        let spec = input.oracle.potential.as_deref().unwrap_or_default();
        let potential = gbion_potentials::spec::load(spec, Some(species.to_vec()), None)?;
        let mut settings = ExploreSettings::new(v.steps, v.timestep.0, temperature.0, 1.0, f64::INFINITY);
        settings.grade_every = v.every.max(1);
        let run = explore(structure, potential.as_ref(), &settings, input.seed + 999_999, |_| {
            Ok::<f64, Error>(1.0)
        })
        .map_err(|e| Error::Invalid(format!("validation MD: {e}")))?;
        if let Stop::BlowUp { step, message } = &run.stop {
            return Err(Error::Invalid(format!(
                "validation MD with the oracle blew up at step {step}: {message}"
            )));
        }
        let md: Vec<Structure> = run
            .candidates
            .into_iter()
            .filter(|c| c.step > 0)
            .map(|c| c.structure)
            .collect();
        frames.extend(label(oracle, &md, &layout.dir.join("valid_quarantine"), state)?);
    }
    Ok(Some(frames))
}

/// Label `structures` with the oracle, counting calls and quarantined ones in `state`.
fn label(
    oracle: &Oracle,
    structures: &[Structure],
    quarantine: &Path,
    state: &mut LearnState,
) -> Result<Vec<Structure>> {
    if structures.is_empty() {
        return Ok(Vec::new());
    }
    let result = oracle
        .label(structures, quarantine)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    state.oracle_calls += structures.len();
    state.quarantined += result.quarantined.len();
    Ok(result.labelled.into_iter().map(|l| l.structure).collect())
}

fn summary(input: &LearnInput, species: &[Element], layout: &Layout, state: &LearnState) -> Result<LearnSummary> {
    let last = state
        .rounds
        .last()
        .ok_or_else(|| Error::Invalid("the loop finished without a fit".into()))?;
    let potential = layout.potential(last.round);
    let mtp = Mtp::read(&potential)?.with_species(species.to_vec())?;
    let train_set = TrainingSet::read(&[layout.train()], Some(species))?;
    let train_errors = error_metrics(&mtp, &FitData::new(&train_set, &mtp)?)?;
    let valid_errors = if input.validation.is_some() && layout.valid().exists() {
        let valid = TrainingSet::read(&[layout.valid()], Some(species))?;
        Some(error_metrics(&mtp, &FitData::new(&valid, &mtp)?)?)
    } else {
        None
    };
    Ok(LearnSummary {
        converged: state.converged,
        rounds: state.rounds.len(),
        oracle_calls: state.oracle_calls,
        quarantined: state.quarantined,
        train_configurations: train_set.len(),
        potential,
        train_errors,
        valid_errors,
        history: state.rounds.clone(),
        output: layout.dir.clone(),
    })
}

fn read_frames(path: &Path) -> Result<Vec<Structure>> {
    Ok(read_file(path, None, &Default::default())?.collect::<gbion_atoms::Result<Vec<_>>>()?)
}

fn write_frames(path: &Path, frames: Vec<Structure>) -> Result<()> {
    write_file(
        path,
        Some(Format::ExtXyz),
        frames.into_iter().map(Ok),
        &WriteOptions::default(),
    )?;
    Ok(())
}

fn read_state(path: &Path) -> Result<LearnState> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let state: LearnState = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("{}: not a gbion learn state: {e}", path.display())))?;
    if state.version != STATE_VERSION {
        return Err(Error::Invalid(format!(
            "{}: state version {} (this gbion reads {STATE_VERSION})",
            path.display(),
            state.version
        )));
    }
    Ok(state)
}

fn write_state(path: &Path, state: &LearnState) -> Result<()> {
    let text = serde_json::to_string_pretty(state).map_err(|e| Error::Invalid(format!("state: {e}")))?;
    crate::nonlinear::write_atomically(path, text.as_bytes())
}
