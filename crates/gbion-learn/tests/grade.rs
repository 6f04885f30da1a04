//! Tests of the extrapolation grade (`gbion_learn::grade`): MaxVol against brute-force enumeration of all
//! square submatrices (the D-optimal choice wherever single- and pair-swap dominance imply it), grades of
//! active and training rows, batch selection against brute force (a greedy choice by determinants, the
//! best single addition over the pool, the best pair within a proven factor), equation weights of configuration mode (force and virial
//! rows), the rank-deficient cases, and the active-set file round trip. Rows come from the 2-species
//! level-8 MTP of the potentials' fixtures (random coefficients, types Zr, O).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef};
use gbion_atoms::{Cell, Element, Structure};
use gbion_learn::grade::{
    ActiveSet, DEFAULT_SELECT_THRESHOLD, DEFAULT_STOP_THRESHOLD, EquationWeights, Error, RowMode, SWAP_TOLERANCE,
    Thresholds, Verdict, independent_columns, maxvol, parameter_count, rows, weighted_rows,
};
use gbion_potentials::mtp::Mtp;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Rounding allowance on grades that are exactly 1 or ≤ 1 + tol in exact arithmetic.
const ROUNDING: f64 = 1e-9;

fn mtp() -> Mtp {
    let path = format!(
        "{}/../gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp",
        env!("CARGO_MANIFEST_DIR")
    );
    let species = ["Zr", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    Mtp::read(path.as_ref()).unwrap().with_species(species).unwrap()
}

/// A periodic 2 × 2 × 2 simple-cubic arrangement of 8 atoms with lattice spacing `spacing` (Å), random
/// displacements up to `jitter` (Å) per component and each atom O with probability `oxygen`.
fn config(rng: &mut Xoshiro256PlusPlus, spacing: f64, jitter: f64, oxygen: f64) -> Structure {
    let side = 2.0 * spacing;
    let cell = Cell::periodic([[side, 0.0, 0.0], [0.0, side, 0.0], [0.0, 0.0, side]]).unwrap();
    let mut elements = Vec::new();
    let mut positions = Vec::new();
    for i in 0..8 {
        let site = [i & 1, (i >> 1) & 1, i >> 2].map(|k| k as f64 * spacing);
        positions.push(site.map(|x| x + jitter * (2.0 * rng.random::<f64>() - 1.0)));
        let symbol = if rng.random::<f64>() < oxygen { "O" } else { "Zr" };
        elements.push(Element::from_symbol(symbol).unwrap());
    }
    Structure::new(cell, elements, positions).unwrap()
}

fn training_set(seed: u64, count: usize) -> Vec<Structure> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..count).map(|_| config(&mut rng, 2.2, 0.25, 0.5)).collect()
}

fn det(m: MatRef<'_, f64>) -> f64 {
    m.determinant()
}

/// The rows `picked` of `m`.
fn pick(m: MatRef<'_, f64>, picked: &[usize]) -> Mat<f64> {
    Mat::from_fn(picked.len(), m.ncols(), |j, k| m[(picked[j], k)])
}

/// Every k-subset of 0..n (ascending).
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    (k - 1..n)
        .flat_map(|last| {
            subsets(last, k - 1).into_iter().map(move |mut s| {
                s.push(last);
                s
            })
        })
        .collect()
}

/// The active rows restricted to the active columns (A) and the pool rows restricted likewise.
fn restricted(active: &ActiveSet, rows: &[Vec<f64>]) -> Mat<f64> {
    let columns = active.columns();
    Mat::from_fn(rows.len(), columns.len(), |i, k| rows[i][columns[k]])
}

fn active_matrix(active: &ActiveSet) -> Mat<f64> {
    let values: Vec<Vec<f64>> = active.rows().iter().map(|r| r.values.clone()).collect();
    restricted(active, &values)
}

/// |det| of the rows `picked` of `b`.
fn volume(b: MatRef<'_, f64>, picked: &[usize]) -> f64 {
    det(pick(b, picked).as_ref()).abs()
}

/// The largest |k × k minor| of `c` over rows outside `active`, k = 1 and 2 (row sets and column sets
/// enumerated by brute force).
fn largest_minors(c: MatRef<'_, f64>, active: &[usize]) -> [f64; 2] {
    let outside: Vec<usize> = (0..c.nrows()).filter(|i| !active.contains(i)).collect();
    let mut largest = [0.0_f64; 2];
    for k in 1..=2 {
        for rows in subsets(outside.len(), k) {
            for cols in subsets(c.ncols(), k) {
                let minor = Mat::from_fn(k, k, |a, b| c[(outside[rows[a]], cols[b])]);
                largest[k - 1] = largest[k - 1].max(det(minor.as_ref()).abs());
            }
        }
    }
    largest
}

#[test]
fn maxvol_is_the_brute_force_d_optimal_choice_wherever_swap_dominance_implies_it() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let cases = 200;
    let tol = 1.0 + SWAP_TOLERANCE;
    let (mut proven, mut equal_beyond) = (0, 0);
    for case in 0..cases {
        let r = 1 + case % 4;
        let n = r + (case / 4) % (11 - r);
        let b = Mat::from_fn(n, r, |_, _| 2.0 * rng.random::<f64>() - 1.0);
        let found = maxvol(b.as_ref()).unwrap();
        let found_volume = volume(b.as_ref(), &found);
        // Single- and pair-swap dominance: every 1 × 1 and 2 × 2 minor of C = B A⁻¹ outside A ≤ 1 + tol.
        let c = &b * pick(b.as_ref(), &found).partial_piv_lu().inverse();
        let [single, pair] = largest_minors(c.as_ref(), &found);
        assert!(
            single <= tol + ROUNDING && pair <= tol + ROUNDING,
            "case {case}: {single}, {pair}"
        );
        // Brute force over all r-subsets T. Those differing from A in at most two rows are within 1 + tol
        // (|det B_T| = |det A| |det C[T \ S, J]|), all are within the Hadamard bound.
        let hadamard = (tol * tol * r as f64).powf(r as f64 / 2.0);
        let mut sorted = found.clone();
        sorted.sort_unstable();
        let mut volumes: Vec<(f64, Vec<usize>)> = Vec::new();
        for subset in subsets(n, r) {
            let v = volume(b.as_ref(), &subset);
            let differing = subset.iter().filter(|i| !sorted.contains(i)).count();
            if differing <= 2 {
                assert!(v <= tol * found_volume * (1.0 + ROUNDING), "case {case}: {subset:?}");
            }
            assert!(
                v <= hadamard * found_volume * (1.0 + ROUNDING),
                "case {case}: {subset:?}"
            );
            volumes.push((v, subset));
        }
        volumes.sort_by(|x, y| y.0.total_cmp(&x.0));
        if r.min(n - r) <= 2 {
            // Every subset differs from A in ≤ 2 rows: A is the D-optimal one, and it is the brute-force
            // maximiser itself whenever the runner-up is more than the factor 1 + tol below the maximum.
            proven += 1;
            let separated = volumes.len() == 1 || volumes[1].0 * tol * (1.0 + ROUNDING) < volumes[0].0;
            assert!(
                !separated || sorted == volumes[0].1,
                "case {case}: {sorted:?} vs {:?}",
                volumes[0]
            );
        } else if sorted == volumes[0].1 {
            equal_beyond += 1;
        }
    }
    assert!(proven >= cases / 2, "the cases exercise the exact regime: {proven}");
    eprintln!(
        "D-optimal by proof in {proven} of {cases} cases (min(r, n − r) ≤ 2); beyond it MaxVol with pair swaps \
         found the brute-force maximum in {equal_beyond} of {}",
        cases - proven
    );
}

#[test]
fn independent_columns_drop_zero_and_dependent_columns() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let n = 12;
    let x: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let y: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    // Columns: x, 0, 3x − 2y, y, 1e6·x (a scaled copy).
    let m = Mat::from_fn(n, 5, |i, k| [x[i], 0.0, 3.0 * x[i] - 2.0 * y[i], y[i], 1e6 * x[i]][k]);
    let columns = independent_columns(m.as_ref(), 1e-10);
    assert_eq!(columns.len(), 2, "{columns:?}");
    assert!(!columns.contains(&1));
    let sub = Mat::from_fn(n, 2, |i, k| m[(i, columns[k])]);
    assert_eq!(independent_columns(sub.as_ref(), 1e-10), vec![0, 1]);
    // MaxVol on a rank-deficient matrix is an error, not a panic.
    assert!(maxvol(m.as_ref()).is_err());
    assert!(maxvol(Mat::<f64>::zeros(2, 3).as_ref()).is_err());
}

#[test]
fn active_rows_grade_one_and_training_rows_at_most_one() {
    let mtp = mtp();
    let training = training_set(11, 6);
    for mode in [RowMode::Site, RowMode::Configuration] {
        let training = if mode == RowMode::Site {
            training.clone()
        } else {
            training_set(12, 20)
        };
        let active = ActiveSet::from_training(&mtp, &training, mode).unwrap();
        let p = parameter_count(&mtp);
        assert_eq!(p, 2 + 9);
        assert_eq!(active.columns().len(), active.rows().len());
        let values: Vec<Vec<f64>> = active.rows().iter().map(|r| r.values.clone()).collect();
        for g in active.grade_rows(&values).unwrap() {
            assert!((g - 1.0).abs() < ROUNDING, "{mode:?}: active row grade {g}");
        }
        for (c, structure) in training.iter().enumerate() {
            let grade = active.grade(&mtp, structure).unwrap();
            assert!(
                grade.configuration <= 1.0 + SWAP_TOLERANCE + ROUNDING,
                "{mode:?} {c}: {grade:?}"
            );
            let direct = active.grade_rows(&rows(&mtp, structure, mode).unwrap()).unwrap();
            match mode {
                RowMode::Site => {
                    let per_atom = grade.per_atom.unwrap();
                    assert_eq!(per_atom, direct);
                    assert_eq!(grade.configuration, per_atom.iter().fold(0.0, |m: f64, &g| m.max(g)));
                }
                RowMode::Configuration => assert!(grade.per_atom.is_none() && direct == [grade.configuration]),
            }
        }
        // Each grade is max_j |(b A⁻¹)_j|: checked against a direct solve for a new configuration.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let new = config(&mut rng, 2.0, 0.4, 0.5);
        let new_rows = rows(&mtp, &new, mode).unwrap();
        let a = active_matrix(&active);
        let c = restricted(&active, &new_rows) * a.partial_piv_lu().inverse();
        let grades = active.grade_rows(&new_rows).unwrap();
        for (i, g) in grades.iter().enumerate() {
            let want = (0..c.ncols()).fold(0.0_f64, |m, j| m.max(c[(i, j)].abs()));
            assert!((g - want).abs() <= 1e-9 * want, "{mode:?} row {i}: {g} vs {want}");
        }
        assert!(
            grades.iter().any(|&g| g > 1.0 + SWAP_TOLERANCE),
            "{mode:?}: a compressed cell extrapolates"
        );
    }
}

/// A with row j replaced by b.
fn with_row(a: &Mat<f64>, j: usize, b: &[f64]) -> Mat<f64> {
    let mut swapped = a.clone();
    for (col, &value) in b.iter().enumerate() {
        swapped[(j, col)] = value;
    }
    swapped
}

/// max over positions j of |det A_j(b)| / |det A|, A_j(b) = A with row j replaced by b.
fn brute_force_gain(a: &Mat<f64>, b: &[f64]) -> f64 {
    let base = det(a.as_ref()).abs();
    (0..a.nrows())
        .map(|j| det(with_row(a, j, b).as_ref()).abs() / base)
        .fold(0.0, f64::max)
}

/// The greedy choice computed from determinants: at each step the pool configuration (one row each) and
/// active-row position whose swap maximises |det A|, while the gain exceeds `threshold`.
fn brute_force_greedy(a: &Mat<f64>, pool: &[Vec<f64>], threshold: f64, max_batch: usize) -> Vec<usize> {
    let mut a = a.clone();
    let mut remaining: Vec<usize> = (0..pool.len()).collect();
    let mut chosen = Vec::new();
    while chosen.len() < max_batch {
        let base = det(a.as_ref()).abs();
        let mut best: Option<(usize, usize, f64)> = None;
        for (k, &c) in remaining.iter().enumerate() {
            for j in 0..a.nrows() {
                let gain = det(with_row(&a, j, &pool[c]).as_ref()).abs() / base;
                if best.is_none_or(|b| gain > b.2) {
                    best = Some((k, j, gain));
                }
            }
        }
        match best {
            Some((k, j, gain)) if gain > threshold => {
                let c = remaining.remove(k);
                a = with_row(&a, j, &pool[c]);
                chosen.push(c);
            }
            _ => break,
        }
    }
    chosen
}

#[test]
fn batch_selection_equals_brute_force_greedy_choice() {
    let mtp = mtp();
    let training = training_set(21, 20);
    let mut active = ActiveSet::from_training(&mtp, &training, RowMode::Configuration).unwrap();
    assert_eq!(
        active.columns().len(),
        parameter_count(&mtp),
        "full rank on 20 varied configurations"
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(22);
    let pool: Vec<Structure> = (0..10)
        .map(|k| config(&mut rng, 2.0 + 0.05 * k as f64, 0.35, 0.5))
        .collect();
    let pool_rows: Vec<Vec<f64>> = pool
        .iter()
        .map(|s| rows(&mtp, s, RowMode::Configuration).unwrap().remove(0))
        .collect();
    let pool_restricted = restricted(&active, &pool_rows);
    let pool_restricted: Vec<Vec<f64>> = (0..pool.len())
        .map(|i| (0..pool_restricted.ncols()).map(|k| pool_restricted[(i, k)]).collect())
        .collect();
    let threshold = 1.5;
    let want = brute_force_greedy(&active_matrix(&active), &pool_restricted, threshold, 4);
    assert!(want.len() >= 2, "the case exercises more than one step: {want:?}");
    let before = active.configurations();
    let selections = active.select_batch(&mtp, &pool, threshold, 4).unwrap();
    let got: Vec<usize> = selections.iter().map(|s| s.index).collect();
    assert_eq!(got, want);
    // The first grade is the largest determinant gain against the training active set.
    let first = pool_restricted[want[0]].clone();
    let a = active_matrix(&ActiveSet::from_training(&mtp, &training, RowMode::Configuration).unwrap());
    let gain = brute_force_gain(&a, &first);
    assert!(
        (selections[0].grade - gain).abs() <= 1e-9 * gain,
        "{} vs {gain}",
        selections[0].grade
    );
    assert!(selections.iter().all(|s| s.grade > threshold));
    assert_eq!(active.configurations(), before + got.len());
    // Selected configurations now lie within the active set's hull.
    for &c in &got {
        let g = active.grade(&mtp, &pool[c]).unwrap().configuration;
        assert!(g <= 1.0 + SWAP_TOLERANCE + ROUNDING, "selected {c}: grade {g}");
    }
    // Rows that came in carry the selected configurations' new indices.
    for row in active.rows() {
        let c = row.origin.configuration;
        assert!(c < before || (c - before) < got.len());
        assert_eq!(row.origin.atom, None);
    }
}

/// The largest |det| of an m-subset of the rows of `a` (m × m) and the rows `extra`.
fn best_volume_with(a: &Mat<f64>, extra: &[&[f64]]) -> f64 {
    let m = a.nrows();
    let all = Mat::from_fn(
        m + extra.len(),
        m,
        |i, k| if i < m { a[(i, k)] } else { extra[i - m][k] },
    );
    subsets(m + extra.len(), m)
        .iter()
        .map(|s| volume(all.as_ref(), s))
        .fold(0.0, f64::max)
}

#[test]
fn a_batch_of_one_is_the_brute_force_best_addition_and_a_greedy_pair_is_within_2_gamma_of_the_best_pair() {
    // Configuration mode, one row per configuration: over all pool configurations b and all m-subsets of
    // A ∪ {b}, the largest |det| is |det A| max(1, γ(b)), and the MaxVol update of A ∪ {b} (n = m + 1
    // rows) reaches it. So the batch of one is the brute-force optimum, to the factor 1 + tol. For
    // batches of k ≥ 2 greedy is not exact in general (with A = ε I the best k = m additions are the
    // NP-hard maximal-volume subset of the pool); for k = 2 what holds is a bound: the best pair {p, q}
    // gives at most |det A| max(1, γ_p, γ_q, |2 × 2 minor of C|) ≤ |det A| 2 γ₁² (γ₁ ≥ 1 the largest
    // grade, the first pick), the greedy pair at least |det A| γ₁, so it is within the factor 2 γ₁. (On
    // these pools greedy found the best pair in trials 0–2 and was 0.32 % below it in trial 3, as printed.)
    let mtp = mtp();
    let training = training_set(21, 20);
    let start = ActiveSet::from_training(&mtp, &training, RowMode::Configuration).unwrap();
    let a = active_matrix(&start);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(24);
    for trial in 0..4 {
        let pool: Vec<Structure> = (0..6)
            .map(|k| config(&mut rng, 2.0 + 0.06 * k as f64, 0.3 + 0.05 * trial as f64, 0.5))
            .collect();
        let pool_rows: Vec<Vec<f64>> = pool
            .iter()
            .map(|s| rows(&mtp, s, RowMode::Configuration).unwrap().remove(0))
            .collect();
        let pool_rows = restricted(&start, &pool_rows);
        let best = (0..pool.len())
            .map(|c| {
                let b: Vec<f64> = (0..pool_rows.ncols()).map(|k| pool_rows[(c, k)]).collect();
                best_volume_with(&a, &[&b])
            })
            .fold(0.0, f64::max);
        let mut active = start.clone();
        let chosen = active.select_batch(&mtp, &pool, 1.0, 1).unwrap();
        assert_eq!(chosen.len(), 1, "trial {trial}: some pool configuration extrapolates");
        let got = det(active_matrix(&active).as_ref()).abs();
        let tol = 1.0 + SWAP_TOLERANCE;
        assert!(
            got <= best * (1.0 + ROUNDING) && got * tol * (1.0 + ROUNDING) >= best,
            "trial {trial}: |det| {got} vs brute force {best}"
        );
        let base = det(a.as_ref()).abs();
        assert!(
            (got / base - chosen[0].grade).abs() <= 1e-8 * chosen[0].grade,
            "trial {trial}: gain = grade"
        );
        // Two: brute force over all pairs of the pool.
        let row = |c: usize| -> Vec<f64> { (0..pool_rows.ncols()).map(|k| pool_rows[(c, k)]).collect() };
        let best_pair = subsets(pool.len(), 2)
            .iter()
            .map(|pair| best_volume_with(&a, &[&row(pair[0]), &row(pair[1])]))
            .fold(0.0, f64::max);
        let mut active = start.clone();
        let chosen = active.select_batch(&mtp, &pool, 1.0, 2).unwrap();
        let got_pair = det(active_matrix(&active).as_ref()).abs();
        let first = chosen[0].grade;
        assert!(
            got_pair <= best_pair * (1.0 + ROUNDING) && got_pair * 2.0 * first * (1.0 + ROUNDING) >= best_pair,
            "trial {trial}: greedy pair {got_pair}, best pair {best_pair}, γ₁ {first}"
        );
        eprintln!(
            "trial {trial}: greedy pair / best pair = {:.6} (bound 1 / (2 γ₁) = {:.4})",
            got_pair / best_pair,
            0.5 / first
        );
    }
}

#[test]
fn force_and_stress_rows_are_weighted_linear_rows_and_grade_as_their_determinant_gains() {
    let mtp = mtp();
    let p = parameter_count(&mtp);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(61);
    let s = config(&mut rng, 2.2, 0.25, 0.5);
    let energy_only = weighted_rows(&mtp, &s, RowMode::Configuration, &EquationWeights::default()).unwrap();
    assert_eq!(energy_only, rows(&mtp, &s, RowMode::Configuration).unwrap());
    // Each kind is the unit-weight rows times its weight: 1 energy, 3N force, 6 virial rows.
    let unit = weighted_rows(
        &mtp,
        &s,
        RowMode::Configuration,
        &EquationWeights::new(1.0, 1.0, 1.0).unwrap(),
    )
    .unwrap();
    let weights = EquationWeights::new(0.5, 2.0, 3.0).unwrap();
    let weighted = weighted_rows(&mtp, &s, RowMode::Configuration, &weights).unwrap();
    assert_eq!((unit.len(), weighted.len()), (1 + 3 * s.len() + 6, 1 + 3 * s.len() + 6));
    for (i, (u, w)) in unit.iter().zip(&weighted).enumerate() {
        let factor = if i == 0 {
            0.5
        } else if i <= 3 * s.len() {
            2.0
        } else {
            3.0
        };
        for (x, y) in u.iter().zip(w) {
            assert!((factor * x - y).abs() <= 1e-12 * x.abs().max(1.0), "row {i}");
        }
    }
    // The energy row of Mtp::linear_rows is the sum of the site rows; force and virial rows have no
    // species constants (an energy offset moves neither).
    for (x, y) in unit[0].iter().zip(&energy_only[0]) {
        assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{x} vs {y}");
    }
    assert!(unit[1..].iter().all(|row| row[..2] == [0.0, 0.0]));
    // Zero weights leave rows out.
    let forces_only = EquationWeights::new(0.0, 1.0, 0.0).unwrap();
    assert_eq!(
        weighted_rows(&mtp, &s, RowMode::Configuration, &forces_only).unwrap(),
        unit[1..=3 * s.len()].to_vec()
    );

    // Three configurations give rank 3 from energies alone, all p directions with forces and stresses.
    let three = training_set(42, 3);
    let active = ActiveSet::from_training_weighted(&mtp, &three, RowMode::Configuration, weights).unwrap();
    assert_eq!(active.columns().len(), p);
    assert_eq!(active.weights(), weights);
    let values: Vec<Vec<f64>> = active.rows().iter().map(|r| r.values.clone()).collect();
    for g in active.grade_rows(&values).unwrap() {
        assert!((g - 1.0).abs() < ROUNDING, "active row grade {g}");
    }
    for (c, structure) in three.iter().enumerate() {
        let g = active.grade(&mtp, structure).unwrap();
        assert!(
            g.configuration <= 1.0 + SWAP_TOLERANCE + ROUNDING && g.per_atom.is_none(),
            "{c}: {g:?}"
        );
    }
    // A new configuration's grade is the largest determinant gain of any of its weighted rows in any
    // position of A (brute force over rows and positions).
    let new = config(&mut rng, 2.0, 0.4, 0.5);
    let new_rows = weighted_rows(&mtp, &new, RowMode::Configuration, &weights).unwrap();
    let a = active_matrix(&active);
    let restricted_new = restricted(&active, &new_rows);
    let want = (0..new_rows.len())
        .map(|i| {
            let b: Vec<f64> = (0..restricted_new.ncols()).map(|k| restricted_new[(i, k)]).collect();
            brute_force_gain(&a, &b)
        })
        .fold(0.0, f64::max);
    let got = active.grade(&mtp, &new).unwrap().configuration;
    assert!((got - want).abs() <= 1e-8 * want, "{got} vs {want}");
    assert!(got > 1.0 + SWAP_TOLERANCE, "a compressed cell extrapolates: {got}");

    // Weights are checked, and are for configuration mode only.
    for bad in [
        (-1.0, 0.0, 0.0),
        (0.0, 0.0, 0.0),
        (1.0, f64::NAN, 0.0),
        (1.0, 0.0, f64::INFINITY),
    ] {
        assert!(EquationWeights::new(bad.0, bad.1, bad.2).is_err(), "{bad:?}");
    }
    let err = ActiveSet::from_training_weighted(&mtp, &three, RowMode::Site, weights).unwrap_err();
    assert!(err.to_string().contains("configuration mode"), "{err}");
}

#[test]
fn site_mode_selection_takes_extrapolating_configurations_into_the_active_set() {
    let mtp = mtp();
    let training = training_set(31, 6);
    let mut active = ActiveSet::from_training(&mtp, &training, RowMode::Site).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(32);
    let pool: Vec<Structure> = (0..6)
        .map(|k| config(&mut rng, 1.9 + 0.1 * k as f64, 0.3, 0.5))
        .collect();
    let grades: Vec<f64> = pool
        .iter()
        .map(|s| active.grade(&mtp, s).unwrap().configuration)
        .collect();
    let top = (0..pool.len()).fold(0, |b, i| if grades[i] > grades[b] { i } else { b });
    let got: Vec<usize> = active
        .select_batch(&mtp, &pool, DEFAULT_SELECT_THRESHOLD, 3)
        .unwrap()
        .iter()
        .map(|s| s.index)
        .collect();
    assert_eq!(got[0], top, "the first pick is the largest grade {grades:?}");
    assert!(got.len() <= 3 && got.iter().all(|&c| grades[c] > DEFAULT_SELECT_THRESHOLD));
    for &c in &got {
        let g = active.grade(&mtp, &pool[c]).unwrap().configuration;
        assert!(g <= 1.0 + SWAP_TOLERANCE + ROUNDING, "selected {c}: grade {g}");
    }
    assert!(active.rows().iter().any(|r| r.origin.configuration >= training.len()));
}

#[test]
fn rank_deficient_training_sets_restrict_the_columns_and_grade_unseen_directions_infinite() {
    let mtp = mtp();
    // Only Zr in training: the O constant (column 1) is zero in every row and is dropped.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
    let zr_only: Vec<Structure> = (0..4).map(|_| config(&mut rng, 2.2, 0.25, 0.0)).collect();
    let active = ActiveSet::from_training(&mtp, &zr_only, RowMode::Site).unwrap();
    assert!(!active.columns().contains(&1), "{:?}", active.columns());
    assert!(active.columns().len() < parameter_count(&mtp));
    assert!(active.grade(&mtp, &zr_only[2]).unwrap().configuration <= 1.0 + SWAP_TOLERANCE + ROUNDING);
    let mixed = config(&mut rng, 2.2, 0.25, 0.5);
    let grade = active.grade(&mtp, &mixed).unwrap();
    assert_eq!(grade.configuration, f64::INFINITY);
    for (atom, g) in grade.per_atom.unwrap().iter().enumerate() {
        if mixed.elements[atom].symbol() == "O" {
            assert_eq!(*g, f64::INFINITY, "O atom {atom}");
        }
    }

    // Fewer configurations than parameters in configuration mode: rank 3, new directions are infinite.
    let three = training_set(42, 3);
    let active = ActiveSet::from_training(&mtp, &three, RowMode::Configuration).unwrap();
    assert_eq!(active.columns().len(), 3);
    for s in &three {
        let g = active.grade(&mtp, s).unwrap().configuration;
        assert!(g <= 1.0 + SWAP_TOLERANCE + ROUNDING && g.is_finite(), "{g}");
    }
    let other = &training_set(43, 1)[0];
    assert_eq!(active.grade(&mtp, other).unwrap().configuration, f64::INFINITY);
    // Selecting it raises the rank.
    let mut grown = active.clone();
    let selections = grown.select_batch(&mtp, std::slice::from_ref(other), 2.1, 5).unwrap();
    assert_eq!(
        (selections.len(), selections[0].index, selections[0].grade),
        (1, 0, f64::INFINITY)
    );
    assert_eq!(grown.columns().len(), 4);
    assert!(grown.grade(&mtp, other).unwrap().configuration <= 1.0 + SWAP_TOLERANCE + ROUNDING);

    // Nothing to build from: clear errors.
    let empty = Structure::new(zr_only[0].cell.clone(), Vec::new(), Vec::new()).unwrap();
    for training in [Vec::new(), vec![empty]] {
        let err = ActiveSet::from_training(&mtp, &training, RowMode::Site).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
    }
}

#[test]
fn the_active_set_file_round_trips_and_checks_the_potential() {
    let mtp = mtp();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.als.json");
    let probe = config(&mut Xoshiro256PlusPlus::seed_from_u64(51), 2.0, 0.3, 0.5);
    let weighted = EquationWeights::new(1.0, 0.3, 0.1).unwrap();
    for (mode, weights) in [
        (RowMode::Site, EquationWeights::default()),
        (RowMode::Configuration, EquationWeights::default()),
        (RowMode::Configuration, weighted),
    ] {
        let mut active = ActiveSet::from_training_weighted(&mtp, &training_set(52, 20), mode, weights).unwrap();
        active.select_batch(&mtp, std::slice::from_ref(&probe), 1.0, 1).unwrap();
        active.write(&path).unwrap();
        let back = ActiveSet::read(&path).unwrap();
        assert_eq!((back.mode(), back.weights()), (mode, weights));
        assert_eq!(back.columns(), active.columns());
        assert_eq!(back.rows(), active.rows());
        assert_eq!(back.configurations(), active.configurations());
        let other = config(&mut Xoshiro256PlusPlus::seed_from_u64(53), 1.9, 0.3, 0.5);
        assert_eq!(back.grade(&mtp, &other).unwrap(), active.grade(&mtp, &other).unwrap());
    }
    // A potential with another species map is refused.
    let swapped = mtp
        .clone()
        .with_species(["O", "Zr"].map(|s| Element::from_symbol(s).unwrap()).to_vec())
        .unwrap();
    let back = ActiveSet::read(&path).unwrap();
    assert!(
        back.grade(&swapped, &probe)
            .unwrap_err()
            .to_string()
            .contains("another potential")
    );
    // A file without weights (written before they existed) has MLIP's defaults; bad weights and bad
    // files name the field.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json.as_object_mut().unwrap().remove("weights");
    std::fs::write(&path, json.to_string()).unwrap();
    assert_eq!(ActiveSet::read(&path).unwrap().weights(), EquationWeights::default());
    json["weights"] = serde_json::json!({"energy": 1.0, "force": -1.0, "stress": 0.0});
    std::fs::write(&path, json.to_string()).unwrap();
    let err = ActiveSet::read(&path).unwrap_err();
    assert!(matches!(&err, Error::File { field, .. } if field == "weights"), "{err}");
    std::fs::write(&path, text.replace("\"version\": 1", "\"version\": 7")).unwrap();
    let err = ActiveSet::read(&path).unwrap_err();
    assert!(matches!(&err, Error::File { field, .. } if field == "version"), "{err}");
}

#[test]
fn thresholds_classify_grades_as_mlip() {
    let t = Thresholds::default();
    assert_eq!((t.select, t.stop), (DEFAULT_SELECT_THRESHOLD, DEFAULT_STOP_THRESHOLD));
    assert_eq!(t.verdict(1.0), Verdict::Reliable);
    assert_eq!(t.verdict(2.1), Verdict::Reliable);
    assert_eq!(t.verdict(2.2), Verdict::Select);
    assert_eq!(t.verdict(10.0), Verdict::Select);
    assert_eq!(t.verdict(f64::INFINITY), Verdict::Stop);
    assert!(Thresholds::new(0.5, 10.0).is_err());
    assert!(Thresholds::new(3.0, 2.0).is_err());
    assert!(Thresholds::new(2.0, f64::NAN).is_err());
}
