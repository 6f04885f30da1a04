//! Integration tests of gbion-dynamics, one binary (DESIGN.md style): integrators, relaxation, Monte Carlo
//! (with the MTP's cached local energies too), output and restart.

/// The benchmark cells (LSTZ0.75-like perovskites), shared with the benches.
#[path = "../../../gbion-potentials/benches/cells/mod.rs"]
mod cells;
mod common;
mod integrators;
mod monte_carlo;
mod mtp_swaps;
mod npt;
mod relaxation;
mod restart;
