//! Run output: the thermo log (CSV and JSON lines) and the trajectory (extended XYZ with unwrapped positions
//! or LAMMPS dump with wrapped positions and image flags), appended step by step through writers that know
//! their byte offsets, so a resumed run truncates them to a checkpoint and continues bit-identically.
//!
//! Thermo CSV columns: `step,time_fs,T_K,E_pot_eV,E_kin_eV,conserved_eV,P_GPa,volume_A3`, then one
//! `accept_<move>` per Monte Carlo move type (cumulative accepted / attempted since the start of the run;
//! `NaN` before the first attempt). P = 2K/(3V) − tr(σ)/3 in GPa, positive when compressed (σ the ASE
//! stress of the potential); empty when the cell is not periodic in 3D. Numbers are written in Rust's
//! shortest round-trip form. JSON lines carry the same values under the same names, `accept` as an object,
//! `null` for missing values.

use crate::config::TrajectoryFormat;
use crate::{Error, Result};
use gbion_atoms::io::{Format, WriteOptions, write_frame};
use gbion_atoms::{InfoValue, Property, Structure};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A file written by appending, which counts its length.
pub struct Appender {
    path: PathBuf,
    writer: BufWriter<File>,
    offset: u64,
}

impl Appender {
    /// Create (or truncate) `path`.
    pub fn create(path: &Path) -> Result<Appender> {
        let file = File::create(path).map_err(Error::io(path))?;
        Ok(Appender {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
            offset: 0,
        })
    }

    /// Open `path` to continue after its first `offset` bytes (a checkpoint's offset): the rest is cut off.
    pub fn resume(path: &Path, offset: u64) -> Result<Appender> {
        let mut file = OpenOptions::new().write(true).open(path).map_err(Error::io(path))?;
        let len = file.metadata().map_err(Error::io(path))?.len();
        if len < offset {
            return Err(Error::Checkpoint {
                path: path.to_path_buf(),
                message: format!("the file has {len} bytes, fewer than the checkpoint's {offset}"),
            });
        }
        file.set_len(offset).map_err(Error::io(path))?;
        file.seek(SeekFrom::Start(offset)).map_err(Error::io(path))?;
        Ok(Appender {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
            offset,
        })
    }

    /// Append bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).map_err(Error::io(&self.path))?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Flush to the operating system and return the length written so far.
    pub fn flush(&mut self) -> Result<u64> {
        self.writer.flush().map_err(Error::io(&self.path))?;
        Ok(self.offset)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One row of the thermo log.
#[derive(Clone, Debug, Serialize)]
pub struct ThermoRow {
    pub step: u64,
    pub time_fs: f64,
    #[serde(rename = "T_K")]
    pub temperature_k: f64,
    #[serde(rename = "E_pot_eV")]
    pub potential_ev: f64,
    #[serde(rename = "E_kin_eV")]
    pub kinetic_ev: f64,
    #[serde(rename = "conserved_eV")]
    pub conserved_ev: f64,
    #[serde(rename = "P_GPa")]
    pub pressure_gpa: Option<f64>,
    #[serde(rename = "volume_A3")]
    pub volume_a3: f64,
    /// Move name → cumulative acceptance ratio (`None` before any attempt).
    pub accept: BTreeMap<String, Option<f64>>,
}

/// The thermo log: `thermo.csv` and `thermo.jsonl`.
pub struct ThermoLog {
    pub csv: Appender,
    pub jsonl: Appender,
    moves: Vec<String>,
}

/// The CSV header for the given move names.
pub fn thermo_header(moves: &[String]) -> String {
    let mut header = String::from("step,time_fs,T_K,E_pot_eV,E_kin_eV,conserved_eV,P_GPa,volume_A3");
    for m in moves {
        header.push_str(&format!(",accept_{m}"));
    }
    header + "\n"
}

impl ThermoLog {
    /// New files in `dir`, headers written.
    pub fn create(dir: &Path, moves: Vec<String>) -> Result<ThermoLog> {
        let mut csv = Appender::create(&dir.join("thermo.csv"))?;
        csv.write(thermo_header(&moves).as_bytes())?;
        Ok(ThermoLog {
            csv,
            jsonl: Appender::create(&dir.join("thermo.jsonl"))?,
            moves,
        })
    }

    /// Continue the files in `dir` at the given offsets.
    pub fn resume(dir: &Path, moves: Vec<String>, csv_offset: u64, jsonl_offset: u64) -> Result<ThermoLog> {
        Ok(ThermoLog {
            csv: Appender::resume(&dir.join("thermo.csv"), csv_offset)?,
            jsonl: Appender::resume(&dir.join("thermo.jsonl"), jsonl_offset)?,
            moves,
        })
    }

    /// Append a row to both files.
    pub fn write(&mut self, row: &ThermoRow) -> Result<()> {
        let mut line = format!(
            "{},{},{},{},{},{},{},{}",
            row.step,
            row.time_fs,
            row.temperature_k,
            row.potential_ev,
            row.kinetic_ev,
            row.conserved_ev,
            row.pressure_gpa.map_or(String::new(), |p| p.to_string()),
            row.volume_a3
        );
        for m in &self.moves {
            let ratio = row.accept.get(m).copied().flatten().unwrap_or(f64::NAN);
            line.push_str(&format!(",{ratio}"));
        }
        line.push('\n');
        self.csv.write(line.as_bytes())?;
        let mut json = serde_json::to_string(row).map_err(|e| Error::Invalid(format!("thermo JSON: {e}")))?;
        json.push('\n');
        self.jsonl.write(json.as_bytes())
    }
}

/// The trajectory file.
pub struct Trajectory {
    pub file: Appender,
    format: TrajectoryFormat,
}

impl Trajectory {
    /// The file name for a format: `trajectory.xyz` or `trajectory.dump`.
    pub fn file_name(format: TrajectoryFormat) -> &'static str {
        match format {
            TrajectoryFormat::ExtXyz => "trajectory.xyz",
            TrajectoryFormat::LammpsDump => "trajectory.dump",
        }
    }

    /// A new trajectory in `dir`.
    pub fn create(dir: &Path, format: TrajectoryFormat) -> Result<Trajectory> {
        Ok(Trajectory {
            file: Appender::create(&dir.join(Self::file_name(format)))?,
            format,
        })
    }

    /// Continue the trajectory in `dir` at `offset`.
    pub fn resume(dir: &Path, format: TrajectoryFormat, offset: u64) -> Result<Trajectory> {
        Ok(Trajectory {
            file: Appender::resume(&dir.join(Self::file_name(format)), offset)?,
            format,
        })
    }

    /// Append a frame of `structure` (positions unwrapped) at `step` and `time_fs`.
    pub fn write(&mut self, structure: &Structure, step: u64, time_fs: f64) -> Result<()> {
        let mut frame = structure.clone();
        frame.results = Default::default();
        frame.info.insert("step".into(), InfoValue::Int(step as i64));
        frame.info.insert("time_fs".into(), InfoValue::Real(time_fs));
        let format = match self.format {
            TrajectoryFormat::ExtXyz => Format::ExtXyz,
            TrajectoryFormat::LammpsDump => {
                frame.info.insert("timestep".into(), InfoValue::Int(step as i64));
                let (wrapped, images) = wrap_with_images(structure);
                frame.positions = wrapped;
                frame.set_property(
                    "image",
                    Property::Int {
                        data: images,
                        columns: 3,
                    },
                )?;
                Format::LammpsDump
            }
        };
        let mut bytes = Vec::new();
        write_frame(&mut bytes, &frame, format, &WriteOptions::default())?;
        self.file.write(&bytes)
    }
}

/// Positions wrapped into the cell along periodic directions and the image flags n with
/// x_unwrapped = x_wrapped + n·M.
pub fn wrap_with_images(structure: &Structure) -> (Vec<gbion_atoms::Vec3>, Vec<i64>) {
    let cell = &structure.cell;
    let pbc = cell.pbc();
    let mut wrapped = Vec::with_capacity(structure.len());
    let mut images = Vec::with_capacity(3 * structure.len());
    for &x in &structure.positions {
        let mut s = cell.to_fractional(x);
        for k in 0..3 {
            let n = if pbc[k] { s[k].floor() } else { 0.0 };
            s[k] -= n;
            images.push(n as i64);
        }
        wrapped.push(cell.to_cartesian(s));
    }
    (wrapped, images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gbion_atoms::{Cell, Element};

    /// Wrapped positions plus image flags times the cell give back the unwrapped positions (triclinic).
    #[test]
    fn image_flags_restore_unwrapped_positions() {
        let cell = Cell::new([[5.0, 0.0, 0.0], [1.0, 6.0, 0.0], [0.5, -0.7, 7.0]], [true, true, true]).unwrap();
        let positions = vec![[-3.2, 14.1, 0.3], [26.0, -0.5, -15.2], [1.0, 1.0, 1.0]];
        let s = Structure::new(cell.clone(), vec![Element(18); 3], positions.clone()).unwrap();
        let (wrapped, images) = wrap_with_images(&s);
        for i in 0..3 {
            let frac = cell.to_fractional(wrapped[i]);
            assert!(frac.iter().all(|f| (0.0..1.0).contains(f)), "{frac:?}");
            let shift = cell.translation([images[3 * i] as i32, images[3 * i + 1] as i32, images[3 * i + 2] as i32]);
            for a in 0..3 {
                assert!((wrapped[i][a] + shift[a] - positions[i][a]).abs() < 1e-12);
            }
        }
        assert_eq!(&images[6..9], &[0, 0, 0]);
    }

    #[test]
    fn thermo_header_has_the_documented_columns() {
        assert_eq!(
            thermo_header(&["swap_Li_Sr".into(), "hop_Li".into()]),
            "step,time_fs,T_K,E_pot_eV,E_kin_eV,conserved_eV,P_GPa,volume_A3,accept_swap_Li_Sr,accept_hop_Li\n"
        );
    }
}
