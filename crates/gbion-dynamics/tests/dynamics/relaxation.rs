//! Relaxation: a compressed Lennard-Jones fcc crystal relaxes (cell and positions, P = 0) to the
//! analytic lattice constant of the truncated lattice sum, a₀ = σ (2 A₁₂ / A₆)^{1/6} with
//! A_n = Σ_{R ≠ 0, |R| < r_c} (|R|/a)^{−n} over the fcc lattice; rattled atoms in the fixed cell return to
//! the perfect lattice energy. Both FIRE and L-BFGS. CaO with the published pedone2006 set relaxes to the
//! lattice constant its LAMMPS reference example reports.

use crate::common::{EPSILON, SIGMA, argon_cut, fcc};
use gbion_dynamics::Engine;
use gbion_dynamics::relax::{Algorithm, RelaxOptions, relax};
use gbion_potentials::{Request, evaluate};

const CUTOFF: f64 = 8.5;

/// Lattice sums A_n of the fcc lattice (unit lattice constant) over vectors shorter than `range`.
fn lattice_sums(range: f64) -> (f64, f64) {
    let (mut a6, mut a12) = (0.0, 0.0);
    let m = (2.0 * range).ceil() as i32 + 1;
    for i in -m..=m {
        for j in -m..=m {
            for k in -m..=m {
                // fcc lattice points: half-integer coordinates with an even sum of doubled coordinates.
                if (i + j + k) % 2 != 0 || (i, j, k) == (0, 0, 0) {
                    continue;
                }
                let d = 0.5 * ((i * i + j * j + k * k) as f64).sqrt();
                if d < range {
                    a6 += d.powi(-6);
                    a12 += d.powi(-12);
                }
            }
        }
    }
    (a6, a12)
}

/// The analytic a₀, checked self-consistently (the same shells lie within the cutoff at a₀).
fn analytic_a0() -> f64 {
    let mut a = 1.55 * SIGMA;
    for _ in 0..5 {
        let (a6, a12) = lattice_sums(CUTOFF / a);
        a = SIGMA * (2.0 * a12 / a6).powf(1.0 / 6.0);
    }
    a
}

fn relax_cell(algorithm: Algorithm) {
    let potential = argon_cut(CUTOFF);
    let mut engine = Engine::new(&potential, 0.5);
    let a0 = analytic_a0();
    let start = fcc("Ar", 5.0, 2);
    let options = RelaxOptions {
        algorithm,
        fmax: 1e-4,
        cell: true,
        stress_tol: 1e-7,
        max_steps: 2000,
        ..Default::default()
    };
    let relaxed = relax(start, &mut engine, &options, |_, _, _| {}).unwrap();
    let lengths = relaxed.structure.cell.lengths();
    let a = lengths.iter().sum::<f64>() / 6.0;
    let per_atom = relaxed.energy / relaxed.structure.len() as f64;
    let (a6, a12) = lattice_sums(CUTOFF / a0);
    let exact_energy = 2.0 * EPSILON * ((SIGMA / a0).powi(12) * a12 - (SIGMA / a0).powi(6) * a6);
    eprintln!(
        "{algorithm:?}: a = {a:.6} Å (analytic {a0:.6}), E/N = {per_atom:.6} eV (analytic {exact_energy:.6}), {} steps, {} evaluations",
        relaxed.steps,
        engine.evaluations()
    );
    assert!(relaxed.converged);
    assert!((a - a0).abs() < 1e-4, "a = {a}, analytic {a0}");
    for l in lengths {
        assert!((l / 2.0 - a0).abs() < 1e-4, "cell lengths {lengths:?}");
    }
    assert!((per_atom - exact_energy).abs() < 1e-7);
}

#[test]
fn fire_relaxes_lj_fcc_to_the_analytic_lattice_constant() {
    relax_cell(Algorithm::Fire);
}

#[test]
fn lbfgs_relaxes_lj_fcc_to_the_analytic_lattice_constant() {
    relax_cell(Algorithm::Lbfgs);
}

#[test]
fn rattled_positions_relax_to_the_perfect_lattice() {
    let potential = argon_cut(CUTOFF);
    let a0 = analytic_a0();
    let perfect = fcc("Ar", a0, 2);
    let e_perfect = evaluate(&potential, &perfect, Request::ENERGY).unwrap().energy;
    for algorithm in [Algorithm::Fire, Algorithm::Lbfgs] {
        let mut rattled = perfect.clone();
        for (i, p) in rattled.positions.iter_mut().enumerate() {
            let k = i as f64;
            p[0] += 0.15 * (1.3 * k).sin();
            p[1] += 0.15 * (2.1 * k).cos();
            p[2] += 0.15 * (0.7 * k + 1.0).sin();
        }
        let mut engine = Engine::new(&potential, 0.5);
        let options = RelaxOptions {
            algorithm,
            fmax: 1e-5,
            ..Default::default()
        };
        let relaxed = relax(rattled, &mut engine, &options, |_, _, _| {}).unwrap();
        eprintln!(
            "{algorithm:?} positions: E − E_perfect = {:.2e} eV in {} steps",
            relaxed.energy - e_perfect,
            relaxed.steps
        );
        assert!(relaxed.converged);
        assert!((relaxed.energy - e_perfect).abs() < 1e-8);
    }
}

/// Fixed atoms keep their positions during relaxation; the others relax.
#[test]
fn fixed_atoms_stay_put_during_relaxation() {
    let potential = argon_cut(CUTOFF);
    let mut s = fcc("Ar", analytic_a0(), 2);
    for (i, p) in s.positions.iter_mut().enumerate() {
        p[0] += 0.1 * (1.7 * i as f64).sin();
    }
    let fixed: Vec<i64> = (0..s.len()).map(|i| i64::from(i < 4)).collect();
    s.set_int_tag(gbion_atoms::structure::tags::FIXED, fixed).unwrap();
    let start = s.positions.clone();
    let mut engine = Engine::new(&potential, 0.5);
    let options = RelaxOptions {
        algorithm: Algorithm::Lbfgs,
        fmax: 1e-4,
        ..Default::default()
    };
    let relaxed = relax(s, &mut engine, &options, |_, _, _| {}).unwrap();
    assert!(relaxed.converged);
    for (i, (now, before)) in relaxed.structure.positions.iter().zip(&start).enumerate() {
        assert_eq!(now == before, i < 4, "atom {i}");
    }
}

/// A published rigid-ion model: `builtin:pedone2006` (Pedone et al., J. Phys. Chem. B 110, 11780, 2006).
/// Its LAMMPS reference example (`examples/PACKAGES/pedone/in.pedone.relax`, log of 9 Apr 2024) relaxes
/// rocksalt CaO to "Expected lattice parameter: 4.7748" Å; L-BFGS with the cell from 4.9 Å finds it.
#[test]
fn lbfgs_relaxes_cao_to_the_lattice_constant_pedones_lammps_example_reports() {
    use gbion_atoms::{Cell, Element, Structure};
    use gbion_potentials::rigid_ion::{RigidIon, builtin};
    let potential = RigidIon::from_toml(builtin("pedone2006").unwrap(), "builtin:pedone2006").unwrap();
    let a = 4.9;
    let fcc = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let (mut elements, mut positions) = (Vec::new(), Vec::new());
    for (symbol, offset) in [("Ca", 0.0), ("O", 0.5)] {
        for b in fcc {
            elements.push(Element::from_symbol(symbol).unwrap());
            positions.push([(b[0] + offset) * a, b[1] * a, b[2] * a]);
        }
    }
    let start = Structure::new(Cell::orthorhombic([a; 3]).unwrap(), elements, positions).unwrap();
    let mut engine = Engine::new(&potential, 0.5);
    let options = RelaxOptions {
        algorithm: Algorithm::Lbfgs,
        fmax: 1e-4,
        cell: true,
        stress_tol: 1e-7,
        max_steps: 500,
        ..Default::default()
    };
    let relaxed = relax(start, &mut engine, &options, |_, _, _| {}).unwrap();
    assert!(relaxed.converged, "{} steps", relaxed.steps);
    for l in relaxed.structure.cell.lengths() {
        assert!((l - 4.7748).abs() < 1e-3, "CaO a = {l} Å vs 4.7748");
    }
}
