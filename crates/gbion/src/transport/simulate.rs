//! `gbion transport simulate INPUT.toml`: forward simulation of the ⁶Li exchange experiment of paper 003 on
//! a microstructure with thin GBs (gbion_transport::solver), writing lateral-mean profiles, images, the
//! grain map and optional synthetic SIMS channels into an output directory, every file atomically.
//!
//! Orientation: grid row j of every matrix file is y = (j + ½) h, so row 0 is the liquid side when the
//! dipping axis is y; PNG heatmaps show the same rows (row 0 at the top), so there the liquid is at the top.
//! Profiles are along the dipping axis, averaged over the other directions; position column `<axis>_um`.

use super::common::{M_S_TO_CM_S, M2_S_TO_CM2_S, write_image_csv};
use crate::output::{emit, write_atomic};
use crate::plot::{Series, heatmap, line_plot};
use anyhow::{Context, Result, bail, ensure};
use clap::Subcommand;
use gbion_transport::image::Image;
use gbion_transport::io::{read_grain_map, read_matrix_text};
use gbion_transport::isotope::NATURAL_6LI_FRACTION;
use gbion_transport::microstructure::{Axis, GrainStats, Microstructure, label_boundary_image};
use gbion_transport::sims::{SimsChannels, SimsSettings, synthetic_sims};
use gbion_transport::solver::{DiffusionProblem, Phase, Reservoir, Scheme, Snapshot, TimeStepping};
use gbion_units::{parse_diffusivity_m2_s, parse_length_m, parse_time_s, parse_velocity_m_s};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SimulateCmd {
    /// Simulate ⁶Li exchange and storage on a microstructure described by a TOML file (see
    /// examples/transport/simulate_llto.toml); writes profiles, images and synthetic SIMS.
    Simulate {
        /// The input TOML.
        input: PathBuf,
        /// Output directory (default: `output_dir` of the TOML, else `<input stem>_out`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Random seed for the Voronoi microstructure and the SIMS noise (overrides the TOML's).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the PNG figures.
        #[arg(long)]
        no_plots: bool,
    },
}

/// A quantity in the TOML: a string with units (`"59 h"`) or a bare number in the field's default unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Quantity {
    Text(String),
    Number(f64),
}

impl Quantity {
    fn text(&self) -> String {
        match self {
            Quantity::Text(s) => s.clone(),
            Quantity::Number(x) => format!("{x:e}"),
        }
    }
}

/// Read a quantity with one of the gbion_units parsers, naming the TOML field in the error.
fn quantity(
    field: &str,
    q: &Quantity,
    default_unit: &str,
    parse: fn(&str, &str) -> Result<f64, gbion_units::UnitError>,
) -> Result<f64> {
    parse(&q.text(), default_unit).with_context(|| format!("field `{field}`"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    output_dir: Option<PathBuf>,
    #[serde(default)]
    seed: u64,
    grid: GridSpec,
    microstructure: MicroSpec,
    material: MaterialSpec,
    experiment: ExperimentSpec,
    #[serde(default)]
    numerics: NumericsSpec,
    sims: Option<SimsSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridSpec {
    /// Cell edge (default unit µm).
    cell: Quantity,
    nx: Option<usize>,
    ny: Option<usize>,
    #[serde(default = "one")]
    nz: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum MicroSpec {
    Uniform,
    Layered {
        axis: Axis,
        layer_thickness: Vec<Quantity>,
    },
    Voronoi {
        mean_grain_size: Quantity,
        grain_size_spread: Option<Quantity>,
    },
    /// Integer grain ids (CSV/TSV matrix or TIFF), path relative to the TOML.
    GrainMap {
        file: PathBuf,
    },
    /// A boundary image (GB pixels non-zero), labelled into grains.
    BoundaryImage {
        file: PathBuf,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaterialSpec {
    /// D_bulk (default unit cm²/s).
    d_bulk: Quantity,
    /// D_gb/δ (default unit cm/s); or give `d_gb` and `delta`.
    d_gb_over_delta: Option<Quantity>,
    d_gb: Option<Quantity>,
    delta: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentSpec {
    /// ⁶Li fraction of the solution.
    c_s: f64,
    /// Initial ⁶Li fraction (natural abundance by default).
    #[serde(default = "natural")]
    c_0: f64,
    #[serde(default = "axis_y")]
    dipping_axis: Axis,
    /// Liquid level along the dipping axis from the grid's lower face (default unit µm; default 0: only
    /// the lower face touches the solution).
    liquid_level: Option<Quantity>,
    /// Exchange time (default unit h).
    exchange_time: Quantity,
    /// Storage times after the source is removed (default unit h), ascending.
    #[serde(default)]
    storage_times: Vec<Quantity>,
}

fn natural() -> f64 {
    NATURAL_6LI_FRACTION
}

fn axis_y() -> Axis {
    Axis::Y
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumericsSpec {
    #[serde(default = "crank_nicolson")]
    scheme: Scheme,
    /// Longest time step (default unit s); default: the exchange time / 40 (on the example, 40
    /// Crank–Nicolson steps put the largest pointwise error near 1e-4 in the fraction).
    max_dt: Option<Quantity>,
}

impl Default for NumericsSpec {
    fn default() -> Self {
        Self {
            scheme: Scheme::CrankNicolson,
            max_dt: None,
        }
    }
}

fn crank_nicolson() -> Scheme {
    Scheme::CrankNicolson
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimsSpec {
    /// SIMS pixel edge (default unit µm), a whole number of cells; default: the cell.
    pixel: Option<Quantity>,
    /// Beam FWHM (default unit µm); default 0.
    fwhm: Option<Quantity>,
    /// Expected ⁶Li + ⁷Li counts per pixel.
    counts_per_pixel: f64,
}

/// The JSON summary (stable keys; D in cm²/s, D_gb/δ in cm/s, lengths in µm, times in s).
#[derive(Debug, Serialize)]
struct Summary {
    output_dir: PathBuf,
    grid: [usize; 3],
    cell_um: f64,
    n_gb_faces: usize,
    grains: GrainStats,
    d_bulk_cm2_s: f64,
    d_gb_over_delta_cm_s: f64,
    scheme: Scheme,
    n_steps: usize,
    n_factorisations: usize,
    wall_s: f64,
    snapshots: Vec<SnapshotSummary>,
}

#[derive(Debug, Serialize)]
struct SnapshotSummary {
    time_s: f64,
    stage: String,
    mean_fraction: f64,
    profile_csv: PathBuf,
    image_csv: Option<PathBuf>,
    sims_prefix: Option<PathBuf>,
    /// Lateral-mean profile: positions (µm) and fractions, for the figure.
    #[serde(skip)]
    profile: (Vec<f64>, Vec<f64>),
}

pub fn run(cmd: SimulateCmd) -> Result<()> {
    let SimulateCmd::Simulate {
        input,
        out,
        seed,
        json,
        no_plots,
    } = cmd;
    let text = std::fs::read_to_string(&input).with_context(|| format!("cannot read {}", input.display()))?;
    let spec: Input = toml::from_str(&text).with_context(|| format!("in {}", input.display()))?;
    let base = input.parent().unwrap_or(Path::new("."));
    let seed = seed.unwrap_or(spec.seed);
    let out_dir = out.or_else(|| spec.output_dir.clone()).unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}_out",
            input.file_stem().unwrap_or_default().to_string_lossy()
        ))
    });
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;

    // The checks after parsing name the input file too.
    let in_input = || format!("in {}", input.display());
    let micro = build_microstructure(&spec, base, seed).with_context(in_input)?;
    let problem = build_problem(&spec, micro).with_context(in_input)?;
    let (phases, stages) = build_phases(&spec.experiment).with_context(in_input)?;
    let stepping = build_stepping(&spec).with_context(in_input)?;

    let started = std::time::Instant::now();
    let bar = progress_bar(json);
    let solution = problem
        .run_with_progress(&phases, stepping, &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .with_context(|| format!("simulation of {} failed", input.display()))?;
    bar.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();

    let axis = spec.experiment.dipping_axis;
    write_grain_map(&out_dir, &problem.micro)?;
    let sims = spec
        .sims
        .as_ref()
        .map(|s| sims_settings(s, &problem.micro, seed))
        .transpose()?;
    let mut snapshots = Vec::new();
    for (i, snap) in solution.snapshots.iter().enumerate() {
        let stage = stages[snap.phase].clone();
        snapshots.push(write_snapshot(
            &out_dir,
            i,
            &stage,
            snap,
            &problem.micro,
            axis,
            sims.as_ref(),
            !no_plots,
        )?);
    }
    if !no_plots {
        plot_profiles(&out_dir, &snapshots, axis)?;
    }
    let summary = Summary {
        output_dir: out_dir.clone(),
        grid: problem.micro.dims(),
        cell_um: problem.micro.h() * 1e6,
        n_gb_faces: problem.micro.n_gb_faces(),
        grains: problem.micro.grain_stats(),
        d_bulk_cm2_s: problem.d_bulk_m2_s * M2_S_TO_CM2_S,
        d_gb_over_delta_cm_s: problem.gb_conductance_m_s * M_S_TO_CM_S,
        scheme: stepping.scheme,
        n_steps: solution.n_steps,
        n_factorisations: solution.n_factorisations,
        wall_s,
        snapshots,
    };
    write_atomic(&out_dir.join("summary.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &summary)?;
        Ok(())
    })?;
    emit(json, &summary, || human_summary(&summary))
}

fn progress_bar(json: bool) -> indicatif::ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {elapsed} (eta {eta})") {
        bar.set_style(style);
    }
    bar
}

fn human_summary(s: &Summary) -> String {
    let mut text = format!(
        "grid {} × {} × {} at {} µm, {} grains (mean ECD {:.2} ± {:.2} µm), {} GB faces\n\
         D_bulk {:.3e} cm²/s, D_gb/δ {:.3e} cm/s; {:?}, {} steps, {} factorisations, {:.2} s\n",
        s.grid[0],
        s.grid[1],
        s.grid[2],
        s.cell_um,
        s.grains.n_grains,
        s.grains.mean_diameter_m * 1e6,
        s.grains.std_diameter_m * 1e6,
        s.n_gb_faces,
        s.d_bulk_cm2_s,
        s.d_gb_over_delta_cm_s,
        s.scheme,
        s.n_steps,
        s.n_factorisations,
        s.wall_s
    );
    for snap in &s.snapshots {
        text += &format!(
            "  t = {:.4e} s ({}): mean fraction {:.5} → {}\n",
            snap.time_s,
            snap.stage,
            snap.mean_fraction,
            snap.profile_csv.display()
        );
    }
    text += &format!("output in {}\n", s.output_dir.display());
    text
}

fn build_microstructure(spec: &Input, base: &Path, seed: u64) -> Result<Microstructure> {
    let h = quantity("grid.cell", &spec.grid.cell, "um", parse_length_m)?;
    let dims = || -> Result<[usize; 3]> {
        match (spec.grid.nx, spec.grid.ny) {
            (Some(nx), Some(ny)) => Ok([nx, ny, spec.grid.nz]),
            _ => bail!("grid.nx and grid.ny are required unless the microstructure is read from a file"),
        }
    };
    let micro = match &spec.microstructure {
        MicroSpec::Uniform => Microstructure::uniform(dims()?, h)?,
        MicroSpec::Layered { axis, layer_thickness } => {
            let cells = layer_thickness
                .iter()
                .map(|t| {
                    let n = (quantity("microstructure.layer_thickness", t, "um", parse_length_m)? / h).round();
                    ensure!(n >= 1.0, "layer thickness {} is less than one cell", t.text());
                    Ok(n as usize)
                })
                .collect::<Result<Vec<_>>>()?;
            Microstructure::layered(dims()?, h, *axis, &cells)?
        }
        MicroSpec::Voronoi {
            mean_grain_size,
            grain_size_spread,
        } => {
            let mean = quantity("microstructure.mean_grain_size", mean_grain_size, "um", parse_length_m)?;
            let spread = grain_size_spread
                .as_ref()
                .map(|q| quantity("microstructure.grain_size_spread", q, "um", parse_length_m))
                .transpose()?
                .unwrap_or(0.0);
            Microstructure::voronoi(dims()?, h, mean, spread, seed)?
        }
        MicroSpec::GrainMap { file } => {
            let path = base.join(file);
            let map = read_grain_map(&path)?;
            check_map_dims(spec, map.nx, map.ny)?;
            Microstructure::from_grain_map(&map.ids, map.nx, map.ny, h)?
        }
        MicroSpec::BoundaryImage { file } => {
            let path = base.join(file);
            let image = read_matrix_text(&path)?;
            check_map_dims(spec, image.nx, image.ny)?;
            let boundary: Vec<bool> = image.data.iter().map(|&v| v != 0.0).collect();
            let ids = label_boundary_image(&boundary, image.nx, image.ny)?;
            Microstructure::from_grain_map(&ids, image.nx, image.ny, h)?
        }
    };
    Ok(micro)
}

fn check_map_dims(spec: &Input, nx: usize, ny: usize) -> Result<()> {
    ensure!(spec.grid.nz == 1, "a grain map is 2D: grid.nz must be 1");
    for (name, given, actual) in [("nx", spec.grid.nx, nx), ("ny", spec.grid.ny, ny)] {
        if let Some(g) = given {
            ensure!(g == actual, "grid.{name} = {g} but the map has {actual}");
        }
    }
    Ok(())
}

fn build_problem(spec: &Input, micro: Microstructure) -> Result<DiffusionProblem> {
    let m = &spec.material;
    let d_bulk = quantity("material.d_bulk", &m.d_bulk, "cm^2/s", parse_diffusivity_m2_s)?;
    let k_gb = match (&m.d_gb_over_delta, &m.d_gb, &m.delta) {
        (Some(k), None, None) => quantity("material.d_gb_over_delta", k, "cm/s", parse_velocity_m_s)?,
        (None, Some(d), Some(delta)) => {
            let d_gb = quantity("material.d_gb", d, "cm^2/s", parse_diffusivity_m2_s)?;
            let delta = quantity("material.delta", delta, "nm", parse_length_m)?;
            ensure!(delta > 0.0, "material.delta must be > 0");
            d_gb / delta
        }
        _ => bail!("material: give either d_gb_over_delta, or both d_gb and delta"),
    };
    let e = &spec.experiment;
    for (name, c) in [("experiment.c_s", e.c_s), ("experiment.c_0", e.c_0)] {
        ensure!((0.0..=1.0).contains(&c), "{name} = {c} is not a fraction in [0, 1]");
    }
    let level = e
        .liquid_level
        .as_ref()
        .map(|q| quantity("experiment.liquid_level", q, "um", parse_length_m))
        .transpose()?
        .unwrap_or(0.0);
    let mut problem = DiffusionProblem::new(micro, d_bulk, k_gb, e.c_0);
    problem
        .reservoirs
        .push(Reservoir::liquid_bath(e.c_s, e.dipping_axis, level));
    problem.validate()?;
    Ok(problem)
}

/// Exchange, then one storage phase with snapshots at the storage times; with stage labels.
fn build_phases(e: &ExperimentSpec) -> Result<(Vec<Phase>, Vec<String>)> {
    let t_ex = quantity("experiment.exchange_time", &e.exchange_time, "h", parse_time_s)?;
    ensure!(t_ex > 0.0, "experiment.exchange_time must be > 0");
    let mut phases = vec![Phase::exchange(t_ex)];
    let mut stages = vec!["exchange".to_string()];
    if !e.storage_times.is_empty() {
        let times = e
            .storage_times
            .iter()
            .map(|q| quantity("experiment.storage_times", q, "h", parse_time_s))
            .collect::<Result<Vec<_>>>()?;
        ensure!(
            times.windows(2).all(|w| w[0] < w[1]) && times[0] > 0.0,
            "experiment.storage_times must be positive and ascending"
        );
        phases.push(Phase::storage(times));
        stages.push("storage".to_string());
    }
    Ok((phases, stages))
}

fn build_stepping(spec: &Input) -> Result<TimeStepping> {
    let t_ex = quantity(
        "experiment.exchange_time",
        &spec.experiment.exchange_time,
        "h",
        parse_time_s,
    )?;
    let max_dt = match &spec.numerics.max_dt {
        Some(q) => quantity("numerics.max_dt", q, "s", parse_time_s)?,
        None => t_ex / 40.0,
    };
    Ok(TimeStepping {
        scheme: spec.numerics.scheme,
        max_dt_s: max_dt,
    })
}

fn sims_settings(s: &SimsSpec, micro: &Microstructure, seed: u64) -> Result<SimsSettings> {
    let h = micro.h();
    let block = match &s.pixel {
        Some(q) => quantity("sims.pixel", q, "um", parse_length_m)? / h,
        None => 1.0,
    };
    ensure!(
        block >= 1.0 && (block - block.round()).abs() < 1e-9,
        "sims.pixel must be a whole number of cells ({block} cells given)"
    );
    let block = block.round() as usize;
    let fwhm_px = match &s.fwhm {
        Some(q) => quantity("sims.fwhm", q, "um", parse_length_m)? / (h * block as f64),
        None => 0.0,
    };
    Ok(SimsSettings {
        block,
        fwhm_px,
        counts_per_pixel: s.counts_per_pixel,
        seed,
    })
}

/// The z = 0 layer of a field (the imaged surface), nx × ny.
fn surface(field: &[f64], micro: &Microstructure) -> Result<Image> {
    let [nx, ny, _] = micro.dims();
    Ok(Image::new(nx, ny, field[..nx * ny].to_vec())?)
}

/// Mean of the field over the planes normal to `axis`, with the plane centres (µm).
fn lateral_profile(field: &[f64], micro: &Microstructure, axis: Axis) -> (Vec<f64>, Vec<f64>) {
    let a = axis.index();
    let n = micro.dims()[a];
    let mut sum = vec![0.0; n];
    let mut count = vec![0usize; n];
    for (idx, &c) in field.iter().enumerate() {
        let k = micro.coords(idx)[a];
        sum[k] += c;
        count[k] += 1;
    }
    let x = (0..n).map(|k| (k as f64 + 0.5) * micro.h() * 1e6).collect();
    let mean = sum.iter().zip(&count).map(|(s, &c)| s / c as f64).collect();
    (x, mean)
}

fn axis_name(axis: Axis) -> &'static str {
    match axis {
        Axis::X => "x",
        Axis::Y => "y",
        Axis::Z => "z",
    }
}

fn write_csv_matrix(path: &Path, nx: usize, ny: usize, data: Vec<f64>) -> Result<()> {
    write_image_csv(path, &Image::new(nx, ny, data)?)
}

fn write_grain_map(out_dir: &Path, micro: &Microstructure) -> Result<()> {
    let [nx, ny, _] = micro.dims();
    let ids = micro.grains()[..nx * ny].iter().map(|&g| g as f64).collect();
    write_csv_matrix(&out_dir.join("grains.csv"), nx, ny, ids)
}

#[allow(clippy::too_many_arguments)]
fn write_snapshot(
    out_dir: &Path,
    i: usize,
    stage: &str,
    snap: &Snapshot,
    micro: &Microstructure,
    axis: Axis,
    sims: Option<&SimsSettings>,
    plots: bool,
) -> Result<SnapshotSummary> {
    let (x, profile) = lateral_profile(&snap.field, micro, axis);
    let profile_csv = out_dir.join(format!("profile_{i}.csv"));
    write_atomic(&profile_csv, |w| {
        writeln!(w, "{}_um,fraction", axis_name(axis))?;
        for (xi, ci) in x.iter().zip(&profile) {
            writeln!(w, "{xi:e},{ci:e}")?;
        }
        Ok(())
    })?;
    let [nx, ny, _] = micro.dims();
    let image_csv = (ny > 1).then(|| out_dir.join(format!("image_{i}.csv")));
    let img = surface(&snap.field, micro)?;
    if let Some(path) = &image_csv {
        write_csv_matrix(path, nx, ny, img.data.clone())?;
        if plots {
            let title = format!(
                "6Li fraction, {stage}, t = {:.1} h (row 0 = y = 0, the liquid side)",
                snap.time_s / 3600.0
            );
            heatmap(
                &out_dir.join(format!("image_{i}.png")),
                &title,
                &img.data,
                nx,
                ny,
                "6Li fraction",
            )?;
        }
    }
    let sims_prefix = match sims {
        Some(settings) if ny > 1 => {
            let prefix = out_dir.join(format!("sims_{i}"));
            write_sims(
                &prefix,
                &synthetic_sims(
                    &img,
                    &SimsSettings {
                        seed: settings.seed + i as u64,
                        ..*settings
                    },
                )?,
            )?;
            Some(prefix)
        }
        _ => None,
    };
    let mean_fraction = snap.field.iter().sum::<f64>() / snap.field.len() as f64;
    Ok(SnapshotSummary {
        time_s: snap.time_s,
        stage: stage.to_string(),
        mean_fraction,
        profile_csv,
        image_csv,
        sims_prefix,
        profile: (x, profile),
    })
}

/// `<prefix>_li6.csv`, `<prefix>_li7.csv` (counts) and `<prefix>_fraction.csv` (eqn 1; `nan` where a
/// pixel got no counts, reported on stderr).
fn write_sims(prefix: &Path, ch: &SimsChannels) -> Result<()> {
    let with_suffix = |s: &str| PathBuf::from(format!("{}_{s}.csv", prefix.display()));
    write_csv_matrix(
        &with_suffix("li6"),
        ch.nx,
        ch.ny,
        ch.li6.iter().map(|&c| c as f64).collect(),
    )?;
    write_csv_matrix(
        &with_suffix("li7"),
        ch.nx,
        ch.ny,
        ch.li7.iter().map(|&c| c as f64).collect(),
    )?;
    let empty = ch.fraction.iter().filter(|f| f.is_none()).count();
    if empty > 0 {
        eprintln!("warning: {empty} SIMS pixels got no counts; their fraction is written as nan");
    }
    write_csv_matrix(
        &with_suffix("fraction"),
        ch.nx,
        ch.ny,
        ch.fraction.iter().map(|f| f.unwrap_or(f64::NAN)).collect(),
    )
}

fn plot_profiles(out_dir: &Path, snapshots: &[SnapshotSummary], axis: Axis) -> Result<()> {
    let series: Vec<Series> = snapshots
        .iter()
        .map(|s| {
            Series::line(
                format!("{} {:.1} h", s.stage, s.time_s / 3600.0),
                s.profile.0.clone(),
                s.profile.1.clone(),
            )
        })
        .collect();
    line_plot(
        &out_dir.join("profiles.png"),
        "6Li fraction, lateral mean",
        &format!("{} (µm)", axis_name(axis)),
        "6Li fraction",
        &series,
        false,
        false,
    )
}
