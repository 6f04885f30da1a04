//! The shipped (builtin) rigid-ion parameter sets against what their sources report.
//!
//! `pedone2006` (Pedone et al., J. Phys. Chem. B 110, 11780 (2006); species Li, Ca, Sr, Ti, Zr, O — no La,
//! no Ta): the energy expression of the paper term by term; the lattice constant of rock-salt CaO that the
//! LAMMPS `pair_style pedone` example reports for this potential (4.7748 Å, lammps/lammps
//! examples/PACKAGES/pedone/log.9Apr24.pedone.relax.g++.1) and the energy of perfect CaO that its melt
//! example reports at step 0 (−3771.5568 eV / 512 atoms); the zero-pressure lattice constant of cubic
//! SrTiO3 (recorded here for the dynamics work: [`SRTIO3_A`]); charge neutrality; finite energies and
//! forces and stress consistent with finite differences on an LSTZ-like Li–Sr–Ti–Zr–O perovskite cell.
//!
//! `du_teter` (Du/Teter partial-charge Buckingham; Li, Sr, La, Ti, Zr, O — no Ta): the energy expression
//! term by term and the charges; the core-repulsion parameters (B, n, D, r0) that glasagent/amorphouspy
//! prints with each pair, which were fitted to the Buckingham value, slope and curvature at r0; recorded
//! zero-pressure lattice constants of Li2O, SrO, SrTiO3; FD-consistent forces and stress on an LLTO-like cell.

use gbion_atoms::{Cell, Element, Structure, Vec3};
use gbion_potentials::rigid_ion::{RigidIon, builtin, builtin_names};
use gbion_potentials::{Potential, Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

mod common;

/// Zero-pressure lattice constant (Å) of cubic SrTiO3 (Pm-3m, 5 atoms, static, 0 K) under `pedone2006`
/// as shipped (15 Å cutoff, Ewald 1e-6). Experiment at room temperature: 3.9051 Å.
pub const SRTIO3_A: f64 = 3.92263;

/// Lattice constant of rock-salt CaO that the LAMMPS example prints for this potential (`box/relax iso
/// 0.0`, 512 atoms, cutoff 15 Å, PPPM 1e-6; final pressure +32.6 bar): "Expected lattice parameter: 4.7748".
const CAO_LAMMPS_A: f64 = 4.7748;

fn el(symbol: &str) -> Element {
    Element::from_symbol(symbol).unwrap()
}

fn pedone() -> RigidIon {
    RigidIon::from_toml(builtin("pedone2006").unwrap(), "builtin:pedone2006").unwrap()
}

/// A cubic cell of edge `a` holding fractional `sites` (symbol, s).
fn cubic(a: f64, sites: &[(&str, Vec3)]) -> Structure {
    Structure::new(
        Cell::orthorhombic([a; 3]).unwrap(),
        sites.iter().map(|(s, _)| el(s)).collect(),
        sites.iter().map(|(_, f)| f.map(|x| x * a)).collect(),
    )
    .unwrap()
}

fn rock_salt(a: f64, cation: &str, anion: &str) -> Structure {
    let mut sites = Vec::new();
    for f in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
        sites.push((cation, f));
        sites.push((anion, [f[0] + 0.5, f[1], f[2]]));
    }
    cubic(a, &sites)
}

fn perovskite(a: f64) -> Structure {
    cubic(
        a,
        &[
            ("Sr", [0.0, 0.0, 0.0]),
            ("Ti", [0.5, 0.5, 0.5]),
            ("O", [0.5, 0.5, 0.0]),
            ("O", [0.5, 0.0, 0.5]),
            ("O", [0.0, 0.5, 0.5]),
        ],
    )
}

/// Pressure (eV/Å³) of `structure`: −tr σ / 3.
fn pressure(model: &RigidIon, structure: &Structure) -> f64 {
    let stress = evaluate(model, structure, Request::EFS).unwrap().stress.unwrap();
    -(stress[0] + stress[1] + stress[2]) / 3.0
}

/// The lattice constant in [lo, hi] at which a cubic cell built by `build` has zero pressure (bisection
/// to 1e-7 Å; positions stay at their symmetric sites, where the forces vanish by symmetry).
fn zero_pressure(model: &RigidIon, build: impl Fn(f64) -> Structure, lo: f64, hi: f64) -> f64 {
    let (mut lo, mut hi) = (lo, hi);
    let (p_lo, p_hi) = (pressure(model, &build(lo)), pressure(model, &build(hi)));
    assert!(
        p_lo > 0.0 && p_hi < 0.0,
        "no sign change in [{lo}, {hi}]: {p_lo}, {p_hi}"
    );
    while hi - lo > 1e-7 {
        let mid = 0.5 * (lo + hi);
        if pressure(model, &build(mid)) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The lattice constant in [lo, hi] minimising the energy of `build(a)` (golden-section search to 1e-6 Å).
fn energy_minimum(model: &RigidIon, build: impl Fn(f64) -> Structure, lo: f64, hi: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let e = |x: f64| common::energy(model, &build(x));
    let (mut c, mut d) = (b - ratio * (b - a), a + ratio * (b - a));
    let (mut ec, mut ed) = (e(c), e(d));
    while b - a > 1e-6 {
        if ec < ed {
            b = d;
            (d, ed) = (c, ec);
            c = b - ratio * (b - a);
            ec = e(c);
        } else {
            a = c;
            (c, ec) = (d, ed);
            d = a + ratio * (b - a);
            ed = e(d);
        }
    }
    0.5 * (a + b)
}

#[test]
fn builtin_sets_parse_and_cite_their_source() {
    let names: Vec<&str> = builtin_names().collect();
    assert_eq!(names, ["pedone2006", "du_teter", "lstz_toy"]);
    for name in names {
        let model = RigidIon::from_toml(builtin(name).unwrap(), name).unwrap();
        assert_eq!(model.name(), name);
        // The toy model is ours and says so instead of citing a source.
        let source = if name == "lstz_toy" { "not published" } else { "doi:" };
        assert!(
            model.citation().is_some_and(|c| c.contains(source)),
            "{name}: no citation"
        );
    }
    assert!(builtin("nope").is_none());
}

#[test]
fn pedone_energy_expression_is_the_papers() {
    // U(r) = D[(1 − e^{−a(r−r0)})² − 1] + C/r¹² per pair, with D, a, r0, C as printed for O–O and Sr–O.
    let model = pedone();
    for (a, b, d, alpha, r0, c) in [
        ("O", "O", 0.042395f64, 1.379316f64, 3.618701f64, 22.0f64),
        ("Sr", "O", 0.019623, 1.886000, 3.328330, 3.0),
    ] {
        let term = model.pair_term(el(a), el(b)).unwrap();
        assert_eq!(term.cutoff(), 15.0);
        for r in [1.2f64, 1.8, 2.5, 3.3, 4.7, 8.0, 14.9] {
            let x: f64 = 1.0 - (-alpha * (r - r0)).exp();
            let expected = d * (x * x - 1.0) + c / r.powi(12);
            let (energy, _) = term.energy_and_derivative(r);
            assert!(
                (energy - expected).abs() < 1e-13 * expected.abs().max(1e-3),
                "{a}-{b} r = {r}: {energy} vs {expected}"
            );
        }
        // Well depth −D at r0 up to the r⁻¹² wall, and no offset at the cutoff (the paper has no shift).
        let at_r0 = term.energy_and_derivative(r0).0;
        assert!((at_r0 - (-d + c / r0.powi(12))).abs() < 1e-15);
        assert!(term.energy_and_derivative(15.0 - 1e-9).0.abs() < 1e-7);
    }
    // Cation–cation pairs: Coulomb only.
    for (a, b) in [("Sr", "Ti"), ("Li", "Zr"), ("Ti", "Ti")] {
        assert!(model.pair_term(el(a), el(b)).is_none());
    }
}

#[test]
fn charges_are_neutral_and_tantalum_and_lanthanum_are_absent() {
    let model = pedone();
    let charge = |symbol: &str| {
        let i = model.species().unwrap().iter().position(|&e| e == el(symbol)).unwrap();
        model.charges()[i]
    };
    // SrTiO3 formula unit, and the LSTZ-like cell used below (Li2 Sr6 Ti4 Zr4 O23).
    assert!((charge("Sr") + charge("Ti") + 3.0 * charge("O")).abs() < 1e-12);
    let lstz_like =
        2.0 * charge("Li") + 6.0 * charge("Sr") + 4.0 * charge("Ti") + 4.0 * charge("Zr") + 23.0 * charge("O");
    assert!(lstz_like.abs() < 1e-12, "{lstz_like}");
    // Every charge is 0.6 × the formal one.
    for (symbol, formal) in [
        ("O", -2.0),
        ("Li", 1.0),
        ("Ca", 2.0),
        ("Sr", 2.0),
        ("Ti", 4.0),
        ("Zr", 4.0),
    ] {
        assert!((charge(symbol) - 0.6 * formal).abs() < 1e-12, "{symbol}");
    }
    // LSTZ0.75 = Li3/8 Sr7/16 Ta3/4 Zr1/4 O3 needs Ta, which Pedone et al. 2006 do not parametrise: the set
    // refuses it by name rather than guessing.
    let mut with_ta = perovskite(3.95);
    with_ta.elements[1] = el("Ta");
    let message = evaluate(&model, &with_ta, Request::ENERGY).unwrap_err().to_string();
    assert!(message.contains("atom 1 is Ta"), "{message}");
    assert!(!model.species().unwrap().contains(&el("La")));
}

#[test]
fn cao_lattice_constant_matches_the_lammps_pedone_example() {
    let model = pedone();
    let a = zero_pressure(&model, |a| rock_salt(a, "Ca", "O"), 4.6, 4.9);
    // The example prints 4 decimals, stops at +32.6 bar (≈ 1e-5 Å at this bulk modulus) and uses PPPM
    // 1e-6: agreement to 1e-4 Å.
    println!("CaO: gbion a = {a:.6} Å, LAMMPS example {CAO_LAMMPS_A} Å");
    assert!((a - CAO_LAMMPS_A).abs() < 1e-4, "CaO a = {a} vs {CAO_LAMMPS_A}");
}

#[test]
fn cao_energy_matches_the_lammps_pedone_melt_example() {
    // Step 0 of lammps/lammps examples/PACKAGES/pedone/log.9Apr24.pedone.melt.g++.1: perfect rock-salt
    // CaO, a = 4.8105 Å, 4×4×4 conventional cells (512 atoms), E_pair = −3771.5568 eV (Pedone + Coulomb
    // with PPPM 1e-6, k_e = 14.399645 eV·Å, cutoff 15 Å).
    let model = pedone();
    let energy = 64.0 * common::energy(&model, &rock_salt(4.8105, "Ca", "O"));
    println!("CaO 512 atoms at 4.8105 Å: gbion {energy:.6} eV, LAMMPS −3771.5568 eV");
    // PPPM at 1e-6 and k_e 3e-8 below CODATA in LAMMPS: agreement to 1e-6 relative (found: 1.4e-7).
    assert!((energy - -3771.5568).abs() < 1e-6 * 3771.5568, "{energy}");
}

#[test]
fn srtio3_lattice_constant_is_recorded_and_near_experiment() {
    let model = pedone();
    let from_stress = zero_pressure(&model, perovskite, 3.7, 4.1);
    let from_energy = energy_minimum(&model, perovskite, 3.7, 4.1);
    println!("SrTiO3: zero pressure a = {from_stress:.6} Å, energy minimum a = {from_energy:.6} Å");
    // Stress and energy agree on the minimum (exact for a cubic cell at symmetric sites).
    assert!(
        (from_stress - from_energy).abs() < 1e-5,
        "{from_stress} vs {from_energy}"
    );
    assert!(
        (from_stress - SRTIO3_A).abs() < 1e-4,
        "{from_stress} vs recorded {SRTIO3_A}"
    );
    // Experiment (room temperature) 3.9051 Å; a static partial-charge model within 1 %.
    assert!((from_stress / 3.9051 - 1.0).abs() < 0.01, "{from_stress}");
}

/// A 2×2×2 SrTiO3 supercell turned into Li2 Sr6 Ti4 Zr4 O23 (neutral with these charges), every atom
/// displaced by up to 0.1 Å.
fn lstz_like(seed: u64) -> Structure {
    let a = 3.95;
    let mut sites: Vec<(&str, Vec3)> = Vec::new();
    let mut oxygen = 0;
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                let n = 4 * i + 2 * j + k;
                let o = [i as f64, j as f64, k as f64];
                sites.push((if n < 2 { "Li" } else { "Sr" }, o));
                sites.push((if n % 2 == 0 { "Ti" } else { "Zr" }, o.map(|x| x + 0.5)));
                for f in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    oxygen += 1;
                    if oxygen != 7 {
                        sites.push(("O", std::array::from_fn(|c| o[c] + f[c])));
                    }
                }
            }
        }
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let sites: Vec<(&str, Vec3)> = sites
        .into_iter()
        .map(|(s, f)| {
            (
                s,
                std::array::from_fn(|c| f[c] / 2.0 + (rng.random::<f64>() - 0.5) * 0.2 / (2.0 * a)),
            )
        })
        .collect();
    cubic(2.0 * a, &sites)
}

#[test]
fn lstz_like_cell_has_finite_fd_consistent_energy_forces_and_stress() {
    let model = pedone();
    let atoms = lstz_like(17);
    let count = |s: &str| atoms.elements.iter().filter(|&&e| e == el(s)).count();
    assert_eq!(
        [count("Li"), count("Sr"), count("Ti"), count("Zr"), count("O")],
        [2, 6, 4, 4, 23]
    );
    let output = evaluate(&model, &atoms, Request::ALL).unwrap();
    assert!(output.energy.is_finite() && output.energy < 0.0, "{}", output.energy);
    common::assert_forces_and_stress_match_central_differences(&model, &atoms, 1e-5, 1e-5, "pedone2006 LSTZ-like");
}

// ----------------------------------------------------------------------------------------------------------
// `du_teter` (Du/Teter partial-charge Buckingham; Li, Sr, La, Ti, Zr, O — no Ta).

fn du_teter() -> RigidIon {
    RigidIon::from_toml(builtin("du_teter").unwrap(), "builtin:du_teter").unwrap()
}

#[test]
fn du_teter_energy_expression_and_charges_are_the_sources() {
    let model = du_teter();
    // U(r) = A exp(−r/ρ) − C/r⁶ per cation–O pair and O–O, as printed (A, ρ, C).
    for (a, b, big_a, rho, c) in [
        ("O", "O", 2029.2204f64, 0.343645f64, 192.58f64),
        ("Li", "O", 41051.938, 0.151160, 0.0),
        ("La", "O", 4369.39, 0.2786, 60.278),
        ("Ti", "O", 23707.909, 0.185580, 14.513),
        ("Sr", "O", 14566.637, 0.245015, 81.773),
        ("Zr", "O", 17943.384, 0.226627, 127.65),
    ] {
        let term = model.pair_term(el(a), el(b)).unwrap();
        assert_eq!(term.cutoff(), 15.0);
        for r in [1.4f64, 1.9, 2.5, 3.3, 4.7, 8.0, 14.9] {
            let expected = big_a * (-r / rho).exp() - c / r.powi(6);
            let (energy, _) = term.energy_and_derivative(r);
            assert!(
                (energy - expected).abs() < 1e-13 * expected.abs().max(1e-3),
                "{a}-{b} r = {r}: {energy} vs {expected}"
            );
        }
    }
    for (a, b) in [("Sr", "Ti"), ("Li", "La"), ("La", "La"), ("Ti", "Zr")] {
        assert!(model.pair_term(el(a), el(b)).is_none(), "{a}-{b}");
    }
    let charge = |symbol: &str| {
        let i = model.species().unwrap().iter().position(|&e| e == el(symbol)).unwrap();
        model.charges()[i]
    };
    for (symbol, formal) in [
        ("O", -2.0),
        ("Li", 1.0),
        ("Sr", 2.0),
        ("La", 3.0),
        ("Ti", 4.0),
        ("Zr", 4.0),
    ] {
        assert!((charge(symbol) - 0.6 * formal).abs() < 1e-12, "{symbol}");
    }
    // LLTO Li0.5La0.5TiO3 and the LSTZ-like cell are neutral; Ta is refused by name.
    assert!((0.5 * charge("Li") + 0.5 * charge("La") + charge("Ti") + 3.0 * charge("O")).abs() < 1e-12);
    let mut with_ta = perovskite(3.95);
    with_ta.elements[1] = el("Ta");
    let message = evaluate(&model, &with_ta, Request::ENERGY).unwrap_err().to_string();
    assert!(message.contains("atom 1 is Ta"), "{message}");
}

#[test]
fn du_teter_buckingham_matches_the_printed_core_parameters() {
    // glasagent/amorphouspy (commit ba248f0) prints with each A, ρ, C the Du/Teter core B/r^n + D r²
    // (B, n, D, r0), fitted to the Buckingham term in value, slope and curvature at r0. gbion's pair
    // term at r0 must reproduce the core's value and slope (and, by central differences, its curvature).
    let model = du_teter();
    // (pair, B, n, D, r0, relative tolerance: the O, Sr, Zr core parameters are printed to 3–5 digits)
    for (a, b, big_b, n, d, r0, tol) in [
        ("La", "O", 75.669457f64, 2.810890f64, -4.482141f64, 1.301404f64, 2e-6f64),
        ("Ti", "O", 207.407471, 2.446894, -149.746093, 0.749442, 5e-6),
        ("O", "O", 46.462, 3.430, -0.32605, 1.906, 2e-3),
        ("Sr", "O", 189.853, 2.7310, -23.951, 1.112, 3e-3),
        ("Zr", "O", 108.655, 3.3050, -8.481, 1.224, 1e-3),
    ] {
        let term = model.pair_term(el(a), el(b)).unwrap();
        let core = |r: f64| big_b / r.powf(n) + d * r * r;
        let core_slope = |r: f64| -n * big_b / r.powf(n + 1.0) + 2.0 * d * r;
        let core_curvature = |r: f64| n * (n + 1.0) * big_b / r.powf(n + 2.0) + 2.0 * d;
        let (energy, slope) = term.energy_and_derivative(r0);
        let h = 1e-4;
        let curvature = (term.energy_and_derivative(r0 + h).1 - term.energy_and_derivative(r0 - h).1) / (2.0 * h);
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
        println!(
            "{a}-{b} at r0 = {r0}: U {energy:.6} vs core {:.6}, U' {slope:.6} vs {:.6}, U'' {curvature:.5} vs {:.5}",
            core(r0),
            core_slope(r0),
            core_curvature(r0)
        );
        assert!(rel(energy, core(r0)) < tol, "{a}-{b} value");
        assert!(rel(slope, core_slope(r0)) < tol, "{a}-{b} slope");
        assert!(rel(curvature, core_curvature(r0)) < tol.max(1e-5), "{a}-{b} curvature");
    }
}

fn antifluorite(a: f64) -> Structure {
    let mut sites = Vec::new();
    for f in [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
        sites.push(("O", f));
        sites.push(("Li", f.map(|x| x + 0.25)));
        sites.push(("Li", f.map(|x| x + 0.75)));
    }
    cubic(a, &sites)
}

/// Zero-pressure lattice constants (Å) of cubic crystals under `du_teter` as shipped (static, 0 K, cubic
/// antifluorite Li2O, rock-salt SrO, Pm-3m SrTiO3), recorded for later work. Not numbers the sources print;
/// experiment (room temperature) in the test: 4.6114, 5.1615, 3.9051 Å.
const DU_TETER_LI2O_A: f64 = 4.50575;
const DU_TETER_SRO_A: f64 = 5.13858;
const DU_TETER_SRTIO3_A: f64 = 3.92058;

#[test]
fn du_teter_lattice_constants_are_recorded_and_near_experiment() {
    let model = du_teter();
    for (name, build, lo, hi, recorded, experiment) in [
        (
            "Li2O",
            antifluorite as fn(f64) -> Structure,
            4.2,
            5.0,
            DU_TETER_LI2O_A,
            4.6114,
        ),
        ("SrO", |a| rock_salt(a, "Sr", "O"), 4.8, 5.5, DU_TETER_SRO_A, 5.1615),
        ("SrTiO3", perovskite, 3.7, 4.1, DU_TETER_SRTIO3_A, 3.9051),
    ] {
        let a = zero_pressure(&model, build, lo, hi);
        println!("du_teter {name}: a = {a:.6} Å (experiment {experiment} Å)");
        assert!((a - recorded).abs() < 1e-4, "{name}: {a} vs recorded {recorded}");
        assert!(
            (a / experiment - 1.0).abs() < 0.03,
            "{name}: {a} vs experiment {experiment}"
        );
    }
}

#[test]
fn du_teter_llto_like_cell_has_finite_fd_consistent_energy_forces_and_stress() {
    // The LSTZ-like cell with Zr → La on the two Li-adjacent B sites would not be neutral; use a 2×2×2
    // perovskite Li4 La4 Ti8 O24 (Li0.5La0.5TiO3), every atom displaced by up to 0.1 Å.
    // As shipped (plain truncation, Ewald 1e-6) the strain derivative of the energy differs from the stress
    // by 1.3e-5 of its scale (energy steps from pairs crossing 15 Å and from the 1e-6 Ewald truncation under
    // strain); the consistency check uses the same set with shifted pair terms and Ewald at 1e-8.
    let text = builtin("du_teter")
        .unwrap()
        .replace("cutoff_mode = \"cut\"", "cutoff_mode = \"shift\"")
        .replace("accuracy = 1e-6", "accuracy = 1e-8");
    assert!(text.contains("\"shift\""));
    let model = RigidIon::from_toml(&text, "du_teter shifted").unwrap();
    let a = 3.9;
    let mut sites: Vec<(&str, Vec3)> = Vec::new();
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                let o = [i as f64, j as f64, k as f64];
                sites.push((if (i + j + k) % 2 == 0 { "Li" } else { "La" }, o));
                sites.push(("Ti", o.map(|x| x + 0.5)));
                for f in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    sites.push(("O", std::array::from_fn(|c| o[c] + f[c])));
                }
            }
        }
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let sites: Vec<(&str, Vec3)> = sites
        .into_iter()
        .map(|(s, f)| {
            (
                s,
                std::array::from_fn(|c| f[c] / 2.0 + (rng.random::<f64>() - 0.5) * 0.2 / (2.0 * a)),
            )
        })
        .collect();
    let atoms = cubic(2.0 * a, &sites);
    let output = evaluate(&model, &atoms, Request::ALL).unwrap();
    assert!(output.energy.is_finite() && output.energy < 0.0, "{}", output.energy);
    common::assert_forces_and_stress_match_central_differences(&model, &atoms, 1e-5, 1e-5, "du_teter LLTO-like");
}
