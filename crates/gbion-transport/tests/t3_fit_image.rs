//! Fit of D_bulk and D_gb/δ to a whole image by forward simulation on its grain map: synthetic images made
//! by the forward model on a small brick-wall grain map are fitted back.

use gbion_transport::fit::image::{ImageExperiment, SourceEdge, fit_image};
use gbion_transport::image::Image;
use gbion_transport::io::GrainMap;
use gbion_transport::microstructure::{Axis, Microstructure};
use gbion_transport::solver::{DiffusionProblem, End, Phase, Reservoir, Scheme, TimeStepping};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

const NX: usize = 30;
const NY: usize = 24;
const PIXEL: f64 = 1e-6;
const STEPS: usize = 30;
const C_S: f64 = 0.9;
const C_0: f64 = 0.0759;

/// Bricks of 8 × 6 pixels, every other row shifted by half a brick.
fn brick_map() -> GrainMap {
    let ids = (0..NX * NY)
        .map(|i| {
            let (x, y) = (i % NX, i / NX);
            let row = y / 6;
            let shift = if row % 2 == 1 { 4 } else { 0 };
            (row * 10 + (x + shift) / 8) as u32
        })
        .collect();
    GrainMap { nx: NX, ny: NY, ids }
}

/// The forward model: exchange for `t` with the last row (bottom of the image) at C_s.
fn synthetic(map: &GrainMap, d_bulk: f64, g: f64, t: f64, noise: f64, seed: u64) -> Image {
    let micro = Microstructure::from_grain_map(&map.ids, NX, NY, PIXEL).unwrap();
    let mut p = DiffusionProblem::new(micro, d_bulk, g, C_0);
    p.reservoirs.push(Reservoir::whole_face(C_S, Axis::Y, End::Upper));
    let stepping = TimeStepping {
        scheme: Scheme::CrankNicolson,
        max_dt_s: t / STEPS as f64,
    };
    let field = p
        .run(&[Phase::exchange(t)], stepping)
        .unwrap()
        .snapshots
        .remove(0)
        .field;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let normal = Normal::new(0.0, noise.max(1e-300)).unwrap();
    let data = field
        .into_iter()
        .map(|c| if noise > 0.0 { c + normal.sample(&mut rng) } else { c })
        .collect();
    Image::new(NX, NY, data).unwrap()
}

fn experiment(t: f64, fixed: Option<f64>) -> ImageExperiment {
    ImageExperiment {
        pixel_m: PIXEL,
        exchange_time_s: t,
        source: SourceEdge::LastRow,
        time_steps: STEPS,
        fixed_d_bulk_m2_s: fixed,
    }
}

#[test]
fn both_parameters_are_recovered_from_a_noiseless_image() {
    // D_bulk and l·D_gb/δ comparable, so both shape the image.
    let (d_bulk, g, t) = (2.6e-12, 2.0e-7, 150.0);
    let map = brick_map();
    let image = synthetic(&map, d_bulk, g, t, 0.0, 0);
    let fit = fit_image(&image, &vec![true; NX * NY], None, &map, experiment(t, None)).unwrap();
    approx::assert_relative_eq!(fit.d_bulk_m2_s, d_bulk, max_relative = 1e-4);
    approx::assert_relative_eq!(fit.gb_conductance_m_s, g, max_relative = 1e-4);
    approx::assert_relative_eq!(fit.c_s, C_S, max_relative = 1e-6);
    approx::assert_relative_eq!(fit.c_0, C_0, max_relative = 1e-5);
    // D_eff of the brick wall lies between the series bound and D_bulk.
    let series = 1.0 / (1.0 / d_bulk + 1.0 / (6.0 * PIXEL * g));
    assert!(
        fit.d_eff_m2_s > 0.9 * series && fit.d_eff_m2_s < d_bulk,
        "{}",
        fit.d_eff_m2_s
    );
}

#[test]
fn noisy_image_gives_parameters_within_uncertainty() {
    let (d_bulk, g, t) = (2.6e-12, 2.0e-7, 150.0);
    let map = brick_map();
    let image = synthetic(&map, d_bulk, g, t, 0.01, 11);
    let fit = fit_image(&image, &vec![true; NX * NY], None, &map, experiment(t, None)).unwrap();
    let d_err = fit.d_bulk_err_m2_s.unwrap();
    assert!(
        (fit.d_bulk_m2_s - d_bulk).abs() < 3.0 * d_err,
        "{} ± {d_err}",
        fit.d_bulk_m2_s
    );
    assert!((fit.gb_conductance_m_s - g).abs() < 3.0 * fit.gb_conductance_err_m_s);
    assert!(fit.gb_conductance_err_m_s / g < 0.3, "{}", fit.gb_conductance_err_m_s);
    approx::assert_relative_eq!(fit.reduced_chi2.sqrt(), 0.01, max_relative = 0.15);
}

#[test]
fn gb_conductance_alone_with_d_bulk_held_at_the_nmr_value() {
    // Paper 003's situation: D_bulk = 2.6e-8 cm²/s from PFG-NMR, GB-limited (D_gb/δ = 1.43e-6 cm/s).
    let (d_bulk, g, t) = (2.6e-12, 1.43e-8, 1500.0);
    let map = brick_map();
    let image = synthetic(&map, d_bulk, g, t, 0.005, 5);
    let valid: Vec<bool> = (0..NX * NY).map(|i| i % 17 != 3).collect(); // some dead pixels
    let fit = fit_image(&image, &valid, None, &map, experiment(t, Some(d_bulk))).unwrap();
    assert!(fit.d_bulk_err_m2_s.is_none());
    assert_eq!(fit.d_bulk_m2_s, d_bulk);
    assert_eq!(fit.n_pixels, valid.iter().filter(|v| **v).count());
    assert!(
        (fit.gb_conductance_m_s - g).abs() < 3.0 * fit.gb_conductance_err_m_s,
        "{} ± {}",
        fit.gb_conductance_m_s,
        fit.gb_conductance_err_m_s
    );
}

#[test]
fn mismatched_grain_map_is_an_error() {
    let map = GrainMap {
        nx: 3,
        ny: 3,
        ids: vec![0; 9],
    };
    let image = Image::new(4, 3, vec![0.5; 12]).unwrap();
    assert!(fit_image(&image, &[true; 12], None, &map, experiment(10.0, None)).is_err());
}

/// The whole chain on a seeded Voronoi polycrystal: exchange simulated by the solver, synthetic SIMS
/// counts (Poisson on both channels, same pixel grid), eqn 1 with binomial σ per pixel, then the weighted
/// image fit with D_bulk held. With the true counting σ as weights, χ²_red ≈ 1 checks the σ of eqn 1.
#[test]
fn voronoi_synthetic_sims_chain() {
    use gbion_transport::isotope::fraction_image;
    use gbion_transport::sims::{SimsSettings, synthetic_sims};
    let (nx, ny) = (36, 28);
    let micro = Microstructure::voronoi([nx, ny, 1], PIXEL, 9.0 * PIXEL, 3.0 * PIXEL, 42).unwrap();
    let ids = micro.grains().to_vec();
    let (d_bulk, g, t) = (2.6e-12, 1.43e-8, 2000.0);
    let mut p = DiffusionProblem::new(micro, d_bulk, g, C_0);
    p.reservoirs.push(Reservoir::whole_face(C_S, Axis::Y, End::Lower));
    let stepping = TimeStepping {
        scheme: Scheme::CrankNicolson,
        max_dt_s: t / STEPS as f64,
    };
    let field = p
        .run(&[Phase::exchange(t)], stepping)
        .unwrap()
        .snapshots
        .remove(0)
        .field;
    let settings = SimsSettings {
        block: 1,
        fwhm_px: 0.0,
        counts_per_pixel: 2.0e4,
        seed: 9,
    };
    let sims = synthetic_sims(&Image::new(nx, ny, field).unwrap(), &settings).unwrap();
    let to_image = |counts: &[u64]| Image::new(nx, ny, counts.iter().map(|&c| c as f64).collect()).unwrap();
    let fraction = fraction_image(&to_image(&sims.li6), &to_image(&sims.li7)).unwrap();
    let map = GrainMap { nx, ny, ids };
    let experiment = ImageExperiment {
        source: SourceEdge::FirstRow,
        ..experiment(t, Some(d_bulk))
    };
    let fit = fit_image(
        &fraction.fraction,
        &fraction.valid,
        fraction.sigma.as_ref(),
        &map,
        experiment,
    )
    .unwrap();
    let z = (fit.gb_conductance_m_s - g) / fit.gb_conductance_err_m_s;
    assert!(
        z.abs() < 3.0,
        "{} ± {}",
        fit.gb_conductance_m_s,
        fit.gb_conductance_err_m_s
    );
    assert!(fit.gb_conductance_err_m_s / g < 0.05);
    assert!((0.8..1.25).contains(&fit.reduced_chi2), "χ²_red {}", fit.reduced_chi2);
}
