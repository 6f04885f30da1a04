//! Reading microscopy inputs for the CLI: DM3/DM4 by extension, plain arrays with the calibration from the
//! sidecar `FILE.toml` (or `--calibration`) overridden by flags; energy windows with units.

use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_microscopy::array::{AxisCalibration, Calibration, read_calibration, sidecar_path};
use gbion_microscopy::{Axis, Dataset, Image, SpectrumImage, array, dm};
use std::path::{Path, PathBuf};

/// Calibration of plain arrays (DM files carry their own).
#[derive(Args, Debug, Clone)]
pub struct CalibrationArgs {
    /// Calibration TOML for a plain array (default: FILE.toml beside the data when it exists).
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Energy of channel 0 (replaces the sidecar's), in --energy-units.
    #[arg(long, allow_hyphen_values = true)]
    pub energy_offset: Option<f64>,
    /// Energy per channel (replaces the sidecar's), in --energy-units.
    #[arg(long)]
    pub energy_scale: Option<f64>,
    /// Units of --energy-offset/--energy-scale.
    #[arg(long, default_value = "eV")]
    pub energy_units: String,
    /// Pixel size in nm (replaces the sidecar's x and y scales).
    #[arg(long)]
    pub pixel_size_nm: Option<f64>,
}

impl CalibrationArgs {
    fn resolve(&self, data: &Path) -> Result<Calibration> {
        let sidecar = self
            .calibration
            .clone()
            .or_else(|| Some(sidecar_path(data)).filter(|p| p.exists()));
        let mut cal = match sidecar {
            Some(path) => read_calibration(&path)?,
            None => Calibration::default(),
        };
        if self.energy_offset.is_some() || self.energy_scale.is_some() {
            let old = cal.energy.take();
            cal.energy = Some(AxisCalibration {
                offset: self.energy_offset.or(old.as_ref().map(|e| e.offset)).unwrap_or(0.0),
                scale: self.energy_scale.or(old.as_ref().map(|e| e.scale)).unwrap_or(1.0),
                units: self.energy_units.clone(),
            });
        }
        if let Some(size) = self.pixel_size_nm {
            let axis = AxisCalibration {
                offset: 0.0,
                scale: size,
                units: "nm".into(),
            };
            cal.x = Some(axis.clone());
            cal.y = Some(axis);
        }
        Ok(cal)
    }
}

/// Read any supported file.
pub fn read_dataset(path: &Path, cal: &CalibrationArgs) -> Result<Dataset> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let dataset = if ext == "dm3" || ext == "dm4" {
        dm::read(path)?
    } else {
        array::read(path, &cal.resolve(path)?)?
    };
    Ok(dataset)
}

/// Read a spectrum image (or spectrum).
pub fn read_spectrum_image(path: &Path, cal: &CalibrationArgs) -> Result<SpectrumImage> {
    match read_dataset(path, cal).with_context(|| format!("cannot read the spectrum image {}", path.display()))? {
        Dataset::SpectrumImage(si) => Ok(si),
        Dataset::Image(_) => bail!(
            "{} holds an image, not a spectrum image (a plain 2-D array is a spectrum set only with an energy \
             calibration)",
            path.display()
        ),
    }
}

/// Read an image; a spectrum image is summed over energy.
pub fn read_image(path: &Path, cal: &CalibrationArgs) -> Result<Image> {
    match read_dataset(path, cal).with_context(|| format!("cannot read the image {}", path.display()))? {
        Dataset::Image(image) => Ok(image),
        Dataset::SpectrumImage(si) => Ok(si.total_image()),
    }
}

/// An energy window "A-B" with an optional unit suffix ("10-50meV", "1940-2100", "1.9-2.1keV"), converted
/// to the units of `axis` (a bare window is taken in `default_units`).
pub fn parse_window(text: &str, default_units: &str, axis: &Axis) -> Result<(f64, f64)> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (numbers, units) = (text[..split].trim(), text[split..].trim());
    let units = if units.is_empty() { default_units } else { units };
    let (a, b) = numbers
        .split_once('-')
        .with_context(|| format!("window {text:?}: expected A-B, e.g. 10-50meV"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .with_context(|| format!("window {text:?}: {s:?} is not a number"))
    };
    let factor = energy_factor(units)? / energy_factor(if axis.units.is_empty() { units } else { &axis.units })?;
    let (lo, hi) = (parse(a)? * factor, parse(b)? * factor);
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        bail!("window {text:?}: the start must be below the end");
    }
    Ok((lo, hi))
}

fn energy_factor(units: &str) -> Result<f64> {
    Ok(match units {
        "meV" => 1e-3,
        "eV" => 1.0,
        "keV" => 1e3,
        other => bail!("energy units {other:?}: expected meV, eV or keV"),
    })
}

/// Ångström per unit of a spatial axis, for putting profiles beside simulations.
pub fn angstrom_per_unit(axis: &Axis) -> Result<f64> {
    Ok(match axis.units.as_str() {
        "Å" | "A" | "angstrom" => 1.0,
        "nm" => 10.0,
        "pm" => 0.01,
        "µm" | "um" => 1e4,
        other => {
            bail!("the spatial axis has units {other:?}, not a length: give --pixel-size-nm or calibrate the file")
        }
    })
}
