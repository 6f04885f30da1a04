//! The pair-potential start of a fit: before the nonlinear fit of an untrained MTP, its first radial
//! functions f_0 are fitted as the best two-body potential in the MTP's own radial basis, by linear least
//! squares on the same loss (energies, forces, stresses, weights of [`crate::fit`]).
//!
//! Why: with only the moment coefficient of the level-2 basis function M_{0,0}(i) = Σ_j f_0(r_ij) non-zero
//! (ξ = 1), the MTP is the pair potential E = Σ_t n_t s_t + Σ_{i≠j} f_{0,t_i t_j}(r_ij),
//! f_{0,ab}(r) = Σ_k c[a][b][0][k] Q_k(r) with the MTP's radial basis Q_k (Chebyshev polynomials times
//! (R_cut − r)², kernel module doc), and E, F and σ are linear in (s, c[·][·][0][·]). Its least-squares
//! solution is exact and cheap, where L-BFGS from random radial coefficients creeps towards it slowly.
//! Many-body terms are then added by the linear fit of all moment coefficients (which can only lower the
//! loss: the pair potential is one of its candidates) and the nonlinear fit. A two-body baseline under the
//! many-body terms is common in ML potentials (e.g. GAP's 2b + SOAP descriptors).
//!
//! The pair functions are polynomials fitted only where the training set has pair distances; between
//! min_dist and the closest distance sampled for a pair of species they are free, and a least-squares fit
//! with nothing to hold them there swings wildly. A smoothness prior (a curvature penalty, as in a smoothing
//! spline; [`smoothness_rows`]) keeps them tame there without changing the fit where data exist.
//!
//! How: the linear rows are those of an auxiliary MTP with one radial function per (centre type a,
//! neighbour type b, basis index k), f_{abk}(r) = δ_{t_i a} δ_{t_j b} Q_k(r), and one scalar basic moment per
//! radial function; its moment coefficients are the c[a][b][0][k] sought, fitted as by
//! [`crate::fit::fit_linear`] with the prior's rows added. The columns of (a, b, k) and (b, a, k) are equal
//! (each pair is seen from both ends), so the minimum-norm solution splits every pair potential evenly
//! between f_{0,ab} and f_{0,ba}.

use crate::Result;
use crate::fit::{FitData, LossWeights, fit_linear_with_prior};
use gbion_potentials::Potential;
use gbion_potentials::mtp::{Mtp, MtpParameters};

/// The index in `moment_coeffs` of the basis function M_{0,0} (μ = 0, no tensor indices), if the
/// potential has one.
fn pair_basis_function(p: &MtpParameters) -> Option<usize> {
    let moment = p.alpha_index_basic.iter().position(|&row| row == [0, 0, 0, 0])?;
    p.alpha_moment_mapping.iter().position(|&m| m == moment)
}

/// The auxiliary MTP whose basis functions are the pair sums Σ_{i of type a} Σ_{j of type b} Q_k(r_ij)
/// (module doc), on the radial basis and species of `mtp`.
fn pair_basis_mtp(mtp: &Mtp) -> Result<Mtp> {
    let mut p = mtp.parameters().clone();
    let (types, size) = (p.species_count, p.radial_basis_size);
    let count = types * types * size;
    let mut radial = vec![0.0; types * types * count * size];
    for pair in 0..types * types {
        for k in 0..size {
            let mu = pair * size + k;
            radial[(pair * count + mu) * size + k] = 1.0;
        }
    }
    p.radial_funcs_count = count;
    p.radial_coeffs = Some(radial);
    p.alpha_index_basic = (0..count).map(|mu| [mu, 0, 0, 0]).collect();
    p.alpha_index_times = Vec::new();
    p.alpha_moments_count = count;
    p.alpha_moment_mapping = (0..count).collect();
    p.species_coeffs = Some(vec![0.0; types]);
    p.moment_coeffs = Some(vec![0.0; count]);
    Ok(Mtp::new(p)?.with_species(mtp.species().unwrap_or(&[]).to_vec())?)
}

/// `mtp` with its f_0 radial coefficients and species coefficients set to the least-squares pair
/// potential on `data` and moment coefficients ξ = e_{M_{0,0}} (module doc); the other radial functions are
/// kept. `None` when the basis has no M_{0,0} function. `data` must have been built for `mtp`'s cutoff.
pub fn pair_start(mtp: &Mtp, data: &FitData, weights: &LossWeights) -> Result<Option<Mtp>> {
    let Some(pair_function) = pair_basis_function(mtp.parameters()) else {
        return Ok(None);
    };
    let auxiliary = pair_basis_mtp(mtp)?;
    let prior = smoothness_rows(mtp);
    let fitted = fit_linear_with_prior(&auxiliary, data, weights, prior)?.parameter_vector();
    let aux_offsets = auxiliary.parameter_offsets();
    let pair_coefficients = &fitted[aux_offsets.moments..];
    let offsets = mtp.parameter_offsets();
    let p = mtp.parameters();
    let (types, size, count) = (p.species_count, p.radial_basis_size, p.radial_funcs_count);
    let mut theta = mtp.parameter_vector();
    for pair in 0..types * types {
        let first_function = (pair * count) * size;
        theta[first_function..first_function + size]
            .copy_from_slice(&pair_coefficients[pair * size..(pair + 1) * size]);
    }
    theta[offsets.species..offsets.moments].copy_from_slice(&fitted[aux_offsets.species..aux_offsets.moments]);
    for (k, xi) in theta[offsets.moments..].iter_mut().enumerate() {
        *xi = f64::from(u8::from(k == pair_function));
    }
    Ok(Some(mtp.with_parameter_vector(&theta)?))
}

/// Weight λ_s of the smoothness prior (per Å of grid, on (f'' in eV/Å²)², beside a loss in eV² per atom).
/// Chosen on the LSTZ toy oracle's learning loop (level 6, 8 seeds): at 1e-10 the 1573 K validation force
/// RMSE was 0.01–0.04 eV/Å in all 8 (without the prior, 3 of 6 seeds were off by 0.2–3 eV/Å from Li–Li
/// contacts closer than any in the training set), training errors unchanged; at 1e-6 the prior biases the
/// fit (training force RMSE 0.045 eV/Å instead of 0.004).
const SMOOTHNESS: f64 = 1e-10;

/// Grid points per pair function of the smoothness prior.
const SMOOTHNESS_GRID: usize = 32;

/// Rows √(λ_s Δr) f_ab''(r_g) = 0 on a grid r_g over [min_dist, max_dist] for every ordered pair (a, b), in
/// the columns of the auxiliary MTP's linear fit ([species], then c[a][b][0][k] at (a·S + b)·K + k): a
/// curvature penalty, as in a smoothing spline. Where the training set has pair distances it is negligible
/// beside the data; where it has none (e.g. two Li ions never closer than 3.9 Å in near-equilibrium starting
/// configurations) it picks, of the many polynomials that fit the data equally, the least curved, instead of
/// one that swings to tens of eV/Å outside the sampled range.
fn smoothness_rows(mtp: &Mtp) -> Vec<Vec<f64>> {
    let p = mtp.parameters();
    let (types, size) = (p.species_count, p.radial_basis_size);
    let columns = types + types * types * size;
    let width = p.max_dist - p.min_dist;
    let step = width / (SMOOTHNESS_GRID - 1) as f64;
    let h = 1e-4 * width;
    let root = (SMOOTHNESS * step).sqrt();
    let mut rows = Vec::new();
    for g in 0..SMOOTHNESS_GRID - 1 {
        let r = p.min_dist + step * g as f64;
        let (_, above) = mtp.radial_basis(r + h);
        let (_, below) = mtp.radial_basis(r - h);
        let curvature: Vec<f64> = above.iter().zip(&below).map(|(a, b)| (a - b) / (2.0 * h)).collect();
        for pair in 0..types * types {
            let mut row = vec![0.0; columns + 1];
            for (k, c) in curvature.iter().enumerate() {
                row[types + pair * size + k] = root * c;
            }
            rows.push(row);
        }
    }
    rows
}
