//! The whole fit of `gbion train` (and of each active-learning iteration): reference energies, the starting
//! point, the linear fit, the nonlinear fit, and the errors on the training and validation sets.

use crate::fit::{ErrorMetrics, FitData, LossWeights, error_metrics, fit_linear, initial_parameters};
use crate::nonlinear::{NonlinearOptions, NonlinearReport, fit_nonlinear};
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

/// Settings of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub weights: LossWeights,
    pub nonlinear: NonlinearOptions,
    pub reference_energies: ReferenceEnergies,
    /// Seed of the starting radial coefficients of an untrained potential.
    pub seed: u64,
}

/// The result of a fit.
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    pub mtp: Mtp,
    pub reference_energies: Vec<f64>,
    pub train_errors: ErrorMetrics,
    pub valid_errors: Option<ErrorMetrics>,
    pub nonlinear: Option<NonlinearReport>,
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
    let start = if init.parameters().radial_coeffs.is_none() {
        Mtp::new(initial_parameters(init.parameters(), options.seed))?.with_species(species.clone())?
    } else {
        shift_species_coeffs(init, &reference, -1.0)?
    };
    let data = FitData::new(&shifted, &start)?;
    let mut mtp = fit_linear(&start, &data, &options.weights)?;
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
        fit_seconds,
    })
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
