//! Round trips through the `gbion transport` inversion commands: data with known parameters are written
//! to small files, the CLI is run with `--json`, and the reported values are checked against the truth.

mod common;

use common::{gbion_error as gbion_fails, gbion_json as gbion};

use gbion_transport::fit::erfc::ErfcProfile;
use gbion_transport::image::Image;
use gbion_transport::io::write_tiff_u16;
use gbion_transport::microstructure::{Axis, Microstructure};
use gbion_transport::solver::{Boundary1d, DiffusionProblem, End, Phase, Reservoir, Scheme, TimeStepping, simulate_1d};
use serde_json::Value;
use std::path::Path;

const WEEK: f64 = 7.0 * 86400.0;

/// Deterministic zero-mean noise of standard deviation `sigma` (uniform, from a sine hash).
fn noise(i: usize, seed: f64, sigma: f64) -> f64 {
    let u = ((i as f64 * 12.9898 + seed * 78.233).sin() * 43758.5453).fract().abs();
    (u - 0.5) * sigma * 12f64.sqrt()
}

fn write_scan(path: &Path, x_m: &[f64], c: &[f64]) {
    let mut text = String::from("x_mm,f6\n");
    for (x, c) in x_m.iter().zip(c) {
        text.push_str(&format!("{},{}\n", x / 1e-3, c));
    }
    std::fs::write(path, text).unwrap();
}

fn write_matrix(path: &Path, nx: usize, data: &[f64]) {
    let text: String = data
        .chunks(nx)
        .map(|row| row.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    std::fs::write(path, text).unwrap();
}

/// |a − b| ≤ tol |b|.
#[track_caller]
fn assert_rel(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol * b.abs(), "{a} vs {b} (relative tolerance {tol})");
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number {key} in {v}"))
}

fn exchanged() -> ErfcProfile {
    // Paper 003 Fig. 4a: D_eff = 8.0e-9 cm²/s, here with the liquid level at 0.25 mm.
    ErfcProfile {
        d_m2_s: 8.0e-13,
        t_s: 59.0 * 3600.0,
        c_s: 0.9,
        c_0: 0.0759,
        x0_m: 0.25e-3,
        source_at_low_x: true,
    }
}

#[test]
fn fit_erfc_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let truth = exchanged();
    let x: Vec<f64> = (0..150).map(|i| -1e-3 + 5e-3 * i as f64 / 149.0).collect();
    let c: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &xi)| truth.eval(xi) + noise(i, 1.0, 0.01))
        .collect();
    let scan = dir.path().join("scan.csv");
    write_scan(&scan, &x, &c);
    let plot = dir.path().join("fit.svg");
    let v = gbion(&[
        "transport",
        "fit-erfc",
        scan.to_str().unwrap(),
        "--time",
        "59h",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let (d, err) = (f(&v, "D_eff_cm2_s"), f(&v, "D_eff_err_cm2_s"));
    assert!((d - 8.0e-9).abs() < 3.0 * err && err < 0.1 * d, "{d} ± {err}");
    assert!((f(&v, "x0_mm") - 0.25).abs() < 3.0 * f(&v, "x0_err_mm"));
    assert!((f(&v, "C_s") - 0.9).abs() < 0.01 && (f(&v, "C_0") - 0.0759).abs() < 0.01);
    assert!(std::fs::metadata(&plot).unwrap().len() > 0);
}

#[test]
fn fit_evolution_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let truth = exchanged();
    let length = 6e-3;
    // Later profiles from a fine 1D simulation (no flux at both ends), sampled at 100 points.
    let n_fine = 1200;
    let dx = length / n_fine as f64;
    let fine: Vec<f64> = (0..n_fine).map(|i| truth.eval((i as f64 + 0.5) * dx)).collect();
    let d_true = 3.0e-13; // paper 003: D_eff = 3.0e-9 cm²/s from 2 and 6 weeks of storage
    let fields = simulate_1d(&fine, dx, d_true, &[2.0 * WEEK, 6.0 * WEEK], Boundary1d::NoFlux).unwrap();
    let x: Vec<f64> = (0..100).map(|i| (i as f64 + 0.5) * length / 100.0).collect();
    let sample = |field: &[f64], seed: f64| -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(i, &xi)| 0.5 * (field[(xi / dx) as usize] + field[(xi / dx) as usize - 1]) + noise(i, seed, 0.005))
            .collect()
    };
    let init: Vec<f64> = x.iter().map(|&xi| truth.eval(xi)).collect();
    let paths: Vec<_> = ["init.csv", "w2.csv", "w6.csv"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    write_scan(&paths[0], &x, &init);
    write_scan(&paths[1], &x, &sample(&fields[0], 2.0));
    write_scan(&paths[2], &x, &sample(&fields[1], 3.0));
    let later1 = format!("{}@2w", paths[1].display());
    let later2 = format!("{}@6 w", paths[2].display());
    // The scan stops 30 µm short of the sample's ends: those are given, so no ⁶Li is left out.
    let v = gbion(&[
        "transport",
        "fit-evolution",
        paths[0].to_str().unwrap(),
        &later1,
        &later2,
        "--sample-ends",
        "0,6mm",
        "--json",
    ]);
    let (d, err) = (f(&v, "D_eff_cm2_s"), f(&v, "D_eff_err_cm2_s"));
    assert!((d - 3.0e-9).abs() < 3.0 * err, "{d} ± {err}");
    assert!(err < 0.2 * d);
}

/// A profile along x with a GB at x = 20.5 px and D_gb/δ = `ratio` (m/s) for D_bulk = 2.6e-12 m²/s.
fn step_image(nx: usize, ny: usize, ratio: f64, gradient: f64) -> Vec<f64> {
    let delta_c = 2.6e-12 * gradient.abs() / ratio;
    (0..nx * ny)
        .map(|i| {
            let t = ((i % nx) as f64 - 20.5) * 1e-6;
            0.5 + if t < 0.0 { 0.5 * delta_c } else { -0.5 * delta_c } + gradient * t
        })
        .collect()
}

#[test]
fn gb_step_single_line_reproduces_the_paper_ratio() {
    // Paper 003 Fig. 3e: ∂C/∂y = 1.1 cm⁻¹ and D_bulk = 2.6e-8 cm²/s with ΔC = 0.02 → 1.43e-6 cm/s.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("f.csv");
    write_matrix(&image, 41, &step_image(41, 5, 1.43e-8, -110.0));
    let v = gbion(&[
        "transport",
        "gb-step",
        image.to_str().unwrap(),
        "--line",
        "0,2,40,2",
        "--d-bulk",
        "2.6e-8",
        "--pixel",
        "1um",
        "--delta",
        "0.5nm",
        "--json",
    ]);
    assert_rel(f(&v, "D_gb_over_delta_cm_s"), 1.43e-6, 1e-6);
    assert_rel(f(&v, "D_gb_cm2_s"), 7.15e-14, 1e-6);
    assert_rel(f(&v, "dC_dy_per_cm"), -1.1, 1e-6);
    assert_rel(f(&v, "delta_C_gb"), 0.02, 1e-6);
}

#[test]
fn gb_step_batch_over_a_grain_map() {
    let dir = tempfile::tempdir().unwrap();
    let (nx, ny) = (50, 30);
    let (image, map) = (dir.path().join("f.csv"), dir.path().join("g.csv"));
    write_matrix(&image, nx, &step_image(nx, ny, 1.43e-8, -110.0));
    let ids: Vec<f64> = (0..nx * ny).map(|i| if i % nx > 20 { 1.0 } else { 0.0 }).collect();
    write_matrix(&map, nx, &ids);
    let v = gbion(&[
        "transport",
        "gb-step",
        image.to_str().unwrap(),
        "--grains",
        map.to_str().unwrap(),
        "--d-bulk",
        "2.6e-8 cm^2/s",
        "--pixel",
        "1 µm",
        "--json",
    ]);
    assert_eq!((v["n_lines"].as_u64(), v["n_accepted"].as_u64()), (Some(1), Some(1)));
    assert_rel(f(&v, "D_gb_over_delta_cm_s"), 1.43e-6, 1e-6);
    assert_eq!(f(&v, "D_gb_over_delta_std_cm_s"), 0.0);
}

#[test]
fn fit_image_round_trip_with_d_bulk_held() {
    let dir = tempfile::tempdir().unwrap();
    let (nx, ny, pixel) = (20, 16, 1e-6);
    let ids: Vec<u32> = (0..nx * ny).map(|i| ((i / nx) / 5 * 4 + (i % nx) / 6) as u32).collect();
    let (d_bulk, g, t) = (2.6e-12, 1.43e-8, 1000.0);
    let micro = Microstructure::from_grain_map(&ids, nx, ny, pixel).unwrap();
    let mut p = DiffusionProblem::new(micro, d_bulk, g, 0.0759);
    p.reservoirs.push(Reservoir::whole_face(0.9, Axis::Y, End::Lower));
    let stepping = TimeStepping {
        scheme: Scheme::CrankNicolson,
        max_dt_s: t / 40.0,
    };
    let field = p
        .run(&[Phase::exchange(t)], stepping)
        .unwrap()
        .snapshots
        .remove(0)
        .field;
    let (image, map, plot) = (
        dir.path().join("f.csv"),
        dir.path().join("g.csv"),
        dir.path().join("model.png"),
    );
    write_matrix(&image, nx, &field);
    write_matrix(&map, nx, &ids.iter().map(|&i| i as f64).collect::<Vec<_>>());
    let v = gbion(&[
        "transport",
        "fit-image",
        image.to_str().unwrap(),
        "--grains",
        map.to_str().unwrap(),
        "--time",
        "1000 s",
        "--pixel",
        "1um",
        "--d-bulk",
        "2.6e-8",
        "--source",
        "first-row",
        "--steps",
        "40",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_rel(f(&v, "D_gb_over_delta_cm_s"), 1.43e-6, 1e-4);
    assert_eq!(f(&v, "D_bulk_cm2_s"), 2.6e-8);
    assert!(v["D_bulk_err_cm2_s"].is_null());
    let d_eff = f(&v, "D_eff_cm2_s");
    assert!(d_eff > 0.0 && d_eff < 2.6e-8);
    assert!(std::fs::metadata(&plot).unwrap().len() > 0);
}

#[test]
fn fraction_from_two_tiff_channels() {
    let dir = tempfile::tempdir().unwrap();
    let li6 = Image::new(3, 1, vec![25.0, 0.0, 900.0]).unwrap();
    let li7 = Image::new(3, 1, vec![75.0, 0.0, 100.0]).unwrap();
    let tif = dir.path().join("counts.tif");
    write_tiff_u16(&[&li6, &li7], &mut std::fs::File::create(&tif).unwrap()).unwrap();
    let (out, sigma) = (dir.path().join("f.csv"), dir.path().join("s.csv"));
    let v = gbion(&[
        "transport",
        "fraction",
        tif.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--sigma-out",
        sigma.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["valid_pixels"].as_u64(), Some(2));
    let text = std::fs::read_to_string(&out).unwrap();
    let values: Vec<f64> = text.trim().split(',').map(|s| s.parse().unwrap()).collect();
    assert_eq!(values, vec![0.25, 0.0, 0.9]);
    assert_rel(f(&v, "mean_fraction"), 0.575, 1e-12);
    // Normalised to a source at 0.9 over the natural baseline: (C − 0.0759)/(0.9 − 0.0759).
    gbion(&[
        "transport",
        "fraction",
        tif.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--normalise-to",
        "0.9",
        "--json",
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let values: Vec<f64> = text.trim().split(',').map(|s| s.parse().unwrap()).collect();
    assert_rel(values[0], (0.25 - 0.0759) / (0.9 - 0.0759), 1e-12);
    assert_rel(values[2], 1.0, 1e-12);
}

#[test]
fn gb_step_lines_file_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (image, lines, plot) = (
        dir.path().join("f.csv"),
        dir.path().join("lines.csv"),
        dir.path().join("b.png"),
    );
    write_matrix(&image, 41, &step_image(41, 6, 1.43e-8, -110.0));
    std::fs::write(&lines, "x0,y0,x1,y1\n0,1,40,1\n40,4,0,4\n").unwrap();
    let v = gbion(&[
        "transport",
        "gb-step",
        image.to_str().unwrap(),
        "--lines",
        lines.to_str().unwrap(),
        "--d-bulk",
        "2.6e-8",
        "--pixel",
        "1",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(v["n_accepted"].as_u64(), Some(2));
    assert_rel(f(&v, "D_gb_over_delta_median_cm_s"), 1.43e-6, 1e-6);
    assert!(std::fs::metadata(&plot).unwrap().len() > 0);
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("bad.csv");
    std::fs::write(&scan, "x_mm,f6\n0,0.5\n1,oops\n").unwrap();
    let err = gbion_fails(&["transport", "fit-erfc", scan.to_str().unwrap(), "--time", "59h"]);
    assert!(err.contains("bad.csv") && err.contains("line 3"), "{err}");
    let err = gbion_fails(&["transport", "fit-erfc", scan.to_str().unwrap(), "--time", "59 furlongs"]);
    assert!(err.contains("--time"), "{err}");
    let err = gbion_fails(&["transport", "fit-evolution", scan.to_str().unwrap(), "later.csv"]);
    assert!(err.contains("FILE@TIME") || err.contains("bad.csv"), "{err}");
}
