//! Grain-size distributions (mean ± spread) and their propagation to D_eff, two ways:
//!
//! * **first order**: σ_D = |∂D_eff/∂l| σ_l at the mean grain size — what paper 003 quotes as
//!   D_eff = 2.3 ± 1.4 × 10⁻⁹ cm²/s from l = 16 ± 11 µm;
//! * **chain average**: a long path crosses grains of random size in series, so resistances add:
//!   D_chain = ⟨l + δ⟩ / ⟨(l + δ)/D_eff(l)⟩ over the distribution. For the series model this is exactly
//!   the series model at the mean grain size (eqn 5 is linear in l in both numerator and resistance).

use super::{Model, ModelError, Polycrystal, positive};

/// Number of Simpson intervals of the quadrature over a distribution (even).
const QUADRATURE_INTERVALS: usize = 4000;
/// Half-width of the integration window in standard deviations (of l, or of ln l for the log-normal).
const WINDOW_SIGMAS: f64 = 8.0;
/// Relative step of the central difference ∂D_eff/∂l.
const DERIVATIVE_REL_STEP: f64 = 1e-5;

/// A distribution of grain sizes l, given by the mean and standard deviation of l itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GrainSizeDistribution {
    /// Normal, truncated to l > 0 (and renormalised) — the mean of the truncated distribution is then
    /// slightly above `mean` when `std` is comparable to it.
    Normal { mean: f64, std: f64 },
    /// Log-normal with the given mean and standard deviation of l: σ_ln² = ln(1 + std²/mean²),
    /// μ_ln = ln(mean) − σ_ln²/2.
    LogNormal { mean: f64, std: f64 },
}

/// D_eff of a polycrystal with a grain-size distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrainSizeSpread {
    /// D_eff at the mean grain size.
    pub d_eff_at_mean: f64,
    /// First-order spread |∂D_eff/∂l| σ_l at the mean grain size.
    pub d_eff_err: f64,
    /// Chain average ⟨l + δ⟩ / ⟨(l + δ)/D_eff(l)⟩ over the distribution.
    pub d_eff_chain_average: f64,
    /// ⟨l⟩ of the distribution as integrated (differs from `mean` only for a truncated normal).
    pub mean_grain_size: f64,
}

impl GrainSizeDistribution {
    pub fn normal(mean: f64, std: f64) -> Result<Self, ModelError> {
        Ok(GrainSizeDistribution::Normal {
            mean: positive("mean grain size", mean)?,
            std: positive("grain-size spread", std)?,
        })
    }

    pub fn log_normal(mean: f64, std: f64) -> Result<Self, ModelError> {
        Ok(GrainSizeDistribution::LogNormal {
            mean: positive("mean grain size", mean)?,
            std: positive("grain-size spread", std)?,
        })
    }

    pub fn mean(&self) -> f64 {
        match *self {
            GrainSizeDistribution::Normal { mean, .. } | GrainSizeDistribution::LogNormal { mean, .. } => mean,
        }
    }

    pub fn std(&self) -> f64 {
        match *self {
            GrainSizeDistribution::Normal { std, .. } | GrainSizeDistribution::LogNormal { std, .. } => std,
        }
    }

    /// Quadrature nodes (l, weight) with weights summing to 1 (composite Simpson on the variable in which
    /// the density is smooth: l for the normal, ln l for the log-normal).
    pub fn quadrature(&self) -> Vec<(f64, f64)> {
        // Both are a normal density in u: u = l (truncated at 0), or u = ln l for the log-normal.
        let (mu, s, log) = match *self {
            GrainSizeDistribution::Normal { mean, std } => (mean, std, false),
            GrainSizeDistribution::LogNormal { mean, std } => {
                let s2 = (1.0 + (std / mean).powi(2)).ln();
                (mean.ln() - 0.5 * s2, s2.sqrt(), true)
            }
        };
        let lo = if log {
            mu - WINDOW_SIGMAS * s
        } else {
            (mu - WINDOW_SIGMAS * s).max(0.0)
        };
        let hi = mu + WINDOW_SIGMAS * s;
        let to_l = |u: f64| if log { u.exp() } else { u };
        let density = |u: f64| (-0.5 * ((u - mu) / s).powi(2)).exp();
        let n = QUADRATURE_INTERVALS;
        let h = (hi - lo) / n as f64;
        let mut nodes: Vec<(f64, f64)> = (0..=n)
            .map(|k| {
                let u = lo + k as f64 * h;
                let simpson = if k == 0 || k == n {
                    1.0
                } else if k % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                (to_l(u), simpson * density(u))
            })
            .filter(|&(l, _)| l > 0.0)
            .collect();
        let total: f64 = nodes.iter().map(|&(_, w)| w).sum();
        nodes.iter_mut().for_each(|(_, w)| *w /= total);
        nodes
    }
}

/// Propagate `distribution` through `model` for the polycrystal `base` (its `grain_size` is ignored).
pub fn propagate_grain_size(
    base: &Polycrystal,
    model: Model,
    distribution: &GrainSizeDistribution,
) -> Result<GrainSizeSpread, ModelError> {
    let mean = distribution.mean();
    let d_at = |l: f64| base.with_grain_size(l).map(|p| p.effective(model));
    let d_eff_at_mean = d_at(mean)?;
    let step = DERIVATIVE_REL_STEP * mean;
    let slope = (d_at(mean + step)? - d_at(mean - step)?) / (2.0 * step);
    let (mut cell_sum, mut resistance_sum, mut l_sum) = (0.0, 0.0, 0.0);
    for (l, w) in distribution.quadrature() {
        let cell = l + base.delta;
        cell_sum += w * cell;
        resistance_sum += w * cell / d_at(l)?;
        l_sum += w * l;
    }
    Ok(GrainSizeSpread {
        d_eff_at_mean,
        d_eff_err: slope.abs() * distribution.std(),
        d_eff_chain_average: cell_sum / resistance_sum,
        mean_grain_size: l_sum,
    })
}
