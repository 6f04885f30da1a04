//! Every unit symbol, spacing and exponent variant, and the errors for bad input.

use gbion_units::*;

/// Relative tolerance for values that pass through one or two float multiplications.
const REL_TOL: f64 = 1e-12;

fn assert_rel(actual: f64, expected: f64) {
    assert!(
        ((actual - expected) / expected).abs() < REL_TOL,
        "actual {actual:e}, expected {expected:e}"
    );
}

#[test]
fn every_length_unit() {
    let cases = [
        ("2 m", 2.0),
        ("2 km", 2e3),
        ("2 cm", 2e-2),
        ("2 mm", 2e-3),
        ("2 um", 2e-6),
        ("2 µm", 2e-6), // U+00B5 micro sign
        ("2 μm", 2e-6), // U+03BC Greek mu
        ("2 micron", 2e-6),
        ("2 nm", 2e-9),
        ("2 pm", 2e-12),
        ("2 Å", 2e-10), // U+00C5
        ("2 Å", 2e-10), // U+212B angstrom sign
        ("2 A", 2e-10),
        ("2 angstrom", 2e-10),
    ];
    for (s, expected) in cases {
        assert_rel(parse_length_m(s, "m").unwrap(), expected);
    }
}

#[test]
fn every_time_unit() {
    let cases = [
        ("3 s", 3.0),
        ("3 ms", 3e-3),
        ("3 us", 3e-6),
        ("3 µs", 3e-6),
        ("3 ns", 3e-9),
        ("3 ps", 3e-12),
        ("3 fs", 3e-15),
        ("3 min", 180.0),
        ("3 h", 3.0 * 3600.0),
        ("3 hr", 3.0 * 3600.0),
        ("3 d", 3.0 * 86400.0),
        ("3 days", 3.0 * 86400.0),
        ("3 w", 3.0 * 7.0 * 86400.0),
        ("3 weeks", 3.0 * 7.0 * 86400.0),
    ];
    for (s, expected) in cases {
        assert_rel(parse_time_s(s, "s").unwrap(), expected);
    }
}

#[test]
fn paper_003_times_and_lengths() {
    assert_rel(parse_time_s("59h", "s").unwrap(), 212_400.0);
    assert_rel(parse_time_s("16 d", "s").unwrap(), 1_382_400.0);
    assert_rel(parse_time_s("2w", "s").unwrap(), 1_209_600.0);
    assert_rel(parse_time_s("3.8 h", "s").unwrap(), 13_680.0);
    assert_rel(parse_length_m("0.5nm", "um").unwrap(), 5e-10);
    assert_rel(parse_length_m("1um", "um").unwrap(), 1e-6);
    assert_rel(parse_length_m("16 µm", "um").unwrap(), 1.6e-5);
}

#[test]
fn spacing_variants_agree() {
    for s in [
        "0.5 nm",
        "0.5nm",
        "  0.5 nm  ",
        "0.5\tnm",
        "5e-1 nm",
        "5E-1nm",
        ".5 nm",
        "+0.5 nm",
    ] {
        assert_rel(parse_length_m(s, "m").unwrap(), 0.5e-9);
    }
}

#[test]
fn diffusivity_variants_agree() {
    let expected = 2.6e-12; // 2.6e-8 cm²/s in m²/s
    for s in [
        "2.6e-8 cm^2/s",
        "2.6e-8 cm2/s",
        "2.6e-8cm^2/s",
        "2.6e-8 cm²/s",
        "2.6e-8 cm^2 s^-1",
        "2.6e-8 cm2 s-1",
        "2.6e-8 cm² s⁻¹",
        "2.6e-8 cm^2 / s",
        "2.6e-8 cm*cm/s",
        "2.6e-8 cm·cm·s^-1",
        "2.6e−8 cm^2 s^−1", // U+2212 minus signs
        "2.6e-6 mm^2/s",
        "2.6e-12 m^2/s",
        "2.6 um^2/s",
    ] {
        assert_rel(parse_diffusivity_m2_s(s, "cm^2/s").unwrap(), expected);
    }
    assert_rel(parse_diffusivity_m2_s("2.6e-8", "cm^2/s").unwrap(), expected);
}

#[test]
fn velocity_for_gb_conductance() {
    assert_rel(parse_velocity_m_s("1.5e-6 cm/s", "cm/s").unwrap(), 1.5e-8);
    assert_rel(parse_velocity_m_s("1.5e-6", "cm/s").unwrap(), 1.5e-8);
    assert_rel(parse_velocity_m_s("54 um/h", "cm/s").unwrap(), 1.5e-8);
}

#[test]
fn temperatures_kelvin_and_celsius() {
    assert_rel(parse_temperature_k("1573 K", "K").unwrap(), 1573.0);
    assert_rel(parse_temperature_k("1573K", "K").unwrap(), 1573.0);
    for s in ["25 C", "25C", "25 °C", "25°C", "25 degC", "25 ℃"] {
        assert_rel(parse_temperature_k(s, "K").unwrap(), 298.15);
    }
    assert_rel(parse_temperature_k("-110 C", "K").unwrap(), 163.15);
    assert_rel(parse_temperature_k("22", "C").unwrap(), 295.15);
    assert_rel(parse_temperature_k("295", "K").unwrap(), 295.0);
}

#[test]
fn number_density() {
    assert_rel(parse_number_density_m3("5e21 cm^-3", "cm^-3").unwrap(), 5e27);
    assert_rel(parse_number_density_m3("5e21 /cm3", "cm^-3").unwrap(), 5e27);
    assert_rel(parse_number_density_m3("5e21", "cm^-3").unwrap(), 5e27);
}

#[test]
fn bare_number_takes_default_unit() {
    assert_rel(parse_length_m("16", "um").unwrap(), 16e-6);
    assert_rel(parse_length_m("16", "mm").unwrap(), 16e-3);
    assert_rel(parse_time_s("59", "h").unwrap(), 59.0 * 3600.0);
}

#[test]
fn quantity_reports_dimension() {
    let q = Quantity::parse("2.6e-8 cm^2/s").unwrap();
    assert_eq!(q.dimension, Dimension::DIFFUSIVITY);
    assert_rel(q.value_si, 2.6e-12);
    let q = Quantity::parse("3").unwrap();
    assert_eq!(q.dimension, Dimension::NONE);
    assert_eq!(q.value_si, 3.0);
    let q = Quantity::parse("2 1/K").err();
    assert!(q.is_some(), "a stray number inside the unit is rejected");
    let q = Quantity::parse("2 /K").unwrap();
    assert_eq!(q.dimension, Dimension::new(0, 0, -1));
    assert_eq!(Dimension::DIFFUSIVITY.to_string(), "m^2 s^-1");
}

#[test]
fn wrong_dimension_names_expected_and_found() {
    let err = parse_length_m("59 h", "um").unwrap_err();
    match &err {
        UnitError::WrongDimension { expected, found, .. } => {
            assert_eq!(*expected, Dimension::LENGTH);
            assert_eq!(*found, Dimension::TIME);
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("59 h") && msg.contains("expected m"), "{msg}");
    assert!(matches!(
        parse_diffusivity_m2_s("2.6e-8 cm/s", "cm^2/s"),
        Err(UnitError::WrongDimension { .. })
    ));
    assert!(matches!(parse_time_s("5", "um"), Err(UnitError::WrongDimension { .. })));
}

#[test]
fn bad_inputs_are_errors_with_a_reason() {
    assert_eq!(parse_length_m("", "um"), Err(UnitError::Empty));
    assert_eq!(parse_length_m("   ", "um"), Err(UnitError::Empty));
    assert!(matches!(parse_length_m("nm", "um"), Err(UnitError::BadNumber { .. })));
    assert!(matches!(parse_length_m("abc", "um"), Err(UnitError::BadNumber { .. })));
    assert!(matches!(parse_length_m("-", "um"), Err(UnitError::BadNumber { .. })));
    assert!(matches!(parse_length_m(".", "um"), Err(UnitError::BadNumber { .. })));
    assert!(matches!(
        parse_length_m("5 furlongs", "um"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert!(matches!(
        parse_length_m("5 NM", "um"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert!(matches!(
        parse_diffusivity_m2_s("1 cm^/s", "cm^2/s"),
        Err(UnitError::Malformed { .. })
    ));
    assert!(matches!(
        parse_diffusivity_m2_s("1 cm^2/", "cm^2/s"),
        Err(UnitError::Malformed { .. })
    ));
    assert!(matches!(
        parse_length_m("1 *nm", "um"),
        Err(UnitError::Malformed { .. })
    ));
    assert!(matches!(
        parse_length_m("1 nm,", "um"),
        Err(UnitError::Malformed { .. })
    ));
    assert!(matches!(
        parse_length_m("1 nm^0", "um"),
        Err(UnitError::Malformed { .. })
    ));
    assert!(matches!(
        parse_length_m("1e999 nm", "um"),
        Err(UnitError::NotFinite { .. })
    ));
    assert!(matches!(
        Quantity::parse("1e300 km^30"),
        Err(UnitError::NotFinite { .. })
    ));
    assert!(matches!(
        parse_length_m("NaN nm", "um"),
        Err(UnitError::BadNumber { .. })
    ));
    assert!(matches!(
        parse_temperature_k("-300 C", "K"),
        Err(UnitError::BelowAbsoluteZero { .. })
    ));
    assert!(matches!(
        parse_temperature_k("-1", "K"),
        Err(UnitError::BelowAbsoluteZero { .. })
    ));
    assert!(matches!(
        Quantity::parse("1 C/s"),
        Err(UnitError::AffineInCompound { .. })
    ));
    assert!(matches!(
        Quantity::parse("1 C^2"),
        Err(UnitError::AffineInCompound { .. })
    ));
    let msg = parse_length_m("5 furlongs", "um").unwrap_err().to_string();
    assert!(
        msg.contains("furlongs") && msg.contains("nm"),
        "the message lists the known units: {msg}"
    );
}

#[test]
fn exponent_without_unit_digits_is_not_swallowed() {
    // "2e" followed by a letter is the number 2 and the unit "e...", which is unknown.
    assert!(matches!(
        parse_length_m("2em", "um"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert_rel(parse_length_m("2e3 m", "um").unwrap(), 2e3);
}
