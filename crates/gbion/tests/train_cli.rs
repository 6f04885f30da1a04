//! `gbion train` end to end: a training set labelled by a known MTP is refitted exactly (validation errors
//! ~0, the written `.mtp` evaluates like the original), a fit from gbion's untrained basis runs, checkpoints
//! and resumes, and bad input is a clear error.

mod common;

use common::{gbion_error, gbion_json, repo};
use gbion_atoms::io::{Format, WriteOptions, write_file};
use gbion_atoms::{Cell, Element, Structure};
use gbion_potentials::mtp::Mtp;
use gbion_potentials::{Potential, Request, evaluate};
use std::path::Path;

fn teacher() -> Mtp {
    let zr_o = ["Zr", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    Mtp::read(&repo(
        "crates/gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp",
    ))
    .unwrap()
    .with_species(zr_o)
    .unwrap()
}

/// `count` distorted rock-salt Zr–O cells (16 sites, one in eight of the other species) labelled by
/// `mtp`, written to `path` as extended XYZ.
fn write_labelled(mtp: &Mtp, path: &Path, count: usize, seed: u64) {
    let frames: Vec<Structure> = (0..count as u64)
        .map(|k| {
            let mut state = seed * 7919 + k * 104_729 + 1;
            let mut next = move || {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            };
            let a = 4.6 * (1.0 + 0.03 * next());
            let cell = Cell::periodic([[2.0 * a, 0.0, 0.0], [0.2 * next(), 2.0 * a, 0.0], [0.0, 0.0, a]]).unwrap();
            let mut elements = Vec::new();
            let mut positions = Vec::new();
            for site in 0..16usize {
                let f = [
                    (site % 4) as f64 / 4.0,
                    ((site / 4) % 4) as f64 / 4.0,
                    0.5 * ((site / 16) as f64),
                ];
                let f = [f[0], f[1], if site % 2 == 0 { 0.0 } else { 0.5 }];
                let r = cell.to_cartesian(f);
                positions.push([r[0] + 0.2 * next(), r[1] + 0.2 * next(), r[2] + 0.2 * next()]);
                let zr = ((site % 4 + site / 4) % 2 == 0) != (site as u64 % 8 == k % 8);
                elements.push(Element::from_symbol(if zr { "Zr" } else { "O" }).unwrap());
            }
            let mut s = Structure::new(cell, elements, positions).unwrap();
            let out = evaluate(mtp, &s, Request::EFS).unwrap();
            s.results.energy = Some(out.energy);
            s.results.forces = out.forces;
            s.results.stress = out.stress;
            s
        })
        .collect();
    write_file(
        path,
        Some(Format::ExtXyz),
        frames.into_iter().map(Ok),
        &WriteOptions::default(),
    )
    .unwrap();
}

#[test]
fn refits_a_known_potential_exactly_and_writes_a_usable_mtp() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid, out) = (
        dir.path().join("train.xyz"),
        dir.path().join("valid.xyz"),
        dir.path().join("out.mtp"),
    );
    let teacher = teacher();
    write_labelled(&teacher, &train, 8, 1);
    write_labelled(&teacher, &valid, 3, 2);
    let mtp_path = repo("crates/gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp");
    let report = gbion_json(&[
        "train",
        "--potential",
        mtp_path.to_str().unwrap(),
        "--species",
        "Zr,O",
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--iterations",
        "0",
        "--json",
    ]);
    // The teacher's own coefficients fit its labels exactly: no pair start can beat them.
    assert_eq!(report["start"], "given", "{report}");
    for key in ["train", "valid"] {
        assert_eq!(
            report[format!("{key}_configurations")],
            if key == "train" { 8 } else { 3 }
        );
        assert!(
            report[format!("{key}_energy_rmse_meV_atom")].as_f64().unwrap() < 1e-6,
            "{report}"
        );
        assert!(
            report[format!("{key}_force_rmse_eV_A")].as_f64().unwrap() < 1e-8,
            "{report}"
        );
        assert!(
            report[format!("{key}_stress_rmse_GPa")].as_f64().unwrap() < 1e-6,
            "{report}"
        );
    }
    // The written file evaluates like the teacher.
    let fitted = Mtp::read(&out)
        .unwrap()
        .with_species(teacher.species().unwrap().to_vec())
        .unwrap();
    let frames: Vec<Structure> = gbion_atoms::io::read_file(&valid, None, &Default::default())
        .unwrap()
        .map(|f| f.unwrap())
        .collect();
    for s in &frames {
        let (a, b) = (
            evaluate(&fitted, s, Request::EFS).unwrap(),
            evaluate(&teacher, s, Request::EFS).unwrap(),
        );
        assert!((a.energy - b.energy).abs() < 1e-6 * b.energy.abs());
    }
}

#[test]
fn fits_from_the_untrained_basis_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (train, out) = (dir.path().join("train.xyz"), dir.path().join("fit.mtp"));
    write_labelled(&teacher(), &train, 6, 3);
    let args = |iterations: &'static str, resume: bool| {
        let mut a = vec![
            "train".to_string(),
            "--level".into(),
            "8".into(),
            "--min-dist".into(),
            "1.2".into(),
            "--species".into(),
            "Zr,O".into(),
            "--train".into(),
            train.display().to_string(),
            "-o".into(),
            out.display().to_string(),
            "--iterations".into(),
            iterations.into(),
            "--checkpoint-every".into(),
            "5".into(),
            "--json".into(),
        ];
        if resume {
            a.push("--resume".into());
        }
        a
    };
    let run = |a: Vec<String>| gbion_json(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let whole = run(args("10", false));
    assert_eq!(whole["iterations"], 10);
    assert!(whole["final_loss"].as_f64().unwrap() < whole["initial_loss"].as_f64().unwrap());
    assert!(whole["valid_configurations"].is_null());
    let whole_mtp = std::fs::read_to_string(&out).unwrap();
    // Five iterations, then resume to ten: the same potential.
    std::fs::remove_file(format!("{}.fit-checkpoint.json", out.display())).unwrap();
    run(args("5", false));
    let resumed = run(args("10", true));
    assert_eq!(resumed["iterations"], 10);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), whole_mtp);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let no_energy = dir.path().join("bare.xyz");
    std::fs::write(
        &no_energy,
        "1\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nZr 0 0 0\n",
    )
    .unwrap();
    let out = dir.path().join("x.mtp");
    let message = gbion_error(&[
        "train",
        "--level",
        "8",
        "--species",
        "Zr,O",
        "--train",
        no_energy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        message.contains("bare.xyz frame 1") && message.contains("no energy"),
        "{message}"
    );
    let message = gbion_error(&[
        "train",
        "--level",
        "8",
        "--species",
        "Zr,O",
        "--train",
        no_energy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--resume",
    ]);
    assert!(message.contains("no checkpoint"), "{message}");
}
