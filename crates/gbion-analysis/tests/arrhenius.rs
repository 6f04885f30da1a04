//! Arrhenius analysis: an exact set returns its Ea and prefers one line; a two-regime set returns both
//! activation energies and its transition temperature and prefers two; the delta-method 1σ of the 300 K
//! extrapolation matches the scatter of seeded repeats.

use gbion_analysis::arrhenius::{
    ArrheniusError, ArrheniusForm, BOLTZMANN_EV_K, extrapolate, fit_arrhenius, fit_two_regime,
};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

const ROUND_OFF: f64 = 1e-9;

fn arrhenius(prefactor: f64, ea: f64, t: f64) -> f64 {
    prefactor * (-ea / (BOLTZMANN_EV_K * t)).exp()
}

/// 400 to 1000 K in steps of 50 K, in a shuffled order (the fits sort).
fn temperatures() -> Vec<f64> {
    let mut t: Vec<f64> = (0..13).map(|i| 400.0 + 50.0 * i as f64).collect();
    t.swap(0, 7);
    t.swap(3, 11);
    t
}

/// Paper 000-like: Ea 0.45 eV below T_c = 625 K, 0.25 eV above, continuous at T_c.
fn two_regime_value(t: f64) -> f64 {
    let (tc, ea_low, ea_high) = (625.0, 0.45, 0.25);
    let at_tc = arrhenius(1e-2, ea_low, tc);
    let ea = if t < tc { ea_low } else { ea_high };
    at_tc * (-ea / BOLTZMANN_EV_K * (1.0 / t - 1.0 / tc)).exp()
}

#[test]
fn exact_arrhenius_set_returns_its_ea_and_prefers_one_line() {
    let t = temperatures();
    let d: Vec<f64> = t.iter().map(|&t| arrhenius(3e-3, 0.31, t)).collect();
    let fit = fit_arrhenius(&t, &d, None, ArrheniusForm::Plain).unwrap();
    assert!((fit.ea_ev - 0.31).abs() < ROUND_OFF);
    assert!((fit.prefactor / 3e-3 - 1.0).abs() < ROUND_OFF);
    let at_300 = extrapolate(&fit, 300.0);
    assert!((at_300.value / arrhenius(3e-3, 0.31, 300.0) - 1.0).abs() < ROUND_OFF);
    assert!(at_300.err < ROUND_OFF * at_300.value);
    let two = fit_two_regime(&t, &d, None, ArrheniusForm::Plain).unwrap();
    assert!(!two.prefers_two(), "AIC one {} two {}", two.aic_one, two.aic_two);
}

#[test]
fn sigma_t_form_extrapolates_sigma() {
    // σT = A exp(−Ea/kT): the extrapolation returns σ, not σT.
    let t = temperatures();
    let sigma: Vec<f64> = t.iter().map(|&t| arrhenius(5e4, 0.4, t) / t).collect();
    let fit = fit_arrhenius(&t, &sigma, None, ArrheniusForm::TimesT).unwrap();
    assert!((fit.ea_ev - 0.4).abs() < ROUND_OFF);
    let at_300 = extrapolate(&fit, 300.0);
    assert!((at_300.value / (arrhenius(5e4, 0.4, 300.0) / 300.0) - 1.0).abs() < ROUND_OFF);
}

#[test]
fn two_regime_set_returns_both_energies_and_the_transition() {
    let t = temperatures();
    let d: Vec<f64> = t.iter().map(|&t| two_regime_value(t)).collect();
    let two = fit_two_regime(&t, &d, None, ArrheniusForm::Plain).unwrap();
    assert!(two.prefers_two(), "AIC one {} two {}", two.aic_one, two.aic_two);
    assert_eq!(two.n_low, 5, "400–600 K below the transition");
    assert!((two.low.ea_ev - 0.45).abs() < ROUND_OFF && (two.high.ea_ev - 0.25).abs() < ROUND_OFF);
    assert!((two.transition_k - 625.0).abs() < 1e-6, "T_c = {}", two.transition_k);
}

#[test]
fn two_regime_fit_with_noise_and_errors_finds_the_transition() {
    let t: Vec<f64> = (0..25).map(|i| 400.0 + 25.0 * i as f64).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let noise: Normal<f64> = Normal::new(0.0, 0.03).unwrap();
    let d: Vec<f64> = t
        .iter()
        .map(|&t| two_regime_value(t) * noise.sample(&mut rng).exp())
        .collect();
    let errors: Vec<f64> = d.iter().map(|d| 0.03 * d).collect();
    let two = fit_two_regime(&t, &d, Some(&errors), ArrheniusForm::Plain).unwrap();
    assert!(two.prefers_two());
    assert!((two.transition_k - 625.0).abs() < 50.0, "T_c = {}", two.transition_k);
    assert!((two.low.ea_ev - 0.45).abs() < 3.0 * two.low.ea_err_ev);
    assert!((two.high.ea_ev - 0.25).abs() < 3.0 * two.high.ea_err_ev);
}

#[test]
fn extrapolation_error_matches_the_scatter_of_repeats() {
    let t = temperatures();
    let truth: Vec<f64> = t.iter().map(|&t| arrhenius(1e-3, 0.3, t)).collect();
    let relative = 0.05;
    let noise: Normal<f64> = Normal::new(0.0, relative).unwrap();
    let errors: Vec<f64> = truth.iter().map(|d| relative * d).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let repeats = 2000;
    let (mut sum, mut sum_sq, mut stated) = (0.0, 0.0, 0.0);
    for _ in 0..repeats {
        let d: Vec<f64> = truth.iter().map(|d| d * noise.sample(&mut rng).exp()).collect();
        let errors: Vec<f64> = errors.iter().zip(&d).zip(&truth).map(|((e, d), t)| e * d / t).collect();
        let fit = fit_arrhenius(&t, &d, Some(&errors), ArrheniusForm::Plain).unwrap();
        let at_300 = extrapolate(&fit, 300.0);
        let ln = at_300.value.ln();
        sum += ln;
        sum_sq += ln * ln;
        stated += at_300.err / at_300.value;
    }
    let n = repeats as f64;
    let scatter = (sum_sq / n - (sum / n).powi(2)).sqrt();
    let stated = stated / n;
    // The standard deviation of 2000 samples is known to ±1.6 %; allow 6 %.
    assert!(
        (scatter / stated - 1.0).abs() < 0.06,
        "scatter {scatter} vs stated {stated}"
    );
}

#[test]
fn too_few_points_for_two_regimes_is_an_error() {
    let t = [400.0, 500.0, 600.0, 700.0, 800.0];
    let d: Vec<f64> = t.iter().map(|&t| arrhenius(1e-3, 0.3, t)).collect();
    assert!(matches!(
        fit_two_regime(&t, &d, None, ArrheniusForm::Plain),
        Err(ArrheniusError::TooFewPoints { needed: 6, got: 5 })
    ));
    assert!(matches!(
        fit_two_regime(&t, &d[..4], None, ArrheniusForm::Plain),
        Err(ArrheniusError::LengthMismatch { .. })
    ));
}
