//! Diffusivity split by region: a tagged bicrystal whose GB ions walk fast in the GB plane and are held
//! within ±1 Å of it, and whose bulk ions walk slowly and isotropically, gives each region its own D in the
//! plane and across; a GB normal off the Cartesian axes is refused.

use gbion_analysis::diffusion::FitOptions;
use gbion_analysis::gb::diffusion::{Region, RegionTracker, region_diffusivities};
use gbion_analysis::gb::{GbOptions, GbWidth};
use gbion_analysis::msd::Trajectory;
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, Structure, Vec3};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

const HEIGHT: f64 = 42.0;
/// The GB plane in the middle of the cell (the other is at z = 0).
const GB_Z: f64 = 21.0;
const SIDE: f64 = 12.0;
const N_GB: usize = 24;
const N_BULK: usize = 24;
const FRAMES: usize = 1000;
const DT_FS: f64 = 1.0;
const GB_STEP: f64 = 0.3;
const BULK_STEP: f64 = 0.1;

fn el(symbol: &str) -> Element {
    Element::from_symbol(symbol).unwrap()
}

/// D (cm²/s) of Gaussian steps of `step` Å per component per frame.
fn d_of(step: f64) -> f64 {
    step * step / (2.0 * DT_FS) * 0.1
}

/// Static O atoms on a 3 Å grid, grain 0 below z = GB_Z and grain 1 above: GB planes at z = 0 and GB_Z.
fn host() -> (Vec<Vec3>, Vec<i64>) {
    let (mut positions, mut grain) = (Vec::new(), Vec::new());
    for k in 0..(HEIGHT / 3.0) as usize + 1 {
        let z = 1.5 + 3.0 * k as f64;
        if z >= HEIGHT {
            break;
        }
        for i in 0..4 {
            for j in 0..4 {
                positions.push([1.5 + 3.0 * i as f64, 1.5 + 3.0 * j as f64, z]);
                grain.push(i64::from(z > GB_Z));
            }
        }
    }
    (positions, grain)
}

/// Frames of the host plus N_GB Li ions near the plane at z = GB_Z (in-plane steps GB_STEP, z a reflected
/// walk within ±1 Å of it) and N_BULK Li ions starting at z = GB_Z ∓ 10.5 Å (steps BULK_STEP along x, y, z).
fn frames(cell: &Cell, seed: u64) -> Vec<Structure> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (host, grain) = host();
    let mut li: Vec<Vec3> = (0..N_GB + N_BULK)
        .map(|i| {
            let z = if i < N_GB {
                GB_Z + rng.random_range(-0.9..0.9)
            } else if i % 2 == 0 {
                GB_Z - 10.5
            } else {
                GB_Z + 10.5
            };
            [rng.random::<f64>() * SIDE, rng.random::<f64>() * SIDE, z]
        })
        .collect();
    let (gb_step, bulk_step) = (Normal::new(0.0, GB_STEP).unwrap(), Normal::new(0.0, BULK_STEP).unwrap());
    let mut frames = Vec::new();
    for frame in 0..FRAMES {
        if frame > 0 {
            for (i, r) in li.iter_mut().enumerate() {
                if i < N_GB {
                    r[0] += gb_step.sample(&mut rng);
                    r[1] += gb_step.sample(&mut rng);
                    // Steps of 0.2 Å along z, reflected at GB_Z ± 1 Å: the MSD across saturates after a few
                    // hundred frames.
                    let dz = r[2] - GB_Z + 2.0 * bulk_step.sample(&mut rng);
                    r[2] = GB_Z + if dz.abs() > 1.0 { 2.0 * dz.signum() - dz } else { dz };
                } else {
                    r.iter_mut().for_each(|x| *x += bulk_step.sample(&mut rng));
                }
            }
        }
        let elements = [vec![el("O"); host.len()], vec![el("Li"); li.len()]].concat();
        let mut s = Structure::new(cell.clone(), elements, [host.clone(), li.clone()].concat()).unwrap();
        let li_grain = li.iter().map(|r| i64::from(r[2].rem_euclid(HEIGHT) > GB_Z));
        s.set_int_tag(tags::GRAIN, grain.iter().copied().chain(li_grain).collect())
            .unwrap();
        frames.push(s);
    }
    frames
}

/// The Li atoms' indices in every frame.
fn li_indices(frame: &Structure) -> Vec<usize> {
    (0..frame.len()).filter(|&i| frame.elements[i] == el("Li")).collect()
}

#[test]
fn gb_and_bulk_ions_get_their_own_in_plane_and_across_diffusivities() {
    let cell = Cell::orthorhombic([SIDE, SIDE, HEIGHT]).unwrap();
    let frames = frames(&cell, 3);
    let atoms = li_indices(&frames[0]);
    let options = GbOptions {
        width: GbWidth::Absolute(4.0),
        ..GbOptions::default()
    };
    let mut tracker = RegionTracker::new(&frames[0], atoms.clone(), &options).unwrap();
    let mut trajectory = Trajectory::new(atoms);
    for frame in &frames {
        tracker.push(frame).unwrap();
        trajectory.push(frame).unwrap();
    }
    assert_eq!(tracker.normal_axis(), 2);
    let planes = &tracker.planes().positions;
    assert!(planes.len() == 2 && (planes[1] - GB_Z).abs() < 1.0, "{planes:?}");
    let [gb, bulk] = region_diffusivities(&trajectory, &tracker, DT_FS, &FitOptions::default()).unwrap();
    let (gb, bulk) = (gb.unwrap(), bulk.unwrap());
    assert_eq!((gb.region, bulk.region), (Region::Gb, Region::Bulk));
    assert_eq!(gb.ions, (0..N_GB).collect::<Vec<_>>());
    assert_eq!(bulk.ions, (N_GB..N_GB + N_BULK).collect::<Vec<_>>());
    assert!(
        gb.residence == 1.0 && bulk.residence > 0.99,
        "{} {}",
        gb.residence,
        bulk.residence
    );
    let within = |fit: &gbion_analysis::diffusion::DiffusionFit, truth: f64, what: &str| {
        assert!(
            (fit.d_cm2_s - truth).abs() < 3.5 * fit.d_err_cm2_s,
            "{what}: {} ± {} vs {truth}",
            fit.d_cm2_s,
            fit.d_err_cm2_s
        );
    };
    // In the GB plane: the fast walk (d = 2); across: held within ±1 Å, D* ≈ 0.
    within(&gb.in_plane, d_of(GB_STEP), "GB in-plane");
    assert!(
        gb.across.d_cm2_s.abs() < 0.01 * d_of(GB_STEP),
        "GB across {:?}",
        gb.across
    );
    // The bulk walk is isotropic: the same D along every split.
    for (fit, what) in [
        (&bulk.total, "bulk"),
        (&bulk.in_plane, "bulk in-plane"),
        (&bulk.across, "bulk across"),
    ] {
        within(fit, d_of(BULK_STEP), what);
    }
}

#[test]
fn a_gb_normal_off_the_cartesian_axes_is_refused() {
    // The a axis of a monoclinic cell: the plane of b and c has a normal in the xy plane, 30° off x.
    let cell = Cell::periodic([
        [SIDE, 0.0, 0.0],
        [-0.5 * SIDE, 0.75f64.sqrt() * SIDE, 0.0],
        [0.0, 0.0, HEIGHT],
    ])
    .unwrap();
    let (positions, grain) = host();
    let mut s = Structure::new(cell, vec![el("O"); positions.len()], positions).unwrap();
    s.set_int_tag(tags::GRAIN, grain).unwrap();
    let options = GbOptions {
        axis: Some(0),
        width: GbWidth::Absolute(4.0),
        ..GbOptions::default()
    };
    let err = RegionTracker::new(&s, vec![0], &options).unwrap_err().to_string();
    assert!(err.contains("not along x, y or z"), "{err}");
}
