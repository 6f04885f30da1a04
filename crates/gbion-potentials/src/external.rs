//! The external-command potential: the oracle protocol of DESIGN.md. gbion writes the configurations to an
//! extended XYZ file, runs a user command (a shell command line), and reads the same configurations back,
//! with `energy` (eV), `forces` (eV/Å), `stress` (eV/Å³, ASE sign: negative under compression) and
//! optionally per-atom `energies` (eV), in ASE's conventions. Any ASE calculator (VASP, Quantum ESPRESSO,
//! GPAW, CP2K, a universal ML model) can sit behind it, and through a template such as `sbatch --wait ...`
//! a cluster scheduler.
//!
//! The command line may name the files with the placeholders `{input}` and `{output}` (absolute paths in a
//! fresh temporary directory, which is also the working directory) and that directory with `{dir}` (for a
//! scheduler that needs it, `sbatch --wait --chdir={dir} ...`); the same paths are in the environment as
//! `GBION_INPUT`, `GBION_OUTPUT` and `GBION_DIR`. Without `{output}` in the command line, the configurations are read
//! from the command's standard output. The command fails when it exits with a non-zero status, runs past
//! the timeout (it is killed), or returns configurations that do not match those sent (number of frames,
//! atoms, elements, positions) or lack a value that was asked for; the error says which, with the tail of
//! the command's standard error, and the temporary directory is kept for inspection.

use crate::{Error, ListRequest, Output, Potential, Request, Result};
use gbion_atoms::io::{self, Format, ReadOptions, WriteOptions};
use gbion_atoms::{Element, NeighborList, Property, Structure};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Largest difference (Å) between a position sent and the one returned that still counts as the same
/// configuration: extended XYZ writers print positions with 8 decimals (ASE) or more (gbion).
const POSITION_TOLERANCE: f64 = 1e-5;

/// How many bytes of the command's standard error an error message quotes (the end of it).
const STDERR_TAIL: usize = 2000;

/// A potential evaluated by an external command (see the module documentation for the protocol).
#[derive(Clone, Debug)]
pub struct ExternalCommand {
    command: String,
    timeout: Option<Duration>,
    scratch: Option<PathBuf>,
}

impl ExternalCommand {
    /// A potential that runs `command` (a shell command line, run with `sh -c`) with no timeout, in a
    /// temporary directory under the system's temporary directory.
    pub fn new(command: impl Into<String>) -> ExternalCommand {
        ExternalCommand {
            command: command.into(),
            timeout: None,
            scratch: None,
        }
    }

    /// Kill the command and fail when it runs longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> ExternalCommand {
        self.timeout = Some(timeout);
        self
    }

    /// Create the temporary working directories under `dir` instead of the system's temporary directory.
    pub fn with_scratch_dir(mut self, dir: impl Into<PathBuf>) -> ExternalCommand {
        self.scratch = Some(dir.into());
        self
    }

    /// Evaluate several configurations with one run of the command (what an active-learning step does
    /// with a batch of candidates). Returns one [`Output`] per configuration, in order.
    pub fn compute_many(&self, structures: &[Structure], request: Request) -> Result<Vec<Output>> {
        let dir = match &self.scratch {
            Some(parent) => tempfile::Builder::new().prefix("gbion-oracle-").tempdir_in(parent),
            None => tempfile::Builder::new().prefix("gbion-oracle-").tempdir(),
        }
        .map_err(|e| Error::External(format!("cannot create a temporary directory for the command: {e}")))?;
        let input = dir.path().join("input.extxyz");
        let output = dir.path().join("output.extxyz");
        // Results the structures carry from elsewhere are not sent: a command that echoes its input must not
        // pass for one that computed something.
        let without_results = structures.iter().map(|s| {
            Ok(Structure {
                results: Default::default(),
                ..s.clone()
            })
        });
        io::write_file(&input, Some(Format::ExtXyz), without_results, &WriteOptions::default())?;
        let result = self
            .run(dir.path(), &input, &output)
            .and_then(|returned| collect_outputs(structures, returned, request));
        match result {
            Ok(outputs) => Ok(outputs),
            Err(Error::External(message)) => {
                let kept = dir.keep();
                Err(Error::External(format!(
                    "{message} (the command's files are kept in {})",
                    kept.display()
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// Run the command in `dir`; the returned configurations come from `output`, or from standard output
    /// when the command line does not name `{output}`.
    fn run(&self, dir: &Path, input: &Path, output: &Path) -> Result<Vec<Structure>> {
        let reads_file = self.command.contains("{output}");
        let line = self
            .command
            .replace("{input}", &shell_quote(input))
            .replace("{output}", &shell_quote(output))
            .replace("{dir}", &shell_quote(dir));
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .current_dir(dir)
            .env("GBION_INPUT", input)
            .env("GBION_OUTPUT", output)
            .env("GBION_DIR", dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::External(format!("cannot start `sh -c {line}`: {e}")))?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = self.wait(&mut child, &line)?;
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            return Err(Error::External(format!(
                "the command `{line}` failed ({status}){}",
                quote_tail(&stderr)
            )));
        }
        let frames: Vec<Structure> = if reads_file {
            if !output.exists() {
                return Err(Error::External(format!(
                    "the command `{line}` succeeded but wrote no {}{}",
                    output.display(),
                    quote_tail(&stderr)
                )));
            }
            io::read_file(output, Some(Format::ExtXyz), &ReadOptions::default())
                .and_then(|frames| frames.collect::<gbion_atoms::Result<_>>())
        } else {
            let text = std::io::Cursor::new(stdout);
            let source = "the command's standard output";
            io::read_frames(text, source, Format::ExtXyz, &ReadOptions::default()).collect::<gbion_atoms::Result<_>>()
        }
        .map_err(|e| Error::External(format!("the command `{line}` returned malformed extended XYZ: {e}")))?;
        Ok(frames)
    }

    /// Wait for the command to exit, killing it past the timeout.
    fn wait(&self, child: &mut Child, line: &str) -> Result<std::process::ExitStatus> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(e) => return Err(Error::External(format!("cannot wait for `{line}`: {e}"))),
            }
            if let Some(limit) = self.timeout
                && start.elapsed() > limit
            {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::External(format!(
                    "the command `{line}` ran past its timeout of {:.3} s and was killed",
                    limit.as_secs_f64()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// Read a child's pipe to the end on a thread, so a chatty command never blocks on a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// `: <last lines of stderr>` for an error message, or nothing when the command printed nothing.
fn quote_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let start = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| text.len() - i <= STDERR_TAIL)
        .unwrap_or(0);
    format!("; its standard error ends with:\n{}", &text[start..])
}

/// A path quoted for `sh`.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// Check that the returned configurations are those sent and take their results.
fn collect_outputs(sent: &[Structure], returned: Vec<Structure>, request: Request) -> Result<Vec<Output>> {
    if returned.len() != sent.len() {
        return Err(Error::External(format!(
            "sent {} configurations, the command returned {}",
            sent.len(),
            returned.len()
        )));
    }
    sent.iter()
        .zip(returned)
        .enumerate()
        .map(|(k, (s, r))| frame_output(k, s, r, request))
        .collect()
}

fn frame_output(k: usize, sent: &Structure, returned: Structure, request: Request) -> Result<Output> {
    let bad = |what: String| Error::External(format!("configuration {k} returned by the command: {what}"));
    if returned.len() != sent.len() || returned.elements != sent.elements {
        return Err(bad(format!(
            "{} atoms ({}), but {} atoms ({}) were sent",
            returned.len(),
            formula(&returned.elements),
            sent.len(),
            formula(&sent.elements)
        )));
    }
    if let Some((i, d)) = sent
        .positions
        .iter()
        .zip(&returned.positions)
        .map(|(a, b)| (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max))
        .enumerate()
        .find(|&(_, d)| d.is_nan() || d > POSITION_TOLERANCE)
    {
        return Err(bad(format!(
            "atom {i} moved by {d:.3e} Å (was the structure relaxed or reordered?)"
        )));
    }
    let results = returned.results;
    let energy = results.energy.ok_or_else(|| bad("no energy".into()))?;
    if !energy.is_finite() {
        return Err(bad(format!("energy is {energy}")));
    }
    let forces = match (request.forces, results.forces) {
        (false, _) => None,
        (true, None) => return Err(bad("no forces".into())),
        (true, Some(f)) => {
            if let Some(i) = f.iter().position(|v| v.iter().any(|c| !c.is_finite())) {
                return Err(bad(format!("the force on atom {i} is {:?}", f[i])));
            }
            Some(f)
        }
    };
    let stress = match (request.stress, results.stress) {
        (false, _) => None,
        (true, None) => return Err(bad("no stress".into())),
        (true, Some(s)) if s.iter().any(|c| !c.is_finite()) => return Err(bad(format!("stress is {s:?}"))),
        (true, Some(s)) => Some(s),
    };
    let energies = match request.energies {
        false => None,
        true => Some(per_atom_energies(&returned.properties, energy).map_err(bad)?),
    };
    Ok(Output {
        energy,
        energies,
        forces,
        stress,
    })
}

/// The per-atom `energies` column (ASE's name), checked to sum to the total energy.
fn per_atom_energies(
    properties: &std::collections::BTreeMap<String, Property>,
    energy: f64,
) -> std::result::Result<Vec<f64>, String> {
    match properties.get("energies") {
        Some(Property::Real { data, columns: 1 }) => {
            let sum: f64 = data.iter().sum();
            if !sum.is_finite() || (sum - energy).abs() > 1e-6 * energy.abs().max(1.0) {
                return Err(format!(
                    "per-atom energies sum to {sum} eV, not to the energy {energy} eV"
                ));
            }
            Ok(data.clone())
        }
        Some(_) => Err("the `energies` column is not one real number per atom".into()),
        None => Err("no per-atom `energies` column (asked for per-atom energies)".into()),
    }
}

fn formula(elements: &[Element]) -> String {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for e in elements {
        *counts.entry(e.symbol()).or_default() += 1;
    }
    counts.iter().map(|(s, n)| format!("{s}{n}")).collect()
}

impl Potential for ExternalCommand {
    fn describe(&self) -> String {
        format!("external command `{}`", self.command)
    }

    fn species(&self) -> Option<&[Element]> {
        None
    }

    fn neighbor_list(&self) -> Option<ListRequest> {
        None
    }

    fn compute(&self, structure: &Structure, _list: Option<&NeighborList>, request: Request) -> Result<Output> {
        let mut outputs = self.compute_many(std::slice::from_ref(structure), request)?;
        Ok(outputs.remove(0))
    }
}
