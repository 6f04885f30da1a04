//! `gbion quickstart`, `gbion info` and `gbion convert` end to end: the layered LSTZ0.75 cell is written,
//! converted through every format and summarised; the summaries must agree with the known composition.

mod common;

use common::gbion;

use serde_json::Value;
use std::path::Path;

fn info_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["info", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = gbion(&args);
    assert!(
        out.status.success(),
        "info failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

const LATTICE: f64 = 3.95;

#[test]
fn quickstart_summary_is_the_layered_lstz075_supercell() {
    let out = gbion(&["quickstart", "--json", "--repeat", "1,1,1"]);
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &report["structure"];
    assert_eq!(s["n_atoms"], 77);
    assert_eq!(s["formula"], "Li6O48Sr7Ta12Zr4");
    assert_eq!(report["formal_charge_e"], 0);
    assert!((report["ordering_parameter_s"].as_f64().unwrap() - 7.0 / 9.0).abs() < 1e-12);
    // Density: total mass over the 2a × 2a × 4a cell.
    let mass = 6.0 * 6.94 + 7.0 * 87.62 + 12.0 * 180.94788 + 4.0 * 91.224 + 48.0 * 15.999;
    let density = mass / (16.0 * LATTICE.powi(3)) * 1.66053906660;
    assert!((s["density_g_cm3"].as_f64().unwrap() - density).abs() < 1e-9);
    assert!((s["min_distance_A"].as_f64().unwrap() - LATTICE / 2.0).abs() < 1e-9);
}

#[test]
fn every_format_round_trips_through_convert() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("lstz.xyz");
    let out = gbion(&["quickstart", "--repeat", "1,1,1", "--output", xyz.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reference = info_json(&xyz, &[]);
    let type_map = ["--type-map", "Li,Sr,Ta,Zr,O"];
    for name in ["POSCAR", "lstz.data", "lstz.dump", "lstz.cfg", "back.xyz"] {
        let path = dir.path().join(name);
        let out = gbion(&[
            "convert",
            xyz.to_str().unwrap(),
            path.to_str().unwrap(),
            type_map[0],
            type_map[1],
        ]);
        assert!(
            out.status.success(),
            "convert to {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = info_json(&path, &type_map);
        for key in ["n_atoms", "species", "pbc"] {
            assert_eq!(summary[key], reference[key], "{name}: {key}");
        }
        for key in ["volume_A3", "density_g_cm3", "min_distance_A"] {
            let (a, b) = (summary[key].as_f64().unwrap(), reference[key].as_f64().unwrap());
            assert!((a - b).abs() < 1e-9 * b, "{name}: {key} {a} vs {b}");
        }
    }
}

#[test]
fn bad_input_is_an_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let poscar = dir.path().join("POSCAR");
    std::fs::write(&poscar, "bad\n1.0\n4 0 0\n0 4 0\n0 0 abc\nLi\n1\nDirect\n0 0 0\n").unwrap();
    let out = gbion(&["info", poscar.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("POSCAR line 5"), "{stderr}");
    assert!(stderr.contains("abc"), "{stderr}");
    let missing = gbion(&["info", "does-not-exist.xyz"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does-not-exist.xyz"));
}
