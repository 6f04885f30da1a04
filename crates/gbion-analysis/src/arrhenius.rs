//! Arrhenius analysis of diffusivities or conductivities over temperature (paper 000 Fig. 2c, 4c,
//! Table S3: σ at 300 K and activation energies below and above a transition near 600 K).
//!
//! The single straight line ln(y·T^m) = ln A − E_a/(k_B T) (m = 0 for D, 1 for σT) is
//! [`gbion_transport::arrhenius::fit_arrhenius`] (weighted least squares with weights 1/σ(ln y)², or from
//! the scatter without errors). Here: the extrapolated value at a temperature with its 1σ error by the
//! delta method, σ(y) = y·σ(ln y) with var(ln y) = var(ln A) + x² var(b) + 2x cov(ln A, b), x = 1/T; and the
//! two-regime fit: every split of the temperature-sorted points into a low-T and a high-T set of at least
//! 2 points each (3 without errors) is fitted with two independent lines, the split with the smallest
//! total χ² wins, and the transition temperature T_c is where the two lines cross (if they cross inside
//! the gap between the two sets; otherwise the middle of that gap in 1/T). One line or two is decided by
//! the Akaike information criterion, AIC = χ² + 2k with errors given, n·ln(RSS/n) + 2k without
//! (k = 2 for one line, 5 for two lines and the split); the smaller AIC wins.

pub use gbion_transport::arrhenius::{ArrheniusError, ArrheniusFit, ArrheniusForm, BOLTZMANN_EV_K, fit_arrhenius};

/// A fitted value extrapolated to a temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extrapolation {
    pub temperature_k: f64,
    /// y (D, or σ for the σT form) at the temperature and its 1σ error (delta method, module docs).
    pub value: f64,
    pub err: f64,
}

/// The fitted y at `temperature_k` with its delta-method error.
pub fn extrapolate(fit: &ArrheniusFit, temperature_k: f64) -> Extrapolation {
    let (ln_y, sigma_ln) = fit.line.predict(1.0 / temperature_k);
    let per_t = if fit.form == ArrheniusForm::TimesT {
        temperature_k
    } else {
        1.0
    };
    let value = ln_y.exp() / per_t;
    Extrapolation {
        temperature_k,
        value,
        err: value * sigma_ln,
    }
}

/// Two Arrhenius regimes split at a transition temperature.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoRegimeFit {
    /// The line through the points below T_c and the one through the points above.
    pub low: ArrheniusFit,
    pub high: ArrheniusFit,
    /// Transition temperature (K, module docs).
    pub transition_k: f64,
    /// Number of (sorted) points in the low-T set.
    pub n_low: usize,
    /// AIC of one line and of two (module docs); two regimes are preferred when `aic_two < aic_one`.
    pub aic_one: f64,
    pub aic_two: f64,
}

impl TwoRegimeFit {
    /// Whether the AIC prefers two regimes to one line.
    pub fn prefers_two(&self) -> bool {
        self.aic_two < self.aic_one
    }
}

/// Points sorted by temperature.
struct Sorted {
    temperatures: Vec<f64>,
    values: Vec<f64>,
    errors: Option<Vec<f64>>,
}

fn sorted(temperatures_k: &[f64], values: &[f64], errors: Option<&[f64]>) -> Result<Sorted, ArrheniusError> {
    if temperatures_k.len() != values.len() {
        return Err(ArrheniusError::LengthMismatch {
            x: temperatures_k.len(),
            y: values.len(),
        });
    }
    if let Some(e) = errors.filter(|e| e.len() != values.len()) {
        return Err(ArrheniusError::SigmaLengthMismatch {
            sigma: e.len(),
            y: values.len(),
        });
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| temperatures_k[a].total_cmp(&temperatures_k[b]));
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    Ok(Sorted {
        temperatures: pick(temperatures_k),
        values: pick(values),
        errors: errors.map(pick),
    })
}

impl Sorted {
    fn fit(&self, range: std::ops::Range<usize>, form: ArrheniusForm) -> Result<ArrheniusFit, ArrheniusError> {
        let errors = self.errors.as_ref().map(|e| &e[range.clone()]);
        fit_arrhenius(&self.temperatures[range.clone()], &self.values[range], errors, form)
    }

    /// AIC of fits with total χ² (weighted) or RSS (unweighted) `chi2` and `k` parameters.
    fn aic(&self, chi2: f64, k: f64) -> f64 {
        let n = self.values.len() as f64;
        if self.errors.is_some() {
            chi2 + 2.0 * k
        } else {
            // An exact fit has RSS = 0: floor it at rounding level so that the AIC stays finite.
            let floor = n * (f64::EPSILON * self.values.iter().map(|v| v.ln().abs()).fold(1.0, f64::max)).powi(2);
            n * (chi2.max(floor) / n).ln() + 2.0 * k
        }
    }
}

/// The best two-regime fit of `values` at `temperatures_k` (module docs), with the AIC comparison
/// against one line.
pub fn fit_two_regime(
    temperatures_k: &[f64],
    values: &[f64],
    errors: Option<&[f64]>,
    form: ArrheniusForm,
) -> Result<TwoRegimeFit, ArrheniusError> {
    let data = sorted(temperatures_k, values, errors)?;
    let n = values.len();
    let min_points = if errors.is_some() { 2 } else { 3 };
    if n < 2 * min_points {
        return Err(ArrheniusError::TooFewPoints {
            needed: 2 * min_points,
            got: n,
        });
    }
    let one = data.fit(0..n, form)?;
    let mut best: Option<(f64, usize, ArrheniusFit, ArrheniusFit)> = None;
    for split in min_points..=n - min_points {
        let (low, high) = match (data.fit(0..split, form), data.fit(split..n, form)) {
            (Ok(low), Ok(high)) => (low, high),
            // A side whose temperatures are all equal has no line; try the other splits.
            (Err(ArrheniusError::Degenerate), _) | (_, Err(ArrheniusError::Degenerate)) => continue,
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let chi2 = low.line.chi2 + high.line.chi2;
        if best.as_ref().is_none_or(|b| chi2 < b.0) {
            best = Some((chi2, split, low, high));
        }
    }
    let (chi2, split, low, high) = best.ok_or(ArrheniusError::Degenerate)?;
    let gap = (1.0 / data.temperatures[split], 1.0 / data.temperatures[split - 1]);
    let crossing = (high.line.intercept - low.line.intercept) / (low.line.slope - high.line.slope);
    let inverse_tc = if crossing.is_finite() && crossing >= gap.0 && crossing <= gap.1 {
        crossing
    } else {
        0.5 * (gap.0 + gap.1)
    };
    Ok(TwoRegimeFit {
        aic_one: data.aic(one.line.chi2, 2.0),
        aic_two: data.aic(chi2, 5.0),
        low,
        high,
        transition_k: 1.0 / inverse_tc,
        n_low: split,
    })
}
