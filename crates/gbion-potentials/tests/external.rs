//! The external-command potential: values come back through extended XYZ exactly; failures, timeouts and
//! malformed or missing values are clear errors. The "oracles" here are `sh`/`sed` one-liners that append
//! known values to the configuration gbion sends.

use gbion_atoms::{Cell, Element, Structure};
use gbion_potentials::external::ExternalCommand;
use gbion_potentials::{Error, Potential, Request, evaluate};
use std::time::Duration;

/// Two atoms in a periodic triclinic cell.
fn pair() -> Structure {
    let cell = Cell::from_parameters([5.0, 5.5, 6.0], [80.0, 95.0, 100.0]).unwrap();
    let elements = ["Li", "O"].map(|s| Element::from_symbol(s).unwrap()).to_vec();
    Structure::new(cell, elements, vec![[0.1, 0.2, 0.3], [1.2, 0.9, 1.7]]).unwrap()
}

/// A sed oracle: adds `energy`, a 9-number `stress` and a forces column (one line per atom) to the
/// configuration it is sent.
const SED_ORACLE: &str = "sed -e '2s/pos:R:3/pos:R:3:forces:R:3:energies:R:1/' \
     -e '2s/$/ energy=-7.25 stress=\"0.01 0.004 -0.002 0.004 -0.03 0.005 -0.002 0.005 0.02\"/' \
     -e '3s/$/ 0.5 -0.25 0.125 -3.0/' -e '4s/$/ -0.5 0.25 -0.125 -4.25/' {input} > {output}";

#[test]
fn values_written_by_the_command_come_back_exactly() {
    let oracle = ExternalCommand::new(SED_ORACLE);
    let out = oracle.compute(&pair(), None, Request::ALL).unwrap();
    assert_eq!(out.energy, -7.25);
    assert_eq!(out.forces.unwrap(), vec![[0.5, -0.25, 0.125], [-0.5, 0.25, -0.125]]);
    // ASE's 9 stress numbers are the symmetric matrix; Voigt order xx yy zz yz xz xy.
    assert_eq!(out.stress.unwrap(), [0.01, -0.03, 0.02, 0.005, -0.002, 0.004]);
    assert_eq!(out.energies.unwrap(), vec![-3.0, -4.25]);
    // `evaluate` needs no neighbour list for it.
    assert_eq!(evaluate(&oracle, &pair(), Request::ENERGY).unwrap().energy, -7.25);
}

#[test]
fn standard_output_is_read_when_the_command_names_no_output_file() {
    let oracle = ExternalCommand::new("sed -e '2s/$/ energy=1.5/' \"$GBION_INPUT\"");
    let out = oracle.compute(&pair(), None, Request::ENERGY).unwrap();
    assert_eq!(out.energy, 1.5);
    assert!(out.forces.is_none() && out.stress.is_none() && out.energies.is_none());
}

#[test]
fn a_batch_is_evaluated_in_one_run_in_order() {
    // The oracle numbers the frames' energies by the order of their comment lines.
    let oracle = ExternalCommand::new("awk '/Lattice=/ {k++; $0 = $0 \" energy=\" k} {print}' {input} > {output}");
    let outs = oracle.compute_many(&[pair(), pair(), pair()], Request::ENERGY).unwrap();
    let energies: Vec<f64> = outs.iter().map(|o| o.energy).collect();
    assert_eq!(energies, vec![1.0, 2.0, 3.0]);
}

fn external_error(result: gbion_potentials::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::External(message)) => message,
        other => panic!("expected an external-command error, got {other:?}"),
    }
}

#[test]
fn a_failing_command_reports_its_status_and_standard_error() {
    let oracle = ExternalCommand::new("echo 'SCF did not converge' >&2; exit 3");
    let message = external_error(oracle.compute(&pair(), None, Request::ENERGY));
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("SCF did not converge"), "{message}");
    assert!(message.contains("kept in"), "{message}");
}

#[test]
fn a_command_past_its_timeout_is_killed() {
    let oracle = ExternalCommand::new("sleep 30").with_timeout(Duration::from_millis(200));
    let start = std::time::Instant::now();
    let message = external_error(oracle.compute(&pair(), None, Request::ENERGY));
    assert!(message.contains("timeout"), "{message}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn missing_and_malformed_values_are_errors() {
    let cases = [
        ("cp {input} {output}", Request::ENERGY, "no energy"),
        (
            "sed -e '2s/$/ energy=1.0/' {input} > {output}",
            Request::FORCES,
            "no forces",
        ),
        (
            "sed -e '2s/pos:R:3/pos:R:3:forces:R:3/' -e '2s/$/ energy=1.0/' -e '3,4s/$/ 0 0 0/' {input} > {output}",
            Request::EFS,
            "no stress",
        ),
        (
            "sed -e '2s/$/ energy=nan/' {input} > {output}",
            Request::ENERGY,
            "non-finite number \"nan\"",
        ),
        ("true {output}", Request::ENERGY, "wrote no"),
        ("true", Request::ENERGY, "returned 0"),
        (
            "sed -e '2s/$/ energy=1.0/' -e '4d' -e '1s/2/1/' {input} > {output}",
            Request::ENERGY,
            "1 atoms",
        ),
        (
            "sed -e '2s/$/ energy=1.0/' -e '3s/0.1/0.2/' {input} > {output}",
            Request::ENERGY,
            "atom 0 moved",
        ),
        (
            "sed -e '2s/$/ energy=1.0/' {input} {input} > {output}",
            Request::ENERGY,
            "returned 2",
        ),
        (
            "sed -e '2s/$/ energy=1.0/' {input} > {output}",
            Request {
                energies: true,
                ..Request::ENERGY
            },
            "no per-atom `energies`",
        ),
    ];
    for (command, request, expected) in cases {
        let message = match ExternalCommand::new(command).compute(&pair(), None, request) {
            Err(e) => e.to_string(),
            Ok(out) => panic!("`{command}` should fail, gave {out:?}"),
        };
        assert!(message.contains(expected), "`{command}`: {message}");
        assert!(message.contains("kept in"), "`{command}`: {message}");
    }
}

#[test]
fn results_the_structure_carries_are_not_sent() {
    let mut s = pair();
    s.results.energy = Some(-1.0);
    let message = ExternalCommand::new("cp {input} {output}")
        .compute(&s, None, Request::ENERGY)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no energy"), "{message}");
}
