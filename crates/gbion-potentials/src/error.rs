//! The error type of gbion-potentials: bad parameter files (with file, line and field), structures a
//! potential cannot evaluate, and failures of external commands.

/// Everything that can go wrong in gbion-potentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input: `source_name` is the file name as the user gave it, `line` is 1-based (0 when the
    /// error is not tied to a line).
    #[error("{source_name} line {line}: {message}")]
    Parse {
        source_name: String,
        line: usize,
        message: String,
    },
    /// An error from gbion-atoms (files, cells, neighbour lists).
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    /// A structure or request the potential cannot handle (unknown species, wrong neighbour list, ...).
    #[error("{0}")]
    Invalid(String),
    /// An external command failed, timed out, or returned malformed or missing values.
    #[error("{0}")]
    External(String),
}

impl Error {
    /// A parse error at `line` (1-based) of `source_name`.
    pub fn parse(source_name: &str, line: usize, message: impl Into<String>) -> Error {
        Error::Parse {
            source_name: source_name.to_string(),
            line,
            message: message.into(),
        }
    }
}

/// Result with gbion-potentials' error.
pub type Result<T> = std::result::Result<T, Error>;
