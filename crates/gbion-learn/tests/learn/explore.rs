//! Exploration runs graded on the fly: selection above the select threshold, the stop at the first break
//! crossing, complete runs when nothing is selected, bit-identical reruns with the same seed, a clean stop
//! on blow-up, hybrid MC/MD, and MD of rigid-ion CaO (builtin:pedone2006) at 300 K.

use crate::cells::{ca_sr_tio3, cao, pedone};
use gbion_atoms::Structure;
use gbion_atoms::linalg::{norm, sub};
use gbion_dynamics::units::KB_EV_K;
use gbion_dynamics::velocities::kinetic_energy;
use gbion_learn::explore::{Exploration, ExploreEnsemble, ExploreSettings, Stop, explore};
use std::convert::Infallible;

/// A grader that returns 0, 1, 2, … on successive calls.
fn counter() -> impl FnMut(&Structure) -> Result<f64, Infallible> {
    let mut calls = 0.0;
    move |_| {
        let g = calls;
        calls += 1.0;
        Ok(g)
    }
}

fn constant(g: f64) -> impl FnMut(&Structure) -> Result<f64, Infallible> {
    move |_| Ok(g)
}

fn steps_of(e: &Exploration) -> Vec<u64> {
    e.candidates.iter().map(|c| c.step).collect()
}

#[test]
fn candidates_above_select_are_kept_and_the_first_break_stops_the_run() {
    let mut settings = ExploreSettings::new(100, 1.0, 300.0, 3.0, 6.0);
    settings.grade_every = 5;
    let run = explore(&cao(0.0), &pedone(), &settings, 1, counter()).unwrap();
    // Grade n at step 5n: selected from n = 3 (step 15), breaking at n = 6 (step 30).
    assert_eq!(steps_of(&run), vec![15, 20, 25, 30]);
    let grades: Vec<f64> = run.candidates.iter().map(|c| c.grade).collect();
    assert_eq!(grades, vec![3.0, 4.0, 5.0, 6.0]);
    assert_eq!(run.stop, Stop::Break { step: 30, grade: 6.0 });
    assert_eq!(run.steps, 30);
    assert_eq!(
        run.grades.iter().map(|g| g.0).collect::<Vec<_>>(),
        vec![0, 5, 10, 15, 20, 25, 30]
    );
    // Candidates are wrapped into the cell and carry neither velocities nor results.
    let c = &run.candidates[0].structure;
    assert!(c.velocities.is_none() && c.results.energy.is_none());
    let a = c.cell.lengths()[0];
    assert!(c.positions.iter().flatten().all(|&x| (0.0..a).contains(&x)));
}

#[test]
fn a_low_grade_selects_nothing_and_the_run_completes() {
    let mut settings = ExploreSettings::new(40, 1.0, 300.0, 2.0, 10.0);
    settings.grade_every = 10;
    let run = explore(&cao(0.0), &pedone(), &settings, 1, constant(0.5)).unwrap();
    assert!(run.candidates.is_empty());
    assert_eq!(run.stop, Stop::Completed);
    assert_eq!(run.steps, 40);
    assert_eq!(run.grades, vec![(0, 0.5), (10, 0.5), (20, 0.5), (30, 0.5), (40, 0.5)]);
}

#[test]
fn the_same_seed_gives_the_same_frames() {
    let mut settings = ExploreSettings::new(30, 2.0, 600.0, 1.0, 10.0);
    settings.grade_every = 10;
    settings.ensemble = ExploreEnsemble::NoseHoover;
    let model = pedone();
    let run = |seed| explore(&cao(0.02), &model, &settings, seed, constant(1.0)).unwrap();
    let (a, b, other) = (run(7), run(7), run(8));
    assert_eq!(steps_of(&a), vec![0, 10, 20, 30]);
    assert_eq!(a, b);
    assert_ne!(
        a.candidates[3].structure.positions,
        other.candidates[3].structure.positions
    );
    // Step 0 is the start itself whatever the seed.
    assert_eq!(
        a.candidates[0].structure.positions,
        other.candidates[0].structure.positions
    );
}

/// Rigid-ion CaO (8 atoms, pedone2006) at 300 K under Langevin dynamics: the grader sees the moving
/// configuration; the atoms vibrate about their sites (no melting, no blow-up) and the mean kinetic
/// temperature of the second half is near 300 K.
#[test]
fn rigid_ion_cao_runs_md_at_300_k() {
    let start = cao(0.0);
    let mut settings = ExploreSettings::new(400, 1.0, 300.0, f64::INFINITY, f64::INFINITY);
    settings.grade_every = 4;
    settings.damping = Some(gbion_dynamics::config::Femtoseconds(20.0));
    let mut temperatures = Vec::new();
    let mut largest_displacement = 0.0f64;
    let grader = |s: &Structure| -> Result<f64, Infallible> {
        let k = kinetic_energy(&s.masses, s.velocities.as_deref().unwrap());
        temperatures.push(2.0 * k / (3.0 * s.len() as f64 * KB_EV_K));
        for (x, x0) in s.positions.iter().zip(&start.positions) {
            largest_displacement = largest_displacement.max(norm(s.cell.minimum_image(sub(*x, *x0))));
        }
        Ok(0.0)
    };
    let run = explore(&start, &pedone(), &settings, 3, grader).unwrap();
    assert_eq!(run.stop, Stop::Completed);
    assert_eq!(run.grades.len(), 101);
    let half = &temperatures[50..];
    let mean = half.iter().sum::<f64>() / half.len() as f64;
    // 24 degrees of freedom: the instantaneous T fluctuates by √(2/24) ≈ 29 %; 51 frames 8 fs apart.
    assert!((mean - 300.0).abs() < 100.0, "mean T {mean} K");
    assert!(
        largest_displacement > 0.02 && largest_displacement < 0.6,
        "{largest_displacement} Å"
    );
}

/// Blow-ups end the run at their step with the candidates found before it, instead of failing: a far too
/// long time step at 3000 K (the temperature runs away past 10 × 3000 K), and a floor on the interatomic
/// distance just below CaO's nearest-neighbour distance a/2 = 2.387 Å, which thermal vibration crosses.
#[test]
fn a_blow_up_stops_the_run_cleanly() {
    let mut long_step = ExploreSettings::new(500, 12.0, 3000.0, 0.0, 10.0);
    long_step.grade_every = 2;
    let mut high_floor = ExploreSettings::new(500, 1.0, 3000.0, 0.0, 10.0);
    high_floor.min_distance = 2.3;
    for (settings, why) in [
        (long_step, "exceeds max_temperature"),
        (high_floor, "closer than min_distance"),
    ] {
        let run = explore(&cao(0.0), &pedone(), &settings, 5, constant(1.0)).unwrap();
        let Stop::BlowUp { step, message } = &run.stop else {
            panic!("expected a blow-up, got {:?}", run.stop)
        };
        assert!(*step > 2 && *step < 500, "{step}");
        assert!(message.contains(why), "{message}");
        assert_eq!(run.steps, step - 1);
        let graded: Vec<u64> = (0..*step).filter(|s| s % settings.grade_every == 0).collect();
        assert_eq!(steps_of(&run), graded);
    }
}

/// Hybrid MC/MD as gbion mcmd: Ca ↔ Sr swaps every 5 MD steps, 3 attempts each.
#[test]
fn hybrid_mc_md_runs_the_swaps() {
    let text = r#"
steps = 20
timestep = "1 fs"
temperature = "300 K"
grade_every = 10
select_threshold = 0.0
break_threshold = 1e9
[mc]
md_steps = 5
attempts = 3
temperature = "2000 K"
moves = [{ swap = ["Ca", "Sr"] }]
"#;
    let settings: ExploreSettings = toml::from_str(text).unwrap();
    let run = explore(&ca_sr_tio3(), &pedone(), &settings, 11, constant(0.0)).unwrap();
    assert_eq!(run.stop, Stop::Completed);
    assert_eq!(run.mc_stats.len(), 1);
    let (name, stats) = &run.mc_stats[0];
    assert_eq!(name, "swap_Ca_Sr");
    assert_eq!(stats.attempted, 12);
    assert!(stats.accepted <= 12);
    for c in &run.candidates {
        let count = |s: &str| c.structure.elements.iter().filter(|e| e.symbol() == s).count();
        assert_eq!((count("Ca"), count("Sr"), count("Ti"), count("O")), (1, 1, 2, 6));
    }
}

#[test]
fn settings_read_units_and_reject_bad_tables() {
    let text = "steps = 10\ntimestep = \"0.5 fs\"\ntemperature = \"26.85 C\"\nensemble = \"nose-hoover\"\ndamping = \"0.1 ps\"\nselect_threshold = 2\nbreak_threshold = 5\n";
    let s: ExploreSettings = toml::from_str(text).unwrap();
    assert_eq!(s.timestep.0, 0.5);
    assert!((s.temperature.0 - 300.0).abs() < 1e-9);
    assert!((s.damping.unwrap().0 - 100.0).abs() < 1e-9);
    assert_eq!(
        (s.ensemble, s.grade_every, s.skin),
        (ExploreEnsemble::NoseHoover, 1, 1.0)
    );
    let unknown = toml::from_str::<ExploreSettings>(&format!("{text}select = 3\n")).unwrap_err();
    assert!(unknown.to_string().contains("unknown field `select`"), "{unknown}");
    let bad_unit = toml::from_str::<ExploreSettings>(&text.replace("0.5 fs", "0.5 nm")).unwrap_err();
    assert!(bad_unit.to_string().contains("dimension"), "{bad_unit}");
    let reversed: ExploreSettings =
        toml::from_str(&text.replace("break_threshold = 5", "break_threshold = 1")).unwrap();
    let err = reversed.check().unwrap_err();
    assert_eq!(err.key, "break_threshold");
}

/// A grader's failure and a NaN grade are errors naming the step (unlike a blow-up, they are bugs).
#[test]
fn grader_failures_and_nan_grades_are_errors() {
    let mut settings = ExploreSettings::new(20, 1.0, 300.0, 2.0, 10.0);
    settings.grade_every = 5;
    let mut calls = 0;
    let failing = |_: &Structure| {
        calls += 1;
        if calls == 3 {
            Err("descriptor overflow".to_string())
        } else {
            Ok(0.0)
        }
    };
    let err = explore(&cao(0.0), &pedone(), &settings, 1, failing).unwrap_err();
    assert_eq!(err.to_string(), "grading the frame of step 10: descriptor overflow");
    let err = explore(&cao(0.0), &pedone(), &settings, 1, constant(f64::NAN)).unwrap_err();
    assert_eq!(err.to_string(), "the grade of the frame of step 0 is NaN");
}
