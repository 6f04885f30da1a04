//! The erfc fit of a line scan after isotope exchange (paper 003, eqn 4), with the liquid level x0 as a
//! fit parameter. Owns the profile model and its fit; nothing else.

use super::FitError;
use super::lsq::{LsqOutcome, Residuals, least_squares};
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// Eqn 4 of paper 003 with the liquid level at x0 (all SI: m, s, m²/s; C dimensionless):
/// C(x) = C_0 + (C_s − C_0) erfc((x − x0) / (2√(D t)))   for x ≥ x0 (above the liquid),
/// C(x) = C_s                                              for x < x0 (immersed: held at the source value).
/// `source_at_low_x` says on which side of x0 the source (liquid) lies; when false, x − x0 becomes x0 − x.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErfcProfile {
    pub d_m2_s: f64,
    pub t_s: f64,
    pub c_s: f64,
    pub c_0: f64,
    pub x0_m: f64,
    pub source_at_low_x: bool,
}

impl ErfcProfile {
    /// C at position `x_m` (eqn 4).
    pub fn eval(&self, x_m: f64) -> f64 {
        let depth = if self.source_at_low_x {
            x_m - self.x0_m
        } else {
            self.x0_m - x_m
        };
        let xi = depth.max(0.0) / (2.0 * (self.d_m2_s * self.t_s).sqrt());
        self.c_0 + (self.c_s - self.c_0) * erfc(xi)
    }
}

/// erfc(ξ), and NaN for a NaN ξ (which `puruspe::erfc` panics on; parameters running off to infinity give
/// ∞/∞), so that the least-squares steps see a non-finite residual and reject the step.
fn erfc(xi: f64) -> f64 {
    if xi.is_nan() { f64::NAN } else { puruspe::erfc(xi) }
}

/// The result of [`fit_erfc`]: best-fit profile and one-sigma uncertainties from the covariance
/// (JᵀWJ)⁻¹ scaled by the reduced χ².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErfcFit {
    pub profile: ErfcProfile,
    pub d_err_m2_s: f64,
    pub c_s_err: f64,
    pub c_0_err: f64,
    pub x0_err_m: f64,
    pub reduced_chi2: f64,
    pub n_points: usize,
}

/// The data in scaled coordinates: u = (x − x_ref)/L · direction, so the source lies at low u and u ∈ [0, 1].
struct ScaledScan<'a> {
    u: Vec<f64>,
    c: &'a [f64],
    weight: Vec<f64>,
}

/// Parameters: [u0, C_s, C_0, q] with the diffusion length 2√(Dt) = L·e^q (keeps D > 0).
impl Residuals for ScaledScan<'_> {
    fn residuals(&self, p: &[f64]) -> Vec<f64> {
        let (u0, cs, c0, w) = (p[0], p[1], p[2], p[3].exp());
        let model = |u: f64| c0 + (cs - c0) * erfc((u - u0).max(0.0) / w);
        self.u
            .iter()
            .zip(self.c)
            .zip(&self.weight)
            .map(|((&u, &c), &wt)| (model(u) - c) * wt)
            .collect()
    }

    fn jacobian(&self, p: &[f64]) -> DMatrix<f64> {
        let (u0, cs, c0, w) = (p[0], p[1], p[2], p[3].exp());
        let mut jac = DMatrix::zeros(self.u.len(), 4);
        for (i, (&u, &wt)) in self.u.iter().zip(&self.weight).enumerate() {
            let xi = (u - u0) / w;
            if xi <= 0.0 {
                jac[(i, 1)] = wt;
                continue;
            }
            let e = erfc(xi);
            let slope = (cs - c0) * 2.0 / PI.sqrt() * (-xi * xi).exp();
            jac[(i, 0)] = wt * slope / w;
            jac[(i, 1)] = wt * e;
            jac[(i, 2)] = wt * (1.0 - e);
            jac[(i, 3)] = wt * slope * xi;
        }
        jac
    }
}

/// Median of a non-empty slice.
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Initial guesses [u0, C_s, C_0, q] from the data sorted by u: plateau values from the medians of the
/// first and last 10 % of points, and the positions where the normalised profile crosses 0.8 and 0.2
/// (taken as the u of the k-th point, k = number of points above the level), which fix x0 and 2√(Dt) from
/// erfc⁻¹(0.8) and erfc⁻¹(0.2).
fn initial_guess(u: &[f64], c: &[f64]) -> [f64; 4] {
    let n = u.len();
    let tail = (n / 10).max(2).min(n);
    let cs = median(&c[..tail]);
    let c0 = median(&c[n - tail..]);
    let level_position = |level: f64| {
        let threshold = c0 + level * (cs - c0);
        let above = c.iter().filter(|&&v| (v - threshold) * (cs - c0) > 0.0).count();
        u[above.min(n - 1)]
    };
    let (ua, ub) = (level_position(0.8), level_position(0.2));
    let (xa, xb) = (puruspe::inverfc(0.8), puruspe::inverfc(0.2));
    let w = ((ub - ua) / (xb - xa)).max(1e-3);
    [ua - xa * w, cs, c0, w.ln()]
}

/// Fit eqn 4 (see [`ErfcProfile`]) to a profile measured `t_s` seconds after the start of exchange.
/// `x_m` positions (m), `c` fractions, `sigma` optional per-point uncertainties (unit weights otherwise).
/// The side of the source is detected from which end of the scan has the higher fraction.
pub fn fit_erfc(x_m: &[f64], c: &[f64], sigma: Option<&[f64]>, t_s: f64) -> Result<ErfcFit, FitError> {
    validate(x_m, c, sigma, t_s)?;
    let mut order: Vec<usize> = (0..x_m.len()).collect();
    order.sort_by(|&a, &b| x_m[a].total_cmp(&x_m[b]));
    let (x_min, x_max) = (x_m[order[0]], x_m[order[order.len() - 1]]);
    let length = x_max - x_min;
    if length <= 0.0 {
        return Err(FitError::BadInput("all positions are equal".into()));
    }
    let sorted_c: Vec<f64> = order.iter().map(|&i| c[i]).collect();
    let tail = (order.len() / 10).max(2);
    let source_at_low_x = median(&sorted_c[..tail]) >= median(&sorted_c[sorted_c.len() - tail..]);
    if !source_at_low_x {
        order.reverse();
    }
    let to_u = |x: f64| {
        if source_at_low_x {
            (x - x_min) / length
        } else {
            (x_max - x) / length
        }
    };
    let c_in_order: Vec<f64> = order.iter().map(|&i| c[i]).collect();
    let scan = ScaledScan {
        u: order.iter().map(|&i| to_u(x_m[i])).collect(),
        c: &c_in_order,
        weight: order.iter().map(|&i| sigma.map_or(1.0, |s| 1.0 / s[i])).collect(),
    };
    let guess = initial_guess(&scan.u, scan.c);
    let outcome = least_squares(&scan, &guess)?;
    Ok(to_physical(
        &outcome,
        length,
        if source_at_low_x { x_min } else { x_max },
        source_at_low_x,
        t_s,
        x_m.len(),
    ))
}

fn to_physical(o: &LsqOutcome, length: f64, x_ref: f64, source_at_low_x: bool, t_s: f64, n: usize) -> ErfcFit {
    let p = &o.params;
    let diffusion_length = length * p[3].exp();
    let d = diffusion_length * diffusion_length / (4.0 * t_s);
    let x0 = if source_at_low_x {
        x_ref + p[0] * length
    } else {
        x_ref - p[0] * length
    };
    ErfcFit {
        profile: ErfcProfile {
            d_m2_s: d,
            t_s,
            c_s: p[1],
            c_0: p[2],
            x0_m: x0,
            source_at_low_x,
        },
        // D ∝ e^{2q}: σ_D = 2 D σ_q.
        d_err_m2_s: 2.0 * d * o.sigma(3),
        c_s_err: o.sigma(1),
        c_0_err: o.sigma(2),
        x0_err_m: length * o.sigma(0),
        reduced_chi2: o.reduced_chi2,
        n_points: n,
    }
}

fn validate(x_m: &[f64], c: &[f64], sigma: Option<&[f64]>, t_s: f64) -> Result<(), FitError> {
    if x_m.len() != c.len() || sigma.is_some_and(|s| s.len() != c.len()) {
        return Err(FitError::BadInput(
            "positions, fractions and uncertainties differ in length".into(),
        ));
    }
    if x_m.len() < 6 {
        return Err(FitError::TooFewPoints {
            what: "erfc fit",
            needed: 6,
            got: x_m.len(),
        });
    }
    if !(t_s.is_finite() && t_s > 0.0) {
        return Err(FitError::BadInput(format!(
            "exchange time must be positive, got {t_s} s"
        )));
    }
    if x_m.iter().chain(c).any(|v| !v.is_finite()) {
        return Err(FitError::BadInput("non-finite position or fraction".into()));
    }
    if sigma.is_some_and(|s| s.iter().any(|v| !(v.is_finite() && *v > 0.0))) {
        return Err(FitError::BadInput("uncertainties must be positive and finite".into()));
    }
    Ok(())
}
