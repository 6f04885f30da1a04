//! GB step analysis (paper 003, eqns 2–3): the paper's worked numbers, exact recovery of a synthetic step,
//! recovery within the reported uncertainty under noise, and the batch over a grain map.

use gbion_transport::fit::gb_step::{
    PixelLine, StepDistribution, StepOptions, analyse_grain_map, analyse_lines, analyse_step, bilinear, d_gb_over_delta,
};
use gbion_transport::image::Image;
use gbion_transport::io::GrainMap;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

const CM: f64 = 1e-2;
/// D_NMR,bulk of LLTO at 22 °C used by paper 003: 2.6e-8 cm²/s, in m²/s.
const D_BULK: f64 = 2.6e-8 * CM * CM;
const DELTA: f64 = 0.5e-9;
const PIXEL: f64 = 1e-6;

#[test]
fn paper_003_worked_numbers_after_59_h() {
    // Fig. 3e: ∂C/∂y|bulk = 1.1 cm⁻¹, ΔC_gb = 0.02. In cm units the formula gives cm/s directly.
    let ratio_cm_s = d_gb_over_delta(2.6e-8, 1.1, 0.02);
    approx::assert_relative_eq!(ratio_cm_s, 1.43e-6, max_relative = 1e-12);
    let d_gb_cm2_s = ratio_cm_s * 0.5e-7;
    approx::assert_relative_eq!(d_gb_cm2_s, 7.15e-14, max_relative = 1e-12);
    // The paper prints D_gb/δ = 1.5e-6 (units garbled as cm² s⁻¹; it is cm/s) and D_gb = 7.6e-14 cm²/s:
    // 1.43e-6 rounds to 1.4e-6, not 1.5e-6, and 1.5e-6 × 0.5 nm = 7.5e-14, so the printed pair does not
    // follow from the printed inputs exactly (the inputs 1.1 and 0.02 are themselves rounded readings of
    // Fig. 3e). We test the formula's values and that they sit within 7 % of the printed ones.
    assert!((ratio_cm_s / 1.5e-6 - 1.0).abs() < 0.05);
    assert!((d_gb_cm2_s / 7.6e-14 - 1.0).abs() < 0.07);
    // The same in SI: 1.1 cm⁻¹ = 110 m⁻¹ → m/s.
    approx::assert_relative_eq!(d_gb_over_delta(D_BULK, 110.0, 0.02), 1.43e-8, max_relative = 1e-12);
}

#[test]
fn paper_003_worked_numbers_after_16_days() {
    // 16 d of storage: ∂C/∂y = 0.65 cm⁻¹, ΔC_gb = 0.009 → D_gb = 9.39e-14 cm²/s; the paper prints 9.2e-14
    // (2 % lower: again rounded readings of the figure).
    let d_gb_cm2_s = d_gb_over_delta(2.6e-8, 0.65, 0.009) * 0.5e-7;
    approx::assert_relative_eq!(d_gb_cm2_s, 2.6e-8 * 0.65 / 0.009 * 0.5e-7, max_relative = 1e-12);
    assert!((d_gb_cm2_s / 9.2e-14 - 1.0).abs() < 0.03, "{d_gb_cm2_s}");
}

/// A profile along x with a GB between pixels 20 and 21 (x = 20.5): each side is a quadratic in the
/// distance t from the GB with the same gradient at the GB (flux continuity) and a step ΔC between them
/// chosen so that D_gb/δ = `ratio` exactly: ΔC = D_bulk |gradient| / ratio.
fn step_profile(ratio: f64, gradient: f64) -> impl Fn(f64) -> f64 {
    let delta_c = D_BULK * gradient.abs() / ratio;
    move |x_px: f64| {
        let t = (x_px - 20.5) * PIXEL;
        let side = if t < 0.0 { 0.5 * delta_c } else { -0.5 * delta_c };
        0.5 + side + gradient * t + 3.0e6 * t * t * side.signum()
    }
}

fn image_from(nx: usize, ny: usize, mut f: impl FnMut(f64, f64) -> f64) -> Image {
    Image::new(
        nx,
        ny,
        (0..nx * ny).map(|i| f((i % nx) as f64, (i / nx) as f64)).collect(),
    )
    .unwrap()
}

#[test]
fn bilinear_sampling_is_exact_for_bilinear_fields() {
    let image = image_from(5, 4, |x, y| 1.0 + 2.0 * x - 3.0 * y + 0.5 * x * y);
    for (x, y) in [(0.0, 0.0), (1.25, 2.5), (4.0, 3.0), (3.9, 0.1)] {
        approx::assert_relative_eq!(
            bilinear(&image, None, x, y).unwrap(),
            1.0 + 2.0 * x - 3.0 * y + 0.5 * x * y,
            max_relative = 1e-14
        );
    }
    assert_eq!(bilinear(&image, None, -0.1, 1.0), None);
    assert_eq!(bilinear(&image, None, 1.0, 3.01), None);
}

#[test]
fn synthetic_step_is_recovered_exactly() {
    let ratio = 1.43e-8; // m/s, the paper's D_gb/δ
    let profile = step_profile(ratio, -110.0); // C falls along +x, as the flux goes
    let image = image_from(41, 5, |x, _| profile(x));
    let line = PixelLine {
        start: [0.0, 2.0],
        end: [40.0, 2.0],
    };
    let step = analyse_step(&image, None, &line, D_BULK, PIXEL, &StepOptions::default()).unwrap();
    approx::assert_abs_diff_eq!(step.gb_position_px, 20.5, epsilon = 1e-12);
    approx::assert_relative_eq!(step.gradient_per_m, -110.0, max_relative = 1e-6);
    approx::assert_relative_eq!(step.delta_c, D_BULK * 110.0 / ratio, max_relative = 1e-9);
    approx::assert_relative_eq!(step.d_gb_over_delta_m_s, ratio, max_relative = 1e-6);
    approx::assert_relative_eq!(step.d_gb_m2_s(DELTA).0, ratio * DELTA, max_relative = 1e-6);

    // The same line run backwards: the signs of gradient and step flip together, D_gb/δ does not.
    let back = PixelLine {
        start: line.end,
        end: line.start,
    };
    let step = analyse_step(&image, None, &back, D_BULK, PIXEL, &StepOptions::default()).unwrap();
    approx::assert_relative_eq!(step.d_gb_over_delta_m_s, ratio, max_relative = 1e-6);
}

#[test]
fn oblique_line_measures_the_gradient_along_itself() {
    // A line at angle θ to the GB normal sees gradient g cosθ and the same step: D_gb/δ scales by cosθ.
    // The analysis reports what the line measures, so lines should cross GBs along the normal. (1 %: the
    // step located between two samples puts the extrapolation point up to half a sample off the GB.)
    let ratio = 1.43e-8;
    let profile = step_profile(ratio, -110.0);
    let image = image_from(41, 41, |x, _| profile(x));
    let line = PixelLine {
        start: [0.0, 10.0],
        end: [40.0, 30.0],
    };
    let cos = 40.0 / (40.0f64.powi(2) + 20.0f64.powi(2)).sqrt();
    let step = analyse_step(&image, None, &line, D_BULK, PIXEL, &StepOptions::default()).unwrap();
    approx::assert_relative_eq!(step.gradient_per_m, -110.0 * cos, max_relative = 1e-2);
    approx::assert_relative_eq!(step.d_gb_over_delta_m_s, ratio * cos, max_relative = 1e-2);
}

#[test]
fn noisy_step_is_recovered_within_its_uncertainty() {
    let ratio = 1.43e-8;
    let profile = step_profile(ratio, -1100.0);
    let normal = Normal::new(0.0, 2e-4).unwrap();
    let mut pulls = Vec::new();
    for seed in 0..16 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let image = image_from(41, 3, |x, _| profile(x) + normal.sample(&mut rng));
        let line = PixelLine {
            start: [0.0, 1.0],
            end: [40.0, 1.0],
        };
        let options = StepOptions {
            gb_position_px: Some(20.5),
            ..StepOptions::default()
        };
        let step = analyse_step(&image, None, &line, D_BULK, PIXEL, &options).unwrap();
        let z = (step.d_gb_over_delta_m_s - ratio) / step.d_gb_over_delta_err_m_s;
        assert!(
            z.abs() < 3.5,
            "seed {seed}: {} ± {}",
            step.d_gb_over_delta_m_s,
            step.d_gb_over_delta_err_m_s
        );
        pulls.push(z);
    }
    let var = pulls.iter().map(|z| z * z).sum::<f64>() / pulls.len() as f64;
    assert!((0.3..2.0).contains(&var), "pull variance {var}");
}

#[test]
fn inconsistent_step_is_rejected() {
    // C rises across the GB while falling in the bulk: no flux from high to low C can do that.
    let image = image_from(41, 3, |x, _| 0.5 - 1e-4 * x + if x > 20.5 { 0.02 } else { 0.0 });
    let line = PixelLine {
        start: [0.0, 1.0],
        end: [40.0, 1.0],
    };
    assert!(analyse_step(&image, None, &line, D_BULK, PIXEL, &StepOptions::default()).is_err());
}

#[test]
fn batch_over_a_grain_map_recovers_each_boundary() {
    // Three grains in stripes along x with GBs at x = 20.5 and x = 45.5, each with its own D_gb/δ; the
    // flux runs along x. The two boundaries are analysed on automatically placed lines.
    let (r1, r2) = (1.0e-8, 3.0e-8);
    let g = -200.0;
    let (dc1, dc2) = (D_BULK * 200.0 / r1, D_BULK * 200.0 / r2);
    let c = |x: f64| {
        let t = x * PIXEL;
        0.6 + g * t - if x > 20.5 { dc1 } else { 0.0 } - if x > 45.5 { dc2 } else { 0.0 }
    };
    let (nx, ny) = (70, 30);
    let image = image_from(nx, ny, |x, _| c(x));
    let ids = (0..nx * ny)
        .map(|i| (i % nx > 20) as u32 + (i % nx > 45) as u32)
        .collect();
    let map = GrainMap { nx, ny, ids };
    let options = StepOptions::default();
    let (entries, dist) = analyse_grain_map(&image, None, &map, D_BULK, PIXEL, &options, 15.0, 3.0).unwrap();
    assert_eq!(entries.len(), 2);
    let dist = dist.unwrap();
    assert_eq!(dist.values_m_s.len(), 2);
    approx::assert_relative_eq!(dist.values_m_s[0], r1, max_relative = 1e-6);
    approx::assert_relative_eq!(dist.values_m_s[1], r2, max_relative = 1e-6);
    approx::assert_relative_eq!(dist.mean, 0.5 * (r1 + r2), max_relative = 1e-6);
    assert_eq!(entries[0].grains, Some((0, 1)));

    // The same two lines given explicitly.
    let lines = [
        PixelLine {
            start: [5.0, 10.0],
            end: [35.0, 10.0],
        },
        PixelLine {
            start: [30.0, 5.0],
            end: [60.0, 5.0],
        },
    ];
    let (_, dist) = analyse_lines(&image, None, &lines, D_BULK, PIXEL, &options, 3.0);
    let dist = dist.unwrap();
    approx::assert_relative_eq!(dist.median, 0.5 * (r1 + r2), max_relative = 1e-6);
}

#[test]
fn boundary_parallel_to_the_flux_is_not_significant() {
    // Grains stacked along y, flux along x: the line across the boundary (along y) sees no step.
    let normal = Normal::new(0.0, 1e-3).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let image = image_from(30, 40, |x, _| 0.5 - 0.002 * x + normal.sample(&mut rng));
    let map = GrainMap {
        nx: 30,
        ny: 40,
        ids: (0..1200).map(|i| ((i / 30) > 19) as u32).collect(),
    };
    let (entries, dist) =
        analyse_grain_map(&image, None, &map, D_BULK, PIXEL, &StepOptions::default(), 15.0, 3.0).unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].result.is_err(), "{:?}", entries[0].result);
    assert!(dist.is_none());
}

#[test]
fn distribution_statistics() {
    let d = StepDistribution::from_values(vec![4.0, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!((d.mean, d.median), (2.5, 2.5));
    approx::assert_relative_eq!(d.std, (5.0f64 / 3.0).sqrt(), max_relative = 1e-14);
    assert!(StepDistribution::from_values(vec![]).is_none());
}

/// The forward model and the inversion together: ⁶Li exchange simulated by the thin-GB solver on a layered
/// microstructure (layers of 20 cells normal to x, source on the x = 0 face), then the step analysis on
/// the simulated image recovers the D_gb/δ the solver was given. Flux continuity across each GB holds at
/// every time in the model, so no steady state is needed; what limits the agreement is how well a
/// quadratic describes the bulk profile next to the GB.
#[test]
fn step_analysis_recovers_the_solver_gb_conductance() {
    use gbion_transport::microstructure::{Axis, Microstructure};
    use gbion_transport::solver::{DiffusionProblem, End, Phase, Reservoir, Scheme, TimeStepping};
    let (nx, ny) = (60, 8);
    let g = 1.43e-8; // paper 003: D_gb/δ = 1.43e-6 cm/s
    let micro = Microstructure::layered([nx, ny, 1], PIXEL, Axis::X, &[20]).unwrap();
    let ids = micro.grains().to_vec();
    let mut problem = DiffusionProblem::new(micro, D_BULK, g, 0.0759);
    problem.reservoirs.push(Reservoir::whole_face(0.9, Axis::X, End::Lower));
    let t = 3000.0;
    let stepping = TimeStepping {
        scheme: Scheme::CrankNicolson,
        max_dt_s: t / 200.0,
    };
    let field = problem
        .run(&[Phase::exchange(t)], stepping)
        .unwrap()
        .snapshots
        .remove(0)
        .field;
    let image = Image::new(nx, ny, field).unwrap();
    let map = GrainMap { nx, ny, ids };
    let (entries, dist) =
        analyse_grain_map(&image, None, &map, D_BULK, PIXEL, &StepOptions::default(), 15.0, 3.0).unwrap();
    assert_eq!(entries.len(), 2, "two GBs, at x = 20 and 40 µm");
    for entry in &entries {
        let step = entry.result.as_ref().unwrap();
        approx::assert_relative_eq!(step.d_gb_over_delta_m_s, g, max_relative = 0.01);
    }
    approx::assert_relative_eq!(dist.unwrap().median, g, max_relative = 0.01);
}
