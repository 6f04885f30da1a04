//! The erfc fit of eqn 4 (paper 003): exact recovery from noiseless data, recovery within the reported
//! uncertainty from noisy data, calibrated uncertainties, σ ∝ 1/√N, either scan direction, bad input.

use gbion_transport::fit::FitError;
use gbion_transport::fit::erfc::{ErfcProfile, fit_erfc};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Paper 003, Fig. 4a: D_eff = 8.0e-9 cm²/s = 8.0e-13 m²/s after 59 h; liquid level offset 0.3 mm.
fn paper_like_profile() -> ErfcProfile {
    ErfcProfile {
        d_m2_s: 8.0e-13,
        t_s: 59.0 * 3600.0,
        c_s: 0.9,
        c_0: 0.0759,
        x0_m: 0.3e-3,
        source_at_low_x: true,
    }
}

fn positions(n: usize) -> Vec<f64> {
    (0..n).map(|i| -1.0e-3 + 5.0e-3 * i as f64 / (n - 1) as f64).collect()
}

fn noisy(profile: &ErfcProfile, x: &[f64], noise: f64, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let normal = Normal::new(0.0, noise).unwrap();
    x.iter().map(|&xi| profile.eval(xi) + normal.sample(&mut rng)).collect()
}

#[test]
fn noiseless_profile_is_recovered_exactly() {
    let truth = paper_like_profile();
    let x = positions(200);
    let c: Vec<f64> = x.iter().map(|&xi| truth.eval(xi)).collect();
    let fit = fit_erfc(&x, &c, None, truth.t_s).unwrap();
    approx::assert_relative_eq!(fit.profile.d_m2_s, truth.d_m2_s, max_relative = 1e-6);
    approx::assert_relative_eq!(fit.profile.c_s, truth.c_s, max_relative = 1e-8);
    approx::assert_relative_eq!(fit.profile.c_0, truth.c_0, max_relative = 1e-6);
    approx::assert_abs_diff_eq!(fit.profile.x0_m, truth.x0_m, epsilon = 1e-9);
}

#[test]
fn reversed_scan_direction_is_detected() {
    let truth = ErfcProfile {
        source_at_low_x: false,
        x0_m: 3.0e-3,
        ..paper_like_profile()
    };
    let x = positions(150);
    let c: Vec<f64> = x.iter().map(|&xi| truth.eval(xi)).collect();
    let fit = fit_erfc(&x, &c, None, truth.t_s).unwrap();
    assert!(!fit.profile.source_at_low_x);
    approx::assert_relative_eq!(fit.profile.d_m2_s, truth.d_m2_s, max_relative = 1e-6);
    approx::assert_abs_diff_eq!(fit.profile.x0_m, truth.x0_m, epsilon = 1e-9);
}

#[test]
fn noisy_fits_land_within_their_reported_uncertainty() {
    let truth = paper_like_profile();
    let x = positions(120);
    let mut pulls = Vec::new();
    for seed in 0..24 {
        let c = noisy(&truth, &x, 0.02, seed);
        let fit = fit_erfc(&x, &c, None, truth.t_s).unwrap();
        let z = [
            (fit.profile.d_m2_s - truth.d_m2_s) / fit.d_err_m2_s,
            (fit.profile.x0_m - truth.x0_m) / fit.x0_err_m,
            (fit.profile.c_s - truth.c_s) / fit.c_s_err,
            (fit.profile.c_0 - truth.c_0) / fit.c_0_err,
        ];
        assert!(z.iter().all(|v| v.abs() < 3.5), "seed {seed}: pulls {z:?}");
        // Unit weights: χ²_red estimates the noise variance.
        let noise = fit.reduced_chi2.sqrt();
        assert!((0.016..0.024).contains(&noise), "seed {seed}: residual rms {noise}");
        pulls.push(z[0]);
    }
    // Calibration: the pulls of D scatter with unit variance (24 samples: ±0.5 is ≈ 2.5σ of the estimate).
    let var = pulls.iter().map(|z| z * z).sum::<f64>() / pulls.len() as f64;
    assert!((0.5..1.6).contains(&var), "pull variance {var}");
}

#[test]
fn uncertainty_scales_as_one_over_sqrt_n() {
    let truth = paper_like_profile();
    let mean_sigma = |n: usize| {
        let x = positions(n);
        (0..8)
            .map(|seed| {
                fit_erfc(&x, &noisy(&truth, &x, 0.02, 100 + seed), None, truth.t_s)
                    .unwrap()
                    .d_err_m2_s
            })
            .sum::<f64>()
            / 8.0
    };
    let ratio = mean_sigma(100) / mean_sigma(400);
    assert!((1.7..2.3).contains(&ratio), "σ(100)/σ(400) = {ratio}, expected ≈ 2");
}

#[test]
fn per_point_sigmas_weight_the_fit() {
    // Counting noise: σ_i known per point; the fit with weights recovers D within its uncertainty.
    let truth = paper_like_profile();
    let x = positions(150);
    let sigma: Vec<f64> = x.iter().map(|&xi| 0.005 + 0.02 * truth.eval(xi)).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let c: Vec<f64> = x
        .iter()
        .zip(&sigma)
        .map(|(&xi, &s)| truth.eval(xi) + Normal::new(0.0, s).unwrap().sample(&mut rng))
        .collect();
    let fit = fit_erfc(&x, &c, Some(&sigma), truth.t_s).unwrap();
    assert!((fit.profile.d_m2_s - truth.d_m2_s).abs() < 3.0 * fit.d_err_m2_s);
    assert!((0.6..1.5).contains(&fit.reduced_chi2), "χ²_red {}", fit.reduced_chi2);
}

#[test]
fn bad_input_is_an_error_not_nan() {
    let x = positions(10);
    let c = vec![0.5; 10];
    assert!(matches!(
        fit_erfc(&x[..4], &c[..4], None, 1.0),
        Err(FitError::TooFewPoints { .. })
    ));
    assert!(matches!(fit_erfc(&x, &c, None, 0.0), Err(FitError::BadInput(_))));
    assert!(matches!(fit_erfc(&x, &c[..9], None, 1.0), Err(FitError::BadInput(_))));
    let mut bad = c.clone();
    bad[3] = f64::NAN;
    assert!(matches!(fit_erfc(&x, &bad, None, 1.0), Err(FitError::BadInput(_))));
    assert!(matches!(
        fit_erfc(&x, &c, Some(&[0.0; 10]), 1.0),
        Err(FitError::BadInput(_))
    ));
}

#[test]
fn a_far_outlying_position_gives_an_error_or_a_finite_fit_never_a_panic() {
    // A line scan with one position typed 1e20 µm (or 1e300 m) among points 5 µm apart: the scaled
    // fit's parameters run off to infinity, and erfc(∞/∞) used to panic inside puruspe.
    let c = [0.34, 0.33, 0.32, 0.30, 0.30, 0.29];
    for far in [1e14, 1e300] {
        let x = [far, 215e-6, 220e-6, 225e-6, 230e-6, 235e-6];
        if let Ok(fit) = fit_erfc(&x, &c, None, 59.0 * 3600.0) {
            let p = fit.profile;
            let values = [
                p.d_m2_s,
                p.c_s,
                p.c_0,
                p.x0_m,
                fit.d_err_m2_s,
                fit.x0_err_m,
                fit.reduced_chi2,
            ];
            assert!(values.iter().all(|v| v.is_finite()), "{far}: {fit:?}");
        }
    }
}
