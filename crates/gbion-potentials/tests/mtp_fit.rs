//! Parameter derivatives of the MTP for fitting: the linear rows reproduce energy, forces and stress
//! exactly; θ round-trips; the directional derivative Ė equals −Σ F·v + V Σ U:σ; and ∂(a·E + Ė)/∂θ equals
//! central differences in every parameter.

use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure, Vec3};
use gbion_potentials::mtp::{FitDirection, FitTables, Mtp};
use gbion_potentials::{Output, Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

fn potential(name: &str, species: &[&str]) -> Mtp {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/mtp/potentials/{name}.mtp"));
    Mtp::read(&path).unwrap().with_species(elements(species)).unwrap()
}

/// A random triclinic cell (thinner than twice the cutoff along one axis) with `n` atoms of `species`,
/// no two closer than 1.6 Å.
fn random_structure(species: &[&str], n: usize, seed: u64) -> Structure {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let cell = Cell::periodic([[7.1, 0.0, 0.0], [1.3, 6.4, 0.0], [0.8, -1.1, 8.3]]).unwrap();
    let m = cell.matrix();
    let mut positions: Vec<Vec3> = Vec::new();
    let mut kinds = Vec::new();
    while positions.len() < n {
        let f: [f64; 3] = std::array::from_fn(|_| rng.random::<f64>());
        let r = [0, 1, 2].map(|c| (0..3).map(|k| f[k] * m[k][c]).sum::<f64>());
        if positions.iter().all(|&p| {
            let d = cell.minimum_image([0, 1, 2].map(|c| r[c] - p[c]));
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() > 1.6
        }) {
            positions.push(r);
            kinds.push(species[positions.len() % species.len()]);
        }
    }
    Structure::new(cell, elements(&kinds), positions).unwrap()
}

fn full_list(mtp: &Mtp, s: &Structure) -> NeighborList {
    NeighborList::build(s, mtp.cutoff(), 0.0, ListKind::Full).unwrap()
}

fn efs(mtp: &Mtp, s: &Structure) -> Output {
    evaluate(mtp, s, Request::EFS).unwrap()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Cases: (potential, its species, the species present in the structure, atoms).
const CASES: [(&str, &[&str], &[&str], usize); 3] = [
    ("l08_2sp", &["Zr", "O"], &["Zr", "O"], 9),
    (
        "l16_5sp",
        &["Li", "Sr", "Ta", "Zr", "O"],
        &["Li", "Sr", "Ta", "O", "Zr", "O"],
        8,
    ),
    ("l20_3sp", &["Li", "Ta", "O"], &["Li", "O", "Ta"], 6),
];

#[test]
fn linear_rows_reproduce_energy_forces_and_stress() {
    for (k, &(name, species, present, n)) in CASES.iter().enumerate() {
        let mtp = potential(name, species);
        let s = random_structure(present, n, 10 + k as u64);
        let rows = mtp.linear_rows(&s, &full_list(&mtp, &s)).unwrap();
        let theta = mtp.parameter_vector();
        let linear = &theta[mtp.parameter_offsets().species..];
        assert_eq!(linear.len(), rows.columns);
        let out = efs(&mtp, &s);
        let scale = out.energy.abs().max(1.0);
        assert!(
            (dot(&rows.energy, linear) - out.energy).abs() < 1e-11 * scale,
            "{name}: energy"
        );
        let forces = out.forces.unwrap();
        let force_scale = forces.iter().flatten().fold(1e-3f64, |m, f| m.max(f.abs()));
        for (r, &f) in forces.iter().flatten().enumerate() {
            let row = &rows.forces[r * rows.columns..(r + 1) * rows.columns];
            assert!(
                (dot(row, linear) - f).abs() < 1e-10 * force_scale,
                "{name}: force row {r}"
            );
        }
        let stress = out.stress.unwrap();
        let stress_scale = stress.iter().fold(1e-6f64, |m, x| m.max(x.abs()));
        for (v, &sv) in stress.iter().enumerate() {
            let row = &rows.stress[v * rows.columns..(v + 1) * rows.columns];
            assert!(
                (dot(row, linear) - sv).abs() < 1e-10 * stress_scale,
                "{name}: stress {v}"
            );
        }
    }
}

#[test]
fn parameter_vector_round_trips() {
    let mtp = potential("l16_5sp", &["Li", "Sr", "Ta", "Zr", "O"]);
    let theta = mtp.parameter_vector();
    assert_eq!(theta.len(), mtp.parameter_offsets().len);
    let again = mtp.with_parameter_vector(&theta).unwrap();
    assert_eq!(again.parameters(), mtp.parameters());
    assert!(mtp.with_parameter_vector(&theta[1..]).is_err());
    let mut bad = theta.clone();
    bad[3] = f64::NAN;
    assert!(
        mtp.with_parameter_vector(&bad)
            .unwrap_err()
            .to_string()
            .contains("parameter 3")
    );
}

/// a·E + Ė for direction (a, v, U), from energy, forces and stress: Ė = −Σ F·v + V Σ U:σ.
fn objective(mtp: &Mtp, s: &Structure, direction: &FitDirection) -> f64 {
    let out = efs(mtp, s);
    let forces = out.forces.unwrap();
    let sigma = out.stress.unwrap();
    let full = [
        [sigma[0], sigma[5], sigma[4]],
        [sigma[5], sigma[1], sigma[3]],
        [sigma[4], sigma[3], sigma[2]],
    ];
    let work: f64 = forces
        .iter()
        .zip(&direction.displacements)
        .map(|(f, v)| -dot(f, v))
        .sum();
    let strain: f64 = (0..3)
        .flat_map(|a| (0..3).map(move |b| (a, b)))
        .map(|(a, b)| direction.strain[a][b] * full[a][b])
        .sum();
    direction.energy_factor * out.energy + work + s.cell.volume() * strain
}

fn random_direction(n: usize, seed: u64) -> FitDirection {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let upper: [f64; 6] = std::array::from_fn(|_| rng.random::<f64>() - 0.5);
    let strain = [
        [upper[0], upper[5], upper[4]],
        [upper[5], upper[1], upper[3]],
        [upper[4], upper[3], upper[2]],
    ];
    FitDirection {
        energy_factor: 0.7,
        displacements: (0..n)
            .map(|_| std::array::from_fn(|_| rng.random::<f64>() - 0.5))
            .collect(),
        strain,
    }
}

#[test]
fn directional_gradient_matches_finite_differences_in_every_parameter() {
    for (k, &(name, species, present, n)) in CASES.iter().enumerate() {
        let mtp = potential(name, species);
        let s = random_structure(present, n, 20 + k as u64);
        let list = full_list(&mtp, &s);
        let direction = random_direction(n, 30 + k as u64);
        let theta = mtp.parameter_vector();
        let mut grad = vec![0.0; theta.len()];
        let (energy, rate) = mtp
            .directional_parameter_gradient(&s, &list, &direction, &mut grad)
            .unwrap();
        let out = efs(&mtp, &s);
        assert!(
            (energy - out.energy).abs() < 1e-11 * out.energy.abs().max(1.0),
            "{name}: E"
        );
        let expected_rate = objective(&mtp, &s, &direction) - direction.energy_factor * out.energy;
        assert!(
            (rate - expected_rate).abs() < 1e-9 * expected_rate.abs().max(1.0),
            "{name}: Ė {rate} vs {expected_rate}"
        );
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let mut nonzero = 0;
        for p in 0..theta.len() {
            let h = 1e-6 * theta[p].abs().max(1e-2);
            let shifted = |delta: f64| {
                let mut t = theta.clone();
                t[p] += delta;
                objective(&mtp.with_parameter_vector(&t).unwrap(), &s, &direction)
            };
            let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
            assert!(
                (numeric - grad[p]).abs() < 1e-6 * scale + 1e-6 * numeric.abs(),
                "{name}: ∂/∂θ[{p}] = {} vs finite differences {numeric} (largest {scale})",
                grad[p]
            );
            nonzero += usize::from(grad[p] != 0.0);
        }
        // Every group of parameters takes part (pairs absent from the structure have zero derivatives).
        let offsets = mtp.parameter_offsets();
        assert!(
            grad[..offsets.species].iter().any(|&g| g != 0.0) && nonzero > offsets.len / 4,
            "{name}"
        );
    }
}

#[test]
fn evaluate_for_fit_matches_compute_and_reused_tables_give_the_same_gradient() {
    let mut tables = FitTables::default();
    for (k, &(name, species, present, n)) in CASES.iter().enumerate() {
        let mtp = potential(name, species);
        let s = random_structure(present, n, 40 + k as u64);
        let list = full_list(&mtp, &s);
        let request = Request {
            energies: true,
            ..Request::EFS
        };
        let expected = evaluate(&mtp, &s, request).unwrap();
        // `tables` still holds the previous case's (larger or smaller) configuration.
        let out = mtp.evaluate_for_fit(&s, &list, request, &mut tables).unwrap();
        let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-12 * scale.max(1.0);
        assert!(close(out.energy, expected.energy, expected.energy.abs()), "{name}: E");
        let pairs = [
            (out.energies.unwrap(), expected.energies.unwrap()),
            (
                out.forces.unwrap().into_iter().flatten().collect(),
                expected.forces.unwrap().into_iter().flatten().collect(),
            ),
            (out.stress.unwrap().to_vec(), expected.stress.unwrap().to_vec()),
        ];
        for (got, want) in &pairs {
            assert_eq!(got.len(), want.len(), "{name}");
            let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(
                got.iter().zip(want).all(|(a, b)| close(*a, *b, scale)),
                "{name}: {got:?} vs {want:?}"
            );
        }
        let direction = random_direction(n, 50 + k as u64);
        let mut reused = vec![0.0; mtp.parameter_offsets().len];
        let from_tables = mtp
            .parameter_gradient_from(&mut tables, &direction, &mut reused)
            .unwrap();
        let mut fresh = vec![0.0; reused.len()];
        let direct = mtp
            .directional_parameter_gradient(&s, &list, &direction, &mut fresh)
            .unwrap();
        assert_eq!(from_tables, direct, "{name}: (E, Ė)");
        assert_eq!(reused, fresh, "{name}: gradient");
        // A direction for another atom count is an error, not a panic.
        let short = FitDirection {
            displacements: direction.displacements[1..].to_vec(),
            ..direction
        };
        assert!(mtp.parameter_gradient_from(&mut tables, &short, &mut reused).is_err());
    }
}
