//! The nonlinear fit of all MTP coefficients: L-BFGS (argmin, Moré–Thuente line search) on the loss of
//! [`crate::fit`] with its exact gradient, run in segments of `checkpoint_every` iterations, each starting
//! from the exact linear least-squares solution for the current radial coefficients. After each
//! segment θ and the loss history are written atomically to a checkpoint; each segment starts a fresh L-BFGS
//! memory from θ, so a run resumed from a checkpoint continues exactly as the uninterrupted run would
//! (bit-identical θ at every later segment).

use crate::fit::{FitData, LossWeights, loss_and_gradient};
use crate::{Error, Result};
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use gbion_potentials::mtp::Mtp;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;

/// Settings of the nonlinear fit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NonlinearOptions {
    /// L-BFGS iterations in all (0: no nonlinear fit).
    pub max_iterations: usize,
    /// Iterations per segment (one checkpoint per segment).
    pub checkpoint_every: usize,
    /// L-BFGS memory (pairs of vectors).
    pub memory: usize,
    /// Stop when ‖∂L/∂θ‖ falls below this (eV² per atom per unit parameter).
    pub gradient_tolerance: f64,
    /// Solve the linear coefficients exactly ([`crate::fit::fit_linear`]) at the start of every segment, so
    /// L-BFGS mostly has to move the radial coefficients (much faster convergence than L-BFGS alone).
    pub linear_refit: bool,
}

impl Default for NonlinearOptions {
    fn default() -> Self {
        NonlinearOptions {
            max_iterations: 500,
            checkpoint_every: 25,
            memory: 10,
            gradient_tolerance: 1e-12,
            linear_refit: true,
        }
    }
}

/// State of a nonlinear fit on disk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitCheckpoint {
    /// Format version (1).
    pub version: u32,
    /// Iterations done.
    pub iteration: usize,
    /// Whether L-BFGS stopped before `max_iterations` (converged or no further progress).
    pub converged: bool,
    /// θ after `iteration` iterations, stored as IEEE-754 bits so a resume restores every bit.
    #[serde(with = "gbion_dynamics::checkpoint::exact_vec")]
    pub theta: Vec<f64>,
    /// The loss after each segment.
    pub losses: Vec<f64>,
    /// Identifies the training set and potential shape the checkpoint belongs to.
    pub fingerprint: String,
}

const CHECKPOINT_VERSION: u32 = 1;

impl FitCheckpoint {
    /// Write atomically (temporary file beside `path`, then rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(|e| Error::Invalid(format!("checkpoint: {e}")))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(path))?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(Error::io(path))?;
        file.persist(path).map_err(|e| Error::io(path)(e.error))?;
        Ok(())
    }

    pub fn read(path: &Path) -> Result<FitCheckpoint> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let checkpoint: FitCheckpoint = serde_json::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: not a gbion fit checkpoint: {e}", path.display())))?;
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(Error::Invalid(format!(
                "{}: checkpoint version {} (this gbion reads {CHECKPOINT_VERSION})",
                path.display(),
                checkpoint.version
            )));
        }
        Ok(checkpoint)
    }
}

/// Write `bytes` to `path` through a temporary file beside it, renamed when complete.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(path))?;
    std::io::Write::write_all(&mut file, bytes).map_err(Error::io(path))?;
    file.persist(path).map_err(|e| Error::io(path)(e.error))?;
    Ok(())
}

/// What the nonlinear fit did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NonlinearReport {
    pub iterations: usize,
    pub converged: bool,
    pub initial_loss: f64,
    pub final_loss: f64,
    /// Loss and gradient evaluations in this run (not counting earlier runs resumed from).
    pub evaluations: usize,
    /// Why the last segment ended.
    pub stop_reason: String,
}

/// A short identity of the fit problem: number of parameters, configurations, atoms and the sum of the
/// reference energies' bits.
fn fingerprint(mtp: &Mtp, data: &FitData) -> String {
    let atoms: usize = data.set.configurations.iter().map(|c| c.structure.len()).sum();
    let energies = data
        .set
        .configurations
        .iter()
        .fold(0u64, |h, c| h.rotate_left(5) ^ c.energy.to_bits());
    format!(
        "{} parameters, {} configurations, {atoms} atoms, energies {energies:016x}",
        mtp.parameter_offsets().len,
        data.set.len()
    )
}

/// Minimise the loss over all parameters from `mtp` (or from the checkpoint when `resume` and it exists).
/// `progress(iteration, loss)` is called after every segment.
pub fn fit_nonlinear(
    mtp: &Mtp,
    data: &FitData,
    weights: &LossWeights,
    options: &NonlinearOptions,
    checkpoint: Option<&Path>,
    resume: bool,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<(Mtp, NonlinearReport)> {
    let print = fingerprint(mtp, data);
    let mut state = match checkpoint.filter(|p| resume && p.exists()) {
        Some(path) => {
            let saved = FitCheckpoint::read(path)?;
            if saved.fingerprint != print {
                return Err(Error::Invalid(format!(
                    "{}: the checkpoint belongs to another fit ({}; this one: {print})",
                    path.display(),
                    saved.fingerprint
                )));
            }
            saved
        }
        None => FitCheckpoint {
            version: CHECKPOINT_VERSION,
            iteration: 0,
            converged: false,
            theta: mtp.parameter_vector(),
            losses: Vec::new(),
            fingerprint: print,
        },
    };
    let problem = Problem {
        template: mtp,
        data,
        weights: *weights,
        cache: Mutex::new(None),
        evaluations: Mutex::new(0),
        best: Mutex::new(None),
    };
    let initial_loss = problem.evaluate(&state.theta)?.0;
    let mut stop_reason = None;
    while !state.converged && state.iteration < options.max_iterations {
        let segment = options
            .checkpoint_every
            .max(1)
            .min(options.max_iterations - state.iteration);
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), options.memory.max(1))
            .with_tolerance_grad(options.gradient_tolerance)
            .and_then(|s| s.with_tolerance_cost(0.0))
            .map_err(|e| Error::Invalid(format!("L-BFGS settings: {e}")))?;
        *problem.best.lock().expect("best point") = None;
        let start = if options.linear_refit {
            crate::fit::fit_linear(&mtp.with_parameter_vector(&state.theta)?, data, weights)?.parameter_vector()
        } else {
            state.theta.clone()
        };
        problem.evaluate(&start)?;
        let result = Executor::new(&problem, solver)
            .configure(|s| s.param(start).max_iters(segment as u64))
            .run();
        // The lowest loss evaluated in the segment: the best iterate, also when the line search gives up.
        state.theta = problem
            .best
            .lock()
            .expect("best point")
            .take()
            .map(|(_, theta)| theta)
            .unwrap_or(state.theta);
        match result {
            Ok(done) => {
                let done = done.state();
                state.iteration += (done.get_iter() as usize).max(1).min(segment);
                stop_reason = done.get_termination_reason().map(|r| r.text().to_string());
                state.converged = !matches!(done.get_termination_reason(), Some(TerminationReason::MaxItersReached));
            }
            Err(e) => {
                state.iteration += 1;
                stop_reason = Some(format!("L-BFGS stopped: {e}"));
                state.converged = true;
            }
        }
        let loss = problem.evaluate(&state.theta)?.0;
        state.losses.push(loss);
        if let Some(path) = checkpoint {
            state.write(path)?;
        }
        progress(state.iteration, loss);
    }
    let final_loss = problem.evaluate(&state.theta)?.0;
    let evaluations = *problem.evaluations.lock().expect("evaluation counter");
    Ok((
        mtp.with_parameter_vector(&state.theta)?,
        NonlinearReport {
            iterations: state.iteration,
            converged: state.converged,
            initial_loss,
            final_loss,
            evaluations,
            stop_reason: stop_reason.unwrap_or_else(|| "iteration limit".into()),
        },
    ))
}

/// θ, L(θ) and ∂L/∂θ.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The loss as an argmin problem; loss and gradient come from one pass and the last one is cached, since
/// the line search asks for both at the same θ.
struct Problem<'a> {
    template: &'a Mtp,
    data: &'a FitData<'a>,
    weights: LossWeights,
    cache: Mutex<Option<Evaluation>>,
    evaluations: Mutex<usize>,
    /// The lowest loss evaluated in the current segment and its θ.
    best: Mutex<Option<(f64, Vec<f64>)>>,
}

impl Problem<'_> {
    fn evaluate(&self, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
        let mut cache = self.cache.lock().expect("fit cache");
        if let Some((at, loss, grad)) = cache.as_ref()
            && at.as_slice() == theta
        {
            return Ok((*loss, grad.clone()));
        }
        let mtp = self.template.with_parameter_vector(theta)?;
        let (loss, grad) = loss_and_gradient(&mtp, self.data, &self.weights)?;
        // A step into a region where the basis overflows is a bad step, not an error.
        let (loss, grad) = if loss.is_finite() && grad.iter().all(|g| g.is_finite()) {
            (loss, grad)
        } else {
            (f64::INFINITY, vec![0.0; theta.len()])
        };
        *self.evaluations.lock().expect("evaluation counter") += 1;
        *cache = Some((theta.to_vec(), loss, grad.clone()));
        let mut best = self.best.lock().expect("best point");
        if best.as_ref().is_none_or(|(l, _)| loss < *l) {
            *best = Some((loss, theta.to_vec()));
        }
        Ok((loss, grad))
    }
}

impl CostFunction for &Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(theta)?.0)
    }
}

impl Gradient for &Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(theta)?.1)
    }
}
