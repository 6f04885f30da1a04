//! MSD: the FFT algorithm equals the O(T²) definition; unwrapping by minimum image (triclinic cell, changing
//! cell) and by image flags recovers the unwrapped walk; a lattice walk has MSD(t) = a²t.

mod diffusion_support;

use diffusion_support::{all, brownian, lattice_walk, trajectory};
use gbion_analysis::msd::{Components, MsdError, Trajectory, msd_direct, msd_fft};
use gbion_atoms::{Cell, Element, Property, Structure, Vec3};

/// Agreement of two MSD algorithms in exact arithmetic, relative to the largest MSD value.
const ROUND_OFF: f64 = 1e-10;

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn fft_msd_equals_direct_msd_for_every_lag_and_component_set() {
    // 1,100 frames span two storage blocks of the trajectory.
    for (frames, seed) in [(1, 1), (2, 2), (97, 3), (256, 4), (1100, 5)] {
        let traj = trajectory(5, brownian(5, frames, 0.7, seed));
        for components in ["xyz", "xy", "z"] {
            let components = Components::parse(components).unwrap();
            for subset in [all(&traj), vec![3, 1]] {
                let fft = msd_fft(&traj, &subset, components).unwrap();
                let direct = msd_direct(&traj, &subset, components).unwrap();
                assert_eq!(fft.values.len(), frames);
                let scale = direct.values.iter().fold(1.0, |a: f64, &b| a.max(b));
                assert!(
                    max_abs_diff(&fft.values, &direct.values) < ROUND_OFF * scale,
                    "{frames} frames"
                );
                assert_eq!(fft.values[0], 0.0);
            }
        }
    }
}

#[test]
fn lattice_walk_msd_grows_as_a_squared_per_step() {
    let a = 2.0;
    let (atoms, frames) = (400, 200);
    let traj = trajectory(atoms, lattice_walk(atoms, frames, a, 11));
    let msd = msd_fft(&traj, &all(&traj), Components::XYZ).unwrap();
    assert!(
        (msd.values[1] - a * a).abs() < 1e-9,
        "one hop is exactly a² = {}",
        msd.values[1]
    );
    for lag in [5, 20, 50] {
        // Independent walkers: the relative standard error of the mean is at most √(2/N_atoms) (Gaussian
        // limit, reduced further by averaging over origins).
        let expected = a * a * lag as f64;
        let tolerance = 4.0 * expected * (2.0 / atoms as f64).sqrt();
        assert!(
            (msd.values[lag] - expected).abs() < tolerance,
            "lag {lag}: {} vs {expected}",
            msd.values[lag]
        );
    }
}

/// Triclinic cell with rows a, b, c (Å), optionally scaled.
fn cell(scale: f64) -> Cell {
    Cell::periodic([
        [7.0 * scale, 0.0, 0.0],
        [2.5, 6.5 * scale, 0.0],
        [-1.5, 2.0, 8.0 * scale],
    ])
    .unwrap()
}

/// Frames of wrapped positions of the unwrapped walk `positions` in `cell_of(frame)`, with image flags
/// when `with_images`.
fn wrapped_frames(
    n_atoms: usize,
    positions: &[Vec3],
    cell_of: impl Fn(usize) -> Cell,
    with_images: bool,
) -> Vec<Structure> {
    positions
        .chunks(n_atoms)
        .enumerate()
        .map(|(f, frame)| {
            let cell = cell_of(f);
            let mut images = Vec::new();
            let wrapped: Vec<Vec3> = frame
                .iter()
                .map(|&r| {
                    let s = cell.to_fractional(r);
                    let n = s.map(f64::floor);
                    images.extend(n.map(|v| v as i64));
                    cell.to_cartesian([s[0] - n[0], s[1] - n[1], s[2] - n[2]])
                })
                .collect();
            let mut frame = Structure::new(cell, vec![Element::from_symbol("Li").unwrap(); n_atoms], wrapped).unwrap();
            if with_images {
                frame
                    .set_property(
                        "image",
                        Property::Int {
                            data: images,
                            columns: 3,
                        },
                    )
                    .unwrap();
            }
            frame
        })
        .collect()
}

fn unwrap_all(frames: &[Structure], n_atoms: usize) -> Trajectory {
    let mut traj = Trajectory::new((0..n_atoms).collect());
    for frame in frames {
        traj.push(frame).unwrap();
    }
    traj
}

/// Largest error of the displacements from frame 0 of `traj` against the true walk.
fn displacement_error(traj: &Trajectory, truth: &[Vec3], n_atoms: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for f in 0..traj.n_frames() {
        for a in 0..n_atoms {
            let (now, start) = (traj.position(f, a), traj.position(0, a));
            let (truth_now, truth_start) = (truth[f * n_atoms + a], truth[a]);
            for k in 0..3 {
                worst = worst.max(((now[k] - start[k]) - (truth_now[k] - truth_start[k])).abs());
            }
        }
    }
    worst
}

#[test]
fn minimum_image_unwrapping_recovers_the_walk_in_a_triclinic_cell() {
    let n = 6;
    let truth = brownian(n, 300, 0.8, 21);
    let frames = wrapped_frames(n, &truth, |_| cell(1.0), false);
    let traj = unwrap_all(&frames, n);
    assert!(displacement_error(&traj, &truth, n) < 1e-9);
    assert!((traj.mean_volume() - cell(1.0).volume()).abs() < 1e-9);
    let direct = msd_direct(&trajectory(n, truth), &(0..n).collect::<Vec<_>>(), Components::XYZ).unwrap();
    let unwrapped = msd_fft(&traj, &(0..n).collect::<Vec<_>>(), Components::XYZ).unwrap();
    assert!(max_abs_diff(&direct.values, &unwrapped.values) < 1e-8);
}

/// Wrap `r` into `cell`.
fn wrap(cell: &Cell, r: Vec3) -> Vec3 {
    cell.to_fractional(r).map(|s| s - s.floor())
}

#[test]
fn minimum_image_unwrapping_follows_a_changing_cell() {
    // An NPT-like run: the cell breathes by ±2 % and, as a barostat does, scales every wrapped position with
    // it (fractional coordinates kept); then each atom takes a Brownian step and is wrapped into the new
    // cell. The physical displacement over a frame is the barostat shift of the wrapped position plus the
    // step ("toroidal" unwrapping of von Bülow, Bullerjahn & Hummer, J. Chem. Phys. 153, 021101 (2020)).
    // Unwrapping as w + n·M(t) with a running image count n would instead add n·ΔM, growing with n.
    let n = 4;
    let walk = brownian(n, 200, 0.6, 22);
    let breathing = |f: usize| cell(1.0 + 0.02 * (f as f64 * 0.1).sin());
    let mut wrapped: Vec<Vec3> = walk[..n]
        .iter()
        .map(|&r| breathing(0).to_cartesian(wrap(&breathing(0), r)))
        .collect();
    let mut expected = wrapped.clone();
    for f in 1..walk.len() / n {
        let (old, new) = (breathing(f - 1), breathing(f));
        for a in 0..n {
            let w = wrapped[(f - 1) * n + a];
            let scaled = new.to_cartesian(old.to_fractional(w));
            let step: Vec3 = std::array::from_fn(|k| walk[f * n + a][k] - walk[(f - 1) * n + a][k]);
            let moved: Vec3 = std::array::from_fn(|k| scaled[k] + step[k]);
            wrapped.push(new.to_cartesian(wrap(&new, moved)));
            let previous = expected[(f - 1) * n + a];
            expected.push(std::array::from_fn(|k| previous[k] + scaled[k] - w[k] + step[k]));
        }
    }
    let mut traj = Trajectory::new((0..n).collect());
    for (f, frame) in wrapped.chunks(n).enumerate() {
        let li = vec![Element::from_symbol("Li").unwrap(); n];
        traj.push(&Structure::new(breathing(f), li, frame.to_vec()).unwrap())
            .unwrap();
    }
    assert!(displacement_error(&traj, &expected, n) < 1e-9);
    // The barostat shifts are small (|ΔM| · fractional position) but not zero.
    assert!(displacement_error(&traj, &walk, n) > 1e-3);
}

#[test]
fn image_flags_unwrap_jumps_longer_than_half_the_cell() {
    // Steps of 5 Å per component defeat minimum-image unwrapping; image flags are exact.
    let n = 3;
    let truth = brownian(n, 50, 5.0, 23);
    let with_flags = wrapped_frames(n, &truth, |_| cell(1.0), true);
    assert!(displacement_error(&unwrap_all(&with_flags, n), &truth, n) < 1e-9);
    let without = wrapped_frames(n, &truth, |_| cell(1.0), false);
    assert!(displacement_error(&unwrap_all(&without, n), &truth, n) > 1.0);
}

#[test]
fn bad_frames_are_errors() {
    let n = 2;
    let truth = brownian(n, 3, 0.1, 24);
    let mut frames = wrapped_frames(n, &truth, |_| cell(1.0), false);
    let mut traj = Trajectory::new(vec![0, 1]);
    traj.push(&frames[0]).unwrap();
    frames[1].elements[1] = Element::from_symbol("O").unwrap();
    assert!(matches!(
        traj.push(&frames[1]),
        Err(MsdError::SpeciesChanged { frame: 1, atom: 1, .. })
    ));
    let fewer = frames[2].select(&[0]);
    assert!(matches!(
        traj.push(&fewer),
        Err(MsdError::AtomCount {
            frame: 1,
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        Trajectory::new(vec![5]).push(&frames[0]),
        Err(MsdError::AtomIndex { index: 5, .. })
    ));
    assert!(msd_fft(&trajectory(2, truth.clone()), &[], Components::XYZ).is_err());
    // An image flag beyond i32 is refused, not truncated (2^32 + 1 would have read as 1).
    let mut flagged = wrapped_frames(n, &truth, |_| cell(1.0), true);
    let Some(Property::Int { data, .. }) = flagged[1].properties.get_mut("image") else {
        panic!("wrapped_frames(.., true) writes image flags")
    };
    data[4] = (1 << 32) + 1;
    let mut traj = Trajectory::new(vec![0, 1]);
    traj.push(&flagged[0]).unwrap();
    assert!(matches!(
        traj.push(&flagged[1]),
        Err(MsdError::ImageFlagRange {
            frame: 1,
            atom: 1,
            flag: 4294967297
        })
    ));
}

/// kinisi 2.1.0's MSD of the shared fixture walk (tests/fixtures/kinisi): gbion's all-origins MSD of the
/// same file agrees with it at every lag within kinisi's own standard error √(Var[|Δr|²]/n). (The two
/// differ by at most a few tenths of a per cent at short lags: kinisi's sample of time origins is not
/// exactly all T − lag of them; gbion's equals the O(T²) definition, tested above.)
#[test]
fn msd_of_the_kinisi_fixture_agrees_with_kinisi_at_every_lag() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kinisi");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("kinisi.json")).unwrap()).unwrap();
    let frames = gbion_atoms::io::read_file(&dir.join("trajectory.xyz"), None, &Default::default()).unwrap();
    let mut traj = Trajectory::new((0..6).collect());
    for frame in frames {
        traj.push(&frame.unwrap()).unwrap();
    }
    let msd = msd_fft(&traj, &all(&traj), Components::XYZ).unwrap();
    let numbers = |key: &str| -> Vec<f64> {
        reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let (lags, values, variances) = (numbers("msd_lags"), numbers("msd_A2"), numbers("msd_var_A4"));
    let mut compared = 0;
    for ((lag, kinisi), var) in lags.iter().zip(&values).zip(&variances) {
        let lag = *lag as usize;
        if lag >= msd.values.len() {
            continue;
        }
        let gbion = msd.values[lag];
        assert!(
            (gbion - kinisi).abs() < var.sqrt(),
            "lag {lag}: gbion {gbion} vs kinisi {kinisi} ± {}",
            var.sqrt()
        );
        compared += 1;
    }
    assert!(compared >= 390, "{compared} lags compared");
    // At lag 1 the two agree to 0.3 %, far inside the 1.7 % standard error.
    assert!((msd.values[1] / values[0] - 1.0).abs() < 3e-3);
}
