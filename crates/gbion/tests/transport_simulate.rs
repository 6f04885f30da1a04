//! `gbion transport simulate` end to end on small grids: unit handling against the library's 1D solver,
//! files written, uptake conserved during storage, seeds reproducible, bad input rejected with the field.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn simulate(toml: &str, dir: &Path, extra: &[&str]) -> std::process::Output {
    let input = dir.join("input.toml");
    std::fs::write(&input, toml).unwrap();
    let out_dir = dir.join("out");
    let mut args = vec![
        "transport",
        "simulate",
        input.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_gbion"))
        .args(&args)
        .output()
        .expect("gbion runs")
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "simulate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// (position, value) rows of a profile CSV, after checking its header.
fn read_profile(path: &Path, header: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header));
    lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

const ONE_D: &str = r#"
[grid]
cell = "20 um"
nx = 150
ny = 1
[microstructure]
kind = "uniform"
[material]
d_bulk = "2.6e-8 cm^2/s"
d_gb_over_delta = "1.5e-6 cm/s"
[experiment]
c_s = 0.95
dipping_axis = "x"
exchange_time = "59 h"
[numerics]
max_dt = "1 h"
"#;

#[test]
fn one_dimensional_run_matches_the_library_solver_in_si_units() {
    let dir = tempfile::tempdir().unwrap();
    let summary = json_of(&simulate(ONE_D, dir.path(), &["--json", "--no-plots"]));
    assert_eq!(summary["grid"], serde_json::json!([150, 1, 1]));
    assert!((summary["d_bulk_cm2_s"].as_f64().unwrap() - 2.6e-8).abs() < 1e-20);
    let profile = read_profile(&dir.path().join("out/profile_0.csv"), "x_um,fraction");
    assert_eq!(profile.len(), 150);
    assert!((profile[0].0 - 10.0).abs() < 1e-9, "first cell centre at 10 µm");
    // the same problem through the library in SI: 20 µm cells, 2.6e-12 m²/s, 59 h in 1 h steps
    let t = 59.0 * 3600.0;
    let micro = gbion_transport::microstructure::Microstructure::uniform([150, 1, 1], 20e-6).unwrap();
    let mut p = gbion_transport::solver::DiffusionProblem::new(micro, 2.6e-12, 1.5e-8, 0.0759);
    p.reservoirs.push(gbion_transport::solver::Reservoir::liquid_bath(
        0.95,
        gbion_transport::microstructure::Axis::X,
        0.0,
    ));
    let stepping = gbion_transport::solver::TimeStepping {
        scheme: gbion_transport::solver::Scheme::CrankNicolson,
        max_dt_s: 3600.0,
    };
    let reference = p.run(&[gbion_transport::solver::Phase::exchange(t)], stepping).unwrap();
    for ((_, c), r) in profile.iter().zip(&reference.snapshots[0].field) {
        assert!((c - r).abs() < 1e-12, "{c} vs {r}");
    }
    // the bath has raised the first cell towards C_s; the far end (4 √(D t) away) is near natural abundance
    assert!(profile[0].1 > 0.9 && profile[149].1 < 0.09);
    assert!(profile.windows(2).all(|w| w[1].1 < w[0].1));
}

const TWO_D: &str = r#"
seed = 3
[grid]
cell = "2 um"
nx = 40
ny = 30
[microstructure]
kind = "voronoi"
mean_grain_size = "16 um"
grain_size_spread = "5 um"
[material]
d_bulk = "2.6e-8 cm^2/s"
d_gb = "7.5e-14 cm^2/s"
delta = "0.5 nm"
[experiment]
c_s = 0.95
liquid_level = "10 um"
exchange_time = "1 h"
storage_times = ["30 min", "2 h"]
[sims]
pixel = "4 um"
fwhm = "4 um"
counts_per_pixel = 300
"#;

#[test]
fn two_dimensional_run_writes_images_sims_and_conserves_the_uptake_in_storage() {
    let dir = tempfile::tempdir().unwrap();
    let summary = json_of(&simulate(TWO_D, dir.path(), &["--json"]));
    // D_gb/δ = 7.5e-14 cm²/s / 0.5 nm = 1.5e-6 cm/s
    assert!((summary["d_gb_over_delta_cm_s"].as_f64().unwrap() / 1.5e-6 - 1.0).abs() < 1e-12);
    let snaps = summary["snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 3);
    let times: Vec<f64> = snaps.iter().map(|s| s["time_s"].as_f64().unwrap()).collect();
    assert_eq!(times, vec![3600.0, 5400.0, 10800.0]);
    let means: Vec<f64> = snaps.iter().map(|s| s["mean_fraction"].as_f64().unwrap()).collect();
    assert!(means[0] > 0.0759 + 0.01, "exchange raised the mean");
    for m in &means[1..] {
        assert!(
            (m / means[0] - 1.0).abs() < 1e-12,
            "storage changed the amount: {means:?}"
        );
    }
    assert!(summary["grains"]["n_grains"].as_u64().unwrap() >= 3);
    let out = dir.path().join("out");
    for f in [
        "grains.csv",
        "image_0.csv",
        "image_0.png",
        "image_1.png",
        "image_2.png",
        "profiles.png",
        "summary.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // SIMS channels at 4 µm pixels (2 × 2 cells): 20 × 15 pixels with ≈ 300 counts each
    let li6 = std::fs::read_to_string(out.join("sims_0_li6.csv")).unwrap();
    let li7 = std::fs::read_to_string(out.join("sims_0_li7.csv")).unwrap();
    assert_eq!(li6.lines().count(), 15);
    assert_eq!(li6.lines().next().unwrap().split(',').count(), 20);
    let total: f64 = li6
        .lines()
        .chain(li7.lines())
        .flat_map(|l| l.split(','))
        .map(|v| v.parse::<f64>().unwrap())
        .sum();
    assert!(
        (total / 300.0 / 300.0 - 1.0).abs() < 0.02,
        "mean counts per pixel {}",
        total / 300.0
    );
    // the profile falls away from the liquid
    let profile = read_profile(&out.join("profile_0.csv"), "y_um,fraction");
    assert!(profile[0].1 > profile[29].1 + 0.05);
}

#[test]
fn seed_reproduces_the_microstructure_and_changes_it() {
    let grains = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        json_of(&simulate(TWO_D, dir.path(), &["--json", "--no-plots", "--seed", seed]));
        std::fs::read_to_string(dir.path().join("out/grains.csv")).unwrap()
    };
    assert_eq!(grains("7"), grains("7"));
    assert_ne!(grains("7"), grains("8"));
}

#[test]
fn unknown_fields_and_bad_units_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(
        &ONE_D.replace("c_s = 0.95", "c_s = 0.95\nc_source = 1"),
        dir.path(),
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("c_source"));
    let out = simulate(&ONE_D.replace("\"59 h\"", "\"59 nm\""), dir.path(), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("experiment.exchange_time"));
    // Checks after parsing name the input file; a run of 10⁹ steps is refused, not started.
    let out = simulate(
        &ONE_D.replace("max_dt = \"1 h\"", "max_dt = \"1e-9 s\""),
        dir.path(),
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("input.toml") && err.contains("time steps"),
        "{err}"
    );
}
