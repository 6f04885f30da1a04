//! `gbion transport model|nernst-einstein|haven|arrhenius|impedance` end to end: JSON values of paper 003's
//! worked numbers, unit handling on the command line, plots written, and bad input rejected.

mod common;

use common::gbion;

use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let out = gbion(args);
    assert!(
        out.status.success(),
        "gbion {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no number {key:?} in {v}"))
}

fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn series_model_reproduces_paper_003() {
    // D_bulk = 2.6e-8 cm²/s, D_gb = 7.6e-14 cm²/s, δ = 0.5 nm, l = 16 ± 11 µm → 2.22e-9 ± 1.40e-9 cm²/s
    // (the paper prints 2.3 ± 1.4; see t1_models.rs for why the central value is 2.2 from these inputs).
    let v = json(&[
        "transport",
        "model",
        "series",
        "--d-bulk",
        "2.6e-8",
        "--d-gb",
        "7.6e-14 cm^2/s",
        "--delta",
        "0.5nm",
        "--grain-size",
        "16um",
        "--grain-size-spread",
        "11 µm",
        "--json",
    ]);
    assert!(rel_diff(num(&v, "D_eff_cm2_s"), 2.224e-9) < 1e-3, "{v}");
    assert!(rel_diff(num(&v, "D_eff_err_cm2_s"), 1.398e-9) < 2e-3, "{v}");
    assert!(rel_diff(num(&v, "D_gb_over_delta_cm_s"), 1.52e-6) < 1e-9);
}

#[test]
fn gb_conductance_input_and_units_agree() {
    // D_gb/δ = 1.52e-6 cm/s with δ = 5 Å is the same polycrystal as D_gb = 7.6e-14 cm²/s with δ = 0.5 nm.
    let a = json(&[
        "transport",
        "model",
        "maxwell-garnett",
        "--d-bulk",
        "2.6e-12 m^2/s",
        "--d-gb-over-delta",
        "1.52e-6",
        "--delta",
        "5 Å",
        "--grain-size",
        "0.016 mm",
        "--json",
    ]);
    let b = json(&[
        "transport",
        "model",
        "maxwell-garnett",
        "--d-bulk",
        "2.6e-8",
        "--d-gb",
        "7.6e-14",
        "--grain-size",
        "16",
        "--json",
    ]);
    assert!(rel_diff(num(&a, "D_eff_cm2_s"), num(&b, "D_eff_cm2_s")) < 1e-9);
    assert!(rel_diff(num(&a, "D_gb_cm2_s"), 7.6e-14) < 1e-9);
}

#[test]
fn brick_layer_reports_both_paths() {
    let v = json(&[
        "transport",
        "model",
        "brick-layer",
        "--d-bulk",
        "1e-10",
        "--d-gb",
        "1e-6",
        "--delta",
        "1nm",
        "--grain-size",
        "1um",
        "--json",
    ]);
    let (across, along, total) = (
        num(&v, "D_eff_across_cm2_s"),
        num(&v, "D_eff_along_cm2_s"),
        num(&v, "D_eff_cm2_s"),
    );
    assert!(rel_diff(across + along, total) < 1e-12);
    // Fast GBs: D ≈ D_bulk + (2δ/l) D_gb = 1e-10 + 2e-3·1e-6.
    assert!(rel_diff(total, 1e-10 + 2e-9) < 2e-3, "{v}");
}

#[test]
fn haven_ratio_of_paper_003() {
    let v = json(&["transport", "haven", "--prefactors", "0.048,0.20", "--json"]);
    assert!(rel_diff(num(&v, "haven_ratio"), 0.24) < 1e-12);
    let v = json(&[
        "transport",
        "haven",
        "--d-tracer",
        "2.4e-9",
        "--d-sigma",
        "1e-8 cm2/s",
        "--json",
    ]);
    assert!(rel_diff(num(&v, "haven_ratio"), 0.24) < 1e-12);
}

#[test]
fn nernst_einstein_both_directions() {
    // σ = 1e-3 S/cm, n = 5.0e21 cm⁻³, T = 295 K → D_σ = 3.1733e-8 cm²/s (worked out in t1_models.rs).
    let v = json(&[
        "transport",
        "nernst-einstein",
        "--sigma",
        "1e-3",
        "--n-li",
        "5e21",
        "--temperature",
        "295K",
        "--json",
    ]);
    assert!(rel_diff(num(&v, "D_sigma_cm2_s"), 3.17333e-8) < 1e-5, "{v}");
    let back = json(&[
        "transport",
        "nernst-einstein",
        "--d-tracer",
        &num(&v, "D_sigma_cm2_s").to_string(),
        "--n-li",
        "5e21 cm^-3",
        "--temperature",
        "21.85 C",
        "--haven",
        "0.5",
        "--json",
    ]);
    assert!(rel_diff(num(&back, "sigma_S_cm"), 2e-3) < 1e-9, "{back}");
}

#[test]
fn arrhenius_fit_of_a_csv_with_plot() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    // Exact D = 0.048 exp(−0.43 eV/k_BT) at five temperatures.
    let kb: f64 = 8.617333262e-5;
    let mut text = String::from("T_C,D_cm2_s\n");
    for t_c in [22.0, 100.0, 200.0, 300.0, 400.0] {
        text += &format!("{t_c},{:e}\n", 0.048 * (-0.43 / (kb * (t_c + 273.15))).exp());
    }
    std::fs::write(&csv, text).unwrap();
    let plot = dir.path().join("arrhenius.svg");
    let v = json(&[
        "transport",
        "arrhenius",
        csv.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ]);
    assert!(rel_diff(num(&v, "Ea_eV"), 0.43) < 1e-9, "{v}");
    assert!(rel_diff(num(&v, "prefactor"), 0.048) < 1e-8, "{v}");
    assert!(rel_diff(num(&v, "D_300K"), 0.048 * (-0.43 / (kb * 300.0)).exp()) < 1e-8);
    assert!(std::fs::read_to_string(&plot).unwrap().contains("</svg>"));
}

#[test]
fn arrhenius_bad_csv_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "T_K,D\n300,1e-9\n400,abc\n500,1e-7\n").unwrap();
    let out = gbion(&["transport", "arrhenius", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv") && err.contains("line 3") && err.contains("\"D\""),
        "{err}"
    );
    std::fs::write(&csv, "temp,D\n300,1e-9\n").unwrap();
    let err = String::from_utf8_lossy(&gbion(&["transport", "arrhenius", csv.to_str().unwrap()]).stderr).to_string();
    assert!(err.contains("T_K or T_C"), "{err}");
}

#[test]
fn impedance_from_apparent_gb_conductivity_with_nyquist_plot() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("nyquist.png");
    let v = json(&[
        "transport",
        "impedance",
        "--sigma-bulk",
        "1e-3",
        "--sigma-gb-apparent",
        "7.5e-5",
        "--grain-size",
        "16um",
        "--delta",
        "0.5nm",
        "--thickness",
        "0.5mm",
        "--area",
        "0.5 cm^2",
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ]);
    // R = L/(σA): bulk 0.05 cm/(1e-3 S/cm · 0.5 cm²) = 100 Ω (× l/(l+δ)); GB 0.05/(7.5e-5·0.5) = 1333 Ω.
    assert!(rel_diff(num(&v, "R_bulk_ohm"), 100.0) < 1e-4, "{v}");
    assert!(rel_diff(num(&v, "R_gb_ohm"), 1333.33) < 1e-4, "{v}");
    assert!(rel_diff(num(&v, "sigma_gb_specific_S_cm"), 7.5e-5 * 0.5e-3 / 16.0) < 1e-12);
    let spectrum = v["spectrum"].as_array().unwrap();
    let first = &spectrum[0];
    assert!(rel_diff(num(first, "z_re_ohm"), num(&v, "R_bulk_ohm") + num(&v, "R_gb_ohm")) < 1e-3);
    let png = std::fs::read(&plot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let out = gbion(&[
        "transport",
        "model",
        "series",
        "--d-bulk",
        "2.6e-8 cm",
        "--d-gb",
        "1e-14",
        "--grain-size",
        "16",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected m^2 s^-1"));
    let out = gbion(&[
        "transport",
        "model",
        "series",
        "--d-bulk=-1",
        "--d-gb",
        "1e-14",
        "--grain-size",
        "16",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("D_bulk"));
}
