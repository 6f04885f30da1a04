//! Power-law backgrounds B(E) = A·E^−r: the standard linear least-squares fit of ln I = ln A − r ln E in
//! fitting windows (Egerton, *Electron Energy-Loss Spectroscopy in the Electron Microscope*, 3rd ed., §4.4.2),
//! either unweighted or weighted by Poisson statistics, with the covariance of (ln A, r) that gives the
//! uncertainty of the background extrapolated under an edge.

use crate::error::{Error, Result};
use serde::Serialize;

/// How the log-log least squares weights its channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// Every channel equally (HyperSpy's and DM's classic fit); the covariance is scaled by the residual
    /// variance.
    Uniform,
    /// Each channel by its Poisson weight: var(ln I) ≈ 1/(g·I) for I counts of g electrons per count, so
    /// w = g·I and the covariance is (XᵀWX)⁻¹. Less biased and less noisy at low counts.
    Poisson,
}

/// A fitted power law B(E) = exp(ln_a) · E^−r with the covariance of (ln_a, r).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerLaw {
    pub ln_a: f64,
    pub r: f64,
    /// Covariance matrix of (ln_a, r).
    pub covariance: [[f64; 2]; 2],
}

impl PowerLaw {
    /// B(E) at ln E.
    pub fn at_ln(&self, ln_e: f64) -> f64 {
        (self.ln_a - self.r * ln_e).exp()
    }

    /// Σⱼ B(Eⱼ) over the channels with log energies `ln_e`, and its variance from the fit covariance
    /// (gradient g = (Σ B, −Σ B ln E) with respect to (ln A, r); var = g·C·gᵀ).
    pub fn sum_with_variance(&self, ln_e: &[f64]) -> (f64, f64) {
        let (mut sum, mut sum_ln) = (0.0, 0.0);
        for &l in ln_e {
            let b = self.at_ln(l);
            sum += b;
            sum_ln += b * l;
        }
        let g = [sum, -sum_ln];
        let c = &self.covariance;
        let var = g[0] * g[0] * c[0][0] + 2.0 * g[0] * g[1] * c[0][1] + g[1] * g[1] * c[1][1];
        (sum, var.max(0.0))
    }
}

/// Fit ln I = ln A − r ln E to the channels with log energies `ln_e` and values `counts` (same length);
/// channels with non-positive counts carry no information on ln I and are left out. `electrons_per_count`
/// converts values to electrons for the Poisson weights.
pub fn fit_power_law(ln_e: &[f64], counts: &[f64], weighting: Weighting, electrons_per_count: f64) -> Result<PowerLaw> {
    let (mut s, mut sx, mut sxx, mut sy, mut sxy, mut syy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0usize);
    for (&x, &c) in ln_e.iter().zip(counts) {
        if c > 0.0 {
            let y = c.ln();
            let w = match weighting {
                Weighting::Uniform => 1.0,
                Weighting::Poisson => c * electrons_per_count,
            };
            s += w;
            sx += w * x;
            sxx += w * x * x;
            sy += w * y;
            sxy += w * x * y;
            syy += w * y * y;
            n += 1;
        }
    }
    let det = s * sxx - sx * sx;
    if n < 3 || det.is_nan() || det <= 1e-12 * s * sxx {
        return Err(Error::Invalid(format!(
            "power-law background: {n} of {} channels in the fitting window have positive counts; at least 3 \
             at distinct energies are needed",
            ln_e.len()
        )));
    }
    let slope = (s * sxy - sx * sy) / det;
    let intercept = (sy - slope * sx) / s;
    // Residual sum of squares Σ w (y − c − b x)², expanded in the accumulated sums.
    let rss = (syy - intercept * sy - slope * sxy).max(0.0);
    let scale = match weighting {
        Weighting::Poisson => 1.0,
        Weighting::Uniform => rss / (n - 2).max(1) as f64,
    };
    // Covariance of (c, b) is scale·[[Sxx, −Sx], [−Sx, S]]/det; r = −b flips the sign of the cross term.
    let covariance = [
        [scale * sxx / det, scale * sx / det],
        [scale * sx / det, scale * s / det],
    ];
    Ok(PowerLaw {
        ln_a: intercept,
        r: -slope,
        covariance,
    })
}
