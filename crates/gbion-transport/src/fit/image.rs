//! Fit of D_bulk and D_gb/δ to a whole 2D SIMS fraction image by forward simulation on its grain map
//! (paper 003's experiment, modelled on the image itself): the exchange is simulated with the solver
//! (thin-GB faces of conductance D_gb/δ, one image edge in contact with the ⁶Li source for the exchange
//! time, every other face no-flux), and the parameters are found by Levenberg–Marquardt on ln D_bulk and
//! ln(D_gb/δ). The source and initial fractions C_s and C_0 enter linearly, C = C_0 + (C_s − C_0) u with u
//! the normalised solution, so they are solved exactly inside every residual evaluation (variable
//! projection); the covariance of the nonlinear parameters comes from the projected Jacobian.
//!
//! What it is not: a model of an image window far from the liquid level. The source edge of the image
//! is taken as the liquid level (held at C_s during the whole exchange).

use super::FitError;
use super::lsq::{Residuals, least_squares};
use crate::fit::erfc::fit_erfc;
use crate::image::Image;
use crate::io::GrainMap;
use crate::microstructure::{Axis, Microstructure};
use crate::solver::{DiffusionProblem, End, Phase, Reservoir, Scheme, TimeStepping, effective_diffusivity};

/// The image edge in contact with the source, named by the data layout: row 0 is the first row of the
/// file (the top of the image as usually displayed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEdge {
    FirstRow,
    LastRow,
    FirstColumn,
    LastColumn,
}

impl SourceEdge {
    fn axis_end(self) -> (Axis, End) {
        match self {
            SourceEdge::FirstRow => (Axis::Y, End::Lower),
            SourceEdge::LastRow => (Axis::Y, End::Upper),
            SourceEdge::FirstColumn => (Axis::X, End::Lower),
            SourceEdge::LastColumn => (Axis::X, End::Upper),
        }
    }
}

/// What is known about the experiment and how to simulate it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageExperiment {
    pub pixel_m: f64,
    pub exchange_time_s: f64,
    pub source: SourceEdge,
    /// Time steps per simulation (Crank–Nicolson with Rannacher start-up).
    pub time_steps: usize,
    /// Hold D_bulk at this value (m²/s, e.g. from PFG-NMR) instead of fitting it.
    pub fixed_d_bulk_m2_s: Option<f64>,
}

/// The result of [`fit_image`].
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFit {
    pub d_bulk_m2_s: f64,
    /// `None` when D_bulk was held fixed.
    pub d_bulk_err_m2_s: Option<f64>,
    pub gb_conductance_m_s: f64,
    pub gb_conductance_err_m_s: f64,
    pub c_s: f64,
    pub c_0: f64,
    /// Steady-state D_eff of the imaged microstructure along the diffusion axis with the fitted values.
    pub d_eff_m2_s: f64,
    pub reduced_chi2: f64,
    pub n_pixels: usize,
    /// The simulated fraction image at the best fit (row-major, as the input).
    pub model: Vec<f64>,
}

/// The pixels that enter the fit and the simulation set-up.
struct ImageProblem<'a> {
    micro: Microstructure,
    data: &'a Image,
    weight: Vec<f64>,
    experiment: ImageExperiment,
}

impl ImageProblem<'_> {
    fn params_to_physical(&self, p: &[f64]) -> (f64, f64) {
        match self.experiment.fixed_d_bulk_m2_s {
            Some(d) => (d, p[0].exp()),
            None => (p[0].exp(), p[1].exp()),
        }
    }

    /// The normalised field u (source at 1, initial 0) after the exchange.
    fn normalised_field(&self, d_bulk: f64, conductance: f64) -> Result<Vec<f64>, FitError> {
        let mut problem = DiffusionProblem::new(self.micro.clone(), d_bulk, conductance, 0.0);
        let (axis, end) = self.experiment.source.axis_end();
        problem.reservoirs.push(Reservoir::whole_face(1.0, axis, end));
        let t = self.experiment.exchange_time_s;
        let stepping = TimeStepping {
            scheme: Scheme::CrankNicolson,
            max_dt_s: t / self.experiment.time_steps.max(1) as f64,
        };
        let solution = problem
            .run(&[Phase::exchange(t)], stepping)
            .map_err(|e| FitError::Simulation(e.to_string()))?;
        solution
            .snapshots
            .into_iter()
            .next()
            .map(|s| s.field)
            .ok_or(FitError::Simulation("no snapshot".into()))
    }

    /// Weighted least squares for C_0, C_s in C = C_0 (1 − u) + C_s u.
    fn amplitudes(&self, u: &[f64]) -> Option<(f64, f64)> {
        let (mut saa, mut sab, mut sbb, mut sya, mut syb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for ((&ui, &y), &w) in u.iter().zip(&self.data.data).zip(&self.weight) {
            let (a, b, w2) = (1.0 - ui, ui, w * w);
            saa += w2 * a * a;
            sab += w2 * a * b;
            sbb += w2 * b * b;
            sya += w2 * y * a;
            syb += w2 * y * b;
        }
        let det = saa * sbb - sab * sab;
        (det.abs() > 1e-12 * saa * sbb).then(|| ((sya * sbb - syb * sab) / det, (syb * saa - sya * sab) / det))
    }

    fn model(&self, p: &[f64]) -> Option<(Vec<f64>, f64, f64)> {
        let (d, g) = self.params_to_physical(p);
        let u = self.normalised_field(d, g).ok()?;
        let (c0, cs) = self.amplitudes(&u)?;
        Some((u.iter().map(|ui| c0 + (cs - c0) * ui).collect(), cs, c0))
    }
}

impl Residuals for ImageProblem<'_> {
    fn residuals(&self, p: &[f64]) -> Vec<f64> {
        match self.model(p) {
            Some((m, _, _)) => m
                .iter()
                .zip(&self.data.data)
                .zip(&self.weight)
                .map(|((m, y), w)| (m - y) * w)
                .collect(),
            // A failed simulation makes LM reject the step (non-finite residuals).
            None => vec![f64::NAN; self.data.data.len()],
        }
    }
}

/// A starting point: D_eff from an erfc fit of the profile averaged across the source edge, then D_bulk =
/// 3 D_eff (or the fixed value) and D_gb/δ from the series model 1/D_eff = 1/D_bulk + 1/(l D_gb/δ)
/// (paper 003 eqn 6) with l the mean grain length along the diffusion axis.
fn initial_guess(problem: &ImageProblem, map: &GrainMap) -> (f64, f64) {
    let (axis, end) = problem.experiment.source.axis_end();
    let img = problem.data;
    let (n_along, n_across) = if axis == Axis::X {
        (img.nx, img.ny)
    } else {
        (img.ny, img.nx)
    };
    let at = |along: usize, across: usize| {
        if axis == Axis::X {
            (along, across)
        } else {
            (across, along)
        }
    };
    let pixel = problem.experiment.pixel_m;
    let mut x = Vec::new();
    let mut c = Vec::new();
    for k in 0..n_along {
        let depth = if end == End::Lower { k } else { n_along - 1 - k };
        let values: Vec<f64> = (0..n_across)
            .filter(|&j| problem.weight[at(k, j).1 * img.nx + at(k, j).0] > 0.0)
            .map(|j| img.at(at(k, j).0, at(k, j).1))
            .collect();
        if !values.is_empty() {
            x.push((depth as f64 + 0.5) * pixel);
            c.push(values.iter().sum::<f64>() / values.len() as f64);
        }
    }
    let length = n_along as f64 * pixel;
    let t = problem.experiment.exchange_time_s;
    let d_eff = fit_erfc(&x, &c, None, t)
        .map(|f| f.profile.d_m2_s)
        .unwrap_or(length * length / (16.0 * t));
    let d_bulk = problem.experiment.fixed_d_bulk_m2_s.unwrap_or(3.0 * d_eff);
    let crossings = (0..n_across)
        .flat_map(|j| (1..n_along).map(move |k| (j, k)))
        .filter(|&(j, k)| map.at(at(k, j).0, at(k, j).1) != map.at(at(k - 1, j).0, at(k - 1, j).1))
        .count();
    let grain_length = length * n_across as f64 / (crossings.max(1) as f64 + n_across as f64);
    let gb_resistance = (1.0 / d_eff - 1.0 / d_bulk).max(0.1 / d_eff);
    (d_bulk, 1.0 / (grain_length * gb_resistance))
}

/// Fit D_bulk (unless fixed) and D_gb/δ to a fraction image (`valid` pixels only; `sigma` optional
/// per-pixel uncertainty) on its grain map.
pub fn fit_image(
    image: &Image,
    valid: &[bool],
    sigma: Option<&Image>,
    map: &GrainMap,
    experiment: ImageExperiment,
) -> Result<ImageFit, FitError> {
    if (map.nx, map.ny) != (image.nx, image.ny) || valid.len() != image.data.len() {
        return Err(FitError::BadInput(format!(
            "grain map ({}x{}) and image ({}x{}) differ in size",
            map.nx, map.ny, image.nx, image.ny
        )));
    }
    if !(experiment.exchange_time_s > 0.0 && experiment.pixel_m > 0.0) {
        return Err(FitError::BadInput(
            "exchange time and pixel size must be positive".into(),
        ));
    }
    let micro = Microstructure::from_grain_map(&map.ids, map.nx, map.ny, experiment.pixel_m)
        .map_err(|e| FitError::BadInput(e.to_string()))?;
    let weight: Vec<f64> = (0..image.data.len())
        .map(|i| {
            if valid[i] {
                sigma.map_or(1.0, |s| 1.0 / s.data[i].max(f64::MIN_POSITIVE))
            } else {
                0.0
            }
        })
        .collect();
    let n_pixels = valid.iter().filter(|v| **v).count();
    let problem = ImageProblem {
        micro,
        data: image,
        weight,
        experiment,
    };
    let (d0, g0) = initial_guess(&problem, map);
    let p0: Vec<f64> = match experiment.fixed_d_bulk_m2_s {
        Some(_) => vec![g0.ln()],
        None => vec![d0.ln(), g0.ln()],
    };
    let outcome = least_squares(&problem, &p0)?;
    // χ²_red over the pixels that count, less the two linear amplitudes.
    let dof = n_pixels.saturating_sub(p0.len() + 2).max(1) as f64;
    let chi2: f64 = problem.residuals(&outcome.params).iter().map(|r| r * r).sum();
    let scale = (chi2 / dof) / outcome.reduced_chi2.max(f64::MIN_POSITIVE);
    let sigma_of = |j: usize| outcome.sigma(j) * scale.sqrt();
    let (d_bulk, g) = problem.params_to_physical(&outcome.params);
    let (model, c_s, c_0) = problem
        .model(&outcome.params)
        .ok_or(FitError::Simulation("best-fit model".into()))?;
    let (d_bulk_err, g_err) = match experiment.fixed_d_bulk_m2_s {
        Some(_) => (None, g * sigma_of(0)),
        None => (Some(d_bulk * sigma_of(0)), g * sigma_of(1)),
    };
    let steady = DiffusionProblem::new(problem.micro.clone(), d_bulk, g, 0.0);
    let d_eff = effective_diffusivity(&steady, experiment.source.axis_end().0)
        .map_err(|e| FitError::Simulation(e.to_string()))?;
    Ok(ImageFit {
        d_bulk_m2_s: d_bulk,
        d_bulk_err_m2_s: d_bulk_err,
        gb_conductance_m_s: g,
        gb_conductance_err_m_s: g_err,
        c_s,
        c_0,
        d_eff_m2_s: d_eff,
        reduced_chi2: chi2 / dof,
        n_pixels,
        model,
    })
}
