//! Tests of the generated untrained MTP basis (`gbion_potentials::mtp_basis`): the level formula, counts and
//! levels from level 2 to 28, exact contraction values, and equal span with MLIP's templates at levels 8, 16
//! and 20 (`tests/fixtures/mtp_untrained/`, see its README).
//!
//! Basis values are computed here by a minimal evaluator of MLIP's `alpha_*` layout (basic moments, then the
//! `alpha_index_times` rows in order), with the RBChebyshev radial basis and random radial coefficients that
//! both bases share.

use faer::Mat;
use gbion_potentials::mtp_basis::{UntrainedBasis, moment_level, radial_funcs_count, untrained_basis};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Singular values below this fraction of the largest (columns scaled to unit norm) count as zero.
const RANK_TOLERANCE: f64 = 1e-9;
/// Largest relative least-squares residual of one basis's function on the other basis.
const SPAN_RESIDUAL_TOLERANCE: f64 = 1e-7;

/// The `alpha_*` layout of an MTP basis.
struct Layout {
    basic: Vec<[usize; 4]>,
    times: Vec<[usize; 4]>,
    mapping: Vec<usize>,
    count: usize,
    radial_funcs_count: usize,
}

impl From<&UntrainedBasis> for Layout {
    fn from(basis: &UntrainedBasis) -> Layout {
        Layout {
            basic: basis.alpha_index_basic.clone(),
            times: basis.alpha_index_times.clone(),
            mapping: basis.alpha_moment_mapping.clone(),
            count: basis.alpha_moments_count,
            radial_funcs_count: basis.radial_funcs_count,
        }
    }
}

/// Reads the `alpha_*` fields and `radial_funcs_count` of an untrained `.mtp` template.
fn read_template(name: &str) -> Layout {
    let path = format!("{}/tests/fixtures/mtp_untrained/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let field = |key: &str| -> Vec<usize> {
        let line = text
            .lines()
            .find(|l| l.split('=').next().unwrap().trim() == key)
            .unwrap();
        let value = line.split_once('=').unwrap().1;
        value
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let rows = |key: &str| {
        field(key)
            .chunks(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect::<Vec<_>>()
    };
    let layout = Layout {
        basic: rows("alpha_index_basic"),
        times: rows("alpha_index_times"),
        mapping: field("alpha_moment_mapping"),
        count: field("alpha_moments_count")[0],
        radial_funcs_count: field("radial_funcs_count")[0],
    };
    assert_eq!(layout.basic.len(), field("alpha_index_basic_count")[0]);
    assert_eq!(layout.times.len(), field("alpha_index_times_count")[0]);
    assert_eq!(layout.mapping.len(), field("alpha_scalar_moments")[0]);
    layout
}

/// RBChebyshev radial basis of the templates: min_dist 0.5 Å, max_dist 5 Å, 8 functions, scaling 1.
const MIN_DIST: f64 = 0.5;
const MAX_DIST: f64 = 5.0;
const RADIAL_BASIS_SIZE: usize = 8;

/// Radial coefficients c[t_i][t_j][μ][k], shared by both bases.
struct RadialCoefficients {
    species_count: usize,
    funcs_count: usize,
    values: Vec<f64>,
}

impl RadialCoefficients {
    fn random(species_count: usize, funcs_count: usize, rng: &mut Xoshiro256PlusPlus) -> RadialCoefficients {
        let len = species_count * species_count * funcs_count * RADIAL_BASIS_SIZE;
        RadialCoefficients {
            species_count,
            funcs_count,
            values: (0..len).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect(),
        }
    }

    /// f_μ(r) for centre type `ti` and neighbour type `tj`: Σ_k c[ti][tj][μ][k] T_k(s) (max_dist − r)².
    fn radial(&self, ti: usize, tj: usize, mu: usize, r: f64) -> f64 {
        let s = (2.0 * r - (MIN_DIST + MAX_DIST)) / (MAX_DIST - MIN_DIST);
        let offset = ((ti * self.species_count + tj) * self.funcs_count + mu) * RADIAL_BASIS_SIZE;
        let (mut t_prev, mut t) = (1.0, s);
        let mut sum = self.values[offset];
        for k in 1..RADIAL_BASIS_SIZE {
            sum += self.values[offset + k] * t;
            (t_prev, t) = (t, 2.0 * s * t - t_prev);
        }
        sum * (MAX_DIST - r).powi(2)
    }
}

/// One atom's neighbourhood: its type and its neighbours' vectors r_ij (Å) and types.
struct Site {
    species: usize,
    neighbours: Vec<([f64; 3], usize)>,
}

fn random_sites(count: usize, species_count: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<Site> {
    (0..count)
        .map(|_| Site {
            species: rng.random_range(0..species_count),
            neighbours: (0..rng.random_range(6..20))
                .map(|_| {
                    let r = MIN_DIST + 0.9 * (MAX_DIST - MIN_DIST) * rng.random::<f64>();
                    let v = loop {
                        let v = [0; 3].map(|_| 2.0 * rng.random::<f64>() - 1.0);
                        let n2: f64 = v.iter().map(|x| x * x).sum();
                        if (1e-3..1.0).contains(&n2) {
                            break v.map(|x| x * r / n2.sqrt());
                        }
                    };
                    (v, rng.random_range(0..species_count))
                })
                .collect(),
        })
        .collect()
}

/// The scalar basis functions of `layout` at `site`: basic moments, contractions in order, mapping.
fn site_basis(layout: &Layout, site: &Site, coefficients: &RadialCoefficients) -> Vec<f64> {
    let mut moments = vec![0.0; layout.count];
    for &(v, species) in &site.neighbours {
        let r = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let u = v.map(|x| x / r);
        for (m, &[mu, a, b, c]) in layout.basic.iter().enumerate() {
            moments[m] += coefficients.radial(site.species, species, mu, r)
                * u[0].powi(a as i32)
                * u[1].powi(b as i32)
                * u[2].powi(c as i32);
        }
    }
    for &[i1, i2, mult, i3] in &layout.times {
        moments[i3] += mult as f64 * moments[i1] * moments[i2];
    }
    layout.mapping.iter().map(|&m| moments[m]).collect()
}

/// Sites × functions matrix of basis values, each column scaled to unit norm.
fn basis_matrix(layout: &Layout, sites: &[Site], coefficients: &RadialCoefficients) -> Mat<f64> {
    let values: Vec<Vec<f64>> = sites.iter().map(|s| site_basis(layout, s, coefficients)).collect();
    let mut matrix = Mat::from_fn(sites.len(), layout.mapping.len(), |i, j| values[i][j]);
    for j in 0..matrix.ncols() {
        let norm = matrix.col(j).norm_l2();
        assert!(norm > 0.0, "basis function {j} vanishes on every site");
        for i in 0..matrix.nrows() {
            matrix[(i, j)] /= norm;
        }
    }
    matrix
}

fn numerical_rank(matrix: &Mat<f64>) -> usize {
    let singular = matrix.singular_values().unwrap();
    singular.iter().filter(|&&s| s > RANK_TOLERANCE * singular[0]).count()
}

/// Largest relative residual ‖c − P c‖ / ‖c‖ over the columns c of `columns`, with P the orthogonal projector
/// on the numerical column space of `basis` (least squares by SVD, so a rank-deficient basis is fine).
fn largest_residual_outside_span(basis: &Mat<f64>, columns: &Mat<f64>) -> f64 {
    let rank = numerical_rank(basis);
    let svd = basis.thin_svd().unwrap();
    let u = svd.U().subcols(0, rank);
    let projected = u * (u.transpose() * columns);
    (0..columns.ncols())
        .map(|j| (columns.col(j) - projected.col(j)).norm_l2() / columns.col(j).norm_l2())
        .fold(0.0, f64::max)
}

/// Template and generated basis of `level` span the same functions on random neighbourhoods.
fn assert_same_span(level: usize, species_count: usize, seed: u64) {
    let template = read_template(&format!("{level:02}.mtp"));
    let basis = untrained_basis(level).unwrap();
    let generated = Layout::from(&basis);
    eprintln!(
        "level {level} generated: alpha_moments_count {}, basic {}, times {}, scalars {}",
        basis.alpha_moments_count,
        basis.alpha_index_basic.len(),
        basis.alpha_index_times.len(),
        basis.alpha_moment_mapping.len()
    );
    assert_eq!(generated.radial_funcs_count, template.radial_funcs_count);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let coefficients = RadialCoefficients::random(species_count, template.radial_funcs_count, &mut rng);
    let sites = random_sites(
        2 * template.mapping.len().max(generated.mapping.len()) + 20,
        species_count,
        &mut rng,
    );
    let t = basis_matrix(&template, &sites, &coefficients);
    let g = basis_matrix(&generated, &sites, &coefficients);
    let both = Mat::from_fn(sites.len(), t.ncols() + g.ncols(), |i, j| {
        if j < t.ncols() {
            t[(i, j)]
        } else {
            g[(i, j - t.ncols())]
        }
    });
    let (rank_t, rank_g, rank_both) = (numerical_rank(&t), numerical_rank(&g), numerical_rank(&both));
    eprintln!(
        "level {level}, {species_count} species: template {} functions (rank {rank_t}), generated {} (rank \
         {rank_g}), together rank {rank_both}",
        t.ncols(),
        g.ncols()
    );
    assert_eq!(
        rank_g,
        g.ncols(),
        "level {level}: generated functions are linearly independent"
    );
    assert_eq!(rank_t, rank_g, "level {level}: ranks of template and generated basis");
    assert_eq!(rank_both, rank_g, "level {level}: rank of both together");
    let t_on_g = largest_residual_outside_span(&g, &t);
    let g_on_t = largest_residual_outside_span(&t, &g);
    eprintln!("  residuals: template on generated {t_on_g:.1e}, generated on template {g_on_t:.1e}");
    assert!(
        t_on_g < SPAN_RESIDUAL_TOLERANCE,
        "level {level}: template function outside generated span: {t_on_g}"
    );
    assert!(
        g_on_t < SPAN_RESIDUAL_TOLERANCE,
        "level {level}: generated function outside template span: {g_on_t}"
    );
}

#[test]
fn level_8_spans_the_template() {
    assert_same_span(8, 1, 8);
}

#[test]
fn level_16_spans_the_template() {
    assert_same_span(16, 1, 16);
}

#[test]
fn level_20_spans_the_template() {
    assert_same_span(20, 1, 20);
}

#[test]
fn level_16_spans_the_template_with_two_species() {
    assert_same_span(16, 2, 162);
}

#[test]
fn level_formula_and_radial_function_count() {
    assert_eq!(moment_level(0, 0), 2);
    assert_eq!(moment_level(0, 1), 3);
    assert_eq!(moment_level(1, 0), 6);
    assert_eq!(moment_level(2, 3), 13);
    // The templates' radial_funcs_count: levels 8, 16, 20 use μ < 2, 4, 5.
    assert_eq!([8, 16, 20].map(radial_funcs_count), [2, 4, 5]);
    assert_eq!(radial_funcs_count(2), 1);
}

#[test]
fn out_of_range_levels_are_errors() {
    for level in [0, 1, gbion_potentials::mtp_basis::MAX_LEVEL + 1] {
        let message = untrained_basis(level).unwrap_err().to_string();
        assert!(message.contains(&format!("MTP level {level}")), "{message}");
    }
}

/// Smallest levels by hand: level 2: M00; 4: + M00²; 6: + M00³, M10, M01·M01; 8: + M00⁴, M00·M10,
/// M00·(M01·M01), M02:M02 (the level-8 template's nine).
#[test]
fn smallest_levels_count_by_hand() {
    for (level, count) in [(2, 1), (3, 1), (4, 2), (5, 2), (6, 5), (8, 9)] {
        assert_eq!(
            untrained_basis(level).unwrap().alpha_moment_mapping.len(),
            count,
            "level {level}"
        );
    }
}

/// Levels without a template generate well-formed layouts whose counts grow with the level and whose
/// functions all have level ≤ L.
#[test]
fn levels_2_to_18_generate_well_formed_layouts() {
    assert_levels_well_formed((2..=18).step_by(2));
}

/// The same for levels 22 to 28: minutes in the dev profile, so run on demand with `--ignored`.
#[test]
#[ignore]
fn levels_22_to_28_generate_well_formed_layouts() {
    assert_levels_well_formed((20..=28).step_by(2));
}

fn assert_levels_well_formed(levels: impl Iterator<Item = usize>) {
    let mut previous = 0;
    for level in levels {
        let basis = untrained_basis(level).unwrap();
        let scalars = basis.alpha_moment_mapping.len();
        assert!(
            scalars > previous,
            "level {level}: {scalars} functions, level {} had {previous}",
            level - 2
        );
        previous = scalars;
        assert_eq!(basis.scalar_levels.len(), scalars);
        assert!(
            basis.scalar_levels.iter().all(|&l| l <= level),
            "level {level}: {:?}",
            basis.scalar_levels
        );
        assert_eq!(
            basis.scalar_levels.iter().max(),
            Some(&level),
            "level {level}: the top level is reached"
        );
        let max_rank = level.saturating_sub(4) / 2;
        for &[mu, a, b, c] in &basis.alpha_index_basic {
            assert!(mu < basis.radial_funcs_count && moment_level(mu, a + b + c) <= level);
            assert!(
                a + b + c == 0 || a + b + c <= max_rank,
                "level {level}: rank {} is never contracted",
                a + b + c
            );
        }
        let basic = basis.alpha_index_basic.len();
        let mut last_target = basic;
        for &[i1, i2, mult, i3] in &basis.alpha_index_times {
            assert!(
                i1 <= i2 && i2 < i3 && i3 < basis.alpha_moments_count && mult > 0,
                "level {level}"
            );
            assert!(i3 >= last_target, "level {level}: targets in order");
            last_target = i3;
        }
        let mut mapping = basis.alpha_moment_mapping.clone();
        mapping.dedup();
        assert_eq!(mapping.len(), scalars, "level {level}: distinct, sorted moments");
        assert!(mapping.iter().all(|&m| m < basis.alpha_moments_count));
    }
}

/// `MtpParameters::untrained` lays the generated basis out as an MLIP untrained file: the MLIP level-8
/// template's header (species, Chebyshev basis, distances), the generated `alpha_*` arrays, no
/// coefficients; written and read back unchanged, byte for byte.
#[test]
fn untrained_parameters_write_as_an_mlip_template_and_read_back() {
    use gbion_potentials::mtp::MtpParameters;
    let dir = tempfile::tempdir().unwrap();
    let template = MtpParameters::read(std::path::Path::new(&format!(
        "{}/tests/fixtures/mtp_untrained/08.mtp",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap();
    let generated = MtpParameters::untrained(8, 1, 0.5, 5.0, 8).unwrap();
    let basis = untrained_basis(8).unwrap();
    assert_eq!(
        (generated.alpha_index_basic.clone(), generated.alpha_index_times.clone()),
        (basis.alpha_index_basic, basis.alpha_index_times)
    );
    for (a, b) in [
        (generated.species_count, template.species_count),
        (generated.radial_basis_size, template.radial_basis_size),
        (generated.radial_funcs_count, template.radial_funcs_count),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(
        (generated.min_dist, generated.max_dist),
        (template.min_dist, template.max_dist)
    );
    assert_eq!(generated.potential_name, template.potential_name);
    assert!(generated.radial_coeffs.is_none() && generated.moment_coeffs.is_none());
    let path = dir.path().join("untrained_16.mtp");
    let level16 = MtpParameters::untrained(16, 5, 1.0, 5.0, 8).unwrap();
    level16.write(&path).unwrap();
    let back = MtpParameters::read(&path).unwrap();
    assert_eq!(back, level16);
    assert_eq!(back.to_mtp_string(), std::fs::read_to_string(&path).unwrap());
    assert!(MtpParameters::untrained(1, 1, 0.5, 5.0, 8).is_err());
}
