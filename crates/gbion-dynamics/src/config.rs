//! The TOML input of `gbion md`, `gbion mcmd` and `gbion relax`: what to simulate, how, and where the
//! output goes. Unknown keys are errors; every error names the file, the line and the key.
//!
//! ```toml
//! structure = "lstz.xyz"          # a structure file, relative to this file; or a [structure.perovskite] table
//! potential = "model.toml"        # rigid-ion .toml, MLIP .mtp (with species), builtin:NAME, cmd:COMMAND;
//!                                 # or an inline rigid-ion model in [potential.rigid_ion] tables
//! species = ["Li", "Sr", "Ta", "Zr", "O"]   # element of each .mtp type index
//! seed = 1                        # --seed overrides it
//!
//! [md]
//! steps = 1000
//! timestep = "1 fs"               # bare numbers: fs
//! ensemble = "langevin"           # "nve" | "langevin" | "nose-hoover"
//! temperature = "600 K"           # bare numbers: K
//! initial_temperature = "600 K"   # Maxwell–Boltzmann velocities; default: `temperature`, or the file's velocities
//! damping = "100 fs"              # Langevin 1/γ, Nosé–Hoover period τ
//! chain = 3                       # Nosé–Hoover chain length
//! skin = 1.0                      # neighbour-list skin (Å)
//! barostat = "isotropic"          # NPT by stochastic cell rescaling: "isotropic" | "anisotropic"; needs a thermostat
//! pressure = 0.0                  # GPa (positive compresses)
//! barostat_tau = "2 ps"           # default: 1000 time steps
//! compressibility = 0.01          # 1/GPa, β_T of the barostat
//!
//! [mc]                            # gbion mcmd only: `md_steps` MD steps, then `attempts` MC attempts, repeated
//! md_steps = 100
//! attempts = 20
//! temperature = "600 K"           # default: md.temperature
//! moves = [{ swap = ["Li", "Sr"] }, { hop = "Li", max_distance = 4.2 }]
//!
//! [relax]                         # gbion relax
//! algorithm = "fire"              # "fire" | "lbfgs"
//! fmax = 0.01                     # eV/Å
//! cell = false
//! pressure = 0.0                  # GPa
//! stress_tol = 0.01               # GPa
//! max_steps = 1000
//! rattle = 0.0                    # Å, seeded random displacement before relaxing
//!
//! [output]
//! directory = "md_out"            # default: <input stem>_out beside the input
//! thermo_every = 10
//! trajectory_every = 100          # 0: no trajectory
//! trajectory_format = "extxyz"    # "extxyz" (unwrapped positions) | "lammps-dump" (wrapped + image flags)
//! checkpoint_every = 500          # 0: no checkpoints
//!
//! [safety]
//! min_distance = 0.5              # Å: atoms closer than this stop the run
//! max_temperature = "10000 K"     # default: 10 × the largest of the target, initial and 300 K
//! ```

use crate::{Error, Result};
use gbion_atoms::Element;
use gbion_units::UnitError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A quantity as TOML gives it: a string with units (`"600 K"`) or a bare number in the key's default unit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    Text(String),
    Number(f64),
}

impl Quantity {
    /// The value in `default_unit`: `parse` reads a quantity into SI, `unit_si` is the default unit in SI. A
    /// bare number is in the default unit already and only goes through the parser's checks.
    fn value(
        &self,
        default_unit: &str,
        parse: fn(&str, &str) -> std::result::Result<f64, UnitError>,
        unit_si: f64,
    ) -> std::result::Result<f64, UnitError> {
        match self {
            Quantity::Text(s) => parse(s, default_unit).map(|v| v / unit_si),
            Quantity::Number(x) => parse(&format!("{x:e}"), default_unit).map(|_| *x),
        }
    }

    /// The temperature in K (`"600 K"`, `"25 C"`, a bare number of K).
    pub fn kelvin(&self) -> std::result::Result<f64, UnitError> {
        self.value("K", gbion_units::parse_temperature_k, 1.0)
    }

    /// The time in fs (`"0.5 fs"`, `"1 ps"`, a bare number of fs).
    pub fn femtoseconds(&self) -> std::result::Result<f64, UnitError> {
        self.value("fs", gbion_units::parse_time_s, 1e-15)
    }

    /// The time in s (`"2 h"`, `"90 min"`, a bare number of s).
    pub fn seconds(&self) -> std::result::Result<f64, UnitError> {
        self.value("s", gbion_units::parse_time_s, 1.0)
    }
}

/// A temperature (K) in a table read with serde: `"600 K"`, `"25 C"` or a bare number of K.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "Quantity", into = "f64")]
pub struct Kelvin(pub f64);

impl TryFrom<Quantity> for Kelvin {
    type Error = UnitError;
    fn try_from(q: Quantity) -> std::result::Result<Kelvin, UnitError> {
        q.kelvin().map(Kelvin)
    }
}

impl From<Kelvin> for f64 {
    fn from(t: Kelvin) -> f64 {
        t.0
    }
}

/// A positive time (fs) in a table read with serde: `"0.5 fs"`, `"1 ps"` or a bare number of fs.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "Quantity", into = "f64")]
pub struct Femtoseconds(pub f64);

impl TryFrom<Quantity> for Femtoseconds {
    type Error = String;
    fn try_from(q: Quantity) -> std::result::Result<Femtoseconds, String> {
        positive_time(q.femtoseconds()).map(Femtoseconds)
    }
}

impl From<Femtoseconds> for f64 {
    fn from(t: Femtoseconds) -> f64 {
        t.0
    }
}

/// A positive time (s) in a table read with serde: `"2 h"`, `"90 min"` or a bare number of s.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "Quantity", into = "f64")]
pub struct Seconds(pub f64);

impl TryFrom<Quantity> for Seconds {
    type Error = String;
    fn try_from(q: Quantity) -> std::result::Result<Seconds, String> {
        positive_time(q.seconds()).map(Seconds)
    }
}

impl From<Seconds> for f64 {
    fn from(t: Seconds) -> f64 {
        t.0
    }
}

/// A parsed time that must be positive and finite.
fn positive_time(t: std::result::Result<f64, UnitError>) -> std::result::Result<f64, String> {
    match t {
        Ok(t) if t.is_finite() && t > 0.0 => Ok(t),
        Ok(_) => Err("must be a positive time".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    structure: Spanned<StructureField>,
    potential: Spanned<PotentialField>,
    species: Option<Spanned<Vec<String>>>,
    seed: Option<Spanned<u64>>,
    md: Option<Spanned<MdTable>>,
    mc: Option<Spanned<McTable>>,
    relax: Option<Spanned<RelaxTable>>,
    #[serde(default)]
    output: OutputTable,
    #[serde(default)]
    safety: SafetyTable,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StructureField {
    Path(String),
    Table(StructureTable),
}

/// The `structure` value of an input (a file path, or `{ perovskite = { formula, a, supercell, ordering } }`)
/// as a [`StructureSource`], with a path resolved against `base`; other inputs (`gbion learn`) share it.
pub fn structure_source(value: toml::Value, base: &Path) -> std::result::Result<StructureSource, String> {
    let field: StructureField = value.try_into().map_err(|e| format!("structure: {e}"))?;
    structure_source_of(&field, base).map_err(|(key, message)| format!("{key}: {message}"))
}

fn structure_source_of(
    field: &StructureField,
    base: &Path,
) -> std::result::Result<StructureSource, (&'static str, String)> {
    Ok(match field {
        StructureField::Path(p) => StructureSource::File(base.join(p)),
        StructureField::Table(t) => {
            let p = &t.perovskite;
            if !(p.a.is_finite() && p.a > 0.0) || p.supercell.contains(&0) {
                return Err((
                    "structure.perovskite",
                    "a must be positive and the supercell counts at least 1".into(),
                ));
            }
            StructureSource::Perovskite {
                formula: p.formula.clone(),
                a: p.a,
                supercell: p.supercell,
                ordering: p.ordering.clone(),
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StructureTable {
    perovskite: PerovskiteTable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PerovskiteTable {
    formula: String,
    a: f64,
    supercell: [usize; 3],
    #[serde(default = "random")]
    ordering: String,
}

fn random() -> String {
    "random".into()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PotentialField {
    Spec(String),
    Table(toml::Table),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MdTable {
    steps: Spanned<u64>,
    timestep: Spanned<Quantity>,
    #[serde(default)]
    ensemble: Option<Spanned<String>>,
    temperature: Option<Spanned<Quantity>>,
    initial_temperature: Option<Spanned<Quantity>>,
    damping: Option<Spanned<Quantity>>,
    chain: Option<Spanned<usize>>,
    skin: Option<Spanned<f64>>,
    barostat: Option<Spanned<String>>,
    pressure: Option<Spanned<f64>>,
    barostat_tau: Option<Spanned<Quantity>>,
    compressibility: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct McTable {
    md_steps: Spanned<u64>,
    attempts: Spanned<u64>,
    temperature: Option<Spanned<Quantity>>,
    moves: Spanned<Vec<MoveTable>>,
}

/// One Monte Carlo move as TOML gives it: `{ swap = ["Li", "Sr"] }` or `{ hop = "Li", max_distance = 4.2 }`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveTable {
    /// Exactly two elements (checked in `try_from`: a `[String; 2]` would accept a third silently).
    swap: Option<Vec<String>>,
    hop: Option<String>,
    max_distance: Option<f64>,
}

/// Why a [`MoveTable`] is not a move: the key (below `moves`) and the message.
#[derive(Debug)]
pub(crate) struct MoveError {
    key: &'static str,
    message: String,
}

impl std::fmt::Display for MoveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moves.{}: {}", self.key, self.message)
    }
}

impl TryFrom<MoveTable> for crate::mc::MoveKind {
    type Error = MoveError;
    fn try_from(m: MoveTable) -> std::result::Result<crate::mc::MoveKind, MoveError> {
        let element = |symbol: &str, key: &'static str| {
            Element::from_symbol(symbol.trim()).map_err(|_| MoveError {
                key,
                message: format!("unknown element {symbol:?}"),
            })
        };
        match (m.swap.as_deref(), &m.hop) {
            (Some([a, b]), None) if m.max_distance.is_none() => Ok(crate::mc::MoveKind::Swap {
                a: element(a, "swap")?,
                b: element(b, "swap")?,
            }),
            (Some(other), None) if other.len() != 2 => Err(MoveError {
                key: "swap",
                message: format!("a swap names two elements, got {other:?}"),
            }),
            (None, Some(species)) => {
                let max_distance = m.max_distance.unwrap_or(4.5);
                if !(max_distance.is_finite() && max_distance > 0.0) {
                    return Err(MoveError {
                        key: "max_distance",
                        message: "must be a positive length (Å)".into(),
                    });
                }
                Ok(crate::mc::MoveKind::VacancyHop {
                    species: element(species, "hop")?,
                    max_distance,
                })
            }
            _ => Err(MoveError {
                key: "",
                message: "each move is { swap = [\"A\", \"B\"] } or { hop = \"A\", max_distance = Å }".into(),
            }),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelaxTable {
    algorithm: Option<Spanned<String>>,
    fmax: Option<Spanned<f64>>,
    cell: Option<bool>,
    pressure: Option<Spanned<f64>>,
    stress_tol: Option<Spanned<f64>>,
    max_steps: Option<usize>,
    max_step: Option<Spanned<f64>>,
    rattle: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OutputTable {
    directory: Option<String>,
    thermo_every: Option<Spanned<u64>>,
    trajectory_every: Option<u64>,
    trajectory_format: Option<Spanned<String>>,
    checkpoint_every: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SafetyTable {
    min_distance: Option<Spanned<f64>>,
    max_temperature: Option<Spanned<Quantity>>,
}

/// Where the structure comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum StructureSource {
    /// A structure file (first frame), resolved against the input's directory.
    File(PathBuf),
    /// A perovskite supercell for gbion-build (the caller builds it, seeded with the run's seed).
    Perovskite {
        formula: String,
        a: f64,
        supercell: [usize; 3],
        ordering: String,
    },
}

/// Which potential.
#[derive(Clone, Debug, PartialEq)]
pub enum PotentialSource {
    /// A potential specification as `gbion eval --potential` takes it (paths resolved against the input's
    /// directory).
    Spec(String),
    /// An inline rigid-ion parameter file: the input's text with every line outside the
    /// `[potential.rigid_ion…]` tables blanked and the prefix removed from their headers, so the rigid-ion
    /// parser reports lines of the input file.
    RigidIon { text: String, source_name: String },
}

/// The ensemble of an MD run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ensemble {
    Nve,
    Langevin { damping_fs: f64 },
    NoseHoover { tau_fs: f64, chain: usize },
}

/// `[md]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MdSettings {
    pub steps: u64,
    /// Δt (fs).
    pub timestep: f64,
    pub ensemble: Ensemble,
    /// Target temperature (K); required for thermostats.
    pub temperature: Option<f64>,
    /// Maxwell–Boltzmann temperature of the initial velocities (K), if they are to be drawn.
    pub initial_temperature: Option<f64>,
    /// Neighbour-list skin (Å).
    pub skin: f64,
    /// NPT by stochastic cell rescaling.
    pub barostat: Option<crate::integrate::Barostat>,
}

/// `[mc]`.
#[derive(Clone, Debug, PartialEq)]
pub struct McSettings {
    pub md_steps: u64,
    pub attempts: u64,
    /// K.
    pub temperature: f64,
    pub moves: Vec<crate::mc::MoveKind>,
}

/// `[relax]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RelaxSettings {
    pub options: crate::relax::RelaxOptions,
    /// Seeded random displacement (Å) applied before relaxing.
    pub rattle: f64,
}

/// Trajectory file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrajectoryFormat {
    /// Extended XYZ with unwrapped positions.
    ExtXyz,
    /// LAMMPS dump with wrapped positions and image flags `ix iy iz`.
    LammpsDump,
}

/// `[output]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputSettings {
    pub directory: PathBuf,
    pub thermo_every: u64,
    pub trajectory_every: u64,
    pub trajectory_format: TrajectoryFormat,
    pub checkpoint_every: u64,
}

/// `[safety]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SafetySettings {
    /// Å.
    pub min_distance: f64,
    /// K; `None`: 10 × max(target, initial, 300 K).
    pub max_temperature: Option<f64>,
}

/// A parsed and checked input file.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub structure: StructureSource,
    pub potential: PotentialSource,
    pub species: Option<Vec<Element>>,
    pub seed: u64,
    pub md: Option<MdSettings>,
    pub mc: Option<McSettings>,
    pub relax: Option<RelaxSettings>,
    pub output: OutputSettings,
    pub safety: SafetySettings,
}

/// Line (1-based) of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key at byte `offset`: the enclosing `[table]` header and the `key =` of that line.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line = text[start..].lines().next().unwrap_or("");
    let local = line.split('=').next().unwrap_or("").trim();
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let is_header = local.starts_with('[');
    match (table, is_header || !line.contains('=')) {
        (_, true) => local.trim_matches(|c| c == '[' || c == ']').trim().to_string(),
        (Some(t), false) => format!("{t}.{local}"),
        (None, false) => local.to_string(),
    }
}

struct Ctx<'a> {
    text: &'a str,
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, key: &str, message: impl Into<String>) -> Error {
        Error::Input {
            source_name: self.source.to_string(),
            line: line_of(self.text, offset),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn temperature(&self, q: &Spanned<Quantity>, key: &str) -> Result<f64> {
        q.get_ref()
            .kelvin()
            .map_err(|e| self.err(q.span().start, key, e.to_string()))
    }

    fn time_fs(&self, q: &Spanned<Quantity>, key: &str) -> Result<f64> {
        positive_time(q.get_ref().femtoseconds()).map_err(|e| self.err(q.span().start, key, e))
    }

    fn positive(&self, v: &Spanned<f64>, key: &str) -> Result<f64> {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0) {
            return Err(self.err(v.span().start, key, format!("must be positive, got {x}")));
        }
        Ok(x)
    }

    fn element(&self, symbol: &str, offset: usize, key: &str) -> Result<Element> {
        Element::from_symbol(symbol.trim()).map_err(|_| self.err(offset, key, format!("unknown element {symbol:?}")))
    }
}

/// The inline rigid-ion model of the input `text` (see [`PotentialSource::RigidIon`]).
fn inline_rigid_ion(text: &str) -> String {
    const PREFIX: &str = "potential.rigid_ion";
    let mut inside = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            let double = trimmed.starts_with("[[");
            let name = trimmed.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim();
            inside = name == PREFIX || name.starts_with(&format!("{PREFIX}."));
            if inside {
                if let Some(rest) = name.strip_prefix(&format!("{PREFIX}.")) {
                    out.push_str(&if double {
                        format!("[[{rest}]]")
                    } else {
                        format!("[{rest}]")
                    });
                }
                out.push('\n');
                continue;
            }
        }
        if inside {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Parse an input file's `text`; `path` names it in messages and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Input> {
    let source = path.display().to_string();
    let ctx = Ctx { text, source: &source };
    let file: File = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim().to_string();
        let key = match message.split('`').nth(1) {
            Some(field) if message.starts_with("missing field") => {
                let table = key_at(text, offset);
                if table.is_empty() || !text[offset.min(text.len())..].trim_start().starts_with('[') {
                    field.to_string()
                } else {
                    format!("{table}.{field}")
                }
            }
            _ => key_at(text, offset),
        };
        ctx.err(offset, &key, message)
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let structure = structure_source_of(file.structure.get_ref(), base)
        .map_err(|(key, message)| ctx.err(file.structure.span().start, key, &message))?;
    let potential = match file.potential.get_ref() {
        PotentialField::Spec(spec) => {
            let resolved = if spec.starts_with("cmd:") || spec.starts_with("builtin:") {
                spec.clone()
            } else {
                base.join(spec).display().to_string()
            };
            PotentialSource::Spec(resolved)
        }
        PotentialField::Table(table) => {
            if table.len() != 1 || !table.contains_key("rigid_ion") {
                return Err(ctx.err(
                    file.potential.span().start,
                    "potential",
                    "an inline potential is a [potential.rigid_ion] table (the keys of a rigid-ion parameter file)",
                ));
            }
            PotentialSource::RigidIon {
                text: inline_rigid_ion(text),
                source_name: source.clone(),
            }
        }
    };
    let species = match &file.species {
        None => None,
        Some(list) => Some(
            list.get_ref()
                .iter()
                .map(|s| ctx.element(s, list.span().start, "species"))
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    let md = file.md.as_ref().map(|md| md_settings(&ctx, md.get_ref())).transpose()?;
    let md_temperature = md.as_ref().and_then(|m| m.temperature);
    let mc = match &file.mc {
        None => None,
        Some(mc) => Some(mc_settings(&ctx, mc, md_temperature)?),
    };
    let relax = file
        .relax
        .as_ref()
        .map(|r| relax_settings(&ctx, r.get_ref()))
        .transpose()?;
    let output = output_settings(&ctx, &file.output, path)?;
    let safety = SafetySettings {
        min_distance: match &file.safety.min_distance {
            Some(d) => ctx.positive(d, "safety.min_distance")?,
            None => 0.5,
        },
        max_temperature: file
            .safety
            .max_temperature
            .as_ref()
            .map(|q| ctx.temperature(q, "safety.max_temperature"))
            .transpose()?,
    };
    Ok(Input {
        structure,
        potential,
        species,
        seed: file.seed.map_or(0, |s| *s.get_ref()),
        md,
        mc,
        relax,
        output,
        safety,
    })
}

/// Read and parse an input file.
pub fn read(path: &Path) -> Result<Input> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    parse(&text, path)
}

fn md_settings(ctx: &Ctx, md: &MdTable) -> Result<MdSettings> {
    let timestep = ctx.time_fs(&md.timestep, "md.timestep")?;
    let temperature = md
        .temperature
        .as_ref()
        .map(|q| ctx.temperature(q, "md.temperature"))
        .transpose()?;
    let initial_temperature = md
        .initial_temperature
        .as_ref()
        .map(|q| ctx.temperature(q, "md.initial_temperature"))
        .transpose()?;
    let damping = md.damping.as_ref().map(|q| ctx.time_fs(q, "md.damping")).transpose()?;
    let ensemble_name = md.ensemble.as_ref().map_or("nve", |e| e.get_ref().as_str());
    let ensemble_offset = md.ensemble.as_ref().map_or(md.steps.span().start, |e| e.span().start);
    let ensemble = match ensemble_name {
        "nve" => Ensemble::Nve,
        "langevin" => Ensemble::Langevin {
            damping_fs: damping.unwrap_or(100.0 * timestep),
        },
        "nose-hoover" => Ensemble::NoseHoover {
            tau_fs: damping.unwrap_or(100.0 * timestep),
            chain: match &md.chain {
                Some(c) if *c.get_ref() == 0 => return Err(ctx.err(c.span().start, "md.chain", "must be at least 1")),
                Some(c) => *c.get_ref(),
                None => 3,
            },
        },
        other => {
            return Err(ctx.err(
                ensemble_offset,
                "md.ensemble",
                format!("unknown ensemble {other:?}: expected \"nve\", \"langevin\" or \"nose-hoover\""),
            ));
        }
    };
    if ensemble != Ensemble::Nve && temperature.is_none_or(|t| t <= 0.0) {
        return Err(ctx.err(
            ensemble_offset,
            "md.temperature",
            format!("ensemble {ensemble_name:?} needs a positive temperature"),
        ));
    }
    let skin = match &md.skin {
        Some(s) => {
            let x = *s.get_ref();
            if !(x.is_finite() && x >= 0.0) {
                return Err(ctx.err(s.span().start, "md.skin", "must be ≥ 0 Å"));
            }
            x
        }
        None => 1.0,
    };
    let barostat = match &md.barostat {
        None => {
            if let Some(p) = &md.pressure {
                return Err(ctx.err(p.span().start, "md.pressure", "a pressure needs md.barostat"));
            }
            None
        }
        Some(kind) => {
            let anisotropic = match kind.get_ref().as_str() {
                "isotropic" => false,
                "anisotropic" => true,
                other => {
                    return Err(ctx.err(
                        kind.span().start,
                        "md.barostat",
                        format!("unknown barostat {other:?}: expected \"isotropic\" or \"anisotropic\""),
                    ));
                }
            };
            if ensemble == Ensemble::Nve {
                return Err(ctx.err(
                    kind.span().start,
                    "md.barostat",
                    "a barostat needs a thermostat (ensemble \"langevin\" or \"nose-hoover\")",
                ));
            }
            let pressure_gpa = md.pressure.as_ref().map_or(0.0, |p| *p.get_ref());
            if !pressure_gpa.is_finite() {
                return Err(ctx.err(kind.span().start, "md.pressure", "must be finite (GPa)"));
            }
            let compressibility = match &md.compressibility {
                Some(c) => ctx.positive(c, "md.compressibility")?,
                None => 0.01,
            };
            Some(crate::integrate::Barostat {
                pressure: pressure_gpa / crate::units::EV_A3_TO_GPA,
                tau: match &md.barostat_tau {
                    Some(q) => ctx.time_fs(q, "md.barostat_tau")?,
                    None => 1000.0 * timestep,
                },
                compressibility: compressibility * crate::units::EV_A3_TO_GPA,
                anisotropic,
            })
        }
    };
    Ok(MdSettings {
        barostat,
        steps: *md.steps.get_ref(),
        timestep,
        ensemble,
        temperature,
        initial_temperature,
        skin,
    })
}

fn mc_settings(ctx: &Ctx, mc: &Spanned<McTable>, md_temperature: Option<f64>) -> Result<McSettings> {
    let table = mc.get_ref();
    let temperature = match &table.temperature {
        Some(q) => ctx.temperature(q, "mc.temperature")?,
        None => md_temperature.filter(|&t| t > 0.0).ok_or_else(|| {
            ctx.err(
                mc.span().start,
                "mc.temperature",
                "give a temperature (or md.temperature)",
            )
        })?,
    };
    if *table.md_steps.get_ref() == 0 {
        return Err(ctx.err(table.md_steps.span().start, "mc.md_steps", "must be at least 1"));
    }
    let offset = table.moves.span().start;
    let moves = table
        .moves
        .get_ref()
        .iter()
        .map(|m| {
            crate::mc::MoveKind::try_from(m.clone()).map_err(|e| {
                let key = match e.key {
                    "" => "mc.moves".to_string(),
                    k => format!("mc.moves.{k}"),
                };
                ctx.err(offset, &key, e.message)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if moves.is_empty() {
        return Err(ctx.err(offset, "mc.moves", "give at least one move"));
    }
    Ok(McSettings {
        md_steps: *table.md_steps.get_ref(),
        attempts: *table.attempts.get_ref(),
        temperature,
        moves,
    })
}

fn relax_settings(ctx: &Ctx, r: &RelaxTable) -> Result<RelaxSettings> {
    use crate::relax::{Algorithm, RelaxOptions};
    use crate::units::EV_A3_TO_GPA;
    let mut options = RelaxOptions::default();
    if let Some(a) = &r.algorithm {
        options.algorithm = match a.get_ref().as_str() {
            "fire" => Algorithm::Fire,
            "lbfgs" | "l-bfgs" => Algorithm::Lbfgs,
            other => {
                return Err(ctx.err(
                    a.span().start,
                    "relax.algorithm",
                    format!("unknown algorithm {other:?}: expected \"fire\" or \"lbfgs\""),
                ));
            }
        };
    }
    if let Some(f) = &r.fmax {
        options.fmax = ctx.positive(f, "relax.fmax")?;
    }
    options.cell = r.cell.unwrap_or(false);
    if let Some(p) = &r.pressure {
        if !p.get_ref().is_finite() {
            return Err(ctx.err(p.span().start, "relax.pressure", "must be finite (GPa)"));
        }
        options.pressure = p.get_ref() / EV_A3_TO_GPA;
    }
    if let Some(s) = &r.stress_tol {
        options.stress_tol = ctx.positive(s, "relax.stress_tol")? / EV_A3_TO_GPA;
    }
    if let Some(m) = r.max_steps {
        options.max_steps = m;
    }
    if let Some(m) = &r.max_step {
        options.max_step = ctx.positive(m, "relax.max_step")?;
    }
    let rattle = match &r.rattle {
        Some(x) if !(x.get_ref().is_finite() && *x.get_ref() >= 0.0) => {
            return Err(ctx.err(x.span().start, "relax.rattle", "must be ≥ 0 Å"));
        }
        Some(x) => *x.get_ref(),
        None => 0.0,
    };
    Ok(RelaxSettings { options, rattle })
}

fn output_settings(ctx: &Ctx, o: &OutputTable, path: &Path) -> Result<OutputSettings> {
    let base = path.parent().unwrap_or(Path::new(""));
    let directory = match &o.directory {
        Some(d) => base.join(d),
        None => {
            let stem = path
                .file_stem()
                .map_or("run".into(), |s| s.to_string_lossy().into_owned());
            base.join(format!("{stem}_out"))
        }
    };
    let thermo_every = match &o.thermo_every {
        Some(t) if *t.get_ref() == 0 => {
            return Err(ctx.err(t.span().start, "output.thermo_every", "must be at least 1"));
        }
        Some(t) => *t.get_ref(),
        None => 10,
    };
    let trajectory_format = match &o.trajectory_format {
        None => TrajectoryFormat::ExtXyz,
        Some(f) => match f.get_ref().as_str() {
            "extxyz" => TrajectoryFormat::ExtXyz,
            "lammps-dump" => TrajectoryFormat::LammpsDump,
            other => {
                return Err(ctx.err(
                    f.span().start,
                    "output.trajectory_format",
                    format!("unknown format {other:?}: expected \"extxyz\" or \"lammps-dump\""),
                ));
            }
        },
    };
    Ok(OutputSettings {
        directory,
        thermo_every,
        trajectory_every: o.trajectory_every.unwrap_or(100),
        trajectory_format,
        checkpoint_every: o.checkpoint_every.unwrap_or(1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "structure = \"s.xyz\"\npotential = \"p.toml\"\n[md]\nsteps = 10\ntimestep = 2\n";

    #[test]
    fn minimal_input_with_defaults() {
        let input = parse(MINIMAL, Path::new("dir/run.toml")).unwrap();
        assert_eq!(input.structure, StructureSource::File("dir/s.xyz".into()));
        assert_eq!(input.potential, PotentialSource::Spec("dir/p.toml".into()));
        let md = input.md.unwrap();
        assert_eq!((md.steps, md.timestep, md.ensemble), (10, 2.0, Ensemble::Nve));
        assert_eq!(input.output.directory, PathBuf::from("dir/run_out"));
    }

    #[test]
    fn units_are_read() {
        let text = MINIMAL.replace(
            "timestep = 2",
            "timestep = \"0.5 fs\"\nensemble = \"langevin\"\ntemperature = \"26.85 C\"\ndamping = \"0.1 ps\"",
        );
        let md = parse(&text, Path::new("run.toml")).unwrap().md.unwrap();
        assert_eq!(md.timestep, 0.5);
        assert!((md.temperature.unwrap() - 300.0).abs() < 1e-9);
        assert!(matches!(md.ensemble, Ensemble::Langevin { damping_fs } if (damping_fs - 100.0).abs() < 1e-9));
    }

    /// Errors name the file, the line and the key.
    #[test]
    fn errors_name_file_line_and_key() {
        let cases = [
            (MINIMAL.replace("timestep = 2", "timestep = \"2 m\""), 5, "md.timestep"),
            (MINIMAL.replace("steps = 10", "stepz = 10"), 4, "md.stepz"),
            (MINIMAL.replace("steps = 10", "steps = \"ten\""), 4, "md.steps"),
            (
                MINIMAL.replace("timestep = 2", "timestep = 2\nensemble = \"npt-magic\""),
                6,
                "md.ensemble",
            ),
            (
                MINIMAL.replace("timestep = 2", "timestep = 2\nensemble = \"langevin\""),
                6,
                "md.temperature",
            ),
            (
                format!("{MINIMAL}[output]\ntrajectory_format = \"pdb\"\n"),
                7,
                "output.trajectory_format",
            ),
            (
                format!(
                    "{MINIMAL}[mc]\nmd_steps = 5\nattempts = 3\ntemperature = 300\nmoves = [{{ swap = [\"Li\", \"Qq\"] }}]\n"
                ),
                10,
                "mc.moves.swap",
            ),
            (
                format!(
                    "{MINIMAL}[mc]\nmd_steps = 5\nattempts = 3\ntemperature = 300\nmoves = [{{ swap = [\"Li\", \"Sr\", \"O\"] }}]\n"
                ),
                10,
                "mc.moves.swap",
            ),
        ];
        for (text, line, key) in cases {
            let err = parse(&text, Path::new("in.toml")).unwrap_err();
            match &err {
                Error::Input {
                    source_name,
                    line: l,
                    key: k,
                    ..
                } => {
                    assert_eq!((source_name.as_str(), *l, k.as_str()), ("in.toml", line, key), "{err}");
                }
                other => panic!("unexpected error {other}"),
            }
        }
    }

    #[test]
    fn barostat_settings() {
        let text = MINIMAL.replace(
            "timestep = 2",
            "timestep = 2\nensemble = \"langevin\"\ntemperature = 300\nbarostat = \"anisotropic\"\npressure = 1.0\nbarostat_tau = \"1 ps\"",
        );
        let b = parse(&text, Path::new("run.toml"))
            .unwrap()
            .md
            .unwrap()
            .barostat
            .unwrap();
        assert!(b.anisotropic);
        assert!((b.pressure * crate::units::EV_A3_TO_GPA - 1.0).abs() < 1e-12);
        assert!((b.tau - 1000.0).abs() < 1e-9);
        let nve = MINIMAL.replace("timestep = 2", "timestep = 2\nbarostat = \"isotropic\"");
        let err = parse(&nve, Path::new("run.toml")).unwrap_err().to_string();
        assert!(err.contains("line 6, key md.barostat"), "{err}");
    }

    #[test]
    fn inline_rigid_ion_keeps_line_numbers() {
        let text = "structure = \"s.xyz\"\n[potential.rigid_ion]\ncutoff = 6.0\n[potential.rigid_ion.coulomb]\nmethod = \"none\"\n[potential.rigid_ion.charges]\nAr = 0.0\n[[potential.rigid_ion.pair]]\nspecies = [\"Ar\", \"Ar\"]\nlennard_jones = { epsilon = 0.01, sigma = 3.4 }\n[md]\nsteps = 1\ntimestep = 1\n";
        let input = parse(text, Path::new("in.toml")).unwrap();
        let PotentialSource::RigidIon { text: inline, .. } = input.potential else {
            panic!("expected an inline model");
        };
        assert_eq!(inline.lines().count(), text.lines().count());
        gbion_potentials::rigid_ion::RigidIon::from_toml(&inline, "in.toml").unwrap();
        let bad = text.replace("cutoff = 6.0", "cutoff = -6.0");
        let PotentialSource::RigidIon { text: inline, .. } = parse(&bad, Path::new("in.toml")).unwrap().potential
        else {
            panic!()
        };
        let err = gbion_potentials::rigid_ion::RigidIon::from_toml(&inline, "in.toml").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
