//! Relaxation to a local minimum of the energy (or of the enthalpy H = E + PV when the cell relaxes):
//! FIRE and L-BFGS on the atomic positions and, optionally, the cell.
//!
//! Variables. Positions only: x = (r_1 … r_N) (Å). With the cell (as ASE's `UnitCellFilter`): a deformation
//! gradient D of the initial cell M₀ (rows = lattice vectors, so M = M₀D and r_i = u_i D), and
//! x = (u_1 … u_N, c·D) with c = N (the cell factor). Gradients: ∂E/∂u_i = (∂E/∂r_i) Dᵀ, and, with ASE's
//! stress σ = (1/V) ∂E/∂ε (ε acting on row vectors, r' = r(1 + ε)),
//! ∂H/∂D = V D⁻ᵀ (σ + P·1), divided by c for the scaled variables. Fixed atoms get zero gradient.
//! Converged when every free atom's |F_i| ≤ `fmax` (eV/Å) and, with the cell, every |σ_ab + P δ_ab| ≤
//! `stress_tol` (eV/Å³).
//!
//! - FIRE (Bitzek, Koskinen, Gähler, Moseler & Gumbsch, Phys. Rev. Lett. 97, 170201 (2006)), with ASE's
//!   parameters and unit masses: Δt₀ = 0.1, Δt_max = 1.0, N_min = 5, f_inc = 1.1, f_dec = 0.5, α₀ = 0.1,
//!   f_α = 0.99, and a step no longer than `max_step` (Å, whole-vector norm).
//! - L-BFGS (Nocedal, Math. Comp. 35, 773 (1980); Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
//!   Alg. 7.4), memory 10, initial inverse Hessian (sᵀy / yᵀy)·1, step capped so that no variable moves more
//!   than `max_step`, backtracking line search with the Armijo condition (c₁ = 1e-4); the memory is
//!   cleared when the direction is not one of descent.

use crate::engine::Engine;
use crate::velocities::free_mask;
use crate::{Error, Result};
use gbion_atoms::linalg::{inverse, mat_mul, transpose, vec_mat};
use gbion_atoms::{Cell, Mat3, Structure};
use gbion_potentials::Request;
use serde::{Deserialize, Serialize};

/// Which minimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    Fire,
    Lbfgs,
}

/// What to relax and when to stop.
#[derive(Clone, Debug, PartialEq)]
pub struct RelaxOptions {
    pub algorithm: Algorithm,
    /// Largest force on a free atom at convergence (eV/Å).
    pub fmax: f64,
    /// Relax the cell as well.
    pub cell: bool,
    /// External pressure (eV/Å³, positive compresses) when the cell relaxes.
    pub pressure: f64,
    /// Largest |σ + P| at convergence (eV/Å³) when the cell relaxes.
    pub stress_tol: f64,
    /// Maximum number of iterations.
    pub max_steps: usize,
    /// Step cap (Å).
    pub max_step: f64,
}

impl Default for RelaxOptions {
    fn default() -> Self {
        RelaxOptions {
            algorithm: Algorithm::Fire,
            fmax: 0.01,
            cell: false,
            pressure: 0.0,
            stress_tol: 1e-4,
            max_steps: 1000,
            max_step: 0.2,
        }
    }
}

/// The outcome of a relaxation.
#[derive(Clone, Debug)]
pub struct Relaxed {
    pub structure: Structure,
    pub converged: bool,
    pub steps: usize,
    /// Energy (eV) at the end.
    pub energy: f64,
    /// Largest |F_i| on a free atom (eV/Å) at the end.
    pub fmax: f64,
    /// Largest |σ_ab + P δ_ab| (eV/Å³) at the end, with the cell.
    pub stress_residual: Option<f64>,
}

/// One evaluation of the objective.
struct Point {
    objective: f64,
    gradient: Vec<f64>,
    energy: f64,
    fmax: f64,
    stress_residual: Option<f64>,
}

/// The structure as a function of the variables.
struct Problem<'a, 'p> {
    structure: Structure,
    reference_cell: Mat3,
    reference_pbc: [bool; 3],
    free: Vec<bool>,
    engine: &'a mut Engine<'p>,
    options: RelaxOptions,
    evaluations: usize,
}

fn identity() -> Mat3 {
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
}

impl Problem<'_, '_> {
    fn n(&self) -> usize {
        self.structure.len()
    }

    fn cell_factor(&self) -> f64 {
        self.n() as f64
    }

    /// The initial variables.
    fn start(&self) -> Vec<f64> {
        let mut x: Vec<f64> = self.structure.positions.iter().flatten().copied().collect();
        if self.options.cell {
            let c = self.cell_factor();
            x.extend(identity().iter().flatten().map(|v| v * c));
        }
        x
    }

    fn deformation(&self, x: &[f64]) -> Mat3 {
        if !self.options.cell {
            return identity();
        }
        let c = self.cell_factor();
        let d = &x[3 * self.n()..];
        [
            [d[0] / c, d[1] / c, d[2] / c],
            [d[3] / c, d[4] / c, d[5] / c],
            [d[6] / c, d[7] / c, d[8] / c],
        ]
    }

    /// Put the variables into the structure.
    fn apply(&mut self, x: &[f64]) -> Result<()> {
        let d = self.deformation(x);
        for i in 0..self.n() {
            let u = [x[3 * i], x[3 * i + 1], x[3 * i + 2]];
            self.structure.positions[i] = if self.options.cell { vec_mat(u, &d) } else { u };
        }
        if self.options.cell {
            self.structure.cell = Cell::new(mat_mul(&self.reference_cell, &d), self.reference_pbc)?;
        }
        Ok(())
    }

    fn eval(&mut self, x: &[f64]) -> Result<Point> {
        self.apply(x)?;
        let request = Request {
            forces: true,
            stress: self.options.cell,
            energies: false,
        };
        let out = self.engine.compute(&self.structure, request)?;
        self.evaluations += 1;
        let forces = out
            .forces
            .ok_or_else(|| Error::Invalid("the potential returned no forces".into()))?;
        let d = self.deformation(x);
        let mut gradient = vec![0.0; x.len()];
        let mut fmax: f64 = 0.0;
        for i in 0..self.n() {
            if !self.free[i] {
                continue;
            }
            let f = forces[i];
            fmax = fmax.max((f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt());
            for a in 0..3 {
                // (∂E/∂r) Dᵀ, ∂E/∂r = −F.
                gradient[3 * i + a] = -(0..3).map(|b| f[b] * d[a][b]).sum::<f64>();
            }
        }
        let mut objective = out.energy;
        let mut stress_residual = None;
        if self.options.cell {
            let sigma = out
                .stress
                .ok_or_else(|| Error::Invalid("cell relaxation needs a stress".into()))?;
            let p = self.options.pressure;
            let volume = self.structure.cell.volume();
            objective += p * volume;
            let s = [
                [sigma[0] + p, sigma[5], sigma[4]],
                [sigma[5], sigma[1] + p, sigma[3]],
                [sigma[4], sigma[3], sigma[2] + p],
            ];
            stress_residual = Some(s.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs())));
            let d_inv_t = transpose(&inverse(&d).ok_or_else(|| Error::Invalid("singular cell deformation".into()))?);
            let g = mat_mul(&d_inv_t, &s);
            let c = self.cell_factor();
            let offset = 3 * self.n();
            for a in 0..3 {
                for b in 0..3 {
                    gradient[offset + 3 * a + b] = volume * g[a][b] / c;
                }
            }
        }
        if !objective.is_finite() || gradient.iter().any(|g| !g.is_finite()) {
            return Err(Error::Invalid("non-finite energy or forces during relaxation".into()));
        }
        Ok(Point {
            objective,
            gradient,
            energy: out.energy,
            fmax,
            stress_residual,
        })
    }

    fn converged(&self, p: &Point) -> bool {
        p.fmax <= self.options.fmax && p.stress_residual.is_none_or(|s| s <= self.options.stress_tol)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Relax `structure` with `engine`; `on_step(step, energy, fmax)` is called after every iteration.
pub fn relax(
    structure: Structure,
    engine: &mut Engine,
    options: &RelaxOptions,
    mut on_step: impl FnMut(usize, f64, f64),
) -> Result<Relaxed> {
    if options.cell && !structure.cell.pbc().iter().all(|&p| p) {
        return Err(Error::Invalid(
            "cell relaxation needs a cell periodic in all three directions".into(),
        ));
    }
    let free = free_mask(&structure);
    let mut problem = Problem {
        reference_cell: *structure.cell.matrix(),
        reference_pbc: structure.cell.pbc(),
        structure,
        free,
        engine,
        options: options.clone(),
        evaluations: 0,
    };
    let mut x = problem.start();
    let mut point = problem.eval(&x)?;
    let mut steps = 0;
    match options.algorithm {
        Algorithm::Fire => {
            let (dt_max, n_min, f_inc, f_dec, a_start, f_a) = (1.0, 5, 1.1, 0.5, 0.1, 0.99);
            let mut dt = 0.1;
            let mut alpha = a_start;
            let mut n_positive = 0;
            let mut v = vec![0.0; x.len()];
            while !problem.converged(&point) && steps < options.max_steps {
                let f: Vec<f64> = point.gradient.iter().map(|g| -g).collect();
                let vf = dot(&v, &f);
                if vf > 0.0 {
                    let (vn, fnorm) = (dot(&v, &v).sqrt(), dot(&f, &f).sqrt());
                    for k in 0..v.len() {
                        v[k] = (1.0 - alpha) * v[k] + alpha * f[k] / fnorm * vn;
                    }
                    if n_positive > n_min {
                        dt = f64::min(dt * f_inc, dt_max);
                        alpha *= f_a;
                    }
                    n_positive += 1;
                } else {
                    v.iter_mut().for_each(|x| *x = 0.0);
                    alpha = a_start;
                    dt *= f_dec;
                    n_positive = 0;
                }
                for k in 0..v.len() {
                    v[k] += dt * f[k];
                }
                let mut dr: Vec<f64> = v.iter().map(|vk| dt * vk).collect();
                let norm = dot(&dr, &dr).sqrt();
                if norm > options.max_step {
                    dr.iter_mut().for_each(|d| *d *= options.max_step / norm);
                }
                for k in 0..x.len() {
                    x[k] += dr[k];
                }
                point = problem.eval(&x)?;
                steps += 1;
                on_step(steps, point.energy, point.fmax);
            }
        }
        Algorithm::Lbfgs => {
            let memory = 10;
            let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
            while !problem.converged(&point) && steps < options.max_steps {
                // Two-loop recursion: d = −H g.
                let mut q = point.gradient.clone();
                let mut alphas = Vec::with_capacity(history.len());
                for (s, y, rho) in history.iter().rev() {
                    let a = rho * dot(s, &q);
                    q.iter_mut().zip(y).for_each(|(qk, yk)| *qk -= a * yk);
                    alphas.push(a);
                }
                let gamma = history.last().map_or(1e-2, |(s, y, _)| dot(s, y) / dot(y, y));
                q.iter_mut().for_each(|qk| *qk *= gamma);
                for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
                    let b = rho * dot(y, &q);
                    q.iter_mut().zip(s).for_each(|(qk, sk)| *qk += (a - b) * sk);
                }
                let mut d: Vec<f64> = q.iter().map(|v| -v).collect();
                let mut slope = dot(&d, &point.gradient);
                if slope >= 0.0 {
                    history.clear();
                    d = point.gradient.iter().map(|g| -1e-2 * g).collect();
                    slope = dot(&d, &point.gradient);
                }
                let biggest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if biggest > options.max_step {
                    d.iter_mut().for_each(|v| *v *= options.max_step / biggest);
                    slope = dot(&d, &point.gradient);
                }
                let mut t = 1.0;
                let (trial_x, trial) = loop {
                    let trial_x: Vec<f64> = x.iter().zip(&d).map(|(xk, dk)| xk + t * dk).collect();
                    let trial = problem.eval(&trial_x)?;
                    if trial.objective <= point.objective + 1e-4 * t * slope || t < 1e-6 {
                        break (trial_x, trial);
                    }
                    t *= 0.5;
                };
                let s: Vec<f64> = trial_x.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = trial.gradient.iter().zip(&point.gradient).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                if sy > 1e-16 {
                    if history.len() == memory {
                        history.remove(0);
                    }
                    history.push((s, y, 1.0 / sy));
                }
                x = trial_x;
                point = trial;
                steps += 1;
                on_step(steps, point.energy, point.fmax);
            }
        }
    }
    problem.apply(&x)?;
    Ok(Relaxed {
        converged: problem.converged(&point),
        structure: problem.structure,
        steps,
        energy: point.energy,
        fmax: point.fmax,
        stress_residual: point.stress_residual,
    })
}
