//! Initial velocities from the Maxwell–Boltzmann distribution, kinetic energy and temperature, and the
//! `fixed` tag.
//!
//! Each free atom's velocity component is drawn from a normal distribution of variance k_B T / m
//! (m in amu, v in Å/fs, so σ² = k_B T / (m · MVV_TO_EV)). When no atom is fixed the mass-weighted mean
//! velocity is removed (zero total momentum) and the velocities are scaled so that the instantaneous
//! temperature T = 2K / (N_f k_B) equals the target exactly, as LAMMPS `velocity create ... mom yes` does.
//! N_f counts 3 per free atom, minus 3 when the total momentum is conserved (see [`degrees_of_freedom`]).

use crate::units::{KB_EV_K, MVV_TO_EV};
use crate::{Error, Result};
use gbion_atoms::structure::tags;
use gbion_atoms::{Structure, Vec3};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `true` for atoms that move: those without a non-zero `fixed` tag.
pub fn free_mask(structure: &Structure) -> Vec<bool> {
    match structure.int_tag(tags::FIXED) {
        Some(fixed) => fixed.iter().map(|&f| f == 0).collect(),
        None => vec![true; structure.len()],
    }
}

/// Degrees of freedom N_f: 3 per free atom, less 3 when `momentum_conserved` and no atom is fixed.
pub fn degrees_of_freedom(free: &[bool], momentum_conserved: bool) -> usize {
    let n_free = free.iter().filter(|&&f| f).count();
    let all_free = n_free == free.len();
    (3 * n_free).saturating_sub(if momentum_conserved && all_free && n_free > 1 {
        3
    } else {
        0
    })
}

/// K = ½ Σ m v² (eV) over all atoms (fixed atoms have v = 0).
pub fn kinetic_energy(masses: &[f64], velocities: &[Vec3]) -> f64 {
    0.5 * MVV_TO_EV
        * masses
            .iter()
            .zip(velocities)
            .map(|(m, v)| m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
            .sum::<f64>()
}

/// T = 2K / (N_f k_B) in K (0 when there are no degrees of freedom).
pub fn temperature(kinetic: f64, dof: usize) -> f64 {
    if dof == 0 {
        0.0
    } else {
        2.0 * kinetic / (dof as f64 * KB_EV_K)
    }
}

/// Draw Maxwell–Boltzmann velocities at `temperature_k` for the free atoms (fixed atoms get zero), remove
/// the total momentum when no atom is fixed, and scale to the exact temperature with
/// `degrees_of_freedom(free, momentum_conserved)`.
pub fn maxwell_boltzmann(
    structure: &mut Structure,
    temperature_k: f64,
    momentum_conserved: bool,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<()> {
    if !(temperature_k.is_finite() && temperature_k >= 0.0) {
        return Err(Error::Invalid(format!("temperature {temperature_k} K must be ≥ 0")));
    }
    let free = free_mask(structure);
    let mut v = vec![[0.0; 3]; structure.len()];
    for i in 0..structure.len() {
        if free[i] {
            let sigma = (KB_EV_K * temperature_k / (structure.masses[i] * MVV_TO_EV)).sqrt();
            for vc in v[i].iter_mut() {
                let xi: f64 = StandardNormal.sample(rng);
                *vc = sigma * xi;
            }
        }
    }
    if free.iter().all(|&f| f) && structure.len() > 1 {
        let total_mass: f64 = structure.masses.iter().sum();
        let mut p = [0.0; 3];
        for (m, vi) in structure.masses.iter().zip(&v) {
            for c in 0..3 {
                p[c] += m * vi[c];
            }
        }
        for vi in &mut v {
            for c in 0..3 {
                vi[c] -= p[c] / total_mass;
            }
        }
    }
    let dof = degrees_of_freedom(&free, momentum_conserved);
    let now = temperature(kinetic_energy(&structure.masses, &v), dof);
    if now > 0.0 {
        let factor = (temperature_k / now).sqrt();
        for vi in &mut v {
            *vi = vi.map(|x| x * factor);
        }
    }
    structure.velocities = Some(v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gbion_atoms::{Cell, Element};
    use rand::SeedableRng;

    #[test]
    fn exact_temperature_and_zero_momentum() {
        let n = 50;
        let positions = (0..n).map(|i| [i as f64 * 3.0, 0.0, 0.0]).collect();
        let cell = Cell::orthorhombic([150.0, 10.0, 10.0]).unwrap();
        let mut elements = vec![Element::from_symbol("Li").unwrap(); n];
        elements[3] = Element::from_symbol("Ta").unwrap();
        let mut s = Structure::new(cell, elements, positions).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        maxwell_boltzmann(&mut s, 600.0, true, &mut rng).unwrap();
        let v = s.velocities.as_ref().unwrap();
        let dof = degrees_of_freedom(&free_mask(&s), true);
        assert_eq!(dof, 3 * n - 3);
        assert!((temperature(kinetic_energy(&s.masses, v), dof) - 600.0).abs() < 1e-9);
        for c in 0..3 {
            let p: f64 = s.masses.iter().zip(v).map(|(m, v)| m * v[c]).sum();
            assert!(p.abs() < 1e-12, "momentum {p}");
        }
        // Seeded: the same seed gives the same bits.
        let mut again = s.clone();
        maxwell_boltzmann(&mut again, 600.0, true, &mut Xoshiro256PlusPlus::seed_from_u64(7)).unwrap();
        assert_eq!(again.velocities, s.velocities);
    }

    #[test]
    fn fixed_atoms_stay_at_rest() {
        let cell = Cell::orthorhombic([10.0, 10.0, 10.0]).unwrap();
        let ar = Element::from_symbol("Ar").unwrap();
        let mut s = Structure::new(cell, vec![ar; 3], vec![[0.0; 3], [3.0, 0.0, 0.0], [6.0, 0.0, 0.0]]).unwrap();
        s.set_int_tag(tags::FIXED, vec![0, 1, 0]).unwrap();
        maxwell_boltzmann(&mut s, 300.0, true, &mut Xoshiro256PlusPlus::seed_from_u64(1)).unwrap();
        assert_eq!(s.velocities.as_ref().unwrap()[1], [0.0; 3]);
        assert_eq!(degrees_of_freedom(&free_mask(&s), true), 6);
    }
}
