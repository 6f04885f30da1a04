//! Errors of gbion-learn: bad training data (naming the file and frame), potentials that cannot be
//! evaluated, failed fits, I/O.

use std::path::PathBuf;

/// Everything that can go wrong while learning a potential.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A structure file could not be read.
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    /// A potential could not be read or evaluated.
    #[error(transparent)]
    Potential(#[from] gbion_potentials::Error),
    /// Grading or selection failed.
    #[error(transparent)]
    Grade(#[from] crate::grade::Error),
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Inconsistent or unusable input (the message names the file and frame where there is one).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Result of gbion-learn.
pub type Result<T> = std::result::Result<T, Error>;
