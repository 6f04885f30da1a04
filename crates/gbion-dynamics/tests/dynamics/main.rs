//! Integration tests of gbion-dynamics, one binary (DESIGN.md style): integrators, relaxation, Monte Carlo,
//! output and restart.

mod common;
mod integrators;
mod monte_carlo;
mod npt;
mod relaxation;
mod restart;
