//! Fitting: the loss gradient against central differences, the linear fit recovering a known MTP from
//! configurations it labelled, the nonlinear fit reducing the loss from perturbed radial coefficients,
//! bit-identical resume from a checkpoint, and per-species reference energies.

use gbion_atoms::{Cell, Element, Structure, Vec3};
use gbion_learn::fit::{FitData, LossWeights, error_metrics, fit_linear, initial_parameters, loss, loss_and_gradient};
use gbion_learn::nonlinear::{FitCheckpoint, NonlinearOptions, fit_nonlinear};
use gbion_learn::pair_start::pair_start;
use gbion_learn::training::{Configuration, TrainingSet};
use gbion_potentials::mtp::{Mtp, MtpParameters};
use gbion_potentials::{Request, evaluate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::Path;

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

/// The level-8 Zr–O reference MTP of gbion-potentials' fixtures (the "teacher").
fn teacher() -> Mtp {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../gbion-potentials/tests/fixtures/mtp/potentials/l08_2sp.mtp");
    Mtp::read(&path).unwrap().with_species(elements(&["Zr", "O"])).unwrap()
}

/// A rock-salt-like Zr–O cell of 32 sites (about a tenth of them of the other species) with random
/// displacements, size and shear.
fn random_configuration(seed: u64) -> Structure {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let a = 2.3 * (1.0 + 0.04 * (rng.random::<f64>() - 0.5));
    let shear = 0.1 * (rng.random::<f64>() - 0.5);
    let cell = Cell::periodic([[4.0 * a, 0.0, 0.0], [shear, 4.0 * a, 0.0], [0.0, shear, 2.0 * a]]).unwrap();
    let mut kinds = Vec::new();
    let mut positions: Vec<Vec3> = Vec::new();
    for i in 0..4 {
        for j in 0..4 {
            for k in 0..2 {
                // A few sites of the other species, so compositions differ between configurations.
                let flip = rng.random::<f64>() < 0.1;
                kinds.push(if ((i + j + k) % 2 == 0) != flip { "Zr" } else { "O" });
                let f = [i as f64 / 4.0, j as f64 / 4.0, k as f64 / 2.0];
                let r = cell.to_cartesian(f);
                positions.push(std::array::from_fn(|d| r[d] + 0.25 * (rng.random::<f64>() - 0.5)));
            }
        }
    }
    Structure::new(cell, elements(&kinds), positions).unwrap()
}

/// `count` configurations labelled by `mtp` (energy, forces, stress).
fn labelled_set(mtp: &Mtp, count: usize, seed: u64) -> TrainingSet {
    let configurations = (0..count)
        .map(|k| {
            let mut s = random_configuration(seed + k as u64);
            let out = evaluate(mtp, &s, Request::EFS).unwrap();
            s.results.energy = Some(out.energy);
            s.results.forces = out.forces;
            s.results.stress = out.stress;
            Configuration::from_structure(s, format!("config {k}")).unwrap()
        })
        .collect();
    TrainingSet { configurations }
}

/// The teacher with its radial coefficients multiplied by (1 + δ), δ uniform in ±`spread`.
fn perturbed_radial(mtp: &Mtp, spread: f64, seed: u64) -> Mtp {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut theta = mtp.parameter_vector();
    for t in &mut theta[..mtp.parameter_offsets().species] {
        *t *= 1.0 + spread * (rng.random::<f64>() - 0.5);
    }
    mtp.with_parameter_vector(&theta).unwrap()
}

#[test]
fn loss_gradient_matches_central_differences() {
    let teacher = teacher();
    let mut set = labelled_set(&teacher, 3, 1);
    // Give the configurations different weights, and drop the stress of one and the forces of another.
    set.configurations[0].weight = 2.0;
    set.configurations[1].energy_weight = 0.5;
    set.configurations[1].stress = None;
    set.configurations[2].forces = None;
    let student = perturbed_radial(&teacher, 0.2, 2);
    let weights = LossWeights {
        regularization: 1e-6,
        ..LossWeights::default()
    };
    let data = FitData::new(&set, &student).unwrap();
    let (value, grad) = loss_and_gradient(&student, &data, &weights).unwrap();
    assert!((value - loss(&student, &data, &weights).unwrap()).abs() < 1e-14 * value);
    let theta = student.parameter_vector();
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for p in 0..theta.len() {
        let h = 1e-6 * theta[p].abs().max(1e-3);
        let at = |delta: f64| {
            let mut t = theta.clone();
            t[p] += delta;
            loss(&student.with_parameter_vector(&t).unwrap(), &data, &weights).unwrap()
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (numeric - grad[p]).abs() < 1e-6 * scale + 1e-5 * numeric.abs(),
            "∂L/∂θ[{p}] = {} vs {numeric}",
            grad[p]
        );
    }
}

#[test]
fn linear_fit_recovers_a_known_potential() {
    let teacher = teacher();
    let set = labelled_set(&teacher, 8, 10);
    let offsets = teacher.parameter_offsets();
    let mut theta = teacher.parameter_vector();
    theta[offsets.species..].iter_mut().for_each(|t| *t = 0.0);
    let student = teacher.with_parameter_vector(&theta).unwrap();
    let data = FitData::new(&set, &student).unwrap();
    let fitted = fit_linear(&student, &data, &LossWeights::default()).unwrap();
    let errors = error_metrics(&fitted, &data).unwrap();
    assert!(errors.energy_rmse_meV_atom < 1e-6, "{errors:?}");
    assert!(
        errors.force_rmse_eV_A < 1e-9 && errors.stress_rmse_GPa < 1e-7,
        "{errors:?}"
    );
    // The level-8 basis is independent on these configurations, so the coefficients come back too.
    let recovered = fitted.parameter_vector();
    let truth = teacher.parameter_vector();
    for p in offsets.species..offsets.len {
        assert!(
            (recovered[p] - truth[p]).abs() < 1e-6 * truth[p].abs().max(1.0),
            "θ[{p}] = {} vs {}",
            recovered[p],
            truth[p]
        );
    }
    // An independent validation set is reproduced as well.
    let valid = labelled_set(&teacher, 3, 100);
    let valid_errors = error_metrics(&fitted, &FitData::new(&valid, &fitted).unwrap()).unwrap();
    assert!(valid_errors.force_rmse_eV_A < 1e-8, "{valid_errors:?}");
}

#[test]
fn nonlinear_fit_lowers_the_loss_and_resumes_bit_identically() {
    let teacher = teacher();
    let set = labelled_set(&teacher, 6, 20);
    let student = perturbed_radial(&teacher, 0.3, 3);
    let weights = LossWeights::default();
    let data = FitData::new(&set, &student).unwrap();
    let student = fit_linear(&student, &data, &weights).unwrap();
    let options = NonlinearOptions {
        max_iterations: 40,
        checkpoint_every: 10,
        ..NonlinearOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let whole_path = dir.path().join("whole.json");
    let (whole, report) = fit_nonlinear(
        &student,
        &data,
        &weights,
        &options,
        Some(&whole_path),
        false,
        &mut |_, _| {},
    )
    .unwrap();
    assert!(
        report.final_loss < 0.05 * report.initial_loss,
        "loss {} → {}",
        report.initial_loss,
        report.final_loss
    );
    assert_eq!(FitCheckpoint::read(&whole_path).unwrap().losses.len(), 4);
    // Stop after the first segment, then resume to the end.
    let split_path = dir.path().join("split.json");
    let first = NonlinearOptions {
        max_iterations: 20,
        ..options
    };
    fit_nonlinear(
        &student,
        &data,
        &weights,
        &first,
        Some(&split_path),
        false,
        &mut |_, _| {},
    )
    .unwrap();
    let (resumed, _) = fit_nonlinear(
        &student,
        &data,
        &weights,
        &options,
        Some(&split_path),
        true,
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(resumed.parameter_vector(), whole.parameter_vector());
    // A checkpoint of another problem is refused.
    let other = labelled_set(&teacher, 2, 50);
    let other_data = FitData::new(&other, &student).unwrap();
    let err = fit_nonlinear(
        &student,
        &other_data,
        &weights,
        &options,
        Some(&split_path),
        true,
        &mut |_, _| {},
    );
    assert!(err.unwrap_err().to_string().contains("another fit"));
}

#[test]
fn reference_energies_are_recovered_from_composition() {
    let species = elements(&["Zr", "O"]);
    let (e_zr, e_o) = (-8.5, -4.25);
    let mut configurations = Vec::new();
    for (k, (nzr, no)) in [(2, 3), (1, 1), (4, 2)].into_iter().enumerate() {
        let kinds: Vec<&str> = std::iter::repeat_n("Zr", nzr)
            .chain(std::iter::repeat_n("O", no))
            .collect();
        let positions = (0..kinds.len()).map(|i| [2.0 * i as f64, 0.0, 0.0]).collect();
        let mut s = Structure::new(
            Cell::orthorhombic([30.0, 30.0, 30.0]).unwrap(),
            elements(&kinds),
            positions,
        )
        .unwrap();
        s.results.energy = Some(nzr as f64 * e_zr + no as f64 * e_o);
        configurations.push(Configuration::from_structure(s, format!("c{k}")).unwrap());
    }
    let set = TrainingSet { configurations };
    let e = set.fitted_reference_energies(&species);
    assert!((e[0] - e_zr).abs() < 1e-8 && (e[1] - e_o).abs() < 1e-8, "{e:?}");
    let shifted = set.shifted(&species, &e);
    assert!(shifted.configurations.iter().all(|c| c.energy.abs() < 1e-7));
}

#[test]
fn initial_parameters_give_a_finite_potential_ready_for_a_linear_fit() {
    let untrained = MtpParameters::untrained(8, 2, 1.2, 5.0, 8).unwrap();
    let start = Mtp::new(initial_parameters(&untrained, 7))
        .unwrap()
        .with_species(elements(&["Zr", "O"]))
        .unwrap();
    let set = labelled_set(&teacher(), 6, 30);
    let data = FitData::new(&set, &start).unwrap();
    let fitted = fit_linear(&start, &data, &LossWeights::default()).unwrap();
    let errors = error_metrics(&fitted, &data).unwrap();
    assert!(errors.energy_rmse_meV_atom.is_finite() && errors.force_rmse_eV_A.is_finite());
    // The linear fit is the least-squares optimum: it beats the zero-coefficient start.
    assert!(
        loss(&fitted, &data, &LossWeights::default()).unwrap() < loss(&start, &data, &LossWeights::default()).unwrap()
    );
}

/// A pair potential that lies in the MTP's radial basis: a level-8 Zr–O MTP whose only non-zero moment
/// coefficient is the one on M_{0,0} (module doc of `gbion_learn::pair_start`), f_0 random.
fn pair_teacher() -> Mtp {
    let untrained = MtpParameters::untrained(8, 2, 1.8, 5.0, 8).unwrap();
    let mut p = initial_parameters(&untrained, 7);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let (size, count) = (p.radial_basis_size, p.radial_funcs_count);
    let radial = p.radial_coeffs.as_mut().unwrap();
    for pair in 0..4 {
        for k in 0..size {
            radial[pair * count * size + k] = 0.5 * (rng.random::<f64>() - 0.5);
        }
    }
    p.species_coeffs = Some(vec![-3.0, -5.0]);
    let m00 = p.alpha_index_basic.iter().position(|&row| row == [0, 0, 0, 0]).unwrap();
    let k00 = p.alpha_moment_mapping.iter().position(|&m| m == m00).unwrap();
    p.moment_coeffs = Some(
        (0..p.alpha_moment_mapping.len())
            .map(|k| f64::from(u8::from(k == k00)))
            .collect(),
    );
    Mtp::new(p).unwrap().with_species(elements(&["Zr", "O"])).unwrap()
}

#[test]
fn the_pair_start_recovers_a_pair_potential_of_the_radial_basis() {
    let teacher = pair_teacher();
    let set = labelled_set(&teacher, 6, 40);
    let untrained = MtpParameters::untrained(8, 2, 1.8, 5.0, 8).unwrap();
    let random = Mtp::new(initial_parameters(&untrained, 3))
        .unwrap()
        .with_species(elements(&["Zr", "O"]))
        .unwrap();
    let data = FitData::new(&set, &random).unwrap();
    let student = pair_start(&random, &data, &LossWeights::default()).unwrap().unwrap();
    // Each pair is seen from both ends, so only f_ab + f_ba is determined, and only at the distances the set
    // samples (below them the smoothness prior decides): compare E, F, σ on the set and on fresh
    // configurations of the same kind. The prior's bias leaves ~3e-5 eV/Å (forces of ~1 eV/Å; a random
    // start is off by ~1 eV/Å).
    let errors = error_metrics(&student, &data).unwrap();
    assert!(
        errors.force_rmse_eV_A < 1e-4 && errors.energy_rmse_meV_atom < 1e-2,
        "{errors:?}"
    );
    let fresh = labelled_set(&teacher, 4, 400);
    let errors = error_metrics(&student, &FitData::new(&fresh, &student).unwrap()).unwrap();
    assert!(
        errors.force_rmse_eV_A < 3e-4 && errors.energy_rmse_meV_atom < 3e-2,
        "{errors:?}"
    );
    let (size, count) = (8, teacher.parameters().radial_funcs_count);
    let s = student.parameter_vector();
    // The other radial functions are kept from the start.
    let offsets = random.parameter_offsets();
    let r = random.parameter_vector();
    for p in 0..offsets.species {
        if p % (count * size) >= size {
            assert_eq!(s[p], r[p]);
        }
    }
}
