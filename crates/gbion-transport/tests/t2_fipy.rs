//! The thin-GB solver against an independent solver: FiPy 4.0.3 on the same mesh, grain map, GB
//! conductance, boundary conditions and backward Euler steps (fixtures/fipy/README.md).

use gbion_transport::microstructure::{Axis, Microstructure};
use gbion_transport::solver::{DiffusionProblem, Phase, Reservoir, Scheme, TimeStepping};

fn read_matrix(name: &str) -> (Vec<f64>, usize, usize) {
    let path = format!("{}/tests/fixtures/fipy/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let nx = rows[0].len();
    (rows.concat(), nx, rows.len())
}

#[test]
fn matches_fipy_on_a_voronoi_grain_map_to_solver_precision() {
    let (ids, nx, ny) = read_matrix("small_grains.csv");
    let ids: Vec<u32> = ids.iter().map(|&g| g as u32).collect();
    let micro = Microstructure::from_grain_map(&ids, nx, ny, 2e-6).unwrap();
    assert_eq!(micro.n_gb_faces(), 3068);
    let mut p = DiffusionProblem::new(micro, 2.6e-12, 1.5e-8, 0.0759);
    p.reservoirs.push(Reservoir::liquid_bath(0.95, Axis::Y, 0.0));
    let t = 59.0 * 3600.0;
    let stepping = TimeStepping {
        scheme: Scheme::BackwardEuler,
        max_dt_s: t / 20.0,
    };
    let sol = p.run(&[Phase::exchange(t)], stepping).unwrap();
    assert_eq!(sol.n_steps, 20);
    let (fipy, fx, fy) = read_matrix("small_fipy_be20.csv");
    assert_eq!((fx, fy), (nx, ny));
    let field = &sol.snapshots[0].field;
    let worst = field.iter().zip(&fipy).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    // both are direct solves of the same linear systems: agreement is at round-off × conditioning
    assert!(worst < 1e-10, "max |gbion - FiPy| = {worst}");
    // the comparison is not trivial: the field spans most of the range between C_0 and C_s
    let lo = field.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(lo < 0.5);
}
