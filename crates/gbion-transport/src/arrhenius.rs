//! Arrhenius fits across temperatures: D = D₀ exp(−E_a/k_BT) for diffusion coefficients, or
//! σT = A exp(−E_a/k_BT) for conductivities, as weighted straight lines in ln(y) vs 1/T; activation energy
//! and prefactor with uncertainties and covariance, and predictions with a confidence band (paper 003
//! Fig. 5b–c). The weighted least-squares line [`fit_line`] lives here once, in closed form.
//!
//! Not for: non-Arrhenius (VTF, curved) behaviour — fit a temperature window where the plot is straight.

use serde::Serialize;

/// Boltzmann constant in eV/K (CODATA 2018, exact).
pub const BOLTZMANN_EV_K: f64 = 8.617_333_262e-5;

/// Why a fit could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArrheniusError {
    #[error("{x} x values but {y} y values")]
    LengthMismatch { x: usize, y: usize },
    #[error("{sigma} uncertainties for {y} values")]
    SigmaLengthMismatch { sigma: usize, y: usize },
    #[error("a line needs at least {needed} points, got {got}")]
    TooFewPoints { needed: usize, got: usize },
    #[error("point {index}: {what} = {value} must be positive and finite")]
    NotPositive {
        index: usize,
        what: &'static str,
        value: f64,
    },
    #[error("point {index}: {what} = {value} is not finite")]
    NotFinite {
        index: usize,
        what: &'static str,
        value: f64,
    },
    #[error("all x values are equal: the slope is undetermined")]
    Degenerate,
}

/// A weighted straight-line fit y = intercept + slope·x.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LineFit {
    pub intercept: f64,
    pub slope: f64,
    /// Covariance matrix of (intercept, slope).
    pub covariance: [[f64; 2]; 2],
    /// Σ w r² with the weights used (1/σ² or 1).
    pub chi2: f64,
    /// n − 2.
    pub dof: usize,
}

impl LineFit {
    pub fn intercept_err(&self) -> f64 {
        self.covariance[0][0].sqrt()
    }

    pub fn slope_err(&self) -> f64 {
        self.covariance[1][1].sqrt()
    }

    /// y at x and its standard error from the parameter covariance:
    /// var = var(a) + x² var(b) + 2x cov(a, b).
    pub fn predict(&self, x: f64) -> (f64, f64) {
        let c = &self.covariance;
        let var = c[0][0] + x * x * c[1][1] + 2.0 * x * c[0][1];
        (self.intercept + self.slope * x, var.max(0.0).sqrt())
    }
}

fn check_finite(values: &[f64], what: &'static str) -> Result<(), ArrheniusError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ArrheniusError::NotFinite {
            index,
            what,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Weighted least-squares line through (x, y) (e.g. Bevington & Robinson, ch. 6), computed about the
/// weighted mean x̄ for numerical stability: slope = Σw(x−x̄)y / Σw(x−x̄)², intercept = ȳ − slope·x̄.
///
/// With `sigma` (1σ errors of y, weights 1/σ²) the covariance is the absolute one,
/// var(slope) = 1/Σw(x−x̄)², var(ȳ) = 1/Σw. Without, all weights are 1 and the covariance is scaled by the
/// residual variance χ²/(n−2), which needs n ≥ 3.
pub fn fit_line(x: &[f64], y: &[f64], sigma: Option<&[f64]>) -> Result<LineFit, ArrheniusError> {
    if x.len() != y.len() {
        return Err(ArrheniusError::LengthMismatch { x: x.len(), y: y.len() });
    }
    let needed = if sigma.is_some() { 2 } else { 3 };
    if x.len() < needed {
        return Err(ArrheniusError::TooFewPoints { needed, got: x.len() });
    }
    check_finite(x, "x")?;
    check_finite(y, "y")?;
    let weights: Vec<f64> = match sigma {
        Some(s) => {
            if s.len() != y.len() {
                return Err(ArrheniusError::SigmaLengthMismatch {
                    sigma: s.len(),
                    y: y.len(),
                });
            }
            if let Some(index) = s.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(ArrheniusError::NotPositive {
                    index,
                    what: "uncertainty",
                    value: s[index],
                });
            }
            s.iter().map(|v| 1.0 / (v * v)).collect()
        }
        None => vec![1.0; x.len()],
    };
    let sum_w: f64 = weights.iter().sum();
    let x_mean = weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() / sum_w;
    let y_mean = weights.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sum_w;
    let sxx: f64 = weights.iter().zip(x).map(|(w, x)| w * (x - x_mean).powi(2)).sum();
    if sxx <= 0.0 || sxx <= f64::EPSILON * sum_w * x_mean * x_mean {
        return Err(ArrheniusError::Degenerate);
    }
    let sxy: f64 = weights
        .iter()
        .zip(x)
        .zip(y)
        .map(|((w, x), y)| w * (x - x_mean) * (y - y_mean))
        .sum();
    let slope = sxy / sxx;
    let intercept = y_mean - slope * x_mean;
    let chi2: f64 = weights
        .iter()
        .zip(x)
        .zip(y)
        .map(|((w, x), y)| w * (y - intercept - slope * x).powi(2))
        .sum();
    let dof = x.len() - 2;
    let scale = if sigma.is_some() { 1.0 } else { chi2 / dof as f64 };
    let var_slope = scale / sxx;
    let covariance = [
        [scale / sum_w + x_mean * x_mean * var_slope, -x_mean * var_slope],
        [-x_mean * var_slope, var_slope],
    ];
    Ok(LineFit {
        intercept,
        slope,
        covariance,
        chi2,
        dof,
    })
}

/// What is fitted against 1/T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ArrheniusForm {
    /// y = D₀ exp(−E_a/k_BT) (diffusion coefficients; also conductivities when preferred).
    Plain,
    /// y·T = A exp(−E_a/k_BT): conductivity, whose Nernst–Einstein prefactor carries 1/T.
    TimesT,
}

/// An Arrhenius fit: ln(y·T^m) = ln A − E_a/(k_B T), m = 0 (plain) or 1 (σT).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArrheniusFit {
    pub form: ArrheniusForm,
    /// The line fitted in (x = 1/T in K⁻¹, y = ln(y·T^m)).
    pub line: LineFit,
    /// Activation energy in eV: −slope·k_B.
    pub ea_ev: f64,
    pub ea_err_ev: f64,
    /// Prefactor A = exp(intercept), in the unit of y (times K for σT).
    pub prefactor: f64,
    /// First-order error of A: A·σ(ln A).
    pub prefactor_err: f64,
    /// Covariance of (ln A, E_a in eV).
    pub covariance_ln_prefactor_ea: [[f64; 2]; 2],
}

/// A predicted value with a confidence band [lower, upper] = exp(ln y ± k·σ(ln y)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArrheniusPrediction {
    pub temperature_k: f64,
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Fit `values` (D or σ, > 0) at `temperatures_k` (> 0), with optional 1σ errors of the values
/// (σ(ln y) = σ_y/y). Without errors, the uncertainties come from the scatter (n ≥ 3).
pub fn fit_arrhenius(
    temperatures_k: &[f64],
    values: &[f64],
    value_errors: Option<&[f64]>,
    form: ArrheniusForm,
) -> Result<ArrheniusFit, ArrheniusError> {
    if temperatures_k.len() != values.len() {
        return Err(ArrheniusError::LengthMismatch {
            x: temperatures_k.len(),
            y: values.len(),
        });
    }
    let check_positive = |v: &[f64], what| match v.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
        Some(index) => Err(ArrheniusError::NotPositive {
            index,
            what,
            value: v[index],
        }),
        None => Ok(()),
    };
    check_positive(temperatures_k, "temperature (K)")?;
    check_positive(values, "value")?;
    let times_t = |y: f64, t: f64| if form == ArrheniusForm::TimesT { y * t } else { y };
    let x: Vec<f64> = temperatures_k.iter().map(|t| 1.0 / t).collect();
    let y: Vec<f64> = values
        .iter()
        .zip(temperatures_k)
        .map(|(&v, &t)| times_t(v, t).ln())
        .collect();
    let sigma_ln: Option<Vec<f64>> = value_errors.map(|e| e.iter().zip(values).map(|(e, v)| e / v).collect());
    let line = fit_line(&x, &y, sigma_ln.as_deref())?;
    let c = &line.covariance;
    let prefactor = line.intercept.exp();
    Ok(ArrheniusFit {
        form,
        line,
        ea_ev: -line.slope * BOLTZMANN_EV_K,
        ea_err_ev: line.slope_err() * BOLTZMANN_EV_K,
        prefactor,
        prefactor_err: prefactor * line.intercept_err(),
        covariance_ln_prefactor_ea: [
            [c[0][0], -c[0][1] * BOLTZMANN_EV_K],
            [-c[1][0] * BOLTZMANN_EV_K, c[1][1] * BOLTZMANN_EV_K * BOLTZMANN_EV_K],
        ],
    })
}

impl ArrheniusFit {
    /// The fitted y (D, or σ for the σT form) at `temperature_k`, with the band exp(ln y ± k σ(ln y))
    /// for `coverage_factor` k (1 for ±1σ, 1.96 for 95 % under normal errors).
    pub fn predict(&self, temperature_k: f64, coverage_factor: f64) -> ArrheniusPrediction {
        let (ln_y, sigma) = self.line.predict(1.0 / temperature_k);
        let per_t = if self.form == ArrheniusForm::TimesT {
            temperature_k
        } else {
            1.0
        };
        let at = |z: f64| (ln_y + z * coverage_factor * sigma).exp() / per_t;
        ArrheniusPrediction {
            temperature_k,
            value: at(0.0),
            lower: at(-1.0),
            upper: at(1.0),
        }
    }
}
