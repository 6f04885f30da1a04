//! `gbion grade` and `gbion select`: the extrapolation grade of an MTP by MaxVol (MLIP's `calc-grade`
//! and `select-add`; Podryabinkin & Shapeev, Comput. Mater. Sci. 140, 171 (2017)), see
//! `gbion_learn::grade` for the rows, the active set and the thresholds.
//!
//! The JSON output of both commands is described in [`GRADE_JSON`] and [`SELECT_JSON`], which their
//! `--help` prints; the field names and meanings are stable.

use crate::output::emit;
use crate::structure_cmd::{open_frames, parse_elements};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use gbion_atoms::io::{self, Format, WriteOptions};
use gbion_atoms::{InfoValue, Property, Structure};
use gbion_learn::grade::{
    ActiveSet, DEFAULT_SELECT_THRESHOLD, DEFAULT_STOP_THRESHOLD, EquationWeights, RowMode, Thresholds, Verdict,
    parameter_count,
};
use gbion_potentials::Potential;
use gbion_potentials::mtp::Mtp;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The schema of `gbion grade --json` (shown by `gbion grade --help`).
pub const GRADE_JSON: &str = "JSON output (--json), one object:
  {\"mode\": \"site\" | \"configuration\",   row mode of the active set
   \"select_threshold\": 2.1, \"stop_threshold\": 10.0,
   \"frames\": [{\"file\": \"pool.extxyz\", \"frame\": 0, \"atoms\": 8,
               \"grade\": 1.7,              the configuration's grade (max over its rows)
               \"max_atom\": 3,             atom of the largest grade (null in configuration mode)
               \"max_atom_grade\": 1.7,     its grade (null in configuration mode)
               \"status\": \"reliable\"},    reliable (grade <= select), select (<= stop) or stop
              ...],
   \"max_grade\": 1.7,
   \"counts\": {\"reliable\": 1, \"select\": 0, \"stop\": 0}}
A grade of null means +infinity: the configuration has a component outside the span of the training
rows (e.g. a species or a composition the training set lacks); its status is stop.";

/// The schema of `gbion select --json` (shown by `gbion select --help`).
pub const SELECT_JSON: &str = "JSON output (--json), one object:
  {\"mode\": \"site\" | \"configuration\",   row mode of the active set
   \"weights\": {\"energy\": 1, \"force\": 0, \"stress\": 0},  equation weights (configuration mode)
   \"threshold\": 2.1,                   selection threshold
   \"active_set_rows\": 11,              rows of the starting active set (= parameters it determines)
   \"parameters\": 11,                   linear parameters of the MTP (species + moment coefficients)
   \"pool_frames\": 10,                  frames in the pool files
   \"candidates\": 4,                    pool frames above the threshold against the starting active set
   \"selected\": [{\"pool_index\": 7,      index among all pool frames (files in order)
                  \"file\": \"pool.extxyz\", \"frame\": 7,
                  \"grade\": 3.2,            grade against the starting active set
                  \"grade_at_selection\": 3.2},  grade when chosen (after the earlier picks)
                 ...]}                  in selection order, as written to --output
A grade of null means +infinity (outside the span of the training rows).";

/// How structure files are read (format, numeric type map).
#[derive(Args)]
pub struct FrameFiles {
    /// Structure file format (default: from each file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Elements of numeric atom types in the structure files (LAMMPS, MLIP .cfg), in type order.
    #[arg(long, value_delimiter = ',')]
    pub type_map: Option<Vec<String>>,
}

/// The potential: an MLIP `.mtp` file with its species map.
#[derive(Args)]
pub struct MtpArgs {
    /// The MLIP `.mtp` file (its radial coefficients define the rows).
    #[arg(long)]
    pub potential: PathBuf,
    /// Elements of the potential's type indices, in order, e.g. `Li,Sr,Ta,Zr,O`.
    #[arg(long, value_delimiter = ',', required = true)]
    pub species: Vec<String>,
}

#[derive(Args)]
pub struct GradeArgs {
    #[command(flatten)]
    pub mtp: MtpArgs,
    /// The active set (JSON, written by `gbion select --active-set-out`).
    #[arg(long)]
    pub active_set: PathBuf,
    /// Structure or trajectory files; every frame is graded.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub frames: FrameFiles,
    /// Grades above this are worth adding to the training set (MLIP's select / save threshold).
    #[arg(long, default_value_t = DEFAULT_SELECT_THRESHOLD)]
    pub select_threshold: f64,
    /// Grades above this mean the potential is not to be trusted (MLIP's break threshold).
    #[arg(long, default_value_t = DEFAULT_STOP_THRESHOLD)]
    pub stop_threshold: f64,
    /// Write the frames to this extended XYZ file with info `grade` and the per-atom property `grade`
    /// (site mode); an infinite grade is written as `inf`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print a JSON object (schema below).
    #[arg(long)]
    pub json: bool,
}

/// Row mode of a new active set.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    /// One row per atom (site energies; MLIP-3's default).
    Site,
    /// One row per configuration (total energies).
    Configuration,
}

#[derive(Args)]
pub struct SelectArgs {
    #[command(flatten)]
    pub mtp: MtpArgs,
    /// Training set to build the active set from (not read when --active-set is given).
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// An existing active set (JSON) to start from instead of building one from --train.
    #[arg(long)]
    pub active_set: Option<PathBuf>,
    /// Row mode of an active set built from --train (an --active-set file has its own).
    #[arg(long, value_enum, default_value = "site")]
    pub mode: ModeArg,
    /// Weight of each configuration's energy row, with --mode configuration and --train (MLIP select-add's
    /// --energy-weight; default 1).
    #[arg(long)]
    pub energy_weight: Option<f64>,
    /// Weight of its 3N force rows ∂F/∂θ (MLIP's --force-weight; default 0: no force rows).
    #[arg(long)]
    pub force_weight: Option<f64>,
    /// Weight of its 6 virial rows ∂(σV)/∂θ (MLIP's --stress-weight; default 0: no stress rows).
    #[arg(long)]
    pub stress_weight: Option<f64>,
    /// Pool files: candidate configurations (every frame).
    #[arg(required = true)]
    pub pool: Vec<PathBuf>,
    #[command(flatten)]
    pub frames: FrameFiles,
    /// Select only configurations whose grade exceeds this.
    #[arg(long, default_value_t = DEFAULT_SELECT_THRESHOLD)]
    pub threshold: f64,
    /// Select at most this many configurations (default: no limit).
    #[arg(long)]
    pub max: Option<usize>,
    /// Write the selected frames here (extxyz or MLIP .cfg with the potential's type order), with info
    /// `grade` (against the starting active set).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the updated active set (training set + selected frames) here.
    #[arg(long)]
    pub active_set_out: Option<PathBuf>,
    /// Print a JSON object (schema below).
    #[arg(long)]
    pub json: bool,
}

/// One frame of `gbion grade --json`.
#[derive(Serialize)]
struct FrameGrade {
    file: String,
    frame: usize,
    atoms: usize,
    grade: Option<f64>,
    max_atom: Option<usize>,
    max_atom_grade: Option<f64>,
    status: Verdict,
}

#[derive(Serialize, Default)]
struct Counts {
    reliable: usize,
    select: usize,
    stop: usize,
}

/// `gbion grade --json`.
#[derive(Serialize)]
struct GradeReport {
    mode: RowMode,
    select_threshold: f64,
    stop_threshold: f64,
    frames: Vec<FrameGrade>,
    max_grade: Option<f64>,
    counts: Counts,
}

/// One selected frame of `gbion select --json`.
#[derive(Serialize)]
struct Selected {
    pool_index: usize,
    file: String,
    frame: usize,
    grade: Option<f64>,
    grade_at_selection: Option<f64>,
}

/// `gbion select --json`.
#[derive(Serialize)]
struct SelectReport {
    mode: RowMode,
    weights: EquationWeights,
    threshold: f64,
    active_set_rows: usize,
    parameters: usize,
    pool_frames: usize,
    candidates: usize,
    selected: Vec<Selected>,
}

/// A JSON number, or null for +∞.
fn finite(grade: f64) -> Option<f64> {
    grade.is_finite().then_some(grade)
}

fn load_mtp(args: &MtpArgs) -> Result<Mtp> {
    let species = parse_elements(Some(&args.species), "--species")?.unwrap_or_default();
    let mtp = Mtp::read(&args.potential).with_context(|| format!("cannot read {}", args.potential.display()))?;
    Ok(mtp.with_species(species)?)
}

/// Every frame of `files`, with (file name, frame index).
fn read_frames(files: &[PathBuf], options: &FrameFiles) -> Result<Vec<(String, usize, Structure)>> {
    let mut frames = Vec::new();
    for path in files {
        let reader = open_frames(path, options.format.as_deref(), options.type_map.as_deref())?;
        for (k, frame) in reader.enumerate() {
            let frame = frame.with_context(|| format!("cannot read {}", path.display()))?;
            frames.push((path.display().to_string(), k, frame));
        }
    }
    if frames.is_empty() {
        bail!("no frames in {}", names(files));
    }
    Ok(frames)
}

fn names(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

pub fn grade(args: GradeArgs) -> Result<()> {
    let mtp = load_mtp(&args.mtp)?;
    let thresholds = Thresholds::new(args.select_threshold, args.stop_threshold)?;
    let active = ActiveSet::read(&args.active_set)?;
    let mut reports = Vec::new();
    let mut counts = Counts::default();
    let mut graded = Vec::new();
    for (file, k, mut frame) in read_frames(&args.files, &args.frames)? {
        let grade = active
            .grade(&mtp, &frame)
            .with_context(|| format!("frame {k} of {file}"))?;
        let status = thresholds.verdict(grade.configuration);
        *match status {
            Verdict::Reliable => &mut counts.reliable,
            Verdict::Select => &mut counts.select,
            Verdict::Stop => &mut counts.stop,
        } += 1;
        let max_atom = grade
            .per_atom
            .as_ref()
            .and_then(|g| (0..g.len()).reduce(|best, i| if g[i] > g[best] { i } else { best }));
        reports.push(FrameGrade {
            file,
            frame: k,
            atoms: frame.len(),
            grade: finite(grade.configuration),
            max_atom,
            max_atom_grade: max_atom.and_then(|i| finite(grade.per_atom.as_ref()?[i])),
            status,
        });
        if args.output.is_some() {
            frame.info.insert("grade".into(), InfoValue::Real(grade.configuration));
            if let Some(per_atom) = grade.per_atom {
                frame.properties.insert(
                    "grade".into(),
                    Property::Real {
                        data: per_atom,
                        columns: 1,
                    },
                );
            }
            graded.push(frame);
        }
    }
    if let Some(path) = &args.output {
        write_frames(path, graded, &mtp)?;
    }
    let max_grade = reports
        .iter()
        .map(|r| r.grade.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    let report = GradeReport {
        mode: active.mode(),
        select_threshold: thresholds.select,
        stop_threshold: thresholds.stop,
        frames: reports,
        max_grade: finite(max_grade),
        counts,
    };
    emit(args.json, &report, || grade_summary(&report))
}

pub fn select(args: SelectArgs) -> Result<()> {
    let mtp = load_mtp(&args.mtp)?;
    let weights = [args.energy_weight, args.force_weight, args.stress_weight];
    let mut active = match (&args.active_set, &args.train) {
        (Some(path), _) => {
            if weights.iter().any(Option::is_some) {
                bail!(
                    "--energy-weight, --force-weight and --stress-weight apply to --train; the active set has its own"
                );
            }
            ActiveSet::read(path)?
        }
        (None, Some(train)) => {
            let training: Vec<Structure> = read_frames(std::slice::from_ref(train), &args.frames)?
                .into_iter()
                .map(|(_, _, s)| s)
                .collect();
            let mode = match args.mode {
                ModeArg::Site => RowMode::Site,
                ModeArg::Configuration => RowMode::Configuration,
            };
            let default = EquationWeights::default();
            let weights = EquationWeights::new(
                weights[0].unwrap_or(default.energy),
                weights[1].unwrap_or(default.force),
                weights[2].unwrap_or(default.stress),
            )?;
            ActiveSet::from_training_weighted(&mtp, &training, mode, weights)
                .with_context(|| format!("active set of {}", train.display()))?
        }
        (None, None) => bail!("give the training set (--train) or an active set (--active-set)"),
    };
    let pool = read_frames(&args.pool, &args.frames)?;
    let structures: Vec<Structure> = pool.iter().map(|(_, _, s)| s.clone()).collect();
    let grades: Vec<f64> = structures
        .iter()
        .map(|s| Ok(active.grade(&mtp, s)?.configuration))
        .collect::<Result<_>>()?;
    let (mode, rows) = (active.mode(), active.rows().len());
    let selections = active.select_batch(&mtp, &structures, args.threshold, args.max.unwrap_or(usize::MAX))?;
    let mut chosen = Vec::new();
    let selected: Vec<Selected> = selections
        .iter()
        .map(|s| {
            let (file, frame, structure) = &pool[s.index];
            let mut structure = structure.clone();
            structure.info.insert("grade".into(), InfoValue::Real(grades[s.index]));
            chosen.push(structure);
            Selected {
                pool_index: s.index,
                file: file.clone(),
                frame: *frame,
                grade: finite(grades[s.index]),
                grade_at_selection: finite(s.grade),
            }
        })
        .collect();
    write_frames(&args.output, chosen, &mtp)?;
    if let Some(path) = &args.active_set_out {
        active.write(path)?;
    }
    let report = SelectReport {
        mode,
        weights: active.weights(),
        threshold: args.threshold,
        active_set_rows: rows,
        parameters: parameter_count(&mtp),
        pool_frames: pool.len(),
        candidates: grades.iter().filter(|&&g| g > args.threshold).count(),
        selected,
    };
    emit(args.json, &report, || select_summary(&report, &args.output))
}

/// Frames to extxyz or MLIP .cfg (types in the potential's order), by the file name.
fn write_frames(path: &Path, frames: Vec<Structure>, mtp: &Mtp) -> Result<()> {
    let format = Format::from_path(path)?;
    let options = WriteOptions {
        type_map: mtp.species().map(<[_]>::to_vec),
        ..WriteOptions::default()
    };
    io::write_file(path, Some(format), frames.into_iter().map(Ok), &options)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn show(grade: Option<f64>) -> String {
    grade.map_or("inf (outside the training span)".into(), |g| format!("{g:.4}"))
}

/// The name a unit enum variant has in the JSON output (`site`, `reliable`, ...).
fn json_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

fn grade_summary(report: &GradeReport) -> String {
    let mut text = format!(
        "{} frames, {} rows; thresholds select {} / stop {}\n",
        report.frames.len(),
        json_name(&report.mode),
        report.select_threshold,
        report.stop_threshold
    );
    for f in &report.frames {
        text += &format!(
            "{} frame {}: {} atoms, grade {} ({})",
            f.file,
            f.frame,
            f.atoms,
            show(f.grade),
            json_name(&f.status)
        );
        if let Some(atom) = f.max_atom {
            text += &format!(", largest at atom {atom}: {}", show(f.max_atom_grade));
        }
        text += "\n";
    }
    text += &format!(
        "max grade {}; reliable {}, select {}, stop {}\n",
        show(report.max_grade),
        report.counts.reliable,
        report.counts.select,
        report.counts.stop
    );
    text
}

fn select_summary(report: &SelectReport, output: &Path) -> String {
    let w = &report.weights;
    let mut text = format!(
        "active set: {} rows of {} parameters ({} rows{}); pool: {} frames, {} above the threshold {}\n",
        report.active_set_rows,
        report.parameters,
        json_name(&report.mode),
        match report.mode {
            RowMode::Site => String::new(),
            RowMode::Configuration => format!(", weights energy {} force {} stress {}", w.energy, w.force, w.stress),
        },
        report.pool_frames,
        report.candidates,
        report.threshold
    );
    for s in &report.selected {
        text += &format!(
            "selected {} frame {} (grade {}, {} when chosen)\n",
            s.file,
            s.frame,
            show(s.grade),
            show(s.grade_at_selection)
        );
    }
    text += &format!("{} frames written to {}\n", report.selected.len(), output.display());
    text
}
