//! `gbion eval` end to end: an MLIP `.mtp` file reproduces motep's reference energies, forces and stresses
//! (read from the MLIP `.cfg` cases), a rigid-ion TOML file gives exactly what the library computes, the
//! external-command protocol round-trips through `gbion eval` itself, and bad input is a clear error.

mod common;

use common::{gbion, repo};

use gbion_atoms::io::{self, ReadOptions};
use gbion_atoms::{Element, Structure};
use gbion_potentials::rigid_ion::RigidIon;
use gbion_potentials::{Request, evaluate};
use serde_json::Value;
use std::path::Path;

/// eV/Å³ → GPa (exact since the 2019 SI: e = 1.602176634e-19 C).
const GPA: f64 = 160.217_663_4;

fn eval_json(args: &[&str]) -> Vec<Value> {
    let out = gbion(&[&["eval", "--json"], args].concat());
    assert!(
        out.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("valid JSON")
        .as_array()
        .unwrap()
        .clone()
}

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

fn read_one(path: &Path, type_map: Option<&str>) -> Structure {
    let options = ReadOptions {
        type_map: type_map.map(|m| m.split(',').map(|s| Element::from_symbol(s).unwrap()).collect()),
        ..Default::default()
    };
    io::read_file(path, None, &options).unwrap().next().unwrap().unwrap()
}

fn assert_close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1e-3_f64, |m, x| m.max(x.abs()));
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= rel * scale, "{what}: {g} vs {w}");
    }
}

#[test]
fn an_mtp_file_reproduces_the_motep_reference_cases() {
    let species = "Li,Sr,Ta,Zr,O";
    let mtp = repo("crates/gbion-potentials/tests/fixtures/mtp/potentials/l16_5sp.mtp");
    for case in ["perovskite_2x2x2", "skewed_triclinic", "small_cell_3at"] {
        let cfg = repo(&format!(
            "crates/gbion-atoms/tests/fixtures/cfg/cases/l16_5sp__{case}.cfg"
        ));
        let reference = read_one(&cfg, Some(species));
        let frames = eval_json(&[
            "--potential",
            mtp.to_str().unwrap(),
            "--species",
            species,
            "--type-map",
            species,
            cfg.to_str().unwrap(),
        ]);
        assert_eq!(frames.len(), 1);
        let f = &frames[0];
        let energy = reference.results.energy.unwrap();
        assert_close(&[f["energy_eV"].as_f64().unwrap()], &[energy], 1e-8, case);
        let per_atom: f64 = floats(&f["energies_eV"]).iter().sum();
        assert_close(&[per_atom], &[energy], 1e-8, case);
        let forces: Vec<f64> = reference.results.forces.unwrap().concat();
        assert_close(&floats(&f["forces_eV_A"]), &forces, 1e-8, case);
        let stress: Vec<f64> = reference.results.stress.unwrap().iter().map(|s| s * GPA).collect();
        assert_close(&floats(&f["stress_GPa"]), &stress, 1e-8, case);
    }
}

#[test]
fn a_rigid_ion_toml_gives_what_the_library_computes_and_the_oracle_protocol_round_trips() {
    let toml = repo("crates/gbion-potentials/tests/fixtures/lammps/lstz_triclinic_dsf.toml");
    let xyz = repo("crates/gbion-potentials/tests/fixtures/lammps/lstz_triclinic_dsf.extxyz");
    let model = RigidIon::from_file(&toml).unwrap();
    let direct = evaluate(&model, &read_one(&xyz, None), Request::ALL).unwrap();
    let frames = eval_json(&["--potential", toml.to_str().unwrap(), xyz.to_str().unwrap()]);
    let f = &frames[0];
    // The same code on the same input: equal up to the summation order of parallel reductions.
    assert_close(&[f["energy_eV"].as_f64().unwrap()], &[direct.energy], 1e-14, "energy");
    assert_close(
        &floats(&f["forces_eV_A"]),
        &direct.forces.clone().unwrap().concat(),
        1e-14,
        "forces",
    );
    let stress: Vec<f64> = direct.stress.unwrap().iter().map(|s| s * GPA).collect();
    assert_close(&floats(&f["stress_GPa"]), &stress, 1e-14, "stress");

    // The same model behind the external-command protocol, with gbion eval itself as the oracle.
    let oracle = format!(
        "cmd:'{}' eval --potential '{}' {{input}} -o {{output}} > /dev/null",
        env!("CARGO_BIN_EXE_gbion"),
        toml.display()
    );
    let frames = eval_json(&["--potential", &oracle, "--timeout-s", "60", xyz.to_str().unwrap()]);
    let g = &frames[0];
    assert_close(
        &[g["energy_eV"].as_f64().unwrap()],
        &[direct.energy],
        1e-12,
        "oracle energy",
    );
    assert_close(
        &floats(&g["forces_eV_A"]),
        &direct.forces.unwrap().concat(),
        1e-12,
        "oracle forces",
    );
    assert_close(
        &floats(&g["energies_eV"]),
        &direct.energies.unwrap(),
        1e-12,
        "oracle energies",
    );
    assert_close(&floats(&g["stress_GPa"]), &stress, 1e-12, "oracle stress");
}

#[test]
fn a_shipped_parameter_set_evaluates_by_name() {
    let xyz = repo("crates/gbion-potentials/tests/fixtures/lammps/srtio3_ewald.extxyz");
    let text = gbion_potentials::rigid_ion::builtin("pedone2006").unwrap();
    let model = RigidIon::from_toml(text, "pedone2006").unwrap();
    let direct = evaluate(&model, &read_one(&xyz, None), Request::EFS).unwrap();
    let frames = eval_json(&["--potential", "builtin:pedone2006", xyz.to_str().unwrap()]);
    assert_close(
        &[frames[0]["energy_eV"].as_f64().unwrap()],
        &[direct.energy],
        1e-14,
        "energy",
    );
    assert_close(
        &floats(&frames[0]["forces_eV_A"]),
        &direct.forces.unwrap().concat(),
        1e-14,
        "forces",
    );
}

#[test]
fn eval_writes_extxyz_with_results_atomically() {
    let toml = repo("crates/gbion-potentials/tests/fixtures/lammps/srtio3_ewald.toml");
    let xyz = repo("crates/gbion-potentials/tests/fixtures/lammps/srtio3_ewald.extxyz");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.extxyz");
    let out = gbion(&[
        "eval",
        "--potential",
        toml.to_str().unwrap(),
        xyz.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("E = ") && human.contains("GPa"), "{human}");
    let written = read_one(&out_path, None);
    let direct = evaluate(
        &RigidIon::from_file(&toml).unwrap(),
        &read_one(&xyz, None),
        Request::ALL,
    )
    .unwrap();
    assert_close(&[written.results.energy.unwrap()], &[direct.energy], 1e-14, "energy");
    assert_close(
        &written.results.forces.unwrap().concat(),
        &direct.forces.unwrap().concat(),
        1e-14,
        "forces",
    );
    assert!(written.properties.contains_key("energies"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files left"
    );
}

#[test]
fn bad_potentials_are_clear_errors() {
    let xyz = repo("crates/gbion-potentials/tests/fixtures/lammps/srtio3_ewald.extxyz");
    let mtp = repo("crates/gbion-potentials/tests/fixtures/mtp/potentials/l16_5sp.mtp");
    let cases: [(Vec<&str>, &str); 6] = [
        (vec!["--potential", mtp.to_str().unwrap()], "--species"),
        // A missing file is reported as missing, before any word about --species.
        (
            vec!["--potential", "missing.mtp"],
            "cannot read missing.mtp: No such file",
        ),
        (
            vec!["--potential", mtp.to_str().unwrap(), "--species", "Li,Sr"],
            "5 species",
        ),
        (
            vec!["--potential", "builtin:nonsense"],
            "no shipped parameter set \"nonsense\" (shipped: pedone2006, du_teter, lstz_toy)",
        ),
        (vec!["--potential", "model.pt"], "unknown potential"),
        (vec!["--potential", "cmd:exit 2"], "exit status: 2"),
    ];
    for (args, expected) in cases {
        let out = gbion(&[&["eval"], args.as_slice(), &[xyz.to_str().unwrap()]].concat());
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
