//! Weighted nonlinear least squares by Levenberg–Marquardt (the `levenberg-marquardt` crate) with the
//! parameter covariance (JᵀJ)⁻¹ · χ²_red of the weighted residuals at the minimum — the standard
//! curve-fit estimate, which also covers data whose per-point σ is unknown or mis-scaled.

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt, TerminationReason};
use nalgebra::{DMatrix, DVector, Dyn, Owned};

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("{what}: need at least {needed} points, got {got}")]
    TooFewPoints {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("invalid input: {0}")]
    BadInput(String),
    #[error("the fit did not converge: {0}")]
    NotConverged(String),
    #[error("the parameters are not determined by the data (singular normal matrix)")]
    Singular,
    #[error("forward simulation failed: {0}")]
    Simulation(String),
}

/// A least-squares model: weighted residuals r_i(p) = (model_i(p) − y_i)/σ_i and their Jacobian.
pub(crate) trait Residuals {
    fn residuals(&self, p: &[f64]) -> Vec<f64>;

    /// ∂r_i/∂p_j; by default central differences with step 1e-6 · max(|p_j|, 1).
    fn jacobian(&self, p: &[f64]) -> DMatrix<f64> {
        finite_difference_jacobian(p, |q| self.residuals(q))
    }
}

/// Central-difference Jacobian of `f` at `p`.
pub(crate) fn finite_difference_jacobian(p: &[f64], f: impl Fn(&[f64]) -> Vec<f64>) -> DMatrix<f64> {
    let m = f(p).len();
    let mut jac = DMatrix::zeros(m, p.len());
    let mut q = p.to_vec();
    for j in 0..p.len() {
        let step = 1e-6 * p[j].abs().max(1.0);
        q[j] = p[j] + step;
        let plus = f(&q);
        q[j] = p[j] - step;
        let minus = f(&q);
        q[j] = p[j];
        for i in 0..m {
            jac[(i, j)] = (plus[i] - minus[i]) / (2.0 * step);
        }
    }
    jac
}

/// The minimum found by [`least_squares`].
#[derive(Debug, Clone)]
pub(crate) struct LsqOutcome {
    pub params: Vec<f64>,
    /// (JᵀJ)⁻¹ · χ²_red in the fitted parameters.
    pub covariance: DMatrix<f64>,
    pub reduced_chi2: f64,
}

impl LsqOutcome {
    /// One-sigma uncertainty of parameter `j`.
    pub fn sigma(&self, j: usize) -> f64 {
        self.covariance[(j, j)].max(0.0).sqrt()
    }
}

struct Problem<'a, R: Residuals> {
    model: &'a R,
    p: DVector<f64>,
}

impl<R: Residuals> LeastSquaresProblem<f64, Dyn, Dyn> for Problem<'_, R> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, x: &DVector<f64>) {
        self.p.copy_from(x);
    }

    fn params(&self) -> DVector<f64> {
        self.p.clone()
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        let r = self.model.residuals(self.p.as_slice());
        r.iter().all(|v| v.is_finite()).then(|| DVector::from_vec(r))
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let j = self.model.jacobian(self.p.as_slice());
        j.iter().all(|v| v.is_finite()).then_some(j)
    }
}

/// Why Levenberg–Marquardt stopped, in words (its enum's names mean little to a user).
fn termination_words(reason: &TerminationReason) -> String {
    match reason {
        TerminationReason::LostPatience => "no convergence within the allowed evaluations".into(),
        TerminationReason::NoImprovementPossible(what) => format!("no further improvement possible ({what})"),
        TerminationReason::Numerical(what) => format!("a non-finite value in the {what} (parameters ran off)"),
        TerminationReason::Orthogonal => "the residuals are orthogonal to the Jacobian's columns".into(),
        other => format!("{other:?}"),
    }
}

/// Minimise Σ r_i² from `p0` and return the parameters with their covariance.
pub(crate) fn least_squares(model: &impl Residuals, p0: &[f64]) -> Result<LsqOutcome, FitError> {
    let n_params = p0.len();
    let m = model.residuals(p0).len();
    if m <= n_params {
        return Err(FitError::TooFewPoints {
            what: "least squares",
            needed: n_params + 1,
            got: m,
        });
    }
    let problem = Problem {
        model,
        p: DVector::from_column_slice(p0),
    };
    let (solved, report) = LevenbergMarquardt::new().with_patience(200).minimize(problem);
    if !report.termination.was_successful() {
        return Err(FitError::NotConverged(termination_words(&report.termination)));
    }
    let params = solved.p.as_slice().to_vec();
    let residuals = model.residuals(&params);
    let chi2: f64 = residuals.iter().map(|r| r * r).sum();
    let reduced_chi2 = chi2 / (m - n_params) as f64;
    let jac = model.jacobian(&params);
    let normal = jac.transpose() * &jac;
    let inverse = normal.try_inverse().ok_or(FitError::Singular)?;
    if inverse.iter().any(|v| !v.is_finite()) {
        return Err(FitError::Singular);
    }
    Ok(LsqOutcome {
        params,
        covariance: inverse * reduced_chi2,
        reduced_chi2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_reasons_read_as_words() {
        let lost = termination_words(&TerminationReason::LostPatience);
        assert_eq!(lost, "no convergence within the allowed evaluations");
        let numerical = termination_words(&TerminationReason::Numerical("jacobian"));
        assert!(numerical.contains("non-finite value in the jacobian"), "{numerical}");
    }
}
