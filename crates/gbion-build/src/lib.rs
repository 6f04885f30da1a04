//! gbion-build owns the construction of structures: perovskite supercells from a formula with mixed and
//! vacant sites (random, layered and user-given orderings) and coincidence-site-lattice (CSL) bicrystals of
//! cubic lattices with two periodic grain boundaries.

pub mod bicrystal;
pub mod csl;
pub mod formula;
pub mod occupy;
pub mod paper_gbs;
pub mod perovskite;

pub use bicrystal::{Bicrystal, BicrystalSpec, GbKind, Misorientation};
pub use formula::Formula;
pub use perovskite::{Built, Ordering, PerovskiteSpec};

/// Errors of the builders; each names the input that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("formula '{formula}': {message}")]
    Formula { formula: String, message: String },
    #[error("counts are not integral: {message}")]
    NotIntegral { message: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
