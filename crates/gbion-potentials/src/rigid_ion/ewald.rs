//! Ewald summation of the Coulomb energy of a periodic (any triclinic) cell of point charges, with the
//! splitting parameter α, real-space cutoff and reciprocal cutoff chosen from a requested accuracy.
//!
//! E = E_real + E_recip + E_self + E_background (Ewald 1921; Allen & Tildesley, *Computer Simulation of
//! Liquids*, 2nd ed., §6.2), all times k_e = e²/4πε₀ (eV·Å), charges in e, lengths in Å:
//! - E_real = Σ_{pairs i<j, images n} q_i q_j erfc(α r_ijn)/r_ijn (with an atom's own images, each ±n once),
//!   summed by the caller over its neighbour list ([`EwaldParameters::real_space`], which the model's loop
//!   reads from a cubic Hermite table built per evaluation: ≤ 1.4e-11 relative in energy, `table.rs`);
//! - E_recip = (2π/V) Σ_{k≠0} exp(−k²/4α²)/k² |S(k)|², S(k) = Σ_j q_j exp(i k·r_j), k = 2π m·(M⁻¹)ᵀ over
//!   integer m with |k| ≤ k_c (a sphere, so any cell shape is treated alike);
//! - E_self = −(α/√π) Σ_i q_i²;
//! - E_background = −π Q²/(2Vα²) for a cell of net charge Q (the energy with a uniform neutralising
//!   background; zero for neutral cells).
//!
//! Stress (ASE sign, σ = (1/V)∂E/∂ε): the reciprocal term contributes
//! (1/V) Σ_k (2π/V) f(k)|S(k)|² [−δ_ab + 2k_a k_b (1/k² + 1/4α²)] with f = exp(−k²/4α²)/k², the background
//! −E_background δ_ab / V, the real-space pairs the usual Σ sym(r ⊗ ∂E/∂r)/V.
//!
//! Parameters from a relative accuracy δ ([`EwaldParameters::choose`]), as LAMMPS `kspace_style ewald δ`
//! does: the target absolute RMS force error is ε = δ·k_e (δ times the force between two unit charges
//! 1 Å apart), and the RMS error estimates of Kolafa & Perram (Mol. Simul. 9, 351 (1992), eqs. 18 and 32)
//! are set to ε: real space ΔF_real = 2 Q₂ exp(−α²r_c²)/√(N r_c V), which gives α for the given r_c, and
//! reciprocal space ΔF_recip = (2 Q₂ α/L) √(1/(π m N)) exp(−(π m/(α L))²) with m = k_c L/2π and
//! L = V^(1/3), which gives k_c. Q₂ = k_e Σ q_i².

use crate::{Error, Result};
use gbion_atoms::{Cell, Mat3, Vec3, linalg};
use std::f64::consts::{FRAC_2_SQRT_PI, PI};

/// α (1/Å), real-space cutoff r_c (Å) and reciprocal cutoff k_c (1/Å) of one Ewald sum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EwaldParameters {
    pub alpha: f64,
    pub real_cutoff: f64,
    pub k_cutoff: f64,
}

impl EwaldParameters {
    /// α and k_c for relative accuracy `accuracy` with real-space cutoff `real_cutoff` (Å), for `n_atoms`
    /// charges with Σq² = `sum_q2` (e²) in a cell of volume `volume` (Å³); see the module documentation.
    pub fn choose(accuracy: f64, real_cutoff: f64, n_atoms: usize, sum_q2: f64, volume: f64) -> EwaldParameters {
        let target = accuracy * super::COULOMB_EV_A;
        let q2 = super::COULOMB_EV_A * sum_q2;
        let n = n_atoms.max(1) as f64;
        let g = target * (n * real_cutoff * volume).sqrt() / (2.0 * q2);
        // LAMMPS' fallback when the real-space estimate cannot reach the target (g ≥ 1): an α that makes
        // erfc(α r_c) ≈ δ.
        let alpha = if g >= 1.0 || q2 == 0.0 {
            (1.35 - 0.15 * target.ln()) / real_cutoff
        } else {
            (-g.ln()).sqrt() / real_cutoff
        };
        let length = volume.cbrt();
        let reciprocal_error = |k_cutoff: f64| {
            let m = k_cutoff * length / (2.0 * PI);
            2.0 * q2 * alpha / length * (1.0 / (PI * m * n)).sqrt() * (-(PI * m / (alpha * length)).powi(2)).exp()
        };
        let step = 0.01 * 2.0 * PI / length;
        let mut k_cutoff = 2.0 * PI / length;
        while reciprocal_error(k_cutoff) > target && k_cutoff < 1e3 {
            k_cutoff += step;
        }
        EwaldParameters {
            alpha,
            real_cutoff,
            k_cutoff,
        }
    }

    /// (erfc(αr)/r, d/dr) per unit k_e·q_i·q_j: the real-space pair term; (0, 0) beyond r_c.
    #[inline]
    pub fn real_space(&self, r: f64) -> (f64, f64) {
        if r >= self.real_cutoff {
            return (0.0, 0.0);
        }
        let (erfc, gauss) = super::erfc_and_gauss(self.alpha * r);
        let energy = erfc / r;
        (energy, -energy / r - FRAC_2_SQRT_PI * self.alpha * gauss / r)
    }

    /// E_self per unit k_e·q_i²: −α/√π (1/Å).
    pub fn self_energy_per_charge_squared(&self) -> f64 {
        -0.5 * FRAC_2_SQRT_PI * self.alpha
    }

    /// E_background per unit k_e: −π Q²/(2Vα²) (1/Å) for net charge `net_charge` (e).
    pub fn background_energy(&self, net_charge: f64, volume: f64) -> f64 {
        -PI * net_charge * net_charge / (2.0 * volume * self.alpha * self.alpha)
    }
}

/// Most wave vectors [`reciprocal`] scans (a box of integer m around the k_c sphere); beyond it a call would
/// run for hours, which only parameters far from any physical choice ask for.
const MAX_WAVE_VECTORS: f64 = 1e8;

/// What the reciprocal sum adds, in units of k_e: energy, per-atom energies, forces and the virial
/// Σ ∂E/∂ε (Voigt), as asked.
#[derive(Clone, Debug, Default)]
pub struct Reciprocal {
    pub energy: f64,
    pub energies: Option<Vec<f64>>,
    pub forces: Option<Vec<Vec3>>,
    pub virial: [f64; 6],
}

/// exp(2πi m s) for m = 0..=m_max of every atom along one lattice direction, as real and imaginary parts
/// with index m·N + i.
struct PhaseTable {
    re: Vec<f64>,
    im: Vec<f64>,
}

impl PhaseTable {
    fn new(fractional: impl Iterator<Item = f64> + Clone, n: usize, m_max: usize) -> PhaseTable {
        let mut re = vec![0.0; (m_max + 1) * n];
        let mut im = vec![0.0; (m_max + 1) * n];
        re[..n].fill(1.0);
        for (i, s) in fractional.enumerate() {
            let (sin, cos) = (2.0 * PI * s).sin_cos();
            for m in 1..=m_max {
                // Direct evaluation for m = 1, recurrence e^{i m θ} = e^{i(m−1)θ}·e^{iθ} after.
                let (pr, pi) = (re[(m - 1) * n + i], im[(m - 1) * n + i]);
                re[m * n + i] = pr * cos - pi * sin;
                im[m * n + i] = pr * sin + pi * cos;
            }
        }
        PhaseTable { re, im }
    }

    /// (re, im) rows of m ≥ 0 (the conjugate is taken by the caller for negative m).
    fn row(&self, m: usize, n: usize) -> (&[f64], &[f64]) {
        (&self.re[m * n..(m + 1) * n], &self.im[m * n..(m + 1) * n])
    }
}

/// The reciprocal-space sum for charges `charges` (e) at `positions` (Å) in a periodic `cell`.
pub fn reciprocal(
    cell: &Cell,
    positions: &[Vec3],
    charges: &[f64],
    parameters: &EwaldParameters,
    forces: bool,
    energies: bool,
) -> Result<Reciprocal> {
    if !cell.pbc().iter().all(|&p| p) {
        return Err(Error::Invalid(
            "Ewald summation needs a cell that is periodic in all three directions".into(),
        ));
    }
    let n = positions.len();
    let matrix = cell.matrix();
    let inverse = linalg::inverse(matrix).ok_or_else(|| Error::Invalid("singular cell".into()))?;
    let volume = cell.volume();
    let k_cut2 = parameters.k_cutoff * parameters.k_cutoff;
    let m_max: [usize; 3] =
        std::array::from_fn(|d| (parameters.k_cutoff * linalg::norm(matrix[d]) / (2.0 * PI)).floor() as usize);
    let candidates = (m_max[0] as f64 + 1.0) * (2.0 * m_max[1] as f64 + 1.0) * (2.0 * m_max[2] as f64 + 1.0);
    if candidates > MAX_WAVE_VECTORS {
        return Err(Error::Invalid(format!(
            "the Ewald reciprocal sum would scan {candidates:.1e} wave vectors (k_c = {:.3} 1/Å, α = {:.3} 1/Å, \
             real-space cutoff {} Å): ask for a lower accuracy or a longer Coulomb cutoff",
            parameters.k_cutoff, parameters.alpha, parameters.real_cutoff
        )));
    }
    let fractional: Vec<Vec3> = positions.iter().map(|&r| linalg::vec_mat(r, &inverse)).collect();
    let tables: Vec<PhaseTable> = (0..3)
        .map(|d| PhaseTable::new(fractional.iter().map(move |s| s[d]), n, m_max[d]))
        .collect();
    let mut out = Reciprocal {
        forces: forces.then(|| vec![[0.0; 3]; n]),
        energies: energies.then(|| vec![0.0; n]),
        ..Default::default()
    };
    let mut row_re = vec![0.0; n];
    let mut row_im = vec![0.0; n];
    // e^{i k·r_i} of the current wave vector, and the forces as three component arrays (vectorisable).
    let mut e_re = vec![0.0; n];
    let mut e_im = vec![0.0; n];
    let mut force_components = forces.then(|| [vec![0.0; n], vec![0.0; n], vec![0.0; n]]);
    let inv_4a2 = 0.25 / (parameters.alpha * parameters.alpha);
    for h in 0..=m_max[0] as i64 {
        for k in -(m_max[1] as i64)..=m_max[1] as i64 {
            let wave_vectors: Vec<(i64, Vec3)> = (-(m_max[2] as i64)..=m_max[2] as i64)
                .filter(|&l| h > 0 || k > 0 || (k == 0 && l > 0))
                .map(|l| (l, wave_vector(&inverse, [h, k, l])))
                .filter(|(_, kv)| linalg::dot(*kv, *kv) <= k_cut2)
                .collect();
            if wave_vectors.is_empty() {
                continue;
            }
            fill_row(&tables, n, h, k, &mut row_re, &mut row_im);
            for (l, kv) in wave_vectors {
                let (p_re, p_im) = tables[2].row(l.unsigned_abs() as usize, n);
                let sign = if l < 0 { -1.0 } else { 1.0 };
                let phases = Phases {
                    row_re: &row_re,
                    row_im: &row_im,
                    p_re,
                    p_im,
                    sign,
                };
                phases.fill(&mut e_re, &mut e_im);
                let (s_re, s_im) = structure_factor(charges, &e_re, &e_im);
                let k2 = linalg::dot(kv, kv);
                // Half of k-space: ±k give equal terms, hence 4π/V instead of 2π/V.
                let weight = 4.0 * PI / volume * (-k2 * inv_4a2).exp() / k2;
                let term = weight * (s_re * s_re + s_im * s_im);
                out.energy += term;
                let strain_factor = 2.0 * (1.0 / k2 + inv_4a2);
                for (slot, (a, b)) in out.virial.iter_mut().zip(VOIGT) {
                    let delta = if a == b { 1.0 } else { 0.0 };
                    *slot += term * (strain_factor * kv[a] * kv[b] - delta);
                }
                if let Some([fx, fy, fz]) = force_components.as_mut() {
                    // F_i += 2w q_i k Im(S* e_i).
                    let scale = 2.0 * weight;
                    let (cx, cy, cz) = (scale * kv[0], scale * kv[1], scale * kv[2]);
                    let (fx, fy, fz) = (&mut fx[..n], &mut fy[..n], &mut fz[..n]);
                    let (q, er, ei) = (&charges[..n], &e_re[..n], &e_im[..n]);
                    for i in 0..n {
                        let a = q[i] * (s_re * ei[i] - s_im * er[i]);
                        fx[i] += cx * a;
                        fy[i] += cy * a;
                        fz[i] += cz * a;
                    }
                }
                if let Some(energies) = out.energies.as_mut() {
                    // E_i += w q_i Re(S* e_i).
                    let (energies, q, er, ei) = (&mut energies[..n], &charges[..n], &e_re[..n], &e_im[..n]);
                    for i in 0..n {
                        energies[i] += weight * q[i] * (s_re * er[i] + s_im * ei[i]);
                    }
                }
            }
        }
    }
    if let (Some(forces), Some([fx, fy, fz])) = (out.forces.as_mut(), force_components) {
        for (i, force) in forces.iter_mut().enumerate() {
            *force = [fx[i], fy[i], fz[i]];
        }
    }
    Ok(out)
}

/// Voigt index pairs xx yy zz yz xz xy.
const VOIGT: [(usize, usize); 6] = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];

/// k = 2π Σ_d m_d (M⁻¹)_{·d} (1/Å): the wave vector of integer indices m along the reciprocal basis.
fn wave_vector(inverse: &Mat3, m: [i64; 3]) -> Vec3 {
    std::array::from_fn(|c| 2.0 * PI * (0..3).map(|d| inverse[c][d] * m[d] as f64).sum::<f64>())
}

/// row[i] = exp(2πi (h s_i1 + k s_i2)) for every atom.
fn fill_row(tables: &[PhaseTable], n: usize, h: i64, k: i64, row_re: &mut [f64], row_im: &mut [f64]) {
    let (a_re, a_im) = tables[0].row(h as usize, n);
    let (b_re, b_im) = tables[1].row(k.unsigned_abs() as usize, n);
    let sign = if k < 0 { -1.0 } else { 1.0 };
    for i in 0..n {
        let (br, bi) = (b_re[i], sign * b_im[i]);
        row_re[i] = a_re[i] * br - a_im[i] * bi;
        row_im[i] = a_re[i] * bi + a_im[i] * br;
    }
}

/// S(k) = Σ_i q_i·e_i, summed in four interleaved partial sums (independent chains).
fn structure_factor(charges: &[f64], e_re: &[f64], e_im: &[f64]) -> (f64, f64) {
    let n = charges.len();
    let (q, e_re, e_im) = (charges, &e_re[..n], &e_im[..n]);
    let mut re = [0.0f64; 4];
    let mut im = [0.0f64; 4];
    let blocks = n / 4 * 4;
    for i in (0..blocks).step_by(4) {
        for lane in 0..4 {
            re[lane] += q[i + lane] * e_re[i + lane];
            im[lane] += q[i + lane] * e_im[i + lane];
        }
    }
    for i in blocks..n {
        re[0] += q[i] * e_re[i];
        im[0] += q[i] * e_im[i];
    }
    ((re[0] + re[1]) + (re[2] + re[3]), (im[0] + im[1]) + (im[2] + im[3]))
}

/// The per-atom phase factors exp(i k·r_i) of one wave vector: row × p (p conjugated when `sign` is −1).
struct Phases<'a> {
    row_re: &'a [f64],
    row_im: &'a [f64],
    p_re: &'a [f64],
    p_im: &'a [f64],
    sign: f64,
}

impl Phases<'_> {
    /// e_i = row_i·p_i for every atom.
    fn fill(&self, e_re: &mut [f64], e_im: &mut [f64]) {
        let n = e_re.len();
        let (row_re, row_im, p_re, p_im) = (&self.row_re[..n], &self.row_im[..n], &self.p_re[..n], &self.p_im[..n]);
        let e_im = &mut e_im[..n];
        for i in 0..n {
            let pi = self.sign * p_im[i];
            e_re[i] = row_re[i] * p_re[i] - row_im[i] * pi;
            e_im[i] = row_re[i] * pi + row_im[i] * p_re[i];
        }
    }
}
