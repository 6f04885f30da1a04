//! Brick-layer impedance: the limits Z(0) = R_b + R_gb and Z(∞) = 0, the arc apexes at −Im Z = R/2 and
//! f = 1/(2πRC), and the consistency of the circuit with the apparent/specific conductivity relations.

use gbion_transport::impedance::*;
use gbion_transport::models::{specific_gb_conductivity_from_capacitance, specific_gb_conductivity_from_geometry};
use std::f64::consts::PI;

const ROUND_OFF: f64 = 1e-12;

fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// LLTO-like sample: σ_b = 1e-3 S/cm, specific σ_gb = 2.3e-9 S/cm (apparent 7.5e-5 S/cm with l = 16 µm,
/// δ = 0.5 nm, paper 000), ε_r = 60, 0.5 mm thick, 5 mm × 10 mm electrodes. SI units.
fn llto_sample() -> BrickLayerSample {
    BrickLayerSample {
        sigma_bulk: 0.1,
        sigma_gb: 7.5e-3 * 0.5e-9 / 16e-6,
        grain_size: 16e-6,
        delta: 0.5e-9,
        eps_bulk: 60.0,
        eps_gb: 60.0,
        thickness: 0.5e-3,
        area: 5e-3 * 10e-3,
    }
}

#[test]
fn circuit_elements_follow_from_layer_thicknesses() {
    let s = llto_sample();
    let c = s.circuit().unwrap();
    let cell = s.grain_size + s.delta;
    let l_b = s.thickness * s.grain_size / cell;
    assert!(rel_diff(c.bulk.resistance_ohm, l_b / (s.sigma_bulk * s.area)) < ROUND_OFF);
    assert!(rel_diff(c.bulk.capacitance_f, VACUUM_PERMITTIVITY_F_M * 60.0 * s.area / l_b) < ROUND_OFF);
    // The bulk time constant ε₀ε_r/σ_b does not depend on geometry.
    assert!(rel_diff(c.bulk.time_constant_s(), VACUUM_PERMITTIVITY_F_M * 60.0 / 0.1) < ROUND_OFF);
}

#[test]
fn zero_and_infinite_frequency_limits() {
    let c = llto_sample().circuit().unwrap();
    let (re0, im0) = c.impedance(0.0);
    assert!(rel_diff(re0, c.bulk.resistance_ohm + c.gb.resistance_ohm) < ROUND_OFF);
    assert_eq!(im0, 0.0);
    let (re_inf, im_inf) = c.impedance(1e30);
    assert!(
        re_inf.abs() < 1e-12 * re0 && im_inf.abs() < 1e-12 * re0,
        "({re_inf}, {im_inf})"
    );
    // The spectrum's ends approach the same limits.
    let spec = c.spectrum(1e-6, 1e13, 10).unwrap();
    assert!(rel_diff(spec[0].z_re_ohm, c.dc_resistance_ohm()) < 1e-6);
    assert!(spec.last().unwrap().z_re_ohm < 1e-6 * c.dc_resistance_ohm());
}

#[test]
fn arc_apexes_sit_at_half_their_resistance() {
    let c = llto_sample().circuit().unwrap();
    let (tau_b, tau_gb) = (c.bulk.time_constant_s(), c.gb.time_constant_s());
    assert!(
        tau_gb / tau_b > 1e3,
        "arcs well separated: τ_gb/τ_b = {}",
        tau_gb / tau_b
    );
    for (arc, other) in [(c.gb, c.bulk), (c.bulk, c.gb)] {
        let f = arc.apex_frequency_hz();
        assert!(rel_diff(f, 1.0 / (2.0 * PI * arc.resistance_ohm * arc.capacitance_f)) < ROUND_OFF);
        let (_, im) = c.impedance(2.0 * PI * f);
        // The other arc adds −Im Z of order R_other·(τ ratio) at this frequency.
        let tolerance = 2.0 * other.resistance_ohm.max(arc.resistance_ohm) * (tau_b / tau_gb);
        assert!(
            (-im - arc.resistance_ohm / 2.0).abs() < tolerance,
            "{} vs {}",
            -im,
            arc.resistance_ohm / 2.0
        );
    }
    // On a fine grid the largest −Im Z of the GB arc lies at its apex frequency (to the grid spacing).
    let spec = c.spectrum(1e-2, 1e5, 200).unwrap();
    let peak = spec
        .iter()
        .max_by(|a, b| (-a.z_im_ohm).total_cmp(&-b.z_im_ohm))
        .unwrap();
    assert!((peak.frequency_hz / c.gb.apex_frequency_hz()).log10().abs() < 0.01);
}

#[test]
fn apparent_and_specific_gb_conductivity_are_consistent() {
    let s = llto_sample();
    let c = s.circuit().unwrap();
    let apparent = c.apparent_gb_conductivity(s.thickness, s.area);
    assert!(rel_diff(apparent, s.sigma_gb * (s.grain_size + s.delta) / s.delta) < ROUND_OFF);
    // Recover the specific conductivity from the circuit: from δ/l (to order δ/l) and from the capacitances.
    let from_geometry = specific_gb_conductivity_from_geometry(apparent, s.delta, s.grain_size).unwrap();
    assert!(rel_diff(from_geometry, s.sigma_gb) < 2.0 * s.delta / s.grain_size);
    let from_caps =
        specific_gb_conductivity_from_capacitance(apparent, c.bulk.capacitance_f, c.gb.capacitance_f, 1.0).unwrap();
    // C_b/C_gb = δ/l exactly, so this gives σ_spec·(l+δ)/l.
    assert!(rel_diff(from_caps, s.sigma_gb * (s.grain_size + s.delta) / s.grain_size) < ROUND_OFF);
    // Total conductivity is the series combination.
    let total = c.total_conductivity(s.thickness, s.area);
    let expected = 1.0 / (s.grain_size / (s.grain_size + s.delta) / s.sigma_bulk + 1.0 / apparent);
    assert!(rel_diff(total, expected) < ROUND_OFF);
}

#[test]
fn spectrum_grid_and_errors() {
    let c = llto_sample().circuit().unwrap();
    let spec = c.spectrum(1.0, 1e6, 5).unwrap();
    assert_eq!(spec.len(), 31);
    assert!(rel_diff(spec[0].frequency_hz, 1.0) < ROUND_OFF && rel_diff(spec[30].frequency_hz, 1e6) < 1e-12);
    assert!(spec.windows(2).all(|w| w[1].frequency_hz > w[0].frequency_hz));
    assert!(
        spec.iter().all(|p| p.z_im_ohm <= 0.0 && p.z_re_ohm > 0.0),
        "capacitive: −Im Z ≥ 0"
    );
    assert!(c.spectrum(10.0, 1.0, 5).is_err());
    assert!(c.spectrum(0.0, 1.0, 5).is_err());
    assert!(c.spectrum(1.0, 10.0, 0).is_err());
    // Grids of more than a million frequencies (once a capacity overflow or an abort) are errors.
    assert!(c.spectrum(1.0, 10.0, 1_000_000_000).is_err());
    assert!(c.spectrum(1e-300, 1e300, 100_000).is_err());
    assert_eq!(c.spectrum(1.0, 10.0, 999_999).unwrap().len(), 1_000_000);
    let mut bad = llto_sample();
    bad.delta = 0.0;
    assert!(bad.circuit().is_err());
    bad.delta = f64::NAN;
    assert!(bad.circuit().is_err());
}
