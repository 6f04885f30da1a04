//! The error type of gbion-analysis: inputs an analysis cannot use (too few frames, missing species, a
//! structure that is not a perovskite, ...), malformed tables (with file, line and field), and errors from
//! reading structures.

/// Everything that can go wrong in gbion-analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input: `source_name` is the file name as the user gave it, `line` is 1-based.
    #[error("{source_name} line {line}: {message}")]
    Parse {
        source_name: String,
        line: usize,
        message: String,
    },
    /// An error from gbion-atoms (files, cells, neighbour lists).
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    /// Data an analysis cannot use, with the reason.
    #[error("{0}")]
    Invalid(String),
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

/// Result with gbion-analysis' error.
pub type Result<T> = std::result::Result<T, Error>;
