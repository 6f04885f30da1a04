//! Rigid-ion models against exact results: Madelung constants (Ewald), the Wigner-lattice energy of a
//! charged cell (background term), finite differences of the energy (forces, stress) on a skewed triclinic
//! cell smaller than twice the cutoff, invariances, local energy changes, parameter-file errors.

use gbion_atoms::{Cell, Element, NeighborList, Structure, Vec3};
use gbion_potentials::rigid_ion::{COULOMB_EV_A, RigidIon};
use gbion_potentials::{Change, Potential, Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

mod common;

fn el(symbol: &str) -> Element {
    Element::from_symbol(symbol).unwrap()
}

fn coulomb_only(accuracy: f64, cutoff: f64) -> RigidIon {
    let text = format!(
        "cutoff = {cutoff}\n[coulomb]\nmethod = \"ewald\"\naccuracy = {accuracy}\n[charges]\nNa = 1.0\nCl = -1.0\n"
    );
    RigidIon::from_toml(&text, "coulomb.toml").unwrap()
}

/// Madelung constant M from E = −M k_e N_pairs / r₀.
fn madelung(structure: &Structure, nearest: f64) -> f64 {
    let energy = evaluate(&coulomb_only(1e-12, 6.0), structure, Request::ENERGY)
        .unwrap()
        .energy;
    -energy * nearest / (COULOMB_EV_A * structure.len() as f64 / 2.0)
}

#[test]
fn madelung_constants_of_rock_salt_and_caesium_chloride() {
    let a = 5.64;
    // Rock salt, primitive fcc cell (triclinic, 60° angles, edge a/√2 < 2 r_c) and conventional cube.
    let primitive = Cell::periodic([
        [0.0, a / 2.0, a / 2.0],
        [a / 2.0, 0.0, a / 2.0],
        [a / 2.0, a / 2.0, 0.0],
    ])
    .unwrap();
    let nacl = Structure::new(primitive, vec![el("Na"), el("Cl")], vec![[0.0; 3], [a / 2.0, 0.0, 0.0]]).unwrap();
    assert!((madelung(&nacl, a / 2.0) - 1.747_564_594_633).abs() < 1e-9);
    let mut elements = Vec::new();
    let mut positions = Vec::new();
    for corner in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
        elements.extend([el("Na"), el("Cl")]);
        positions.push(corner.map(|s| s * a));
        positions.push([corner[0] * a + a / 2.0, corner[1] * a, corner[2] * a]);
    }
    let cube = Structure::new(Cell::orthorhombic([a; 3]).unwrap(), elements, positions).unwrap();
    assert!((madelung(&cube, a / 2.0) - 1.747_564_594_633).abs() < 1e-9);
    // CsCl (charges ±1 on Na/Cl labels), nearest distance a√3/2.
    let cscl = Structure::new(
        Cell::orthorhombic([4.1; 3]).unwrap(),
        vec![el("Na"), el("Cl")],
        vec![[0.0; 3], [2.05; 3]],
    )
    .unwrap();
    assert!((madelung(&cscl, 4.1 * 3f64.sqrt() / 2.0) - 1.762_674_773_070).abs() < 1e-9);
}

#[test]
fn charged_cell_energy_is_the_wigner_lattice_energy() {
    // One charge q in a cube of edge L with a neutralising background: E = −(2.837297479480620/2) k_e q²/L.
    let length = 7.3;
    let atoms = Structure::new(
        Cell::orthorhombic([length; 3]).unwrap(),
        vec![el("Na")],
        vec![[1.0, 2.0, 3.0]],
    )
    .unwrap();
    let energy = evaluate(&coulomb_only(1e-12, 6.0), &atoms, Request::ENERGY)
        .unwrap()
        .energy;
    let expected = -0.5 * 2.837_297_479_480_62 * COULOMB_EV_A / length;
    assert!(
        (energy - expected).abs() < 1e-9 * expected.abs(),
        "{energy} vs {expected}"
    );
}

const MODEL: &str = r#"
name = "checks"
cutoff = 7.0
cutoff_mode = "taper"
taper_inner = 5.5
[coulomb]
method = "__METHOD__"
__COULOMB__
[charges]
Li = 1.0
Sr = 2.0
O = -2.0
[[pair]]
species = ["Li", "O"]
buckingham = { a = 426.48, rho = 0.3, c = 0.0 }
[[pair]]
species = ["O", "O"]
buckingham = { a = 22764.0, rho = 0.149, c = 27.88 }
[[pair]]
species = ["Sr", "O"]
morse = { d0 = 0.05, alpha = 1.9, r0 = 2.6 }
repulsion = { b = 5.0 }
[[pair]]
species = ["Li", "Sr"]
lennard_jones = { epsilon = 0.01, sigma = 2.8 }
"#;

fn model(method: &str) -> RigidIon {
    let coulomb = match method {
        "ewald" => "accuracy = 1e-12\ncutoff = 6.5",
        "dsf" => "alpha = 0.25\ncutoff = 7.0",
        _ => "",
    };
    let text = MODEL.replace("__METHOD__", method).replace("__COULOMB__", coulomb);
    RigidIon::from_toml(&text, "checks.toml").unwrap()
}

/// A skewed triclinic cell (edges ≈ 6–7 Å, smaller than twice the 7 Å cutoff) with a net charge of +1
/// (Li4 Sr2 O4 plus a Li): 11 atoms at random positions at least 1.6 Å apart.
fn skewed_structure(seed: u64) -> Structure {
    let cell = Cell::periodic([[6.3, 0.0, 0.0], [1.9, 6.1, 0.0], [-1.2, 1.4, 6.6]]).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let symbols = ["Li", "Li", "Li", "Li", "Li", "Sr", "Sr", "O", "O", "O", "O"];
    let mut positions: Vec<Vec3> = Vec::new();
    while positions.len() < symbols.len() {
        let s: Vec3 = std::array::from_fn(|_| rng.random::<f64>());
        let candidate = cell.to_cartesian(s);
        let far = positions.iter().all(|p| {
            let d = cell.minimum_image([candidate[0] - p[0], candidate[1] - p[1], candidate[2] - p[2]]);
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() > 1.6
        });
        if far {
            positions.push(candidate);
        }
    }
    Structure::new(cell, symbols.iter().map(|s| el(s)).collect(), positions).unwrap()
}

fn energy(model: &RigidIon, structure: &Structure) -> f64 {
    common::energy(model, structure)
}

#[test]
fn forces_and_stress_match_central_differences() {
    for method in ["ewald", "dsf", "none"] {
        common::assert_forces_and_stress_match_central_differences(
            &model(method),
            &skewed_structure(7),
            1e-5,
            1e-6,
            method,
        );
    }
}

#[test]
fn energy_is_invariant_under_rotation_translation_and_permutation() {
    for method in ["ewald", "dsf"] {
        let model = model(method);
        let atoms = skewed_structure(11);
        let reference = evaluate(&model, &atoms, Request::EFS).unwrap();
        // Rotation by 0.7 rad about (1, 2, 2)/3, rows rotated: r' = r·Rᵀ.
        let (axis, angle) = ([1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0], 0.7f64);
        let (s, c) = angle.sin_cos();
        let mut rotation = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                let cross = match (i, j) {
                    (0, 1) => -axis[2],
                    (1, 0) => axis[2],
                    (0, 2) => axis[1],
                    (2, 0) => -axis[1],
                    (1, 2) => -axis[0],
                    (2, 1) => axis[0],
                    _ => 0.0,
                };
                rotation[i][j] = (1.0 - c) * axis[i] * axis[j] + s * cross + if i == j { c } else { 0.0 };
            }
        }
        let rotate = |r: Vec3| -> Vec3 { std::array::from_fn(|i| (0..3).map(|j| rotation[i][j] * r[j]).sum()) };
        let m = atoms.cell.matrix();
        let mut rotated = atoms.clone();
        rotated.cell = Cell::periodic([rotate(m[0]), rotate(m[1]), rotate(m[2])]).unwrap();
        rotated.positions = atoms.positions.iter().map(|&r| rotate(r)).collect();
        let out = evaluate(&model, &rotated, Request::EFS).unwrap();
        assert!((out.energy - reference.energy).abs() < 1e-9 * reference.energy.abs());
        for (f, g) in out.forces.unwrap().iter().zip(reference.forces.as_ref().unwrap()) {
            let expected = rotate(*g);
            assert!((0..3).all(|c| (f[c] - expected[c]).abs() < 1e-8));
        }
        let mut translated = atoms.clone();
        translated
            .positions
            .iter_mut()
            .for_each(|r| *r = [r[0] + 3.3, r[1] - 1.7, r[2] + 12.9]);
        assert!((energy(&model, &translated) - reference.energy).abs() < 1e-9 * reference.energy.abs());
        let order: Vec<usize> = (0..atoms.len()).rev().collect();
        let permuted = atoms.select(&order);
        let out = evaluate(&model, &permuted, Request::EFS).unwrap();
        assert!((out.energy - reference.energy).abs() < 1e-9 * reference.energy.abs());
        let forces = out.forces.unwrap();
        for (k, &i) in order.iter().enumerate() {
            assert!((0..3).all(|c| (forces[k][c] - reference.forces.as_ref().unwrap()[i][c]).abs() < 1e-8));
        }
    }
}

#[test]
fn ewald_meets_the_requested_accuracy() {
    let atoms = skewed_structure(3);
    let reference = evaluate(&model("ewald"), &atoms, Request::FORCES)
        .unwrap()
        .forces
        .unwrap();
    let text = MODEL
        .replace("__METHOD__", "ewald")
        .replace("__COULOMB__", "accuracy = 1e-5\ncutoff = 6.5");
    let coarse = RigidIon::from_toml(&text, "coarse.toml").unwrap();
    let forces = evaluate(&coarse, &atoms, Request::FORCES).unwrap().forces.unwrap();
    let squared: f64 = forces
        .iter()
        .flatten()
        .zip(reference.iter().flatten())
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let rms = (squared / (3 * atoms.len()) as f64).sqrt();
    // Target: RMS force error ≤ 1e-5 · k_e (eV/Å); the Kolafa–Perram estimates are not bounds, allow 3×.
    assert!(rms < 3.0 * 1e-5 * COULOMB_EV_A, "RMS force error {rms:e} eV/Å");
    assert!(rms > 0.0);
}

#[test]
fn local_energy_changes_equal_differences_of_full_evaluations() {
    for method in ["dsf", "none"] {
        let model = model(method);
        let atoms = skewed_structure(5);
        let list = NeighborList::build(&atoms, 7.0, 0.0, gbion_atoms::ListKind::Half).unwrap();
        let before = energy(&model, &atoms);
        let changes = [
            Change::SetElement {
                atom: 2,
                element: el("Sr"),
            },
            Change::Swap { a: 0, b: 8 },
            Change::Move {
                atom: 9,
                position: [10.1, -3.0, 4.2],
            },
        ];
        for change in changes {
            let mut after = atoms.clone();
            match change {
                Change::SetElement { atom, element } => after.elements[atom] = element,
                Change::Swap { a, b } => after.elements.swap(a, b),
                Change::Move { atom, position } => after.positions[atom] = position,
            }
            let expected = energy(&model, &after) - before;
            let local = model.energy_change(&atoms, &list, &change).unwrap().unwrap();
            assert!(
                (local - expected).abs() < 1e-9 * before.abs(),
                "{method} {change:?}: {local} vs {expected}"
            );
        }
    }
    let atoms = skewed_structure(5);
    let list = NeighborList::build(&atoms, 7.0, 0.0, gbion_atoms::ListKind::Half).unwrap();
    assert!(
        model("ewald")
            .energy_change(&atoms, &list, &Change::Swap { a: 0, b: 8 })
            .is_none()
    );
}

#[test]
fn parameter_file_errors_name_line_and_key() {
    let cases = [
        (
            "cutoff = 5.0\nbogus = 3\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1.0\n",
            "line 2: unknown field `bogus`",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"none\"\n[charges]\nXx = 1.0\n",
            "charges: unknown element 'Xx'",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"wolf\"\n[charges]\nLi = 1.0\n",
            "coulomb.method",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"dsf\"\n[charges]\nLi = 1.0\n",
            "coulomb.alpha",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1.0\n[[pair]]\nspecies = [\"Li\", \"O\"]\nbuckingham = { a = 1.0, rho = 0.3, c = 0.0 }\n",
            "line 7: pair.species: 'O' has no charge",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1.0\n[[pair]]\nspecies = [\"Li\", \"Li\"]\nbuckingham = { a = 1.0, rho = -0.3, c = 0.0 }\n",
            "line 8: buckingham",
        ),
        (
            "cutoff = 5.0\ntaper_inner = 4.0\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1.0\n",
            "line 2: taper_inner",
        ),
        // Values far outside any physical choice, which would exhaust memory or time.
        (
            "cutoff = 1e308\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1.0\n",
            "line 1: cutoff: must be a length in (0, 100] Å",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"dsf\"\nalpha = 0.2\ncutoff = 2147483648\n[charges]\nLi = 1.0\n",
            "line 2: coulomb.cutoff: must be a length in (0, 100] Å",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"ewald\"\naccuracy = 1e-300\n[charges]\nLi = 1.0\n",
            "line 2: coulomb.accuracy: must lie in [1e-15, 1)",
        ),
        (
            "cutoff = 5.0\n[coulomb]\nmethod = \"none\"\n[charges]\nLi = 1e150\n",
            "line 4: charges.Li: must be a number of e within ±10",
        ),
    ];
    for (text, expected) in cases {
        let message = RigidIon::from_toml(text, "bad.toml").unwrap_err().to_string();
        assert!(message.starts_with("bad.toml line"), "{message}");
        assert!(message.contains(expected), "'{message}' lacks '{expected}'");
    }
    let atoms = Structure::new(Cell::orthorhombic([5.0; 3]).unwrap(), vec![el("Fe")], vec![[0.0; 3]]).unwrap();
    let message = evaluate(&model("dsf"), &atoms, Request::ENERGY)
        .unwrap_err()
        .to_string();
    assert!(message.contains("atom 0 is Fe"), "{message}");
}

#[test]
fn atoms_at_the_same_position_are_an_error_not_a_nan() {
    let cell = Cell::orthorhombic([8.0; 3]).unwrap();
    // The O atom on the Sr atom itself, and on its periodic image one cell along z.
    for o in [[1.0, 1.0, 1.0], [1.0, 1.0, 9.0]] {
        let atoms = Structure::new(cell.clone(), vec![el("Sr"), el("O")], vec![[1.0; 3], o]).unwrap();
        for method in ["ewald", "dsf", "none"] {
            let message = evaluate(&model(method), &atoms, Request::EFS).unwrap_err().to_string();
            assert!(
                message.contains("atoms 0 and 1 sit at the same position"),
                "{method}: {message}"
            );
        }
    }
}

#[test]
fn an_ewald_sum_of_hours_is_an_error() {
    // A 0.02 Å real-space cutoff needs α ≈ 180 1/Å and k_c beyond 1000 1/Å: billions of wave vectors.
    let text =
        "cutoff = 5.0\n[coulomb]\nmethod = \"ewald\"\naccuracy = 1e-5\ncutoff = 0.02\n[charges]\nNa = 1.0\nCl = -1.0\n";
    let model = RigidIon::from_toml(text, "tiny.toml").unwrap();
    let atoms = Structure::new(
        Cell::orthorhombic([8.0; 3]).unwrap(),
        vec![el("Na"), el("Cl")],
        vec![[1.0; 3], [3.0, 1.0, 1.0]],
    )
    .unwrap();
    let message = evaluate(&model, &atoms, Request::ENERGY).unwrap_err().to_string();
    assert!(
        message.contains("wave vectors") && message.contains("lower accuracy"),
        "{message}"
    );
}
