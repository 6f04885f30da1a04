//! The loop's `state.json` with an infinite grade (a configuration outside the training span, JSON has no
//! infinity): the loop writes it as null, `--resume` reads it back as +∞, and the summary's history (what
//! `gbion learn --json` prints) shows null, the convention of `gbion grade --json`. The loop is resumed
//! at its label phase (labelling with the Zr–O fixture MTP as the oracle), so no fit or MD runs.

use gbion_atoms::io::{Format, WriteOptions, write_file};
use gbion_atoms::{Cell, Element, Structure};
use gbion_learn::fit::ErrorMetrics;
use gbion_learn::learn::{LearnInput, LearnState, Phase, RoundRecord, run_learn};
use gbion_potentials::mtp::Mtp;
use gbion_potentials::{Request, evaluate};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp")
}

fn zr_o() -> Vec<Element> {
    ["Zr", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec()
}

/// A periodic 8-atom Zr–O cell (simple cubic, spacing 2.2 Å, alternating species), site k displaced by
/// `shift` · k / 8 along x.
fn cell(shift: f64) -> Structure {
    let side = 4.4;
    let cell = Cell::periodic([[side, 0.0, 0.0], [0.0, side, 0.0], [0.0, 0.0, side]]).unwrap();
    let (mut elements, mut positions) = (Vec::new(), Vec::new());
    for k in 0..8 {
        let site = [k & 1, (k >> 1) & 1, k >> 2].map(|i| 2.2 * i as f64);
        positions.push([site[0] + shift * k as f64 / 8.0, site[1], site[2]]);
        elements.push(zr_o()[(k + (k >> 1) + (k >> 2)) % 2]);
    }
    Structure::new(cell, elements, positions).unwrap()
}

fn labelled(mtp: &Mtp, shift: f64) -> Structure {
    let mut s = cell(shift);
    let out = evaluate(mtp, &s, Request::EFS).unwrap();
    s.results.energy = Some(out.energy);
    s.results.forces = out.forces;
    s.results.stress = out.stress;
    s
}

fn input() -> LearnInput {
    let text = format!(
        r#"
output = "out"
max_rounds = 1
species = ["Zr", "O"]
structure = "unused: the test passes the structure"
[potential]
level = 8
[oracle]
kind = "potential"
potential = "{}"
species = ["Zr", "O"]
[[explore]]
temperature = "300 K"
steps = 10
timestep = "1 fs"
grade_every = 5
"#,
        fixture().display()
    );
    LearnInput::parse(&text, Path::new("test.toml")).unwrap()
}

fn write_frames(path: &Path, frames: Vec<Structure>) {
    write_file(
        path,
        Some(Format::ExtXyz),
        frames.into_iter().map(Ok),
        &WriteOptions::default(),
    )
    .unwrap();
}

#[test]
fn an_infinite_grade_is_stored_as_null_and_resumes_as_infinite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let round = out.join("round_000");
    std::fs::create_dir_all(&round).unwrap();
    let mtp = Mtp::read(&fixture()).unwrap().with_species(zr_o()).unwrap();
    write_frames(
        &out.join("train.extxyz"),
        vec![labelled(&mtp, 0.1), labelled(&mtp, 0.2)],
    );
    std::fs::copy(fixture(), round.join("potential.mtp")).unwrap();
    write_frames(&round.join("selected.extxyz"), vec![cell(0.3)]);
    // Round 0 explored, met a configuration outside the training span and selected one: label next.
    let record = RoundRecord {
        round: 0,
        train_configurations: 2,
        train_errors: ErrorMetrics::default(),
        candidates: 1,
        max_grade: f64::INFINITY,
        stops: vec!["break at step 5 (grade inf)".into()],
        selected: 1,
        blow_up_frames: 0,
        quarantined: 0,
    };
    let state = LearnState {
        version: 1,
        round: 0,
        phase: Phase::Label,
        oracle_calls: 2,
        quarantined: 0,
        converged: false,
        rounds: vec![record],
    };
    let text = serde_json::to_string_pretty(&state).unwrap();
    assert!(text.contains("\"max_grade\": null"), "{text}");
    std::fs::write(out.join("state.json"), text).unwrap();

    // Resume: the loop reads the state, labels, writes the state (round 1, done) and summarises.
    let summary = run_learn(&input(), &cell(0.0), dir.path(), true, &mut |_| {}).unwrap();
    assert_eq!((summary.oracle_calls, summary.train_configurations), (3, 3));
    assert_eq!(summary.history[0].max_grade, f64::INFINITY);
    let written = std::fs::read_to_string(out.join("state.json")).unwrap();
    assert!(written.contains("\"max_grade\": null"), "{written}");
    let back: LearnState = serde_json::from_str(&written).unwrap();
    assert_eq!(
        (back.round, back.phase, back.rounds[0].max_grade),
        (1, Phase::Done, f64::INFINITY)
    );

    // Resuming the finished run reads it back again; the JSON history shows null (+∞), not a number.
    let again = run_learn(&input(), &cell(0.0), dir.path(), true, &mut |_| {}).unwrap();
    assert_eq!(again.history, back.rounds);
    let history = serde_json::to_value(&again.history).unwrap();
    assert!(history[0]["max_grade"].is_null(), "{history}");

    // Finite grades are numbers; a NaN grade is refused rather than stored.
    let mut finite = back.rounds[0].clone();
    finite.max_grade = 3.25;
    assert_eq!(serde_json::to_value(&finite).unwrap()["max_grade"], 3.25);
    finite.max_grade = f64::NAN;
    assert!(serde_json::to_string(&finite).is_err());
}
