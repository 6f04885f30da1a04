//! `gbion haadf profile` (intensity across a GB, its change at the GB, atomic columns) and `gbion haadf fft`
//! (lattice and half-order superlattice spots of a region).

use super::gb::{GbArgs, GbGeometry, ProfileReport, describe_change};
use super::input::{CalibrationArgs, read_image};
use crate::output::emit;
use crate::plot::{Series, heatmap, line_plot};
use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_microscopy::data::ImageAxis;
use gbion_microscopy::haadf::{FftAnalysis, Region, column_peaks, fft_superlattice, intensity_profile};
use gbion_microscopy::profile::{GbChange, LineProfile, gb_change, moving_average};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ProfileArgs {
    /// HAADF image (.dm3, .dm4, .tif, .npy, .csv).
    pub image: PathBuf,
    #[command(flatten)]
    pub gb: GbArgs,
    /// Smallest separation of atomic columns in the profile, pixels.
    #[arg(long, default_value_t = 4)]
    pub column_spacing: usize,
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calibration: CalibrationArgs,
}

#[derive(Args, Debug)]
pub struct FftArgs {
    /// HAADF image.
    pub image: PathBuf,
    /// Region x0,y0,x1,y1 in pixels (x1, y1 exclusive); default: the whole image.
    #[arg(long)]
    pub region: Option<String>,
    /// A half-order spot is present when its power exceeds this many times the local median.
    #[arg(long, default_value_t = 20.0)]
    pub threshold: f64,
    /// Spots closer to DC than this many frequency indices are ignored.
    #[arg(long, default_value_t = 3.0)]
    pub min_radius: f64,
    /// log10 power spectrum (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calibration: CalibrationArgs,
}

#[derive(Serialize)]
struct Column {
    distance: f64,
    intensity: f64,
}

#[derive(Serialize)]
struct ProfileReportJson {
    file: String,
    geometry: GbGeometry,
    gb_change_percent: f64,
    gb_change_err_percent: f64,
    change: GbChange,
    columns: Vec<Column>,
    profile: ProfileReport,
}

/// The profile averaged over `width` positions (a moving average; width 1 leaves it as it is), with the
/// uncertainty of a mean of `width` independent values, σ/√width. With `width` equal to the column period of
/// a lattice-resolved image, the GB change compares mean intensities instead of a column peak with a
/// period average.
fn period_averaged(profile: &LineProfile, width: usize) -> LineProfile {
    let width = width.max(1);
    LineProfile {
        position: profile.position.clone(),
        value: moving_average(&profile.value, width),
        sigma: moving_average(&profile.sigma, width)
            .into_iter()
            .map(|s| s / (width as f64).sqrt())
            .collect(),
    }
}

pub fn profile(args: ProfileArgs) -> Result<()> {
    let image = read_image(&args.image, &args.calibration)?;
    let (gb_along, direction) = args.gb.axis(|| Ok(image.clone()))?;
    let profile = intensity_profile(&image, gb_along);
    let windows = args.gb.windows(&[profile.value.as_slice()])?;
    let change = gb_change(&period_averaged(&profile, args.gb.smooth), &windows).context("HAADF GB change")?;
    let across = if gb_along == ImageAxis::Y { &image.x } else { &image.y };
    let report = ProfileReport::new(&profile, windows.gb_index);
    let origin = profile.position[windows.gb_index];
    let columns = column_peaks(&profile.value, args.column_spacing)
        .into_iter()
        .map(|c| Column {
            distance: across.value(c.index) - origin,
            intensity: c.intensity,
        })
        .collect();
    let json = ProfileReportJson {
        file: args.image.display().to_string(),
        geometry: GbGeometry {
            gb_along,
            direction,
            gb_index: windows.gb_index,
            gb_position: origin,
            units: across.units.clone(),
            windows,
        },
        gb_change_percent: change.gb_change_percent,
        gb_change_err_percent: change.gb_change_err_percent,
        change,
        columns,
        profile: report,
    };
    if let Some(path) = &args.plot {
        let p = &json.profile;
        let units = if json.geometry.units.is_empty() {
            "px"
        } else {
            &json.geometry.units
        };
        let series = [Series::line("HAADF", p.distance.clone(), p.value.clone())];
        line_plot(
            path,
            "HAADF profile across the GB",
            &format!("distance from GB ({units})"),
            "intensity",
            &series,
            false,
            false,
        )?;
    }
    emit(args.json, &json, || {
        let g = &json.geometry;
        let mut out = format!("{}: GB along {:?} at pixel {}", json.file, g.gb_along, g.gb_index);
        if let Some(d) = &g.direction {
            let _ = write!(
                out,
                " (found: line at {:.1}°, coherence {:.2})",
                d.line_angle_deg, d.coherence
            );
        }
        let _ = writeln!(out, "\n  HAADF {}", describe_change(&json.change));
        let _ = writeln!(out, "  {} atomic columns resolved in the profile", json.columns.len());
        out
    })
}

fn parse_region(text: &str) -> Result<Region> {
    let v: Vec<usize> = text
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--region {text:?}: expected x0,y0,x1,y1 in pixels"))?;
    let [x0, y0, x1, y1] = v[..] else {
        bail!("--region {text:?}: expected four numbers x0,y0,x1,y1")
    };
    Ok(Region { x0, y0, x1, y1 })
}

pub fn fft(args: FftArgs) -> Result<()> {
    let image = read_image(&args.image, &args.calibration)?;
    let region = match &args.region {
        Some(text) => parse_region(text)?,
        None => Region {
            x0: 0,
            y0: 0,
            x1: image.nx(),
            y1: image.ny(),
        },
    };
    let analysis = fft_superlattice(&image, region, args.min_radius, args.threshold)?;
    if let Some(path) = &args.plot {
        let log: Vec<f64> = analysis
            .power
            .iter()
            .map(|p| (p.max(f64::MIN_POSITIVE)).log10().max(-300.0))
            .collect();
        heatmap(
            path,
            "FFT power (DC centred)",
            &log,
            analysis.width,
            analysis.height,
            "log10 power",
        )?;
    }
    emit(args.json, &analysis, || {
        human_fft(&analysis, &image.x.units, image.x.scale)
    })
}

fn human_fft(a: &FftAnalysis, units: &str, scale: f64) -> String {
    let mut out = format!(
        "FFT of {}×{} region: lattice spots {}\n",
        a.width,
        a.height,
        a.fundamentals
            .iter()
            .map(|g| format!("({}, {})", g.kx, g.ky))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for t in &a.superlattice {
        let _ = writeln!(
            out,
            "  {:<10} at ({}, {}): {:.1} × local median — {}",
            t.label,
            t.spot.kx,
            t.spot.ky,
            t.ratio,
            if t.present {
                format!(
                    "present: ordering along {:.0}°, period {:.3} {}",
                    t.direction_deg,
                    t.period_px * scale,
                    units
                )
            } else {
                "absent".to_string()
            }
        );
    }
    let _ = writeln!(out, "ordering {}", if a.ordered { "present" } else { "not detected" });
    out
}
