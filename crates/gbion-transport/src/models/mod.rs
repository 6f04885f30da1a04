//! Effective transport models of a polycrystal and the links between tracer and conductivity diffusion
//! coefficients: the series model of paper 003 (eqns 5–6), the parallel, brick-layer and Maxwell-Garnett
//! effective media with their Wiener and Hashin–Shtrikman bounds, grain-size distributions propagated to
//! D_eff, apparent vs specific GB conductivity (paper 000), Nernst–Einstein and the Haven ratio.
//!
//! Units: the effective-medium formulas are homogeneous, so any consistent set works (the CLI passes SI:
//! m, m²/s, m/s). The Nernst–Einstein functions use the practical units of the papers, stated in their
//! names: n in cm⁻³, σ in S/cm, D in cm²/s.
//!
//! Not here: anything spatially resolved (see `solver`), fits of data (see `fit`, `arrhenius`).

mod conductivity;
mod effective_medium;
mod grain_size;

pub use conductivity::*;
pub use effective_medium::*;
pub use grain_size::*;

/// Why a model could not be evaluated: an input outside its physical range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("{name} must be positive and finite, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("{name} must be non-negative and finite, got {value}")]
    Negative { name: &'static str, value: f64 },
    #[error("{name} must lie in [0, 1], got {value}")]
    NotAFraction { name: &'static str, value: f64 },
    #[error("{name}: {value} is more than the {limit} allowed")]
    TooMany {
        name: &'static str,
        value: f64,
        limit: usize,
    },
}

/// `value` if it is positive and finite, else [`ModelError::NotPositive`] naming it.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, ModelError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ModelError::NotPositive { name, value })
    }
}

/// `value` if it is non-negative and finite, else [`ModelError::Negative`] naming it.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, ModelError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ModelError::Negative { name, value })
    }
}

/// `value` if it lies in [0, 1], else [`ModelError::NotAFraction`] naming it.
pub(crate) fn fraction(name: &'static str, value: f64) -> Result<f64, ModelError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ModelError::NotAFraction { name, value })
    }
}
