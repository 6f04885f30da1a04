//! The untrained moment tensor potential basis of any level, generated from the level definition and laid out
//! as MLIP's `alpha_*` arrays (what an untrained `.mtp` file holds). It is for starting a fit at a level for
//! which no MLIP template is at hand; it does not evaluate potentials (that is [`crate::mtp`]).
//!
//! The model (Shapeev 2016, Multiscale Model. Simul. 14, 1153, eqs. 3–5; Novikov et al. 2021, Mach. Learn.:
//! Sci. Technol. 2, 025002, sect. 2): moment tensors M_{μ,ν} = Σ_j f_μ(r_ij) r̂_ij^{⊗ν} of level
//! lev(M_{μ,ν}) = 2 + 4μ + ν; a basis function is a complete contraction of a product of moment tensors, its
//! level the sum of its factors' levels, and the basis of level L holds every such scalar of level ≤ L with
//! at most [`MAX_FACTORS`] factors (MLIP's templates for levels 8, 16 and 20 use at most four; with that
//! bound the generated basis spans exactly the templates' functions, as the tests check).
//!
//! Construction: every scalar is a binary tree of contractions. A node is a basic moment tensor M_{μ,ν} or the
//! symmetrised k-fold contraction C = sym(A ·_k B) of two earlier nodes (rank p + q − 2k). Nodes are built in
//! order of level and factor count; a candidate whose value (all tensor components, on a fixed set of random
//! neighbourhoods) lies in the span of the nodes of the same rank with level ≤ and factor count ≤ its own is
//! dropped — by bilinearity, every function built from it is then a combination of functions built from the
//! kept ones. Each kept node is stored as its symmetric tensor components, one per monomial x^a y^b z^c
//! (a + b + c = rank), times a constant chosen so that every multiplicity is an integer.
//!
//! Layout (MLIP-2 `.mtp`): `alpha_index_basic` rows {μ, a, b, c} give the basic moments
//! M = Σ_j f_μ(r_ij) (x/r)^a (y/r)^b (z/r)^c; `alpha_index_times` rows {i1, i2, mult, i3} mean
//! M_{i3} += mult · M_{i1} · M_{i2} in file order; `alpha_moment_mapping` lists the basis functions.

use crate::{Error, Result};

/// Most moment tensors multiplied in one basis function (MLIP's templates use at most four).
pub const MAX_FACTORS: usize = 4;

/// Highest level [`untrained_basis`] accepts: component multiplicities stay exact integers up to there, and
/// generation time grows fast beyond it.
pub const MAX_LEVEL: usize = 40;

/// Level of the moment tensor M_{μ,ν}: 2 + 4μ + ν (Shapeev 2016, eq. 5), dimensionless.
pub fn moment_level(mu: usize, rank: usize) -> usize {
    2 + 4 * mu + rank
}

/// Number of radial functions f_μ a basis of `level` can use: the μ with 2 + 4μ ≤ level, that is
/// ⌊(level − 2)/4⌋ + 1 (the `radial_funcs_count` of MLIP's templates: 2, 4, 5 at levels 8, 16, 20).
pub fn radial_funcs_count(level: usize) -> usize {
    level.saturating_sub(2) / 4 + 1
}

/// The untrained basis of one level, in MLIP's layout (the `alpha_*` fields of an `.mtp` file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntrainedBasis {
    /// The level L: every basis function has level ≤ L.
    pub level: usize,
    /// Number of radial functions f_μ used (μ < radial_funcs_count).
    pub radial_funcs_count: usize,
    /// Rows {μ, a, b, c}: basic moment M = Σ_j f_μ(r_ij) (x/r)^a (y/r)^b (z/r)^c.
    pub alpha_index_basic: Vec<[usize; 4]>,
    /// Rows {i1, i2, mult, i3}: M_{i3} += mult · M_{i1} · M_{i2}, in this order; i1 ≤ i2 < i3.
    pub alpha_index_times: Vec<[usize; 4]>,
    /// Moment indices of the scalar basis functions.
    pub alpha_moment_mapping: Vec<usize>,
    /// Level of each basis function, in the order of `alpha_moment_mapping`.
    pub scalar_levels: Vec<usize>,
    /// Total number of moments (basic, intermediate and scalar).
    pub alpha_moments_count: usize,
}

/// Generates the untrained basis of `level` (2 ≤ level ≤ [`MAX_LEVEL`]): every complete contraction of at
/// most [`MAX_FACTORS`] moment tensors with levels summing to ≤ `level`, reduced to a linearly independent set.
pub fn untrained_basis(level: usize) -> Result<UntrainedBasis> {
    if !(2..=MAX_LEVEL).contains(&level) {
        return Err(Error::Invalid(format!(
            "MTP level {level}: the untrained basis is generated for levels 2 to {MAX_LEVEL}"
        )));
    }
    let mut sites = 32;
    loop {
        let samples = Samples::new(sites, radial_funcs_count(level));
        match Generator::new(level, &samples).run() {
            Some(nodes) => return Ok(layout(level, &nodes)),
            None => sites *= 2,
        }
    }
}

/// Monomial exponents [a, b, c] with a + b + c = `rank`, in MLIP's order (a descending, then b descending).
fn monomials(rank: usize) -> Vec<[usize; 3]> {
    (0..=rank)
        .rev()
        .flat_map(|a| (0..=rank - a).rev().map(move |b| [a, b, rank - a - b]))
        .collect()
}

/// Position of monomial `m` in [`monomials`] of its degree.
fn monomial_index(m: [usize; 3]) -> usize {
    let rest = m[1] + m[2];
    rest * (rest + 1) / 2 + m[2]
}

/// Number of symmetric components of a rank-`rank` tensor in 3D.
fn component_count(rank: usize) -> usize {
    (rank + 1) * (rank + 2) / 2
}

/// Multinomial coefficient (a + b + c)! / (a! b! c!): how many index sequences have the exponents `m`.
fn multinomial(m: [usize; 3]) -> u128 {
    let mut value: u128 = 1;
    let mut n: u128 = 0;
    for &e in &m {
        for i in 1..=e as u128 {
            n += 1;
            value = value * n / i;
        }
    }
    value
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// One term of a contraction: output component += mult · A[a] · B[b].
#[derive(Clone, Copy, Debug)]
struct Term {
    a: usize,
    b: usize,
    mult: u128,
}

/// Terms of λ · sym(A ·_k B) for symmetric A (rank p) and B (rank q), one list per output component (rank
/// n = p + q − 2k, in [`monomials`] order). For output monomial m, with m = m_A + m_B (|m_A| = p − k,
/// |m_B| = q − k) and contracted monomial κ (|κ| = k):
/// sym(A ·_k B)[m] = Σ multi(m_A) · multi(m_B) · multi(κ) / multi(m) · A[m_A + κ] · B[m_B + κ],
/// where multi is the multinomial coefficient; λ is the least common multiple of the reduced denominators,
/// so that every multiplicity is an integer (λ = 1 when one factor is fully contracted).
fn contraction_terms(p: usize, q: usize, k: usize) -> Vec<Vec<Term>> {
    let rank = p + q - 2 * k;
    let mut raw = Vec::new();
    let mut lambda: u128 = 1;
    for m in monomials(rank) {
        let denominator = multinomial(m);
        let mut terms = Vec::new();
        for m_a in monomials(p - k) {
            if (0..3).any(|i| m_a[i] > m[i]) {
                continue;
            }
            let m_b = [m[0] - m_a[0], m[1] - m_a[1], m[2] - m_a[2]];
            if m_b.iter().sum::<usize>() != q - k {
                continue;
            }
            for kappa in monomials(k) {
                let numerator = multinomial(m_a) * multinomial(m_b) * multinomial(kappa);
                let reduced = denominator / gcd(numerator, denominator);
                lambda = lambda / gcd(lambda, reduced) * reduced;
                let a = monomial_index([m_a[0] + kappa[0], m_a[1] + kappa[1], m_a[2] + kappa[2]]);
                let b = monomial_index([m_b[0] + kappa[0], m_b[1] + kappa[1], m_b[2] + kappa[2]]);
                terms.push((a, b, numerator, denominator));
            }
        }
        raw.push(terms);
    }
    raw.into_iter()
        .map(|terms| {
            terms
                .into_iter()
                .map(|(a, b, numerator, denominator)| {
                    let g = gcd(numerator, denominator);
                    Term {
                        a,
                        b,
                        mult: numerator / g * (lambda / (denominator / g)),
                    }
                })
                .collect()
        })
        .collect()
}

/// Random neighbourhoods on which candidate functions are compared: `sites` sites of [`NEIGHBOURS`]
/// neighbours each, random unit vectors and independent random radial values f_μ per neighbour (generic
/// points for polynomial identities in f_μ(r_j) and r̂_j).
struct Samples {
    sites: usize,
    /// f_μ of neighbour j at site s: `radial[(s * radial_funcs_count + μ) * NEIGHBOURS + j]`.
    radial: Vec<f64>,
    radial_funcs_count: usize,
    /// r̂ of neighbour j at site s: `directions[s * NEIGHBOURS + j]`.
    directions: Vec<[f64; 3]>,
}

/// Neighbours per sample site: more than [`MAX_FACTORS`], so sums of powers are independent.
const NEIGHBOURS: usize = 10;

impl Samples {
    fn new(sites: usize, radial_funcs_count: usize) -> Samples {
        let mut random = SplitMix64(0x6762_696f_6e5f_6d74);
        let radial = (0..sites * radial_funcs_count * NEIGHBOURS)
            .map(|_| 2.0 * random.uniform() - 1.0)
            .collect();
        let directions = (0..sites * NEIGHBOURS).map(|_| random.unit_vector()).collect();
        Samples {
            sites,
            radial,
            radial_funcs_count,
            directions,
        }
    }

    /// Components of M_{μ,ν} at every site: `values[s * component_count(ν) + c]`.
    fn moment(&self, mu: usize, rank: usize) -> Vec<f64> {
        let monomials = monomials(rank);
        let mut values = vec![0.0; self.sites * monomials.len()];
        for s in 0..self.sites {
            for j in 0..NEIGHBOURS {
                let f = self.radial[(s * self.radial_funcs_count + mu) * NEIGHBOURS + j];
                let u = self.directions[s * NEIGHBOURS + j];
                for (c, m) in monomials.iter().enumerate() {
                    values[s * monomials.len() + c] +=
                        f * u[0].powi(m[0] as i32) * u[1].powi(m[1] as i32) * u[2].powi(m[2] as i32);
                }
            }
        }
        values
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a fixed, seeded stream for the sample neighbourhoods, so the
/// generated basis does not depend on a random-number crate's version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform on the unit sphere (rejection from the cube).
    fn unit_vector(&mut self) -> [f64; 3] {
        loop {
            let v = [0; 3].map(|_| 2.0 * self.uniform() - 1.0);
            let norm2: f64 = v.iter().map(|x| x * x).sum();
            if (1e-4..=1.0).contains(&norm2) {
                return v.map(|x| x / norm2.sqrt());
            }
        }
    }
}

/// How a node is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recipe {
    /// The basic moment tensor M_{μ,ν}.
    Moment { mu: usize },
    /// λ · sym(A ·_k B) of nodes `a` ≤ `b`.
    Contraction { a: usize, b: usize, k: usize },
}

/// A kept tensor: its recipe, rank, level and number of moment-tensor factors.
#[derive(Clone, Copy, Debug)]
struct Node {
    recipe: Recipe,
    rank: usize,
    level: usize,
    factors: usize,
}

/// Relative residual below which a candidate counts as a combination of kept nodes. Generic sample points
/// give residuals near 1e-13 for dependent candidates and far above this for independent ones.
const DEPENDENCE_TOLERANCE: f64 = 1e-8;

/// Builds the kept nodes level by level.
struct Generator<'a> {
    level: usize,
    samples: &'a Samples,
    nodes: Vec<Node>,
    values: Vec<Vec<f64>>,
    /// Orthonormal bases of the kept values: `spans[rank][factors − 1]` spans the nodes of that rank with at
    /// most `factors` factors.
    spans: Vec<Vec<Vec<Vec<f64>>>>,
}

impl<'a> Generator<'a> {
    fn new(level: usize, samples: &'a Samples) -> Generator<'a> {
        let max_rank = level.saturating_sub(4) / 2;
        Generator {
            level,
            samples,
            nodes: Vec::new(),
            values: Vec::new(),
            spans: vec![vec![Vec::new(); MAX_FACTORS]; max_rank + 1],
        }
    }

    /// The kept nodes, or None when the samples are too few to tell independent functions apart.
    fn run(mut self) -> Option<Vec<Node>> {
        for level in 2..=self.level {
            let mut candidates = self.candidates(level);
            candidates.sort_by_key(|node| node.factors);
            for node in candidates {
                let values = self.evaluate(&node);
                self.keep_if_independent(node, values)?;
            }
        }
        Some(self.nodes)
    }

    /// Whether a node of this rank, level and factor count can still end up in a scalar of level ≤ L: a
    /// tensor of rank n needs further factors with ranks summing to ≥ n, whose levels add ≥ n + 2.
    fn useful(&self, rank: usize, level: usize, factors: usize) -> bool {
        rank == 0 || (level + rank + 2 <= self.level && factors < MAX_FACTORS)
    }

    /// Candidate nodes of exactly `level`: basic moments and contractions of two kept nodes.
    fn candidates(&self, level: usize) -> Vec<Node> {
        let mut candidates = Vec::new();
        for mu in 0..self.samples.radial_funcs_count {
            if let Some(rank) = level.checked_sub(moment_level(mu, 0)) {
                candidates.push(Node {
                    recipe: Recipe::Moment { mu },
                    rank,
                    level,
                    factors: 1,
                });
            }
        }
        for (a, node_a) in self.nodes.iter().enumerate() {
            for (b, node_b) in self.nodes.iter().enumerate().skip(a) {
                let factors = node_a.factors + node_b.factors;
                if node_a.level + node_b.level != level || factors > MAX_FACTORS {
                    continue;
                }
                for k in 0..=node_a.rank.min(node_b.rank) {
                    candidates.push(Node {
                        recipe: Recipe::Contraction { a, b, k },
                        rank: node_a.rank + node_b.rank - 2 * k,
                        level,
                        factors,
                    });
                }
            }
        }
        candidates.retain(|node| self.useful(node.rank, node.level, node.factors));
        candidates
    }

    /// Values of `node` at every sample site, all components.
    fn evaluate(&self, node: &Node) -> Vec<f64> {
        match node.recipe {
            Recipe::Moment { mu } => self.samples.moment(mu, node.rank),
            Recipe::Contraction { a, b, k } => {
                let (rank_a, rank_b) = (self.nodes[a].rank, self.nodes[b].rank);
                let (count_a, count_b, count) = (
                    component_count(rank_a),
                    component_count(rank_b),
                    component_count(node.rank),
                );
                let terms = contraction_terms(rank_a, rank_b, k);
                let (values_a, values_b) = (&self.values[a], &self.values[b]);
                let mut values = vec![0.0; self.samples.sites * count];
                for s in 0..self.samples.sites {
                    for (c, component_terms) in terms.iter().enumerate() {
                        values[s * count + c] = component_terms
                            .iter()
                            .map(|t| t.mult as f64 * values_a[s * count_a + t.a] * values_b[s * count_b + t.b])
                            .sum();
                    }
                }
                values
            }
        }
    }

    /// Keeps `node` when its values are not in the span of the kept nodes of its rank with at most its factor
    /// count. None when a span is nearly as large as the sample space (more sample sites needed).
    fn keep_if_independent(&mut self, node: Node, values: Vec<f64>) -> Option<bool> {
        let spans = &mut self.spans[node.rank];
        let Some(direction) = residual_direction(&spans[node.factors - 1], &values) else {
            return Some(false);
        };
        if 2 * (spans[MAX_FACTORS - 1].len() + 1) > values.len() {
            return None;
        }
        spans[node.factors - 1].push(direction);
        for span in spans.iter_mut().skip(node.factors) {
            if let Some(direction) = residual_direction(span, &values) {
                span.push(direction);
            }
        }
        self.nodes.push(node);
        self.values.push(values);
        Some(true)
    }
}

/// The normalised part of `values` orthogonal to the orthonormal `span` (two Gram–Schmidt passes), or None
/// when it is below [`DEPENDENCE_TOLERANCE`] of |values|.
fn residual_direction(span: &[Vec<f64>], values: &[f64]) -> Option<Vec<f64>> {
    let norm = values.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 {
        return None;
    }
    let mut residual: Vec<f64> = values.iter().map(|x| x / norm).collect();
    for _ in 0..2 {
        for basis in span {
            let overlap: f64 = basis.iter().zip(&residual).map(|(b, r)| b * r).sum();
            residual.iter_mut().zip(basis).for_each(|(r, b)| *r -= overlap * b);
        }
    }
    let left = residual.iter().map(|x| x * x).sum::<f64>().sqrt();
    (left > DEPENDENCE_TOLERANCE).then(|| residual.iter().map(|x| x / left).collect())
}

/// Lays the nodes that the scalars need out as MLIP's arrays: basic moments (sorted by μ, then rank), then
/// contracted tensors in creation order (children first), each as its symmetric components.
fn layout(level: usize, nodes: &[Node]) -> UntrainedBasis {
    let mut needed = vec![false; nodes.len()];
    for i in (0..nodes.len()).rev() {
        needed[i] |= nodes[i].rank == 0;
        if let (true, Recipe::Contraction { a, b, .. }) = (needed[i], nodes[i].recipe) {
            needed[a] = true;
            needed[b] = true;
        }
    }
    let mut moments: Vec<usize> = (0..nodes.len())
        .filter(|&i| needed[i] && matches!(nodes[i].recipe, Recipe::Moment { .. }))
        .collect();
    moments.sort_by_key(|&i| (nodes[i].level - nodes[i].rank, nodes[i].rank));
    let contractions = (0..nodes.len()).filter(|&i| needed[i] && matches!(nodes[i].recipe, Recipe::Contraction { .. }));
    let mut first_index = vec![usize::MAX; nodes.len()];
    let mut count = 0;
    let mut alpha_index_basic = Vec::new();
    for &i in &moments {
        first_index[i] = count;
        count += component_count(nodes[i].rank);
        let Recipe::Moment { mu } = nodes[i].recipe else {
            unreachable!()
        };
        alpha_index_basic.extend(monomials(nodes[i].rank).into_iter().map(|[a, b, c]| [mu, a, b, c]));
    }
    let mut alpha_index_times: Vec<[usize; 4]> = Vec::new();
    for i in contractions {
        first_index[i] = count;
        let Recipe::Contraction { a, b, k } = nodes[i].recipe else {
            unreachable!()
        };
        for (c, terms) in contraction_terms(nodes[a].rank, nodes[b].rank, k).iter().enumerate() {
            let mut rows: Vec<[usize; 4]> = terms
                .iter()
                .map(|t| {
                    let (i1, i2) = (first_index[a] + t.a, first_index[b] + t.b);
                    [i1.min(i2), i1.max(i2), t.mult as usize, count + c]
                })
                .collect();
            rows.sort_unstable();
            for row in rows {
                match alpha_index_times.last_mut() {
                    Some(last) if last[0] == row[0] && last[1] == row[1] && last[3] == row[3] => last[2] += row[2],
                    _ => alpha_index_times.push(row),
                }
            }
        }
        count += component_count(nodes[i].rank);
    }
    let mut scalars: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].rank == 0).collect();
    scalars.sort_by_key(|&i| first_index[i]);
    UntrainedBasis {
        level,
        radial_funcs_count: radial_funcs_count(level),
        alpha_index_basic,
        alpha_index_times,
        alpha_moment_mapping: scalars.iter().map(|&i| first_index[i]).collect(),
        scalar_levels: scalars.iter().map(|&i| nodes[i].level).collect(),
        alpha_moments_count: count,
    }
}
