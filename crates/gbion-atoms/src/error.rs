//! The error type of gbion-atoms. Parse errors carry the file (or stream) name, the 1-based line and what
//! was wrong with which field, e.g. `POSCAR line 7: expected 3 numbers, found "abc"`.

use std::path::PathBuf;

/// Everything that can go wrong in gbion-atoms.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input: `source` is the file name as the user gave it, `line` is 1-based.
    #[error("{source_name} line {line}: {message}")]
    Parse {
        source_name: String,
        line: usize,
        message: String,
    },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An element symbol or atomic number that is not in the periodic table.
    #[error("unknown element {0:?}")]
    UnknownElement(String),
    /// A cell that cannot be used (singular, or a zero vector along a periodic direction).
    #[error("invalid cell: {0}")]
    InvalidCell(String),
    /// A structure or request that is inconsistent (array lengths, missing data a format needs, ...).
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

/// Result with gbion-atoms' error.
pub type Result<T> = std::result::Result<T, Error>;
