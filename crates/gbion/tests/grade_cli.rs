//! `gbion select` and `gbion grade` end to end on the 2-species level-8 MTP of the potentials' fixtures
//! (types Zr, O): the selection, the grades and the written files equal what `gbion_learn::grade`
//! computes for the same frames (also in configuration mode with force and stress weights), and a
//! potential that does not match the active set is refused.

mod common;

use common::{gbion_error, gbion_json};

use gbion_atoms::io::{self, ReadOptions, WriteOptions};
use gbion_atoms::{Cell, Element, InfoValue, Property, Structure};
use gbion_learn::grade::{ActiveSet, EquationWeights, RowMode, SWAP_TOLERANCE};
use gbion_potentials::mtp::Mtp;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn mtp_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp")
}

fn mtp() -> Mtp {
    let species = ["Zr", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    Mtp::read(&mtp_path()).unwrap().with_species(species).unwrap()
}

/// 8 atoms on a jittered 2 × 2 × 2 simple-cubic cell of spacing `spacing` (Å), Zr or O at random.
fn config(rng: &mut Xoshiro256PlusPlus, spacing: f64, jitter: f64) -> Structure {
    let side = 2.0 * spacing;
    let cell = Cell::periodic([[side, 0.0, 0.0], [0.0, side, 0.0], [0.0, 0.0, side]]).unwrap();
    let positions = (0..8)
        .map(|i: usize| {
            [i & 1, (i >> 1) & 1, i >> 2].map(|k| k as f64 * spacing + jitter * (2.0 * rng.random::<f64>() - 1.0))
        })
        .collect();
    let elements = (0..8)
        .map(|_| Element::from_symbol(if rng.random::<bool>() { "O" } else { "Zr" }).unwrap())
        .collect();
    Structure::new(cell, elements, positions).unwrap()
}

/// Write frames to `path` and read them back (the CLI sees the written precision).
fn write_and_read(path: &Path, frames: Vec<Structure>) -> Vec<Structure> {
    io::write_file(path, None, frames.into_iter().map(Ok), &WriteOptions::default()).unwrap();
    read(path)
}

fn read(path: &Path) -> Vec<Structure> {
    io::read_file(path, None, &ReadOptions::default())
        .unwrap()
        .map(|f| f.unwrap())
        .collect()
}

/// A JSON grade: a number, or null for +∞.
fn grade_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::INFINITY)
}

fn assert_same(got: f64, want: f64, what: &str) {
    assert!(
        got == want || (got - want).abs() <= 1e-12 * want.abs(),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn select_and_grade_agree_with_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let training = write_and_read(
        &p("train.extxyz"),
        (0..6).map(|_| config(&mut rng, 2.2, 0.25)).collect(),
    );
    let pool = write_and_read(
        &p("pool.extxyz"),
        (0..8).map(|k| config(&mut rng, 1.9 + 0.08 * k as f64, 0.3)).collect(),
    );
    let mtp_arg = mtp_path();
    let mtp_arg = mtp_arg.to_str().unwrap();
    let path = |name: &str| p(name).to_str().unwrap().to_string();

    let selected = gbion_json(&[
        "select",
        "--potential",
        mtp_arg,
        "--species",
        "Zr,O",
        "--train",
        &path("train.extxyz"),
        &path("pool.extxyz"),
        "--threshold",
        "2.1",
        "--max",
        "3",
        "-o",
        &path("selected.extxyz"),
        "--active-set-out",
        &path("active.json"),
        "--json",
    ]);
    let mtp = mtp();
    let mut active = ActiveSet::from_training(&mtp, &training, RowMode::Site).unwrap();
    let before: Vec<f64> = pool
        .iter()
        .map(|s| active.grade(&mtp, s).unwrap().configuration)
        .collect();
    let want = active.select_batch(&mtp, &pool, 2.1, 3).unwrap();
    assert!(!want.is_empty(), "the pool has configurations to select");
    assert_eq!(selected["mode"], "site");
    assert_eq!(selected["parameters"], 11);
    assert_eq!(selected["pool_frames"], 8);
    assert_eq!(selected["candidates"], before.iter().filter(|&&g| g > 2.1).count());
    let list = selected["selected"].as_array().unwrap();
    assert_eq!(list.len(), want.len());
    for (s, w) in list.iter().zip(&want) {
        assert_eq!(s["pool_index"], w.index);
        assert_eq!(s["frame"], w.index);
        assert_same(grade_of(&s["grade"]), before[w.index], "grade");
        assert_same(grade_of(&s["grade_at_selection"]), w.grade, "grade at selection");
    }
    // The selected frames, with their grade, and the updated active set.
    let written = read(&p("selected.extxyz"));
    assert_eq!(written.len(), want.len());
    for (frame, w) in written.iter().zip(&want) {
        assert_eq!(frame.positions, pool[w.index].positions);
        match frame.info.get("grade") {
            Some(InfoValue::Real(g)) => assert_same(*g, before[w.index], "info grade"),
            other => panic!("info grade: {other:?}"),
        }
    }
    let saved = ActiveSet::read(&p("active.json")).unwrap();
    assert_eq!(saved.rows(), active.rows());

    // Grade the pool against the updated active set.
    let graded = gbion_json(&[
        "grade",
        "--potential",
        mtp_arg,
        "--species",
        "Zr,O",
        "--active-set",
        &path("active.json"),
        &path("pool.extxyz"),
        "-o",
        &path("graded.extxyz"),
        "--json",
    ]);
    let frames = graded["frames"].as_array().unwrap();
    assert_eq!(frames.len(), pool.len());
    let graded_frames = read(&p("graded.extxyz"));
    let mut max_grade = 0.0_f64;
    for (k, (f, structure)) in frames.iter().zip(&pool).enumerate() {
        let want = saved.grade(&mtp, structure).unwrap();
        let per_atom = want.per_atom.unwrap();
        assert_same(grade_of(&f["grade"]), want.configuration, "frame grade");
        let top = (0..8).fold(0, |b, i| if per_atom[i] > per_atom[b] { i } else { b });
        assert_eq!(f["max_atom"], top);
        assert_same(grade_of(&f["max_atom_grade"]), per_atom[top], "max atom grade");
        let status = if want.configuration > 10.0 {
            "stop"
        } else if want.configuration > 2.1 {
            "select"
        } else {
            "reliable"
        };
        assert_eq!(f["status"], status, "frame {k}");
        match graded_frames[k].properties.get("grade") {
            Some(Property::Real { data, columns: 1 }) => {
                for (g, w) in data.iter().zip(&per_atom) {
                    assert_same(*g, *w, "per-atom grade");
                }
            }
            other => panic!("per-atom grade: {other:?}"),
        }
        max_grade = max_grade.max(want.configuration);
    }
    assert_same(grade_of(&graded["max_grade"]), max_grade, "max grade");
    for w in &want {
        assert!(
            grade_of(&frames[w.index]["grade"]) <= 1.0 + SWAP_TOLERANCE + 1e-9,
            "selected {}",
            w.index
        );
    }
    let counts = &graded["counts"];
    let total: u64 = ["reliable", "select", "stop"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 8);

    // Starting from the saved active set, selecting into an MLIP .cfg in the potential's type order.
    let again = gbion_json(&[
        "select",
        "--potential",
        mtp_arg,
        "--species",
        "Zr,O",
        "--active-set",
        &path("active.json"),
        &path("pool.extxyz"),
        "--threshold",
        "1.05",
        "--max",
        "2",
        "-o",
        &path("again.cfg"),
        "--json",
    ]);
    let want_again = saved.clone().select_batch(&mtp, &pool, 1.05, 2).unwrap();
    assert!(!want_again.is_empty(), "frames between 1.05 and 2.1 are left to select");
    let got_again: Vec<u64> = again["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pool_index"].as_u64().unwrap())
        .collect();
    assert_eq!(got_again, want_again.iter().map(|s| s.index as u64).collect::<Vec<_>>());
    let options = ReadOptions {
        type_map: Some(["Zr", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec()),
        ..Default::default()
    };
    let cfg: Vec<Structure> = io::read_file(&p("again.cfg"), None, &options)
        .unwrap()
        .map(|f| f.unwrap())
        .collect();
    assert_eq!(cfg.len(), want_again.len());
    for (frame, w) in cfg.iter().zip(&want_again) {
        assert_eq!(frame.elements, pool[w.index].elements);
    }

    // The same potential with another species map is not the one the active set was built for.
    let out = Command::new(env!("CARGO_BIN_EXE_gbion"))
        .args([
            "grade",
            "--potential",
            mtp_arg,
            "--species",
            "O,Zr",
            "--active-set",
            &path("active.json"),
            &path("pool.extxyz"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another potential"));
}

#[test]
fn configuration_mode_select_with_force_and_stress_weights_agrees_with_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let path = |name: &str| p(name).to_str().unwrap().to_string();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let training = write_and_read(
        &p("train.extxyz"),
        (0..3).map(|_| config(&mut rng, 2.2, 0.25)).collect(),
    );
    let pool = write_and_read(
        &p("pool.extxyz"),
        (0..5).map(|k| config(&mut rng, 1.9 + 0.1 * k as f64, 0.3)).collect(),
    );
    let mtp_arg = mtp_path();
    let mtp_arg = mtp_arg.to_str().unwrap();
    /// `gbion select` in configuration mode with `extra` arguments.
    fn select<'a>(mtp: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "select",
            "--potential",
            mtp,
            "--species",
            "Zr,O",
            "--mode",
            "configuration",
        ];
        args.extend_from_slice(extra);
        args
    }
    let (train, pool_file, out, als) = (
        path("train.extxyz"),
        path("pool.extxyz"),
        path("selected.extxyz"),
        path("active.json"),
    );
    let selected = gbion_json(&select(
        mtp_arg,
        &[
            "--train",
            &train,
            &pool_file,
            "--force-weight",
            "0.5",
            "--stress-weight",
            "0.1",
            "--max",
            "2",
            "-o",
            &out,
            "--active-set-out",
            &als,
            "--json",
        ],
    ));
    let mtp = mtp();
    let weights = EquationWeights::new(1.0, 0.5, 0.1).unwrap();
    let mut active = ActiveSet::from_training_weighted(&mtp, &training, RowMode::Configuration, weights).unwrap();
    assert_eq!(
        active.columns().len(),
        11,
        "forces determine all parameters of 3 configurations"
    );
    let want = active.select_batch(&mtp, &pool, 2.1, 2).unwrap();
    assert!(!want.is_empty(), "the pool has configurations to select");
    assert_eq!(selected["mode"], "configuration");
    assert_eq!(
        selected["weights"],
        serde_json::json!({"energy": 1.0, "force": 0.5, "stress": 0.1})
    );
    assert_eq!(selected["active_set_rows"], 11);
    let list = selected["selected"].as_array().unwrap();
    assert_eq!(list.len(), want.len());
    for (s, w) in list.iter().zip(&want) {
        assert_eq!(s["pool_index"], w.index);
        assert_same(grade_of(&s["grade_at_selection"]), w.grade, "grade at selection");
    }
    let saved = ActiveSet::read(&p("active.json")).unwrap();
    assert_eq!((saved.weights(), saved.rows()), (weights, active.rows()));
    // Grades with the saved active set use its weights.
    let graded = gbion_json(&[
        "grade",
        "--potential",
        mtp_arg,
        "--species",
        "Zr,O",
        "--active-set",
        &als,
        &pool_file,
        "--json",
    ]);
    for (f, structure) in graded["frames"].as_array().unwrap().iter().zip(&pool) {
        assert_same(
            grade_of(&f["grade"]),
            saved.grade(&mtp, structure).unwrap().configuration,
            "frame grade",
        );
    }
    // Weights are for an active set built from --train in configuration mode.
    let err = gbion_error(&select(
        mtp_arg,
        &["--active-set", &als, &pool_file, "--force-weight", "1", "-o", &out],
    ));
    assert!(err.contains("has its own"), "{err}");
    let err = gbion_error(&[
        "select",
        "--potential",
        mtp_arg,
        "--species",
        "Zr,O",
        "--train",
        &train,
        &pool_file,
        "--force-weight",
        "1",
        "-o",
        &out,
    ]);
    assert!(err.contains("configuration mode"), "{err}");
}
