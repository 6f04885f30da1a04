//! The error type of gbion-dynamics. Input errors carry the file, the 1-based line and the key
//! (`md.toml line 7, key md.timestep: ...`); blow-ups name the step at which they were detected.

use std::path::PathBuf;

/// Everything that can go wrong in gbion-dynamics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad input file: `line` is 1-based (0 when unknown), `key` the dotted TOML key.
    #[error("{source_name} line {line}, key {key}: {message}")]
    Input {
        source_name: String,
        line: usize,
        key: String,
        message: String,
    },
    /// The simulation became unphysical at `step` (non-finite numbers, atoms too close, runaway temperature).
    #[error("blow-up at step {step}: {message}")]
    BlowUp { step: u64, message: String },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint that cannot be used for this run.
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint { path: PathBuf, message: String },
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    #[error(transparent)]
    Potential(#[from] gbion_potentials::Error),
    /// An inconsistent request (array lengths, unknown species, no atoms to move, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Result with gbion-dynamics' error.
pub type Result<T> = std::result::Result<T, Error>;
