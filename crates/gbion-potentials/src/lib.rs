//! gbion-potentials owns the interatomic models: the [`Potential`] trait, the moment tensor potential
//! (MTP, evaluated as the MLIP package does, `.mtp` files read and written), rigid-ion pair + Coulomb models
//! (Buckingham, Lennard-Jones, Morse; Ewald and damped-shifted-force Coulomb) and an external-command
//! potential that asks any program (an ASE calculator, DFT) for energies, forces and stresses.
//!
//! Units: Å, eV, e; forces eV/Å; stress eV/Å³ with ASE's sign (positive = tensile, negative under
//! compression), Voigt order xx, yy, zz, yz, xz, xy.

pub mod error;
pub mod external;
pub mod mtp;
pub mod mtp_basis;
pub mod potential;
pub mod rigid_ion;
pub mod spec;

pub use error::{Error, Result};
pub use potential::{
    Change, ListRequest, LocalEnergy, Output, Potential, Request, accumulate_virial, evaluate, require_list,
    stress_from_virial,
};
