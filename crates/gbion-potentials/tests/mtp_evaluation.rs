//! MTP evaluation: the 15 reference cases of motep 0.2.0 (to 1e-8 relative), MLIP-2's own `calc-efs`
//! output, forces and stress against central finite differences of the energy (skewed triclinic cells and
//! cells thinner than twice the cutoff), invariances, the per-site basis values, and local energy changes
//! for Monte Carlo against two full evaluations.

use gbion_atoms::io::{Format, ReadOptions, read_file};
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure, Vec3};
use gbion_potentials::mtp::{Mtp, MtpParameters};
use gbion_potentials::{Change, Output, Potential, Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mtp")
        .join(name)
}

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

/// A reference potential of `reference.json` with its species map.
fn potential(name: &str) -> Mtp {
    let species = match name {
        "l08_2sp" => elements(&["Zr", "O"]),
        "l16_5sp" => elements(&["Li", "Sr", "Ta", "Zr", "O"]),
        "l20_3sp" => elements(&["Li", "Ta", "O"]),
        _ => panic!("unknown potential {name}"),
    };
    Mtp::read(&fixture(&format!("potentials/{name}.mtp")))
        .unwrap()
        .with_species(species)
        .unwrap()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn vectors(v: &Value) -> Vec<Vec3> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| floats(r).try_into().unwrap())
        .collect()
}

/// The structure of a reference case.
fn case_structure(case: &Value) -> Structure {
    let cell: Vec<Vec3> = vectors(&case["cell"]);
    let cell = Cell::periodic([cell[0], cell[1], cell[2]]).unwrap();
    let symbols: Vec<&str> = case["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    Structure::new(cell, elements(&symbols), vectors(&case["positions"])).unwrap()
}

fn max_abs(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// Largest |a − b| over the components of two lists of vectors.
fn max_diff3(a: &[Vec3], b: &[Vec3]) -> f64 {
    assert_eq!(a.len(), b.len());
    max_abs(a.iter().zip(b).flat_map(|(x, y)| (0..3).map(move |d| x[d] - y[d])))
}

/// Relative tolerance of the reference (README of the fixtures): 1e-8 of the largest magnitude in a case.
const REFERENCE_RTOL: f64 = 1e-8;

#[test]
fn reproduces_all_fifteen_reference_cases() {
    let reference = reference();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 15);
    for case in cases {
        let label = format!(
            "{}__{}",
            case["potential"].as_str().unwrap(),
            case["config"].as_str().unwrap()
        );
        let mtp = potential(case["potential"].as_str().unwrap());
        let structure = case_structure(case);
        let out = evaluate(&mtp, &structure, Request::ALL).unwrap();

        let energy = case["energy"].as_f64().unwrap();
        assert!(
            (out.energy - energy).abs() <= REFERENCE_RTOL * energy.abs().max(1.0),
            "{label}: E {} vs {energy}",
            out.energy
        );
        let energies = floats(&case["energies"]);
        let energies_err = max_abs(out.energies.as_ref().unwrap().iter().zip(&energies).map(|(a, b)| a - b));
        assert!(
            energies_err <= REFERENCE_RTOL * max_abs(energies.iter().copied()).max(1.0),
            "{label}: E_i err {energies_err}"
        );

        let forces = vectors(&case["forces"]);
        let force_err = max_diff3(out.forces.as_ref().unwrap(), &forces);
        let force_scale = max_abs(forces.iter().flatten().copied()).max(1.0);
        assert!(
            force_err <= REFERENCE_RTOL * force_scale,
            "{label}: force err {force_err}"
        );

        let stress = floats(&case["stress_voigt"]);
        let stress_err = max_abs(out.stress.unwrap().iter().zip(&stress).map(|(a, b)| a - b));
        assert!(
            stress_err <= REFERENCE_RTOL * max_abs(stress.iter().copied()).max(1e-3),
            "{label}: stress err {stress_err}"
        );
        // MLIP's PlusStress is −V σ.
        let plus = floats(&case["plusstress_mlip"]);
        let volume = structure.cell.volume();
        let plus_err = max_abs(out.stress.unwrap().iter().zip(&plus).map(|(s, p)| -s * volume - p));
        assert!(
            plus_err <= REFERENCE_RTOL * max_abs(plus.iter().copied()).max(1e-3 * volume),
            "{label}: PlusStress err {plus_err}"
        );
    }
}

#[test]
fn beyond_the_cutoff_a_site_has_only_its_species_energy() {
    let reference = reference();
    let case = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config"] == "isolated_pairs")
        .unwrap();
    let mtp = potential(case["potential"].as_str().unwrap());
    let out = evaluate(&mtp, &case_structure(case), Request::ALL).unwrap();
    let species = mtp.parameters().species_coeffs.clone().unwrap();
    let types: Vec<usize> = case["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as usize)
        .collect();
    // The last pair is 0.15 Å beyond max_dist: energies are exactly species_coeffs, forces exactly zero.
    for atom in [4, 5] {
        assert_eq!(out.energies.as_ref().unwrap()[atom], species[types[atom]]);
        assert_eq!(out.forces.as_ref().unwrap()[atom], [0.0; 3]);
    }
}

#[test]
fn reproduces_mlip2_calc_efs_output() {
    let anchors = [
        ("l08_3sp_AuAgCu", elements(&["Au", "Ag", "Cu"]), 3),
        ("l16_1sp_Cu", elements(&["Cu"]), 2),
        ("l20_1sp_Cu", elements(&["Cu"]), 2),
    ];
    for (name, species, frames) in anchors {
        let mtp = Mtp::read(&fixture(&format!("mlip2_anchor/{name}.mtp")))
            .unwrap()
            .with_species(species.clone())
            .unwrap();
        let options = ReadOptions {
            type_map: Some(species),
            ..ReadOptions::default()
        };
        let structures: Vec<Structure> = read_file(
            &fixture(&format!("mlip2_anchor/{name}.cfg")),
            Some(Format::Cfg),
            &options,
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
        assert_eq!(structures.len(), frames);
        for (frame, structure) in structures.iter().enumerate() {
            let out = evaluate(&mtp, structure, Request::EFS).unwrap();
            let energy = structure.results.energy.unwrap();
            assert!(
                (out.energy - energy).abs() < 1e-9,
                "{name} frame {frame}: E {} vs {energy}",
                out.energy
            );
            let force_err = max_diff3(out.forces.as_ref().unwrap(), structure.results.forces.as_ref().unwrap());
            assert!(force_err < 1e-6, "{name} frame {frame}: force err {force_err}");
            // PlusStress = −V σ, printed to 5 decimals (eV).
            let volume = structure.cell.volume();
            let stress = structure.results.stress.unwrap();
            let plus_err = max_abs(out.stress.unwrap().iter().zip(&stress).map(|(a, b)| (a - b) * volume));
            assert!(plus_err < 1e-5, "{name} frame {frame}: PlusStress err {plus_err}");
        }
    }
}

/// A reference case's structure by name.
fn case(potential_name: &str, config: &str) -> Structure {
    let reference = reference();
    let case = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["potential"] == potential_name && c["config"] == config)
        .unwrap()
        .clone();
    case_structure(&case)
}

fn energy(mtp: &Mtp, structure: &Structure) -> f64 {
    evaluate(mtp, structure, Request::ENERGY).unwrap().energy
}

/// Forces against −∂E/∂x by central differences (step 1e-5 Å), to 1e-6 of the largest force.
fn check_forces_by_finite_differences(mtp: &Mtp, structure: &Structure, label: &str) {
    let step = 1e-5;
    let forces = evaluate(mtp, structure, Request::FORCES).unwrap().forces.unwrap();
    let mut numeric = vec![[0.0; 3]; structure.len()];
    for (atom, force) in numeric.iter_mut().enumerate() {
        for (d, component) in force.iter_mut().enumerate() {
            let mut moved = structure.clone();
            moved.positions[atom][d] += step;
            let plus = energy(mtp, &moved);
            moved.positions[atom][d] -= 2.0 * step;
            let minus = energy(mtp, &moved);
            *component = -(plus - minus) / (2.0 * step);
        }
    }
    let err = max_diff3(&forces, &numeric);
    let scale = max_abs(forces.iter().flatten().copied()).max(1.0);
    assert!(
        err < 1e-6 * scale,
        "{label}: force vs finite differences {err} (largest force {scale})"
    );
}

/// The structure under homogeneous strain ε (cell and positions times 1 + ε).
fn strained(structure: &Structure, strain: &[[f64; 3]; 3]) -> Structure {
    let map = |r: Vec3| [0, 1, 2].map(|c| r[c] + (0..3).map(|k| r[k] * strain[k][c]).sum::<f64>());
    let m = structure.cell.matrix();
    let cell = Cell::periodic([map(m[0]), map(m[1]), map(m[2])]).unwrap();
    Structure::new(
        cell,
        structure.elements.clone(),
        structure.positions.iter().map(|&r| map(r)).collect(),
    )
    .unwrap()
}

/// Stress against (1/V) ∂E/∂ε by central differences of symmetric strains (step 1e-5).
fn check_stress_by_finite_differences(mtp: &Mtp, structure: &Structure, label: &str) {
    let step = 1e-5;
    let stress = evaluate(mtp, structure, Request::EFS).unwrap().stress.unwrap();
    let volume = structure.cell.volume();
    let voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
    for (k, &(a, b)) in voigt.iter().enumerate() {
        let strain = |h: f64| {
            let mut e = [[0.0; 3]; 3];
            // Off-diagonal components are split over (a, b) and (b, a), so dE/dh = V σ_ab.
            let share = if a == b { h } else { h / 2.0 };
            e[a][b] += share;
            if a != b {
                e[b][a] += share;
            }
            e
        };
        let plus = energy(mtp, &strained(structure, &strain(step)));
        let minus = energy(mtp, &strained(structure, &strain(-step)));
        let numeric = (plus - minus) / (2.0 * step * volume);
        let scale = max_abs(stress.iter().copied()).max(1e-3);
        assert!(
            (stress[k] - numeric).abs() < 1e-6 * scale,
            "{label}: stress[{k}] {} vs finite differences {numeric}",
            stress[k]
        );
    }
}

#[test]
fn forces_and_stress_agree_with_finite_differences() {
    for (potential_name, config) in [
        ("l16_5sp", "skewed_triclinic"),
        ("l16_5sp", "small_cell_3at"),
        ("l20_3sp", "small_cell_3at"),
        ("l08_2sp", "single_atom"),
        ("l08_2sp", "perovskite_2x2x2"),
    ] {
        let mtp = potential(potential_name);
        let structure = case(potential_name, config);
        let label = format!("{potential_name} {config}");
        // The 2×2×2 cell (≈ 8 Å) and the small cells are thinner than twice the 5 Å cutoff.
        assert!(
            structure.cell.heights().iter().any(|&h| h < 2.0 * mtp.cutoff()),
            "{label}"
        );
        if structure.len() <= 16 {
            check_forces_by_finite_differences(&mtp, &structure, &label);
        }
        check_stress_by_finite_differences(&mtp, &structure, &label);
    }
}

/// The kernel evaluates sites in batches of 8: a 4×1×1 supercell of the 3-atom cell (12 atoms: a full batch
/// and a partial one, the copies of an atom falling in both) gives every copy of an atom the energy and force
/// of that atom in the 3-atom cell (one partial batch), and its forces and stress agree with finite
/// differences.
#[test]
fn sites_in_full_and_partial_batches_evaluate_alike() {
    let mtp = potential("l16_5sp");
    let cell = case("l16_5sp", "small_cell_3at");
    let big = supercell(&cell, [4, 1, 1]);
    let (small, large) = (
        evaluate(&mtp, &cell, Request::ALL).unwrap(),
        evaluate(&mtp, &big, Request::ALL).unwrap(),
    );
    let (small_energies, large_energies) = (small.energies.unwrap(), large.energies.unwrap());
    let (small_forces, large_forces) = (small.forces.unwrap(), large.forces.unwrap());
    let scale = max_abs(small_forces.iter().flatten().copied()).max(1.0);
    for atom in 0..big.len() {
        let original = atom % cell.len();
        assert!(
            (large_energies[atom] - small_energies[original]).abs() < 1e-11,
            "atom {atom}: {} vs {}",
            large_energies[atom],
            small_energies[original]
        );
        for d in 0..3 {
            assert!(
                (large_forces[atom][d] - small_forces[original][d]).abs() < 1e-10 * scale,
                "atom {atom} force {d}"
            );
        }
    }
    check_forces_by_finite_differences(&mtp, &big, "4×1×1 small cell");
    check_stress_by_finite_differences(&mtp, &big, "4×1×1 small cell");
}

fn rotation(axis: Vec3, angle: f64) -> [[f64; 3]; 3] {
    let n = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
    let [x, y, z] = axis.map(|a| a / n);
    let (s, c) = angle.sin_cos();
    let t = 1.0 - c;
    [
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ]
}

fn rotate(r: Vec3, m: &[[f64; 3]; 3]) -> Vec3 {
    [0, 1, 2].map(|i| (0..3).map(|k| m[i][k] * r[k]).sum())
}

/// Voigt stress as a 3×3 matrix.
fn full_stress(s: &[f64; 6]) -> [[f64; 3]; 3] {
    [[s[0], s[5], s[4]], [s[5], s[1], s[3]], [s[4], s[3], s[2]]]
}

#[test]
fn invariant_under_rotation_translation_and_permutation() {
    let mtp = potential("l16_5sp");
    let structure = case("l16_5sp", "skewed_triclinic");
    let base = evaluate(&mtp, &structure, Request::ALL).unwrap();
    let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-10 * scale.max(1.0);
    let force_scale = max_abs(base.forces.as_ref().unwrap().iter().flatten().copied());

    // Rotation: energy unchanged, forces and stress rotate with the structure.
    let m = rotation([0.3, -0.5, 0.8], 1.1);
    let cell = structure.cell.matrix();
    let rotated_cell = Cell::periodic([rotate(cell[0], &m), rotate(cell[1], &m), rotate(cell[2], &m)]).unwrap();
    let rotated = Structure::new(
        rotated_cell,
        structure.elements.clone(),
        structure.positions.iter().map(|&r| rotate(r, &m)).collect(),
    )
    .unwrap();
    let out = evaluate(&mtp, &rotated, Request::ALL).unwrap();
    assert!(close(out.energy, base.energy, base.energy.abs()));
    let expected: Vec<Vec3> = base.forces.as_ref().unwrap().iter().map(|&f| rotate(f, &m)).collect();
    assert!(max_diff3(out.forces.as_ref().unwrap(), &expected) < 1e-10 * force_scale.max(1.0));
    let s = full_stress(&base.stress.unwrap());
    let r = full_stress(&out.stress.unwrap());
    for i in 0..3 {
        for j in 0..3 {
            // R σ Rᵀ.
            let expected: f64 = (0..3)
                .flat_map(|k| (0..3).map(move |l| (k, l)))
                .map(|(k, l)| m[i][k] * s[k][l] * m[j][l])
                .sum();
            assert!((r[i][j] - expected).abs() < 1e-12, "stress[{i}][{j}]");
        }
    }

    // Translation, including atoms leaving the cell.
    let mut moved = structure.clone();
    for p in &mut moved.positions {
        *p = [p[0] + 7.3, p[1] - 2.9, p[2] + 11.1];
    }
    let out = evaluate(&mtp, &moved, Request::ALL).unwrap();
    assert!(close(out.energy, base.energy, base.energy.abs()));
    assert!(max_diff3(out.forces.as_ref().unwrap(), base.forces.as_ref().unwrap()) < 1e-10 * force_scale.max(1.0));

    // Permutation of the atoms: per-atom energies and forces follow their atoms.
    let order: Vec<usize> = (0..structure.len()).rev().collect();
    let out = evaluate(&mtp, &structure.select(&order), Request::ALL).unwrap();
    assert!(close(out.energy, base.energy, base.energy.abs()));
    for (new, &old) in order.iter().enumerate() {
        assert!(close(
            out.energies.as_ref().unwrap()[new],
            base.energies.as_ref().unwrap()[old],
            1.0
        ));
        assert!(
            max_diff3(
                &out.forces.as_ref().unwrap()[new..=new],
                &base.forces.as_ref().unwrap()[old..=old]
            ) < 1e-10 * force_scale
        );
    }

    // Exchanging two atoms of the same element leaves the same configuration.
    let (a, b) = like_pair(&structure);
    let mut swapped = structure.clone();
    swapped.positions.swap(a, b);
    let out = evaluate(&mtp, &swapped, Request::ALL).unwrap();
    assert!(close(out.energy, base.energy, base.energy.abs()));
    assert!(close(
        out.energies.as_ref().unwrap()[a],
        base.energies.as_ref().unwrap()[b],
        1.0
    ));
}

/// Two atoms of the same element.
fn like_pair(structure: &Structure) -> (usize, usize) {
    (0..structure.len())
        .flat_map(|a| (a + 1..structure.len()).map(move |b| (a, b)))
        .find(|&(a, b)| structure.elements[a] == structure.elements[b])
        .unwrap()
}

#[test]
fn site_basis_values_give_the_site_energies() {
    let mtp = potential("l16_5sp");
    let structure = case("l16_5sp", "perovskite_2x2x2");
    let out = evaluate(&mtp, &structure, Request::ALL).unwrap();
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.3, ListKind::Full).unwrap();
    let p = mtp.parameters();
    let species: Vec<Element> = mtp.species().unwrap().to_vec();
    for atom in [0, 7, 39] {
        let basis = mtp.site_basis(&structure, &list, atom).unwrap();
        assert_eq!(basis.len(), 92);
        assert_eq!(basis[0], mtp.site_basis(&structure, &list, atom).unwrap()[0]);
        let t = species.iter().position(|&e| e == structure.elements[atom]).unwrap();
        let site: f64 = p.species_coeffs.as_ref().unwrap()[t]
            + basis
                .iter()
                .zip(p.moment_coeffs.as_ref().unwrap())
                .map(|(b, c)| b * c)
                .sum::<f64>();
        assert!(
            (site - out.energies.as_ref().unwrap()[atom]).abs() < 1e-12,
            "atom {atom}"
        );
    }
    let half = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Half).unwrap();
    assert!(mtp.site_basis(&structure, &half, 0).is_err());
    assert!(mtp.site_basis(&structure, &list, 40).is_err());
}

#[test]
fn site_bases_of_all_atoms_equal_the_one_site_values() {
    let mtp = potential("l16_5sp");
    let structure = case("l16_5sp", "perovskite_2x2x2");
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.3, ListKind::Full).unwrap();
    let all = mtp.site_bases(&structure, &list).unwrap();
    assert_eq!((all.width, all.types.len(), all.values.len()), (92, 40, 40 * 92));
    let species: Vec<Element> = mtp.species().unwrap().to_vec();
    for atom in 0..structure.len() {
        assert_eq!(all.row(atom), mtp.site_basis(&structure, &list, atom).unwrap());
        assert_eq!(species[all.types[atom]], structure.elements[atom]);
    }
    let half = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Half).unwrap();
    assert!(mtp.site_bases(&structure, &half).is_err());
}

#[test]
fn results_do_not_depend_on_the_skin_or_the_thread_count() {
    let mtp = potential("l16_5sp");
    // 8 × 40 = 320 atoms: more than one block of parallel work.
    let structure = case("l16_5sp", "perovskite_2x2x2");
    let big = supercell(&structure, [2, 2, 2]);
    let list = NeighborList::build(&big, mtp.cutoff(), 0.0, ListKind::Full).unwrap();
    let base = mtp.compute(&big, Some(&list), Request::ALL).unwrap();
    let skinned = NeighborList::build(&big, mtp.cutoff(), 1.0, ListKind::Full).unwrap();
    let with_skin = mtp.compute(&big, Some(&skinned), Request::ALL).unwrap();
    assert!((with_skin.energy - base.energy).abs() < 1e-10 * base.energy.abs());
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let serial: Output = single.install(|| mtp.compute(&big, Some(&list), Request::ALL).unwrap());
    assert_eq!(
        serial, base,
        "results must be bit-for-bit independent of the thread count"
    );
    // The supercell's energy per atom and forces equal those of the cell.
    let small = evaluate(&mtp, &structure, Request::ALL).unwrap();
    assert!((base.energy / 8.0 - small.energy).abs() < 1e-9 * small.energy.abs());
    assert!(max_diff3(&base.forces.as_ref().unwrap()[..40], small.forces.as_ref().unwrap()) < 1e-10);
    let stress_err = max_abs(
        base.stress
            .unwrap()
            .iter()
            .zip(&small.stress.unwrap())
            .map(|(a, b)| a - b),
    );
    assert!(stress_err < 1e-12, "{stress_err}");
}

/// `structure` repeated `reps` times along a, b, c (the original atoms first).
fn supercell(structure: &Structure, reps: [usize; 3]) -> Structure {
    let m = structure.cell.matrix();
    let mut elements = Vec::new();
    let mut positions = Vec::new();
    for i in 0..reps[0] {
        for j in 0..reps[1] {
            for k in 0..reps[2] {
                let shift: Vec3 = [0, 1, 2].map(|d| i as f64 * m[0][d] + j as f64 * m[1][d] + k as f64 * m[2][d]);
                for (e, p) in structure.elements.iter().zip(&structure.positions) {
                    elements.push(*e);
                    positions.push([p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]]);
                }
            }
        }
    }
    let cell = [0, 1, 2].map(|r| m[r].map(|x| x * reps[r] as f64));
    Structure::new(Cell::periodic(cell).unwrap(), elements, positions).unwrap()
}

/// The structure after `change`.
fn apply(structure: &Structure, change: &Change) -> Structure {
    let mut after = structure.clone();
    match *change {
        Change::SetElement { atom, element } => after.elements[atom] = element,
        Change::Swap { a, b } => after.elements.swap(a, b),
        Change::Move { atom, position } => after.positions[atom] = position,
    }
    after
}

/// `energy_change` against E(after) − E(before) from two full evaluations.
fn check_energy_change(mtp: &Mtp, structure: &Structure, list: &NeighborList, change: &Change) {
    let local = mtp.energy_change(structure, list, change).unwrap().unwrap();
    let before = energy(mtp, structure);
    let full = energy(mtp, &apply(structure, change)) - before;
    assert!(
        (local - full).abs() < 1e-10 * before.abs().max(1.0),
        "{change:?}: local {local} vs full {full}"
    );
}

#[test]
fn local_energy_changes_equal_two_full_evaluations() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    for config in ["perovskite_2x2x2", "skewed_triclinic", "small_cell_3at"] {
        let mtp = potential("l16_5sp");
        let structure = case("l16_5sp", config);
        // A skin: the list holds pairs beyond the cutoff, which must be ignored.
        let list = NeighborList::build(&structure, mtp.cutoff(), 0.5, ListKind::Full).unwrap();
        let species = mtp.species().unwrap().to_vec();
        let n = structure.len();
        let matrix = *structure.cell.matrix();
        for _ in 0..4 {
            let atom = rng.random_range(0..n);
            let element = species[rng.random_range(0..species.len())];
            check_energy_change(&mtp, &structure, &list, &Change::SetElement { atom, element });
            let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
            check_energy_change(&mtp, &structure, &list, &Change::Swap { a, b });
            // A short hop, and a jump to anywhere in (or beyond) the cell.
            let p = structure.positions[atom];
            let hop = [0, 1, 2].map(|d| p[d] + rng.random_range(-0.4..0.4));
            check_energy_change(&mtp, &structure, &list, &Change::Move { atom, position: hop });
            let f: Vec3 = [0, 1, 2].map(|_| rng.random_range(-0.5..1.5));
            let far = [0, 1, 2].map(|d| (0..3).map(|k| f[k] * matrix[k][d]).sum());
            check_energy_change(&mtp, &structure, &list, &Change::Move { atom, position: far });
        }
    }
}

#[test]
fn local_energy_change_errors_are_clear() {
    let mtp = potential("l08_2sp");
    let structure = case("l08_2sp", "skewed_triclinic");
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Full).unwrap();
    let error = |change: Change| {
        mtp.energy_change(&structure, &list, &change)
            .unwrap()
            .unwrap_err()
            .to_string()
    };
    let li = Element::from_symbol("Li").unwrap();
    assert_eq!(
        error(Change::SetElement { atom: 3, element: li }),
        "atom 3 is Li, which the MTP does not know (its species: Zr, O)"
    );
    assert_eq!(
        error(Change::Swap { a: 0, b: 16 }),
        "atom 16 is out of range (16 atoms)"
    );
    let onto = structure.positions[1];
    assert_eq!(
        error(Change::Move {
            atom: 0,
            position: onto
        }),
        "atoms 0 and 1 sit at the same position (distance 0)"
    );
    let half = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Half).unwrap();
    let change = Change::Swap { a: 0, b: 1 };
    assert!(mtp.energy_change(&structure, &half, &change).unwrap().is_err());
}

/// A random change for the cached evaluator: mostly swaps and species changes, now and then a short hop.
fn random_change(rng: &mut Xoshiro256PlusPlus, structure: &Structure, species: &[Element]) -> Change {
    let n = structure.len();
    let atom = rng.random_range(0..n);
    match rng.random_range(0..10) {
        0..=4 => Change::Swap {
            a: atom,
            b: rng.random_range(0..n),
        },
        5..=8 => Change::SetElement {
            atom,
            element: species[rng.random_range(0..species.len())],
        },
        _ => {
            let p = structure.positions[atom];
            Change::Move {
                atom,
                position: [0, 1, 2].map(|d| p[d] + rng.random_range(-0.3..0.3)),
            }
        }
    }
}

/// The MTP's stateful Monte Carlo evaluator (cached basic moments) through 200 random changes per cell,
/// about half of them accepted: every ΔE equals E(after) − E(before) from two full evaluations to 1e-10
/// relative, and equals bit for bit the ΔE of an evaluator created afresh on the same configuration (so
/// ΔE does not depend on what was cached or attempted before). Every 50 changes an atom is nudged behind
/// the evaluator's back, which `sync` must notice. The cells are thinner than twice the cutoff, so a
/// neighbour appears with several images.
#[test]
fn cached_local_energy_changes_follow_a_sequence_of_moves() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mtp = potential("l16_5sp");
    let species = mtp.species().unwrap().to_vec();
    for config in ["perovskite_2x2x2", "skewed_triclinic", "small_cell_3at"] {
        let mut structure = case("l16_5sp", config);
        let mut list = NeighborList::build(&structure, mtp.cutoff(), 0.5, ListKind::Full).unwrap();
        let mut cached = mtp.local_energy().unwrap();
        cached.sync(&structure);
        let mut current = energy(&mtp, &structure);
        let mut accepted_retypes = 0;
        for step in 0..200 {
            if step % 50 == 49 {
                let nudged = step % structure.len();
                structure.positions[nudged][1] += 0.05;
                if list.update(&structure).unwrap() {
                    cached.invalidate();
                }
                cached.sync(&structure);
                current = energy(&mtp, &structure);
            }
            let change = random_change(&mut rng, &structure, &species);
            let delta = cached.energy_change(&structure, &list, &change).unwrap();
            let after = apply(&structure, &change);
            let full = energy(&mtp, &after) - current;
            assert!(
                (delta - full).abs() < 1e-10 * current.abs().max(1.0),
                "{config} step {step} {change:?}: cached {delta} vs full {full}"
            );
            let mut fresh = mtp.local_energy().unwrap();
            fresh.sync(&structure);
            let again = fresh.energy_change(&structure, &list, &change).unwrap();
            assert_eq!(again.to_bits(), delta.to_bits(), "{config} step {step} {change:?}");
            if rng.random_bool(0.5) {
                structure = after;
                current += full;
                if list.update(&structure).unwrap() {
                    cached.invalidate();
                }
                cached.accepted(&structure, &list, &change);
                accepted_retypes += usize::from(!matches!(change, Change::Move { .. }));
            }
        }
        assert!(
            accepted_retypes > 60,
            "{config}: {accepted_retypes} accepted swaps and species changes"
        );
    }
}

/// Each thread keeps its work space from call to call: a call that stops on coincident atoms after some
/// sites were done must leave nothing behind, so the next call gives exactly what the first gave.
#[test]
fn a_failed_call_leaves_the_next_one_exact() {
    let mtp = potential("l08_2sp");
    let structure = case("l08_2sp", "skewed_triclinic");
    let first = evaluate(&mtp, &structure, Request::ALL).unwrap();
    let mut broken = structure.clone();
    let last = broken.len() - 1;
    broken.positions[last] = broken.positions[last - 1];
    let error = evaluate(&mtp, &broken, Request::ALL).unwrap_err().to_string();
    assert!(error.contains("same position"), "{error}");
    let again = evaluate(&mtp, &structure, Request::ALL).unwrap();
    assert_eq!(again.energy.to_bits(), first.energy.to_bits());
    assert_eq!(again.forces, first.forces);
    assert_eq!(again.stress, first.stress);
    assert_eq!(again.energies, first.energies);
}

#[test]
fn a_non_finite_result_is_an_error_naming_what() {
    // A scaling of 1e308 overflows the site energies: `evaluate` stops with a message, not a NaN.
    let text = std::fs::read_to_string(fixture("potentials/l08_2sp.mtp")).unwrap();
    let text = text.replacen("scaling = 3.000000000000000e-02", "scaling = 1e308", 1);
    let mtp = Mtp::new(MtpParameters::parse(&text, "huge.mtp").unwrap())
        .unwrap()
        .with_species(elements(&["Zr", "O"]))
        .unwrap();
    let message = evaluate(&mtp, &case("l08_2sp", "perovskite_2x2x2"), Request::EFS)
        .unwrap_err()
        .to_string();
    assert!(message.contains("the potential gave a non-finite energy"), "{message}");
}
