//! Checkpoint and resume: a run killed after its step-20 checkpoint (outputs already past it) and resumed
//! in fresh objects writes thermo CSV, JSON lines and trajectory bytes identical to an uninterrupted run
//! with the same seed; MD (Langevin, extended XYZ) and hybrid MC/MD (Nosé–Hoover, swaps, LAMMPS dump; and
//! with the MTP, whose swaps use its cache of per-site moments).
//! Also: blow-up detection names the step and keeps the last checkpoint.

use crate::cells::lstz;
use crate::common::fcc;
use gbion_atoms::{Element, Structure};
use gbion_dynamics::config::{self, Input, PotentialSource};
use gbion_dynamics::run::{Mode, run_md};
use gbion_dynamics::{Error, checkpoint::Checkpoint};
use gbion_potentials::Potential;
use gbion_potentials::rigid_ion::RigidIon;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

const POTENTIAL: &str = r#"
[potential.rigid_ion]
cutoff = 7.0
cutoff_mode = "taper"
taper_inner = 6.0
[potential.rigid_ion.coulomb]
method = "none"
[potential.rigid_ion.charges]
Ar = 0.0
Kr = 0.0
[[potential.rigid_ion.pair]]
species = ["Ar", "Ar"]
lennard_jones = { epsilon = 0.0104, sigma = 3.40 }
[[potential.rigid_ion.pair]]
species = ["Kr", "Kr"]
lennard_jones = { epsilon = 0.0140, sigma = 3.65 }
[[potential.rigid_ion.pair]]
species = ["Ar", "Kr"]
lennard_jones = { epsilon = 0.0121, sigma = 3.52 }
"#;

fn input(dir: &Path, body: &str) -> Input {
    let path = dir.join("run.toml");
    let text = format!("structure = \"unused.xyz\"\nseed = 42\n{body}\n{POTENTIAL}");
    std::fs::write(&path, &text).unwrap();
    config::read(&path).unwrap()
}

fn potential_of(input: &Input) -> RigidIon {
    match &input.potential {
        PotentialSource::RigidIon { text, source_name } => RigidIon::from_toml(text, source_name).unwrap(),
        other => panic!("unexpected {other:?}"),
    }
}

fn mixture() -> Structure {
    let mut s = fcc("Ar", 5.4, 2);
    let kr = Element::from_symbol("Kr").unwrap();
    for i in (0..s.len()).step_by(3) {
        s.elements[i] = kr;
        s.masses[i] = kr.mass();
    }
    s
}

const FILES: [&str; 2] = ["thermo.csv", "thermo.jsonl"];

fn kill_and_resume(body: &str, mode: Mode, trajectory: &str) {
    kill_and_resume_with(body, mode, trajectory, mixture, &|input| Box::new(potential_of(input)));
}

/// [`kill_and_resume`] on the structure `start` gives, with the potential `potential` builds.
fn kill_and_resume_with(
    body: &str,
    mode: Mode,
    trajectory: &str,
    start: fn() -> Structure,
    potential: &dyn Fn(&Input) -> Box<dyn Potential>,
) {
    let straight = tempfile::tempdir().unwrap();
    let killed = tempfile::tempdir().unwrap();
    let a = input(straight.path(), body);
    let pot = potential(&a);
    run_md(&a, start(), pot.as_ref(), mode, false, None, &mut |_, _| {}).unwrap();

    let b = input(killed.path(), body);
    let interrupted = catch_unwind(AssertUnwindSafe(|| {
        run_md(&b, start(), pot.as_ref(), mode, false, None, &mut |step, _| {
            if step == 27 {
                panic!("killed at step 27");
            }
        })
    }));
    assert!(interrupted.is_err());
    let checkpoint = Checkpoint::read(&killed.path().join("run_out/checkpoint.json")).unwrap();
    assert_eq!(checkpoint.step, 20);
    // Fresh objects: input parsed again, potential rebuilt.
    let c = input(killed.path(), body);
    let pot2 = potential(&c);
    let summary = run_md(&c, start(), pot2.as_ref(), mode, true, None, &mut |_, _| {}).unwrap();
    assert_eq!(summary.resumed_from_step, Some(20));
    for name in FILES.iter().chain([&trajectory]) {
        let x = std::fs::read(straight.path().join("run_out").join(name)).unwrap();
        let y = std::fs::read(killed.path().join("run_out").join(name)).unwrap();
        assert!(!x.is_empty());
        assert!(x == y, "{name} differs after resume ({} vs {} bytes)", x.len(), y.len());
    }
    let csv = std::fs::read_to_string(straight.path().join("run_out/thermo.csv")).unwrap();
    eprintln!("{}", csv.lines().take(2).collect::<Vec<_>>().join("\n"));
    assert_eq!(csv.lines().count(), 1 + 41 / 2 + 1);
}

#[test]
fn md_resumed_after_a_kill_is_bit_identical() {
    let body = "[md]\nsteps = 40\ntimestep = 4\nensemble = \"langevin\"\ntemperature = 60\ndamping = 200\n\
                [output]\nthermo_every = 2\ntrajectory_every = 5\ncheckpoint_every = 10\n";
    kill_and_resume(body, Mode::Md, "trajectory.xyz");
}

#[test]
fn hybrid_mc_md_resumed_after_a_kill_is_bit_identical() {
    let body = "[md]\nsteps = 40\ntimestep = 4\nensemble = \"nose-hoover\"\ntemperature = 60\ndamping = 200\n\
                [mc]\nmd_steps = 3\nattempts = 4\nmoves = [{ swap = [\"Ar\", \"Kr\"] }]\n\
                [output]\nthermo_every = 2\ntrajectory_every = 5\ncheckpoint_every = 10\ntrajectory_format = \"lammps-dump\"\n";
    kill_and_resume(body, Mode::Mcmd, "trajectory.dump");
    // The acceptance column is there.
    let dir = tempfile::tempdir().unwrap();
    let i = input(dir.path(), body);
    let summary = run_md(
        &i,
        mixture(),
        &potential_of(&i),
        Mode::Mcmd,
        false,
        None,
        &mut |_, _| {},
    )
    .unwrap();
    let ratio = summary.acceptance["swap_Ar_Kr"].unwrap();
    assert!(ratio > 0.0 && ratio < 1.0, "acceptance {ratio}");
    let header = std::fs::read_to_string(dir.path().join("run_out/thermo.csv")).unwrap();
    assert!(header.starts_with("step,time_fs,T_K,E_pot_eV,E_kin_eV,conserved_eV,P_GPa,volume_A3,accept_swap_Ar_Kr\n"));
}

/// Hybrid MC/MD with the MTP, whose Monte Carlo ΔE come from its cache of per-site moments (kept across
/// the attempts of a segment, rebuilt after MD): resumed after a kill, bit for bit the uninterrupted run.
#[test]
fn hybrid_mc_md_with_the_cached_mtp_resumed_after_a_kill_is_bit_identical() {
    let body = "[md]\nsteps = 40\ntimestep = 1\nensemble = \"nose-hoover\"\ntemperature = 300\ndamping = 100\n\
                [mc]\nmd_steps = 3\nattempts = 15\ntemperature = 3000\n\
                moves = [{ swap = [\"Li\", \"Sr\"] }, { swap = [\"Ta\", \"Zr\"] }]\n\
                [output]\nthermo_every = 2\ntrajectory_every = 5\ncheckpoint_every = 10\n";
    kill_and_resume_with(body, Mode::Mcmd, "trajectory.xyz", || lstz([3, 3, 3]), &|_| {
        Box::new(crate::mtp_swaps::mtp())
    });
}

/// A structure with two atoms almost on top of each other blows up; the error names the step and the
/// step-0 checkpoint stays.
#[test]
fn blow_up_names_the_step_and_keeps_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let body = "[md]\nsteps = 50\ntimestep = 5\ntemperature = 60\n[output]\ncheckpoint_every = 100\n\
                [safety]\nmin_distance = 1.0\nmax_temperature = 3000\n";
    let i = input(dir.path(), body);
    let mut s = fcc("Ar", 5.4, 2);
    s.positions[1] = [1.4, 1.4, 0.0]; // 2.0 Å from atom 0: ≈ 24 eV of repulsion, T runs away
    s.positions[0] = [0.0, 0.0, 0.0];
    let err = run_md(&i, s, &potential_of(&i), Mode::Md, false, None, &mut |_, _| {}).unwrap_err();
    eprintln!("{err}");
    match err {
        Error::BlowUp { step, .. } => assert!(step > 0 && step <= 50),
        other => panic!("expected a blow-up, got {other}"),
    }
    assert_eq!(
        Checkpoint::read(&dir.path().join("run_out/checkpoint.json"))
            .unwrap()
            .step,
        0
    );
}

#[test]
fn npt_resumed_after_a_kill_is_bit_identical() {
    let body = "[md]\nsteps = 40\ntimestep = 4\nensemble = \"langevin\"\ntemperature = 60\ndamping = 200\n\
                barostat = \"anisotropic\"\npressure = 0.1\nbarostat_tau = 400\ncompressibility = 0.3\n\
                [output]\nthermo_every = 2\ntrajectory_every = 5\ncheckpoint_every = 10\n";
    kill_and_resume(body, Mode::Md, "trajectory.xyz");
}

/// Resuming refuses a checkpoint of another seed, time step or format version, naming the checkpoint.
#[test]
fn resume_refuses_a_checkpoint_that_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let body =
        "[md]\nsteps = 10\ntimestep = 4\nensemble = \"langevin\"\ntemperature = 60\n[output]\ncheckpoint_every = 5\n";
    let i = input(dir.path(), body);
    let pot = potential_of(&i);
    run_md(&i, mixture(), &pot, Mode::Md, false, None, &mut |_, _| {}).unwrap();
    let err = run_md(&i, mixture(), &pot, Mode::Md, true, Some(43), &mut |_, _| {}).unwrap_err();
    assert!(
        err.to_string().contains("checkpoint.json: written with seed 42"),
        "{err}"
    );
    let other_dt = input(dir.path(), &body.replace("timestep = 4", "timestep = 2"));
    let err = run_md(&other_dt, mixture(), &pot, Mode::Md, true, None, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("time step of 4 fs"), "{err}");
    let err = run_md(&i, mixture(), &pot, Mode::Mcmd, true, None, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("[mc]"), "{err}");
    let path = dir.path().join("run_out/checkpoint.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"version\":1", "\"version\":99", 1);
    std::fs::write(&path, text).unwrap();
    let err = run_md(&i, mixture(), &pot, Mode::Md, true, None, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("format version 99"), "{err}");
}
