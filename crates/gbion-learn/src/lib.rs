//! Learning moment tensor potentials: training sets, fitting (linear least squares of the energy
//! coefficients, nonlinear fit of all coefficients), the extrapolation grade by MaxVol / D-optimality, and
//! the active-learning loop that queries an external oracle (paper 000; Podryabinkin & Shapeev, Comput.
//! Mater. Sci. 140, 171 (2017); Novikov et al., Mach. Learn.: Sci. Technol. 2, 025002 (2021)).

pub mod explore;
pub mod oracle;
