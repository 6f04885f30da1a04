//! GB energy γ = (E_bicrystal − Σ_s N_s e_s)/(2A) with energies from pair potentials summed in the test:
//! a perfect crystal cut and rejoined has γ = 0; two blocks pulled apart under a nearest-neighbour bond
//! model have γ = ε/a² (one broken bond of energy ε per a² of each of the two interfaces); a
//! non-stoichiometric bicrystal is refused with a bulk reference and needs per-species references.

use gbion_analysis::gb::energy::{BulkReference, EV_PER_A2_IN_J_PER_M2, gb_energy};
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, ListKind, NeighborList, Structure};
use std::collections::BTreeMap;

const A: f64 = 2.5;

/// A CsCl-type crystal (Cs at the cube corners, Cl at the centres) of n[0] × n[1] × n[2] cubes of edge a;
/// with `binary` false, a simple cubic crystal of Cs only.
fn cubic(n: [usize; 3], binary: bool) -> Structure {
    let (mut elements, mut positions) = (Vec::new(), Vec::new());
    for x in 0..n[0] {
        for y in 0..n[1] {
            for z in 0..n[2] {
                let corner = [x as f64 * A, y as f64 * A, z as f64 * A];
                elements.push(Element::from_symbol("Cs").unwrap());
                positions.push(corner);
                if binary {
                    elements.push(Element::from_symbol("Cl").unwrap());
                    positions.push(corner.map(|c| c + 0.5 * A));
                }
            }
        }
    }
    Structure::new(
        Cell::orthorhombic(n.map(|k| k as f64 * A)).unwrap(),
        elements,
        positions,
    )
    .unwrap()
}

/// Σ over pairs within `cutoff` (images included) of `pair(species_i, species_j, r)`.
fn pair_energy(s: &Structure, cutoff: f64, pair: impl Fn(&str, &str, f64) -> f64) -> f64 {
    let list = NeighborList::build(s, cutoff, 0.0, ListKind::Half).unwrap();
    list.pairs(&s.positions)
        .filter(|(_, n)| n.distance <= cutoff)
        .map(|(i, n)| pair(s.elements[i].symbol(), s.elements[n.index].symbol(), n.distance))
        .sum()
}

/// Lennard-Jones with per-pair ε (eV) and σ (Å), cut at 2.2a.
fn lennard_jones(a: &str, b: &str, r: f64) -> f64 {
    let (epsilon, sigma) = match (a, b) {
        ("Cs", "Cs") => (0.10, 2.2),
        ("Cl", "Cl") => (0.05, 2.0),
        _ => (0.20, 1.9),
    };
    4.0 * epsilon * ((sigma / r).powi(12) - (sigma / r).powi(6))
}
const LJ_CUTOFF: f64 = 2.2 * A;

fn with_energy(mut s: Structure, energy: f64) -> Structure {
    s.results.energy = Some(energy);
    s
}

#[test]
fn a_perfect_crystal_cut_and_rejoined_has_zero_gb_energy() {
    let bulk = cubic([2, 2, 2], true);
    let bulk = with_energy(bulk.clone(), pair_energy(&bulk, LJ_CUTOFF, lennard_jones));
    // The "bicrystal": a 3 × 3 × 8 crystal cut at c/2; the upper grain is moved by the lattice vector a and
    // wrapped back, which rejoins it to the lower grain exactly.
    let mut bicrystal = cubic([3, 3, 8], true);
    let half = 4.0 * A;
    let grain: Vec<i64> = bicrystal.positions.iter().map(|p| i64::from(p[2] >= half)).collect();
    for (p, &g) in bicrystal.positions.iter_mut().zip(&grain) {
        if g == 1 {
            *p = bicrystal.cell.wrap([p[0] + A, p[1], p[2]]);
        }
    }
    bicrystal.set_int_tag(tags::GRAIN, grain).unwrap();
    let energy = pair_energy(&bicrystal, LJ_CUTOFF, lennard_jones);
    let reference = BulkReference::from_bulk(&bulk).unwrap();
    let gamma = gb_energy(&bicrystal, energy, 2, &reference).unwrap();
    assert_eq!(gamma.bulk_units, Some(72.0 / 8.0));
    assert!((gamma.area_a2 - 9.0 * A * A).abs() < 1e-12);
    assert!(gamma.reference_energy_ev < 0.0);
    // Round-off only: the sums differ by the order of their terms.
    assert!(gamma.gamma_j_m2.abs() < 1e-10, "γ = {} J/m²", gamma.gamma_j_m2);
}

#[test]
fn blocks_pulled_apart_have_the_broken_bond_energy() {
    // Nearest-neighbour bonds of energy −ε (cut between a and √2·a). Bulk: 3 bonds per atom. The bicrystal
    // is a 2 × 3 × 8 crystal whose upper half is lifted by a/2 in a cell 2·(a/2) longer, so both
    // interfaces open to a + a/2 > cutoff: 2 × 6 bonds broken over 2 × 6a², γ = ε/a².
    let epsilon = 0.1;
    let bond = |_: &str, _: &str, _: f64| -epsilon;
    let cutoff = 1.2 * A;
    let bulk = cubic([2, 2, 2], false);
    let e_bulk = pair_energy(&bulk, cutoff, bond);
    assert!((e_bulk + 8.0 * 3.0 * epsilon).abs() < 1e-12);
    let crystal = cubic([2, 3, 8], false);
    let lift = 0.5 * A;
    let positions = crystal
        .positions
        .iter()
        .map(|p| if p[2] >= 4.0 * A { [p[0], p[1], p[2] + lift] } else { *p })
        .collect();
    let cell = Cell::orthorhombic([2.0 * A, 3.0 * A, 8.0 * A + 2.0 * lift]).unwrap();
    let bicrystal = Structure::new(cell, crystal.elements.clone(), positions).unwrap();
    let energy = pair_energy(&bicrystal, cutoff, bond);
    let gamma = gb_energy(
        &bicrystal,
        energy,
        2,
        &BulkReference::from_bulk(&with_energy(bulk, e_bulk)).unwrap(),
    )
    .unwrap();
    assert!((gamma.excess_energy_ev - 12.0 * epsilon).abs() < 1e-12);
    let expected = epsilon / (A * A) * EV_PER_A2_IN_J_PER_M2;
    assert!(
        (gamma.gamma_j_m2 - expected).abs() < 1e-12 * expected,
        "γ = {}",
        gamma.gamma_j_m2
    );
    assert!((expected - 0.256348).abs() < 1e-6);
}

#[test]
fn a_non_stoichiometric_bicrystal_needs_chemical_potentials() {
    let bulk = cubic([2, 2, 2], true);
    let bulk = with_energy(bulk.clone(), pair_energy(&bulk, LJ_CUTOFF, lennard_jones));
    let full = cubic([3, 3, 8], true);
    // One Cl removed: Cs72 Cl71 is no whole number of Cs8 Cl8 units.
    let keep: Vec<usize> = (0..full.len()).filter(|&i| i != 1).collect();
    let bicrystal = full.select(&keep);
    let energy = pair_energy(&bicrystal, LJ_CUTOFF, lennard_jones);
    let err = gb_energy(&bicrystal, energy, 2, &BulkReference::from_bulk(&bulk).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("non-stoichiometric") && err.contains("Cl71Cs72"), "{err}");
    // With chemical potentials μ_Cs, μ_Cl: γ = (E − 72 μ_Cs − 71 μ_Cl)/(2A).
    let mu: BTreeMap<&'static str, f64> = [("Cs", -0.9), ("Cl", -0.4)].into();
    let gamma = gb_energy(&bicrystal, energy, 2, &BulkReference::PerAtom(mu.clone())).unwrap();
    let expected = (energy - 72.0 * mu["Cs"] - 71.0 * mu["Cl"]) / (2.0 * 9.0 * A * A) * EV_PER_A2_IN_J_PER_M2;
    assert!((gamma.gamma_j_m2 - expected).abs() < 1e-12 * expected.abs());
    let only_cs: BTreeMap<&'static str, f64> = [("Cs", -0.9)].into();
    let err = gb_energy(&bicrystal, energy, 2, &BulkReference::PerAtom(only_cs))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no reference energy per atom for Cl"), "{err}");
}
