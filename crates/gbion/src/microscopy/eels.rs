//! `gbion eels profile` (core-loss edges) and `gbion eels vib` (vibrational windows): window integration over
//! a power-law background, line profiles across the GB summed along it, the GB-vs-grain change per window
//! with its uncertainty, overlapping edges flagged, optional maps, and the simulated composition profile of
//! `gbion analyze gb --profile-out` plotted beside the measured one.

use super::gb::{GbArgs, GbGeometry, ProfileReport, describe_change};
use super::input::{CalibrationArgs, angstrom_per_unit, parse_window, read_image, read_spectrum_image};
use super::simulated;
use crate::output::{emit, write_atomic};
use crate::plot::{Series, heatmap, line_plot};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use gbion_microscopy::SpectrumImage;
use gbion_microscopy::background::Weighting;
use gbion_microscopy::edges::Overlap;
use gbion_microscopy::eels::{EdgeWindow, WindowIntegrator};
use gbion_microscopy::profile::{GbChange, gb_change};
use gbion_microscopy::vib;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WeightingArg {
    /// Unweighted log-log least squares (the classic fit).
    Uniform,
    /// Poisson-weighted log-log least squares (less biased at low counts).
    Poisson,
}

impl From<WeightingArg> for Weighting {
    fn from(w: WeightingArg) -> Self {
        match w {
            WeightingArg::Uniform => Weighting::Uniform,
            WeightingArg::Poisson => Weighting::Poisson,
        }
    }
}

/// Options shared by both EELS commands.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    #[command(flatten)]
    pub gb: GbArgs,
    /// HAADF image of the same region, used for `--gb-axis auto` (default: the spectrum image's total counts).
    #[arg(long)]
    pub haadf: Option<PathBuf>,
    /// Background fit weighting.
    #[arg(long, value_enum, default_value_t = WeightingArg::Poisson)]
    pub weighting: WeightingArg,
    /// Electrons per count of the detector (sets the counting statistics).
    #[arg(long, default_value_t = 1.0)]
    pub electrons_per_count: f64,
    /// Write the profiles as CSV (distance, then value and sigma per window).
    #[arg(long)]
    pub profile_out: Option<PathBuf>,
    /// Write a map per window: PREFIX-<label>.csv (net counts, NaN where the fit failed) and PREFIX-<label>.png.
    #[arg(long)]
    pub maps: Option<PathBuf>,
    /// Sum N×N pixel blocks before fitting the maps of --maps (pixels left over at the right and bottom
    /// edges are cropped); the profiles are not affected (they already sum along the GB).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub bin: u32,
    /// Figure of the relative profiles (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calibration: CalibrationArgs,
}

#[derive(Args, Debug)]
pub struct ProfileArgs {
    /// Spectrum image (.dm3, .dm4, .npy, .csv/.tsv with an energy calibration).
    pub si: PathBuf,
    /// Edge as ELEMENT:START-END in eV, optionally :PRE_START-PRE_END, e.g. Sr:1940-2100 (repeatable).
    #[arg(long = "edge", required = true)]
    pub edges: Vec<String>,
    /// Pre-edge window for edges without their own: "auto" ([0.90, 0.98] × onset) or A-B in eV.
    #[arg(long, default_value = "auto")]
    pub pre: String,
    /// Simulated composition profile (CSV from `gbion analyze gb --profile-out`: distance_A, <El>_at_percent)
    /// drawn beside the measured profiles in --plot, on one distance axis in Å.
    #[arg(long)]
    pub simulated: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct VibArgs {
    /// Spectrum image with the ZLP at 0 energy loss.
    pub si: PathBuf,
    /// Energy window A-B with units, e.g. 10-50meV (bare numbers: meV; repeatable).
    #[arg(long = "window", required = true)]
    pub windows: Vec<String>,
    /// Background fitting window (repeatable; default: [0.6, 0.9] × the lowest window start and [1.5, 2] ×
    /// the highest window end, where measured).
    #[arg(long = "background")]
    pub background: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// One integrated window: label, windows, integrator and the edges overlapping it.
struct WindowSpec {
    label: String,
    signal: (f64, f64),
    background: Vec<(f64, f64)>,
    overlaps: Vec<Overlap>,
    integrator: WindowIntegrator,
}

#[derive(Serialize)]
struct WindowReport {
    label: String,
    signal_window: (f64, f64),
    background_windows: Vec<(f64, f64)>,
    overlaps: Vec<Overlap>,
    gb_change_percent: f64,
    gb_change_err_percent: f64,
    grain_scatter_err_percent: f64,
    change: GbChange,
    /// Pixels whose background fit failed in the map (only with --maps; binned pixels with --bin).
    map_failed_pixels: Option<usize>,
    profile: ProfileReport,
}

#[derive(Serialize)]
struct Report {
    file: String,
    energy_units: String,
    weighting: Weighting,
    electrons_per_count: f64,
    /// Pixels per side of the blocks summed before the map fits (only with --maps).
    map_bin: Option<u32>,
    geometry: GbGeometry,
    windows: Vec<WindowReport>,
}

pub fn profile(args: ProfileArgs) -> Result<()> {
    let common = &args.common;
    let si = read_spectrum_image(&args.si, &common.calibration)?;
    let weighting = common.weighting.into();
    let specs = args
        .edges
        .iter()
        .map(|text| {
            let edge = parse_edge(text, &args.pre, &si)?;
            let integrator = WindowIntegrator::for_edge(&si.energy, &edge, weighting, common.electrons_per_count)
                .with_context(|| format!("--edge {text}"))?;
            Ok(WindowSpec {
                label: edge.element.clone(),
                signal: edge.signal,
                background: vec![edge.pre_edge],
                overlaps: edge.overlaps(),
                integrator,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let report = analyse(&args.si, &si, specs, common)?;
    if let Some(plot) = &common.plot {
        plot_profiles(plot, &report, &si, args.simulated.as_deref())?;
    }
    finish(&report, common)
}

pub fn vib(args: VibArgs) -> Result<()> {
    let common = &args.common;
    let si = read_spectrum_image(&args.si, &common.calibration)?;
    let windows = args
        .windows
        .iter()
        .map(|w| parse_window(w, "meV", &si.energy))
        .collect::<Result<Vec<_>>>()?;
    let background = args
        .background
        .iter()
        .map(|w| parse_window(w, "meV", &si.energy))
        .collect::<Result<Vec<_>>>()?;
    let vib::VibIntegrators {
        background,
        integrators,
    } = vib::integrators(
        &si.energy,
        &windows,
        &background,
        common.weighting.into(),
        common.electrons_per_count,
    )?;
    let specs = args
        .windows
        .iter()
        .zip(windows)
        .zip(integrators)
        .map(|((label, signal), integrator)| WindowSpec {
            label: label.clone(),
            signal,
            background: background.clone(),
            overlaps: vec![],
            integrator,
        })
        .collect();
    let report = analyse(&args.si, &si, specs, common)?;
    if let Some(plot) = &common.plot {
        plot_profiles(plot, &report, &si, None)?;
    }
    finish(&report, common)
}

/// `Sr:1940-2100` or `Sr:1940-2100:1800-1930` (eV) → an edge window.
fn parse_edge(text: &str, default_pre: &str, si: &SpectrumImage) -> Result<EdgeWindow> {
    let mut parts = text.split(':');
    let (Some(element), Some(signal)) = (parts.next(), parts.next()) else {
        bail!("--edge {text:?}: expected ELEMENT:START-END, e.g. Sr:1940-2100");
    };
    let signal = parse_window(signal, "eV", &si.energy).with_context(|| format!("--edge {text}"))?;
    let pre = parts.next().unwrap_or(default_pre);
    let mut edge = EdgeWindow::with_auto_pre_edge(element.trim(), signal);
    if pre != "auto" {
        edge.pre_edge = parse_window(pre, "eV", &si.energy).with_context(|| format!("pre-edge window of {text}"))?;
    }
    Ok(edge)
}

fn analyse(path: &Path, si: &SpectrumImage, specs: Vec<WindowSpec>, common: &CommonArgs) -> Result<Report> {
    let (gb_along, direction) = common.gb.axis(|| match &common.haadf {
        Some(haadf) => read_image(haadf, &common.calibration),
        None => Ok(si.total_image()),
    })?;
    let profiles = specs
        .iter()
        .map(|s| {
            s.integrator
                .profile(si, gb_along)
                .with_context(|| format!("{} profile", s.label))
        })
        .collect::<Result<Vec<_>>>()?;
    let values: Vec<&[f64]> = profiles.iter().map(|p| p.value.as_slice()).collect();
    let windows = common.gb.windows(&values)?;
    let across = if gb_along == gbion_microscopy::data::ImageAxis::Y {
        &si.x
    } else {
        &si.y
    };
    let geometry = GbGeometry {
        gb_along,
        direction,
        gb_index: windows.gb_index,
        gb_position: profiles[0].position[windows.gb_index],
        units: across.units.clone(),
        windows,
    };
    let binned = match common.maps {
        Some(_) if common.bin > 1 => {
            let n = common.bin as usize;
            Cow::Owned(si.binned(n, n).with_context(|| format!("--bin {n}"))?)
        }
        _ => Cow::Borrowed(si),
    };
    let mut reports = Vec::new();
    for (spec, profile) in specs.into_iter().zip(&profiles) {
        let change = gb_change(profile, &windows).with_context(|| format!("{} GB change", spec.label))?;
        let map_failed_pixels = match &common.maps {
            Some(prefix) => Some(write_map(prefix, &spec, &binned)?),
            None => None,
        };
        reports.push(WindowReport {
            label: spec.label,
            signal_window: spec.signal,
            background_windows: spec.background,
            overlaps: spec.overlaps,
            gb_change_percent: change.gb_change_percent,
            gb_change_err_percent: change.gb_change_err_percent,
            grain_scatter_err_percent: 100.0 * change.grain_scatter_err / change.grain_mean.abs(),
            change,
            map_failed_pixels,
            profile: ProfileReport::new(profile, windows.gb_index),
        });
    }
    Ok(Report {
        file: path.display().to_string(),
        energy_units: si.energy.units.clone(),
        weighting: common.weighting.into(),
        electrons_per_count: common.electrons_per_count,
        map_bin: common.maps.as_ref().map(|_| common.bin),
        geometry,
        windows: reports,
    })
}

fn write_map(prefix: &Path, spec: &WindowSpec, si: &SpectrumImage) -> Result<usize> {
    let map = spec.integrator.map(si);
    let name = |ext: &str| {
        let mut s = prefix.as_os_str().to_owned();
        s.push(format!("-{}.{ext}", spec.label.replace(['/', ' '], "_")));
        PathBuf::from(s)
    };
    write_atomic(&name("csv"), |w| {
        for row in map.net.chunks(map.nx) {
            let line: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
            writeln!(w, "{}", line.join(","))?;
        }
        Ok(())
    })?;
    // Failed pixels are drawn as 0 (the CSV keeps them as NaN and the report counts them).
    let drawable: Vec<f64> = map.net.iter().map(|v| if v.is_finite() { *v } else { 0.0 }).collect();
    let title = format!("{} net counts", spec.label);
    heatmap(&name("png"), &title, &drawable, map.nx, map.ny, "counts")?;
    Ok(map.failed)
}

fn finish(report: &Report, common: &CommonArgs) -> Result<()> {
    if let Some(path) = &common.profile_out {
        write_profiles(path, report)?;
    }
    emit(common.json, report, || human(report))
}

fn write_profiles(path: &Path, report: &Report) -> Result<()> {
    write_atomic(path, |w| {
        let mut header = format!("distance_{}", report.geometry.units);
        for r in &report.windows {
            write!(header, ",{0},{0}_sigma", r.label)?;
        }
        writeln!(w, "{header}")?;
        for i in 0..report.windows[0].profile.distance.len() {
            let mut line = format!("{}", report.windows[0].profile.distance[i]);
            for r in &report.windows {
                write!(line, ",{},{}", r.profile.value[i], r.profile.sigma[i])?;
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
}

fn human(report: &Report) -> String {
    let g = &report.geometry;
    let mut out = format!("{}: GB along {:?}", report.file, g.gb_along);
    if let Some(d) = &g.direction {
        let _ = write!(
            out,
            " (found: line at {:.1}°, coherence {:.2})",
            d.line_angle_deg, d.coherence
        );
    }
    let _ = writeln!(out, ", at pixel {} ({:.3} {})", g.gb_index, g.gb_position, g.units);
    for r in &report.windows {
        let (a, b) = r.signal_window;
        let _ = writeln!(
            out,
            "  {:<10} {a}–{b} {}: {}",
            r.label,
            report.energy_units,
            describe_change(&r.change)
        );
        for o in &r.overlaps {
            let _ = writeln!(
                out,
                "      warning: {} onset {} eV lies in the {} window",
                o.edge, o.onset_ev, o.window
            );
        }
    }
    out
}

/// Relative profiles (grain mean = 1) with error bars; with a simulated profile, both on one axis in Å.
fn plot_profiles(path: &Path, report: &Report, si: &SpectrumImage, simulated: Option<&Path>) -> Result<()> {
    let g = &report.geometry;
    let across = if g.gb_along == gbion_microscopy::data::ImageAxis::Y {
        &si.x
    } else {
        &si.y
    };
    let (scale, x_label) = match simulated {
        Some(_) => (angstrom_per_unit(across)?, "distance from GB (Å)".to_string()),
        None => (
            1.0,
            format!(
                "distance from GB ({})",
                if g.units.is_empty() { "px" } else { &g.units }
            ),
        ),
    };
    let mut series: Vec<Series> = report
        .windows
        .iter()
        .map(|r| {
            let m = r.change.grain_mean;
            let x = r.profile.distance.iter().map(|d| d * scale).collect();
            let y = r.profile.value.iter().map(|v| v / m).collect();
            let err = r.profile.sigma.iter().map(|s| s / m.abs()).collect();
            Series::points(format!("{} (measured)", r.label), x, y, Some(err))
        })
        .collect();
    if let Some(path) = simulated {
        let measured: Vec<&str> = report.windows.iter().map(|r| r.label.as_str()).collect();
        let profiles = simulated::read(path)?;
        let any_match = profiles.iter().any(|p| measured.contains(&p.element.as_str()));
        for p in profiles
            .iter()
            .filter(|p| !any_match || measured.contains(&p.element.as_str()))
        {
            series.push(Series::line(
                format!("{} (simulated)", p.element),
                p.distance_a.clone(),
                p.relative()?,
            ));
        }
    }
    line_plot(
        path,
        "EELS profiles across the GB",
        &x_label,
        "relative to grains",
        &series,
        false,
        false,
    )
}
