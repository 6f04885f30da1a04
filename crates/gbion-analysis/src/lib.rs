//! gbion-analysis owns the analyses of simulations: mean squared displacements, tracer and collective
//! (charge) diffusivities, Haven ratio, Nernst–Einstein conductivity, Arrhenius fits, the A-site ordering
//! parameter, and grain-boundary composition profiles and energies.

pub mod arrhenius;
pub mod diffusion;
pub mod error;
pub mod gb;
pub mod msd;
pub mod ordering;
pub mod trajectory_ordering;

pub use error::{Error, Result};
