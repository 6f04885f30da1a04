//! `gbion build perovskite` and `gbion build gb` end to end: the JSON summaries carry the documented keys
//! and the numbers of the structures (LSTZ0.75 16-unit cell, layered S = 7/9, LLTO integrality error,
//! the paper's Σ5 twist cell and the Σ51 nearest-CSL report), and the written files read back.

mod common;

use common::gbion;

use serde_json::Value;

const LSTZ: &str = "Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3";

fn json_of(args: &[&str]) -> Value {
    let out = gbion(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn layered_lstz_cell_has_the_paper_counts_and_maximal_s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lstz.xyz");
    let path = path.to_str().unwrap();
    let report = json_of(&[
        "build",
        "perovskite",
        "--formula",
        LSTZ,
        "--a",
        "3.99",
        "--supercell",
        "2x2x4",
        "--ordering",
        "layered:z",
        "--seed",
        "3",
        "-o",
        path,
        "--json",
    ]);
    assert_eq!(report["n_atoms"], 77);
    assert_eq!(report["species"]["Sr"], 7);
    assert_eq!(report["species"]["Li"], 6);
    assert_eq!(report["n_vacancies"], 3);
    assert_eq!(report["net_charge_e"], 0);
    assert!((report["ordering_S"].as_f64().unwrap() - 7.0 / 9.0).abs() < 1e-12);
    assert!((report["cell"][2][2].as_f64().unwrap() - 4.0 * 3.99).abs() < 1e-12);
    let info = json_of(&["info", path, "--json"]);
    assert_eq!(info["n_atoms"], 77);
}

#[test]
fn llto_error_names_the_smallest_supercell_and_round_warns() {
    let out = gbion(&[
        "build",
        "perovskite",
        "--formula",
        "Li0.29La0.57TiO3",
        "--a",
        "3.9",
        "--supercell",
        "4x4x4",
        "-o",
        "/nonexistent/x.xyz",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("100 formula units") && err.contains("4x5x5"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llto.xyz");
    let report = json_of(&[
        "build",
        "perovskite",
        "--formula",
        "Li0.29La0.57TiO3",
        "--a",
        "3.9",
        "--supercell",
        "4x4x4",
        "--round",
        "-o",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(report["net_charge_e"], -1);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("rounded")));
}

#[test]
fn paper_gbs_build_from_one_command_each() {
    let list = json_of(&["build", "gb", "--list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twist.xyz");
    let twist = json_of(&[
        "build",
        "gb",
        "--axis",
        "1,0,0",
        "--sigma",
        "5",
        "--twist",
        "--a",
        "4.0",
        "--formula",
        "SrTiO3",
        "--layers",
        "2",
        "-o",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(twist["sigma"], 5);
    assert!((twist["gb_area_A2"].as_f64().unwrap() - 80.0).abs() < 1e-9);
    assert_eq!(twist["n_atoms"], 100);
    assert!((twist["min_distance_A"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    let path = dir.path().join("s51.xyz");
    let s51 = json_of(&[
        "build",
        "gb",
        "--paper",
        "sigma51-tilt",
        "--a",
        "3.99",
        "--formula",
        LSTZ,
        "--layers",
        "2",
        "-o",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(s51["planes"][1], serde_json::json!([14, -14, 47]));
    assert!(s51["plane2_deviation_deg"].as_f64().unwrap() < 0.2);
    assert!(s51["min_distance_A"].as_f64().unwrap() >= 1.0);
    assert_eq!(s51["net_charge_e"], 0);
}

#[test]
fn random_lstz_ordering_has_s_near_zero() {
    // 8 × 8 × 8 units: 512 A sites, 224 Sr. Shuffled at random, the Sr count of the even layers along an axis
    // is hypergeometric with σ = 5.6 around 112, and S = |Δ| / (256 · 0.5625) = |Δ| / 144; the best of three
    // axes stays below 4σ/144 = 0.16, and its mean over seeds near 1.3σ/144 ≈ 0.05.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.xyz");
    let mut total = 0.0;
    for seed in 1..=5 {
        let report = json_of(&[
            "build",
            "perovskite",
            "--formula",
            LSTZ,
            "--a",
            "3.99",
            "--supercell",
            "8x8x8",
            "--ordering",
            "random",
            "--seed",
            &seed.to_string(),
            "-o",
            path.to_str().unwrap(),
            "--json",
        ]);
        let s = report["ordering_S"].as_f64().unwrap();
        assert!((0.0..0.16).contains(&s), "seed {seed}: S = {s}");
        total += s;
    }
    assert!(total / 5.0 < 0.08, "mean S = {}", total / 5.0);
}
