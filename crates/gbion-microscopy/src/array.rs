//! Plain-array readers — NumPy `.npy`, CSV/TSV matrices, 16/32-bit grey TIFF — with the calibration that
//! such files lack given by a small TOML sidecar (or by the caller).
//!
//! Layouts: a 2-D array is an image (rows = y); a 3-D `.npy` array is a spectrum image of shape
//! (ny, nx, n_energy) in C order (HyperSpy's navigation-then-signal order); a 1-D `.npy` array is one
//! spectrum. In a CSV/TSV matrix, when an energy calibration is given, each row is a spectrum (a line scan,
//! or `navigation_shape = [ny, nx]` rows); otherwise the matrix is an image.
//!
//! Sidecar (`FILE.toml`, e.g. `si.npy.toml`), every table optional:
//! ```toml
//! navigation_shape = [30, 40]          # CSV/TSV spectra only: ny, nx
//! [energy]
//! offset = 1700.0                      # value of channel 0
//! scale = 0.5                          # per channel
//! units = "eV"
//! [x]
//! scale = 0.02
//! units = "nm"
//! ```

use crate::data::{Axis, Dataset, Image, SpectrumImage};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One axis of a sidecar calibration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisCalibration {
    #[serde(default)]
    pub offset: f64,
    pub scale: f64,
    #[serde(default)]
    pub units: String,
}

impl AxisCalibration {
    fn axis(cal: Option<&AxisCalibration>, size: usize) -> Axis {
        cal.map_or_else(
            || Axis::pixels(size),
            |c| Axis {
                size,
                offset: c.offset,
                scale: c.scale,
                units: c.units.clone(),
            },
        )
    }
}

/// The calibration of a plain array.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub energy: Option<AxisCalibration>,
    pub x: Option<AxisCalibration>,
    pub y: Option<AxisCalibration>,
    pub navigation_shape: Option<[usize; 2]>,
}

/// The sidecar path of a data file: the file name with `.toml` appended.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".toml");
    PathBuf::from(name)
}

/// Read a calibration TOML file.
pub fn read_calibration(path: &Path) -> Result<Calibration> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let calibration: Calibration = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| text[..s.start].matches('\n').count() + 1);
        Error::parse(path, format!("line {line}"), "calibration", e.message().to_string())
    })?;
    let axes = [
        ("energy", &calibration.energy),
        ("x", &calibration.x),
        ("y", &calibration.y),
    ];
    for (name, axis) in axes {
        if let Some(a) = axis
            .as_ref()
            .filter(|a| !(a.offset.is_finite() && a.scale.is_finite() && a.scale != 0.0))
        {
            return Err(Error::parse(
                path,
                format!("[{name}]"),
                "scale",
                format!(
                    "offset {} and scale {} must be finite, the scale non-zero",
                    a.offset, a.scale
                ),
            ));
        }
    }
    Ok(calibration)
}

/// Read `.npy`, `.csv`, `.tsv`, `.txt`, `.tif`/`.tiff` with `calibration`.
pub fn read(path: &Path, calibration: &Calibration) -> Result<Dataset> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (shape, values) = match ext.as_str() {
        "npy" => read_npy(path)?,
        "csv" | "tsv" | "txt" => read_delimited(path)?,
        "tif" | "tiff" => read_tiff(path)?,
        _ => {
            return Err(Error::parse(
                path,
                "file name",
                "extension",
                format!("{ext:?} is not a supported format"),
            ));
        }
    };
    assemble(path, &shape, values, calibration, ext == "npy")
}

fn assemble(path: &Path, shape: &[usize], values: Vec<f64>, cal: &Calibration, npy: bool) -> Result<Dataset> {
    let axis = AxisCalibration::axis;
    match (shape, cal.energy.as_ref()) {
        (&[ne], _) => Ok(Dataset::SpectrumImage(SpectrumImage::new(
            Axis::pixels(1),
            Axis::pixels(1),
            axis(cal.energy.as_ref(), ne),
            values,
        )?)),
        (&[ny, nx], None) => Ok(Dataset::Image(Image::new(
            axis(cal.x.as_ref(), nx),
            axis(cal.y.as_ref(), ny),
            values,
        )?)),
        (&[rows, ne], Some(energy)) if !npy => {
            let [ny, nx] = cal.navigation_shape.unwrap_or([1, rows]);
            if ny * nx != rows {
                return Err(Error::parse(
                    path,
                    "calibration",
                    "navigation_shape",
                    format!("{ny}×{nx} ≠ {rows} rows"),
                ));
            }
            Ok(Dataset::SpectrumImage(SpectrumImage::new(
                axis(cal.x.as_ref(), nx),
                axis(cal.y.as_ref(), ny),
                axis(Some(energy), ne),
                values,
            )?))
        }
        (&[ny, nx], Some(_)) => Ok(Dataset::Image(Image::new(
            axis(cal.x.as_ref(), nx),
            axis(cal.y.as_ref(), ny),
            values,
        )?)),
        (&[ny, nx, ne], _) => Ok(Dataset::SpectrumImage(SpectrumImage::new(
            axis(cal.x.as_ref(), nx),
            axis(cal.y.as_ref(), ny),
            axis(cal.energy.as_ref(), ne),
            values,
        )?)),
        _ => Err(Error::parse(
            path,
            "header",
            "shape",
            format!("{shape:?}: only 1, 2 or 3 dimensions are supported"),
        )),
    }
}

/// A NumPy `.npy` file (format versions 1–3, C order, little- or big-endian integers and floats).
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |field: &str, message: String| Error::parse(path, "header", field, message);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("magic", "not a .npy file".into()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad("version", format!("{v} is not a supported .npy version"))),
    };
    let header = bytes
        .get(start..start + header_len)
        .map(String::from_utf8_lossy)
        .ok_or_else(|| bad("header", "file ends inside the header".into()))?;
    let field = |key: &str| {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or_else(|| bad(key, "missing".into()))?;
        Ok::<&str, Error>(
            header[at + key.len() + 2..]
                .trim_start()
                .trim_start_matches(':')
                .trim_start(),
        )
    };
    if field("fortran_order")?.starts_with("True") {
        return Err(bad(
            "fortran_order",
            "Fortran-ordered arrays are not supported; save with C order".into(),
        ));
    }
    let descr = field("descr")?.trim_start_matches('\'');
    let descr = &descr[..descr.find('\'').unwrap_or(descr.len())];
    let shape_text = field("shape")?;
    let shape_text = &shape_text[1..shape_text.find(')').unwrap_or(1)];
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad("shape", format!("{s:?} is not a size")))
        })
        .collect::<Result<Vec<_>>>()?;
    let data = &bytes[start + header_len..];
    let values = decode_npy(descr, data).ok_or_else(|| bad("descr", format!("{descr:?} is not a supported dtype")))?;
    let expected: usize = shape.iter().product();
    if values.len() < expected {
        return Err(bad(
            "shape",
            format!("{shape:?} needs {expected} values, the file holds {}", values.len()),
        ));
    }
    if let Some(k) = values[..expected].iter().position(|v| !v.is_finite()) {
        return Err(Error::parse(
            path,
            format!("element {k} (C order)"),
            "data",
            format!("{} is not a finite measurement", values[k]),
        ));
    }
    Ok((shape, values[..expected].to_vec()))
}

fn decode_npy(descr: &str, data: &[u8]) -> Option<Vec<f64>> {
    let little = !descr.starts_with('>');
    let width: usize = descr.get(2..)?.parse().ok()?;
    let kind = descr.as_bytes().get(1).copied()?;
    let decode: fn(u64, usize) -> f64 = match (kind, width) {
        (b'f', 4) => |u, _| f32::from_bits(u as u32) as f64,
        (b'f', 8) => |u, _| f64::from_bits(u),
        (b'u', 1 | 2 | 4 | 8) => |u, _| u as f64,
        (b'i', 1 | 2 | 4 | 8) => |u, w| ((u << (64 - 8 * w)) as i64 >> (64 - 8 * w)) as f64,
        _ => return None,
    };
    let fold = |acc: u64, &b: &u8| (acc << 8) | b as u64;
    Some(
        data.chunks_exact(width)
            .map(|c| {
                decode(
                    if little {
                        c.iter().rev().fold(0, fold)
                    } else {
                        c.iter().fold(0, fold)
                    },
                    width,
                )
            })
            .collect(),
    )
}

/// A numeric matrix, comma- or tab-separated (whichever the first line uses; `#` lines are comments).
pub fn read_delimited(path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut values = Vec::new();
    let mut ncols = None;
    let mut nrows = 0;
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').collect()
        } else {
            line.split(',').collect()
        };
        if *ncols.get_or_insert(fields.len()) != fields.len() {
            return Err(Error::parse(
                path,
                format!("line {}", lineno + 1),
                "row",
                format!(
                    "{} columns where earlier rows have {}",
                    fields.len(),
                    ncols.unwrap_or(0)
                ),
            ));
        }
        for (col, f) in fields.iter().enumerate() {
            let v: f64 = f.trim().parse().map_err(|_| {
                Error::parse(
                    path,
                    format!("line {}", lineno + 1),
                    format!("column {}", col + 1),
                    format!("{f:?} is not a number"),
                )
            })?;
            values.push(v);
        }
        nrows += 1;
    }
    let ncols = ncols.ok_or_else(|| Error::parse(path, "line 1", "matrix", "no data rows"))?;
    Ok((vec![nrows, ncols], values))
}

/// A single-page grey TIFF (8/16/32/64-bit integers or 32/64-bit floats).
pub fn read_tiff(path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    use tiff::decoder::{Decoder, DecodingResult};
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |field: &str, e: String| Error::parse(path, "TIFF directory", field, e);
    let mut decoder = Decoder::new(std::io::BufReader::new(file)).map_err(|e| bad("header", e.to_string()))?;
    let (w, h) = decoder.dimensions().map_err(|e| bad("dimensions", e.to_string()))?;
    let values: Vec<f64> = match decoder.read_image().map_err(|e| bad("image data", e.to_string()))? {
        DecodingResult::U8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::U64(v) => v.into_iter().map(|x| x as f64).collect(),
        DecodingResult::I8(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I16(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::I64(v) => v.into_iter().map(|x| x as f64).collect(),
        DecodingResult::F32(v) => v.into_iter().map(f64::from).collect(),
        DecodingResult::F64(v) => v,
        _ => return Err(bad("sample format", "unsupported sample format".into())),
    };
    if values.len() != (w as usize) * (h as usize) {
        return Err(bad(
            "samples per pixel",
            "only single-channel (grey) images are supported".into(),
        ));
    }
    if decoder.more_images() {
        return Err(bad("pages", "multi-page TIFF stacks are not supported".into()));
    }
    Ok((vec![h as usize, w as usize], values))
}
