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
//! Evaluation works on per-site tables kept in one [`SiteWork`] (structure of arrays, J neighbours padded
//! to whole groups of 16 with neighbours at r = max_dist, where f_μ = f'_μ = 0). Chebyshev rows are
//! computed across neighbours; then, four neighbours at a time, the radial functions as vectors over μ (the
//! coefficients rearranged once per model as c[t_i][t_j][k][μ]), written to rows f_μ[j], f'_μ[j]; then,
//! group by group of 16 neighbours (a last group on 4, 8 or 16 lanes, as few as hold its neighbours), the
//! monomials u^(a,b,c) ([group][p][lane], built along edges P_q = u_axis P_parent ordered by degree and
//! axis) and their products with every f_μ, added to four partial sums per basic moment. The model's index
//! tables are walked as [`Run`]s of consecutive indices. The products, the same for every site, run for a
//! [`SiteBatch`] of 8 sites at once (`[m][site]`, vector registers across sites). The gradient is reverse
//! mode: dE/dM is
//! propagated back through the products to the basic moments (per moment, a sum over the products that
//! use it, from the last moment down; also across the batch), and then, per neighbour, with
//! h_p = Σ_{m: monomial p} (dE/dM_m) f_μ (a table over monomials p),
//!
//! ∂E_i/∂r_ij = A u + (C − B u) / r,  A = Σ_m (dE/dM_m) f'_μ P_m,  B = Σ_p deg_p h_p P_p,  C = Σ_p h_p ∇_u P_p,
//!
//! which follows from ∂u/∂r_ij = (1 − u uᵀ)/r and Euler's relation u·∇_u P = deg P for the homogeneous
//! monomials P. The gradient runs on the same groups of neighbours, reading f, f', P from the site's
//! tables, vectorised across the group: one pass per radial function μ gives S_μ = Σ_{m∈μ} (dE/dM_m) P_p
//! and its share of every h_p, A = Σ_μ f'_μ S_μ; C by reverse mode through the monomial recursion (in the
//! same pass that pushes each h_q into its parent's), and B = u·C (Euler again).
//!
//! The energies are the same bit for bit on every kernel ([`Separate`], [`Fused`]): the radial sums and
//! the dot products use separate multiplies and adds in the same order on both; only the gradient uses
//! fused multiply-adds where the CPU has them.
//!
//! **Fitting.** θ = [c, species_coeffs s, moment_coeffs ξ]. Along a direction ṙ_ij of the neighbour vectors
//! (ṙ_j = u·ṙ_ij, u̇_j = (ṙ_ij − u ṙ_j)/r) the basic moments move as Ṁ_m = Σ_j (f'_μ ṙ_j P_p + f_μ Ṗ_p), and
//! products as Ṁ_i3 += mult (Ṁ_i1 M_i2 + M_i1 Ṁ_i2); Ė_i = Σ_k ξ_k Ṁ_{mapping[k]}. The gradient of
//! S = a·E_i + Ė_i is reverse mode over that forward tangent: seeds λ_m = a ξ_k, λ̇_m = ξ_k at m = mapping[k];
//! through each product, λ̇_i1 += mult λ̇_i3 M_i2, λ_i1 += mult (λ_i3 M_i2 + λ̇_i3 Ṁ_i2) (and i1 ↔ i2); then
//! ∂S/∂c[t_i][t_j][μ][k] = Σ_j [α_μj Q_k(r_j) + β_μj Q'_k(r_j)] with α_μj = Σ_{m∈μ} (λ_m P_p + λ̇_m Ṗ_p) and
//! β_μj = Σ_{m∈μ} λ̇_m ṙ_j P_p; ∂S/∂ξ_k = a M_{mapping[k]} + Ṁ_{mapping[k]}, ∂S/∂s_{t_i} = a. These kernels
//! live in the `fitting` submodule.

mod fitting;

use crate::mtp::file::MtpParameters;
pub(crate) use fitting::{FitSites, FitWork};
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
    /// The same coefficients as vectors over μ, c[t_i][t_j][k][μ], μ padded with zeros to `radial_width`
    /// (a multiple of [`RADIAL_CHUNK`]): what [`MulAdd::radial_rows`] runs on.
    radial_vectors: Vec<f64>,
    radial_width: usize,
    moments_count: usize,
    /// Per basic moment: (radial function μ, monomial index p).
    basic: Vec<(usize, usize)>,
    /// Monomials u^(a,b,c) by degree; monomial p > 0 is u[axis] · monomial parent.
    monomials: Vec<Monomial>,
    /// The gradient's terms (m, p) of each radial function μ, as [`Run`]s (a = m, b = p), split into those
    /// that start h_p (the first basic moment on monomial p, in order of μ) and those that add to it:
    /// `h_runs[h_runs_start[2μ]..h_runs_start[2μ + 1]]` start, `h_runs[h_runs_start[2μ + 1]..
    /// h_runs_start[2μ + 2]]` add.
    h_runs: Vec<Run>,
    h_runs_start: Vec<usize>,
    /// The monomials on which no basic moment sits (h_p = 0 there).
    bare_monomials: Vec<usize>,
    /// The basic moments (m, p) of each radial function μ in file order, as [`Run`]s (a = m, b = p):
    /// `radial_runs[radial_runs_start[μ]..radial_runs_start[μ + 1]]`.
    radial_runs: Vec<Run>,
    radial_runs_start: Vec<usize>,
    /// The edges (q, parent) of every monomial q > 0, P_q = u_axis · P_parent, as (axis, [`Run`]) with
    /// a = q, b = parent, ordered by the degree of q and then by axis (each run on one axis and one degree,
    /// its parents all below its first q; checked in [`Model::new`]).
    monomial_runs: Vec<(usize, Run)>,
    /// Products (i1, i2, multiplicity, i3).
    products: Vec<(usize, usize, f64, usize)>,
    /// Where each moment k enters the products, for the reverse sweep: (i3, other factor, multiplicity) of
    /// every product M_i3 += mult · M_k · M_other (a square M_k · M_k listed twice):
    /// `uses[uses_start[k]..uses_start[k + 1]]`.
    uses: Vec<(usize, usize, f64)>,
    uses_start: Vec<usize>,
    /// dE/dM before the products: Σ moment_coeffs[k] over mapping[k] = m.
    seed: Vec<f64>,
    pub mapping: Vec<usize>,
    species_coeffs: Vec<f64>,
    moment_coeffs: Vec<f64>,
}

/// `len` consecutive index pairs (a + i, b + i), i < len: a stretch of one of the model's index tables in
/// which both indices step by one, so that the kernels walk their rows in order instead of loading
/// indices (MLIP files list the basic moments of each μ by monomial, so a level-16 model has one run per μ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    a: usize,
    b: usize,
    len: usize,
}

impl Run {
    /// The pairs (a + i, b + i).
    fn pairs(self) -> impl DoubleEndedIterator<Item = (usize, usize)> {
        (0..self.len).map(move |i| (self.a + i, self.b + i))
    }
}

/// `pairs` split, in order, into maximal [`Run`]s.
fn runs(pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (a, b) in pairs {
        match runs.last_mut() {
            Some(run) if run.a + run.len == a && run.b + run.len == b => run.len += 1,
            _ => runs.push(Run { a, b, len: 1 }),
        }
    }
    runs
}

/// The runs of each group of a grouped table (`starts` as from [`group_basic`]), and where each group's
/// runs start (plus the end).
fn grouped_runs(pairs: &[(usize, usize)], starts: &[usize]) -> (Vec<Run>, Vec<usize>) {
    let (mut all, mut run_starts) = (Vec::new(), vec![0]);
    for range in starts.windows(2) {
        all.extend(runs(pairs[range[0]..range[1]].iter().copied()));
        run_starts.push(all.len());
    }
    (all, run_starts)
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
            .collect::<Vec<Monomial>>();
        let basic: Vec<(usize, usize)> = p
            .alpha_index_basic
            .iter()
            .map(|&[mu, a, b, c]| (mu, index_of([a, b, c])))
            .collect();
        let (by_radial, by_radial_start) = group_basic(&basic, p.radial_funcs_count, |(mu, p)| (mu, p));
        let (h_terms, h_terms_start, bare_monomials) = h_terms(&by_radial, &by_radial_start, monomials.len());
        let (radial_runs, radial_runs_start) = grouped_runs(&by_radial, &by_radial_start);
        let (h_runs, h_runs_start) = grouped_runs(&h_terms, &h_terms_start);
        // The kernels read rows along these runs without bounds checks.
        assert!(
            radial_runs
                .iter()
                .chain(&h_runs)
                .all(|r| r.a + r.len <= basic.len() && r.b + r.len <= monomials.len()),
            "basic moments beyond the tables"
        );
        let monomial_runs = monomial_runs(&monomials);
        let products: Vec<(usize, usize, f64, usize)> = p
            .alpha_index_times
            .iter()
            .map(|&[i1, i2, mult, i3]| (i1, i2, mult as f64, i3))
            .collect();
        // The product kernels read moment rows without bounds checks.
        assert!(
            products
                .iter()
                .all(|&(i1, i2, _, i3)| i1.max(i2).max(i3) < p.alpha_moments_count),
            "product indices beyond the moments"
        );
        let (uses, uses_start) = product_uses(&products, p.alpha_moments_count);
        let moment_coeffs = p.moment_coeffs.clone().unwrap_or_default();
        let radial_width = p.radial_funcs_count.next_multiple_of(RADIAL_CHUNK);
        let radial_vectors = radial_vectors(
            p.radial_coeffs.as_deref().unwrap_or_default(),
            p.radial_funcs_count,
            p.radial_basis_size,
            radial_width,
        );
        let mut seed = vec![0.0; p.alpha_moments_count];
        for (&m, &c) in p.alpha_moment_mapping.iter().zip(&moment_coeffs) {
            seed[m] += c;
        }
        Model {
            species_count: p.species_count,
            min_dist: p.min_dist,
            max_dist: p.max_dist,
            scaling: p.scaling.unwrap_or(1.0),
            basis_size: p.radial_basis_size,
            radial_count: p.radial_funcs_count,
            radial_coeffs: p.radial_coeffs.clone().unwrap_or_default(),
            radial_vectors,
            radial_width,
            moments_count: p.alpha_moments_count,
            basic,
            monomials,
            h_runs,
            h_runs_start,
            bare_monomials,
            radial_runs,
            radial_runs_start,
            monomial_runs,
            products,
            uses,
            uses_start,
            seed,
            mapping: p.alpha_moment_mapping.clone(),
            species_coeffs: p.species_coeffs.clone().unwrap_or_default(),
            moment_coeffs,
        }
    }

    pub fn has_radial_coeffs(&self) -> bool {
        !self.radial_coeffs.is_empty()
    }

    pub fn has_energy_coeffs(&self) -> bool {
        !self.species_coeffs.is_empty() && !self.moment_coeffs.is_empty()
    }

    /// The coefficient vectors c[t_i][t_j][k][·] of one pair of types (`radial_width` values per k).
    #[inline(always)]
    fn radial_vectors(&self, centre: usize, neighbour: usize) -> &[f64] {
        let len = self.basis_size * self.radial_width;
        let start = (centre * self.species_count + neighbour) * len;
        &self.radial_vectors[start..start + len]
    }

    /// The basic moments (m, p) on radial function μ, in file order.
    fn radial_terms(&self, mu: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.radial_runs[self.radial_runs_start[mu]..self.radial_runs_start[mu + 1]]
            .iter()
            .flat_map(|run| run.pairs())
    }

    /// The radial coefficients c[t_i][t_j][·][·] of one pair of types.
    fn radial_block(&self, centre: usize, neighbour: usize) -> &[f64] {
        let start = self.radial_block_start(centre, neighbour);
        &self.radial_coeffs[start..start + self.radial_count * self.basis_size]
    }
}

/// Where each group of coefficients sits in the flat parameter vector θ of a fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParameterOffsets {
    /// Start of species_coeffs (the radial coefficients c[t_i][t_j][μ][k] come first, from 0).
    pub species: usize,
    /// Start of moment_coeffs.
    pub moments: usize,
    /// Length of θ.
    pub len: usize,
}

impl Model {
    /// θ = [radial_coeffs (file order), species_coeffs, moment_coeffs].
    pub fn parameter_offsets(&self) -> ParameterOffsets {
        let radial = self.species_count * self.species_count * self.radial_count * self.basis_size;
        let moments = radial + self.species_count;
        ParameterOffsets {
            species: radial,
            moments,
            len: moments + self.mapping.len(),
        }
    }

    /// Index in θ (and in radial_coeffs) of c[centre][neighbour][0][0].
    fn radial_block_start(&self, centre: usize, neighbour: usize) -> usize {
        (centre * self.species_count + neighbour) * self.radial_count * self.basis_size
    }

    /// The radial basis Q_k(r) = scaling·T_k(s)·(max_dist − r)² and dQ_k/dr at distance r, using the two
    /// buffers (length basis_size) for the Chebyshev values; returns (Q, dQ/dr) in the same buffers.
    #[inline(always)]
    pub(super) fn radial_basis<'b>(
        &self,
        r: f64,
        values: &'b mut [f64],
        derivatives: &'b mut [f64],
    ) -> (&'b [f64], &'b [f64]) {
        let width = self.max_dist - self.min_dist;
        chebyshev(self.chebyshev_argument(r), values, derivatives);
        let (envelope, envelope_derivative) = self.envelope(r);
        for (t, dt) in values.iter_mut().zip(derivatives.iter_mut()) {
            *dt = *dt * 2.0 / width * envelope + *t * envelope_derivative;
            *t *= envelope;
        }
        (values, derivatives)
    }

    /// The Chebyshev argument s = (2r − min_dist − max_dist)/(max_dist − min_dist) at distance r (Å).
    #[inline(always)]
    fn chebyshev_argument(&self, r: f64) -> f64 {
        (2.0 * r - self.min_dist - self.max_dist) / (self.max_dist - self.min_dist)
    }

    /// The envelope e(r) = scaling·(max_dist − r)² of the radial basis and de/dr (1/Å).
    #[inline(always)]
    fn envelope(&self, r: f64) -> (f64, f64) {
        let gap = self.max_dist - r;
        (self.scaling * gap * gap, -2.0 * self.scaling * gap)
    }
}

/// The radial coefficients c[t_i][t_j][μ][k] (`radial` functions, `size` basis functions) rearranged as
/// c[t_i][t_j][k][μ] with μ padded with zeros to `width`.
fn radial_vectors(coefficients: &[f64], radial: usize, size: usize, width: usize) -> Vec<f64> {
    let blocks = coefficients.len() / (radial * size).max(1);
    let mut vectors = vec![0.0; blocks * size * width];
    for (from, to) in coefficients
        .chunks_exact(radial * size)
        .zip(vectors.chunks_exact_mut(size * width))
    {
        for (mu, row) in from.chunks_exact(size).enumerate() {
            for (k, &c) in row.iter().enumerate() {
                to[k * width + mu] = c;
            }
        }
    }
    vectors
}

/// The basic moments grouped by a key: `key((μ, p)) = (group, value)` with group < `groups`; returns the
/// (m, value) of all groups in order, each group in file order, and where each group starts (plus the end).
fn group_basic(
    basic: &[(usize, usize)],
    groups: usize,
    key: impl Fn((usize, usize)) -> (usize, usize),
) -> (Vec<(usize, usize)>, Vec<usize>) {
    let mut grouped = Vec::with_capacity(basic.len());
    let mut starts = vec![0];
    for group in 0..groups {
        grouped.extend(basic.iter().enumerate().filter_map(|(m, &b)| {
            let (g, value) = key(b);
            (g == group).then_some((m, value))
        }));
        starts.push(grouped.len());
    }
    (grouped, starts)
}

/// The terms of h_p = Σ_{m on p} (dE/dM_m) f_μ by radial function μ (see [`Model::h_runs`]), from the
/// basic moments grouped by μ: each μ's terms that start an h_p, then those that add to one, and the
/// monomials no term reaches.
fn h_terms(
    by_radial: &[(usize, usize)],
    by_radial_start: &[usize],
    monomials: usize,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut started = vec![false; monomials];
    let (mut terms, mut starts) = (Vec::with_capacity(by_radial.len()), vec![0]);
    for range in by_radial_start.windows(2) {
        let group = &by_radial[range[0]..range[1]];
        let first: Vec<bool> = group
            .iter()
            .map(|&(_, p)| !std::mem::replace(&mut started[p], true))
            .collect();
        for starting in [true, false] {
            terms.extend(group.iter().zip(&first).filter(|t| *t.1 == starting).map(|t| *t.0));
            starts.push(terms.len());
        }
    }
    let bare = (0..monomials).filter(|&p| !started[p]).collect();
    (terms, starts, bare)
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
    /// Row length of the per-neighbour tables: J rounded up to whole groups of [`LANES`].
    stride: usize,
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
    /// Monomials P_p(u_j), by group of [`LANES`] neighbours: [group · P + p][lane] (P monomials).
    monomial: Vec<[f64; LANES]>,
    /// Partial sums of the basic moments, [m][lane] (in [`Self::compute_basic_moments`]).
    partial_sums: Vec<[f64; DOT_LANES]>,
    /// P_p(u) of one neighbour, [p] (in [`Self::add_retyped_neighbour`]).
    neighbour_monomials: Vec<f64>,
    /// Tables of one group of neighbours in [`Self::gradient`].
    lanes: LaneWork,
    /// Chebyshev values and derivatives, [k][j] (one neighbour's [k] in the MC and fitting paths).
    chebyshev: Vec<f64>,
    chebyshev_derivative: Vec<f64>,
    /// All moments and dE/dM.
    pub moments: Vec<f64>,
    moment_grad: Vec<f64>,
    /// ∂E_i/∂r_ij per neighbour (eV/Å), filled by [`SiteWork::gradient`].
    pub gradient: Vec<Vec3>,
}

impl SiteWork {
    /// Load the neighbours (atom index, r_ij, type) of one centre, keeping those with r < max_dist. Errors
    /// (with the neighbour's atom index) when a neighbour sits on the centre (r = 0).
    #[inline(always)]
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
                self.distance.push(d2);
            }
        }
        // r from r² in a separate pass (vectorised).
        for r in &mut self.distance {
            *r = r.sqrt();
        }
        self.count = self.index.len();
        // Rows of the tables are padded to whole groups of lanes with neighbours at r = max_dist along x,
        // where f_μ = f'_μ = 0 (the envelope vanishes), so padding adds nothing and stays finite.
        self.stride = self.count.next_multiple_of(LANES);
        self.distance.resize(self.stride, model.max_dist);
        Ok(())
    }

    /// Moments of the loaded site for a centre of type `centre` (fills `moments`).
    #[inline(always)]
    pub fn moments(&mut self, model: &Model, centre: usize) {
        self.moments_with::<Separate>(model, centre);
    }

    /// [`Self::moments`] with the radial sums and dot products of `F` (the same sums bit for bit).
    #[inline(always)]
    pub fn moments_with<F: MulAdd>(&mut self, model: &Model, centre: usize) {
        self.compute_basic_moments::<F>(model, centre);
        self.moments.resize(model.moments_count, 0.0);
        products(model, self.moments.as_chunks_mut::<1>().0);
    }

    /// The basic moments of the loaded site (`moments` holds these B values; [`Self::moments_with`] adds
    /// the others): each M_m = Σ_j f_μ(r_j) P_p(u_j): group by group of neighbours, its monomials
    /// ([`group_monomials`]) and then, one radial function μ at a time, their products with f_μ added to
    /// the partial sums of every moment on μ ([`MulAdd::add_group_products`]; the group's tables stay in
    /// L1); then the partial sums of each moment added up ([`dot_finish`]).
    #[inline(always)]
    pub fn compute_basic_moments<F: MulAdd>(&mut self, model: &Model, centre: usize) {
        self.radial_tables::<F>(model, centre);
        let monomials = model.monomials.len();
        self.monomial.resize(self.stride / LANES * monomials, [0.0; LANES]);
        self.partial_sums.clear();
        self.partial_sums.resize(model.basic.len(), [0.0; DOT_LANES]);
        for (g, block) in self.monomial.chunks_exact_mut(monomials).enumerate() {
            let first = g * LANES;
            let rows = GroupInput {
                unit: &self.unit,
                radial: &self.radial,
                stride: self.stride,
                first,
            };
            let sums = &mut self.partial_sums;
            match group_width(self.count - first) {
                QUARTER_LANES => add_group::<F, QUARTER_LANES>(model, &rows, block, sums),
                HALF_LANES => add_group::<F, HALF_LANES>(model, &rows, block, sums),
                _ => add_group::<F, LANES>(model, &rows, block, sums),
            }
        }
        self.moments.clear();
        self.moments.extend(self.partial_sums.iter().map(dot_finish));
    }

    /// P_p(u_j) of neighbour j (< the loaded count) from the site's monomial table.
    pub fn monomial_value(&self, model: &Model, p: usize, j: usize) -> f64 {
        self.monomial[j / LANES * model.monomials.len() + p][j % LANES]
    }

    /// The site energy (eV) from the moments of [`Self::moments`].
    #[inline(always)]
    pub fn energy(&self, model: &Model, centre: usize) -> f64 {
        site_energies(model, &[centre], self.moments.as_chunks::<1>().0)[0]
    }

    /// ∂E_i/∂r_ij for every loaded neighbour into `gradient`, after [`Self::moments`]: dE/dM by
    /// [`reverse_products`], then [`Self::neighbour_gradient`].
    #[inline(always)]
    pub fn gradient<F: MulAdd>(&mut self, model: &Model) {
        self.moment_grad.resize(model.moments_count, 0.0);
        reverse_products::<F, 1>(
            model,
            self.moments.as_chunks::<1>().0,
            self.moment_grad.as_chunks_mut::<1>().0,
        );
        self.neighbour_gradient::<F>(model);
    }

    /// ∂E_i/∂r_ij for every loaded neighbour into `gradient`, given dE/dM in `moment_grad`:
    /// [`LaneWork::gradient`] for each group of [`LANES`] neighbours, on the rows of the site's tables.
    #[inline(always)]
    pub fn neighbour_gradient<F: MulAdd>(&mut self, model: &Model) {
        let (n, stride) = (self.count, self.stride);
        let lanes = &mut self.lanes;
        lanes.h.resize(model.monomials.len(), [0.0; LANES]);
        self.gradient.clear();
        for first in (0..stride).step_by(LANES) {
            let group = GroupRows::new(
                model,
                [&self.radial, &self.radial_derivative],
                &self.monomial,
                stride,
                first,
            );
            let (grad, unit, distance) = (&self.moment_grad, &self.unit, &self.distance);
            let used = LANES.min(n - first);
            let out = &mut self.gradient;
            match group_width(n - first) {
                QUARTER_LANES => out.extend_from_slice(
                    &lanes.gradient::<F, QUARTER_LANES>(model, grad, &group, unit, distance)[..used],
                ),
                HALF_LANES => {
                    out.extend_from_slice(&lanes.gradient::<F, HALF_LANES>(model, grad, &group, unit, distance)[..used])
                }
                _ => out.extend_from_slice(&lanes.gradient::<F, LANES>(model, grad, &group, unit, distance)[..used]),
            }
        }
    }

    /// f_μ and f'_μ for every neighbour, and the unit vectors: T_k(s_j) and T'_k(s_j) row by row
    /// ([`chebyshev_rows`]), then neighbour by neighbour, with the coefficients of its type pair and the
    /// envelope e(r) = scaling·(max_dist − r)², f_μ = e Σ_k c_μk T_k and
    /// f'_μ = e (2/(max_dist − min_dist)) Σ_k c_μk T'_k + e' Σ_k c_μk T_k (the Q_k of [`Model::radial_basis`]
    /// summed with their coefficients; [`MulAdd::radial_rows`]). Padding neighbours get f = f' = 0.
    #[inline(always)]
    fn radial_tables<F: MulAdd>(&mut self, model: &Model, centre: usize) {
        let (count, n) = (self.count, self.stride);
        let size = model.basis_size;
        resize(&mut self.radial, model.radial_count * n);
        resize(&mut self.radial_derivative, model.radial_count * n);
        resize(&mut self.chebyshev, size * n);
        resize(&mut self.chebyshev_derivative, size * n);
        for d in 0..3 {
            resize(&mut self.unit[d], n);
            for (u, (v, &r)) in self.unit[d].iter_mut().zip(self.vector.iter().zip(&self.distance)) {
                *u = v[d] / r;
            }
            self.unit[d][count..].fill(if d == 0 { 1.0 } else { 0.0 });
        }
        chebyshev_rows(
            model,
            &self.distance,
            &mut self.chebyshev,
            &mut self.chebyshev_derivative,
        );
        let site = RadialSite {
            model,
            centre,
            kinds: &self.kind,
            distance: &self.distance,
            chebyshev: ChebyshevRows::new(model, [&self.chebyshev, &self.chebyshev_derivative], n),
            // ds/dr, multiplied rather than divided per value.
            ds_dr: 2.0 / (model.max_dist - model.min_dist),
        };
        F::radial_rows(&site, &mut self.radial, &mut self.radial_derivative);
        // The padding neighbours' f_μ = f'_μ = 0.
        for table in [&mut self.radial, &mut self.radial_derivative] {
            for row in table.chunks_exact_mut(n.max(1)) {
                row[count..].fill(0.0);
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
        chebyshev(
            model.chebyshev_argument(distance),
            &mut self.chebyshev,
            &mut self.chebyshev_derivative,
        );
        let (envelope, _) = model.envelope(distance);
        reset(&mut self.radial, model.radial_count);
        let (before, after) = (model.radial_block(centre, old), model.radial_block(centre, new));
        for (mu, (c_old, c_new)) in before.chunks_exact(size).zip(after.chunks_exact(size)).enumerate() {
            let f_old: f64 = c_old.iter().zip(&self.chebyshev).map(|(c, t)| c * t).sum();
            let f_new: f64 = c_new.iter().zip(&self.chebyshev).map(|(c, t)| c * t).sum();
            self.radial[mu] = (f_new - f_old) * envelope;
        }
        reset(&mut self.neighbour_monomials, model.monomials.len());
        self.neighbour_monomials[0] = 1.0;
        let unit = r.map(|x| x / distance);
        for (p, mono) in model.monomials.iter().enumerate().skip(1) {
            let (axis, parent) = mono.parent;
            self.neighbour_monomials[p] = unit[axis] * self.neighbour_monomials[parent];
        }
        for (m, &(mu, p)) in basic.iter_mut().zip(&model.basic) {
            *m += self.radial[mu] * self.neighbour_monomials[p];
        }
    }

    /// The site energy (eV) of a centre of type `centre` whose basic moments are `basic`: the products in
    /// file order, then E_i as in [`Self::energy`] (fills `moments`). Bit for bit what [`Self::moments`]
    /// and [`Self::energy`] give from the same basic moments (both use [`products`]).
    pub fn energy_from_basic(&mut self, model: &Model, centre: usize, basic: &[f64]) -> f64 {
        self.moments.clear();
        self.moments.extend_from_slice(basic);
        self.moments.resize(model.moments_count, 0.0);
        products(model, self.moments.as_chunks_mut::<1>().0);
        self.energy(model, centre)
    }
}

/// M_i3 += mult · M_i1 · M_i2 for the products in file order, given the basic moments (the others zero),
/// for N sites at once (`moments[m][site]`: one vector operation per product for a batch of sites). Each
/// run of products with the same target M_i3 (the file lists them together) is summed in registers,
/// since its terms read only M_k with k < i3, which saves a store and a load per product; the sums are
/// the same, term by term, as adding each product into M_i3 in turn, and the same for every N.
#[inline(always)]
fn products<const N: usize>(model: &Model, moments: &mut [[f64; N]]) {
    assert_eq!(moments.len(), model.moments_count, "a row of every moment");
    let mut target = None;
    let mut sum = [0.0; N];
    for &(i1, i2, mult, i3) in &model.products {
        if target != Some(i3) {
            if let Some(t) = target {
                moments[t] = sum;
            }
            target = Some(i3);
            sum = moments[i3];
        }
        // SAFETY: i1, i2 < moments_count = moments.len() (checked above and in `Model::new`).
        let (a, b) = unsafe { (moments.get_unchecked(i1), moments.get_unchecked(i2)) };
        for l in 0..N {
            sum[l] += mult * a[l] * b[l];
        }
    }
    if let Some(t) = target {
        moments[t] = sum;
    }
}

/// dE/dM of N sites (`grad[m][site]`, overwritten) from their moments, by reverse mode through the
/// products: dE/dM_k = seed_k + Σ_{uses of k} mult · dE/dM_i3 · M_other, taken for k from the last moment
/// down, so each dE/dM_i3 it reads (i3 > k) is final. Each moment's sum stays in registers (no stores
/// and reloads of partial sums from one product to the next).
#[inline(always)]
fn reverse_products<F: MulAdd, const N: usize>(model: &Model, moments: &[[f64; N]], grad: &mut [[f64; N]]) {
    assert!(
        moments.len() == model.moments_count && grad.len() == model.moments_count,
        "a row of every moment"
    );
    // SAFETY (`row`): every use (i3, other) of the model has i3, other < moments_count (checked in
    // `Model::new`), the length of both tables (checked above).
    let row = |table: &[[f64; N]], m: usize| unsafe { *table.get_unchecked(m) };
    for k in (0..grad.len()).rev() {
        // Two interleaved partial sums halve the chain of dependent multiply-adds (one site alone is
        // latency-bound here).
        let (mut even, mut odd) = ([model.seed[k]; N], [0.0; N]);
        let (pairs, last) = model.uses[model.uses_start[k]..model.uses_start[k + 1]].as_chunks::<2>();
        for [(i3, other, mult), (i3_next, other_next, mult_next)] in pairs {
            let (g, m) = (row(grad, *i3), row(moments, *other));
            let (g_next, m_next) = (row(grad, *i3_next), row(moments, *other_next));
            for l in 0..N {
                even[l] = F::mul_add(mult * g[l], m[l], even[l]);
                odd[l] = F::mul_add(mult_next * g_next[l], m_next[l], odd[l]);
            }
        }
        for &(i3, other, mult) in last {
            let (g, m) = (row(grad, i3), row(moments, other));
            for l in 0..N {
                even[l] = F::mul_add(mult * g[l], m[l], even[l]);
            }
        }
        for l in 0..N {
            even[l] += odd[l];
        }
        grad[k] = even;
    }
}

/// The uses of each moment in `products` (see [`Model::uses`]), each moment's in file order, and where
/// each moment's list starts (plus the end).
fn product_uses(products: &[(usize, usize, f64, usize)], moments: usize) -> (Vec<(usize, usize, f64)>, Vec<usize>) {
    let mut starts = vec![0; moments + 1];
    for &(i1, i2, _, _) in products {
        starts[i1 + 1] += 1;
        starts[i2 + 1] += 1;
    }
    for k in 0..moments {
        starts[k + 1] += starts[k];
    }
    let mut next = starts.clone();
    let mut uses = vec![(0, 0, 0.0); starts[moments]];
    for &(i1, i2, mult, i3) in products {
        for (k, other) in [(i1, i2), (i2, i1)] {
            uses[next[k]] = (i3, other, mult);
            next[k] += 1;
        }
    }
    (uses, starts)
}

/// E_i = species_coeffs[t_i] + Σ_k moment_coeffs[k] · M_{mapping[k]} (eV) of N sites at once
/// (`moments[m][site]`, centres of types `centres`), the sum in order of k from 0: the same bits for
/// every N.
#[inline(always)]
fn site_energies<const N: usize>(model: &Model, centres: &[usize], moments: &[[f64; N]]) -> [f64; N] {
    let mut linear = [0.0; N];
    for (&m, &c) in model.mapping.iter().zip(&model.moment_coeffs) {
        let row = &moments[m];
        for l in 0..N {
            linear[l] += c * row[l];
        }
    }
    let mut energies = [0.0; N];
    for ((energy, &centre), sum) in energies.iter_mut().zip(centres).zip(linear) {
        *energy = model.species_coeffs[centre] + sum;
    }
    energies
}

/// Sites evaluated together by [`SiteBatch`]: two AVX registers of f64 per moment (8 rather than 4 sites
/// spreads the loop and index overhead of the products over more sites: callgrind −4 % instructions per
/// atom; 16 gains another 2 %, for twice the site tables per thread).
pub(crate) const BATCH: usize = 8;

/// The moments and dE/dM of up to [`BATCH`] sites, `[m][site]`, so that the products and their reverse
/// sweep, which are the same for every site, run once per batch in vector registers.
#[derive(Default)]
pub(crate) struct SiteBatch {
    moments: Vec<[f64; BATCH]>,
    moment_grad: Vec<[f64; BATCH]>,
}

impl SiteBatch {
    /// Start a batch: all moments zero.
    #[inline(always)]
    pub fn clear(&mut self, model: &Model) {
        self.moments.clear();
        self.moments.resize(model.moments_count, [0.0; BATCH]);
    }

    /// Take the basic moments of the site loaded in `work` (after [`SiteWork::compute_basic_moments`]) as
    /// site `lane` of the batch.
    #[inline(always)]
    pub fn set_basic(&mut self, model: &Model, lane: usize, work: &SiteWork) {
        for (m, &value) in self.moments.iter_mut().zip(work.basic_moments(model)) {
            m[lane] = value;
        }
    }

    /// All moments from the basic ones.
    #[inline(always)]
    pub fn products(&mut self, model: &Model) {
        products(model, &mut self.moments);
    }

    /// The site energies (eV) of the sites of the batch, centres of types `centres` (one per site in
    /// use; the other lanes are zero), after [`Self::products`]; bit for bit [`SiteWork::energy`].
    #[inline(always)]
    pub fn energies(&self, model: &Model, centres: &[usize]) -> [f64; BATCH] {
        site_energies(model, centres, &self.moments)
    }

    /// dE/dM of every site of the batch, after [`Self::products`].
    #[inline(always)]
    pub fn reverse<F: MulAdd>(&mut self, model: &Model) {
        self.moment_grad.resize(model.moments_count, [0.0; BATCH]);
        reverse_products::<F, BATCH>(model, &self.moments, &mut self.moment_grad);
    }

    /// Copy dE/dM of the basic moments of site `lane` (after [`Self::reverse`]) into `work`, for
    /// [`SiteWork::neighbour_gradient`] (which reads no other).
    #[inline(always)]
    pub fn give_moment_grad(&self, model: &Model, lane: usize, work: &mut SiteWork) {
        work.moment_grad.clear();
        work.moment_grad
            .extend(self.moment_grad[..model.basic.len()].iter().map(|g| g[lane]));
    }
}

/// Radial functions per AVX register in [`MulAdd::radial_rows`].
const RADIAL_CHUNK: usize = 4;

/// Partial sums per basic moment (one AVX register), see [`MulAdd::add_group_products`].
const DOT_LANES: usize = 4;

/// Neighbours handled together by [`SiteWork::gradient`]: its per-neighbour tables are arrays of this many
/// lanes, small enough to stay in L1 and vectorised across neighbours; 16 rather than 8 halves the loop
/// overhead per neighbour (index loads, bounds checks) for the same arithmetic.
const LANES: usize = 16;

/// The lanes of a half and a quarter group, on which a site's last group of neighbours runs when no
/// more are left ([`group_width`]).
const HALF_LANES: usize = LANES / 2;
const QUARTER_LANES: usize = LANES / 4;

/// The lanes a group runs on when `left` neighbours are left from its first: a quarter or a half group
/// when they fit, else a whole one (the LSTZ0.75 cell's 48.2 neighbours per site take 50.5 lanes rather
/// than 58.4 in whole groups).
#[inline(always)]
fn group_width(left: usize) -> usize {
    if left <= QUARTER_LANES {
        QUARTER_LANES
    } else if left <= HALF_LANES {
        HALF_LANES
    } else {
        LANES
    }
}

/// The tables of [`LaneWork::gradient`], one row of [`LANES`] neighbours per quantity.
#[derive(Default)]
struct LaneWork {
    /// h_p, then h_p plus the adjoint from the monomials built on p, [p][lane].
    h: Vec<[f64; LANES]>,
}

impl LaneWork {
    /// ∂E_i/∂r_ij of one group of neighbours from their f_μ, f'_μ and P_p (rows of `group`), the unit
    /// vectors and 1/r (module doc): A = Σ_μ f'_μ S_μ; C = ∇_u Σ_p h_p P_p by reverse mode through
    /// P_q = u_axis · P_p (from the last monomial down, P̄_p = h_p + Σ_{children q} u_axis P̄_q, then
    /// C_axis = Σ_q P̄_q P_p); and B = u·C by Euler's relation.
    ///
    /// Runs on the first N lanes of the group (N = [`LANES`], or fewer for a last group, see
    /// [`group_width`]); `unit` and `distance` are the site's rows. The rows h_p and dE/dM_m are read
    /// without bounds checks: `h` and `moment_grad` are checked to hold P rows and the B basic moments,
    /// and the indices come from the model's tables (monomial indices below P, basic moments below B).
    #[inline(always)]
    fn gradient<F: MulAdd, const N: usize>(
        &mut self,
        model: &Model,
        moment_grad: &[f64],
        group: &GroupRows,
        unit: &[Vec<f64>; 3],
        distance: &[f64],
    ) -> [Vec3; N] {
        let unit: [[f64; N]; 3] = unit_lanes(unit, group.first);
        let mut inv_r: [f64; N] = lanes_from(distance, group.first);
        for r in &mut inv_r {
            *r = 1.0 / *r;
        }
        assert!(
            self.h.len() == model.monomials.len() && moment_grad.len() >= model.basic.len(),
            "gradient tables shorter than the model's"
        );
        let h = self.h.as_mut_ptr();
        // SAFETY (every `h_row(p)` and `grad_of(m)` below): p < P = h.len() and m < B ≤ moment_grad.len()
        // (checked above; the indices come from the model's tables of basic moments), and no two live
        // references to rows of `h` point at the same row.
        let h_row = |p: usize| {
            assert_row(p, model.monomials.len());
            unsafe { &mut *h.add(p).cast::<[f64; N]>() }
        };
        let grad_of = |m: usize| {
            assert_row(m, model.basic.len());
            unsafe { *moment_grad.get_unchecked(m) }
        };
        for &p in &model.bare_monomials {
            *h_row(p) = [0.0; N];
        }
        // One radial function at a time, f_μ and S_μ in registers: S_μ += (dE/dM_m) P_p and h_p (+)=
        // (dE/dM_m) f_μ for each of its moments m = {μ, p}, then A += f'_μ S_μ.
        let mut a = [0.0; N];
        for mu in 0..model.radial_count {
            let f = group.radial::<N>(mu);
            let mut s = [0.0; N];
            let bounds = &model.h_runs_start[2 * mu..2 * mu + 3];
            for run in &model.h_runs[bounds[0]..bounds[1]] {
                for (m, p) in run.pairs() {
                    let g = grad_of(m);
                    add_scaled::<F, N>(&mut s, g, group.monomial(p));
                    *h_row(p) = scaled(g, f);
                }
            }
            for run in &model.h_runs[bounds[1]..bounds[2]] {
                for (m, p) in run.pairs() {
                    let g = grad_of(m);
                    add_scaled::<F, N>(&mut s, g, group.monomial(p));
                    add_scaled::<F, N>(h_row(p), g, f);
                }
            }
            add_product::<F, N>(&mut a, group.radial_derivative(mu), &s);
        }
        // From the last monomial down, each P̄_q is final (its children, of higher degree, come later in
        // the runs): it is pushed into its parent's, and C_axis += P̄_q P_parent (each run on one axis, its
        // sum in registers).
        let mut c = [[0.0; N]; 3];
        for &(axis, run) in model.monomial_runs.iter().rev() {
            // SAFETY: axis < 3 (checked in `Model::new`).
            let (u, sum) = unsafe { (*unit.get_unchecked(axis), c.get_unchecked_mut(axis)) };
            let mut c_axis = *sum;
            for (q, parent) in run.pairs().rev() {
                let h_q = *h_row(q);
                add_product::<F, N>(h_row(parent), &h_q, &u);
                add_product::<F, N>(&mut c_axis, &h_q, group.monomial(parent));
            }
            *sum = c_axis;
        }
        let mut gradient = [[0.0; 3]; N];
        for (l, g) in gradient.iter_mut().enumerate() {
            let b = unit[0][l] * c[0][l] + unit[1][l] * c[1][l] + unit[2][l] * c[2][l];
            let along = a[l] - b * inv_r[l];
            for d in 0..3 {
                g[d] = along * unit[d][l] + c[d][l] * inv_r[l];
            }
        }
        gradient
    }
}

/// One group of [`LANES`] neighbours (from `first`) in the tables of a site: the radial tables' rows
/// have length `stride`; the monomial table holds a block of P rows per group. The row accessors read
/// without bounds checks (the gradient's hottest loops): [`GroupRows::new`] checks that the radial
/// tables hold their whole rows, that the group lies within a row and that the group's monomial block
/// is whole, and the row indices come from the [`Model`]'s index tables, which hold only
/// μ < radial_count and monomial indices below P (the file check and [`Model::new`] guarantee both).
struct GroupRows<'a> {
    stride: usize,
    first: usize,
    radial_rows: usize,
    /// f_μ, f'_μ, [μ][j].
    radial: &'a [f64],
    radial_derivative: &'a [f64],
    /// P_p(u_j) of the group, [p][lane].
    monomials: &'a [[f64; LANES]],
}

impl<'a> GroupRows<'a> {
    /// The group of neighbours `first..first + LANES` in a site's tables [f_μ, f'_μ] (rows of length
    /// `stride`) and its block of the site's monomial table (after the site's moments).
    #[inline(always)]
    fn new(
        model: &Model,
        [radial, radial_derivative]: [&'a [f64]; 2],
        monomial_table: &'a [[f64; LANES]],
        stride: usize,
        first: usize,
    ) -> Self {
        let radial_rows = model.radial_count;
        assert!(
            first + LANES <= stride
                && first.is_multiple_of(LANES)
                && radial.len() >= radial_rows * stride
                && radial_derivative.len() >= radial_rows * stride,
            "site tables shorter than their rows"
        );
        let monomials = model.monomials.len();
        let block = first / LANES * monomials;
        GroupRows {
            stride,
            first,
            radial_rows,
            radial,
            radial_derivative,
            monomials: &monomial_table[block..block + monomials],
        }
    }

    /// The group's f_μ (μ < radial_count).
    #[inline(always)]
    fn radial<const N: usize>(&self, mu: usize) -> &'a [f64; N] {
        assert_row(mu, self.radial_rows);
        // SAFETY: mu < radial_rows, and `new` checked the table and the group (type doc).
        unsafe { self.row(self.radial, mu) }
    }

    /// The group's f'_μ (μ < radial_count).
    #[inline(always)]
    fn radial_derivative<const N: usize>(&self, mu: usize) -> &'a [f64; N] {
        assert_row(mu, self.radial_rows);
        // SAFETY: as in `radial`.
        unsafe { self.row(self.radial_derivative, mu) }
    }

    /// The group's first N lanes (N ≤ [`LANES`]) of P_p (p below the number of monomials).
    #[inline(always)]
    fn monomial<const N: usize>(&self, p: usize) -> &'a [f64; N] {
        const { assert!(N <= LANES) };
        assert_row(p, self.monomials.len());
        // SAFETY: p < monomials.len() (type doc), and N ≤ LANES.
        unsafe { &*self.monomials.as_ptr().add(p).cast::<[f64; N]>() }
    }

    /// The group's first N lanes (N ≤ [`LANES`]) of row `row` of `table`.
    ///
    /// # Safety
    /// `table` holds at least (row + 1) · stride values (so does every table `new` checked, for a row
    /// below its row count), and first + LANES ≤ stride.
    #[inline(always)]
    unsafe fn row<const N: usize>(&self, table: &'a [f64], row: usize) -> &'a [f64; N] {
        const { assert!(N <= LANES) };
        // SAFETY: row · stride + first + N ≤ (row + 1) · stride ≤ table.len().
        unsafe { &*table.as_ptr().add(row * self.stride + self.first).cast::<[f64; N]>() }
    }
}

/// In debug builds, that a row index read from the model's tables is below the table's row count (the
/// model's invariant, see [`GroupRows`]).
#[inline(always)]
fn assert_row(row: usize, rows: usize) {
    debug_assert!(row < rows, "row {row} of {rows}");
}

/// How the kernels do their arithmetic. The gradient's a·b + c: [`Separate`] rounds the product and the
/// sum (any CPU), [`Fused`] rounds once (only inside functions compiled with the `fma` target feature,
/// where it is one instruction; elsewhere it would call the slow software fma). The radial values and
/// the basic moments' products: the same sums on both, [`Fused`] in AVX registers.
pub(crate) trait MulAdd {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;

    /// f_μ and f'_μ of every neighbour j < count of a site into `radial[μ · stride + j]` and
    /// `radial_derivative[μ · stride + j]` (μ < radial_count; lanes from count up to the next multiple of
    /// 4 may be written too): f_μ = (Σ_k c_kμ T_k) e and f'_μ = (Σ_k c_kμ T'_k) (ds/dr) e + (Σ_k c_kμ T_k) e',
    /// the sums in order of k; the same values bit for bit as [`radial_rows`].
    fn radial_rows(site: &RadialSite, radial: &mut [f64], radial_derivative: &mut [f64]);

    /// For each basic moment (m, p) of the `runs`, add the products f_l P_p,l of the group's first N lanes
    /// (N = 4, 8 or 16; the others are padding, f = 0) to its [`DOT_LANES`] partial sums: lane l to sum
    /// l mod 4, in order of l (the same sums bit for bit as [`add_group_products`]).
    ///
    /// # Safety
    /// Every run has a + len ≤ partial.len() and b + len ≤ block.len().
    unsafe fn add_group_products<const N: usize>(
        partial: &mut [[f64; DOT_LANES]],
        runs: &[Run],
        f: &[f64; LANES],
        block: &[[f64; LANES]],
    );
}

/// a·b + c rounded twice.
pub(crate) struct Separate;

/// a·b + c rounded once (x86 AVX2 and FMA).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Fused;

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }

    #[inline(always)]
    fn radial_rows(site: &RadialSite, radial: &mut [f64], radial_derivative: &mut [f64]) {
        radial_rows(site, radial, radial_derivative);
    }

    #[inline(always)]
    unsafe fn add_group_products<const N: usize>(
        partial: &mut [[f64; DOT_LANES]],
        runs: &[Run],
        f: &[f64; LANES],
        block: &[[f64; LANES]],
    ) {
        add_group_products::<N>(partial, runs, f, block);
    }
}

#[cfg(target_arch = "x86_64")]
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    /// [`radial_rows`] four neighbours at a time, each chunk of [`RADIAL_CHUNK`] radial functions of a
    /// neighbour in an AVX register; the four registers of a chunk transposed (μ by neighbour) are stored
    /// as rows.
    #[inline(always)]
    fn radial_rows(site: &RadialSite, radial: &mut [f64], radial_derivative: &mut [f64]) {
        use std::arch::x86_64::{
            _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd, _mm256_storeu_pd,
        };
        let (model, chebyshev) = (site.model, &site.chebyshev);
        let (width, size, stride, rows) = (
            model.radial_width,
            model.basis_size,
            chebyshev.stride,
            model.radial_count,
        );
        let count = site.kinds.len();
        assert!(
            width.is_multiple_of(RADIAL_CHUNK)
                && rows <= width
                && count.next_multiple_of(4) <= stride
                && site.distance.len() >= stride
                && radial.len() >= rows * stride
                && radial_derivative.len() >= rows * stride,
            "radial tables shorter than the site's rows"
        );
        let ds_dr = site.ds_dr;
        for first in (0..count.div_ceil(4)).map(|quad| 4 * quad) {
            // Lanes beyond the neighbours take the last neighbour's coefficients and their own padding
            // distance (max_dist: e = e' = 0).
            // (Written out: `[T; 4]::map` is not inlined here.)
            let coefficients_of = |j: usize| site.coefficients(j.min(count - 1)).as_ptr();
            let coefficients = [
                coefficients_of(first),
                coefficients_of(first + 1),
                coefficients_of(first + 2),
                coefficients_of(first + 3),
            ];
            let envelope_of = |j: usize| model.envelope(site.distance[j]);
            let envelope = [
                envelope_of(first),
                envelope_of(first + 1),
                envelope_of(first + 2),
                envelope_of(first + 3),
            ];
            // SAFETY: AVX2 (as in `add_group_products`); the coefficient loads read RADIAL_CHUNK values at
            // k · width + chunk < size · width (the length of a pair's coefficients); the Chebyshev reads
            // are at k · stride + first + l < size · stride (first + 4 ≤ stride, checked above, and the
            // rows' length checked in `ChebyshevRows::new`); the stores write rows μ < rows at
            // μ · stride + first .. + 4 ≤ rows · stride.
            unsafe {
                for chunk in (0..width / RADIAL_CHUNK).map(|c| c * RADIAL_CHUNK) {
                    let (mut value, mut derivative) = ([_mm256_setzero_pd(); 4], [_mm256_setzero_pd(); 4]);
                    for k in 0..size {
                        let at = k * stride + first;
                        let (t, dt) = (
                            chebyshev.values.as_ptr().add(at),
                            chebyshev.derivatives.as_ptr().add(at),
                        );
                        for l in 0..4 {
                            let c = _mm256_loadu_pd(coefficients[l].add(k * width + chunk));
                            value[l] = _mm256_add_pd(value[l], _mm256_mul_pd(c, _mm256_set1_pd(*t.add(l))));
                            derivative[l] = _mm256_add_pd(derivative[l], _mm256_mul_pd(c, _mm256_set1_pd(*dt.add(l))));
                        }
                    }
                    let (mut f, mut df) = (value, derivative);
                    for l in 0..4 {
                        let (e, de) = (_mm256_set1_pd(envelope[l].0), _mm256_set1_pd(envelope[l].1));
                        let along = _mm256_mul_pd(_mm256_mul_pd(derivative[l], _mm256_set1_pd(ds_dr)), e);
                        df[l] = _mm256_add_pd(along, _mm256_mul_pd(value[l], de));
                        f[l] = _mm256_mul_pd(value[l], e);
                    }
                    for (table, by_neighbour) in [(&mut *radial, f), (&mut *radial_derivative, df)] {
                        for (i, row) in transpose4(by_neighbour).into_iter().enumerate() {
                            if chunk + i < rows {
                                _mm256_storeu_pd(table.as_mut_ptr().add((chunk + i) * stride + first), row);
                            }
                        }
                    }
                }
            }
        }
    }

    /// [`add_group_products`] with each moment's partial sums in an AVX register and the group's f in
    /// N/4.
    #[inline(always)]
    unsafe fn add_group_products<const N: usize>(
        partial: &mut [[f64; DOT_LANES]],
        runs: &[Run],
        f: &[f64; LANES],
        block: &[[f64; LANES]],
    ) {
        use std::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_storeu_pd};
        const { assert!(N == QUARTER_LANES || N == HALF_LANES || N == LANES) };
        // SAFETY: `Fused` is only used inside functions compiled with the avx2 and fma target features
        // (`Mtp::compute_block_avx2`), on CPUs that have them; a + len ≤ partial.len() and b + len ≤
        // block.len() (the caller's contract); every load and store reads or writes 4 values of a row of
        // 4 or 16, N ≤ 16.
        unsafe {
            let f = [
                _mm256_loadu_pd(f.as_ptr()),
                _mm256_loadu_pd(f[4..].as_ptr()),
                _mm256_loadu_pd(f[8..].as_ptr()),
                _mm256_loadu_pd(f[12..].as_ptr()),
            ];
            for run in runs {
                let (sums, rows) = (partial.as_mut_ptr().add(run.a), block.as_ptr().add(run.b));
                for i in 0..run.len {
                    let (sum, x) = ((*sums.add(i)).as_mut_ptr(), (*rows.add(i)).as_ptr());
                    let mut total = _mm256_loadu_pd(sum);
                    for (v, f) in f.iter().enumerate().take(N / 4) {
                        total = _mm256_add_pd(total, _mm256_mul_pd(*f, _mm256_loadu_pd(x.add(4 * v))));
                    }
                    _mm256_storeu_pd(sum, total);
                }
            }
        }
    }
}

/// The 4 × 4 matrix of four AVX registers (rows) transposed: result i holds lane i of each row.
///
/// # Safety
/// AVX (inlined into functions compiled with the avx2 target feature).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose4(rows: [std::arch::x86_64::__m256d; 4]) -> [std::arch::x86_64::__m256d; 4] {
    use std::arch::x86_64::{_mm256_permute2f128_pd, _mm256_unpackhi_pd, _mm256_unpacklo_pd};
    // (r0[0] r1[0] r0[2] r1[2]), (r0[1] r1[1] r0[3] r1[3]), and the same of rows 2 and 3; then the low
    // and the high halves joined.
    // SAFETY: AVX (the caller's contract).
    unsafe {
        let (low01, high01) = (
            _mm256_unpacklo_pd(rows[0], rows[1]),
            _mm256_unpackhi_pd(rows[0], rows[1]),
        );
        let (low23, high23) = (
            _mm256_unpacklo_pd(rows[2], rows[3]),
            _mm256_unpackhi_pd(rows[2], rows[3]),
        );
        [
            _mm256_permute2f128_pd::<0x20>(low01, low23),
            _mm256_permute2f128_pd::<0x20>(high01, high23),
            _mm256_permute2f128_pd::<0x31>(low01, low23),
            _mm256_permute2f128_pd::<0x31>(high01, high23),
        ]
    }
}

/// sum_l += g · x_l lane by lane.
#[inline(always)]
fn add_scaled<F: MulAdd, const N: usize>(sum: &mut [f64; N], g: f64, x: &[f64; N]) {
    for l in 0..N {
        sum[l] = F::mul_add(g, x[l], sum[l]);
    }
}

/// sum_l += x_l · y_l lane by lane.
#[inline(always)]
fn add_product<F: MulAdd, const N: usize>(sum: &mut [f64; N], x: &[f64; N], y: &[f64; N]) {
    for l in 0..N {
        sum[l] = F::mul_add(x[l], y[l], sum[l]);
    }
}

/// The N values of `row` from `first` (N = [`LANES`] unless the caller says otherwise).
#[inline(always)]
fn lanes_from<const N: usize>(row: &[f64], first: usize) -> [f64; N] {
    row[first..first + N].try_into().expect("N values")
}

/// The N lanes from `first` of the three unit-vector rows.
#[inline(always)]
fn unit_lanes<const N: usize>(unit: &[Vec<f64>; 3], first: usize) -> [[f64; N]; 3] {
    [
        lanes_from(&unit[0], first),
        lanes_from(&unit[1], first),
        lanes_from(&unit[2], first),
    ]
}

/// g · x_l lane by lane.
#[inline(always)]
fn scaled<const N: usize>(g: f64, x: &[f64; N]) -> [f64; N] {
    let mut product = [0.0; N];
    for l in 0..N {
        product[l] = g * x[l];
    }
    product
}

/// x_l · y_l lane by lane.
#[inline(always)]
fn mul<const N: usize>(x: &[f64; N], y: &[f64; N]) -> [f64; N] {
    let mut product = [0.0; N];
    for l in 0..N {
        product[l] = x[l] * y[l];
    }
    product
}

/// T_k(s) and dT_k/ds for k < values.len() (Chebyshev polynomials of the first kind).
#[inline(always)]
fn chebyshev(s: f64, values: &mut [f64], derivatives: &mut [f64]) {
    // (T_k, T_{k+1}) and their derivatives, stepped by T_{k+2} = 2s T_{k+1} − T_k.
    let (mut t, mut dt) = ((1.0, s), (0.0, 1.0));
    for (value, derivative) in values.iter_mut().zip(derivatives.iter_mut()) {
        *value = t.0;
        *derivative = dt.0;
        let next = 2.0 * s * t.1 - t.0;
        let next_derivative = 2.0 * t.1 + 2.0 * s * dt.1 - dt.0;
        (t, dt) = ((t.1, next), (dt.1, next_derivative));
    }
}

/// T_k(s_j) and dT_k/ds (into rows k·J..(k + 1)·J of `values`, `derivatives`) at
/// s_j = (2r_j − min_dist − max_dist)/(max_dist − min_dist) for every distance, by the recursion of
/// [`chebyshev`], row after row (vectorised across neighbours).
#[inline(always)]
fn chebyshev_rows(model: &Model, distance: &[f64], values: &mut [f64], derivatives: &mut [f64]) {
    let n = distance.len();
    for k in 0..model.basis_size {
        let (done, rest) = values.split_at_mut(k * n);
        let (done_derivative, rest_derivative) = derivatives.split_at_mut(k * n);
        let (row, drow) = (&mut rest[..n], &mut rest_derivative[..n]);
        match k {
            0 => {
                row.fill(1.0);
                drow.fill(0.0);
            }
            1 => {
                for ((t, dt), &r) in row.iter_mut().zip(drow.iter_mut()).zip(distance) {
                    *t = model.chebyshev_argument(r);
                    *dt = 1.0;
                }
            }
            _ => {
                let (s, t0, t1) = (&done[n..2 * n], &done[(k - 2) * n..(k - 1) * n], &done[(k - 1) * n..]);
                let (dt0, dt1) = (
                    &done_derivative[(k - 2) * n..(k - 1) * n],
                    &done_derivative[(k - 1) * n..],
                );
                for j in 0..n {
                    row[j] = 2.0 * s[j] * t1[j] - t0[j];
                    drow[j] = 2.0 * t1[j] + 2.0 * s[j] * dt1[j] - dt0[j];
                }
            }
        }
    }
}

/// The Chebyshev rows T_k(s_j), T'_k(s_j) of a site ([k][j], rows of `stride` values), read one
/// neighbour at a time; checked on construction to hold K rows of at least `count` neighbours.
pub(crate) struct ChebyshevRows<'a> {
    values: &'a [f64],
    derivatives: &'a [f64],
    stride: usize,
    count: usize,
    size: usize,
}

impl<'a> ChebyshevRows<'a> {
    #[inline(always)]
    fn new(model: &Model, [values, derivatives]: [&'a [f64]; 2], count: usize) -> Self {
        let size = model.basis_size;
        let stride = values.len() / size.max(1);
        assert!(
            count <= stride && values.len() == size * stride && derivatives.len() == size * stride,
            "Chebyshev rows shorter than the neighbours"
        );
        ChebyshevRows {
            values,
            derivatives,
            stride,
            count,
            size,
        }
    }

    /// (T_k(s_j), T'_k(s_j)) of neighbour j (< count) for k = 0 … K − 1.
    #[inline(always)]
    fn column(&self, j: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
        assert!(j < self.count, "neighbour {j} of {}", self.count);
        // SAFETY: k < size and j < count ≤ stride, so k · stride + j < size · stride = len (checked in `new`).
        (0..self.size).map(move |k| unsafe {
            let at = k * self.stride + j;
            (*self.values.get_unchecked(at), *self.derivatives.get_unchecked(at))
        })
    }
}

/// What [`MulAdd::radial_rows`] needs of a site.
pub(crate) struct RadialSite<'a> {
    model: &'a Model,
    /// The centre's type and its neighbours' (J values).
    centre: usize,
    kinds: &'a [usize],
    /// The neighbours' distances, padded with max_dist to the rows' length.
    distance: &'a [f64],
    /// T_k and T'_k of every lane of the rows.
    chebyshev: ChebyshevRows<'a>,
    /// ds/dr = 2/(max_dist − min_dist).
    ds_dr: f64,
}

impl RadialSite<'_> {
    /// The coefficient vectors c[t_i][t_j][k][μ] of neighbour j's type pair (K · radial_width values).
    #[inline(always)]
    fn coefficients(&self, j: usize) -> &[f64] {
        self.model.radial_vectors(self.centre, self.kinds[j])
    }
}

/// f_μ and f'_μ of every neighbour ([`MulAdd::radial_rows`]), one neighbour and one radial function at a
/// time.
#[inline(always)]
fn radial_rows(site: &RadialSite, radial: &mut [f64], radial_derivative: &mut [f64]) {
    let (model, stride) = (site.model, site.chebyshev.stride);
    for (j, &r) in site.distance[..site.kinds.len()].iter().enumerate() {
        let (coefficients, (e, de)) = (site.coefficients(j), model.envelope(r));
        for mu in 0..model.radial_count {
            let (mut value, mut derivative) = (0.0, 0.0);
            for (k, (t, dt)) in site.chebyshev.column(j).enumerate() {
                let c = coefficients[k * model.radial_width + mu];
                value += c * t;
                derivative += c * dt;
            }
            radial_derivative[mu * stride + j] = derivative * site.ds_dr * e + value * de;
            radial[mu * stride + j] = value * e;
        }
    }
}

/// For each basic moment (m, p) of the `runs`, partial[m][l mod 4] += f_l P_p,l for the first N lanes l
/// of the group in order (no fused multiply-adds: the same sums on every kernel).
#[inline(always)]
fn add_group_products<const N: usize>(
    partial: &mut [[f64; DOT_LANES]],
    runs: &[Run],
    f: &[f64; LANES],
    block: &[[f64; LANES]],
) {
    for run in runs {
        for (sum, x) in partial[run.a..run.a + run.len]
            .iter_mut()
            .zip(&block[run.b..run.b + run.len])
        {
            for l in 0..N {
                sum[l % DOT_LANES] += f[l] * x[l];
            }
        }
    }
}

/// A moment's partial sums added pairwise.
#[inline(always)]
fn dot_finish(partial: &[f64; DOT_LANES]) -> f64 {
    (partial[0] + partial[1]) + (partial[2] + partial[3])
}

/// A group's rows in a site's tables for [`add_group`]: the unit vectors [axis][j] and f_μ [μ][j] (rows of
/// `stride` values), the group from lane `first`.
struct GroupInput<'a> {
    unit: &'a [Vec<f64>; 3],
    radial: &'a [f64],
    stride: usize,
    first: usize,
}

/// One group of a site's neighbours in [`SiteWork::compute_basic_moments`], on its first N lanes: its
/// monomials into `block`, then f_μ P_p added to the partial sums of the basic moments.
#[inline(always)]
fn add_group<F: MulAdd, const N: usize>(
    model: &Model,
    rows: &GroupInput,
    block: &mut [[f64; LANES]],
    partial: &mut [[f64; DOT_LANES]],
) {
    group_monomials::<N>(model, &unit_lanes(rows.unit, rows.first), block);
    for mu in 0..model.radial_count {
        let runs = &model.radial_runs[model.radial_runs_start[mu]..model.radial_runs_start[mu + 1]];
        let f = lanes_from::<LANES>(rows.radial, mu * rows.stride + rows.first);
        // SAFETY: the runs of basic moments {μ, p} have m < B = partial.len() and p < P = block.len()
        // (checked in `Model::new`).
        unsafe { F::add_group_products::<N>(partial, runs, &f, block) };
    }
}

/// P_p of one group of neighbours (`block[p][lane]`, P rows; the first N lanes) from their unit vectors:
/// P_0 = 1 and P_q = u_axis · P_parent along the model's runs of edges (parents first).
#[inline(always)]
fn group_monomials<const N: usize>(model: &Model, unit: &[[f64; N]; 3], block: &mut [[f64; LANES]]) {
    const { assert!(N <= LANES) };
    assert_eq!(block.len(), model.monomials.len(), "a block of every monomial");
    block[0] = [1.0; LANES];
    let rows = block.as_mut_ptr().cast::<[f64; LANES]>();
    for &(axis, run) in &model.monomial_runs {
        // SAFETY: axis < 3; each run's parents come before its first q, and q < P = block.len() (checked
        // in `Model::new`): the rows read were written before, and none of them is written here; N ≤
        // LANES values of each row.
        unsafe {
            let u = unit.get_unchecked(axis);
            let (to, from) = (rows.add(run.a), rows.add(run.b));
            for i in 0..run.len {
                *to.add(i).cast::<[f64; N]>() = mul(u, &*from.add(i).cast::<[f64; N]>());
            }
        }
    }
}

/// The edges (q, parent) of the monomials q > 0 ([`Model::monomial_runs`]) as runs on one axis and one
/// degree, ordered by degree and axis; checks that each run's parents all come before its first monomial
/// (the kernels read the rows along the runs without bounds checks, and rely on that order).
fn monomial_runs(monomials: &[Monomial]) -> Vec<(usize, Run)> {
    let mut edges: Vec<(usize, usize, usize)> = monomials
        .iter()
        .enumerate()
        .skip(1)
        .map(|(q, mono)| (q, mono.parent.0, mono.parent.1))
        .collect();
    edges.sort_by(|a, b| {
        (monomials[a.0].degree, a.1, a.0)
            .partial_cmp(&(monomials[b.0].degree, b.1, b.0))
            .expect("finite degrees")
    });
    let mut all: Vec<(usize, Run)> = Vec::new();
    for same in edges.chunk_by(|x, y| x.1 == y.1 && monomials[x.0].degree == monomials[y.0].degree) {
        let axis = same[0].1;
        all.extend(
            runs(same.iter().map(|&(q, _, parent)| (q, parent)))
                .into_iter()
                .map(|run| (axis, run)),
        );
    }
    for &(axis, run) in &all {
        assert!(
            axis < 3 && run.b + run.len <= run.a && run.a + run.len <= monomials.len(),
            "monomial edges out of order"
        );
    }
    all
}

/// `v` with length `len`, its old values kept (for tables that are then overwritten in full).
#[inline(always)]
fn resize(v: &mut Vec<f64>, len: usize) {
    v.resize(len, 0.0);
}

/// `v` with length `len`, all zeros.
#[inline(always)]
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

    /// Values in [-1, 1) that are not round in binary, from a fixed linear congruential sequence.
    fn scattered(count: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    #[cfg(target_arch = "x86_64")]
    fn has_avx2_fma() -> bool {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }

    #[test]
    fn group_products_sum_over_every_neighbour() {
        let (monomials, groups) = (5, 3);
        let radial = scattered(groups * LANES, 1);
        let values = scattered(groups * monomials * LANES, 2);
        let table: Vec<[f64; LANES]> = values.as_chunks::<LANES>().0.to_vec();
        // Moment m on monomial P − 1 − m (runs of one), then moment m on monomial m (one run).
        let reversed: Vec<(usize, usize)> = (0..monomials).map(|p| (monomials - 1 - p, p)).collect();
        let in_order: Vec<(usize, usize)> = (0..monomials).map(|p| (p, p)).collect();
        for (terms, run_count) in [(reversed, monomials), (in_order, 1)] {
            let terms_runs = runs(terms.iter().copied());
            assert_eq!(terms_runs.len(), run_count);
            let mut partial = vec![[0.0; DOT_LANES]; monomials];
            for (f, block) in radial.as_chunks::<LANES>().0.iter().zip(table.chunks_exact(monomials)) {
                add_group_products::<LANES>(&mut partial, &terms_runs, f, block);
            }
            for &(m, p) in &terms {
                let expected: f64 = (0..groups * LANES)
                    .map(|j| radial[j] * table[j / LANES * monomials + p][j % LANES])
                    .sum();
                assert!((dot_finish(&partial[m]) - expected).abs() < 1e-13, "monomial {p}");
            }
        }
    }

    #[test]
    fn runs_cover_the_pairs_in_order() {
        let pairs = [(0, 5), (1, 6), (2, 8), (5, 9), (6, 10), (7, 11)];
        let found = runs(pairs);
        let expected = [(0, 5, 2), (2, 8, 1), (5, 9, 3)].map(|(a, b, len)| Run { a, b, len });
        assert_eq!(found, expected);
        assert_eq!(found.iter().flat_map(|r| r.pairs()).collect::<Vec<_>>(), pairs);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn fused_and_separate_site_gradients_agree() {
        if !has_avx2_fma() {
            return;
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mtp/potentials/l16_5sp.mtp");
        let model = Model::new(&MtpParameters::read(&path).unwrap());
        // 3, 21, 35, 37 and 45 neighbours (last groups of a quarter, a half and a whole group of lanes)
        // between 1.5 and 4.9 Å, types 0..5.
        let (directions, radii) = (scattered(135, 3), scattered(45, 4));
        for count in [3, 21, 35, 37, 45] {
            let neighbours: Vec<(usize, Vec3, usize)> = (0..count)
                .map(|j| {
                    let d = [directions[3 * j], directions[3 * j + 1], directions[3 * j + 2]];
                    let scale = (3.2 + 1.7 * radii[j]) / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                    (j, d.map(|x| x * scale), j % 5)
                })
                .collect();
            let gradient = |fused: bool| {
                let mut work = SiteWork::default();
                work.load(&model, neighbours.iter().copied()).unwrap();
                if fused {
                    work.moments_with::<Fused>(&model, 2);
                    // SAFETY: checked above that the CPU has AVX2 and FMA.
                    unsafe { fused_gradient(&mut work, &model) };
                } else {
                    work.moments(&model, 2);
                    work.gradient::<Separate>(&model);
                }
                (work.energy(&model, 2), work.gradient)
            };
            let ((energy, separate), (fused_energy, fused)) = (gradient(false), gradient(true));
            assert_eq!(energy.to_bits(), fused_energy.to_bits(), "{count} neighbours");
            assert_eq!(fused.len(), count);
            let scale = separate.iter().flatten().fold(0.0_f64, |m, g| m.max(g.abs()));
            assert!(scale > 1e-3);
            for (s, f) in separate.iter().zip(&fused) {
                for d in 0..3 {
                    assert!(
                        (s[d] - f[d]).abs() < 1e-12 * scale,
                        "{count} neighbours: {s:?} vs {f:?}"
                    );
                }
            }
        }
    }

    /// [`SiteWork::gradient`] with fused multiply-adds, compiled for FMA as in `Mtp::compute_block_avx2`.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn fused_gradient(work: &mut SiteWork, model: &Model) {
        work.gradient::<Fused>(model);
    }

    #[test]
    fn monomials_up_to_degree_two() {
        let powers = monomial_powers(2);
        assert_eq!(powers.len(), 10);
        assert_eq!(&powers[..4], &[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    }
}
