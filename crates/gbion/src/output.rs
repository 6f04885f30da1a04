//! Output helpers shared by all subcommands: JSON or human summaries on stdout, atomic file writes.

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Print `value` as pretty JSON when `json` is set, otherwise print the human summary `human()`.
/// A closed pipe on stdout (`gbion ... | head`) is not an error.
pub fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) -> Result<()> {
    let text = if json {
        serde_json::to_string_pretty(value)? + "\n"
    } else {
        human()
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Write a file atomically: the bytes go to a temporary file in the same directory, which is then renamed
/// over `path`, so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut tmp = gbion_atoms::io::temp_file_beside(path)
        .with_context(|| format!("cannot create a temporary file beside {}", path.display()))?;
    {
        let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
