//! MLIP `.mtp` files: reading every fixture (trained, untrained templates, MLIP-2-trained), writing them back
//! (byte for byte for files in MLIP's own number format), errors naming line and field, and the species map.

use gbion_atoms::{Cell, Element, Structure};
use gbion_potentials::mtp::{Mtp, MtpParameters};
use gbion_potentials::{Potential, Request, evaluate};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mtp")
        .join(name)
}

fn read(name: &str) -> MtpParameters {
    MtpParameters::read(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

#[test]
fn trained_files_read_with_their_header_counts() {
    // (file, species, radial_funcs_count, moments, basic, times, scalar, scaling, first radial coefficient)
    let cases = [
        (
            "potentials/l08_2sp.mtp",
            2,
            2,
            18,
            11,
            14,
            9,
            0.03,
            -7.80197846746929e-1,
        ),
        ("potentials/l16_5sp.mtp", 5, 4, 350, 130, 969, 92, 0.03, f64::NAN),
        ("potentials/l20_3sp.mtp", 3, 5, 1352, 295, 6349, 288, 0.03, f64::NAN),
        (
            "mlip2_anchor/l08_3sp_AuAgCu.mtp",
            3,
            2,
            18,
            11,
            14,
            9,
            1.121566547846152e-01,
            3.524845424916722e-01,
        ),
    ];
    for (name, species, funcs, moments, basic, times, scalar, scaling, first) in cases {
        let p = read(name);
        assert_eq!(p.species_count, species, "{name}");
        assert_eq!(p.radial_funcs_count, funcs, "{name}");
        assert_eq!(p.radial_basis_size, 8, "{name}");
        assert_eq!(p.alpha_moments_count, moments, "{name}");
        assert_eq!(p.alpha_index_basic.len(), basic, "{name}");
        assert_eq!(p.alpha_index_times.len(), times, "{name}");
        assert_eq!(p.alpha_moment_mapping.len(), scalar, "{name}");
        assert_eq!(p.scaling, Some(scaling), "{name}");
        assert_eq!(p.max_dist, 5.0);
        assert!(p.is_trained());
        assert_eq!(p.radial_coeffs.as_ref().unwrap().len(), species * species * funcs * 8);
        if !first.is_nan() {
            assert_eq!(p.radial_coeffs.as_ref().unwrap()[0], first, "{name}");
        }
    }
    // Block 0-1 of l08_2sp (centre 0, neighbour 1) starts with 4.286641622240344e-01.
    let p = read("potentials/l08_2sp.mtp");
    assert_eq!(p.radial_coeffs.as_ref().unwrap()[2 * 8], 4.286641622240344e-01);
    assert_eq!(p.alpha_index_times[13], [0, 15, 1, 17]);
    assert_eq!(p.species_coeffs, Some(vec![-3.996021, -3.787313]));
}

#[test]
fn written_files_are_byte_identical_to_mlip_written_ones() {
    for name in [
        "potentials/l08_2sp.mtp",
        "potentials/l16_5sp.mtp",
        "potentials/l20_3sp.mtp",
        "mlip2_anchor/l08_3sp_AuAgCu.mtp",
        "mlip2_anchor/l16_1sp_Cu.mtp",
        "mlip2_anchor/l20_1sp_Cu.mtp",
    ] {
        let original = std::fs::read_to_string(fixture(name)).unwrap();
        let written = read(name).to_mtp_string();
        // MLIP-2 ends its files without a newline after the last line; gbion ends every line.
        assert!(
            written.trim_end() == original.trim_end(),
            "{name}: written text differs from the file"
        );
        assert!(written.ends_with("}\n"));
    }
}

#[test]
fn untrained_templates_read_and_round_trip() {
    for (name, moments, funcs) in [("untrained/08.mtp", 18, 2), ("untrained/16.mtp", 350, 4)] {
        let p = read(name);
        assert_eq!(p.alpha_moments_count, moments, "{name}");
        assert_eq!(p.radial_funcs_count, funcs);
        assert_eq!((p.min_dist, p.max_dist, p.scaling), (0.5, 5.0, None));
        assert!(!p.is_trained());
        assert!(p.radial_coeffs.is_none() && p.species_coeffs.is_none() && p.moment_coeffs.is_none());
        let again = MtpParameters::parse(&p.to_mtp_string(), name).unwrap();
        assert_eq!(again, p, "{name}");
    }
    // The level-16 template's basis layout equals that of the trained level-16 file.
    let template = read("untrained/16.mtp");
    let trained = read("potentials/l16_5sp.mtp");
    assert_eq!(template.alpha_index_basic, trained.alpha_index_basic);
    assert_eq!(template.alpha_index_times, trained.alpha_index_times);
    assert_eq!(template.alpha_moment_mapping, trained.alpha_moment_mapping);
}

#[test]
fn arbitrary_coefficients_round_trip_exactly_through_a_file() {
    let mut p = read("potentials/l08_2sp.mtp");
    // Values that need 17 significant digits.
    let coeffs = p.moment_coeffs.as_mut().unwrap();
    for (k, c) in coeffs.iter_mut().enumerate() {
        *c = (0.1 + 0.2) * (k as f64 + 1.0) / 3.0;
    }
    p.scaling = Some(1.0 / 3.0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.mtp");
    p.write(&path).unwrap();
    assert_eq!(MtpParameters::read(&path).unwrap(), p);
}

/// The error message for `text`, which must fail to parse.
fn parse_error(text: &str) -> String {
    match MtpParameters::parse(text, "bad.mtp") {
        Ok(_) => panic!("parsed:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_files_name_file_line_and_field() {
    let good = std::fs::read_to_string(fixture("potentials/l08_2sp.mtp")).unwrap();
    let replace = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        good.replacen(from, to, 1)
    };
    let cases = [
        (
            replace("species_count = 2", "species_count = two"),
            "bad.mtp line 5: species_count: expected a non-negative integer, found \"two\"",
        ),
        (
            replace("alpha_index_basic_count = 11", "alpha_index_basic_count = 12"),
            "bad.mtp line 27: alpha_index_basic: alpha_index_basic_count is 12 but the list has 11 entries",
        ),
        (
            replace("alpha_scalar_moments = 9\n", ""),
            "alpha_scalar_moments: missing",
        ),
        (
            replace("\t\t1-1\n", "\t\t0-1\n"),
            "bad.mtp line 22: radial_coeffs: block 0-1 given twice",
        ),
        (
            replace("{0, 15, 1, 17}", "{0, 15, 1, 18}"),
            "bad.mtp line 29: alpha_index_times: row 13 {0, 15, _, 18}: need factors below the product",
        ),
        (
            replace("{1, 0, 0, 0}}", "{2, 0, 0, 0}}"),
            "bad.mtp line 27: alpha_index_basic: row 10: radial function 2 is not below radial_funcs_count 2",
        ),
        (
            replace("-3.787313000000000e+00}", "nan}"),
            "bad.mtp line 32: species_coeffs: expected a finite number, found \"nan\"",
        ),
        (
            replace("-3.787313000000000e+00}", "}"),
            "bad.mtp line 32: species_coeffs: expected a finite number, found \"\"",
        ),
        (
            replace("-3.996021000000000e+00, ", ""),
            "bad.mtp line 32: species_coeffs: expected 2 numbers, found 1",
        ),
        (
            replace("RBChebyshev", "RBShapeev"),
            "line 7: radial_basis_type: only RBChebyshev is known",
        ),
        (
            replace("MTP\n", "MLIP\n"),
            "bad.mtp line 1: expected the header \"MTP\", found \"MLIP\"",
        ),
        (
            replace("\t\t1-1\n", "\t\t1-1\n\t\t\t{1.0, 2.0}\n"),
            "bad.mtp line 22: radial_coeffs: block 1-1 has 3 rows, radial_funcs_count is 2",
        ),
        (
            replace("max_dist = 5.000000000000000e+00", "max_dist = 1.0"),
            "line 9: max_dist: min_dist 1.2 must be below max_dist 1",
        ),
        (
            replace(
                "alpha_moment_mapping = {0, 10, 11, 12, 13, 14, 15, 16, 17}",
                "alpha_moment_mapping = {0, 10, 11, 12, 13, 14, 15, 16, 17",
            ),
            "bad.mtp line 31: alpha_moment_mapping: unclosed '{'",
        ),
        (
            String::new(),
            "bad.mtp line 1: expected the header \"MTP\", found an empty file",
        ),
        // Counts that would size tables of gigabytes are errors before anything is allocated.
        (
            replace("species_count = 2", "species_count = 1000000000"),
            "bad.mtp line 5: species_count: 1000000000 is more than 118",
        ),
        (
            replace("radial_basis_size = 8", "radial_basis_size = 100000"),
            "bad.mtp line 10: radial_basis_size: 100000 is more than 64",
        ),
        (
            replace("alpha_moments_count = 18", "alpha_moments_count = 1000000000"),
            "bad.mtp line 25: alpha_moments_count: 1000000000 is more than 1000000",
        ),
        (
            replace("{0, 2, 0, 0}", "{0, 2, 0, 1000}"),
            "bad.mtp line 27: alpha_index_basic: row 4 {0, 2, 0, 1000}: tensor rank 1002 is more than 32",
        ),
    ];
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let message = parse_error(&text);
        if !message.contains(expected) {
            failures.push(format!("expected {expected:?}\n     got {message:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_list_may_continue_over_several_lines() {
    let good = std::fs::read_to_string(fixture("potentials/l08_2sp.mtp")).unwrap();
    let split = good.replace("{0, 10, 11, 12, 13,", "{0, 10,\n\t11, 12, 13,");
    assert_eq!(
        MtpParameters::parse(&split, "split.mtp").unwrap(),
        read("potentials/l08_2sp.mtp")
    );
}

#[test]
fn species_map_must_fit_the_file_and_the_structure() {
    let mtp = Mtp::read(&fixture("potentials/l08_2sp.mtp")).unwrap();
    let error = mtp.clone().with_species(elements(&["Zr"])).unwrap_err().to_string();
    assert_eq!(
        error,
        "the MTP has 2 species (types 0..2) but 1 elements were given (Zr)"
    );
    let error = mtp.clone().with_species(elements(&["O", "O"])).unwrap_err().to_string();
    assert_eq!(error, "element O is given twice in the MTP species map (type 1)");

    let cell = Cell::periodic([[6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 6.0]]).unwrap();
    let structure = Structure::new(cell, elements(&["Zr", "Li"]), vec![[0.0; 3], [2.0, 0.0, 0.0]]).unwrap();
    let error = evaluate(&mtp, &structure, Request::ENERGY).unwrap_err().to_string();
    assert!(error.contains("no species map"), "{error}");
    let mapped = mtp.with_species(elements(&["Zr", "O"])).unwrap();
    assert_eq!(mapped.species(), Some(&elements(&["Zr", "O"])[..]));
    let error = evaluate(&mapped, &structure, Request::ENERGY).unwrap_err().to_string();
    assert_eq!(error, "atom 1 is Li, which the MTP does not know (its species: Zr, O)");

    let untrained = Mtp::read(&fixture("untrained/08.mtp"))
        .unwrap()
        .with_species(elements(&["Zr"]))
        .unwrap();
    let zr = Structure::new(structure.cell.clone(), elements(&["Zr"]), vec![[0.0; 3]]).unwrap();
    let error = evaluate(&untrained, &zr, Request::ENERGY).unwrap_err().to_string();
    assert!(error.contains("untrained template"), "{error}");
}
