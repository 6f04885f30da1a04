//! Labelling configurations with an oracle: energy (eV), forces (eV/Å) and stress (eV/Å³, ASE sign,
//! Voigt xx yy zz yz xz xy; only for cells periodic in three directions) of each configuration an
//! active-learning step selected, stored in the structure's `results` as the extended XYZ and MLIP `.cfg`
//! readers store them.
//!
//! Two kinds of oracle ([`OracleSpec::kind`]):
//! - `"potential"`: any gbion potential evaluated in-process ([`gbion_potentials::spec::load`]: a rigid-ion
//!   `.toml` file, `builtin:pedone2006`, `builtin:du_teter`, an MLIP `.mtp` file with its species);
//! - `"command"`: an external command template, the oracle protocol of DESIGN.md implemented by
//!   [`ExternalCommand`]: the configuration goes to `{input}` as extended XYZ, the command writes it back
//!   to `{output}` (or standard output) with `energy`, `forces`, `stress` in ASE's conventions. Each call
//!   runs in its own fresh directory (`{dir}`, also the working directory) under `work_dir`, so the
//!   template can be `sbatch --wait --chdir={dir} job.sh {input} {output}` with `work_dir` on a shared
//!   file system. Relative paths in the command are relative to that directory: give absolute ones.
//!
//! Calls run `parallel` at a time, one configuration per call, on threads; the results come back in input
//! order and do not depend on the scheduling. A call that fails, runs past `timeout`, or returns garbage
//! (anything [`check_output`] rejects: a non-finite value, a missing or mis-shaped force or stress, a force
//! above `max_force`) is retried up to `retries` times; after the last failure the configuration is
//! quarantined: its input is written to the quarantine directory (`config-NNNNNN.extxyz`, NNNNNN its
//! index in the batch) with the reason of every attempt beside it (`config-NNNNNN.txt`), and the batch
//! goes on. A call the protocol itself rejects (non-zero exit, timeout, malformed or missing values) also
//! keeps its own directory under `work_dir`, named in the reason; one rejected only by [`check_output`]
//! (a force above `max_force`) does not.

use gbion_atoms::io::{self, Format, WriteOptions};
use gbion_atoms::{Element, Results, Structure};
use gbion_dynamics::config::Seconds;
use gbion_potentials::external::ExternalCommand;
use gbion_potentials::{Output, Potential, Request, evaluate};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Which kind of oracle labels the configurations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OracleKind {
    /// An external command template (`command`).
    Command,
    /// A gbion potential evaluated in-process (`potential`, with `species` for an `.mtp` file).
    Potential,
}

/// The `[oracle]` table of an active-learning input.
///
/// ```toml
/// [oracle]
/// kind = "command"                  # "command" | "potential"
/// command = "python3 /abs/oracle/ase_oracle.py --calculator ase.calculators.emt:EMT {input} {output}"
/// # potential = "builtin:pedone2006"  # kind = "potential": .toml, .mtp (with species), builtin:NAME
/// # species = ["Li", "O"]           # element of each .mtp type index
/// parallel = 4                      # calls at a time
/// timeout = "2 h"                   # per call; bare numbers: s; default none
/// retries = 2                       # further attempts after a failed call
/// max_force = 50.0                  # eV/Å: a larger force is garbage; default none
/// work_dir = "oracle_calls"         # each call's directory is made under it; default: system temp
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OracleSpec {
    pub kind: OracleKind,
    /// The command template (`kind = "command"`): placeholders `{input}`, `{output}`, `{dir}`.
    #[serde(default)]
    pub command: Option<String>,
    /// The potential specification (`kind = "potential"`).
    #[serde(default)]
    pub potential: Option<String>,
    /// Element of each type index of an `.mtp` potential.
    #[serde(default)]
    pub species: Option<Vec<String>>,
    /// How many calls run at a time (≥ 1).
    #[serde(default = "one")]
    pub parallel: usize,
    /// Wall-clock limit of one call of a command (s).
    #[serde(default)]
    pub timeout: Option<Seconds>,
    /// Further attempts after a failed call before the configuration is quarantined.
    #[serde(default = "two")]
    pub retries: u32,
    /// Largest acceptable force component norm |F_i| (eV/Å); a larger one is garbage.
    #[serde(default)]
    pub max_force: Option<f64>,
    /// Directory under which each call of a command gets its own directory (default: the system's
    /// temporary directory); `kind = "command"` only.
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
}

fn one() -> usize {
    1
}

fn two() -> u32 {
    2
}

/// What can go wrong in setting up an oracle or keeping a quarantined input (a failing call is not an
/// error: it is quarantined).
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// An inconsistent `[oracle]` table: the key and why.
    #[error("oracle.{key}: {message}")]
    Spec { key: &'static str, message: String },
    #[error(transparent)]
    Potential(#[from] gbion_potentials::Error),
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An oracle ready to label configurations.
pub struct Oracle {
    potential: Box<dyn Potential>,
    parallel: usize,
    retries: u32,
    max_force: Option<f64>,
}

/// A configuration the oracle labelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Labelled {
    /// Index in the batch.
    pub index: usize,
    /// The configuration with `results` set: energy, forces, and stress when the cell is periodic in 3D.
    pub structure: Structure,
    /// Calls it took (1 when the first succeeded).
    pub attempts: u32,
}

/// A configuration every attempt failed on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quarantined {
    /// Index in the batch.
    pub index: usize,
    /// The kept input (extended XYZ).
    pub input: PathBuf,
    /// Why the last attempt failed.
    pub reason: String,
    /// Calls made.
    pub attempts: u32,
}

/// The outcome of labelling a batch: labelled and quarantined configurations, each in input order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labelling {
    pub labelled: Vec<Labelled>,
    pub quarantined: Vec<Quarantined>,
}

/// One configuration's calls: the results, or the reason of every failed attempt.
type CallOutcome = (usize, std::result::Result<(Results, u32), Vec<String>>);

impl Oracle {
    /// The oracle `spec` describes; relative paths in it (`potential`, `work_dir`) are taken from `base`
    /// (the directory of the input file).
    pub fn from_spec(spec: &OracleSpec, base: &Path) -> Result<Oracle, OracleError> {
        let bad = |key, message: &str| OracleError::Spec {
            key,
            message: message.into(),
        };
        if spec.parallel == 0 {
            return Err(bad("parallel", "must be at least 1"));
        }
        if let Some(f) = spec.max_force
            && !(f.is_finite() && f > 0.0)
        {
            return Err(bad("max_force", "must be a positive force (eV/Å)"));
        }
        let timeout = spec.timeout.map(|t| Duration::from_secs_f64(t.0));
        let potential: Box<dyn Potential> = match spec.kind {
            OracleKind::Command => {
                if spec.potential.is_some() || spec.species.is_some() {
                    return Err(bad("potential", "kind = \"command\" takes a command, not a potential"));
                }
                let template = spec
                    .command
                    .as_deref()
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| bad("command", "kind = \"command\" needs a command template"))?;
                let mut command = ExternalCommand::new(template);
                if let Some(t) = timeout {
                    command = command.with_timeout(t);
                }
                if let Some(dir) = &spec.work_dir {
                    let dir = base.join(dir);
                    std::fs::create_dir_all(&dir).map_err(|source| OracleError::Io {
                        path: dir.clone(),
                        source,
                    })?;
                    command = command.with_scratch_dir(dir);
                }
                Box::new(command)
            }
            OracleKind::Potential => {
                if spec.command.is_some() {
                    return Err(bad("command", "kind = \"potential\" takes a potential, not a command"));
                }
                if spec.work_dir.is_some() {
                    return Err(bad(
                        "work_dir",
                        "kind = \"potential\" runs in-process, without call directories",
                    ));
                }
                let name = spec
                    .potential
                    .as_deref()
                    .ok_or_else(|| bad("potential", "kind = \"potential\" needs a potential"))?;
                let name = match name.starts_with("builtin:") || name.starts_with("cmd:") {
                    true => name.to_string(),
                    false => base.join(name).display().to_string(),
                };
                let species = spec
                    .species
                    .as_ref()
                    .map(|list| {
                        list.iter()
                            .map(|s| Element::from_symbol(s))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?;
                gbion_potentials::spec::load(&name, species, timeout)?
            }
        };
        Ok(Oracle::new(potential, spec.parallel, spec.retries, spec.max_force))
    }

    /// An oracle evaluating `potential`, `parallel` calls at a time (at least 1), with `retries` further
    /// attempts after a failure and an optional largest force `max_force` (eV/Å).
    pub fn new(potential: Box<dyn Potential>, parallel: usize, retries: u32, max_force: Option<f64>) -> Oracle {
        Oracle {
            potential,
            parallel: parallel.max(1),
            retries,
            max_force,
        }
    }

    /// What the oracle is (for reports).
    pub fn describe(&self) -> String {
        self.potential.describe()
    }

    /// Label `structures`, `parallel` at a time; the inputs of configurations that could not be labelled
    /// are written to `quarantine_dir` (created when needed; give each batch its own).
    pub fn label(&self, structures: &[Structure], quarantine_dir: &Path) -> Result<Labelling, OracleError> {
        let next = AtomicUsize::new(0);
        let workers = self.parallel.min(structures.len());
        let mut outcomes: Vec<CallOutcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(structure) = structures.get(i) else { break };
                            mine.push((i, self.label_one(structure)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("an oracle worker thread panicked"))
                .collect()
        });
        outcomes.sort_by_key(|(i, _)| *i);
        let mut labelling = Labelling::default();
        for (index, outcome) in outcomes {
            match outcome {
                Ok((results, attempts)) => labelling.labelled.push(Labelled {
                    index,
                    structure: Structure {
                        results,
                        ..structures[index].clone()
                    },
                    attempts,
                }),
                Err(reasons) => {
                    labelling
                        .quarantined
                        .push(quarantine(&structures[index], index, &reasons, quarantine_dir)?);
                }
            }
        }
        Ok(labelling)
    }

    /// Call the oracle on one configuration until it succeeds or the retries are spent.
    fn label_one(&self, structure: &Structure) -> std::result::Result<(Results, u32), Vec<String>> {
        let input = Structure {
            results: Results::default(),
            ..structure.clone()
        };
        let request = Request {
            forces: true,
            stress: input.cell.pbc().iter().all(|&p| p),
            energies: false,
        };
        let mut reasons = Vec::new();
        for attempt in 1..=self.retries + 1 {
            let checked = evaluate(self.potential.as_ref(), &input, request)
                .map_err(|e| e.to_string())
                .and_then(|out| check_output(out, input.len(), request, self.max_force));
            match checked {
                Ok(results) => return Ok((results, attempt)),
                Err(reason) => reasons.push(reason),
            }
        }
        Err(reasons)
    }
}

/// The results of an oracle's `out` for a configuration of `n_atoms` atoms, or why they are garbage: a
/// non-finite energy, force or stress component; no force or a force count other than `n_atoms`; no stress
/// where `request` asked for one; a force norm above `max_force` (eV/Å).
pub fn check_output(
    out: Output,
    n_atoms: usize,
    request: Request,
    max_force: Option<f64>,
) -> std::result::Result<Results, String> {
    if !out.energy.is_finite() {
        return Err(format!("garbage from the oracle: the energy is {}", out.energy));
    }
    let forces = out.forces.ok_or("garbage from the oracle: no forces")?;
    if forces.len() != n_atoms {
        return Err(format!(
            "garbage from the oracle: {} forces for {n_atoms} atoms",
            forces.len()
        ));
    }
    for (i, f) in forces.iter().enumerate() {
        let norm = f.iter().map(|c| c * c).sum::<f64>().sqrt();
        if !norm.is_finite() {
            return Err(format!("garbage from the oracle: the force on atom {i} is {f:?}"));
        }
        if let Some(limit) = max_force
            && norm > limit
        {
            return Err(format!(
                "garbage from the oracle: the force on atom {i} is {norm:.4e} eV/Å, above max_force = {limit} eV/Å"
            ));
        }
    }
    let stress = match (request.stress, out.stress) {
        (false, _) => None,
        (true, None) => return Err("garbage from the oracle: no stress".into()),
        (true, Some(s)) if s.iter().any(|c| !c.is_finite()) => {
            return Err(format!("garbage from the oracle: the stress is {s:?}"));
        }
        (true, Some(s)) => Some(s),
    };
    Ok(Results {
        energy: Some(out.energy),
        forces: Some(forces),
        stress,
    })
}

/// Keep the input of configuration `index` and the reasons of its failed attempts in `dir`.
fn quarantine(structure: &Structure, index: usize, reasons: &[String], dir: &Path) -> Result<Quarantined, OracleError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OracleError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let input = dir.join(format!("config-{index:06}.extxyz"));
    let frame = Structure {
        results: Results::default(),
        ..structure.clone()
    };
    io::write_file(&input, Some(Format::ExtXyz), [Ok(frame)], &WriteOptions::default())?;
    let log = dir.join(format!("config-{index:06}.txt"));
    let text: String = reasons
        .iter()
        .enumerate()
        .map(|(k, r)| format!("attempt {}: {r}\n", k + 1))
        .collect();
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_error(dir))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io_error(&log))?;
    tmp.persist(&log).map_err(|e| OracleError::Io {
        path: log.clone(),
        source: e.error,
    })?;
    Ok(Quarantined {
        index,
        input,
        reason: reasons.last().cloned().unwrap_or_default(),
        attempts: reasons.len() as u32,
    })
}
