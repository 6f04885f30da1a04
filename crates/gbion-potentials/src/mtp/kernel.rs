//! The site energy of the moment tensor potential and its gradient with respect to the neighbour vectors
//! (Shapeev, Multiscale Model. Simul. 14, 1153 (2016), eqs. 2–7; the radial basis and file conventions of
//! MLIP-2, Novikov et al., Mach. Learn.: Sci. Technol. 2, 025002 (2021)).
//!
//! For a centre of type t_i with neighbours j (all atoms and periodic images with r = |r_ij| < max_dist):
//!
//! * radial basis Q_k(r) = scaling · T_k(s) · (max_dist − r)², s = (2r − min_dist − max_dist) /
//!   (max_dist − min_dist), T_k the Chebyshev polynomials; radial functions f_μ(r) = Σ_k c[t_i][t_j][μ][k]
//!   Q_k(r);
//! * basic moments M_m = Σ_j f_μ(r_ij) u_x^a u_y^b u_z^c for rows {μ, a, b, c}, u = r_ij / r;
//! * products M_i3 += mult · M_i1 · M_i2 in file order; site energy E_i = species_coeffs[t_i] +
//!   Σ_k moment_coeffs[k] · M_{mapping[k]} (eV).
//!
//! Evaluation works neighbour-major on per-site tables kept in one [`SiteWork`] (structure of arrays, one
//! row of length J per quantity, J = number of neighbours): radial values once per neighbour, the
//! monomials u^(a,b,c) once per neighbour, then each basic moment as one dot product over neighbours. The
//! gradient is reverse mode: dE/dM is propagated back through the products in reverse file order to the
//! basic moments, and then, per neighbour, with h_p = Σ_{m: monomial p} (dE/dM_m) f_μ (a table over
//! monomials p),
//!
//! ∂E_i/∂r_ij = A u + (C − B u) / r,  A = Σ_m (dE/dM_m) f'_μ P_m,  B = Σ_p deg_p h_p P_p,  C = Σ_p h_p ∇_u P_p,
//!
//! which follows from ∂u/∂r_ij = (1 − u uᵀ)/r and Euler's relation u·∇_u P = deg P for the homogeneous
//! monomials P.

use crate::mtp::file::MtpParameters;
use gbion_atoms::Vec3;

/// The potential's parameters rearranged for evaluation.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub species_count: usize,
    min_dist: f64,
    pub max_dist: f64,
    scaling: f64,
    basis_size: usize,
    radial_count: usize,
    /// c[t_i][t_j][μ][k], empty for an untrained potential.
    radial_coeffs: Vec<f64>,
    moments_count: usize,
    /// Per basic moment: (radial function μ, monomial index p).
    basic: Vec<(usize, usize)>,
    /// Monomials u^(a,b,c) by degree; monomial p > 0 is u[axis] · monomial parent.
    monomials: Vec<Monomial>,
    /// Products (i1, i2, multiplicity, i3).
    products: Vec<(usize, usize, f64, usize)>,
    pub mapping: Vec<usize>,
    species_coeffs: Vec<f64>,
    moment_coeffs: Vec<f64>,
}

/// One monomial u_x^a u_y^b u_z^c of the unit vector.
#[derive(Clone, Debug)]
struct Monomial {
    /// (axis, parent): this monomial is u[axis] times monomial `parent` (unused for the constant 1).
    parent: (usize, usize),
    degree: f64,
    /// For each axis d with power n_d > 0: (n_d, index of the monomial with power n_d − 1), so that
    /// ∂P/∂u_d = n_d · P_lower.
    lower: [Option<(f64, usize)>; 3],
}

impl Model {
    /// Rearrange checked parameters (see [`MtpParameters::check`]).
    pub fn new(p: &MtpParameters) -> Model {
        let max_degree = p
            .alpha_index_basic
            .iter()
            .map(|r| r[1] + r[2] + r[3])
            .max()
            .unwrap_or(0);
        let powers = monomial_powers(max_degree);
        let index_of = |pw: [usize; 3]| {
            powers
                .iter()
                .position(|&q| q == pw)
                .expect("all monomials up to the degree")
        };
        let monomials = powers
            .iter()
            .map(|&pw| {
                let axis = pw.iter().position(|&n| n > 0);
                let lowered = |d: usize| {
                    let mut q = pw;
                    q[d] -= 1;
                    index_of(q)
                };
                Monomial {
                    parent: axis.map_or((0, 0), |d| (d, lowered(d))),
                    degree: pw.iter().sum::<usize>() as f64,
                    lower: [0, 1, 2].map(|d| (pw[d] > 0).then(|| (pw[d] as f64, lowered(d)))),
                }
            })
            .collect();
        Model {
            species_count: p.species_count,
            min_dist: p.min_dist,
            max_dist: p.max_dist,
            scaling: p.scaling.unwrap_or(1.0),
            basis_size: p.radial_basis_size,
            radial_count: p.radial_funcs_count,
            radial_coeffs: p.radial_coeffs.clone().unwrap_or_default(),
            moments_count: p.alpha_moments_count,
            basic: p
                .alpha_index_basic
                .iter()
                .map(|&[mu, a, b, c]| (mu, index_of([a, b, c])))
                .collect(),
            monomials,
            products: p
                .alpha_index_times
                .iter()
                .map(|&[i1, i2, mult, i3]| (i1, i2, mult as f64, i3))
                .collect(),
            mapping: p.alpha_moment_mapping.clone(),
            species_coeffs: p.species_coeffs.clone().unwrap_or_default(),
            moment_coeffs: p.moment_coeffs.clone().unwrap_or_default(),
        }
    }

    pub fn has_radial_coeffs(&self) -> bool {
        !self.radial_coeffs.is_empty()
    }

    pub fn has_energy_coeffs(&self) -> bool {
        !self.species_coeffs.is_empty() && !self.moment_coeffs.is_empty()
    }

    /// The radial coefficients c[t_i][t_j][·][·] of one pair of types.
    fn radial_block(&self, centre: usize, neighbour: usize) -> &[f64] {
        let len = self.radial_count * self.basis_size;
        let start = (centre * self.species_count + neighbour) * len;
        &self.radial_coeffs[start..start + len]
    }
}

/// Every (a, b, c) with a + b + c ≤ `max_degree`, by degree (the constant first).
fn monomial_powers(max_degree: usize) -> Vec<[usize; 3]> {
    let mut powers = Vec::new();
    for degree in 0..=max_degree {
        for a in (0..=degree).rev() {
            for b in (0..=degree - a).rev() {
                powers.push([a, b, degree - a - b]);
            }
        }
    }
    powers
}

/// Per-site tables, reused from site to site (one per thread).
#[derive(Default)]
pub(crate) struct SiteWork {
    /// Neighbour count J of the loaded site.
    count: usize,
    /// Atom index of each neighbour (for scattering forces).
    pub index: Vec<usize>,
    kind: Vec<usize>,
    pub vector: Vec<Vec3>,
    distance: Vec<f64>,
    /// Unit-vector components, [axis][j].
    unit: [Vec<f64>; 3],
    /// f_μ(r_j) and f'_μ(r_j), [μ][j].
    radial: Vec<f64>,
    radial_derivative: Vec<f64>,
    /// Monomials P_p(u_j), [p][j].
    monomial: Vec<f64>,
    /// h_p for the gradient, [p][j].
    h: Vec<f64>,
    /// A, B, C of the module doc, [j].
    a: Vec<f64>,
    b: Vec<f64>,
    c: [Vec<f64>; 3],
    /// Chebyshev values and derivatives of one neighbour.
    chebyshev: Vec<f64>,
    chebyshev_derivative: Vec<f64>,
    /// All moments and dE/dM.
    pub moments: Vec<f64>,
    moment_grad: Vec<f64>,
    /// ∂E_i/∂r_ij per neighbour (eV/Å), filled by [`SiteWork::gradient`].
    pub gradient: Vec<Vec3>,
}

impl SiteWork {
    /// Load the neighbours (atom index, r_ij, type) of one centre, keeping those with r < max_dist.
    /// Errors (with the neighbour's atom index) when a neighbour sits on the centre (r = 0).
    pub fn load(
        &mut self,
        model: &Model,
        neighbours: impl Iterator<Item = (usize, Vec3, usize)>,
    ) -> std::result::Result<(), usize> {
        self.index.clear();
        self.kind.clear();
        self.vector.clear();
        self.distance.clear();
        let cutoff2 = model.max_dist * model.max_dist;
        for (index, r, kind) in neighbours {
            let d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
            if d2 < cutoff2 {
                if d2 == 0.0 {
                    return Err(index);
                }
                self.index.push(index);
                self.kind.push(kind);
                self.vector.push(r);
                self.distance.push(d2.sqrt());
            }
        }
        self.count = self.index.len();
        Ok(())
    }

    /// Moments of the loaded site for a centre of type `centre` (fills `moments`).
    pub fn moments(&mut self, model: &Model, centre: usize) {
        let n = self.count;
        self.radial_tables(model, centre);
        self.monomial_table(model);
        self.moments.clear();
        self.moments.resize(model.moments_count, 0.0);
        for (m, &(mu, p)) in model.basic.iter().enumerate() {
            self.moments[m] = dot(&self.radial[mu * n..(mu + 1) * n], &self.monomial[p * n..(p + 1) * n]);
        }
        for &(i1, i2, mult, i3) in &model.products {
            self.moments[i3] += mult * self.moments[i1] * self.moments[i2];
        }
    }

    /// The site energy (eV) from the moments of [`Self::moments`].
    pub fn energy(&self, model: &Model, centre: usize) -> f64 {
        let linear: f64 = model
            .mapping
            .iter()
            .zip(&model.moment_coeffs)
            .map(|(&m, &c)| c * self.moments[m])
            .sum();
        model.species_coeffs[centre] + linear
    }

    /// ∂E_i/∂r_ij for every loaded neighbour into `gradient`, after [`Self::moments`].
    pub fn gradient(&mut self, model: &Model) {
        let n = self.count;
        self.moment_grad.clear();
        self.moment_grad.resize(model.moments_count, 0.0);
        for (&m, &c) in model.mapping.iter().zip(&model.moment_coeffs) {
            self.moment_grad[m] += c;
        }
        for &(i1, i2, mult, i3) in model.products.iter().rev() {
            let g = mult * self.moment_grad[i3];
            self.moment_grad[i1] += g * self.moments[i2];
            self.moment_grad[i2] += g * self.moments[i1];
        }
        reset(&mut self.h, model.monomials.len() * n);
        reset(&mut self.a, n);
        for (&(mu, p), &g) in model.basic.iter().zip(&self.moment_grad) {
            if g == 0.0 {
                continue;
            }
            let radial = &self.radial[mu * n..(mu + 1) * n];
            let radial_derivative = &self.radial_derivative[mu * n..(mu + 1) * n];
            let monomial = &self.monomial[p * n..(p + 1) * n];
            for (h, &f) in self.h[p * n..(p + 1) * n].iter_mut().zip(radial) {
                *h += g * f;
            }
            for ((a, &df), &pm) in self.a.iter_mut().zip(radial_derivative).zip(monomial) {
                *a += g * df * pm;
            }
        }
        reset(&mut self.b, n);
        for c in &mut self.c {
            reset(c, n);
        }
        for (p, mono) in model.monomials.iter().enumerate().skip(1) {
            let h = &self.h[p * n..(p + 1) * n];
            let value = &self.monomial[p * n..(p + 1) * n];
            for ((b, &h), &v) in self.b.iter_mut().zip(h).zip(value) {
                *b += mono.degree * h * v;
            }
            for (c, lower) in self.c.iter_mut().zip(&mono.lower) {
                if let &Some((power, q)) = lower {
                    for ((c, &h), &v) in c.iter_mut().zip(h).zip(&self.monomial[q * n..(q + 1) * n]) {
                        *c += power * h * v;
                    }
                }
            }
        }
        self.gradient.clear();
        for j in 0..n {
            let inv_r = 1.0 / self.distance[j];
            let along = self.a[j] - self.b[j] * inv_r;
            self.gradient
                .push([0, 1, 2].map(|d| along * self.unit[d][j] + self.c[d][j] * inv_r));
        }
    }

    /// f_μ and f'_μ for every neighbour, and the unit vectors.
    fn radial_tables(&mut self, model: &Model, centre: usize) {
        let n = self.count;
        let size = model.basis_size;
        reset(&mut self.radial, model.radial_count * n);
        reset(&mut self.radial_derivative, model.radial_count * n);
        reset(&mut self.chebyshev, size);
        reset(&mut self.chebyshev_derivative, size);
        for d in 0..3 {
            reset(&mut self.unit[d], n);
        }
        let width = model.max_dist - model.min_dist;
        let ds_dr = 2.0 / width;
        for j in 0..n {
            let r = self.distance[j];
            for d in 0..3 {
                self.unit[d][j] = self.vector[j][d] / r;
            }
            let s = (2.0 * r - model.min_dist - model.max_dist) / width;
            chebyshev(s, &mut self.chebyshev, &mut self.chebyshev_derivative);
            let gap = model.max_dist - r;
            let envelope = model.scaling * gap * gap;
            let envelope_derivative = -2.0 * model.scaling * gap;
            let block = model.radial_block(centre, self.kind[j]);
            for (mu, coeffs) in block.chunks_exact(size).enumerate() {
                let (mut t_sum, mut dt_sum) = (0.0, 0.0);
                for ((&c, &t), &dt) in coeffs.iter().zip(&self.chebyshev).zip(&self.chebyshev_derivative) {
                    t_sum += c * t;
                    dt_sum += c * dt;
                }
                self.radial[mu * n + j] = t_sum * envelope;
                self.radial_derivative[mu * n + j] = dt_sum * ds_dr * envelope + t_sum * envelope_derivative;
            }
        }
    }

    /// P_p(u_j) for every monomial and neighbour.
    fn monomial_table(&mut self, model: &Model) {
        let n = self.count;
        reset(&mut self.monomial, model.monomials.len() * n);
        self.monomial[..n].fill(1.0);
        for (p, mono) in model.monomials.iter().enumerate().skip(1) {
            let (axis, parent) = mono.parent;
            let (done, rest) = self.monomial.split_at_mut(p * n);
            let parent = &done[parent * n..(parent + 1) * n];
            for ((out, &u), &q) in rest[..n].iter_mut().zip(&self.unit[axis]).zip(parent) {
                *out = u * q;
            }
        }
    }

    /// The basic moments M_0 … M_{B−1} (B = alpha_index_basic_count) of the last [`Self::moments`].
    pub fn basic_moments(&self, model: &Model) -> &[f64] {
        &self.moments[..model.basic.len()]
    }

    /// Add to `basic` (the basic moments of a centre of type `centre`) the change when its neighbour at
    /// r (Å, centre → neighbour) changes type from `old` to `new`: for each row m = {μ, p},
    /// ΔM_m = (f_μ(r; centre, new) − f_μ(r; centre, old)) · P_p(u), u = r / |r|. A neighbour at
    /// |r| ≥ max_dist contributes nothing. Overwrites the tables of the loaded site.
    pub fn add_retyped_neighbour(
        &mut self,
        model: &Model,
        centre: usize,
        r: Vec3,
        (old, new): (usize, usize),
        basic: &mut [f64],
    ) {
        let d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
        if d2 >= model.max_dist * model.max_dist {
            return;
        }
        let distance = d2.sqrt();
        let size = model.basis_size;
        reset(&mut self.chebyshev, size);
        reset(&mut self.chebyshev_derivative, size);
        let width = model.max_dist - model.min_dist;
        chebyshev(
            (2.0 * distance - model.min_dist - model.max_dist) / width,
            &mut self.chebyshev,
            &mut self.chebyshev_derivative,
        );
        let gap = model.max_dist - distance;
        let envelope = model.scaling * gap * gap;
        reset(&mut self.radial, model.radial_count);
        let (before, after) = (model.radial_block(centre, old), model.radial_block(centre, new));
        for (mu, (c_old, c_new)) in before.chunks_exact(size).zip(after.chunks_exact(size)).enumerate() {
            let f_old: f64 = c_old.iter().zip(&self.chebyshev).map(|(c, t)| c * t).sum();
            let f_new: f64 = c_new.iter().zip(&self.chebyshev).map(|(c, t)| c * t).sum();
            self.radial[mu] = (f_new - f_old) * envelope;
        }
        reset(&mut self.monomial, model.monomials.len());
        self.monomial[0] = 1.0;
        let unit = r.map(|x| x / distance);
        for (p, mono) in model.monomials.iter().enumerate().skip(1) {
            let (axis, parent) = mono.parent;
            self.monomial[p] = unit[axis] * self.monomial[parent];
        }
        for (m, &(mu, p)) in basic.iter_mut().zip(&model.basic) {
            *m += self.radial[mu] * self.monomial[p];
        }
    }

    /// The site energy (eV) of a centre of type `centre` whose basic moments are `basic`: the products in
    /// file order, then E_i as in [`Self::energy`] (fills `moments`). Bit for bit what [`Self::moments`]
    /// and [`Self::energy`] give from the same basic moments; each run of products with the same target
    /// M_i3 (the file lists them together) is summed in a register, since its terms read only M_k with
    /// k < i3, which saves a store and a load per product.
    pub fn energy_from_basic(&mut self, model: &Model, centre: usize, basic: &[f64]) -> f64 {
        let moments = &mut self.moments;
        moments.clear();
        moments.extend_from_slice(basic);
        moments.resize(model.moments_count, 0.0);
        let mut target = None;
        let mut sum = 0.0;
        for &(i1, i2, mult, i3) in &model.products {
            if target != Some(i3) {
                if let Some(t) = target {
                    moments[t] = sum;
                }
                target = Some(i3);
                sum = moments[i3];
            }
            sum += mult * moments[i1] * moments[i2];
        }
        if let Some(t) = target {
            moments[t] = sum;
        }
        self.energy(model, centre)
    }
}

/// T_k(s) and dT_k/ds for k < values.len() (Chebyshev polynomials of the first kind).
fn chebyshev(s: f64, values: &mut [f64], derivatives: &mut [f64]) {
    for k in 0..values.len() {
        let (t, dt) = match k {
            0 => (1.0, 0.0),
            1 => (s, 1.0),
            _ => (
                2.0 * s * values[k - 1] - values[k - 2],
                2.0 * values[k - 1] + 2.0 * s * derivatives[k - 1] - derivatives[k - 2],
            ),
        };
        values[k] = t;
        derivatives[k] = dt;
    }
}

/// Σ a_j b_j with four partial sums (so the loop vectorises).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let chunks = a.len() / 4 * 4;
    for (x, y) in a[..chunks].chunks_exact(4).zip(b[..chunks].chunks_exact(4)) {
        for k in 0..4 {
            partial[k] += x[k] * y[k];
        }
    }
    let tail: f64 = a[chunks..].iter().zip(&b[chunks..]).map(|(x, y)| x * y).sum();
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + tail
}

/// `v` with length `len`, all zeros.
fn reset(v: &mut Vec<f64>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chebyshev_matches_cosines() {
        let theta: f64 = 0.7;
        let s = theta.cos();
        let (mut t, mut dt) = (vec![0.0; 8], vec![0.0; 8]);
        chebyshev(s, &mut t, &mut dt);
        for k in 0..8 {
            let kf = k as f64;
            assert!((t[k] - (kf * theta).cos()).abs() < 1e-14);
            // dT_k/ds = k sin(kθ) / sin θ.
            assert!((dt[k] - kf * (kf * theta).sin() / theta.sin()).abs() < 1e-12);
        }
    }

    #[test]
    fn monomials_up_to_degree_two() {
        let powers = monomial_powers(2);
        assert_eq!(powers.len(), 10);
        assert_eq!(&powers[..4], &[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    }
}
