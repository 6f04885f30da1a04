//! Inversion of SIMS data (paper 003): the erfc fit of a line scan (eqn 4), the time-evolution fit of
//! stored profiles, the grain-boundary step analysis (eqns 2–3) on single lines and in batch, and the fit
//! of D_bulk and D_gb/δ to a whole image by forward simulation. Internally SI: m, s, m²/s, m/s.

mod lsq;

pub mod erfc;
pub mod evolution;
pub mod gb_step;
pub mod image;

pub use lsq::FitError;
