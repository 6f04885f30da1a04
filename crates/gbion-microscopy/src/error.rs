//! The crate's error type: every parse error names the file, the place in it (byte offset or line) and the
//! field that was wrong.

use std::path::PathBuf;
use thiserror::Error;

/// Errors from reading microscopy files and from the analyses.
#[derive(Debug, Error)]
pub enum Error {
    /// The file could not be read at all.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The file was read but its content is not what its format promises.
    #[error("{path}: {location}: {field}: {message}")]
    Parse {
        path: PathBuf,
        /// Where in the file: `byte 1234` or `line 5`.
        location: String,
        /// The field, tag or column being read.
        field: String,
        message: String,
    },
    /// The inputs of an analysis do not make sense together (window outside the data, too few points, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A parse error at `location` in `path`.
    pub fn parse(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Parse {
            path: path.into(),
            location: location.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
