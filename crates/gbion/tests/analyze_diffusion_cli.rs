//! `gbion analyze diffusion` and `gbion analyze arrhenius` end to end: the kinisi fixture trajectory gives
//! kinisi's D* within its 1σ, the JSON keys of the interface are present, plots are written, exact Arrhenius
//! tables return their activation energies and transition, and bad input names file, line and column.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gbion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gbion"))
        .args(args)
        .output()
        .expect("gbion runs")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "gbion failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn kinisi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-analysis/tests/fixtures/kinisi")
}

fn kinisi_reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(kinisi_dir().join("kinisi.json")).unwrap()).unwrap()
}

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn diffusion_of_the_kinisi_trajectory_agrees_with_kinisi_and_writes_plots() {
    let dir = tempfile::tempdir().unwrap();
    let trajectory = kinisi_dir().join("trajectory.xyz");
    let reference = kinisi_reference();
    for plot in ["msd.png", "msd.svg"] {
        let plot_path = dir.path().join(plot);
        let out = gbion(&[
            "analyze",
            "diffusion",
            trajectory.to_str().unwrap(),
            "--species",
            "Li",
            "--dt-fs",
            "10",
            "--temperature",
            "600K",
            "--window-ps",
            "0.1,3.99",
            "--plot",
            plot_path.to_str().unwrap(),
            "--json",
        ]);
        let v = json_of(&out);
        for key in [
            "D_tracer_cm2_s",
            "D_tracer_err_cm2_s",
            "D_charge_cm2_s",
            "D_charge_err_cm2_s",
            "haven_ratio",
            "conductivity_S_cm",
            "conductivity_err_S_cm",
            "fit_window_ps",
        ] {
            assert!(!v[key].is_null(), "{key} missing");
        }
        assert_eq!(v["n_ions"], 6);
        assert_eq!(v["n_frames"], 400);
        // 10 fs is 1e-14 s on the way through the unit parser: compare the window to round-off.
        let window = &v["fit_window_ps"];
        assert!(
            (window[0].as_f64().unwrap() - 0.1).abs() < 1e-12 && (window[1].as_f64().unwrap() - 3.99).abs() < 1e-12
        );
        // Same data and window, but gbion's GLS uses the analytic random-walk covariance and kinisi samples
        // its likelihood with a covariance from the sampled variances: the two D* agree within kinisi's 1σ.
        let d_std = number(&reference, "D_cm2_s_std");
        assert!((number(&v, "D_tracer_cm2_s") - number(&reference, "D_cm2_s_mean")).abs() < d_std);
        let bytes = std::fs::read(&plot_path).unwrap();
        if plot.ends_with("png") {
            assert_eq!(&bytes[..4], b"\x89PNG");
        } else {
            assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
        }
    }
}

#[test]
fn automatic_window_and_human_summary() {
    let trajectory = kinisi_dir().join("trajectory.xyz");
    let args = [
        "analyze",
        "diffusion",
        trajectory.to_str().unwrap(),
        "--dt-fs",
        "0.01ps",
        "--temperature",
        "600",
    ];
    let v = json_of(&gbion(&[&args[..], &["--json"]].concat()));
    let window = v["fit_window_ps"].as_array().unwrap();
    assert!(
        (window[1].as_f64().unwrap() - 1.99).abs() < 1e-12,
        "ends at half the run: {window:?}"
    );
    assert!(v["msd_exponent"].as_f64().unwrap() > 0.7);
    let out = gbion(&args);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("D*") && text.contains("H_R") && text.contains("S/cm"),
        "{text}"
    );
}

#[test]
fn diffusion_errors_name_the_problem() {
    let trajectory = kinisi_dir().join("trajectory.xyz");
    let path = trajectory.to_str().unwrap();
    let out = gbion(&[
        "analyze",
        "diffusion",
        path,
        "--species",
        "Na",
        "--dt-fs",
        "10",
        "--temperature",
        "600",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Na atoms"));
    let out = gbion(&[
        "analyze",
        "diffusion",
        path,
        "--dt-fs",
        "10",
        "--temperature",
        "600",
        "--components",
        "xq",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--components"));
    let out = gbion(&[
        "analyze",
        "diffusion",
        path,
        "--dt-fs",
        "10",
        "--temperature",
        "600",
        "--window-ps",
        "2,1",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--window-ps"));
}

const KB_EV: f64 = 8.617_333_262e-5;

fn write_table(dir: &Path, name: &str, header: &str, rows: &[(f64, f64)]) -> PathBuf {
    let path = dir.join(name);
    let mut text = format!("# made by the test\n{header}\n");
    for (t, v) in rows {
        text += &format!("{t},{v:e}\n");
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn arrhenius_returns_exact_energies_and_the_transition() {
    let dir = tempfile::tempdir().unwrap();
    let (tc, ea_low, ea_high) = (600.0, 0.5, 0.3);
    let rows: Vec<(f64, f64)> = (0..12)
        .map(|i| {
            let t = 400.0 + 50.0 * i as f64;
            let ea = if t < tc { ea_low } else { ea_high };
            (t, 1e-6 * (-ea / KB_EV * (1.0 / t - 1.0 / tc)).exp())
        })
        .collect();
    let table = write_table(dir.path(), "d.csv", "T_K,D_cm2_s", &rows);
    let plot = dir.path().join("arrhenius.svg");
    let v = json_of(&gbion(&[
        "analyze",
        "arrhenius",
        table.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ]));
    for key in ["Ea_eV", "Ea_err_eV", "prefactor", "value_300K", "value_300K_err"] {
        assert!(v[key].is_number(), "{key} missing");
    }
    let two = &v["two_regime"];
    assert_eq!(two["preferred"], true);
    assert!((number(two, "T_c_K") - tc).abs() < 1e-6);
    assert!((number(two, "Ea_low_eV") - ea_low).abs() < 1e-9 && (number(two, "Ea_high_eV") - ea_high).abs() < 1e-9);
    let d300 = 1e-6 * (-ea_low / KB_EV * (1.0 / 300.0 - 1.0 / tc)).exp();
    assert!((number(two, "value_300K") / d300 - 1.0).abs() < 1e-9);
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));

    // One regime, σ column: the σT form, Ea exact, σ(300 K) exact.
    let rows: Vec<(f64, f64)> = (0..8)
        .map(|i| 400.0 + 50.0 * i as f64)
        .map(|t| (t, 1e5 / t * (-0.4 / (KB_EV * t)).exp()))
        .collect();
    let table = write_table(dir.path(), "sigma.csv", "T,sigma_S_cm", &rows);
    let v = json_of(&gbion(&["analyze", "arrhenius", table.to_str().unwrap(), "--json"]));
    assert_eq!(v["form"], "sigma*T");
    assert!((number(&v, "Ea_eV") - 0.4).abs() < 1e-9);
    assert!((number(&v, "value_300K") / (1e5 / 300.0 * (-0.4 / (KB_EV * 300.0)).exp()) - 1.0).abs() < 1e-9);
    assert_eq!(v["two_regime"]["preferred"], false);
}

#[test]
fn arrhenius_bad_tables_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "T_K,D,D_err\n500,1e-8,1e-9\n600,abc,1e-9\n").unwrap();
    let out = gbion(&["analyze", "arrhenius", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 3") && err.contains("column D"),
        "{err}"
    );
    std::fs::write(&path, "kelvin,D\n500,1e-8\n").unwrap();
    let err = String::from_utf8_lossy(&gbion(&["analyze", "arrhenius", path.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("line 1") && err.contains("temperature"), "{err}");
}
