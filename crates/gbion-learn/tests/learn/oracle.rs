//! Labelling with an oracle: a built-in potential labels exactly what direct evaluation gives; an external
//! command's values come back exactly; failures are retried, then quarantined with the input kept, while the
//! other configurations are labelled, in input order, N at a time. The command oracles are `sh` + `awk`
//! scripts written by the tests: energy = x of atom 0, force on atom i = (0.25 i, −0.5 i, 0.125), a fixed
//! stress.

use crate::cells::{cao, pedone};
use gbion_atoms::io::{self, Format, ReadOptions};
use gbion_atoms::{Cell, Element, Structure};
use gbion_learn::oracle::{Labelling, Oracle, OracleSpec};
use gbion_potentials::{Request, evaluate};
use std::path::{Path, PathBuf};

/// ASE's nine stress numbers the scripts write, and the Voigt (xx yy zz yz xz xy) stress they mean.
const STRESS_NINE: &str = "0.01 0.004 -0.002 0.004 -0.03 0.005 -0.002 0.005 0.02";
const STRESS_VOIGT: [f64; 6] = [0.01, -0.03, 0.02, 0.005, -0.002, 0.004];

/// Two atoms in a periodic cell, atom 0 at x = `x0` (which the script oracles key on).
fn pair(x0: f64) -> Structure {
    let cell = Cell::orthorhombic([6.0, 6.5, 7.0]).unwrap();
    let elements = ["Li", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    Structure::new(cell, elements, vec![[x0, 0.2, 0.3], [1.2, 3.1, 2.7]]).unwrap()
}

/// The script oracle: `sh good.sh INPUT OUTPUT`. x0 = 1.5 gives energy NaN, x0 = 3.5 never finishes,
/// x0 = 4.5 gives a force of 10⁴ eV/Å on atom 0.
fn good_script(dir: &Path) -> PathBuf {
    let path = dir.join("good.sh");
    let text = format!(
        r#"x0=$(awk 'NR==3 {{print $2 + 0}}' "$1")
case "$x0" in 3.5) exec sleep 30 ;; esac
awk -v x0="$x0" '
NR==1 {{print; next}}
NR==2 {{sub(/pos:R:3/, "pos:R:3:forces:R:3"); e = x0; if (x0 == 1.5) e = "nan"; print $0 " energy=" e " stress=\"{STRESS_NINE}\""; next}}
{{i = NR - 3; fx = 0.25 * i; if (x0 == 4.5 && i == 0) fx = 1e4; print $0 " " fx " " (-0.5 * i) " 0.125"}}' "$1" > "$2"
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// An oracle from the TOML text of an `[oracle]` table; relative paths from `base`.
fn oracle(toml_text: &str, base: &Path) -> Oracle {
    let spec: OracleSpec = toml::from_str(toml_text).unwrap();
    Oracle::from_spec(&spec, base).unwrap()
}

fn labelled_indices(l: &Labelling) -> Vec<usize> {
    l.labelled.iter().map(|c| c.index).collect()
}

fn assert_script_values(s: &Structure) {
    let x0 = s.positions[0][0];
    assert_eq!(s.results.energy, Some(x0));
    assert_eq!(s.results.forces, Some(vec![[0.0, 0.0, 0.125], [0.25, -0.5, 0.125]]));
    assert_eq!(s.results.stress, Some(STRESS_VOIGT));
}

#[test]
fn a_builtin_potential_labels_what_direct_evaluation_gives() {
    let dir = tempfile::tempdir().unwrap();
    let oracle = oracle(
        "kind = \"potential\"\npotential = \"builtin:pedone2006\"\nparallel = 2\n",
        dir.path(),
    );
    let batch: Vec<Structure> = [0.0, 0.05, 0.1].map(cao).to_vec();
    let labelling = oracle.label(&batch, &dir.path().join("quarantine")).unwrap();
    assert!(labelling.quarantined.is_empty());
    assert_eq!(labelled_indices(&labelling), vec![0, 1, 2]);
    let model = pedone();
    for (l, s) in labelling.labelled.iter().zip(&batch) {
        let direct = evaluate(&model, s, Request::EFS).unwrap();
        assert_eq!(l.attempts, 1);
        assert_eq!(l.structure.positions, s.positions);
        assert_eq!(l.structure.results.energy, Some(direct.energy));
        assert_eq!(l.structure.results.forces, direct.forces);
        assert_eq!(l.structure.results.stress, direct.stress);
    }
    // The rattled cells have forces; the perfect one has none by symmetry.
    let fmax = |k: usize| {
        let forces = labelling.labelled[k].structure.results.forces.clone().unwrap();
        forces.iter().flatten().fold(0.0f64, |m, f| m.max(f.abs()))
    };
    assert!(fmax(0) < 1e-8 && fmax(2) > 0.1, "{} {}", fmax(0), fmax(2));
}

#[test]
fn a_command_oracle_values_come_back_exactly_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let script = good_script(dir.path());
    let oracle = oracle(
        &format!(
            "kind = \"command\"\ncommand = \"sh {} {{input}} {{output}}\"\nparallel = 3\n",
            script.display()
        ),
        dir.path(),
    );
    let batch: Vec<Structure> = [0.5, 2.5, 5.25, 0.75].map(pair).to_vec();
    let labelling = oracle.label(&batch, &dir.path().join("quarantine")).unwrap();
    assert!(labelling.quarantined.is_empty());
    assert_eq!(labelled_indices(&labelling), vec![0, 1, 2, 3]);
    for (l, s) in labelling.labelled.iter().zip(&batch) {
        assert_eq!(l.structure.positions, s.positions);
        assert_eq!(l.attempts, 1);
        assert_script_values(&l.structure);
    }
}

/// The first call on each configuration fails; with one retry every configuration is labelled on the second
/// attempt, without retries every one is quarantined after one.
#[test]
fn a_failed_call_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_script(dir.path());
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let flaky = dir.path().join("flaky.sh");
    std::fs::write(
        &flaky,
        format!(
            "key=$(cksum < \"$1\" | cut -d' ' -f1)\nif [ ! -e '{s}'/$key ]; then touch '{s}'/$key; echo 'SCF did not converge' >&2; exit 1; fi\nexec sh '{g}' \"$1\" \"$2\"\n",
            s = state.display(),
            g = good.display()
        ),
    )
    .unwrap();
    let spec = |retries: u32| {
        format!(
            "kind = \"command\"\ncommand = \"sh {} {{input}} {{output}}\"\nparallel = 2\nretries = {retries}\nwork_dir = \"calls\"\n",
            flaky.display()
        )
    };
    let batch: Vec<Structure> = [0.5, 2.5, 5.25].map(pair).to_vec();
    let labelling = oracle(&spec(1), dir.path())
        .label(&batch, &dir.path().join("q1"))
        .unwrap();
    assert!(labelling.quarantined.is_empty());
    assert_eq!(labelled_indices(&labelling), vec![0, 1, 2]);
    for l in &labelling.labelled {
        assert_eq!(l.attempts, 2);
        assert_script_values(&l.structure);
    }
    std::fs::remove_dir_all(&state).unwrap();
    std::fs::create_dir(&state).unwrap();
    let labelling = oracle(&spec(0), dir.path())
        .label(&batch, &dir.path().join("q0"))
        .unwrap();
    assert!(labelling.labelled.is_empty());
    for (k, q) in labelling.quarantined.iter().enumerate() {
        assert_eq!((q.index, q.attempts), (k, 1));
        assert!(
            q.reason.contains("exit status: 1") && q.reason.contains("SCF did not converge"),
            "{}",
            q.reason
        );
    }
}

/// Garbage (a NaN energy, a force above max_force) and a call past its timeout are quarantined after the
/// retry with their inputs kept; the others are labelled, in input order, three calls at a time.
#[test]
fn garbage_and_timeouts_are_quarantined_and_the_rest_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_script(dir.path());
    let oracle = oracle(
        &format!(
            "kind = \"command\"\ncommand = \"exec sh {} {{input}} {{output}}\"\nparallel = 3\nretries = 1\ntimeout = \"0.5 s\"\nmax_force = 100.0\nwork_dir = \"calls\"\n",
            good.display()
        ),
        dir.path(),
    );
    let batch: Vec<Structure> = [0.5, 1.5, 2.5, 3.5, 4.5, 5.25].map(pair).to_vec();
    let quarantine = dir.path().join("quarantine");
    let labelling = oracle.label(&batch, &quarantine).unwrap();
    assert_eq!(labelled_indices(&labelling), vec![0, 2, 5]);
    for l in &labelling.labelled {
        assert_eq!(l.structure.positions, batch[l.index].positions);
        assert_script_values(&l.structure);
    }
    let expected = [(1, "non-finite number \"nan\""), (3, "timeout"), (4, "above max_force")];
    assert_eq!(labelling.quarantined.len(), expected.len());
    for (q, (index, why)) in labelling.quarantined.iter().zip(expected) {
        assert_eq!((q.index, q.attempts), (index, 2));
        assert!(q.reason.contains(why), "configuration {index}: {}", q.reason);
        assert_eq!(q.input, quarantine.join(format!("config-{index:06}.extxyz")));
        let kept: Structure = io::read_file(&q.input, Some(Format::ExtXyz), &ReadOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(kept.elements, batch[index].elements);
        for (a, b) in kept.positions.iter().zip(&batch[index].positions) {
            assert!((0..3).all(|c| (a[c] - b[c]).abs() < 1e-9), "{a:?} vs {b:?}");
        }
        let log = std::fs::read_to_string(quarantine.join(format!("config-{index:06}.txt"))).unwrap();
        assert_eq!(log.lines().count(), 2, "{log}");
        assert!(log.starts_with("attempt 1: ") && log.contains("\nattempt 2: "), "{log}");
    }
    // The directories of the calls the protocol rejected (NaN, timeout: two attempts each) are kept under
    // work_dir; those of accepted calls, and of calls only max_force rejects, are gone.
    let kept_calls = std::fs::read_dir(dir.path().join("calls")).unwrap().count();
    assert_eq!(kept_calls, 4);
}

/// Three configurations with parallel = 3: every call waits until all three have started, so the batch
/// only succeeds when the three run at the same time.
#[test]
fn calls_run_parallel_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_script(dir.path());
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let barrier = dir.path().join("barrier.sh");
    std::fs::write(
        &barrier,
        format!(
            "touch '{s}'/started.$$\nk=0\nwhile [ $(ls '{s}' | grep -c started) -lt 3 ]; do k=$((k+1)); if [ $k -gt 400 ]; then echo 'alone' >&2; exit 1; fi; sleep 0.05; done\nexec sh '{g}' \"$1\" \"$2\"\n",
            s = state.display(),
            g = good.display()
        ),
    )
    .unwrap();
    let oracle = oracle(
        &format!(
            "kind = \"command\"\ncommand = \"sh {} {{input}} {{output}}\"\nparallel = 3\nretries = 0\nwork_dir = \"calls\"\n",
            barrier.display()
        ),
        dir.path(),
    );
    let batch: Vec<Structure> = [0.5, 2.5, 5.25].map(pair).to_vec();
    let labelling = oracle.label(&batch, &dir.path().join("quarantine")).unwrap();
    assert!(labelling.quarantined.is_empty(), "{:?}", labelling.quarantined);
    assert_eq!(labelled_indices(&labelling), vec![0, 1, 2]);
}

/// `{input}`, `{output}` and `{dir}` become the call's files and its own directory under `work_dir`, which
/// is also the working directory.
#[test]
fn the_template_placeholders_name_the_calls_files_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_script(dir.path());
    let record = dir.path().join("args");
    let script = dir.path().join("record.sh");
    std::fs::write(
        &script,
        format!(
            "printf '%s\\n' \"$1\" \"$2\" \"$3\" \"$PWD\" > '{}'\nexec sh '{}' \"$1\" \"$2\"\n",
            record.display(),
            good.display()
        ),
    )
    .unwrap();
    let oracle = oracle(
        &format!(
            "kind = \"command\"\ncommand = \"sh {} {{input}} {{output}} {{dir}}\"\nwork_dir = \"calls\"\n",
            script.display()
        ),
        dir.path(),
    );
    let labelling = oracle.label(&[pair(0.5)], &dir.path().join("quarantine")).unwrap();
    assert_script_values(&labelling.labelled[0].structure);
    let args = std::fs::read_to_string(&record).unwrap();
    let args: Vec<&Path> = args.lines().map(Path::new).collect();
    let call_dir = args[2];
    assert_eq!(call_dir.parent(), Some(dir.path().join("calls").as_path()));
    assert_eq!(args[0], call_dir.join("input.extxyz"));
    assert_eq!(args[1], call_dir.join("output.extxyz"));
    assert_eq!(args[3], call_dir);
}

#[test]
fn bad_oracle_tables_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = toml::from_str::<OracleSpec>("kind = \"command\"\ncommand = \"true\"\nthreads = 2\n").unwrap_err();
    assert!(unknown.to_string().contains("unknown field `threads`"), "{unknown}");
    let bad_unit =
        toml::from_str::<OracleSpec>("kind = \"command\"\ncommand = \"true\"\ntimeout = \"2 m\"\n").unwrap_err();
    assert!(bad_unit.to_string().contains("dimension"), "{bad_unit}");
    let cases = [
        (
            "kind = \"command\"\n",
            "oracle.command: kind = \"command\" needs a command template",
        ),
        (
            "kind = \"command\"\ncommand = \"true\"\nparallel = 0\n",
            "oracle.parallel",
        ),
        ("kind = \"potential\"\n", "oracle.potential"),
        (
            "kind = \"potential\"\npotential = \"builtin:nonsense\"\n",
            "no shipped parameter set \"nonsense\"",
        ),
        (
            "kind = \"command\"\ncommand = \"true\"\nmax_force = -1.0\n",
            "oracle.max_force",
        ),
    ];
    for (text, expected) in cases {
        let spec: OracleSpec = toml::from_str(text).unwrap();
        let message = match Oracle::from_spec(&spec, dir.path()) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text:?} should be rejected"),
        };
        assert!(message.contains(expected), "{text:?}: {message}");
    }
}

/// `oracle/ase_oracle.py` behind the command oracle labels a rattled Cu cell with ASE's EMT exactly as ASE
/// itself does (computed here by a separate `python3 -c`); skipped when ASE is not installed.
#[test]
fn the_ase_oracle_script_labels_like_ase_itself() {
    let has_ase = std::process::Command::new("python3")
        .args(["-c", "import ase.calculators.emt"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_ase {
        eprintln!("skipped: python3 with ASE is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = 3.61;
    let cell = Cell::orthorhombic([a, a, a]).unwrap();
    let fcc = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let positions = fcc
        .iter()
        .enumerate()
        .map(|(i, f)| [0, 1, 2].map(|d| f[d] * a + 0.05 * ((i * 3 + d) as f64).sin()))
        .collect();
    let copper = Structure::new(cell, vec![Element::from_symbol("Cu").unwrap(); 4], positions).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracle/ase_oracle.py");
    let spec = format!(
        "kind = \"command\"\ncommand = \"python3 {} --calculator ase.calculators.emt:EMT {{input}} {{output}}\"\nwork_dir = \"calls\"\n",
        script.display()
    );
    let labelling = oracle(&spec, dir.path())
        .label(std::slice::from_ref(&copper), &dir.path().join("q"))
        .unwrap();
    assert!(labelling.quarantined.is_empty(), "{:?}", labelling.quarantined);
    let got = &labelling.labelled[0].structure.results;
    // ASE directly, on the same positions.
    let input = dir.path().join("cu.extxyz");
    io::write_file(&input, Some(Format::ExtXyz), [Ok(copper)], &Default::default()).unwrap();
    let direct = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import ase.io; from ase.calculators.emt import EMT\na = ase.io.read('{}')\na.calc = EMT()\nprint(a.get_potential_energy())\nprint(*a.get_forces().ravel())\nprint(*a.get_stress())",
            input.display()
        ))
        .output()
        .unwrap();
    let text = String::from_utf8(direct.stdout).unwrap();
    let lines: Vec<Vec<f64>> = text
        .lines()
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-3);
    assert!(close(got.energy.unwrap(), lines[0][0]));
    let forces: Vec<f64> = got.forces.as_ref().unwrap().iter().flatten().copied().collect();
    // ASE's extended XYZ writer prints per-atom arrays with 8 decimals.
    assert!(
        forces.iter().zip(&lines[1]).all(|(a, b)| (a - b).abs() <= 1e-8),
        "{forces:?} vs {:?}",
        lines[1]
    );
    // ASE's get_stress() is Voigt xx yy zz yz xz xy, as gbion's.
    assert!(got.stress.unwrap().iter().zip(&lines[2]).all(|(a, b)| close(*a, *b)));
}
