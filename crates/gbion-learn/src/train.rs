//! The whole fit of `gbion train` (and of each active-learning iteration): reference energies, the starting
//! point (an untrained potential starts from the least-squares pair potential in its radial basis,
//! [`crate::pair_start`]), the linear fit, the nonlinear fit, and the errors on the training and
//! validation sets.

use crate::fit::{ErrorMetrics, FitData, LossWeights, error_metrics, fit_linear, initial_parameters, loss};
use crate::nonlinear::{NonlinearOptions, NonlinearReport, fit_nonlinear};
use crate::pair_start::pair_start;
use crate::training::TrainingSet;
use crate::{Error, Result};
use gbion_atoms::Element;
use gbion_potentials::Potential;
use gbion_potentials::mtp::Mtp;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Per-species reference energies subtracted before the fit (see [`crate::training`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceEnergies {
    /// Least squares over the training energies (the default).
    Fit,
    /// None (zeros).
    Zero,
    /// Given values (eV per atom), in the potential's species order.
    Given(Vec<f64>),
}

/// Where a fit starts: for an untrained potential, the radial coefficients; for a trained one, whether a
/// pair start competes with its own coefficients ([`best_linear_start`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitStart {
    /// f_0 = the least-squares pair potential, the other radial functions as `Random` ([`crate::pair_start`]);
    /// a trained potential goes on from this or from its own coefficients, whichever fits better.
    #[default]
    Pair,
    /// Every f_μ near the μ-th radial basis function, seeded ([`initial_parameters`]); a trained potential
    /// goes on from its own coefficients.
    Random,
}

impl std::str::FromStr for FitStart {
    type Err = Error;

    fn from_str(text: &str) -> Result<FitStart> {
        match text {
            "pair" => Ok(FitStart::Pair),
            "random" => Ok(FitStart::Random),
            _ => Err(Error::Invalid(format!(
                "fit start `{text}`: expected `pair` or `random`"
            ))),
        }
    }
}

/// The start a fit went on from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartUsed {
    /// The coefficients of the given (trained) potential.
    Given,
    /// The least-squares pair potential ([`crate::pair_start`]).
    Pair,
    /// Seeded radial coefficients ([`initial_parameters`]).
    Random,
}

/// Settings of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub weights: LossWeights,
    pub nonlinear: NonlinearOptions,
    pub reference_energies: ReferenceEnergies,
    /// Seed of the starting radial coefficients of an untrained potential.
    pub seed: u64,
    /// Where the fit starts ([`FitStart`]).
    pub start: FitStart,
}

/// The result of a fit.
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    pub mtp: Mtp,
    pub reference_energies: Vec<f64>,
    pub train_errors: ErrorMetrics,
    pub valid_errors: Option<ErrorMetrics>,
    pub nonlinear: Option<NonlinearReport>,
    /// The start the fit went on from.
    pub start: StartUsed,
    /// Wall time of the fit (s), excluding the error evaluation.
    pub fit_seconds: f64,
}

/// Fit `init` (trained: a refit from its coefficients; untrained: from [`initial_parameters`]) to `train`.
/// `checkpoint`/`resume` and `progress(iteration, loss)` are those of [`fit_nonlinear`].
pub fn train(
    init: &Mtp,
    train: &TrainingSet,
    valid: Option<&TrainingSet>,
    options: &TrainOptions,
    checkpoint: Option<&Path>,
    resume: bool,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<TrainOutcome> {
    let species: Vec<Element> = init.species().unwrap_or(&[]).to_vec();
    if species.is_empty() {
        return Err(Error::Invalid(
            "the potential has no species map (give --species)".into(),
        ));
    }
    let reference = match &options.reference_energies {
        ReferenceEnergies::Fit => train.fitted_reference_energies(&species),
        ReferenceEnergies::Zero => vec![0.0; species.len()],
        ReferenceEnergies::Given(values) if values.len() == species.len() => values.clone(),
        ReferenceEnergies::Given(values) => {
            return Err(Error::Invalid(format!(
                "{} reference energies for {} species",
                values.len(),
                species.len()
            )));
        }
    };
    let started = std::time::Instant::now();
    let shifted = train.shifted(&species, &reference);
    let untrained = init.parameters().radial_coeffs.is_none();
    let random = Mtp::new(initial_parameters(init.parameters(), options.seed))?.with_species(species.clone())?;
    let data = FitData::new(&shifted, &random)?;
    let given = if untrained {
        None
    } else {
        Some(shift_species_coeffs(init, &reference, -1.0)?)
    };
    let pair = match options.start {
        FitStart::Pair => pair_start(&random, &data, &options.weights)?,
        FitStart::Random => None,
    };
    let (start_used, mut mtp) = best_linear_start(
        [
            (StartUsed::Given, given),
            (StartUsed::Pair, pair),
            (StartUsed::Random, untrained.then_some(random)),
        ],
        &data,
        &options.weights,
    )?;
    let mut nonlinear = None;
    if options.nonlinear.max_iterations > 0 {
        let (fitted, report) = fit_nonlinear(
            &mtp,
            &data,
            &options.weights,
            &options.nonlinear,
            checkpoint,
            resume,
            progress,
        )?;
        mtp = fitted;
        nonlinear = Some(report);
    }
    let mtp = shift_species_coeffs(&mtp, &reference, 1.0)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let train_errors = error_metrics(&mtp, &FitData::new(train, &mtp)?)?;
    let valid_errors = valid
        .map(|v| FitData::new(v, &mtp).and_then(|d| error_metrics(&mtp, &d)))
        .transpose()?;
    Ok(TrainOutcome {
        mtp,
        reference_energies: reference,
        train_errors,
        valid_errors,
        nonlinear,
        start: start_used,
        fit_seconds,
    })
}

/// Of the candidate starts present, the one whose linear fit ([`fit_linear`]) has the lowest loss, after
/// that fit (the first on ties). A trained potential refitted with [`FitStart::Pair`] therefore goes on from
/// its own coefficients or from the pair potential of the new set, whichever fits the set better (in the
/// learning loop: when new configurations lie where the old radial functions were never fitted).
fn best_linear_start(
    candidates: [(StartUsed, Option<Mtp>); 3],
    data: &FitData,
    weights: &LossWeights,
) -> Result<(StartUsed, Mtp)> {
    let mut best: Option<(f64, StartUsed, Mtp)> = None;
    for (kind, mtp) in candidates {
        let Some(mtp) = mtp else { continue };
        let fitted = fit_linear(&mtp, data, weights)?;
        let value = loss(&fitted, data, weights)?;
        if best.as_ref().is_none_or(|(b, _, _)| value < *b) {
            best = Some((value, kind, fitted));
        }
    }
    best.map(|(_, kind, mtp)| (kind, mtp))
        .ok_or_else(|| Error::Invalid("no starting point for the fit".into()))
}

/// The potential with species_coeffs[t] += sign · e_t.
fn shift_species_coeffs(mtp: &Mtp, reference: &[f64], sign: f64) -> Result<Mtp> {
    let mut theta = mtp.parameter_vector();
    let start = mtp.parameter_offsets().species;
    for (t, e) in theta[start..].iter_mut().zip(reference) {
        *t += sign * e;
    }
    Ok(mtp.with_parameter_vector(&theta)?)
}
