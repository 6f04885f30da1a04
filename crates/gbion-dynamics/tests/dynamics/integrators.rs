//! NVE energy conservation and its Δt² scaling; canonical kinetic-energy statistics of Langevin (BAOAB)
//! and Nosé–Hoover chain dynamics; fixed atoms.

use crate::common::{argon_tapered, block_stats, fcc};
use gbion_atoms::structure::tags;
use gbion_dynamics::units::KB_EV_K;
use gbion_dynamics::velocities::maxwell_boltzmann;
use gbion_dynamics::{Engine, Integrator, MdState, Thermostat};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Run `time_fs` of NVE from a 40 K argon solid (32 atoms) with step `dt`; returns the conserved energy
/// sampled every step.
fn nve_energies(dt: f64, time_fs: f64) -> Vec<f64> {
    let potential = argon_tapered(6.0, 7.5);
    let mut engine = Engine::new(&potential, 1.0);
    let mut s = fcc("Ar", 5.3, 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    maxwell_boltzmann(&mut s, 80.0, true, &mut rng).unwrap();
    let mut state = MdState::new(s, &mut engine, false).unwrap();
    let mut integrator = Integrator::new(dt, Thermostat::None);
    let steps = (time_fs / dt).round() as usize;
    let mut energies = vec![integrator.conserved(&state)];
    for _ in 0..steps {
        integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
        energies.push(integrator.conserved(&state));
    }
    energies
}

/// RMS deviation of the conserved energy from its initial value, and the fitted linear drift (eV/fs).
fn fluctuation_and_drift(e: &[f64], dt: f64) -> (f64, f64) {
    let e0 = e[0];
    let rms = (e.iter().map(|x| (x - e0).powi(2)).sum::<f64>() / e.len() as f64).sqrt();
    let n = e.len() as f64;
    let tm = (n - 1.0) / 2.0 * dt;
    let em = e.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (k, x) in e.iter().enumerate() {
        let t = k as f64 * dt - tm;
        sxy += t * (x - em);
        sxx += t * t;
    }
    (rms, sxy / sxx)
}

/// Velocity Verlet: the energy error is O(Δt²), and there is no secular drift. Measured (32 atoms, 80 K
/// start, 4 ps): RMS error 4 fs: ≈ 4× that of 2 fs; drift below 1e-6 eV/atom/ps.
#[test]
fn nve_energy_error_scales_as_dt_squared_without_drift() {
    let time = 4000.0;
    let (rms4, drift4) = fluctuation_and_drift(&nve_energies(4.0, time), 4.0);
    let (rms2, drift2) = fluctuation_and_drift(&nve_energies(2.0, time), 2.0);
    let (rms1, _) = fluctuation_and_drift(&nve_energies(1.0, time), 1.0);
    let ratio42 = rms4 / rms2;
    let ratio21 = rms2 / rms1;
    eprintln!(
        "NVE rms error: 4 fs {rms4:.3e}, 2 fs {rms2:.3e}, 1 fs {rms1:.3e} eV; ratios {ratio42:.3} {ratio21:.3}; drift 4 fs {drift4:.3e}, 2 fs {drift2:.3e} eV/fs"
    );
    assert!((3.0..5.3).contains(&ratio42), "4 fs / 2 fs = {ratio42}");
    assert!((3.0..5.3).contains(&ratio21), "2 fs / 1 fs = {ratio21}");
    // Drift per atom per ps, 32 atoms.
    let per_atom_ps = drift2.abs() * 1000.0 / 32.0;
    assert!(per_atom_ps < 1e-6, "drift {per_atom_ps:e} eV/atom/ps");
}

/// Kinetic-energy samples of a thermostatted run (every `every` steps after `equilibrate` steps).
fn kinetic_samples(thermostat: Thermostat, temperature: f64, steps: usize, seed: u64) -> (Vec<f64>, usize) {
    let potential = argon_tapered(6.0, 7.5);
    let mut engine = Engine::new(&potential, 1.0);
    let mut s = fcc("Ar", 5.3, 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let conserves = thermostat.conserves_momentum();
    maxwell_boltzmann(&mut s, temperature, conserves, &mut rng).unwrap();
    let mut state = MdState::new(s, &mut engine, false).unwrap();
    let mut integrator = Integrator::new(5.0, thermostat);
    let dof = integrator.dof(&state);
    let mut samples = Vec::new();
    for k in 0..steps {
        integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
        if k >= 2000 && k % 5 == 0 {
            samples.push(state.kinetic_energy());
        }
    }
    (samples, dof)
}

/// Canonical ensemble: ⟨K⟩ = N_f k_B T/2 and Var K = N_f (k_B T)²/2. Checked within 4 block-averaging
/// standard errors for the mean, and 15 % for the variance (its relative error with ~1000 independent
/// samples is ≈ 5 %).
fn check_canonical(name: &str, samples: &[f64], dof: usize, temperature: f64) {
    let kt = KB_EV_K * temperature;
    let expected_mean = 0.5 * dof as f64 * kt;
    let expected_var = 0.5 * dof as f64 * kt * kt;
    let (mean, err, var) = block_stats(samples, 20);
    eprintln!(
        "{name}: <K> = {mean:.5} ± {err:.5} eV (exact {expected_mean:.5}), Var K = {var:.3e} (exact {expected_var:.3e}), ratio {:.3}",
        var / expected_var
    );
    assert!(
        (mean - expected_mean).abs() < 4.0 * err.max(1e-4 * expected_mean),
        "{name} mean"
    );
    assert!((var / expected_var - 1.0).abs() < 0.15, "{name} variance");
}

#[test]
fn langevin_gives_canonical_kinetic_energy() {
    let t = 40.0;
    let (samples, dof) = kinetic_samples(Thermostat::langevin(t, 200.0), t, 40_000, 11);
    assert_eq!(dof, 96);
    check_canonical("Langevin BAOAB", &samples, dof, t);
}

#[test]
fn nose_hoover_chain_gives_canonical_kinetic_energy() {
    let t = 40.0;
    let (samples, dof) = kinetic_samples(Thermostat::nose_hoover(t, 200.0, 3), t, 40_000, 12);
    assert_eq!(dof, 93);
    check_canonical("Nosé–Hoover chain", &samples, dof, t);
}

/// The Nosé–Hoover conserved quantity stays constant (it drifts only by integration error).
#[test]
fn nose_hoover_conserved_quantity_is_conserved() {
    let potential = argon_tapered(6.0, 7.5);
    let mut engine = Engine::new(&potential, 1.0);
    let mut s = fcc("Ar", 5.3, 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    maxwell_boltzmann(&mut s, 10.0, true, &mut rng).unwrap();
    let mut state = MdState::new(s, &mut engine, false).unwrap();
    let mut integrator = Integrator::new(2.0, Thermostat::nose_hoover(60.0, 100.0, 3));
    let e0 = integrator.conserved(&state);
    let k0 = state.kinetic_energy();
    let mut worst: f64 = 0.0;
    for _ in 0..2000 {
        integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
        worst = worst.max((integrator.conserved(&state) - e0).abs());
    }
    let heated = state.kinetic_energy() - k0;
    eprintln!("NHC: kinetic energy change {heated:.4} eV, worst conserved deviation {worst:.2e} eV");
    assert!(heated > 0.05, "the thermostat heats 10 K → 60 K");
    assert!(worst < 2e-3 * heated, "conserved deviation {worst}");
}

/// Fixed atoms do not move; the rest do.
#[test]
fn fixed_atoms_do_not_move() {
    let potential = argon_tapered(6.0, 7.5);
    let mut engine = Engine::new(&potential, 1.0);
    let mut s = fcc("Ar", 5.3, 2);
    let fixed: Vec<i64> = (0..s.len()).map(|i| i64::from(i % 4 == 0)).collect();
    s.set_int_tag(tags::FIXED, fixed.clone()).unwrap();
    let start = s.positions.clone();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    maxwell_boltzmann(&mut s, 50.0, true, &mut rng).unwrap();
    let mut state = MdState::new(s, &mut engine, false).unwrap();
    let mut integrator = Integrator::new(2.0, Thermostat::langevin(50.0, 100.0));
    for _ in 0..200 {
        integrator.step(&mut state, &mut engine, &mut rng, false).unwrap();
    }
    for i in 0..start.len() {
        let moved = state.structure.positions[i] != start[i];
        assert_eq!(moved, fixed[i] == 0, "atom {i}");
    }
}
