//! Effective-medium models, grain-size propagation, apparent/specific GB conductivity, Nernst–Einstein and
//! Haven ratio: paper 003's worked numbers, exact limits, and the Wiener/Hashin–Shtrikman bounds.
//! Values are in cm and cm²/s (the formulas are unit-homogeneous).

use gbion_transport::models::*;

/// Tolerance for identities that hold to round-off.
const ROUND_OFF: f64 = 1e-12;

fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Paper 003's numbers: D_bulk = 2.6e-8 cm²/s (PFG-NMR), D_gb = 7.6e-14 cm²/s, δ = 0.5 nm, l = 16 µm.
fn llto() -> Polycrystal {
    Polycrystal::new(2.6e-8, 7.6e-14, 0.5e-7, 16e-4).unwrap()
}

#[test]
fn paper_003_series_model_d_eff_and_spread() {
    // Eqn 6 by hand: 1/(1/2.6e-8 + 5e-8/(1.6e-3 · 7.6e-14)) = 1/(3.84615e7 + 4.11184e8) = 2.22398e-9 cm²/s.
    let p = llto();
    assert!(
        rel_diff(p.series_thin_gb(), 2.22398e-9) < 1e-5,
        "{:e}",
        p.series_thin_gb()
    );
    // Eqn 5 differs from eqn 6 only by terms of order δ/l = 3e-5.
    assert!(rel_diff(p.series(), p.series_thin_gb()) < 1e-4);
    // l = 16 ± 11 µm (EBSD): first-order spread σ_D = D²/(l² D_gb/δ) σ_l = 1.398e-9 cm²/s, the paper's ±1.4.
    let dist = GrainSizeDistribution::normal(16e-4, 11e-4).unwrap();
    let spread = propagate_grain_size(&p, Model::Series, &dist).unwrap();
    assert!(rel_diff(spread.d_eff_err, 1.398e-9) < 2e-3, "{:e}", spread.d_eff_err);
    assert_eq!(spread.d_eff_at_mean, p.series());
    // The paper quotes D_eff = 2.3 ± 1.4 × 10⁻⁹ cm²/s. The ±1.4 follows from the numbers above; the central
    // value from D_gb = 7.6e-14 (D_gb/δ = 1.52e-6 cm/s) is 2.2e-9. 2.3e-9 needs D_gb/δ = 1.58e-6 cm/s, i.e.
    // the line-analysis value "1.5 × 10⁻⁶" before rounding. The text's "D_gb/δ = 2.8 × 10⁻⁶ cm/s" and
    // "D_bulk = 2.8 × 10⁻⁸" (garbled extraction) would give 3.9e-9, checked below — they do not follow.
    assert!((p.series_thin_gb() / 1e-10).round() == 22.0);
    let d_for_23 = series_from_gb_conductance(2.6e-8, 1.58e-6, 16e-4).unwrap();
    assert!(rel_diff(d_for_23, 2.3e-9) < 0.01, "{d_for_23:e}");
    let from_garbled = series_from_gb_conductance(2.8e-8, 2.8e-6, 16e-4).unwrap();
    assert!(rel_diff(from_garbled, 3.862e-9) < 1e-3, "{from_garbled:e}");
}

#[test]
fn paper_003_d_gb_from_conductance() {
    // D_gb/δ = 1.52e-6 cm/s with δ = 0.5 nm gives D_gb = 7.6e-14 cm²/s (paper: "D_gb* = 7.6 × 10⁻¹⁴").
    let p = Polycrystal::from_gb_conductance(2.6e-8, 1.52e-6, 0.5e-7, 16e-4).unwrap();
    assert!(rel_diff(p.d_gb, 7.6e-14) < ROUND_OFF);
    assert!(
        rel_diff(
            p.series_thin_gb(),
            series_from_gb_conductance(2.6e-8, 1.52e-6, 16e-4).unwrap()
        ) < ROUND_OFF
    );
}

#[test]
fn paper_003_haven_ratio_from_prefactors() {
    // (l/δ)D*_gb and (l/δ)D_σ,gb share Ea ≈ 0.43 eV with prefactors 0.048 and 0.20 cm²/s.
    let h = haven_ratio_from_prefactors(0.048, 0.20).unwrap();
    assert!(rel_diff(h, 0.24) < ROUND_OFF);
}

#[test]
fn equal_diffusivities_give_the_bulk_value_in_every_model() {
    for (delta, l) in [(0.5e-7, 16e-4), (1e-4, 1e-3), (0.3, 1.0)] {
        let p = Polycrystal::new(3.7e-9, 3.7e-9, delta, l).unwrap();
        for model in [Model::Series, Model::Parallel, Model::BrickLayer, Model::MaxwellGarnett] {
            assert!(
                rel_diff(p.effective(model), 3.7e-9) < ROUND_OFF,
                "{model:?} δ={delta} l={l}"
            );
        }
        // Eqn 6 drops the δ in l + δ: D_bulk/(1 + δ/l), exact only for δ ≪ l.
        assert!(rel_diff(p.series_thin_gb(), 3.7e-9 / (1.0 + delta / l)) < ROUND_OFF);
        assert!(rel_diff(p.maxwell_garnett(MaxwellGarnettMatrix::Grains), 3.7e-9) < ROUND_OFF);
    }
}

#[test]
fn vanishing_gb_width_gives_the_bulk_value() {
    let p = Polycrystal::new(2.6e-8, 7.6e-14, 0.0, 16e-4).unwrap();
    for model in [Model::Series, Model::Parallel, Model::BrickLayer, Model::MaxwellGarnett] {
        // MG evaluates D_gb·3D_bulk/(3D_gb) at f = 1: exact up to round-off in the ratio.
        assert!(rel_diff(p.effective(model), 2.6e-8) < 1e-10, "{model:?}");
    }
    assert!(rel_diff(p.series_thin_gb(), 2.6e-8) < ROUND_OFF);
    // and continuously: D_eff → D_bulk linearly in δ
    let tiny = Polycrystal::new(2.6e-8, 7.6e-14, 1e-15, 16e-4).unwrap();
    for model in [Model::Series, Model::Parallel, Model::BrickLayer, Model::MaxwellGarnett] {
        assert!(rel_diff(tiny.effective(model), 2.6e-8) < 1e-5, "{model:?}");
    }
}

#[test]
fn series_and_parallel_are_the_wiener_bounds_of_the_1d_layering() {
    let p = llto();
    let phi_1d = p.delta / (p.grain_size + p.delta);
    let (lower, upper) = wiener_bounds(p.d_bulk, p.d_gb, phi_1d).unwrap();
    assert!(rel_diff(p.series(), lower) < ROUND_OFF);
    assert!(rel_diff(p.parallel(), upper) < ROUND_OFF);
}

#[test]
fn maxwell_garnett_is_a_hashin_shtrikman_bound_and_within_wiener() {
    for (d_bulk, d_gb) in [(2.6e-8, 7.6e-14), (1e-10, 1e-6), (1.0, 0.2)] {
        let p = Polycrystal::new(d_bulk, d_gb, 0.02, 1.0).unwrap();
        let phi = p.gb_volume_fraction();
        assert!(rel_diff(phi, 1.0 - (1.0f64 / 1.02).powi(3)) < ROUND_OFF);
        let (w_lo, w_hi) = wiener_bounds(d_bulk, d_gb, phi).unwrap();
        let (hs_lo, hs_hi) = hashin_shtrikman_bounds(d_bulk, d_gb, phi).unwrap();
        assert!(w_lo <= hs_lo && hs_lo <= hs_hi && hs_hi <= w_hi);
        let mg_gb_matrix = p.maxwell_garnett(MaxwellGarnettMatrix::GrainBoundary);
        let mg_grain_matrix = p.maxwell_garnett(MaxwellGarnettMatrix::Grains);
        // The matrix phase decides which bound MG lands on.
        let (slow_matrix, fast_matrix) = if d_gb < d_bulk {
            (mg_gb_matrix, mg_grain_matrix)
        } else {
            (mg_grain_matrix, mg_gb_matrix)
        };
        assert!(
            rel_diff(slow_matrix, hs_lo) < 1e-10,
            "{slow_matrix:e} vs HS lower {hs_lo:e}"
        );
        assert!(
            rel_diff(fast_matrix, hs_hi) < 1e-10,
            "{fast_matrix:e} vs HS upper {hs_hi:e}"
        );
        // Series ≤ MG ≤ parallel at the same (3D) GB fraction.
        assert!(w_lo <= mg_gb_matrix && mg_gb_matrix <= w_hi);
    }
}

#[test]
fn maxwell_garnett_with_blocking_gbs_reduces_to_eqn_6() {
    // Paper 003: eqn 5/6 "also represents the 1D case of the Maxwell–Garnett equation". With GB-limited
    // transport ((l/δ)D_gb ≪ D_bulk) MG of grains in a GB matrix gives D_gb (1+2f)/(1−f) ≈ (l/δ) D_gb.
    let p = Polycrystal::new(1.0, 1e-9, 1e-4, 1.0).unwrap();
    let mg = p.effective(Model::MaxwellGarnett);
    assert!(
        rel_diff(mg, p.series_thin_gb()) < 1e-3,
        "MG {mg:e} vs eqn 6 {:e}",
        p.series_thin_gb()
    );
}

#[test]
fn brick_layer_limits() {
    // Blocking GBs: the across path dominates and equals the series model up to l²/(l+δ)².
    let p = llto();
    let b = p.brick_layer();
    assert!(rel_diff(b.total, b.across + b.along) < ROUND_OFF);
    let l = p.grain_size;
    let cell = l + p.delta;
    assert!(rel_diff(b.across, p.series() * (l / cell).powi(2)) < ROUND_OFF);
    assert!(b.along / b.total < 1e-4);
    // Fast GBs: D ≈ D_bulk + (2δ/l) D_gb (the along path).
    let fast = Polycrystal::new(1e-12, 1e-6, 1e-7, 1e-3).unwrap();
    let expected = 1e-12 + 2.0 * 1e-7 / 1e-3 * 1e-6;
    assert!(
        rel_diff(fast.brick_layer().total, expected) < 1e-3,
        "{:e}",
        fast.brick_layer().total
    );
}

#[test]
fn chain_average_of_the_series_model_is_the_series_model_at_the_mean() {
    // Resistances add along a chain, and eqn 5's resistance is linear in l, so the chain average depends on
    // the distribution only through ⟨l⟩ — an exact check of the quadrature and of the averaging rule.
    let p = llto();
    for dist in [
        GrainSizeDistribution::log_normal(16e-4, 11e-4).unwrap(),
        GrainSizeDistribution::normal(16e-4, 11e-4).unwrap(),
        GrainSizeDistribution::normal(16e-4, 2e-4).unwrap(),
    ] {
        let s = propagate_grain_size(&p, Model::Series, &dist).unwrap();
        let at_mean = p.with_grain_size(s.mean_grain_size).unwrap().series();
        assert!(rel_diff(s.d_eff_chain_average, at_mean) < 1e-12, "{dist:?}");
    }
    // The log-normal quadrature reproduces the requested mean; the truncated normal's mean rises above it.
    let ln = propagate_grain_size(
        &p,
        Model::Series,
        &GrainSizeDistribution::log_normal(16e-4, 11e-4).unwrap(),
    );
    assert!(rel_diff(ln.unwrap().mean_grain_size, 16e-4) < 1e-9);
    let tn = propagate_grain_size(&p, Model::Series, &GrainSizeDistribution::normal(16e-4, 11e-4).unwrap());
    assert!(tn.unwrap().mean_grain_size > 16e-4 * 1.05);
}

#[test]
fn quadrature_weights_are_a_probability_distribution() {
    for dist in [
        GrainSizeDistribution::log_normal(5.0, 2.0).unwrap(),
        GrainSizeDistribution::normal(5.0, 0.5).unwrap(),
    ] {
        let nodes = dist.quadrature();
        let total: f64 = nodes.iter().map(|n| n.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let mean: f64 = nodes.iter().map(|(l, w)| l * w).sum();
        let var: f64 = nodes.iter().map(|(l, w)| (l - mean).powi(2) * w).sum();
        assert!(rel_diff(mean, 5.0) < 1e-9, "{dist:?} mean {mean}");
        assert!(rel_diff(var.sqrt(), dist.std()) < 1e-6, "{dist:?} std {}", var.sqrt());
    }
}

#[test]
fn first_order_spread_matches_the_analytic_derivative_of_eqn_6() {
    // ∂D/∂l for D = 1/(1/D_b + 1/(l g)) is D²/(l² g).
    let (d_b, g, l, sigma_l) = (1e-8, 2e-6, 5e-4, 1e-4);
    let p = Polycrystal::from_gb_conductance(d_b, g, 1e-9, l).unwrap();
    let spread = propagate_grain_size(&p, Model::Series, &GrainSizeDistribution::normal(l, sigma_l).unwrap()).unwrap();
    let d = p.series_thin_gb();
    let analytic = d * d / (l * l * g) * sigma_l;
    assert!(
        rel_diff(spread.d_eff_err, analytic) < 1e-5,
        "{:e} vs {analytic:e}",
        spread.d_eff_err
    );
}

#[test]
fn specific_gb_conductivity_geometry_and_capacitance_agree() {
    // Brick layer: a sample of thickness L and area A holds L/l GB slabs of width δ, so C_bulk = ε₀ε A/L
    // and C_gb = ε₀ε A/(L δ/l): C_bulk/C_gb = δ/l when ε_gb = ε_bulk.
    let (eps, area, thickness, delta, l) = (8.854e-14 * 60.0, 0.5, 0.05, 0.5e-7, 16e-4);
    let c_bulk = eps * area / thickness;
    let c_gb = eps * area / (thickness * delta / l);
    let sigma_apparent = 7.5e-5; // paper 000's apparent GB conductivity of LLTO, S/cm
    let from_geometry = specific_gb_conductivity_from_geometry(sigma_apparent, delta, l).unwrap();
    let from_capacitance = specific_gb_conductivity_from_capacitance(sigma_apparent, c_bulk, c_gb, 1.0).unwrap();
    assert!(rel_diff(from_geometry, 7.5e-5 * 0.5e-7 / 16e-4) < ROUND_OFF);
    assert!(rel_diff(from_capacitance, from_geometry) < 1e-12);
}

#[test]
fn nernst_einstein_llto_and_round_trip() {
    // D_σ = k_B T σ/(n q²) with σ = 1e-3 S/cm, T = 295 K, n = 5.0e21 cm⁻³:
    // 1.380649e-23·295·1e-3 / (5e21 · 1.602176634e-19²) = 4.072915e-24 / 1.283484e-16 = 3.17333e-8 cm²/s,
    // the order of LLTO's PFG-NMR D_bulk = 2.6e-8 cm²/s (paper 003). With the garbled n = 5.0e-21 the result
    // would be 3e34 cm²/s.
    let d_sigma = conductivity_diffusivity_cm2_s(1e-3, LLTO_LI_DENSITY_CM3, 295.0).unwrap();
    assert!(rel_diff(d_sigma, 3.17333e-8) < 1e-5, "{d_sigma:e}");
    let sigma = conductivity_from_tracer_s_cm(d_sigma, LLTO_LI_DENSITY_CM3, 295.0, 1.0).unwrap();
    assert!(rel_diff(sigma, 1e-3) < ROUND_OFF);
    // A Haven ratio H_R < 1 means the conductivity exceeds the tracer-based estimate by 1/H_R.
    let sigma_h = conductivity_from_tracer_s_cm(d_sigma, LLTO_LI_DENSITY_CM3, 295.0, 0.24).unwrap();
    assert!(rel_diff(sigma_h, 1e-3 / 0.24) < ROUND_OFF);
    assert!(rel_diff(haven_ratio(0.24 * d_sigma, d_sigma).unwrap(), 0.24) < ROUND_OFF);
}

#[test]
fn bad_inputs_are_errors_naming_the_quantity() {
    let err = Polycrystal::new(-1.0, 1.0, 0.1, 1.0).unwrap_err();
    assert_eq!(
        err,
        ModelError::NotPositive {
            name: "D_bulk",
            value: -1.0
        }
    );
    assert!(err.to_string().contains("D_bulk"));
    assert!(Polycrystal::new(1.0, f64::NAN, 0.1, 1.0).is_err());
    assert!(Polycrystal::new(1.0, 1.0, -0.1, 1.0).is_err());
    assert!(Polycrystal::new(1.0, 1.0, 0.1, 0.0).is_err());
    assert!(Polycrystal::from_gb_conductance(1.0, 1.0, 0.0, 1.0).is_err());
    assert!(series_from_gb_conductance(1.0, f64::INFINITY, 1.0).is_err());
    assert!(GrainSizeDistribution::normal(1.0, 0.0).is_err());
    assert!(wiener_bounds(1.0, 2.0, 1.5).is_err());
    assert!(hashin_shtrikman_bounds(1.0, 2.0, -0.1).is_err());
    assert!(conductivity_diffusivity_cm2_s(1e-3, 5e21, 0.0).is_err());
    assert!(conductivity_from_tracer_s_cm(1e-8, 5e21, 295.0, 0.0).is_err());
    assert!(haven_ratio(1.0, 0.0).is_err());
    assert!(specific_gb_conductivity_from_capacitance(1.0, 1.0, -1.0, 1.0).is_err());
}
