//! Fitting a moment tensor potential to a training set: the loss, its exact gradient, the linear
//! least-squares fit of the energy coefficients for fixed radial coefficients, the nonlinear fit of all
//! coefficients by L-BFGS (argmin) with checkpoints, and the error metrics.
//!
//! Loss (per-atom weighting, so every atom counts alike whatever the size of its configuration):
//!
//! L(θ) = (1/Z) Σ_k ω_k [ w_E ω^E_k (E_k − E_k^ref)² / N_k + w_F Σ_i |F_ki − F_ki^ref|² + w_S ‖V_k (σ_k − σ_k^ref)‖²_F / N_k ]
//!        + λ Σ_p θ_p²,   Z = Σ_k ω_k N_k,
//!
//! with ω_k the configuration's `weight`, ω^E_k its `energy_weight`, ‖·‖_F the Frobenius norm of the 3 × 3
//! virial error (eV), and defaults w_E = 1, w_F = 0.01 Å², w_S = 0.001 — MLIP's default energy, force and
//! stress weights. Energies are in eV, so L is in eV² per atom.
//!
//! Gradient: per configuration, ∂L_k/∂θ = ∂(a E + Ė)/∂θ along the direction a = ∂L_k/∂E,
//! v_i = −∂L_k/∂F_i, U = (∂L_k/∂σ)/V ([`gbion_potentials::mtp::FitDirection`]), one pass per configuration.
//!
//! Linear fit: for fixed radial coefficients, E, F and σ are linear in (species_coeffs, moment_coeffs), so
//! the loss is a weighted linear least-squares problem; its rows are accumulated configuration by
//! configuration into a triangular factor (streaming QR, memory independent of the set's size) and solved by
//! an SVD of the column-scaled factor, dropping singular values below `rcond` times the largest — a
//! basis with linearly dependent functions (MLIP's level-16 and -20 templates have some) still gives the
//! least-squares fit with the smallest coefficients.

use crate::training::TrainingSet;
use crate::{Error, Result};
use gbion_atoms::NeighborList;
use gbion_potentials::mtp::{FitDirection, FitTables, Mtp, MtpParameters};
use gbion_potentials::{Potential, Request};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use gbion_dynamics::units::EV_A3_TO_GPA as EV_PER_A3_IN_GPA;

/// Weights of the loss terms (module doc).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossWeights {
    /// w_E (dimensionless).
    pub energy: f64,
    /// w_F (Å²).
    pub force: f64,
    /// w_S (dimensionless; applies to the virial V σ in eV).
    pub stress: f64,
    /// λ (eV² per unit parameter², on every parameter).
    pub regularization: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        LossWeights {
            energy: 1.0,
            force: 0.01,
            stress: 0.001,
            regularization: 0.0,
        }
    }
}

/// A training set ready for fitting: its neighbour lists and the loss normaliser Z.
pub struct FitData<'a> {
    pub set: &'a TrainingSet,
    lists: Vec<NeighborList>,
    normaliser: f64,
}

impl<'a> FitData<'a> {
    /// Neighbour lists of range `mtp.cutoff()` for every configuration.
    pub fn new(set: &'a TrainingSet, mtp: &Mtp) -> Result<FitData<'a>> {
        let normaliser: f64 = set
            .configurations
            .iter()
            .map(|c| c.weight * c.structure.len() as f64)
            .sum();
        if normaliser <= 0.0 {
            return Err(Error::Invalid("every training configuration has weight 0".into()));
        }
        Ok(FitData {
            lists: set.neighbour_lists(mtp.cutoff())?,
            set,
            normaliser,
        })
    }
}

/// The loss of one configuration and its derivatives with respect to E, F and σ.
struct Residual {
    loss: f64,
    direction: FitDirection,
}

/// L_k (with the 1/Z factor) and the direction of its gradient (module doc).
fn residual(data: &FitData, k: usize, output: &gbion_potentials::Output, weights: &LossWeights) -> Residual {
    let c = &data.set.configurations[k];
    let n = c.structure.len() as f64;
    let scale = c.weight / data.normaliser;
    let energy_error = output.energy - c.energy;
    let energy_factor = scale * weights.energy * c.energy_weight / n;
    let mut loss = energy_factor * energy_error * energy_error;
    let mut displacements = vec![[0.0; 3]; c.structure.len()];
    if let (Some(reference), Some(forces)) = (&c.forces, &output.forces) {
        for ((v, f), r) in displacements.iter_mut().zip(forces).zip(reference) {
            for d in 0..3 {
                let error = f[d] - r[d];
                loss += scale * weights.force * error * error;
                v[d] = -2.0 * scale * weights.force * error;
            }
        }
    }
    let mut strain = [[0.0; 3]; 3];
    if let (Some(reference), Some(stress)) = (&c.stress, &output.stress) {
        let volume = c.structure.cell.volume();
        let factor = scale * weights.stress / n;
        for (v, (a, b)) in VOIGT.into_iter().enumerate() {
            let error = stress[v] - reference[v];
            let multiplicity = if a == b { 1.0 } else { 2.0 };
            loss += factor * multiplicity * (volume * error).powi(2);
            strain[a][b] = 2.0 * factor * volume * error;
            strain[b][a] = strain[a][b];
        }
    }
    Residual {
        loss,
        direction: FitDirection {
            energy_factor: 2.0 * energy_factor * energy_error,
            displacements,
            strain,
        },
    }
}

/// Voigt index → (row, column).
const VOIGT: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];

/// What a configuration needs evaluated: forces and stress only when it has references for them.
fn request_for(data: &FitData, k: usize) -> Request {
    let c = &data.set.configurations[k];
    Request {
        forces: c.forces.is_some(),
        stress: c.stress.is_some(),
        ..Request::ENERGY
    }
}

/// L(θ) and ∂L/∂θ (module doc). Configurations are evaluated in parallel and summed in order, so the
/// result does not depend on the number of threads.
pub fn loss_and_gradient(mtp: &Mtp, data: &FitData, weights: &LossWeights) -> Result<(f64, Vec<f64>)> {
    let len = mtp.parameter_offsets().len;
    let parts = each_configuration(data)
        .map(|k| {
            FitTables::with_thread_tables(|tables| -> Result<(f64, Vec<f64>)> {
                let output = evaluate_for_fit(mtp, data, k, tables)?;
                let r = residual(data, k, &output, weights);
                let mut grad = vec![0.0; len];
                mtp.parameter_gradient_from(tables, &r.direction, &mut grad)?;
                Ok((r.loss, grad))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let theta = mtp.parameter_vector();
    let mut loss = regularization(&theta, weights);
    let mut grad: Vec<f64> = theta.iter().map(|t| 2.0 * weights.regularization * t).collect();
    for (l, g) in parts {
        loss += l;
        for (a, b) in grad.iter_mut().zip(&g) {
            *a += b;
        }
    }
    Ok((loss, grad))
}

/// L(θ) alone.
pub fn loss(mtp: &Mtp, data: &FitData, weights: &LossWeights) -> Result<f64> {
    let parts = each_configuration(data)
        .map(|k| {
            FitTables::with_thread_tables(|tables| -> Result<f64> {
                Ok(residual(data, k, &evaluate_for_fit(mtp, data, k, tables)?, weights).loss)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(regularization(&mtp.parameter_vector(), weights) + parts.iter().sum::<f64>())
}

/// Energy, and forces and stress where configuration `k` has references for them.
fn evaluate(mtp: &Mtp, data: &FitData, k: usize) -> Result<gbion_potentials::Output> {
    let structure = &data.set.configurations[k].structure;
    Ok(mtp.compute(structure, Some(&data.lists[k]), request_for(data, k))?)
}

/// The configurations' indices as a parallel iterator that hands them out one at a time: an idle thread
/// takes the next configuration (with rayon's default splitting, a few pieces per thread, a thread slowed by
/// the machine holds up a whole piece).
fn each_configuration(data: &FitData) -> impl IndexedParallelIterator<Item = usize> {
    (0..data.set.len()).into_par_iter().with_max_len(1)
}

/// [`evaluate`] keeping the per-site tables for the parameter gradient in `tables`, as the loss and its
/// gradient use it (so that both see the same E, F, σ bit for bit; the tables are reused per thread).
fn evaluate_for_fit(mtp: &Mtp, data: &FitData, k: usize, tables: &mut FitTables) -> Result<gbion_potentials::Output> {
    let structure = &data.set.configurations[k].structure;
    Ok(mtp.evaluate_for_fit(structure, &data.lists[k], request_for(data, k), tables)?)
}

/// λ Σ_p θ_p².
fn regularization(theta: &[f64], weights: &LossWeights) -> f64 {
    weights.regularization * theta.iter().map(|t| t * t).sum::<f64>()
}

/// Relative cut of singular values in the linear fit.
pub const LINEAR_RCOND: f64 = 1e-12;

/// Rows gathered before each update of the triangular factor.
const QR_CHUNK_ROWS: usize = 4096;

/// The potential with species_coeffs and moment_coeffs fitted by weighted linear least squares for its
/// current radial coefficients (module doc); the loss is minimised exactly in those parameters.
pub fn fit_linear(mtp: &Mtp, data: &FitData, weights: &LossWeights) -> Result<Mtp> {
    fit_linear_with_prior(mtp, data, weights, Vec::new())
}

/// [`fit_linear`] with extra rows [row | target] over (species_coeffs, moment_coeffs) added to the
/// least-squares problem (a prior, e.g. the smoothness rows of [`crate::pair_start`]).
pub(crate) fn fit_linear_with_prior(
    mtp: &Mtp,
    data: &FitData,
    weights: &LossWeights,
    prior: Vec<Vec<f64>>,
) -> Result<Mtp> {
    let offsets = mtp.parameter_offsets();
    let columns = offsets.len - offsets.species;
    let mut factor = TriangularFactor::new(columns);
    factor.push_rows(prior.into_iter())?;
    if weights.regularization > 0.0 {
        let root = weights.regularization.sqrt();
        factor.push_rows((0..columns).map(|p| {
            let mut row = vec![0.0; columns + 1];
            row[p] = root;
            row
        }))?;
    }
    let mut start = 0;
    while start < data.set.len() {
        let mut end = start;
        let mut rows = 0;
        while end < data.set.len() && (rows == 0 || rows < QR_CHUNK_ROWS) {
            rows += 7 + 3 * data.set.configurations[end].structure.len();
            end += 1;
        }
        let blocks = (start..end)
            .into_par_iter()
            .with_max_len(1)
            .map(|k| weighted_rows(mtp, data, k, weights))
            .collect::<Result<Vec<_>>>()?;
        factor.push_rows(blocks.into_iter().flatten())?;
        start = end;
    }
    let linear = factor.solve(LINEAR_RCOND)?;
    let mut theta = mtp.parameter_vector();
    theta[offsets.species..].copy_from_slice(&linear);
    Ok(mtp.with_parameter_vector(&theta)?)
}

/// The weighted rows [√w·row | √w·target] of one configuration.
fn weighted_rows(mtp: &Mtp, data: &FitData, k: usize, weights: &LossWeights) -> Result<Vec<Vec<f64>>> {
    let c = &data.set.configurations[k];
    let rows = mtp.linear_rows(&c.structure, &data.lists[k])?;
    let m = rows.columns;
    let n = c.structure.len() as f64;
    let scale = c.weight / data.normaliser;
    let mut out = Vec::new();
    let mut push = |row: &[f64], target: f64, weight: f64| {
        if weight > 0.0 {
            let root = weight.sqrt();
            out.push(row.iter().map(|x| x * root).chain([target * root]).collect());
        }
    };
    push(&rows.energy, c.energy, scale * weights.energy * c.energy_weight / n);
    if let Some(forces) = &c.forces {
        for (r, &f) in forces.iter().flatten().enumerate() {
            push(&rows.forces[r * m..(r + 1) * m], f, scale * weights.force);
        }
    }
    if let Some(stress) = &c.stress {
        let volume = c.structure.cell.volume();
        for (v, (a, b)) in VOIGT.into_iter().enumerate() {
            let multiplicity = if a == b { 1.0 } else { 2.0 };
            let weight = scale * weights.stress * multiplicity * volume * volume / n;
            push(&rows.stress[v * m..(v + 1) * m], stress[v], weight);
        }
    }
    Ok(out)
}

/// The upper-triangular factor R of the rows [A | b] seen so far (streaming QR): RᵀR = [A | b]ᵀ[A | b].
struct TriangularFactor {
    columns: usize,
    r: faer::Mat<f64>,
}

impl TriangularFactor {
    fn new(columns: usize) -> TriangularFactor {
        TriangularFactor {
            columns,
            r: faer::Mat::zeros(0, columns + 1),
        }
    }

    /// Re-factor [R; new rows].
    fn push_rows(&mut self, rows: impl Iterator<Item = Vec<f64>>) -> Result<()> {
        let rows: Vec<Vec<f64>> = rows.collect();
        if rows.is_empty() {
            return Ok(());
        }
        if rows.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::Invalid(
                "non-finite values in the linear least-squares rows (basis values overflow: check the radial coefficients and the training structures for atoms too close)".into(),
            ));
        }
        let old = self.r.nrows();
        let width = self.columns + 1;
        let stacked = faer::Mat::from_fn(old + rows.len(), width, |i, j| {
            if i < old { self.r[(i, j)] } else { rows[i - old][j] }
        });
        let qr = stacked.qr();
        let r = qr.thin_R();
        self.r = faer::Mat::from_fn(r.nrows(), width, |i, j| if j >= i { r[(i, j)] } else { 0.0 });
        Ok(())
    }

    /// min ‖A x − b‖ by an SVD of R[:, :m] with columns scaled to unit norm, singular values below
    /// rcond · σ_max dropped (the minimum-norm solution in the scaled variables).
    fn solve(&self, rcond: f64) -> Result<Vec<f64>> {
        let m = self.columns;
        let rows = self.r.nrows();
        if rows == 0 {
            return Err(Error::Invalid("no rows to fit".into()));
        }
        let norms: Vec<f64> = (0..m)
            .map(|j| (0..rows).map(|i| self.r[(i, j)].powi(2)).sum::<f64>().sqrt())
            .collect();
        let scaled = faer::Mat::from_fn(
            rows,
            m,
            |i, j| if norms[j] > 0.0 { self.r[(i, j)] / norms[j] } else { 0.0 },
        );
        let svd = scaled
            .thin_svd()
            .map_err(|e| Error::Invalid(format!("the linear least-squares SVD did not converge: {e:?}")))?;
        let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
        let largest = (0..s.nrows()).map(|i| s[i]).fold(0.0f64, f64::max);
        let mut y = vec![0.0; m];
        for k in 0..s.nrows() {
            if s[k] <= rcond * largest || s[k] == 0.0 {
                continue;
            }
            let projection: f64 = (0..rows).map(|i| u[(i, k)] * self.r[(i, m)]).sum::<f64>() / s[k];
            for (j, yj) in y.iter_mut().enumerate() {
                *yj += v[(j, k)] * projection;
            }
        }
        Ok(y.iter()
            .zip(&norms)
            .map(|(y, n)| if *n > 0.0 { y / n } else { 0.0 })
            .collect())
    }
}

/// RMSE and MAE of energy per atom, force components and stress components of a potential on a set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ErrorMetrics {
    pub configurations: usize,
    pub energy_rmse_meV_atom: f64,
    pub energy_mae_meV_atom: f64,
    /// Over force components (eV/Å).
    pub force_rmse_eV_A: f64,
    pub force_mae_eV_A: f64,
    /// Over the six Voigt components (GPa); 0 when no configuration has a reference stress.
    pub stress_rmse_GPa: f64,
    pub stress_mae_GPa: f64,
}

/// The errors of `mtp` on `data` (energies compared as given, per atom).
pub fn error_metrics(mtp: &Mtp, data: &FitData) -> Result<ErrorMetrics> {
    let outputs = each_configuration(data)
        .map(|k| evaluate(mtp, data, k))
        .collect::<Result<Vec<_>>>()?;
    let mut energy = Moments::default();
    let mut force = Moments::default();
    let mut stress = Moments::default();
    for (c, out) in data.set.configurations.iter().zip(&outputs) {
        energy.add(1e3 * (out.energy - c.energy) / c.structure.len() as f64);
        if let (Some(r), Some(f)) = (&c.forces, &out.forces) {
            for (a, b) in f.iter().flatten().zip(r.iter().flatten()) {
                force.add(a - b);
            }
        }
        if let (Some(r), Some(s)) = (&c.stress, &out.stress) {
            for (a, b) in s.iter().zip(r) {
                stress.add(EV_PER_A3_IN_GPA * (a - b));
            }
        }
    }
    Ok(ErrorMetrics {
        configurations: data.set.len(),
        energy_rmse_meV_atom: energy.rms(),
        energy_mae_meV_atom: energy.mean_abs(),
        force_rmse_eV_A: force.rms(),
        force_mae_eV_A: force.mean_abs(),
        stress_rmse_GPa: stress.rms(),
        stress_mae_GPa: stress.mean_abs(),
    })
}

/// Running sums for RMS and mean absolute value.
#[derive(Default)]
struct Moments {
    count: usize,
    squares: f64,
    absolute: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.count += 1;
        self.squares += x * x;
        self.absolute += x.abs();
    }

    fn rms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.squares / self.count as f64).sqrt()
        }
    }

    fn mean_abs(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.absolute / self.count as f64
        }
    }
}

/// Starting radial coefficients for a fit of an untrained potential: c[t_i][t_j][μ][k] = δ_μk + ε with ε
/// uniform in ±0.1 (seeded), so that f_μ starts as the μ-th radial basis function, slightly different for
/// every pair of species; `scaling` = 1/(max_dist − min_dist)², so that Q_k ≤ 1 for r ≥ min_dist. The
/// species and moment coefficients start at zero (a linear fit sets them).
pub fn initial_parameters(untrained: &MtpParameters, seed: u64) -> MtpParameters {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut p = untrained.clone();
    let (size, count) = (p.radial_basis_size, p.radial_funcs_count);
    let pairs = p.species_count * p.species_count;
    let radial = (0..pairs * count * size)
        .map(|i| {
            let (mu, k) = ((i / size) % count, i % size);
            f64::from(u8::from(mu == k)) + 0.2 * (rng.random::<f64>() - 0.5)
        })
        .collect();
    p.radial_coeffs = Some(radial);
    p.scaling = Some(1.0 / (p.max_dist - p.min_dist).powi(2));
    p.species_coeffs = Some(vec![0.0; p.species_count]);
    p.moment_coeffs = Some(vec![0.0; p.alpha_moment_mapping.len()]);
    p
}
