//! MLIP `.cfg`: the shared MTP test data (copied to tests/fixtures/cfg; written by motep and by MLIP-2)
//! read against its full-precision `reference.json` and its extended-XYZ twins, PlusStress ↔ stress, round
//! trips, the `.cfg` layout variants, and bad inputs.

use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_file, read_frames, write_frame};
use gbion_atoms::{Element, InfoValue, Property, Structure};
use serde_json::Value;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Relative agreement required with the reference values (numbers printed at 12–14 decimals).
const REFERENCE_RELATIVE: f64 = 1e-10;
/// Absolute agreement of forces with the extxyz twins, which ASE wrote with 8 decimals.
const EXTXYZ_FORCE_DECIMALS: f64 = 5e-9;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cfg")
}

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

/// The species of each potential, as `reference.json` lists them (type index = position).
fn species_of(reference: &Value, potential: &str) -> Vec<Element> {
    let names: Vec<&str> = reference["potentials"][potential]["species"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    elements(&names)
}

fn read_with_map(path: &Path, map: &[Element]) -> Vec<Structure> {
    let options = ReadOptions {
        type_map: Some(map.to_vec()),
        ..Default::default()
    };
    read_file(path, Some(Format::Cfg), &options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        v => vec![v.as_f64().unwrap()],
    }
}

/// |a − b| ≤ tolerance · max(1, max |b|) element-wise: relative to the largest magnitude in the case.
fn assert_all_close(a: &[f64], b: &[f64], tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tolerance * scale, "{what}: {x} vs {y}");
    }
}

fn flat(v: &[[f64; 3]]) -> Vec<f64> {
    v.iter().flatten().copied().collect()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(testdata().join("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_case_reads_to_the_full_precision_reference() {
    let reference = reference();
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 15);
    for case in cases {
        let map = species_of(&reference, case["potential"].as_str().unwrap());
        let path = testdata().join(case["cfg"].as_str().unwrap());
        let s = read_with_map(&path, &map).remove(0);
        let name = path.display().to_string();
        let symbols: Vec<&str> = s.symbols().collect();
        let expected_symbols: Vec<&str> = case["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(symbols, expected_symbols, "{name}");
        let types: Vec<i64> = case["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(s.int_tag("mtp_type"), Some(&types[..]), "{name}");
        assert_eq!(flat(s.cell.matrix()), numbers(&case["cell"]), "{name}: cell");
        assert_eq!(flat(&s.positions), numbers(&case["positions"]), "{name}: positions");
        assert_eq!(s.cell.pbc(), [true; 3]);
        let energy = case["energy"].as_f64().unwrap();
        assert_all_close(
            &[s.results.energy.unwrap()],
            &[energy],
            REFERENCE_RELATIVE,
            &format!("{name}: energy"),
        );
        assert_all_close(
            &flat(s.results.forces.as_ref().unwrap()),
            &numbers(&case["forces"]),
            REFERENCE_RELATIVE,
            &format!("{name}: forces"),
        );
        let stress = s.results.stress.unwrap();
        assert_all_close(
            &stress,
            &numbers(&case["stress_voigt"]),
            REFERENCE_RELATIVE,
            &format!("{name}: σ = −PlusStress/V"),
        );
        assert_eq!(s.info.get("EFS_by"), Some(&InfoValue::Str("motep-0.2.0".into())));
    }
}

#[test]
fn every_case_matches_its_extxyz_twin() {
    let reference = reference();
    for case in reference["cases"].as_array().unwrap() {
        let map = species_of(&reference, case["potential"].as_str().unwrap());
        let cfg = read_with_map(&testdata().join(case["cfg"].as_str().unwrap()), &map).remove(0);
        let xyz_path = testdata().join(case["extxyz"].as_str().unwrap());
        let xyz = read_file(&xyz_path, Some(Format::ExtXyz), &ReadOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let name = xyz_path.display().to_string();
        assert_eq!(cfg.elements, xyz.elements, "{name}");
        assert_eq!(cfg.int_tag("mtp_type"), xyz.int_tag("mtp_type"), "{name}");
        assert_eq!(cfg.cell, xyz.cell, "{name}");
        assert_eq!(cfg.positions, xyz.positions, "{name}");
        let (e_cfg, e_xyz) = (cfg.results.energy.unwrap(), xyz.results.energy.unwrap());
        assert_all_close(&[e_cfg], &[e_xyz], REFERENCE_RELATIVE, &format!("{name}: energy"));
        let (s_cfg, s_xyz) = (cfg.results.stress.unwrap(), xyz.results.stress.unwrap());
        assert_all_close(&s_cfg, &s_xyz, REFERENCE_RELATIVE, &format!("{name}: stress"));
        let (f_cfg, f_xyz) = (
            cfg.results.forces.as_ref().unwrap(),
            xyz.results.forces.as_ref().unwrap(),
        );
        for (a, b) in flat(f_cfg).iter().zip(flat(f_xyz)) {
            assert!((a - b).abs() <= EXTXYZ_FORCE_DECIMALS, "{name}: force {a} vs {b}");
        }
    }
}

#[test]
fn mlip2_output_reads_with_plus_stress_as_virial() {
    let cases = [
        ("l08_3sp_AuAgCu.cfg", elements(&["Au", "Ag", "Cu"]), 3, 27),
        ("l16_1sp_Cu.cfg", elements(&["Cu"]), 2, 32),
        ("l20_1sp_Cu.cfg", elements(&["Cu"]), 2, 32),
    ];
    for (file, map, n_frames, n_atoms) in cases {
        let path = testdata().join("mlip2_anchor").join(file);
        let frames = read_with_map(&path, &map);
        assert_eq!(frames.len(), n_frames, "{file}");
        assert!(frames.iter().all(|f| f.len() == n_atoms), "{file}");
    }
    // First frame of the AuAgCu file: fcc cell vectors (0, 5.415, 5.415) ..., E and PlusStress as printed.
    let first = read_with_map(
        &testdata().join("mlip2_anchor/l08_3sp_AuAgCu.cfg"),
        &elements(&["Au", "Ag", "Cu"]),
    )
    .remove(0);
    let volume = 2.0 * 5.415f64.powi(3);
    assert!((first.cell.volume() - volume).abs() < 1e-10 * volume);
    assert_eq!(first.results.energy, Some(7.364167265679));
    let plus_stress = [79.81336, 75.50663, 79.81336, -0.42011, -4.85618, -0.42011];
    let stress = first.results.stress.unwrap();
    for (s, p) in stress.iter().zip(plus_stress) {
        assert!((s + p / volume).abs() < 1e-15, "σ = −PlusStress / V");
    }
    assert_eq!(&first.symbols().take(3).collect::<Vec<_>>(), &["Au", "Ag", "Cu"]);
}

fn write_all(frames: &[Structure], options: &WriteOptions) -> Vec<u8> {
    let mut text = Vec::new();
    for f in frames {
        write_frame(&mut text, f, Format::Cfg, options).unwrap();
    }
    text
}

fn read_text(text: &str, options: &ReadOptions) -> gbion_atoms::Result<Vec<Structure>> {
    read_frames(
        Cursor::new(text.as_bytes().to_vec()),
        "inline.cfg",
        Format::Cfg,
        options,
    )
    .collect()
}

#[test]
fn round_trip_is_exact_and_needs_no_type_map() {
    let path = testdata().join("mlip2_anchor/l08_3sp_AuAgCu.cfg");
    let frames = read_with_map(&path, &elements(&["Au", "Ag", "Cu"]));
    let text = String::from_utf8(write_all(&frames, &WriteOptions::default())).unwrap();
    assert!(
        text.contains("Feature   elements Au Ag Cu"),
        "types keep the file's numbering"
    );
    let back = read_text(&text, &ReadOptions::default()).unwrap();
    assert_eq!(back.len(), frames.len());
    for (b, f) in back.iter().zip(&frames) {
        assert_eq!(b.positions, f.positions);
        assert_eq!(b.elements, f.elements);
        assert_eq!(b.cell, f.cell);
        assert_eq!(b.results.energy, f.results.energy);
        assert_eq!(b.results.forces, f.results.forces);
        assert_eq!(b.properties, f.properties);
        assert_eq!(b.info, f.info);
        assert_all_close(&b.results.stress.unwrap(), &f.results.stress.unwrap(), 1e-15, "stress");
    }
    // A type map on writing renumbers the types.
    let options = WriteOptions {
        type_map: Some(elements(&["Cu", "Ag", "Au"])),
        ..Default::default()
    };
    let text = String::from_utf8(write_all(&frames[..1], &options)).unwrap();
    let back = read_text(&text, &ReadOptions::default()).unwrap().remove(0);
    assert_eq!(back.elements, frames[0].elements);
    assert_eq!(back.int_tag("mtp_type").unwrap()[..3], [2, 1, 0]);
}

#[test]
fn types_without_elements_are_an_error_naming_the_type_map() {
    let path = testdata().join("cases/l08_2sp__single_atom.cfg");
    let error = read_file(&path, None, &ReadOptions::default())
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("l08_2sp__single_atom.cfg line 9: type 1 has no element"),
        "{message}"
    );
    assert!(message.contains("type map"), "{message}");
}

#[test]
fn direct_coordinates_extra_columns_features_and_open_directions() {
    let text = "\
BEGIN_CFG
 Size
    2
 Supercell
    4.0 0.0 0.0
    1.0 5.0 0.0
 AtomData:  id type direct_x direct_y direct_z nbh_grades
    1 0 0.5 0.5 2.0 1.25
    2 1 0.0 0.2 -1.0 0.75
 Energy
    -3.5
 EnergyWeight
    0.25
 PlusStress:  xx yy zz yz xz xy
    1 2 3 4 5 6
 Feature   EFS_by  VASP
 Feature   EFS_by  gbion
 Feature   MV_grade  2.5
 Feature   elements Li O
END_CFG
";
    let s = read_text(text, &ReadOptions::default()).unwrap().remove(0);
    assert_eq!(
        s.cell.pbc(),
        [true, true, false],
        "two Supercell rows: periodic in a and b only"
    );
    assert_eq!(
        s.positions[0],
        [2.5, 2.5, 2.0],
        "r = s·M with the open direction along z"
    );
    assert_eq!(s.positions[1], [0.2, 1.0, -1.0]);
    assert_eq!(s.symbols().collect::<Vec<_>>(), ["Li", "O"]);
    assert_eq!(
        s.properties.get("nbh_grades"),
        Some(&Property::Real {
            data: vec![1.25, 0.75],
            columns: 1
        })
    );
    assert_eq!(s.results.stress, None, "no volume: PlusStress stays as it is");
    assert_eq!(
        s.info.get("plus_stress"),
        Some(&InfoValue::RealArray(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    );
    assert_eq!(s.info.get("energy_weight"), Some(&InfoValue::Real(0.25)));
    assert_eq!(s.info.get("EFS_by"), Some(&InfoValue::Str("VASP\ngbion".into())));
    assert_eq!(s.info.get("MV_grade"), Some(&InfoValue::Real(2.5)));
    let written = String::from_utf8(write_all(std::slice::from_ref(&s), &WriteOptions::default())).unwrap();
    assert!(
        written.contains(" Feature   EFS_by VASP\n Feature   EFS_by gbion\n"),
        "{written}"
    );
    let back = read_text(&written, &ReadOptions::default()).unwrap().remove(0);
    assert_eq!(back.positions, s.positions);
    assert_eq!(back.cell, s.cell);
    assert_eq!(back.info, s.info);
    assert_eq!(back.properties, s.properties);
}

#[test]
fn plus_stress_columns_may_come_in_any_order() {
    let frame = |header: &str, values: &str| {
        format!(
            "BEGIN_CFG\n Size\n 1\n Supercell\n 2 0 0\n 0 2 0\n 0 0 2\n AtomData: id type cartes_x cartes_y cartes_z\n 1 0 0 0 0\n PlusStress: {header}\n {values}\nEND_CFG\n"
        )
    };
    let options = ReadOptions {
        type_map: Some(elements(&["Li"])),
        ..Default::default()
    };
    let ordered = read_text(&frame("xx yy zz yz xz xy", "8 16 24 32 40 48"), &options)
        .unwrap()
        .remove(0);
    let shuffled = read_text(&frame("xy xx yz yy xz zz", "48 8 32 16 40 24"), &options)
        .unwrap()
        .remove(0);
    assert_eq!(
        ordered.results.stress,
        Some([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]),
        "σ = −P/V with V = 8"
    );
    assert_eq!(shuffled.results.stress, ordered.results.stress);
}

#[test]
fn bad_cfg_inputs_name_file_line_and_field() {
    let cases = [
        (
            "cfg_bad_number.cfg",
            "cfg_bad_number.cfg line 9: expected a finite number for cartes_y, found \"abc\"",
        ),
        (
            "cfg_nan_energy.cfg",
            "cfg_nan_energy.cfg line 12: expected a finite number for Energy, found \"NaN\"",
        ),
        (
            "cfg_short_atoms.cfg",
            "cfg_short_atoms.cfg line 10: expected 5 values (id type cartes_x cartes_y cartes_z), found 4",
        ),
        (
            "cfg_missing_end.cfg",
            "cfg_missing_end.cfg line 13: expected END_CFG, found the end of the file",
        ),
        (
            "cfg_huge_size.cfg",
            "cfg_huge_size.cfg line 10: expected atom 2 of 10000000000, found the end of the file",
        ),
        (
            "cfg_unknown_line.cfg",
            "cfg_unknown_line.cfg line 11: expected Size, Supercell, AtomData, Energy, PlusStress, Feature, EnergyWeight or END_CFG, found \"Bogus 1\"",
        ),
        (
            "cfg_no_begin.cfg",
            "cfg_no_begin.cfg line 1: expected BEGIN_CFG, found \"Size\"",
        ),
        (
            "cfg_size_mismatch.cfg",
            "cfg_size_mismatch.cfg line 11: expected 5 values",
        ),
        (
            "cfg_bad_plus_stress.cfg",
            "cfg_bad_plus_stress.cfg line 11: expected PlusStress columns xx yy zz yz xz xy, found \"xx yy zz\"",
        ),
        (
            "cfg_bad_element.cfg",
            "cfg_bad_element.cfg line 11: Feature elements: unknown element \"Zz\"",
        ),
    ];
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mismatches: Vec<String> = cases
        .iter()
        .filter_map(|(name, expected)| {
            let frames = read_file(&folder.join(name), None, &ReadOptions::default()).unwrap();
            match frames.into_iter().find_map(Result::err).map(|e| e.to_string()) {
                Some(message) if message.starts_with(expected) => None,
                other => Some(format!("{name}:\n   got {other:?}\nwanted {expected:?}")),
            }
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
