//! gbion-dynamics owns what moves atoms: molecular dynamics integrators (velocity Verlet NVE, Langevin
//! BAOAB and Nosé–Hoover chain NVT), Maxwell–Boltzmann initial velocities, fixed atoms, structure
//! relaxation (FIRE, L-BFGS; optionally of the cell), Metropolis Monte Carlo (species swaps, vacancy hops)
//! and hybrid MC/MD, the thermo log and trajectory output, versioned checkpoints with bit-identical resume,
//! and blow-up detection.
//!
//! Units (metal): Å, eV, fs, amu, K; velocities Å/fs; stress eV/Å³ internally with ASE's sign (positive =
//! tensile), pressure reported in GPa (positive = compressed). Random numbers come from a seeded
//! Xoshiro256++ whose state is saved in checkpoints, so a run is a function of its input and seed.

pub mod checkpoint;
pub mod config;
pub mod engine;
pub mod error;
pub mod integrate;
pub mod mc;
pub mod output;
pub mod relax;
pub mod run;
pub mod units;
pub mod velocities;

pub use engine::Engine;
pub use error::{Error, Result};
pub use integrate::{Integrator, MdState, Thermostat};
