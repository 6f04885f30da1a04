//! The time-evolution fit of paper 003 (Fig. 4a): a measured initial profile is evolved by 1D diffusion
//! with no flux at both ends (storage: the source is removed and the ⁶Li amount is conserved) using the
//! solver's [`simulate_1d`], and the single D_eff minimising the misfit to the profiles measured after known
//! storage times is found by a 1D minimisation over ln D (log-grid scan, then golden section). The
//! uncertainty comes from the curvature of χ² in ln D.

use super::FitError;
use crate::solver::{Boundary1d, simulate_1d};

/// A profile measured at a known time: positions (m), fractions, optional per-point σ.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedProfile {
    pub position_m: Vec<f64>,
    pub fraction: Vec<f64>,
    pub sigma: Option<Vec<f64>>,
    /// Time since the initial profile (s).
    pub time_s: f64,
}

/// A profile on a uniform 1D grid: cell i covers [x_lo + i dx, x_lo + (i + 1) dx], value at its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid1d {
    pub x_lo_m: f64,
    pub dx_m: f64,
    pub values: Vec<f64>,
}

impl Grid1d {
    /// The measured profile (`x_m`, `c`) linearly interpolated onto `n` cells. The domain, whose ends are the
    /// sample's no-flux faces, is `ends` (m) when given — the profile is extended with its end values beyond
    /// the measured range — else the measured range itself. The ends matter: material left out of the domain
    /// is ⁶Li left out of the storage balance.
    pub fn from_profile(x_m: &[f64], c: &[f64], n: usize, ends: Option<(f64, f64)>) -> Result<Self, FitError> {
        let (xs, cs) = sorted_pairs(x_m, c)?;
        let (lo, hi) = ends.unwrap_or((xs[0], xs[xs.len() - 1]));
        Self::from_fn(lo, hi, n, |x| interpolate(&xs, &cs, x))
    }

    /// The grid with values from a function of position (e.g. an erfc fit of the initial profile, the
    /// smooth initial condition the paper uses).
    pub fn from_fn(x_lo_m: f64, x_hi_m: f64, n: usize, f: impl Fn(f64) -> f64) -> Result<Self, FitError> {
        if !(x_hi_m > x_lo_m && n >= 2) {
            return Err(FitError::BadInput(
                "the grid needs x_hi > x_lo and at least 2 cells".into(),
            ));
        }
        let dx = (x_hi_m - x_lo_m) / n as f64;
        Ok(Self {
            x_lo_m,
            dx_m: dx,
            values: (0..n).map(|i| f(x_lo_m + (i as f64 + 0.5) * dx)).collect(),
        })
    }

    /// Linear interpolation of `field` (one value per cell of this grid) at `x` (clamped to the ends).
    pub fn sample(&self, field: &[f64], x: f64) -> f64 {
        let u = ((x - self.x_lo_m) / self.dx_m - 0.5).clamp(0.0, (field.len() - 1) as f64);
        let i = (u.floor() as usize).min(field.len().saturating_sub(2));
        let f = u - i as f64;
        if field.len() == 1 {
            field[0]
        } else {
            field[i] * (1.0 - f) + field[i + 1] * f
        }
    }
}

fn sorted_pairs(x: &[f64], c: &[f64]) -> Result<(Vec<f64>, Vec<f64>), FitError> {
    if x.len() != c.len() || x.len() < 2 {
        return Err(FitError::BadInput(
            "a profile needs at least 2 points and as many fractions as positions".into(),
        ));
    }
    if x.iter().chain(c).any(|v| !v.is_finite()) {
        return Err(FitError::BadInput("non-finite position or fraction".into()));
    }
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    Ok((idx.iter().map(|&i| x[i]).collect(), idx.iter().map(|&i| c[i]).collect()))
}

/// Linear interpolation in sorted `xs`, clamped to the end values.
fn interpolate(xs: &[f64], cs: &[f64], x: f64) -> f64 {
    let k = xs.partition_point(|&v| v < x);
    if k == 0 {
        return cs[0];
    }
    if k == xs.len() {
        return cs[cs.len() - 1];
    }
    let (x0, x1) = (xs[k - 1], xs[k]);
    if x1 == x0 {
        cs[k]
    } else {
        cs[k - 1] + (cs[k] - cs[k - 1]) * (x - x0) / (x1 - x0)
    }
}

/// The result of [`fit_evolution`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvolutionFit {
    pub d_m2_s: f64,
    /// One sigma from the curvature of χ² in ln D, scaled by χ²_red: σ_D = D √(2 χ²_red / χ²'').
    pub d_err_m2_s: f64,
    pub reduced_chi2: f64,
    pub n_points: usize,
    /// The simulated profiles at each measured time, on the grid (for plots).
    pub simulated: Vec<Vec<f64>>,
}

/// The misfit of one D: χ² = Σ_k Σ_i ((C_sim,k(x_i) − C_i)/σ_i)² and the simulated fields.
fn chi2(initial: &Grid1d, later: &[TimedProfile], times: &[f64], d: f64) -> Result<(f64, Vec<Vec<f64>>), FitError> {
    let fields = simulate_1d(&initial.values, initial.dx_m, d, times, Boundary1d::NoFlux)
        .map_err(|e| FitError::Simulation(e.to_string()))?;
    let mut sum = 0.0;
    for (profile, field) in later.iter().zip(&fields) {
        for (i, (&x, &c)) in profile.position_m.iter().zip(&profile.fraction).enumerate() {
            let s = profile.sigma.as_ref().map_or(1.0, |s| s[i]);
            sum += ((initial.sample(field, x) - c) / s).powi(2);
        }
    }
    Ok((sum, fields))
}

fn validate(later: &[TimedProfile]) -> Result<Vec<f64>, FitError> {
    if later.is_empty() {
        return Err(FitError::BadInput("no later profile to fit".into()));
    }
    let mut last = 0.0;
    for p in later {
        if !(p.time_s.is_finite() && p.time_s > last) {
            return Err(FitError::BadInput(
                "storage times must be positive and increasing".into(),
            ));
        }
        last = p.time_s;
        sorted_pairs(&p.position_m, &p.fraction)?;
        if let Some(s) = &p.sigma
            && (s.len() != p.fraction.len() || s.iter().any(|v| !(v.is_finite() && *v > 0.0)))
        {
            return Err(FitError::BadInput("σ must be positive and one per point".into()));
        }
    }
    Ok(later.iter().map(|p| p.time_s).collect())
}

/// Find D (m²/s) that best evolves `initial` into the `later` profiles (storage, no flux at both ends).
/// The search covers D from (dx/10)²/t_last to 10 L²/t_first on a log grid of 21 points, then refines the
/// best bracket by golden section to 1e-3 in ln D (well below any realistic uncertainty).
pub fn fit_evolution(initial: &Grid1d, later: &[TimedProfile]) -> Result<EvolutionFit, FitError> {
    let times = validate(later)?;
    let n_points: usize = later.iter().map(|p| p.fraction.len()).sum();
    if n_points < 3 {
        return Err(FitError::TooFewPoints {
            what: "time-evolution fit",
            needed: 3,
            got: n_points,
        });
    }
    let length = initial.dx_m * initial.values.len() as f64;
    let lo = ((initial.dx_m / 10.0).powi(2) / times[times.len() - 1]).ln();
    let hi = (10.0 * length * length / times[0]).ln();
    let f = |ln_d: f64| chi2(initial, later, &times, ln_d.exp()).map(|r| r.0);
    let n_grid = 21;
    let grid: Vec<f64> = (0..n_grid)
        .map(|i| lo + (hi - lo) * i as f64 / (n_grid - 1) as f64)
        .collect();
    let values = grid.iter().map(|&g| f(g)).collect::<Result<Vec<_>, _>>()?;
    let best = (0..n_grid)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .expect("non-empty grid");
    if best == 0 || best == n_grid - 1 {
        return Err(FitError::NotConverged(format!(
            "the best D lies at the edge of the searched range [{:.2e}, {:.2e}] m²/s: the profiles do not constrain it",
            lo.exp(),
            hi.exp()
        )));
    }
    let ln_d = golden_section(&f, grid[best - 1], grid[best + 1], 1e-3)?;
    let (chi2_min, simulated) = chi2(initial, later, &times, ln_d.exp())?;
    let h = 0.02;
    let curvature = (f(ln_d + h)? - 2.0 * chi2_min + f(ln_d - h)?) / (h * h);
    if curvature.is_nan() || curvature <= 0.0 {
        return Err(FitError::Singular);
    }
    let reduced_chi2 = chi2_min / (n_points - 1) as f64;
    let d = ln_d.exp();
    Ok(EvolutionFit {
        d_m2_s: d,
        d_err_m2_s: d * (2.0 * reduced_chi2 / curvature).sqrt(),
        reduced_chi2,
        n_points,
        simulated,
    })
}

/// Golden-section minimisation of a unimodal `f` on [a, b] to an interval of width `tol`.
fn golden_section(
    f: &impl Fn(f64) -> Result<f64, FitError>,
    mut a: f64,
    mut b: f64,
    tol: f64,
) -> Result<f64, FitError> {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c)?, f(d)?);
    while (b - a).abs() > tol {
        if fc < fd {
            b = d;
            (d, fd) = (c, fc);
            c = b - r * (b - a);
            fc = f(c)?;
        } else {
            a = c;
            (c, fc) = (d, fd);
            d = a + r * (b - a);
            fd = f(d)?;
        }
    }
    Ok(0.5 * (a + b))
}
