//! `gbion analyze ordering` and `gbion analyze gb` end to end: S of the layered LSTZ0.75 quickstart cell
//! (one frame and a two-frame trajectory, with the S-versus-frame plot), and the GB analysis of a layered
//! bicrystal written in the test, whose composition per layer, planes and energy are known.

mod common;

use common::gbion;

use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, Structure};
use serde_json::Value;
use std::path::Path;

fn json_of(args: &[&str]) -> Value {
    let out = gbion(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn close(value: &Value, expected: f64, tolerance: f64) -> bool {
    (value.as_f64().unwrap() - expected).abs() <= tolerance
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(b"\x89PNG")
}

#[test]
fn ordering_of_the_layered_cell_and_of_a_trajectory() {
    let dir = tempfile::tempdir().unwrap();
    let cell = dir.path().join("lstz.xyz");
    let out = gbion(&["quickstart", "--repeat", "1,1,1", "--output", cell.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json_of(&["analyze", "ordering", cell.to_str().unwrap(), "--json"]);
    assert!(close(&report["S"], 7.0 / 9.0, 1e-12), "{report}");
    assert!(close(&report["S_max"], 7.0 / 9.0, 1e-12));
    assert_eq!(report["axis"], "z");
    assert_eq!(report["species"], "Sr");
    assert_eq!(report["n_frames"], 1);
    assert_eq!(report["frames"].as_array().unwrap().len(), 1);

    // Two frames (extxyz frames are concatenated): the same S twice, std 0; S versus time plotted.
    let text = std::fs::read_to_string(&cell).unwrap();
    let trajectory = dir.path().join("traj.xyz");
    std::fs::write(&trajectory, text.repeat(2)).unwrap();
    let plot = dir.path().join("S.png");
    let args = [
        "analyze",
        "ordering",
        trajectory.to_str().unwrap(),
        "--axis",
        "c",
        "--frame-ps",
        "2",
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ];
    let report = json_of(&args);
    assert_eq!(report["n_frames"], 2);
    assert!(close(&report["S_mean"], 7.0 / 9.0, 1e-12) && close(&report["S_std"], 0.0, 1e-12));
    assert_eq!(report["frames"][1]["frame"], 1);
    assert!(is_png(&plot));

    let out = gbion(&["analyze", "ordering", cell.to_str().unwrap()]);
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(human.contains("0.7778") && human.contains("Sr"), "{human}");
}

const A: f64 = 2.5;

/// Two blocks of simple cubic layers (2 × 2 atoms each, spacing a = 2.5 Å), four layers per grain, the
/// upper grain lifted by a/2 in a cell of 8a + a: the GB planes are at 4.25a and 8.75a, the layers next to
/// them 1.875 Å away, the inner layers 4.375 Å. Layers next to a GB hold 1 Li + 3 Sr, inner layers 4 Sr.
fn layered_bicrystal() -> Structure {
    let (mut elements, mut positions, mut grain) = (Vec::new(), Vec::new(), Vec::new());
    for g in 0..2usize {
        for k in 0..4usize {
            let z = (4 * g + k) as f64 * A + 0.5 * A + g as f64 * 0.5 * A;
            for (i, (x, y)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                let next_to_gb = k == 0 || k == 3;
                let symbol = if next_to_gb && i == 0 { "Li" } else { "Sr" };
                elements.push(Element::from_symbol(symbol).unwrap());
                positions.push([x as f64 * A, y as f64 * A, z]);
                grain.push(g as i64);
            }
        }
    }
    let cell = Cell::orthorhombic([2.0 * A, 2.0 * A, 9.0 * A]).unwrap();
    let mut s = Structure::new(cell, elements, positions).unwrap();
    s.set_int_tag(tags::GRAIN, grain).unwrap();
    s
}

fn write_xyz(path: &Path, s: Structure) {
    gbion_atoms::io::write_file(path, None, [Ok(s)], &Default::default()).unwrap();
}

#[test]
fn gb_planes_composition_profile_and_energy_of_a_layered_bicrystal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bicrystal.xyz");
    let mut s = layered_bicrystal();
    s.results.energy = Some(-12.5);
    write_xyz(&file, s);
    let csv = dir.path().join("profile.csv");
    let plot = dir.path().join("profile.svg");
    let args = [
        "analyze",
        "gb",
        file.to_str().unwrap(),
        "--width",
        "5",
        "--bin",
        "1",
        "--mu",
        "Li=-1,Sr=-2",
        "--profile-out",
        csv.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ];
    let r = json_of(&args);
    assert_eq!(r["axis"], "z");
    assert_eq!(r["plane_source"], "grain-tags");
    assert!(
        close(&r["planes_A"][0], 4.25 * A, 1e-9) && close(&r["planes_A"][1], 8.75 * A, 1e-9),
        "{r}"
    );
    // The grains are too thin beyond 2.5 Å of the planes to measure a spacing; none was needed.
    assert!(r["interplanar_spacing_A"].is_null());
    assert!(close(&r["gb_width_A"], 5.0, 0.0));
    assert!(close(&r["gb_at_percent"]["Li"]["mean"], 25.0, 1e-12));
    assert!(close(&r["gb_at_percent"]["Li"]["std"], 0.0, 0.0));
    assert!(close(&r["bulk_at_percent"]["Li"]["mean"], 0.0, 0.0));
    assert!(close(&r["bulk_at_percent"]["Sr"]["mean"], 100.0, 1e-12));
    assert_eq!(r["frames"][0]["gb_atoms"], 16);
    let distances: Vec<f64> = r["profile"]["distance_A"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(distances, vec![-4.5, -1.5, 1.5, 4.5]);
    // γ = (E − 4 μ_Li − 28 μ_Sr)/(2A), A = (2a)² = 25 Å²: 47.5 eV / 50 Å² in J/m².
    let gamma = 47.5 / 50.0 * 16.02176634;
    assert!(
        close(&r["gb_energy"]["gamma_J_m2"], gamma, 1e-12 * gamma),
        "{}",
        r["gb_energy"]
    );
    assert!(close(&r["gb_energy"]["area_A2"], 25.0, 1e-12));

    let table = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "distance_A,Li_at_percent,Sr_at_percent");
    assert_eq!(lines[2], "-1.500000,25.000000,75.000000");
    assert_eq!(lines.len(), 5);
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));

    // --species limits the report; the percentages stay those of all atoms.
    let r = json_of(&[
        "analyze",
        "gb",
        file.to_str().unwrap(),
        "--width",
        "5",
        "--bin",
        "1",
        "--species",
        "Li",
        "--json",
    ]);
    assert_eq!(r["gb_at_percent"].as_object().unwrap().len(), 1);
    assert!(close(&r["profile"]["at_percent"]["Li"][1], 25.0, 1e-12));
    assert!(r["gb_energy"].is_null());
}

#[test]
fn gb_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bicrystal.xyz");
    write_xyz(&file, layered_bicrystal());
    let run = |extra: &[&str]| {
        let mut args = vec!["analyze", "gb", file.to_str().unwrap(), "--width", "5", "--bin", "1"];
        args.extend_from_slice(extra);
        let out = gbion(&args);
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    // No energy in the file and none given.
    let err = run(&["--mu", "Li=-1,Sr=-2"]);
    assert!(err.contains("--energy"), "{err}");
    // A bulk reference of another composition: a non-stoichiometric GB needs chemical potentials.
    let bulk = dir.path().join("bulk.xyz");
    let cell = Cell::orthorhombic([A; 3]).unwrap();
    let symbols = ["Li", "Sr"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    let mut b = Structure::new(cell, symbols, vec![[0.0; 3], [0.5 * A; 3]]).unwrap();
    b.results.energy = Some(-3.0);
    write_xyz(&bulk, b);
    let err = run(&["--energy", "-10", "--bulk-energy", bulk.to_str().unwrap()]);
    assert!(err.contains("non-stoichiometric"), "{err}");
    let err = run(&["--species", "Ta"]);
    assert!(err.contains("no Ta atoms"), "{err}");
    let err = run(&["--mu", "Li"]);
    assert!(err.contains("expected Element=eV"), "{err}");
    let err = run(&["--energy", "5", "--mu", "Li=nan,Sr=1"]);
    assert!(err.contains("not a finite number of eV"), "{err}");
    let err = run(&["--energy", "5", "--mu", "Li=1,Sr=1,Li=2"]);
    assert!(err.contains("--mu gives Li twice"), "{err}");
    // Spacings need a measurable interplanar spacing.
    let out = gbion(&["analyze", "gb", file.to_str().unwrap(), "--spacings", "4"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("too thin") && err.contains("bicrystal.xyz"), "{err}");
}
