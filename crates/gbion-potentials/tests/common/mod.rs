//! Helpers shared by the rigid-ion integration tests.

use gbion_atoms::{Cell, Structure, Vec3};
use gbion_potentials::{Potential, Request, evaluate};

/// Total energy of `structure` under `model`.
pub fn energy(model: &dyn Potential, structure: &Structure) -> f64 {
    evaluate(model, structure, Request::ENERGY).unwrap().energy
}

/// Asserts that the forces and the stress of `model` on `atoms` equal central differences of its energy
/// with step `step` (Å for positions, strain for the cell) to `tolerance` times the largest component, and
/// that the per-atom energies sum to the energy. `label` names the case in failure messages.
pub fn assert_forces_and_stress_match_central_differences(
    model: &dyn Potential,
    atoms: &Structure,
    step: f64,
    tolerance: f64,
    label: &str,
) {
    let output = evaluate(model, atoms, Request::ALL).unwrap();
    assert!(output.energy.is_finite(), "{label}: energy {}", output.energy);
    let forces = output.forces.unwrap();
    assert!(
        forces.iter().flatten().all(|f| f.is_finite()),
        "{label}: non-finite force"
    );
    let force_scale = forces.iter().flatten().fold(0.0f64, |m, f| m.max(f.abs()));
    for (i, force) in forces.iter().enumerate() {
        for (c, &value) in force.iter().enumerate() {
            let mut plus = atoms.clone();
            plus.positions[i][c] += step;
            let mut minus = atoms.clone();
            minus.positions[i][c] -= step;
            let numeric = -(energy(model, &plus) - energy(model, &minus)) / (2.0 * step);
            assert!(
                (numeric - value).abs() < tolerance * force_scale,
                "{label}: F[{i}][{c}] = {value} vs {numeric}"
            );
        }
    }
    let stress = output.stress.unwrap();
    let volume = atoms.cell.volume();
    let scale = stress.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    for (v, (a, b)) in [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)].into_iter().enumerate() {
        let strained = |t: f64| {
            let mut strain = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
            strain[a][b] += if a == b { t } else { t / 2.0 };
            if a != b {
                strain[b][a] += t / 2.0;
            }
            let apply = |r: Vec3| -> Vec3 { std::array::from_fn(|c| (0..3).map(|k| r[k] * strain[k][c]).sum()) };
            let m = atoms.cell.matrix();
            let mut s = atoms.clone();
            s.cell = Cell::periodic([apply(m[0]), apply(m[1]), apply(m[2])]).unwrap();
            s.positions = atoms.positions.iter().map(|&r| apply(r)).collect();
            energy(model, &s)
        };
        let derivative = (strained(step) - strained(-step)) / (2.0 * step);
        // ε_ab = ε_ba = t/2 off the diagonal, so dE/dt = V σ_ab in every component.
        let numeric = derivative / volume;
        assert!(
            (numeric - stress[v]).abs() < tolerance * scale,
            "{label}: stress[{v}] = {} vs {numeric}",
            stress[v]
        );
    }
    let energies = output.energies.unwrap();
    assert!((energies.iter().sum::<f64>() - output.energy).abs() < 1e-10 * output.energy.abs());
}
