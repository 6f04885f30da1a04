//! Output helpers shared by all subcommands: JSON or human summaries on stdout, atomic file writes.

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

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

/// A CSV table of numbers (header row, `#` comments, fields trimmed): the header and the columns that
/// `pick` chooses from it, in `pick`'s order. Errors name the file, the line and the column:
/// `FILE: line 3: column "D": "abc" is not a number`.
pub fn read_csv_columns(
    path: &Path,
    pick: impl FnOnce(&csv::StringRecord) -> Result<Vec<usize>>,
) -> Result<(csv::StringRecord, Vec<Vec<f64>>)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: line 1: bad header", path.display()))?
        .clone();
    let columns = pick(&header)?;
    let mut values = vec![Vec::new(); columns.len()];
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: malformed CSV", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        for (&col, out) in columns.iter().zip(values.iter_mut()) {
            let text = record.get(col).unwrap_or("");
            let value = text.parse::<f64>().ok().filter(|v| v.is_finite()).with_context(|| {
                format!(
                    "{}: line {line}: column {:?}: {text:?} is not a number",
                    path.display(),
                    header.get(col).unwrap_or("")
                )
            })?;
            out.push(value);
        }
    }
    Ok((header, values))
}

/// A progress bar with ETA on a terminal; plain lines every 10 % otherwise; nothing under `--json`.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    last_decile: u64,
    started: Instant,
    unit: &'static str,
}

impl Progress {
    pub fn new(json: bool, unit: &'static str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!json && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit}  {{elapsed}} (eta {{eta}})"
            )) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            plain: !json && !terminal,
            last_decile: 0,
            started: Instant::now(),
            unit,
        }
    }

    pub fn update(&mut self, step: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(step);
        } else if self.plain && total > 0 {
            let decile = step * 10 / total;
            if decile > self.last_decile {
                self.last_decile = decile;
                eprintln!(
                    "{step}/{total} {} ({}%), {:.1} s",
                    self.unit,
                    decile * 10,
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
