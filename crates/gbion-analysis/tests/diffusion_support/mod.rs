//! Seeded trajectories with known diffusion for the MSD and diffusion tests.

#![allow(dead_code)]

use gbion_analysis::msd::Trajectory;
use gbion_atoms::Vec3;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Unwrapped positions (frame-major) of `n_atoms` Brownian particles taking Gaussian steps of standard
/// deviation `step` (Å) per component per frame: D = step²/(2 Δt).
pub fn brownian(n_atoms: usize, n_frames: usize, step: f64, seed: u64) -> Vec<Vec3> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let normal = Normal::new(0.0, step).unwrap();
    let mut current: Vec<Vec3> = (0..n_atoms)
        .map(|_| std::array::from_fn(|_| rng.random::<f64>() * 10.0))
        .collect();
    let mut positions = Vec::with_capacity(n_atoms * n_frames);
    for frame in 0..n_frames {
        if frame > 0 {
            for r in current.iter_mut() {
                r.iter_mut().for_each(|x| *x += normal.sample(&mut rng));
            }
        }
        positions.extend_from_slice(&current);
    }
    positions
}

/// Unwrapped positions of `n_atoms` lattice walkers: each frame every walker hops by ±`a` along one
/// random Cartesian axis, so MSD(t) = a² t/Δt exactly in expectation and D = a²/(6 Δt).
pub fn lattice_walk(n_atoms: usize, n_frames: usize, a: f64, seed: u64) -> Vec<Vec3> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut current = vec![[0.0; 3]; n_atoms];
    let mut positions = Vec::with_capacity(n_atoms * n_frames);
    for frame in 0..n_frames {
        if frame > 0 {
            for r in current.iter_mut() {
                let axis = rng.random_range(0..3);
                r[axis] += if rng.random::<bool>() { a } else { -a };
            }
        }
        positions.extend_from_slice(&current);
    }
    positions
}

/// A trajectory of already unwrapped positions.
pub fn trajectory(n_atoms: usize, positions: Vec<Vec3>) -> Trajectory {
    Trajectory::from_unwrapped(n_atoms, positions).unwrap()
}

/// All atoms of a trajectory.
pub fn all(trajectory: &Trajectory) -> Vec<usize> {
    (0..trajectory.n_atoms()).collect()
}
