//! Learning moment tensor potentials: training sets, fitting (linear least squares of the energy
//! coefficients, nonlinear fit of all coefficients), the extrapolation grade by MaxVol / D-optimality, and
//! the active-learning loop that queries an external oracle (paper 000; Podryabinkin & Shapeev, Comput.
//! Mater. Sci. 140, 171 (2017); Novikov et al., Mach. Learn.: Sci. Technol. 2, 025002 (2021)).
//!
//! Modules: `training` (labelled configurations, weights, reference energies), `fit` (loss, gradient,
//! linear fit, error metrics), `nonlinear` (L-BFGS fit of all coefficients with checkpoints), `pair_start`
//! (the least-squares pair potential an untrained fit starts from), `train` (a
//! whole fit: reference energies, start, linear and nonlinear fits, errors), [`grade`] (the active set,
//! extrapolation grades and the selection of informative configurations by MaxVol), [`oracle`] (labelling
//! by a gbion potential or an external command, N at a time, retries, quarantine), [`explore`] (MD and
//! hybrid MC/MD runs graded on the fly), [`learn`] (the active-learning loop, resumable).

pub mod error;
pub mod explore;
pub mod fit;
pub mod grade;
pub mod learn;
pub mod nonlinear;
pub mod oracle;
pub mod pair_start;
pub mod train;
pub mod training;

pub use error::{Error, Result};
