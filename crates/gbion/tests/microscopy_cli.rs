//! `gbion eels profile|vib` and `gbion haadf profile|fft` end to end on noise-free synthetic `.npy` inputs with
//! known answers (paper 000's Sr/Ta/Zr drops, a Li–O band that does not drop, an A-site-ordered lattice),
//! the side-by-side plot with a simulated profile, and bad input rejected with clear messages.

mod common;

use common::gbion;

use serde_json::Value;
use std::path::{Path, PathBuf};

fn json(args: &[&str]) -> Value {
    let out = gbion(args);
    assert!(
        out.status.success(),
        "gbion {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Write a little-endian f64 `.npy` file of `shape` (C order).
fn write_npy(path: &Path, shape: &[usize], values: &[f64]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

const NX: usize = 41;
const NY: usize = 6;
const GB: usize = 20;

fn on_gb(ix: usize) -> bool {
    ix.abs_diff(GB) <= 1
}

/// Core loss 1500–2399 eV: A·E^−3 plus Ta-M5, Sr-L3, Zr-L3 sawtooth edges dropping 11, 26, 7 % on the GB.
fn core_loss_si(dir: &Path) -> PathBuf {
    let edges = [(1735.0, 80.0, 0.11), (1940.0, 100.0, 0.26), (2222.0, 60.0, 0.07)];
    let mut values = Vec::new();
    for _ in 0..NY {
        for ix in 0..NX {
            for ie in 0..900 {
                let e = 1500.0 + ie as f64;
                let mut v = 4e12 * e.powf(-3.0);
                for (onset, jump, drop) in edges {
                    if e >= onset {
                        v += jump * if on_gb(ix) { 1.0 - drop } else { 1.0 } * (e / onset).powf(-3.0);
                    }
                }
                values.push(v);
            }
        }
    }
    let path = dir.join("si.npy");
    write_npy(&path, &[NY, NX, 900], &values);
    let sidecar = "[energy]\noffset = 1500.0\nscale = 1.0\nunits = \"eV\"\n[x]\nscale = 0.2\nunits = \"nm\"\n";
    std::fs::write(dir.join("si.npy.toml"), sidecar).unwrap();
    path
}

#[test]
fn eels_profile_recovers_paper_000_drops_and_plots_beside_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let si = core_loss_si(dir.path());
    let simulated = dir.path().join("sim.csv");
    std::fs::write(
        &simulated,
        "distance_A,Sr_at_percent,Ta_at_percent,Li_at_percent\n-20,8,15,7\n0,6,13,8\n20,8,15,7\n",
    )
    .unwrap();
    let (plot, csv) = (dir.path().join("p.svg"), dir.path().join("profile.csv"));
    let maps = dir.path().join("map");
    let v = json(&[
        "eels",
        "profile",
        si.to_str().unwrap(),
        "--edge",
        "Ta:1735-1900",
        "--edge",
        "Sr:1940-2100",
        "--edge",
        "Zr:2222-2350",
        "--gb-axis",
        "auto",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
        "--simulated",
        simulated.to_str().unwrap(),
        "--profile-out",
        csv.to_str().unwrap(),
        "--maps",
        maps.to_str().unwrap(),
    ]);
    assert_eq!(v["geometry"]["gb_along"], "y", "{}", v["geometry"]);
    assert_eq!(v["geometry"]["gb_index"], GB);
    assert!((v["geometry"]["gb_position"].as_f64().unwrap() - 4.0).abs() < 1e-12);
    for (w, truth) in v["windows"].as_array().unwrap().iter().zip([-11.0, -26.0, -7.0]) {
        let got = w["gb_change_percent"].as_f64().unwrap();
        assert!((got - truth).abs() < 1e-6, "{}: {got} vs {truth}", w["label"]);
        assert!(w["gb_change_err_percent"].as_f64().unwrap() > 0.0);
        assert_eq!(w["map_failed_pixels"], 0);
    }
    // Sr-L3 (window 1940–2100 eV) sits above the Ta-M4,5 edges: both are flagged.
    let sr_overlaps: Vec<&str> = v["windows"][1]["overlaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["edge"].as_str().unwrap())
        .collect();
    assert!(sr_overlaps.contains(&"Ta-M4"), "{sr_overlaps:?}");
    assert!(std::fs::read_to_string(&plot).unwrap().contains("Sr (simulated)"));
    let profile = std::fs::read_to_string(&csv).unwrap();
    assert!(
        profile.starts_with("distance_nm,Ta,Ta_sigma,Sr,Sr_sigma,Zr,Zr_sigma\n-4,"),
        "{profile}"
    );
    assert!(dir.path().join("map-Sr.png").exists() && dir.path().join("map-Zr.csv").exists());
    // The human summary names the overlap.
    let out = gbion(&[
        "eels",
        "profile",
        si.to_str().unwrap(),
        "--edge",
        "Sr:1940-2100",
        "--gb-axis",
        "y",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("GB change -26.0 ±") && text.contains("warning: Ta-M4"),
        "{text}"
    );
}

fn read_map(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

#[test]
fn eels_maps_binned_n_by_n_sum_the_pixel_maps() {
    let dir = tempfile::tempdir().unwrap();
    let si = core_loss_si(dir.path());
    let maps = |bin: &str| {
        let prefix = dir.path().join(format!("bin{bin}"));
        let v = json(&[
            "eels",
            "profile",
            si.to_str().unwrap(),
            "--edge",
            "Sr:1940-2100",
            "--gb-axis",
            "y",
            "--json",
            "--maps",
            prefix.to_str().unwrap(),
            "--bin",
            bin,
        ]);
        assert_eq!(v["windows"][0]["map_failed_pixels"], 0);
        (v, read_map(&dir.path().join(format!("bin{bin}-Sr.csv"))))
    };
    let (pixel_report, pixels) = maps("1");
    let (binned_report, binned) = maps("2");
    assert_eq!(binned_report["map_bin"], 2);
    // The profile does not depend on the map binning.
    assert_eq!(
        pixel_report["windows"][0]["profile"],
        binned_report["windows"][0]["profile"]
    );
    assert_eq!((pixels.len(), pixels[0].len()), (NY, NX));
    // 41 × 6 pixels in 2 × 2 blocks: 20 × 3, the last column cropped; noise-free power laws fit exactly,
    // so each binned pixel's net counts are the sum of its four pixels'.
    assert_eq!((binned.len(), binned[0].len()), (NY / 2, NX / 2));
    for (by, row) in binned.iter().enumerate() {
        for (bx, net) in row.iter().enumerate() {
            let sum: f64 = (0..4).map(|k| pixels[2 * by + k / 2][2 * bx + k % 2]).sum();
            assert!((net - sum).abs() < 1e-6 * sum, "block ({bx}, {by}): {net} vs {sum}");
        }
    }
    let out = gbion(&[
        "eels",
        "profile",
        si.to_str().unwrap(),
        "--edge",
        "Sr:1940-2100",
        "--bin",
        "0",
    ]);
    assert!(!out.status.success());
    let out = gbion(&[
        "eels",
        "profile",
        si.to_str().unwrap(),
        "--edge",
        "Sr:1940-2100",
        "--gb-axis",
        "y",
        "--maps",
        dir.path().join("big").to_str().unwrap(),
        "--bin",
        "7",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--bin 7") && err.contains("41×6"),
        "{err}"
    );
}

fn gaussian(e: f64, centre: f64, sigma: f64) -> f64 {
    (-0.5 * ((e - centre) / sigma).powi(2)).exp()
}

#[test]
fn eels_vib_heavy_band_drops_li_band_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let bands = |ix: usize, e: f64| {
        [
            400.0 * if on_gb(ix) { 0.8 } else { 1.0 } * gaussian(e, 30.0, 6.0),
            150.0 * gaussian(e, 75.0, 8.0),
        ]
    };
    let energy = |ie: usize| -10.0 + 0.5 * ie as f64;
    let mut values = Vec::new();
    for _ in 0..NY {
        for ix in 0..NX {
            for ie in 0..500 {
                let e = energy(ie);
                values.push(if e > 0.0 { 5e5 * e.powf(-2.5) } else { 5e5 } + bands(ix, e).iter().sum::<f64>());
            }
        }
    }
    let path = dir.path().join("vib.npy");
    write_npy(&path, &[NY, NX, 500], &values);
    let v = json(&[
        "eels",
        "vib",
        path.to_str().unwrap(),
        "--window",
        "10-50meV",
        "--window",
        "50.5-100meV",
        "--energy-offset",
        "-10",
        "--energy-scale",
        "0.5",
        "--energy-units",
        "meV",
        "--gb-axis",
        "y",
        "--gb-position",
        "20",
        "--json",
    ]);
    let windows = v["windows"].as_array().unwrap();
    assert_eq!(
        windows[0]["background_windows"],
        serde_json::json!([[6.0, 9.0], [150.0, 200.0]])
    );
    for (band, (w, (lo, hi))) in windows.iter().zip([(10.0, 50.0), (50.5, 100.0)]).enumerate() {
        let sum = |ix: usize| {
            (0..500)
                .map(energy)
                .filter(|e| (lo..=hi).contains(e))
                .map(|e| bands(ix, e)[band])
                .sum::<f64>()
        };
        let truth = 100.0 * (sum(GB) / sum(0) - 1.0);
        let got = w["gb_change_percent"].as_f64().unwrap();
        // The ZLP-tail fit absorbs the bands' far tails (< 1e-3 of the tail), so agreement is to ~0.1 %.
        assert!((got - truth).abs() < 0.1, "band {band}: {got} vs {truth}");
    }
    assert!(windows[0]["gb_change_percent"].as_f64().unwrap() < -15.0);
}

/// 128 × 128 square lattice (period 8 px) of Gaussian columns; A-site ordering along x when `ordered`;
/// a dark vertical band (the GB) at x = 64 when `band`.
fn lattice(dir: &Path, name: &str, ordered: bool, band: bool) -> PathBuf {
    let mut values = Vec::new();
    for y in 0..128 {
        for x in 0..128 {
            let (fx, fy) = (x as f64, y as f64);
            let mut v = 0.1;
            for i in 0..16 {
                for j in 0..16 {
                    let a = if ordered && i % 2 == 1 { 0.75 } else { 1.0 };
                    let (cx, cy) = (8.0 * i as f64 + 4.0, 8.0 * j as f64 + 4.0);
                    v += a * (-((fx - cx).powi(2) + (fy - cy).powi(2)) / 4.5).exp();
                }
            }
            values.push(if band {
                v * (1.0 - 0.4 * gaussian(fx, 64.0, 5.0))
            } else {
                v
            });
        }
    }
    let path = dir.join(name);
    write_npy(&path, &[128, 128], &values);
    path
}

#[test]
fn haadf_fft_detects_ordering_and_profile_finds_the_gb() {
    let dir = tempfile::tempdir().unwrap();
    let ordered = lattice(dir.path(), "ordered.npy", true, false);
    let plain = lattice(dir.path(), "plain.npy", false, false);
    let fft_png = dir.path().join("fft.png");
    let v = json(&[
        "haadf",
        "fft",
        ordered.to_str().unwrap(),
        "--region",
        "0,0,128,128",
        "--json",
        "--plot",
        fft_png.to_str().unwrap(),
    ]);
    assert_eq!(v["ordered"], true);
    let present: Vec<&Value> = v["superlattice"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["present"] == true)
        .collect();
    assert_eq!(present.len(), 1);
    assert_eq!(present[0]["direction_deg"], 0.0);
    assert!((present[0]["period_px"].as_f64().unwrap() - 16.0).abs() < 1e-9);
    assert!(fft_png.exists());
    assert_eq!(
        json(&["haadf", "fft", plain.to_str().unwrap(), "--json"])["ordered"],
        false
    );

    let gb = lattice(dir.path(), "gb.npy", false, true);
    let v = json(&[
        "haadf",
        "profile",
        gb.to_str().unwrap(),
        "--gb-axis",
        "auto",
        "--smooth",
        "9",
        "--json",
    ]);
    assert_eq!(v["geometry"]["gb_along"], "y");
    let index = v["geometry"]["gb_index"].as_u64().unwrap();
    assert!(index.abs_diff(64) <= 4, "{index}");
    assert!(v["gb_change_percent"].as_f64().unwrap() < -10.0);
    // The lattice is resolved: a column every 8 px across the 128 px profile.
    let columns = v["columns"].as_array().unwrap();
    assert!((15..=16).contains(&columns.len()), "{}", columns.len());
}

#[test]
fn bad_input_is_rejected_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let si = core_loss_si(dir.path());
    let out = gbion(&["eels", "profile", si.to_str().unwrap(), "--edge", "Sr"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected ELEMENT:START-END"));
    let out = gbion(&[
        "eels",
        "profile",
        si.to_str().unwrap(),
        "--edge",
        "O:532-570",
        "--gb-axis",
        "y",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the axis"));
    let dm4 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-microscopy/tests/fixtures/dm/image.dm4");
    let out = gbion(&["haadf", "fft", dm4.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 16×16"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("si.npy.toml"), "[energy]\nscale = 1.0\nofset = 2\n").unwrap();
    let out = gbion(&["eels", "profile", si.to_str().unwrap(), "--edge", "Sr:1940-2100"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("si.npy.toml") && err.contains("line 3"), "{err}");
    std::fs::write(dir.path().join("si.npy.toml"), "[x]\nscale = nan\n").unwrap();
    let out = gbion(&["eels", "profile", si.to_str().unwrap(), "--edge", "Sr:1940-2100"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("si.npy.toml") && err.contains("[x]") && err.contains("must be finite"),
        "{err}"
    );
    // A non-finite value in the data is named by its position, not carried into the results.
    let image = dir.path().join("image.npy");
    let mut values = vec![1.0; 32 * 32];
    values[70] = f64::NAN;
    write_npy(&image, &[32, 32], &values);
    let out = gbion(&["haadf", "profile", image.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("image.npy") && err.contains("element 70") && err.contains("NaN"),
        "{err}"
    );
}
