//! gbion-transport owns everything at the scale of grains: effective-medium transport models, finite-volume
//! tracer diffusion in microstructures with thin grain boundaries, synthetic SIMS, and the inversion of SIMS
//! isotope images and line scans (paper 003). It depends on no atomistic crate.
pub mod arrhenius;
pub mod fit;
pub mod image;
pub mod impedance;
pub mod io;
pub mod isotope;
pub mod microstructure;
pub mod models;
pub mod sims;
pub mod solver;
