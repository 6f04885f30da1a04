//! Arrhenius fits: exact recovery from noiseless data, recovery within the reported uncertainty from noisy
//! data (with a coverage check over many seeds), the σT form, and paper 003's Haven ratio from fitted
//! prefactors.

use gbion_transport::arrhenius::*;
use gbion_transport::models::haven_ratio_from_prefactors;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

const ROUND_OFF: f64 = 1e-10;

fn rel_diff(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Temperatures of paper 003's Fig. 5 range, 22 to 400 °C.
fn temperatures() -> Vec<f64> {
    (0..10).map(|i| 295.15 + 42.0 * i as f64).collect()
}

fn arrhenius(d0: f64, ea: f64, t: f64) -> f64 {
    d0 * (-ea / (BOLTZMANN_EV_K * t)).exp()
}

/// Values with multiplicative Gaussian noise of relative size `rel` (so σ(ln D) ≈ rel).
fn noisy(values: &[f64], rel: f64, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let noise = Normal::new(0.0, rel).unwrap();
    values.iter().map(|v| v * noise.sample(&mut rng).exp()).collect()
}

#[test]
fn line_fit_recovers_an_exact_line_and_known_covariance() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let y: Vec<f64> = x.iter().map(|x| 2.0 - 0.5 * x).collect();
    let sigma = [0.1; 4];
    let fit = fit_line(&x, &y, Some(&sigma)).unwrap();
    assert!((fit.slope + 0.5).abs() < ROUND_OFF && (fit.intercept - 2.0).abs() < ROUND_OFF);
    // Closed form for equal σ: var(b) = σ²/Σ(x−x̄)² = 0.01/5, var(a) = σ²Σx²/(nΣ(x−x̄)²) = 0.01·30/20,
    // cov(a, b) = −x̄ var(b).
    assert!(rel_diff(fit.covariance[1][1], 0.01 / 5.0) < ROUND_OFF);
    assert!(rel_diff(fit.covariance[0][0], 0.01 * 30.0 / 20.0) < ROUND_OFF);
    assert!(rel_diff(fit.covariance[0][1], -2.5 * 0.01 / 5.0) < ROUND_OFF);
    assert!(fit.chi2 < ROUND_OFF && fit.dof == 2);
}

#[test]
fn unweighted_line_fit_scales_by_the_scatter() {
    // Residuals ±1 alternate: χ² = 4 with n − 2 = 2, so s² = 2 and var(b) = 2/Σ(x−x̄)² = 2/5.
    let x = [1.0, 2.0, 3.0, 4.0];
    let y = [1.0, 3.0, 1.0, 3.0];
    let fit = fit_line(&x, &y, None).unwrap();
    let resid: Vec<f64> = x
        .iter()
        .zip(&y)
        .map(|(x, y)| y - fit.intercept - fit.slope * x)
        .collect();
    let chi2: f64 = resid.iter().map(|r| r * r).sum();
    assert!(rel_diff(fit.chi2, chi2) < ROUND_OFF);
    assert!(rel_diff(fit.covariance[1][1], chi2 / 2.0 / 5.0) < ROUND_OFF);
}

#[test]
fn exact_arrhenius_data_is_recovered_to_round_off() {
    let t = temperatures();
    let d: Vec<f64> = t.iter().map(|&t| arrhenius(0.048, 0.43, t)).collect();
    let fit = fit_arrhenius(&t, &d, None, ArrheniusForm::Plain).unwrap();
    assert!(rel_diff(fit.ea_ev, 0.43) < ROUND_OFF);
    assert!(rel_diff(fit.prefactor, 0.048) < 1e-9);
    let p = fit.predict(300.0, 1.0);
    assert!(rel_diff(p.value, arrhenius(0.048, 0.43, 300.0)) < 1e-9);
}

#[test]
fn noisy_data_is_recovered_within_the_reported_uncertainty() {
    let t = temperatures();
    let exact: Vec<f64> = t.iter().map(|&t| arrhenius(6.6e-2, 0.38, t)).collect();
    let rel = 0.1;
    let (mut ea_within_1sigma, mut band_covers) = (0, 0);
    let trials = 400;
    for seed in 0..trials {
        let d = noisy(&exact, rel, seed);
        let errors: Vec<f64> = d.iter().map(|v| v * rel).collect();
        let fit = fit_arrhenius(&t, &d, Some(&errors), ArrheniusForm::Plain).unwrap();
        assert!(
            (fit.ea_ev - 0.38).abs() < 5.0 * fit.ea_err_ev,
            "seed {seed}: {} ± {}",
            fit.ea_ev,
            fit.ea_err_ev
        );
        if (fit.ea_ev - 0.38).abs() < fit.ea_err_ev {
            ea_within_1sigma += 1;
        }
        let p = fit.predict(250.0, 1.0);
        if (p.lower..=p.upper).contains(&arrhenius(6.6e-2, 0.38, 250.0)) {
            band_covers += 1;
        }
    }
    // A correct 1σ error covers the truth in 68.3 % of trials; ±3 binomial σ over 400 trials is ±7 %.
    for (name, hits) in [("Ea", ea_within_1sigma), ("band at 250 K", band_covers)] {
        let coverage = hits as f64 / trials as f64;
        assert!((coverage - 0.683).abs() < 0.07, "{name}: 1σ coverage {coverage}");
    }
}

#[test]
fn sigma_t_form_recovers_conductivity_parameters() {
    // σ = (A/T) exp(−Ea/kT): the σT form gives A and Ea exactly; the plain form a biased Ea.
    let t = temperatures();
    let (a, ea) = (2.0e3, 0.35);
    let sigma: Vec<f64> = t.iter().map(|&t| arrhenius(a, ea, t) / t).collect();
    let fit = fit_arrhenius(&t, &sigma, None, ArrheniusForm::TimesT).unwrap();
    assert!(rel_diff(fit.ea_ev, ea) < ROUND_OFF);
    assert!(rel_diff(fit.prefactor, a) < 1e-9);
    assert!(rel_diff(fit.predict(400.0, 1.0).value, arrhenius(a, ea, 400.0) / 400.0) < 1e-9);
    let plain = fit_arrhenius(&t, &sigma, None, ArrheniusForm::Plain).unwrap();
    assert!(
        plain.ea_ev < ea - 0.01,
        "ignoring the 1/T lowers the apparent Ea by about k_B T̄"
    );
}

#[test]
fn paper_003_haven_ratio_from_fitted_prefactors() {
    // (l/δ)D*_gb and (l/δ)D_σ,gb with Ea = 0.43 eV and prefactors 0.048 and 0.20 cm²/s (paper 003 Fig. 5c):
    // fitting noisy synthetic data recovers the Haven ratio 0.24 within its propagated uncertainty.
    let t = temperatures();
    let tracer = noisy(
        &t.iter().map(|&t| arrhenius(0.048, 0.43, t)).collect::<Vec<_>>(),
        0.05,
        7,
    );
    let sigma = noisy(
        &t.iter().map(|&t| arrhenius(0.20, 0.43, t)).collect::<Vec<_>>(),
        0.05,
        8,
    );
    let fit_tracer = fit_arrhenius(&t, &tracer, None, ArrheniusForm::Plain).unwrap();
    let fit_sigma = fit_arrhenius(&t, &sigma, None, ArrheniusForm::Plain).unwrap();
    assert!((fit_tracer.ea_ev - fit_sigma.ea_ev).abs() < 3.0 * fit_tracer.ea_err_ev.hypot(fit_sigma.ea_err_ev));
    let h = haven_ratio_from_prefactors(fit_tracer.prefactor, fit_sigma.prefactor).unwrap();
    let h_err = h * (fit_tracer.line.intercept_err().hypot(fit_sigma.line.intercept_err()));
    assert!((h - 0.24).abs() < 3.0 * h_err, "H_R = {h} ± {h_err}");
}

#[test]
fn bad_inputs_are_errors() {
    assert_eq!(
        fit_line(&[1.0, 2.0], &[1.0, 2.0], None),
        Err(ArrheniusError::TooFewPoints { needed: 3, got: 2 })
    );
    assert_eq!(
        fit_line(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], None),
        Err(ArrheniusError::Degenerate)
    );
    assert!(matches!(
        fit_line(&[1.0, 2.0], &[1.0], None),
        Err(ArrheniusError::LengthMismatch { .. })
    ));
    assert!(matches!(
        fit_line(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0], None),
        Err(ArrheniusError::NotFinite { .. })
    ));
    assert!(matches!(
        fit_line(&[1.0, 2.0], &[1.0, 2.0], Some(&[0.1, 0.0])),
        Err(ArrheniusError::NotPositive { index: 1, .. })
    ));
    let e = fit_arrhenius(&[300.0, 400.0, 500.0], &[1e-8, -1e-9, 1e-7], None, ArrheniusForm::Plain).unwrap_err();
    assert_eq!(
        e,
        ArrheniusError::NotPositive {
            index: 1,
            what: "value",
            value: -1e-9
        }
    );
    assert!(fit_arrhenius(&[300.0, 0.0, 500.0], &[1e-8, 1e-9, 1e-7], None, ArrheniusForm::Plain).is_err());
}
