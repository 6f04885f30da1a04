//! `gbion analyze diffusion` and `gbion analyze arrhenius` end to end: the kinisi fixture trajectory gives
//! kinisi's D* within its 1σ, the JSON keys of the interface are present, plots are written, exact Arrhenius
//! tables return their activation energies and transition, and bad input names file, line and column.

mod common;

use common::gbion;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

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
        // Both errors come from the same walk's statistics: they agree to 10 % (5.4e-5 vs 5.3e-5 cm²/s).
        assert!((number(&v, "D_tracer_err_cm2_s") / d_std - 1.0).abs() < 0.1);
        // Nernst–Einstein σ from the centre-of-charge MSD (gbion 19.8 ± 5.1, kinisi 15.3 ± 3.0 S/cm): within
        // the two errors combined.
        let (sigma, sigma_err) = (number(&v, "conductivity_S_cm"), number(&v, "conductivity_err_S_cm"));
        let (kinisi_sigma, kinisi_err) = (
            number(&reference, "sigma_S_cm_mean"),
            number(&reference, "sigma_S_cm_std"),
        );
        assert!(
            (sigma - kinisi_sigma).abs() < sigma_err.hypot(kinisi_err),
            "{sigma} ± {sigma_err}"
        );
        let bytes = std::fs::read(&plot_path).unwrap();
        if plot.ends_with("png") {
            assert_eq!(&bytes[..4], b"\x89PNG");
        } else {
            assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
        }
    }
}

/// An extended XYZ bicrystal trajectory: O atoms on a 3 Å grid tagged grain 0 (z < 21 Å) and 1 (z > 21 Å)
/// in a 12 × 12 × 42 Å cell, so the GB planes lie at z = 0 and 21 Å; 8 Li ions walk within ±1 Å of the plane
/// z = 21 Å with steps of 0.3 Å along x and y (D = 4.5e-3 cm²/s at 1 fs per frame) and 8 Li ions at z = 10.5 Å walk
/// with steps of 0.1 Å along x, y and z (D = 5e-4 cm²/s).
fn bicrystal_trajectory(path: &Path) {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let (fast, slow) = (Normal::new(0.0, 0.3).unwrap(), Normal::new(0.0, 0.1).unwrap());
    let mut li: Vec<[f64; 3]> = (0..16)
        .map(|i| {
            [
                1.0 + 1.4 * i as f64 % 12.0,
                0.7 * i as f64,
                if i < 8 { 21.0 } else { 10.5 },
            ]
        })
        .collect();
    let mut text = String::new();
    for frame in 0..600 {
        if frame > 0 {
            for (i, r) in li.iter_mut().enumerate() {
                if i < 8 {
                    r[0] += fast.sample(&mut rng);
                    r[1] += fast.sample(&mut rng);
                    // Held within ±1 Å of the plane: steps of 0.2 Å along z, reflected.
                    let dz = r[2] - 21.0 + 2.0 * slow.sample(&mut rng);
                    r[2] = 21.0 + if dz.abs() > 1.0 { 2.0 * dz.signum() - dz } else { dz };
                } else {
                    r.iter_mut().for_each(|x| *x += slow.sample(&mut rng));
                }
            }
        }
        text += &format!(
            "{}\nLattice=\"12 0 0 0 12 0 0 0 42\" Properties=species:S:1:pos:R:3:grain:I:1 pbc=\"T T T\"\n",
            14 * 16 + 16
        );
        for k in 0..14 {
            for ij in 0..16 {
                let z = 1.5 + 3.0 * k as f64;
                let (x, y) = (1.5 + 3.0 * (ij % 4) as f64, 1.5 + 3.0 * (ij / 4) as f64);
                text += &format!("O {x} {y} {z} {}\n", i32::from(z > 21.0));
            }
        }
        for r in &li {
            let grain = i32::from(r[2] > 21.0);
            text += &format!(
                "Li {:.6} {:.6} {:.6} {grain}\n",
                r[0].rem_euclid(12.0),
                r[1].rem_euclid(12.0),
                r[2]
            );
        }
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn regions_split_gb_and_bulk_diffusion_in_plane_and_across() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bicrystal.extxyz");
    bicrystal_trajectory(&path);
    let args = [
        "analyze",
        "diffusion",
        path.to_str().unwrap(),
        "--dt-fs",
        "1",
        "--temperature",
        "600",
        "--regions",
        "--gb-width",
        "4",
    ];
    let v = json_of(&gbion(&[&args[..], &["--json"]].concat()));
    let regions = &v["regions"];
    assert_eq!(regions["gb_normal"], "z");
    assert_eq!(regions["gb_width_A"], 4.0);
    let planes: Vec<f64> = regions["gb_planes_A"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert!(planes.iter().any(|p| (p - 21.0).abs() < 1.0), "{planes:?}");
    let (gb, bulk) = (&regions["gb"], &regions["bulk"]);
    assert_eq!((gb["n_ions"].as_u64(), bulk["n_ions"].as_u64()), (Some(8), Some(8)));
    assert_eq!(gb["residence"], 1.0);
    let within = |fit: &Value, truth: f64| {
        let (d, err) = (number(fit, "D_cm2_s"), number(fit, "D_err_cm2_s"));
        assert!((d - truth).abs() < 3.5 * err, "{d} ± {err} vs {truth}");
    };
    within(&gb["in_plane"], 4.5e-3);
    // GB ions are held near the plane (D across ≈ 0); bulk ions diffuse isotropically.
    assert!(
        number(&gb["across"], "D_cm2_s").abs() < 0.02 * 4.5e-3,
        "{}",
        gb["across"]
    );
    for split in ["xyz", "in_plane", "across"] {
        within(&bulk[split], 5e-4);
    }
    let text = String::from_utf8_lossy(&gbion(&args).stdout).to_string();
    assert!(
        text.contains("GB regions: normal z") && text.contains("8 ions (residence 1.00)"),
        "{text}"
    );
    // --gb-width without --regions is refused by the argument parser.
    let without_regions: Vec<&str> = args.iter().copied().filter(|a| *a != "--regions").collect();
    assert!(!gbion(&without_regions).status.success());
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
        !out.status.success() && err.contains("line 3") && err.contains("column \"D\""),
        "{err}"
    );
    std::fs::write(&path, "kelvin,D\n500,1e-8\n").unwrap();
    let err = String::from_utf8_lossy(&gbion(&["analyze", "arrhenius", path.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("line 1") && err.contains("temperature"), "{err}");
}
