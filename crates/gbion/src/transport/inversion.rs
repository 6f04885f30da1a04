//! `gbion transport fit-erfc | fit-evolution | gb-step | fit-image | fraction`: inversion of measured SIMS
//! line scans and images (paper 003) with gbion_transport's readers and fits. Quantities on the command
//! line accept units ("59h", "1um", "2.6e-8 cm^2/s"); JSON reports D in cm²/s and D_gb/δ in cm/s.

use super::common::{
    M_S_TO_CM_S, M2_S_TO_CM2_S, PER_M_TO_PER_CM, diffusivity, length_mm, length_nm, length_um, time_s, write_image_csv,
};
use crate::output::emit;
use crate::plot::{Series, heatmap, line_plot};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use gbion_transport::fit::erfc::{ErfcFit, fit_erfc};
use gbion_transport::fit::evolution::{Grid1d, TimedProfile, fit_evolution};
use gbion_transport::fit::gb_step::{
    BatchEntry, GbStep, PixelLine, StepDistribution, StepOptions, analyse_grain_map, analyse_lines, analyse_step,
};
use gbion_transport::fit::image::{ImageExperiment, SourceEdge, fit_image};
use gbion_transport::io::{read_grain_map, read_isotope_image, read_line_scan, read_pixel_lines};
use gbion_transport::isotope::{
    FractionImage, FractionProfile, NATURAL_6LI_FRACTION, isotope_image_fraction, normalise_image, scan_fraction,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum InversionCmd {
    /// Fit eqn 4 (erfc with the liquid-level offset x0) to a line scan measured after exchange.
    FitErfc {
        /// Line-scan CSV: position column with unit suffix (x_mm) and a 6Li fraction or 6Li/7Li counts.
        scan: PathBuf,
        /// Exchange time, e.g. "59h" (bare number: seconds).
        #[arg(long, value_parser = time_s)]
        time: f64,
        #[arg(long)]
        json: bool,
        /// Figure of data and fit (.png or .svg).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Fit D_eff to the time evolution of stored profiles (no flux at both ends) from a measured initial one.
    FitEvolution {
        /// The profile at the start of storage (line-scan CSV).
        initial: PathBuf,
        /// Later profiles as FILE@TIME, e.g. later.csv@2w (time since the initial profile).
        #[arg(required = true)]
        later: Vec<String>,
        /// Start from the erfc fit of the initial profile for this exchange time (the paper's smooth initial
        /// condition) instead of the interpolated measurement.
        #[arg(long, value_parser = time_s)]
        initial_erfc_time: Option<f64>,
        /// The sample's ends (no-flux faces) along the scan, "lo,hi" with units (bare numbers: mm); default:
        /// the measured range of the initial profile.
        #[arg(long, allow_hyphen_values = true)]
        sample_ends: Option<String>,
        /// Cells of the 1D simulation grid.
        #[arg(long, default_value_t = 400)]
        cells: usize,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// GB step analysis (eqns 2–3): D_gb/δ from the bulk gradient and the step across a GB, on one line,
    /// a file of lines, or every boundary of a grain map.
    GbStep {
        /// Fraction image, or 6Li,7Li count images ("a.tif,b.tif"), or a two-page TIFF.
        image: String,
        /// One line x0,y0,x1,y1 in pixels (pixel centres at integers; x = column, y = row).
        #[arg(long, allow_hyphen_values = true)]
        line: Option<String>,
        /// A file of lines, one x0,y0,x1,y1 per row (batch).
        #[arg(long)]
        lines: Option<PathBuf>,
        /// A grain map (same pixel grid): one line across every pair of adjacent grains (batch).
        #[arg(long)]
        grains: Option<PathBuf>,
        /// Bulk tracer diffusivity, e.g. "2.6e-8" (bare number: cm²/s).
        #[arg(long, value_parser = diffusivity)]
        d_bulk: f64,
        /// Pixel size, e.g. "1um" (bare number: µm).
        #[arg(long, value_parser = length_um)]
        pixel: f64,
        /// GB width δ for D_gb = (D_gb/δ) δ, e.g. "0.5nm" (bare number: nm).
        #[arg(long, value_parser = length_nm, default_value = "0.5nm")]
        delta: f64,
        /// GB position along a single line (pixels from its start); default: the largest step.
        #[arg(long)]
        gb_position: Option<f64>,
        /// Half-width (pixels) around the GB left out of the bulk fits.
        #[arg(long, default_value_t = 1.5)]
        exclude: f64,
        /// Half-length (pixels) of the automatic lines across grain-map boundaries.
        #[arg(long, default_value_t = 15.0)]
        half_length: f64,
        /// Batch: keep GBs whose step and gradient exceed this many σ.
        #[arg(long, default_value_t = 3.0)]
        min_significance: f64,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Fit D_bulk (or hold it) and D_gb/δ to a whole image by forward simulation on its grain map.
    FitImage {
        /// Fraction image, or 6Li,7Li count images, or a two-page TIFF.
        image: String,
        /// Grain map on the same pixel grid (integer ids).
        #[arg(long)]
        grains: PathBuf,
        /// Exchange time, e.g. "59h" (bare number: seconds).
        #[arg(long, value_parser = time_s)]
        time: f64,
        /// Pixel size, e.g. "1um" (bare number: µm).
        #[arg(long, value_parser = length_um)]
        pixel: f64,
        /// Hold D_bulk at this value (bare number: cm²/s), e.g. PFG-NMR's 2.6e-8.
        #[arg(long, value_parser = diffusivity)]
        d_bulk: Option<f64>,
        /// The image edge in contact with the source (the liquid level), in file order.
        #[arg(long, value_enum, default_value_t = Edge::FirstRow)]
        source: Edge,
        /// Time steps per forward simulation.
        #[arg(long, default_value_t = 100)]
        steps: usize,
        #[arg(long)]
        json: bool,
        /// Heatmap of the best-fit model image (.png or .svg).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Eqn 1: 6Li fraction image (and its counting σ) from 6Li and 7Li count images.
    Fraction {
        /// "6Li.tif,7Li.tif" (or CSV/TSV matrices), or a two-page TIFF.
        image: String,
        /// Output fraction matrix (CSV).
        #[arg(long)]
        out: PathBuf,
        /// Output per-pixel σ matrix (CSV).
        #[arg(long)]
        sigma_out: Option<PathBuf>,
        /// Write the normalised fraction (C − C_nat)/(C_s − C_nat) for this source fraction C_s instead.
        #[arg(long)]
        normalise_to: Option<f64>,
        /// The natural-abundance baseline C_nat of the normalisation.
        #[arg(long, default_value_t = NATURAL_6LI_FRACTION)]
        baseline: f64,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        plot: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Edge {
    FirstRow,
    LastRow,
    FirstColumn,
    LastColumn,
}

impl From<Edge> for SourceEdge {
    fn from(e: Edge) -> Self {
        match e {
            Edge::FirstRow => SourceEdge::FirstRow,
            Edge::LastRow => SourceEdge::LastRow,
            Edge::FirstColumn => SourceEdge::FirstColumn,
            Edge::LastColumn => SourceEdge::LastColumn,
        }
    }
}

pub fn run(cmd: InversionCmd) -> Result<()> {
    match cmd {
        InversionCmd::FitErfc { scan, time, json, plot } => run_fit_erfc(&scan, time, json, plot.as_deref()),
        InversionCmd::FitEvolution {
            initial,
            later,
            initial_erfc_time,
            sample_ends,
            cells,
            json,
            plot,
        } => {
            let ends = sample_ends.as_deref().map(parse_ends).transpose()?;
            run_fit_evolution(&initial, &later, initial_erfc_time, ends, cells, json, plot.as_deref())
        }
        InversionCmd::GbStep {
            image,
            line,
            lines,
            grains,
            d_bulk,
            pixel,
            delta,
            gb_position,
            exclude,
            half_length,
            min_significance,
            json,
            plot,
        } => {
            let setup = StepSetup {
                d_bulk,
                pixel,
                delta,
                options: StepOptions {
                    gb_position_px: gb_position,
                    exclude_px: exclude,
                    ..StepOptions::default()
                },
                half_length,
                min_significance,
            };
            let fraction = read_fraction_image(&image)?;
            match (line, lines, grains) {
                (Some(l), None, None) => run_gb_step_single(&fraction, &parse_line(&l)?, &setup, json, plot.as_deref()),
                (None, Some(file), None) => {
                    let lines: Vec<PixelLine> = read_pixel_lines(&file)?.into_iter().map(to_pixel_line).collect();
                    let valid = Some(fraction.valid.as_slice());
                    let (entries, dist) = analyse_lines(
                        &fraction.fraction,
                        valid,
                        &lines,
                        setup.d_bulk,
                        setup.pixel,
                        &setup.options,
                        setup.min_significance,
                    );
                    report_batch(&entries, dist, &setup, json, plot.as_deref())
                }
                (None, None, Some(map_path)) => {
                    let map = read_grain_map(&map_path)?;
                    let (entries, dist) = analyse_grain_map(
                        &fraction.fraction,
                        Some(&fraction.valid),
                        &map,
                        setup.d_bulk,
                        setup.pixel,
                        &setup.options,
                        setup.half_length,
                        setup.min_significance,
                    )?;
                    report_batch(&entries, dist, &setup, json, plot.as_deref())
                }
                _ => bail!("give exactly one of --line, --lines, --grains"),
            }
        }
        InversionCmd::FitImage {
            image,
            grains,
            time,
            pixel,
            d_bulk,
            source,
            steps,
            json,
            plot,
        } => {
            let experiment = ImageExperiment {
                pixel_m: pixel,
                exchange_time_s: time,
                source: source.into(),
                time_steps: steps,
                fixed_d_bulk_m2_s: d_bulk,
            };
            run_fit_image(&image, &grains, experiment, json, plot.as_deref())
        }
        InversionCmd::Fraction {
            image,
            out,
            sigma_out,
            normalise_to,
            baseline,
            json,
            plot,
        } => {
            let normalise = normalise_to.map(|c_s| (baseline, c_s));
            run_fraction(&image, &out, sigma_out.as_deref(), normalise, json, plot.as_deref())
        }
    }
}

fn read_profile(path: &Path) -> Result<FractionProfile> {
    let scan = read_line_scan(path)?;
    scan_fraction(&scan).with_context(|| format!("{}: 6Li fraction", path.display()))
}

fn read_fraction_image(spec: &str) -> Result<FractionImage> {
    let image = read_isotope_image(spec)?;
    isotope_image_fraction(&image).with_context(|| format!("{spec}: 6Li fraction"))
}

fn mm(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v / 1e-3).collect()
}

#[derive(Serialize)]
struct ErfcReport {
    #[serde(rename = "D_eff_cm2_s")]
    d_eff: f64,
    #[serde(rename = "D_eff_err_cm2_s")]
    d_eff_err: f64,
    #[serde(rename = "C_s")]
    c_s: f64,
    #[serde(rename = "C_s_err")]
    c_s_err: f64,
    #[serde(rename = "C_0")]
    c_0: f64,
    #[serde(rename = "C_0_err")]
    c_0_err: f64,
    x0_mm: f64,
    x0_err_mm: f64,
    time_s: f64,
    reduced_chi2: f64,
    n_points: usize,
}

impl ErfcReport {
    fn new(fit: &ErfcFit) -> Self {
        Self {
            d_eff: fit.profile.d_m2_s * M2_S_TO_CM2_S,
            d_eff_err: fit.d_err_m2_s * M2_S_TO_CM2_S,
            c_s: fit.profile.c_s,
            c_s_err: fit.c_s_err,
            c_0: fit.profile.c_0,
            c_0_err: fit.c_0_err,
            x0_mm: fit.profile.x0_m / 1e-3,
            x0_err_mm: fit.x0_err_m / 1e-3,
            time_s: fit.profile.t_s,
            reduced_chi2: fit.reduced_chi2,
            n_points: fit.n_points,
        }
    }
}

fn run_fit_erfc(scan: &Path, t: f64, json: bool, plot: Option<&Path>) -> Result<()> {
    let profile = read_profile(scan)?;
    let fit = fit_erfc(&profile.position_m, &profile.fraction, profile.sigma.as_deref(), t)
        .with_context(|| format!("erfc fit of {}", scan.display()))?;
    if let Some(path) = plot {
        let (lo, hi) = min_max(&profile.position_m);
        let xs: Vec<f64> = (0..300).map(|i| lo + (hi - lo) * i as f64 / 299.0).collect();
        let series = [
            Series::points(
                "measured",
                mm(&profile.position_m),
                profile.fraction.clone(),
                profile.sigma.clone(),
            ),
            Series::line("eqn 4 fit", mm(&xs), xs.iter().map(|&x| fit.profile.eval(x)).collect()),
        ];
        line_plot(
            path,
            "erfc fit (paper 003 eqn 4)",
            "x (mm)",
            "6Li fraction",
            &series,
            false,
            false,
        )?;
    }
    let report = ErfcReport::new(&fit);
    emit(json, &report, || {
        format!(
            "D_eff = {:.3e} ± {:.2e} cm²/s\nC_s = {:.4} ± {:.4}, C_0 = {:.4} ± {:.4}\nliquid level x0 = {:.4} ± {:.4} mm\nχ²_red = {:.3e} ({} points)\n",
            report.d_eff,
            report.d_eff_err,
            report.c_s,
            report.c_s_err,
            report.c_0,
            report.c_0_err,
            report.x0_mm,
            report.x0_err_mm,
            report.reduced_chi2,
            report.n_points
        )
    })
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    })
}

/// `lo,hi` lengths (bare numbers in mm) → metres.
fn parse_ends(s: &str) -> Result<(f64, f64)> {
    let (lo, hi) = s
        .split_once(',')
        .with_context(|| format!("--sample-ends {s:?}: expected lo,hi"))?;
    let end = |v: &str| length_mm(v.trim()).map_err(|e| anyhow!("--sample-ends: {e}"));
    let (lo, hi) = (end(lo)?, end(hi)?);
    if hi <= lo {
        bail!("--sample-ends {s:?}: the upper end must exceed the lower");
    }
    Ok((lo, hi))
}

/// `FILE@TIME` → (path, seconds).
fn parse_timed(spec: &str) -> Result<(PathBuf, f64)> {
    let (path, time) = spec
        .rsplit_once('@')
        .with_context(|| format!("{spec:?}: expected FILE@TIME, e.g. later.csv@2w"))?;
    let t = time_s(time).map_err(|e| anyhow!("time in {spec:?}: {e}"))?;
    Ok((PathBuf::from(path), t))
}

#[derive(Serialize)]
struct EvolutionReport {
    #[serde(rename = "D_eff_cm2_s")]
    d_eff: f64,
    #[serde(rename = "D_eff_err_cm2_s")]
    d_eff_err: f64,
    reduced_chi2: f64,
    n_points: usize,
    times_s: Vec<f64>,
}

fn run_fit_evolution(
    initial: &Path,
    later: &[String],
    erfc_time: Option<f64>,
    ends: Option<(f64, f64)>,
    cells: usize,
    json: bool,
    plot: Option<&Path>,
) -> Result<()> {
    let start = read_profile(initial)?;
    let grid = match erfc_time {
        None => Grid1d::from_profile(&start.position_m, &start.fraction, cells, ends)?,
        Some(t) => {
            let fit = fit_erfc(&start.position_m, &start.fraction, start.sigma.as_deref(), t)
                .with_context(|| format!("erfc fit of {}", initial.display()))?;
            let (lo, hi) = ends.unwrap_or_else(|| min_max(&start.position_m));
            Grid1d::from_fn(lo, hi, cells, |x| fit.profile.eval(x))?
        }
    };
    let profiles = later
        .iter()
        .map(|spec| {
            let (path, t) = parse_timed(spec)?;
            let p = read_profile(&path)?;
            Ok(TimedProfile {
                position_m: p.position_m,
                fraction: p.fraction,
                sigma: p.sigma,
                time_s: t,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let fit = fit_evolution(&grid, &profiles).context("time-evolution fit")?;
    if let Some(path) = plot {
        let xg: Vec<f64> = (0..grid.values.len())
            .map(|i| grid.x_lo_m + (i as f64 + 0.5) * grid.dx_m)
            .collect();
        let mut series = vec![Series::line("initial", mm(&xg), grid.values.clone())];
        for (p, field) in profiles.iter().zip(&fit.simulated) {
            let days = p.time_s / 86400.0;
            series.push(Series::points(
                format!("measured {days:.1} d"),
                mm(&p.position_m),
                p.fraction.clone(),
                None,
            ));
            series.push(Series::line(format!("simulated {days:.1} d"), mm(&xg), field.clone()));
        }
        line_plot(
            path,
            "time evolution during storage",
            "x (mm)",
            "6Li fraction",
            &series,
            false,
            false,
        )?;
    }
    let report = EvolutionReport {
        d_eff: fit.d_m2_s * M2_S_TO_CM2_S,
        d_eff_err: fit.d_err_m2_s * M2_S_TO_CM2_S,
        reduced_chi2: fit.reduced_chi2,
        n_points: fit.n_points,
        times_s: profiles.iter().map(|p| p.time_s).collect(),
    };
    emit(json, &report, || {
        format!(
            "D_eff = {:.3e} ± {:.2e} cm²/s (χ²_red = {:.3e}, {} points)\n",
            report.d_eff, report.d_eff_err, report.reduced_chi2, report.n_points
        )
    })
}

struct StepSetup {
    d_bulk: f64,
    pixel: f64,
    delta: f64,
    options: StepOptions,
    half_length: f64,
    min_significance: f64,
}

fn parse_line(s: &str) -> Result<PixelLine> {
    let v: Vec<f64> = s
        .split(',')
        .map(|f| f.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("--line {s:?}: expected four numbers x0,y0,x1,y1 (pixels)"))?;
    if v.len() != 4 {
        bail!(
            "--line {s:?}: expected four numbers x0,y0,x1,y1 (pixels), got {}",
            v.len()
        );
    }
    Ok(to_pixel_line([v[0], v[1], v[2], v[3]]))
}

fn to_pixel_line(v: [f64; 4]) -> PixelLine {
    PixelLine {
        start: [v[0], v[1]],
        end: [v[2], v[3]],
    }
}

#[derive(Serialize)]
struct StepReport {
    #[serde(rename = "D_gb_over_delta_cm_s")]
    ratio: f64,
    #[serde(rename = "D_gb_over_delta_err_cm_s")]
    ratio_err: f64,
    #[serde(rename = "D_gb_cm2_s")]
    d_gb: f64,
    #[serde(rename = "D_gb_err_cm2_s")]
    d_gb_err: f64,
    delta_nm: f64,
    #[serde(rename = "dC_dy_per_cm")]
    gradient: f64,
    #[serde(rename = "dC_dy_err_per_cm")]
    gradient_err: f64,
    #[serde(rename = "delta_C_gb")]
    delta_c: f64,
    #[serde(rename = "delta_C_gb_err")]
    delta_c_err: f64,
    gb_position_px: f64,
}

impl StepReport {
    fn new(step: &GbStep, delta: f64) -> Self {
        let (d_gb, d_gb_err) = step.d_gb_m2_s(delta);
        Self {
            ratio: step.d_gb_over_delta_m_s * M_S_TO_CM_S,
            ratio_err: step.d_gb_over_delta_err_m_s * M_S_TO_CM_S,
            d_gb: d_gb * M2_S_TO_CM2_S,
            d_gb_err: d_gb_err * M2_S_TO_CM2_S,
            delta_nm: delta / 1e-9,
            gradient: step.gradient_per_m * PER_M_TO_PER_CM,
            gradient_err: step.gradient_err_per_m * PER_M_TO_PER_CM,
            delta_c: step.delta_c,
            delta_c_err: step.delta_c_err,
            gb_position_px: step.gb_position_px,
        }
    }
}

fn run_gb_step_single(
    fraction: &FractionImage,
    line: &PixelLine,
    setup: &StepSetup,
    json: bool,
    plot: Option<&Path>,
) -> Result<()> {
    let step = analyse_step(
        &fraction.fraction,
        Some(&fraction.valid),
        line,
        setup.d_bulk,
        setup.pixel,
        &setup.options,
    )
    .context("GB step analysis")?;
    if let Some(path) = plot {
        plot_step(path, &step, setup.pixel)?;
    }
    let r = StepReport::new(&step, setup.delta);
    emit(json, &r, || {
        format!(
            "GB at {:.2} px along the line\n∂C/∂y = {:.3e} ± {:.2e} cm⁻¹, ΔC_gb = {:.4e} ± {:.2e}\nD_gb/δ = {:.3e} ± {:.2e} cm/s\nD_gb = {:.3e} ± {:.2e} cm²/s (δ = {} nm)\n",
            r.gb_position_px,
            r.gradient,
            r.gradient_err,
            r.delta_c,
            r.delta_c_err,
            r.ratio,
            r.ratio_err,
            r.d_gb,
            r.d_gb_err,
            r.delta_nm
        )
    })
}

/// Samples along the line and the two quadratic bulk fits, against distance in µm.
fn plot_step(path: &Path, step: &GbStep, pixel: f64) -> Result<()> {
    let um = pixel / 1e-6;
    let (s, v): (Vec<f64>, Vec<f64>) = step.samples.iter().map(|&(s, v)| (s * um, v)).unzip();
    let gb = step.gb_position_px;
    let side_curve = |fit: &gbion_transport::fit::gb_step::SideFit, sign: f64| {
        // The samples of this side plus the GB itself, to show the extrapolation.
        let mut ts: Vec<f64> = step
            .samples
            .iter()
            .map(|&(s, _)| s - gb)
            .filter(|t| t * sign > 0.0)
            .collect();
        ts.push(0.0);
        ts.sort_by(f64::total_cmp);
        let y = ts
            .iter()
            .map(|&t| {
                let tm = t * pixel;
                fit.value_at_gb + fit.gradient_per_m * tm + fit.curvature_per_m2 * tm * tm
            })
            .collect();
        (ts.iter().map(|t| (t + gb) * um).collect::<Vec<_>>(), y)
    };
    let (xb, yb) = side_curve(&step.before, -1.0);
    let (xa, ya) = side_curve(&step.after, 1.0);
    let series = [
        Series::points("measured", s, v, None),
        Series::line("bulk fit (before GB)", xb, yb),
        Series::line("bulk fit (after GB)", xa, ya),
    ];
    line_plot(
        path,
        "GB step analysis (paper 003 eqns 2-3)",
        "distance along line (µm)",
        "6Li fraction",
        &series,
        false,
        false,
    )
}

#[derive(Serialize)]
struct BatchLine {
    grains: Option<(u32, u32)>,
    line_px: [f64; 4],
    #[serde(flatten)]
    result: Option<StepReport>,
    rejected: Option<String>,
}

#[derive(Serialize)]
struct BatchReport {
    #[serde(rename = "D_gb_over_delta_cm_s")]
    mean: Option<f64>,
    #[serde(rename = "D_gb_over_delta_median_cm_s")]
    median: Option<f64>,
    #[serde(rename = "D_gb_over_delta_std_cm_s")]
    std: Option<f64>,
    #[serde(rename = "D_gb_mean_cm2_s")]
    d_gb_mean: Option<f64>,
    n_lines: usize,
    n_accepted: usize,
    lines: Vec<BatchLine>,
}

fn report_batch(
    entries: &[BatchEntry],
    dist: Option<StepDistribution>,
    setup: &StepSetup,
    json: bool,
    plot: Option<&Path>,
) -> Result<()> {
    let lines: Vec<BatchLine> = entries
        .iter()
        .map(|e| BatchLine {
            grains: e.grains,
            line_px: [e.line.start[0], e.line.start[1], e.line.end[0], e.line.end[1]],
            result: e.result.as_ref().ok().map(|s| StepReport::new(s, setup.delta)),
            rejected: e.result.as_ref().err().cloned(),
        })
        .collect();
    let accepted: Vec<&StepReport> = lines.iter().filter_map(|l| l.result.as_ref()).collect();
    if let Some(path) = plot
        && !accepted.is_empty()
    {
        let series = [Series::points(
            "D_gb/δ per GB",
            (0..accepted.len()).map(|i| i as f64).collect(),
            accepted.iter().map(|r| r.ratio).collect(),
            Some(accepted.iter().map(|r| r.ratio_err).collect()),
        )];
        line_plot(
            path,
            "GB step analysis over many GBs",
            "GB index",
            "D_gb/δ (cm/s)",
            &series,
            false,
            false,
        )?;
    }
    let report = BatchReport {
        mean: dist.as_ref().map(|d| d.mean * M_S_TO_CM_S),
        median: dist.as_ref().map(|d| d.median * M_S_TO_CM_S),
        std: dist.as_ref().map(|d| d.std * M_S_TO_CM_S),
        d_gb_mean: dist.as_ref().map(|d| d.mean * setup.delta * M2_S_TO_CM2_S),
        n_lines: entries.len(),
        n_accepted: accepted.len(),
        lines,
    };
    emit(json, &report, || {
        match (report.mean, report.median, report.std, report.d_gb_mean) {
            (Some(mean), Some(median), Some(std), Some(d_gb)) => format!(
                "{} of {} GBs analysed\nD_gb/δ: mean {:.3e}, median {:.3e}, std {:.2e} cm/s\nD_gb mean {:.3e} cm²/s (δ = {} nm)\n",
                report.n_accepted,
                report.n_lines,
                mean,
                median,
                std,
                d_gb,
                setup.delta / 1e-9
            ),
            _ => format!("none of {} GBs gave a significant step\n", report.n_lines),
        }
    })
}

#[derive(Serialize)]
struct ImageReport {
    #[serde(rename = "D_bulk_cm2_s")]
    d_bulk: f64,
    #[serde(rename = "D_bulk_err_cm2_s")]
    d_bulk_err: Option<f64>,
    d_bulk_fixed: bool,
    #[serde(rename = "D_gb_over_delta_cm_s")]
    ratio: f64,
    #[serde(rename = "D_gb_over_delta_err_cm_s")]
    ratio_err: f64,
    #[serde(rename = "D_eff_cm2_s")]
    d_eff: f64,
    #[serde(rename = "C_s")]
    c_s: f64,
    #[serde(rename = "C_0")]
    c_0: f64,
    reduced_chi2: f64,
    n_pixels: usize,
}

fn run_fit_image(
    spec: &str,
    grains: &Path,
    experiment: ImageExperiment,
    json: bool,
    plot: Option<&Path>,
) -> Result<()> {
    let fraction = read_fraction_image(spec)?;
    let map = read_grain_map(grains)?;
    let fit = fit_image(
        &fraction.fraction,
        &fraction.valid,
        fraction.sigma.as_ref(),
        &map,
        experiment,
    )
    .context("image fit")?;
    if let Some(path) = plot {
        let img = &fraction.fraction;
        heatmap(path, "best-fit model image", &fit.model, img.nx, img.ny, "6Li fraction")?;
    }
    let r = ImageReport {
        d_bulk: fit.d_bulk_m2_s * M2_S_TO_CM2_S,
        d_bulk_err: fit.d_bulk_err_m2_s.map(|e| e * M2_S_TO_CM2_S),
        d_bulk_fixed: fit.d_bulk_err_m2_s.is_none(),
        ratio: fit.gb_conductance_m_s * M_S_TO_CM_S,
        ratio_err: fit.gb_conductance_err_m_s * M_S_TO_CM_S,
        d_eff: fit.d_eff_m2_s * M2_S_TO_CM2_S,
        c_s: fit.c_s,
        c_0: fit.c_0,
        reduced_chi2: fit.reduced_chi2,
        n_pixels: fit.n_pixels,
    };
    emit(json, &r, || {
        let bulk = match r.d_bulk_err {
            Some(e) => format!("D_bulk = {:.3e} ± {:.2e} cm²/s", r.d_bulk, e),
            None => format!("D_bulk = {:.3e} cm²/s (held)", r.d_bulk),
        };
        format!(
            "{bulk}\nD_gb/δ = {:.3e} ± {:.2e} cm/s\nD_eff = {:.3e} cm²/s\nC_s = {:.4}, C_0 = {:.4}, χ²_red = {:.3e} ({} pixels)\n",
            r.ratio, r.ratio_err, r.d_eff, r.c_s, r.c_0, r.reduced_chi2, r.n_pixels
        )
    })
}

#[derive(Serialize)]
struct FractionReport {
    nx: usize,
    ny: usize,
    valid_pixels: usize,
    mean_fraction: f64,
    out: PathBuf,
}

fn run_fraction(
    spec: &str,
    out: &Path,
    sigma_out: Option<&Path>,
    normalise: Option<(f64, f64)>,
    json: bool,
    plot: Option<&Path>,
) -> Result<()> {
    let f = read_fraction_image(spec)?;
    let f = match normalise {
        Some((baseline, c_s)) => normalise_image(&f, baseline, c_s).context("--normalise-to")?,
        None => f,
    };
    let Some(sigma) = &f.sigma else {
        bail!(
            "{spec}: one fraction image given; `fraction` needs 6Li and 7Li counts (\"a.tif,b.tif\" or a two-page TIFF)"
        )
    };
    write_image_csv(out, &f.fraction)?;
    if let Some(p) = sigma_out {
        write_image_csv(p, sigma)?;
    }
    if let Some(p) = plot {
        heatmap(
            p,
            "6Li fraction (eqn 1)",
            &f.fraction.data,
            f.fraction.nx,
            f.fraction.ny,
            "6Li fraction",
        )?;
    }
    let valid = f.valid_count();
    let sum: f64 = f
        .fraction
        .data
        .iter()
        .zip(&f.valid)
        .filter(|(_, v)| **v)
        .map(|(x, _)| x)
        .sum();
    let report = FractionReport {
        nx: f.fraction.nx,
        ny: f.fraction.ny,
        valid_pixels: valid,
        mean_fraction: if valid > 0 { sum / valid as f64 } else { 0.0 },
        out: out.to_path_buf(),
    };
    emit(json, &report, || {
        format!(
            "{} x {} pixels, {} with counts, mean 6Li fraction {:.4}; written to {}\n",
            report.nx,
            report.ny,
            report.valid_pixels,
            report.mean_fraction,
            out.display()
        )
    })
}
