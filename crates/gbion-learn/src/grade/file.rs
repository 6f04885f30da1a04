//! The active-set file: JSON (MLIP's binary `.als` has no public specification), written atomically.
//!
//! ```json
//! {
//!   "format": "gbion-active-set",
//!   "version": 1,
//!   "mode": "site",                      // or "configuration"
//!   "weights": {"energy": 1.0, "force": 0.0, "stress": 0.0},  // configuration mode's equation weights
//!   "species": ["Li", "O"],              // the potential's species map, type order
//!   "species_count": 2,
//!   "moment_count": 9,                   // K; rows have p = species_count + moment_count entries
//!   "parameters": "species_coeffs[0..species_count] then moment_coeffs[0..moment_count]",
//!   "potential_fingerprint": "fnv1a64:…", // radial coefficients and basis the rows were computed with
//!   "columns": [0, 1, 3, …],             // the m parameter columns A uses (ascending)
//!   "column_scales": [ … ],              // p largest |entries| over the training and selected rows
//!   "configurations": 12,                // training configurations, then selected ones
//!   "rows": [{"configuration": 3, "atom": 17, "values": [ … p numbers … ]}, …]   // m rows of A
//! }
//! ```
//!
//! `atom` is null in configuration mode. A file without `weights` has the defaults (MLIP's 1, 0, 0).
//! Numbers are written in the shortest form that reads back to the same `f64`, so a file round-trips
//! exactly; A⁻¹ is recomputed on reading.

use super::{
    ActiveRow, ActiveSet, EquationWeights, Error, PotentialId, Result, RowMode, RowOrigin, check_weights, maxvol,
    restrict,
};
use faer::Mat;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

const FORMAT: &str = "gbion-active-set";
const VERSION: u32 = 1;
const PARAMETERS: &str = "species_coeffs[0..species_count] then moment_coeffs[0..moment_count]";

#[derive(Serialize, Deserialize)]
struct FileContents {
    format: String,
    version: u32,
    mode: RowMode,
    #[serde(default)]
    weights: EquationWeights,
    species: Vec<String>,
    species_count: usize,
    moment_count: usize,
    parameters: String,
    potential_fingerprint: String,
    columns: Vec<usize>,
    column_scales: Vec<f64>,
    configurations: usize,
    rows: Vec<FileRow>,
}

#[derive(Serialize, Deserialize)]
struct FileRow {
    configuration: usize,
    atom: Option<usize>,
    values: Vec<f64>,
}

impl ActiveSet {
    /// Write the active set to `path` atomically (a temporary file beside it, then renamed).
    pub fn write(&self, path: &Path) -> Result<()> {
        let contents = FileContents {
            format: FORMAT.into(),
            version: VERSION,
            mode: self.mode,
            weights: self.weights,
            species: self.potential.species.clone(),
            species_count: self.potential.species_count,
            moment_count: self.potential.moment_count,
            parameters: PARAMETERS.into(),
            potential_fingerprint: self.potential.fingerprint.clone(),
            columns: self.columns.clone(),
            column_scales: self.scales.clone(),
            configurations: self.configurations,
            rows: self
                .rows
                .iter()
                .map(|r| FileRow {
                    configuration: r.origin.configuration,
                    atom: r.origin.atom,
                    values: r.values.clone(),
                })
                .collect(),
        };
        let io_error = |e: std::io::Error| file_error(path, "(file)", e.to_string());
        let mut tmp = gbion_atoms::io::temp_file_beside(path).map_err(io_error)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            serde_json::to_writer_pretty(&mut out, &contents).map_err(|e| file_error(path, "(file)", e.to_string()))?;
            out.write_all(b"\n").and_then(|()| out.flush()).map_err(io_error)?;
        }
        tmp.persist(path).map_err(|e| io_error(e.error))?;
        Ok(())
    }

    /// Read an active set written by [`ActiveSet::write`]; errors name the file and the field.
    pub fn read(path: &Path) -> Result<ActiveSet> {
        let text = std::fs::read_to_string(path).map_err(|e| file_error(path, "(file)", e.to_string()))?;
        let f: FileContents = serde_json::from_str(&text).map_err(|e| file_error(path, "(json)", e.to_string()))?;
        let fail = |field: &str, message: String| Err(file_error(path, field, message));
        if f.format != FORMAT {
            return fail("format", format!("{:?} is not {FORMAT:?}", f.format));
        }
        if f.version != VERSION {
            return fail(
                "version",
                format!("version {} is not supported (only {VERSION})", f.version),
            );
        }
        if let Err(e) = check_weights(f.mode, &f.weights) {
            return fail("weights", e.to_string());
        }
        if f.species.len() != f.species_count {
            return fail(
                "species",
                format!("{} names for {} species", f.species.len(), f.species_count),
            );
        }
        let p = f.species_count + f.moment_count;
        if f.column_scales.len() != p || f.column_scales.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
            return fail("column_scales", format!("expected {p} finite numbers ≥ 0"));
        }
        if f.columns.is_empty() || f.columns.windows(2).any(|w| w[0] >= w[1]) || f.columns.iter().any(|&c| c >= p) {
            return fail("columns", format!("expected ascending distinct indices below {p}"));
        }
        if f.rows.len() != f.columns.len() {
            return fail(
                "rows",
                format!(
                    "{} rows for {} columns (A must be square)",
                    f.rows.len(),
                    f.columns.len()
                ),
            );
        }
        for (i, row) in f.rows.iter().enumerate() {
            if row.values.len() != p || row.values.iter().any(|v| !v.is_finite()) {
                return fail(&format!("rows[{i}].values"), format!("expected {p} finite numbers"));
            }
            let site = f.mode == RowMode::Site;
            if row.atom.is_some() != site || row.configuration >= f.configurations {
                return fail(
                    &format!("rows[{i}]"),
                    format!(
                        "origin (configuration {}, atom {:?}) does not fit {} configurations in {:?} mode",
                        row.configuration, row.atom, f.configurations, f.mode
                    ),
                );
            }
        }
        let rows: Vec<ActiveRow> = f
            .rows
            .into_iter()
            .map(|r| ActiveRow {
                origin: RowOrigin {
                    configuration: r.configuration,
                    atom: r.atom,
                },
                values: r.values,
            })
            .collect();
        let full = Mat::from_fn(rows.len(), p, |i, k| rows[i].values[k]);
        let all: Vec<usize> = (0..rows.len()).collect();
        let inverse = maxvol::inverse(restrict(full.as_ref(), &f.columns).as_ref(), &all)
            .map_err(|e| file_error(path, "rows", e.to_string()))?;
        Ok(ActiveSet {
            mode: f.mode,
            weights: f.weights,
            potential: PotentialId {
                species: f.species,
                species_count: f.species_count,
                moment_count: f.moment_count,
                fingerprint: f.potential_fingerprint,
            },
            columns: f.columns,
            scales: f.column_scales,
            configurations: f.configurations,
            rows,
            inverse,
        })
    }
}

fn file_error(path: &Path, field: &str, message: String) -> Error {
    Error::File {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    }
}
