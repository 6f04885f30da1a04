//! The fitting kernels of the MTP (equations in the parent module doc, "Fitting"): the per-site tables of
//! one configuration kept from the forward evaluation ([`FitSites`]), the gradient of a·E + Ė with respect
//! to θ from them, and the basis Jacobian ∂B_k/∂r_ij of the linear rows.
//!
//! The parameter gradient works on groups of [`LANES`] neighbours (arrays of lanes, vectorised across the
//! group, small enough for L1) in two sweeps per site: the first builds the monomials P_p and their rates
//! Ṗ_p by the recursion P_q = u_d P_p, Ṗ_q = u̇_d P_p + u_d Ṗ_p and sums Ṁ_m = Σ_j (f'_μ ṙ_j P_p + f_μ Ṗ_p)
//! lane by lane (keeping P and Ṗ of the site's groups); after the products and the reverse sweep give the
//! adjoints λ_m, λ̇_m, the second forms α_μj = Σ_{m∈μ} (λ_m P_p + λ̇_m Ṗ_p) and β_μj = ṙ_j Σ_{m∈μ} λ̇_m P_p,
//! which the radial basis carries to c[t_i][t_j][μ][k]. The products are swept once forward (Ṁ) and once
//! in reverse (λ, λ̇), each run of products with the same target taken in a register.

use super::{LANES, Model, Separate, SiteWork, add_product, add_scaled, mul, reset};
use gbion_atoms::Vec3;
use std::ops::Range;

/// Work tables of the parameter gradient and of [`SiteWork::basis_jacobian`], reused from site to site.
#[derive(Default)]
pub(crate) struct FitWork {
    /// P_p and Ṗ_p of every group of the site (from the first sweep, read by the second), [group][p][lane].
    monomial: Vec<[f64; LANES]>,
    monomial_rate: Vec<[f64; LANES]>,
    /// ṙ_j of each group of the site.
    distance_rate: Vec<[f64; LANES]>,
    /// f'_μ ṙ_j of one group, [μ][lane].
    radial_rate: Vec<[f64; LANES]>,
    /// Σ over groups of f'_μ ṙ_j P_p + f_μ Ṗ_p for each basic moment, [m][lane].
    basic_rate: Vec<[f64; LANES]>,
    /// α_μ and β_μ of one group, [μ][lane].
    alpha: Vec<[f64; LANES]>,
    beta: Vec<[f64; LANES]>,
    /// Ṁ of every moment.
    moment_tangent: Vec<f64>,
    /// ∂S/∂M and ∂S/∂Ṁ, S = a·E_i + Ė_i.
    adjoint: Vec<f64>,
    adjoint_tangent: Vec<f64>,
    chebyshev: Vec<f64>,
    chebyshev_derivative: Vec<f64>,
    /// ∂M_{mapping[k]}/∂r_ij, [(3j + d)·K + k].
    pub jacobian: Vec<f64>,
}

/// The tables of every site of one configuration that the parameter gradient needs (neighbours, unit
/// vectors, f_μ, f'_μ and all moments), kept by the forward evaluation so that a fit computes each site's
/// moments once.
#[derive(Default)]
pub(crate) struct FitSites {
    sites: Vec<FitSite>,
    groups: Vec<NeighbourGroup>,
    /// f_μ and f'_μ of each group, [group][μ][lane].
    radial: Vec<[f64; LANES]>,
    radial_derivative: Vec<[f64; LANES]>,
    /// All moments of each site, [site][moment].
    moments: Vec<f64>,
}

/// One site of [`FitSites`]: its type and its groups of neighbours.
struct FitSite {
    centre: usize,
    groups: Range<usize>,
}

/// Up to [`LANES`] neighbours of one site; unused lanes sit at r = 1 along x with f = f' = 0 and ṙ = 0, so
/// they add nothing to Ṁ and are skipped when the radial basis takes α and β to θ.
struct NeighbourGroup {
    used: usize,
    index: [usize; LANES],
    kind: [usize; LANES],
    /// r_ij and u_ij, [axis][lane]; |r_ij|.
    vector: [[f64; LANES]; 3],
    unit: [[f64; LANES]; 3],
    distance: [f64; LANES],
}

impl NeighbourGroup {
    /// ṙ_j = u_j·ṙ_ij and u̇_j = (ṙ_ij − u_j ṙ_j)/r_j for ṙ_ij = v_j − v_i + U r_ij.
    #[inline(always)]
    fn rates(&self, displacements: &[Vec3], v_i: Vec3, strain: &[[f64; 3]; 3]) -> ([f64; LANES], [[f64; LANES]; 3]) {
        let mut distance_rate = [0.0; LANES];
        let mut unit_rate = [[0.0; LANES]; 3];
        for l in 0..self.used {
            let (v_j, r) = (displacements[self.index[l]], [0, 1, 2].map(|d| self.vector[d][l]));
            let t =
                [0, 1, 2].map(|a| v_j[a] - v_i[a] + strain[a][0] * r[0] + strain[a][1] * r[1] + strain[a][2] * r[2]);
            let u = [0, 1, 2].map(|d| self.unit[d][l]);
            let rate = u[0] * t[0] + u[1] * t[1] + u[2] * t[2];
            distance_rate[l] = rate;
            for d in 0..3 {
                unit_rate[d][l] = (t[d] - u[d] * rate) / self.distance[l];
            }
        }
        (distance_rate, unit_rate)
    }
}

impl SiteWork {
    /// Append the loaded site (after [`Self::moments`]) to `sites` for a centre of type `centre`.
    pub fn keep_for_fit(&self, model: &Model, centre: usize, sites: &mut FitSites) {
        let n = self.count;
        let first = sites.groups.len();
        for start in (0..n).step_by(LANES) {
            let used = LANES.min(n - start);
            let mut group = NeighbourGroup {
                used,
                index: [0; LANES],
                kind: [0; LANES],
                vector: [[1.0; LANES], [0.0; LANES], [0.0; LANES]],
                unit: [[1.0; LANES], [0.0; LANES], [0.0; LANES]],
                distance: [1.0; LANES],
            };
            for (l, j) in (start..start + used).enumerate() {
                group.index[l] = self.index[j];
                group.kind[l] = self.kind[j];
                group.distance[l] = self.distance[j];
                for d in 0..3 {
                    group.vector[d][l] = self.vector[j][d];
                    group.unit[d][l] = self.unit[d][j];
                }
            }
            sites.groups.push(group);
            for mu in 0..model.radial_count {
                let lanes = mu * self.stride + start..mu * self.stride + start + used;
                let (mut f, mut df) = ([0.0; LANES], [0.0; LANES]);
                f[..used].copy_from_slice(&self.radial[lanes.clone()]);
                df[..used].copy_from_slice(&self.radial_derivative[lanes]);
                sites.radial.push(f);
                sites.radial_derivative.push(df);
            }
        }
        sites.sites.push(FitSite {
            centre,
            groups: first..sites.groups.len(),
        });
        sites.moments.extend_from_slice(&self.moments);
    }

    /// ∂M_{mapping[k]}/∂r_ij for every basis function k, neighbour j and axis d, after [`Self::moments`]:
    /// `fit.jacobian[(3j + d)·K + k]` with K = mapping.len() (forward mode, one neighbour coordinate at a
    /// time; ∂P/∂r_d = (∂P/∂u_d − u_d·deg P·P)/r by Euler's relation).
    pub fn basis_jacobian(&self, model: &Model, fit: &mut FitWork) {
        let n = self.count;
        let basis = model.mapping.len();
        reset(&mut fit.jacobian, 3 * n * basis);
        reset(&mut fit.moment_tangent, model.moments_count);
        for j in 0..n {
            let inv_r = 1.0 / self.distance[j];
            for d in 0..3 {
                let u_d = self.unit[d][j];
                fit.moment_tangent.fill(0.0);
                for (m, &(mu, p)) in model.basic.iter().enumerate() {
                    let mono = &model.monomials[p];
                    let (stride, value) = (self.stride, self.monomial_value(model, p, j));
                    let along_u = mono.lower[d].map_or(0.0, |(power, q)| power * self.monomial_value(model, q, j));
                    let d_monomial = (along_u - u_d * mono.degree * value) * inv_r;
                    fit.moment_tangent[m] = self.radial_derivative[mu * stride + j] * u_d * value
                        + self.radial[mu * stride + j] * d_monomial;
                }
                tangent_products(model, &self.moments, &mut fit.moment_tangent);
                let row = &mut fit.jacobian[(3 * j + d) * basis..(3 * j + d + 1) * basis];
                for (out, &m) in row.iter_mut().zip(&model.mapping) {
                    *out = fit.moment_tangent[m];
                }
            }
        }
    }
}

impl FitSites {
    /// Number of sites kept.
    pub fn site_count(&self) -> usize {
        self.sites.len()
    }

    /// Empty the tables (keeping their memory) for the next configuration.
    pub fn clear(&mut self) {
        self.sites.clear();
        self.groups.clear();
        self.radial.clear();
        self.radial_derivative.clear();
        self.moments.clear();
    }

    /// Room for `sites` sites of about as many neighbours as the site kept first (so that the tables are
    /// not moved as they grow).
    pub fn reserve_like_first(&mut self, model: &Model, sites: usize) {
        let groups = sites * (self.groups.len() + 1);
        self.sites.reserve(sites);
        self.groups.reserve(groups);
        self.radial.reserve(groups * model.radial_count);
        self.radial_derivative.reserve(groups * model.radial_count);
        self.moments.reserve(sites * model.moments_count);
    }

    /// (E, Ė) of the configuration and ∂(a·E + Ė)/∂θ added to `grad` (θ laid out as
    /// [`Model::parameter_offsets`] says), for the direction ṙ_ij = v_j − v_i + U r_ij with v = `displacements`
    /// (one per site) and U = `strain`. Sites are taken in order, so the sums do not depend on threads.
    ///
    /// On x86-64 CPUs with AVX2 the same code is compiled with AVX2 enabled (four lanes per instruction
    /// instead of two); without FMA every operation is the same IEEE operation, so the result is bit for bit
    /// the same either way.
    pub fn parameter_gradient(
        &self,
        model: &Model,
        a: f64,
        displacements: &[Vec3],
        strain: &[[f64; 3]; 3],
        fit: &mut FitWork,
        grad: &mut [f64],
    ) -> (f64, f64) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.parameter_gradient_avx2(model, a, displacements, strain, fit, grad) };
        }
        self.sites_gradient(model, a, displacements, strain, fit, grad)
    }

    /// [`Self::sites_gradient`] compiled with AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn parameter_gradient_avx2(
        &self,
        model: &Model,
        a: f64,
        displacements: &[Vec3],
        strain: &[[f64; 3]; 3],
        fit: &mut FitWork,
        grad: &mut [f64],
    ) -> (f64, f64) {
        self.sites_gradient(model, a, displacements, strain, fit, grad)
    }

    /// The body of [`Self::parameter_gradient`], inlined into each instruction-set variant.
    #[inline(always)]
    fn sites_gradient(
        &self,
        model: &Model,
        a: f64,
        displacements: &[Vec3],
        strain: &[[f64; 3]; 3],
        fit: &mut FitWork,
        grad: &mut [f64],
    ) -> (f64, f64) {
        let (mut energy, mut rate) = (0.0, 0.0);
        for (s, site) in self.sites.iter().enumerate() {
            fit.site_tangents(self, model, site, displacements, displacements[s], strain);
            let moments = &self.moments[s * model.moments_count..(s + 1) * model.moments_count];
            let (e, e_dot) = fit.moment_adjoints(model, site.centre, moments, a, grad);
            fit.radial_gradient(self, model, site, grad);
            energy += e;
            rate += e_dot;
        }
        (energy, rate)
    }
}

impl FitWork {
    /// First sweep over the groups of `site`: ṙ_j, P_p and Ṗ_p (kept for the second sweep), and Ṁ of the
    /// basic moments into `moment_tangent` (the other moments zero).
    #[inline(always)]
    fn site_tangents(
        &mut self,
        sites: &FitSites,
        model: &Model,
        site: &FitSite,
        displacements: &[Vec3],
        v_i: Vec3,
        strain: &[[f64; 3]; 3],
    ) {
        let radial_count = model.radial_count;
        let monomials = model.monomials.len();
        self.monomial.resize(site.groups.len() * monomials, [0.0; LANES]);
        self.monomial_rate.resize(site.groups.len() * monomials, [0.0; LANES]);
        self.radial_rate.resize(radial_count, [0.0; LANES]);
        self.basic_rate.clear();
        self.basic_rate.resize(model.basic.len(), [0.0; LANES]);
        self.distance_rate.clear();
        for (local, g) in site.groups.clone().enumerate() {
            let group = &sites.groups[g];
            let (distance_rate, unit_rate) = group.rates(displacements, v_i, strain);
            let tables = local * monomials..(local + 1) * monomials;
            let (monomial, monomial_rate) = (&mut self.monomial[tables.clone()], &mut self.monomial_rate[tables]);
            monomials_and_rates(model, &group.unit, &unit_rate, monomial, monomial_rate);
            let radial = &sites.radial[g * radial_count..(g + 1) * radial_count];
            let radial_derivative = &sites.radial_derivative[g * radial_count..(g + 1) * radial_count];
            for (fr, df) in self.radial_rate.iter_mut().zip(radial_derivative) {
                *fr = mul(df, &distance_rate);
            }
            let radial_rate = &self.radial_rate;
            for (sum, &(mu, p)) in self.basic_rate.iter_mut().zip(&model.basic) {
                let (f, fr, value, rate) = (&radial[mu], &radial_rate[mu], &monomial[p], &monomial_rate[p]);
                // All loads before the store, so the lanes vectorise (the tables cannot alias `sum`).
                *sum = std::array::from_fn(|l| sum[l] + (fr[l] * value[l] + f[l] * rate[l]));
            }
            self.distance_rate.push(distance_rate);
        }
        reset(&mut self.moment_tangent, model.moments_count);
        for (m, sum) in self.moment_tangent.iter_mut().zip(&self.basic_rate) {
            *m = lane_sum(sum);
        }
    }

    /// The products' Ṁ, E_i and Ė_i, ∂S/∂(s, ξ) added to `grad`, and the adjoints λ_m = ∂S/∂M_m and
    /// λ̇_m = ∂S/∂Ṁ_m by the reverse sweep through the products (module doc of the parent); returns (E_i, Ė_i).
    #[inline(always)]
    fn moment_adjoints(
        &mut self,
        model: &Model,
        centre: usize,
        moments: &[f64],
        a: f64,
        grad: &mut [f64],
    ) -> (f64, f64) {
        tangent_products(model, moments, &mut self.moment_tangent);
        let offsets = model.parameter_offsets();
        let mut energy = model.species_coeffs[centre];
        let mut energy_rate = 0.0;
        grad[offsets.species + centre] += a;
        reset(&mut self.adjoint, model.moments_count);
        reset(&mut self.adjoint_tangent, model.moments_count);
        for (k, (&m, &xi)) in model.mapping.iter().zip(&model.moment_coeffs).enumerate() {
            energy += xi * moments[m];
            energy_rate += xi * self.moment_tangent[m];
            grad[offsets.moments + k] += a * moments[m] + self.moment_tangent[m];
            self.adjoint[m] += a * xi;
            self.adjoint_tangent[m] += xi;
        }
        // Reverse through M_i3 += mult·M_i1·M_i2 and Ṁ_i3 += mult·(Ṁ_i1·M_i2 + M_i1·Ṁ_i2). The products of one
        // target i3 are listed together and read only moments below i3, so λ_i3 and λ̇_i3 are final when its
        // run is reached and are loaded once per run.
        let (adjoint, adjoint_tangent, tangent) = (
            &mut self.adjoint[..],
            &mut self.adjoint_tangent[..],
            &self.moment_tangent[..],
        );
        let (mut target, mut l3, mut l3_dot) = (usize::MAX, 0.0, 0.0);
        for &(i1, i2, mult, i3) in model.products.iter().rev() {
            if i3 != target {
                (target, l3, l3_dot) = (i3, adjoint[i3], adjoint_tangent[i3]);
            }
            let (g, g_dot) = (mult * l3, mult * l3_dot);
            let (m1, m2) = (moments[i1], moments[i2]);
            let (t1, t2) = (tangent[i1], tangent[i2]);
            adjoint_tangent[i1] += g_dot * m2;
            adjoint_tangent[i2] += g_dot * m1;
            adjoint[i1] += g * m2 + g_dot * t2;
            adjoint[i2] += g * m1 + g_dot * t1;
        }
        (energy, energy_rate)
    }

    /// Second sweep over the groups of `site`: α_μ and β_μ per neighbour from the adjoints of the basic
    /// moments, then ∂S/∂c[t_i][t_j][μ][k] += α_μj Q_k(r_j) + β_μj Q'_k(r_j).
    #[inline(always)]
    fn radial_gradient(&mut self, sites: &FitSites, model: &Model, site: &FitSite, grad: &mut [f64]) {
        let size = model.basis_size;
        self.alpha.resize(model.radial_count, [0.0; LANES]);
        self.beta.resize(model.radial_count, [0.0; LANES]);
        reset(&mut self.chebyshev, size);
        reset(&mut self.chebyshev_derivative, size);
        let monomials = model.monomials.len();
        for (local, g) in site.groups.clone().enumerate() {
            let group = &sites.groups[g];
            let distance_rate = self.distance_rate[local];
            let tables = local * monomials..(local + 1) * monomials;
            let (monomial, monomial_rate) = (&self.monomial[tables.clone()], &self.monomial_rate[tables]);
            for mu in 0..model.radial_count {
                let (mut alpha, mut weight) = ([0.0; LANES], [0.0; LANES]);
                for (m, p) in model.radial_terms(mu) {
                    let (l, l_dot) = (self.adjoint[m], self.adjoint_tangent[m]);
                    add_scaled::<Separate, LANES>(&mut alpha, l, &monomial[p]);
                    add_scaled::<Separate, LANES>(&mut alpha, l_dot, &monomial_rate[p]);
                    add_scaled::<Separate, LANES>(&mut weight, l_dot, &monomial[p]);
                }
                self.alpha[mu] = alpha;
                self.beta[mu] = mul(&weight, &distance_rate);
            }
            for l in 0..group.used {
                let (q, dq) =
                    model.radial_basis(group.distance[l], &mut self.chebyshev, &mut self.chebyshev_derivative);
                let start = model.radial_block_start(site.centre, group.kind[l]);
                let block = &mut grad[start..start + model.radial_count * size];
                for ((out, alpha), beta) in block.chunks_exact_mut(size).zip(&self.alpha).zip(&self.beta) {
                    for k in 0..size {
                        out[k] += alpha[l] * q[k] + beta[l] * dq[k];
                    }
                }
            }
        }
    }
}

/// P_p and Ṗ_p of one group from u and u̇: P_q = u_d P_p, Ṗ_q = u̇_d P_p + u_d Ṗ_p for q = u_d · p.
#[inline(always)]
fn monomials_and_rates(
    model: &Model,
    unit: &[[f64; LANES]; 3],
    unit_rate: &[[f64; LANES]; 3],
    monomial: &mut [[f64; LANES]],
    monomial_rate: &mut [[f64; LANES]],
) {
    monomial[0] = [1.0; LANES];
    monomial_rate[0] = [0.0; LANES];
    for (q, mono) in model.monomials.iter().enumerate().skip(1) {
        let (axis, parent) = mono.parent;
        let (value, rate) = (monomial[parent], monomial_rate[parent]);
        let mut q_rate = mul(&unit_rate[axis], &value);
        add_product::<Separate, LANES>(&mut q_rate, &unit[axis], &rate);
        monomial[q] = mul(&unit[axis], &value);
        monomial_rate[q] = q_rate;
    }
}

/// Σ_l x_l in lane order.
#[inline(always)]
fn lane_sum(x: &[f64; LANES]) -> f64 {
    x.iter().sum()
}

/// Ṁ_i3 += mult·(Ṁ_i1·M_i2 + M_i1·Ṁ_i2) for the products in file order, given the basic moments' Ṁ; each
/// run of products with the same target is summed in a register, as in the parent's `products`.
#[inline(always)]
fn tangent_products(model: &Model, moments: &[f64], tangent: &mut [f64]) {
    let (mut target, mut sum) = (usize::MAX, 0.0);
    for &(i1, i2, mult, i3) in &model.products {
        if i3 != target {
            if target != usize::MAX {
                tangent[target] = sum;
            }
            (target, sum) = (i3, tangent[i3]);
        }
        sum += mult * (tangent[i1] * moments[i2] + moments[i1] * tangent[i2]);
    }
    if target != usize::MAX {
        tangent[target] = sum;
    }
}
