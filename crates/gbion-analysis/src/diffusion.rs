//! Tracer and collective (charge) diffusivities from MSDs, the Haven ratio and the Nernst–Einstein
//! conductivity.
//!
//! **Fit.** D = slope/(2d) of MSD(t) = slope·t + intercept over the diffusive window, d the number of
//! Cartesian components. The MSD points at different lags are strongly correlated (they share the same
//! displacements), so the slope comes from generalised least squares with the covariance model of kinisi
//! (McCluskey et al., "Accurate estimation of diffusion coefficients and their uncertainties from computer
//! simulation", J. Chem. Theory Comput. 21, 2025, and kinisi's analytic approximation of it):
//! var MSD(t_i) = v_i = Var[s(t_i)] / n_i with s the squared displacement of one particle over one origin and
//! n_i = P·L/i the number of non-overlapping observations (P particles, L = T−1 the trajectory length in
//! frames, i the lag in frames); cov(i, j) = v_i · n_i/n_j for i ≤ j. Var[s] is that of Gaussian
//! displacements of a random walk, Var[s(t)] = 2 m(t)²/d with m(t) = a·t and a the GLS slope itself (the
//! slope does not depend on the scale of Σ; a model, not the noisy observed MSD: variances sampled from the data
//! at every lag make Σ indefinite and the GLS slope meaningless). Then Σ_ij = c·t_i²·t_j (t_i ≤ t_j,
//! c = 2a²/(d·P·L·Δt)), for which MSD(t)/t has independent increments of variance c·(t_k − t_{k−1}): the
//! data are whitened exactly by those increments, with no ill-conditioned matrix to factorise. kinisi
//! samples the resulting Gaussian likelihood by MCMC; with a flat prior its posterior mean and standard
//! deviation are the GLS estimate β = (XᵀΣ⁻¹X)⁻¹XᵀΣ⁻¹y and the square root of the diagonal of (XᵀΣ⁻¹X)⁻¹,
//! which is what is returned. At most [`FitOptions::max_points`] lags, evenly spaced in the window, enter.
//!
//! **Window** (automatic unless given): it ends at L/2 (beyond it fewer than two independent
//! observations per particle remain) and starts at the smallest lag s of 1, 2, 4, … (s ≤ end/2) from
//! which on the local exponent β(s) = log₂[MSD(2s)/MSD(s)] stays within 0.1 + 2σ_β of 1 (σ_β from the
//! Gaussian relative error √(2t/(dPL)) of the MSD at t and 2t): ballistic (β → 2) and caged (β < 1)
//! lags are excluded. The linearity check reports the exponent of a straight-line fit of ln MSD vs ln t
//! over the window (`msd_exponent`, 1 for diffusion) and the reduced χ² of the GLS fit.
//!
//! **Charge diffusivity** (paper 003, Haven ratio): D_σ = ⟨|Σ_i Δr_i(t)|²⟩/(2dNt) over the N mobile ions,
//! the MSD of one particle at Σ_i r_i divided by N (kinisi `calculate_mstd` with one system particle).
//! Haven ratio H_R = D*/D_σ. Nernst–Einstein: σ = n (z e)² D_σ/(k_B T) = n (z e)² D*/(k_B T H_R) with
//! n = N/V (V the mean cell volume), in S/cm. Units: positions Å, times fs, D in cm²/s (1 Å²/fs =
//! 0.1 cm²/s).

use crate::msd::{Components, Msd, MsdError, Trajectory, msd_fft};
use gbion_transport::models::{BOLTZMANN_J_K, ELEMENTARY_CHARGE_C};

/// 1 Å²/fs in cm²/s.
pub const A2_PER_FS_IN_CM2_PER_S: f64 = 0.1;
/// 1 Å³ in cm³.
const A3_IN_CM3: f64 = 1e-24;
/// Window tolerance on the local MSD exponent beyond its statistical noise (module docs).
const EXPONENT_TOLERANCE: f64 = 0.1;

/// Why a diffusivity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffusionError {
    #[error(transparent)]
    Msd(#[from] MsdError),
    #[error("{frames} frames are too few: a diffusive window needs at least 5")]
    TooShort { frames: usize },
    #[error(
        "fit window {start}..={end} frames is invalid for a trajectory of {frames} frames (need 1 ≤ start < end < frames)"
    )]
    BadWindow { start: usize, end: usize, frames: usize },
    #[error("the time step must be positive and finite, got {0} fs")]
    BadTimeStep(f64),
    #[error(
        "the MSD covariance over the window is singular (no fluctuation of the squared displacements): the slope has no statistical uncertainty"
    )]
    SingularCovariance,
    #[error("temperature must be positive and finite, got {0} K")]
    BadTemperature(f64),
    #[error("cell volume must be positive for a number density, got {0} Å³")]
    BadVolume(f64),
    #[error("the ion's charge must be a non-zero number of e within ±10, got {0}")]
    BadCharge(f64),
}

/// Options of the MSD fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Fit window (first, last lag in frames); automatic when `None` (module docs).
    pub window: Option<(usize, usize)>,
    /// Most lags entering the GLS fit (evenly spaced in the window).
    pub max_points: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            window: None,
            max_points: 200,
        }
    }
}

/// A straight-line fit of an MSD over its diffusive window.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffusionFit {
    /// D = slope/(2d) (cm²/s) and its 1σ uncertainty.
    pub d_cm2_s: f64,
    pub d_err_cm2_s: f64,
    /// MSD slope (Å²/fs), its 1σ error, and the intercept (Å²).
    pub slope_a2_fs: f64,
    pub slope_err_a2_fs: f64,
    pub intercept_a2: f64,
    /// First and last lag of the window (frames).
    pub window_frames: (usize, usize),
    /// The lags (frames) that entered the fit.
    pub fit_lags: Vec<usize>,
    /// Exponent of ln MSD vs ln t over the window (1 for diffusion).
    pub msd_exponent: f64,
    /// χ²/(points − 2) of the GLS fit.
    pub chi2_reduced: f64,
}

impl DiffusionFit {
    /// Whether the MSD is linear over the window: exponent within 0.1 of 1.
    pub fn is_linear(&self) -> bool {
        (self.msd_exponent - 1.0).abs() <= EXPONENT_TOLERANCE
    }
}

/// An MSD curve and its fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Diffusivity {
    /// For the charge diffusivity, ⟨|Σ_i Δr_i|²⟩/N.
    pub msd: Msd,
    pub fit: DiffusionFit,
}

/// Tracer diffusivity D* of `subset` (indices among the trajectory's atoms) along `components`,
/// frames `dt_fs` apart.
pub fn tracer_diffusivity(
    trajectory: &Trajectory,
    subset: &[usize],
    components: Components,
    dt_fs: f64,
    options: &FitOptions,
) -> Result<Diffusivity, DiffusionError> {
    let msd = msd_fft(trajectory, subset, components)?;
    let fit = fit_msd(&msd, dt_fs, options)?;
    Ok(Diffusivity { msd, fit })
}

/// Charge (collective) diffusivity D_σ of `subset` along `components` (module docs).
pub fn charge_diffusivity(
    trajectory: &Trajectory,
    subset: &[usize],
    components: Components,
    dt_fs: f64,
    options: &FitOptions,
) -> Result<Diffusivity, DiffusionError> {
    let summed = trajectory.summed(subset)?;
    let n = subset.len() as f64;
    let mut msd = msd_fft(&summed, &[0], components)?;
    msd.values.iter_mut().for_each(|v| *v /= n);
    let fit = fit_msd(&msd, dt_fs, options)?;
    Ok(Diffusivity { msd, fit })
}

/// Fit D to `msd` over the window (given or automatic) by GLS.
fn fit_msd(msd: &Msd, dt_fs: f64, options: &FitOptions) -> Result<DiffusionFit, DiffusionError> {
    if !(dt_fs.is_finite() && dt_fs > 0.0) {
        return Err(DiffusionError::BadTimeStep(dt_fs));
    }
    let frames = msd.values.len();
    if frames < 5 {
        return Err(DiffusionError::TooShort { frames });
    }
    let (start, end) = match options.window {
        Some((start, end)) if start >= 1 && start < end && end < frames => (start, end),
        Some((start, end)) => return Err(DiffusionError::BadWindow { start, end, frames }),
        None => automatic_window(msd),
    };
    let lags = window_lags(start, end, options.max_points.max(2));
    let times: Vec<f64> = lags.iter().map(|&l| l as f64 * dt_fs).collect();
    let values: Vec<f64> = lags.iter().map(|&l| msd.values[l]).collect();
    let line = random_walk_gls(msd, &times, &values, dt_fs)?;
    let two_d = 2.0 * msd.components.count() as f64;
    Ok(DiffusionFit {
        d_cm2_s: line.slope / two_d * A2_PER_FS_IN_CM2_PER_S,
        d_err_cm2_s: line.slope_err / two_d * A2_PER_FS_IN_CM2_PER_S,
        slope_a2_fs: line.slope,
        slope_err_a2_fs: line.slope_err,
        intercept_a2: line.intercept,
        window_frames: (start, end),
        msd_exponent: log_log_exponent(&times, &values),
        chi2_reduced: line.chi2 / (lags.len() as f64 - 2.0).max(1.0),
        fit_lags: lags,
    })
}

/// Up to `max_points` distinct lags evenly spaced over [start, end], both ends included.
fn window_lags(start: usize, end: usize, max_points: usize) -> Vec<usize> {
    let span = end - start;
    if span < max_points {
        return (start..=end).collect();
    }
    let mut lags: Vec<usize> = (0..max_points)
        .map(|k| start + (k as f64 * span as f64 / (max_points - 1) as f64).round() as usize)
        .collect();
    lags.dedup();
    lags
}

/// The automatic diffusive window (module docs).
fn automatic_window(msd: &Msd) -> (usize, usize) {
    let length = msd.values.len() - 1;
    let end = length / 2;
    let d = msd.components.count() as f64;
    let relative_error = |t: usize| (2.0 * t as f64 / (d * msd.n_particles as f64 * length as f64)).sqrt();
    let candidates: Vec<usize> = std::iter::successors(Some(1usize), |s| Some(s * 2))
        .take_while(|s| 2 * s <= end)
        .collect();
    let diffusive = |s: usize| {
        let (a, b) = (msd.values[s], msd.values[2 * s]);
        let sigma = relative_error(s).hypot(relative_error(2 * s)) / std::f64::consts::LN_2;
        a > 0.0 && b > 0.0 && ((b / a).log2() - 1.0).abs() <= EXPONENT_TOLERANCE + 2.0 * sigma
    };
    let mut start = *candidates.last().unwrap_or(&1);
    for &s in candidates.iter().rev() {
        if !diffusive(s) {
            break;
        }
        start = s;
    }
    (start.min(end - 1), end)
}

/// GLS line through the MSD points (`times` fs, `values` Å²) with the random-walk covariance
/// Σ_ij = c·t_i²·t_j of the module docs, whitened by the increments of MSD(t)/t. Σ scales with the squared
/// slope a², which the GLS estimate itself does not depend on: the line is fitted with a = 1, and the errors
/// are then scaled by the GLS slope (one step of iterated GLS; the OLS slope, which weights the noisiest
/// long lags most, made the stated error of a one-particle MSD scatter by factors of several).
fn random_walk_gls(msd: &Msd, times: &[f64], values: &[f64], dt_fs: f64) -> Result<GlsLine, DiffusionError> {
    let d = msd.components.count() as f64;
    let length = (msd.values.len() - 1) as f64;
    let c_per_slope2 = 2.0 / (d * msd.n_particles as f64 * length * dt_fs);
    // Rows of [1, t, y] divided by t: [1/t, 1, y/t]; then successive differences over their standard deviations.
    let scaled: Vec<[f64; 3]> = times.iter().zip(values).map(|(t, y)| [1.0 / t, 1.0, y / t]).collect();
    let whitened: Vec<[f64; 3]> = (0..times.len())
        .map(|k| {
            let (previous, dt) = match k {
                0 => ([0.0; 3], times[0]),
                _ => (scaled[k - 1], times[k] - times[k - 1]),
            };
            let sd = (c_per_slope2 * dt).sqrt();
            std::array::from_fn(|col| (scaled[k][col] - previous[col]) / sd)
        })
        .collect();
    let unit = least_squares_line(&whitened)?;
    let scale = match unit.slope.abs() {
        a if a.is_finite() && a > 0.0 => a,
        _ => ordinary_least_squares(times, values).1.abs(),
    };
    if !(scale.is_finite() && scale > 0.0) {
        return Err(DiffusionError::SingularCovariance);
    }
    Ok(GlsLine {
        slope_err: unit.slope_err * scale,
        chi2: unit.chi2 / (scale * scale),
        ..unit
    })
}

/// Ordinary least-squares (intercept, slope) of y on x.
fn ordinary_least_squares(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = x.iter().map(|x| (x - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (my - slope * mx, slope)
}

/// A GLS straight line y = intercept + slope·x.
struct GlsLine {
    intercept: f64,
    slope: f64,
    slope_err: f64,
    chi2: f64,
}

/// Least squares y = intercept·u + slope·v over rows [u, v, y] with unit-variance independent errors, by
/// modified Gram–Schmidt (stable where the normal equations cancel); parameter covariance (RᵀR)⁻¹.
fn least_squares_line(rows: &[[f64; 3]]) -> Result<GlsLine, DiffusionError> {
    let column = |k: usize| rows.iter().map(|r| r[k]).collect::<Vec<f64>>();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (u, v, y) = (column(0), column(1), column(2));
    let r00 = dot(&u, &u).sqrt();
    let q0: Vec<f64> = u.iter().map(|x| x / r00).collect();
    let r01 = dot(&q0, &v);
    let v_rest: Vec<f64> = v.iter().zip(&q0).map(|(x, q)| x - r01 * q).collect();
    let r11 = dot(&v_rest, &v_rest).sqrt();
    if !(r00.is_finite() && r11.is_finite() && r00 > 0.0 && r11 > 1e-12 * dot(&v, &v).sqrt()) {
        return Err(DiffusionError::SingularCovariance);
    }
    let q1: Vec<f64> = v_rest.iter().map(|x| x / r11).collect();
    let r0y = dot(&q0, &y);
    let y_rest: Vec<f64> = y.iter().zip(&q0).map(|(x, q)| x - r0y * q).collect();
    let r1y = dot(&q1, &y_rest);
    let slope = r1y / r11;
    Ok(GlsLine {
        intercept: (r0y - r01 * slope) / r00,
        slope,
        slope_err: 1.0 / r11,
        chi2: (dot(&y_rest, &y_rest) - r1y * r1y).max(0.0),
    })
}

/// Ordinary least-squares slope of ln y vs ln x over the points with y > 0.
fn log_log_exponent(x: &[f64], y: &[f64]) -> f64 {
    let (ln_x, ln_y): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(_, y)| **y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .unzip();
    ordinary_least_squares(&ln_x, &ln_y).1
}

/// Haven ratio and Nernst–Einstein conductivity (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conductivity {
    /// H_R = D*/D_σ with its first-order error (D* and D_σ errors taken as independent); `None` when
    /// D_σ ≤ 0 (too noisy a charge MSD).
    pub haven_ratio: Option<(f64, f64)>,
    /// σ = n (z e)² D_σ/(k_B T) and its error (S/cm).
    pub sigma_s_cm: f64,
    pub sigma_err_s_cm: f64,
    /// Number density of the mobile ions (cm⁻³).
    pub number_density_cm3: f64,
}

/// Haven ratio and conductivity of `n_ions` ions of charge `charge_e` (units of e) in a cell of volume
/// `volume_a3` at `temperature_k`, from their tracer and charge fits.
pub fn nernst_einstein(
    tracer: &DiffusionFit,
    charge: &DiffusionFit,
    n_ions: usize,
    charge_e: f64,
    volume_a3: f64,
    temperature_k: f64,
) -> Result<Conductivity, DiffusionError> {
    if !(temperature_k.is_finite() && temperature_k > 0.0) {
        return Err(DiffusionError::BadTemperature(temperature_k));
    }
    if !(volume_a3.is_finite() && volume_a3 > 0.0) {
        return Err(DiffusionError::BadVolume(volume_a3));
    }
    if !((-10.0..=10.0).contains(&charge_e) && charge_e != 0.0) {
        return Err(DiffusionError::BadCharge(charge_e));
    }
    let n = n_ions as f64 / (volume_a3 * A3_IN_CM3);
    let q = charge_e * ELEMENTARY_CHARGE_C;
    let factor = n * q * q / (BOLTZMANN_J_K * temperature_k);
    let haven_ratio = (charge.d_cm2_s > 0.0 && tracer.d_cm2_s > 0.0).then(|| {
        let h = tracer.d_cm2_s / charge.d_cm2_s;
        let relative = (tracer.d_err_cm2_s / tracer.d_cm2_s).hypot(charge.d_err_cm2_s / charge.d_cm2_s);
        (h, h * relative)
    });
    Ok(Conductivity {
        haven_ratio,
        sigma_s_cm: factor * charge.d_cm2_s,
        sigma_err_s_cm: factor * charge.d_err_cm2_s,
        number_density_cm3: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lags_are_distinct_and_span_the_window() {
        assert_eq!(window_lags(3, 7, 10), vec![3, 4, 5, 6, 7]);
        let lags = window_lags(10, 1000, 50);
        assert_eq!((lags[0], *lags.last().unwrap(), lags.len()), (10, 1000, 50));
        assert!(lags.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn least_squares_with_weighted_rows_is_weighted_least_squares() {
        // y = 1 + 2x exactly, plus one perturbed point with a large variance.
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 8.0];
        let sd = [1.0, 1.0, 1.0, 1e6];
        let rows: Vec<[f64; 3]> = (0..4).map(|i| [1.0 / sd[i], x[i] / sd[i], y[i] / sd[i]]).collect();
        let line = least_squares_line(&rows).unwrap();
        assert!((line.slope - 2.0).abs() < 1e-9 && (line.intercept - 1.0).abs() < 1e-9);
        // Three unit-variance points at x = 0, 1, 2: var(slope) = 1/Σ(x − x̄)² = 1/2.
        assert!((line.slope_err - 0.5f64.sqrt()).abs() < 1e-6);
    }
}
