//! `gbion analyze diffusion` (tracer and charge diffusivity, Haven ratio, Nernst–Einstein conductivity from
//! a trajectory, gbion_analysis::{msd, diffusion}) and `gbion analyze arrhenius` (one- and two-regime
//! Arrhenius fits of a CSV table, gbion_analysis::arrhenius), each with `--json` and `--plot`.

use super::structure::AxisName;
use crate::output::{emit, read_csv_columns};
use crate::plot::{Series, line_plot};
use anyhow::{Context, Result, bail, ensure};
use clap::{Args, ValueEnum};
use gbion_analysis::arrhenius::{
    ArrheniusError, ArrheniusFit, ArrheniusForm, TwoRegimeFit, extrapolate, fit_arrhenius, fit_two_regime,
};
use gbion_analysis::diffusion::{
    Conductivity, DiffusionFit, Diffusivity, FitOptions, charge_diffusivity, nernst_einstein, tracer_diffusivity,
};
use gbion_analysis::gb::diffusion::{RegionDiffusivity, RegionTracker, region_diffusivities};
use gbion_analysis::gb::{GbOptions, GbWidth};
use gbion_analysis::msd::{Components, Trajectory};
use gbion_atoms::Element;
use gbion_atoms::io::{self, Format, ReadOptions};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Femtoseconds per picosecond.
const FS_PER_PS: f64 = 1000.0;
/// Most points drawn per MSD curve.
const PLOT_POINTS: usize = 2000;
/// The temperature the Arrhenius fits are extrapolated to (K).
const ROOM_TEMPERATURE_K: f64 = 300.0;

/// A time in fs (bare number: fs; units such as `0.1ps` accepted).
fn time_fs(s: &str) -> Result<f64, String> {
    gbion_units::parse_time_s(s, "fs")
        .map(|t| t * 1e15)
        .map_err(|e| e.to_string())
}

/// A temperature in K (bare number: K).
fn temperature_k(s: &str) -> Result<f64, String> {
    gbion_units::parse_temperature_k(s, "K").map_err(|e| e.to_string())
}

#[derive(Args)]
pub struct DiffusionArgs {
    /// Trajectory (extxyz, LAMMPS dump, MLIP .cfg, ...): wrapped positions are unwrapped by image flags
    /// (ix iy iz) when present, else by the minimum displacement between consecutive frames.
    trajectory: PathBuf,
    /// The mobile species.
    #[arg(long, default_value = "Li")]
    species: String,
    /// Time between frames (bare number: fs; `0.1ps` also works).
    #[arg(long, value_parser = time_fs)]
    dt_fs: f64,
    /// Temperature of the run (bare number: K), for the Nernst–Einstein conductivity.
    #[arg(long, value_parser = temperature_k)]
    temperature: f64,
    /// Charge of the mobile ion in units of e.
    #[arg(long, default_value_t = 1.0)]
    charge: f64,
    /// Cartesian components of the displacement: xyz, or e.g. xy (in-plane) or z (across).
    #[arg(long, default_value = "xyz")]
    components: String,
    /// Fit window START,END in ps (default: automatic, see the gbion_analysis::diffusion docs).
    #[arg(long, value_delimiter = ',')]
    window_ps: Option<Vec<f64>>,
    /// File format: extxyz, poscar, lammps-data, lammps-dump, cfg (default: from the file name).
    #[arg(long)]
    format: Option<String>,
    /// Elements of the numeric atom types, in type order (LAMMPS types 1, 2, ...), e.g. `Li,Sr,Ta,Zr,O`.
    #[arg(long, value_delimiter = ',')]
    type_map: Option<Vec<String>>,
    /// Write the MSD plot with the fitted windows (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Also split D* by region of a bicrystal: ions assigned to the GB region or the bulk by where they
    /// spend most frames, each with D* along xyz, in the GB plane and across it (the GB planes are found on
    /// the first frame from `grain` tags or the structure; the normal must be x, y or z).
    #[arg(long)]
    regions: bool,
    /// With --regions: the GB normal as a lattice axis (a, b, c); default: found on the first frame.
    #[arg(long, value_enum, requires = "regions")]
    gb_axis: Option<AxisName>,
    /// With --regions: GB width in Å (the GB region is |distance to the nearest GB plane| ≤ width/2).
    #[arg(long, requires = "regions", conflicts_with = "gb_spacings")]
    gb_width: Option<f64>,
    /// With --regions: GB width as this many interplanar spacings, at least 5 Å (paper 000: 2 or 4)
    /// [default: 2].
    #[arg(long, requires = "regions")]
    gb_spacings: Option<f64>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    json: bool,
}

/// A spinner on stderr while frames are read, hidden under `--json` or when stderr is not a terminal.
fn progress(json: bool) -> indicatif::ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} frames read  {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// Read all frames of `args.trajectory`, keeping the unwrapped positions of the mobile species and, with
/// `--regions`, counting the frames each ion spends in the GB region.
fn read_trajectory(args: &DiffusionArgs, species: Element) -> Result<(Trajectory, Option<RegionTracker>)> {
    let path = &args.trajectory;
    let type_map = args
        .type_map
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|s| Element::from_symbol(s).context("in --type-map"))
                .collect()
        })
        .transpose()?;
    let format = args.format.as_deref().map(Format::from_name).transpose()?;
    let options = ReadOptions {
        type_map,
        ..ReadOptions::default()
    };
    let bar = progress(args.json);
    let mut trajectory: Option<Trajectory> = None;
    let mut tracker: Option<RegionTracker> = None;
    for (index, frame) in io::read_file(path, format, &options)?.enumerate() {
        let frame = frame?;
        if trajectory.is_none() {
            let atoms: Vec<usize> = (0..frame.len()).filter(|&i| frame.elements[i] == species).collect();
            ensure!(
                !atoms.is_empty(),
                "{}: no {} atoms in the first frame",
                path.display(),
                species.symbol()
            );
            if args.regions {
                let gb_options = GbOptions {
                    axis: args.gb_axis.map(AxisName::index),
                    width: match args.gb_width {
                        Some(w) => GbWidth::Absolute(w),
                        None => GbWidth::Spacings(args.gb_spacings.unwrap_or(2.0)),
                    },
                    bin_width: None,
                };
                tracker = Some(
                    RegionTracker::new(&frame, atoms.clone(), &gb_options)
                        .with_context(|| format!("{}: GB regions of the first frame", path.display()))?,
                );
            }
            trajectory = Some(Trajectory::new(atoms));
        }
        let traj = trajectory.as_mut().expect("made from the first frame above");
        let in_frame = || format!("{}: frame {}", path.display(), index + 1);
        traj.push(&frame).with_context(in_frame)?;
        if let Some(tracker) = tracker.as_mut() {
            tracker.push(&frame).with_context(in_frame)?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let trajectory = trajectory.with_context(|| format!("{}: no frames found", path.display()))?;
    Ok((trajectory, tracker))
}

/// Fit options from `--window-ps`.
fn fit_options(window_ps: Option<&[f64]>, dt_fs: f64) -> Result<FitOptions> {
    let window = match window_ps {
        None => None,
        Some(&[start, end]) => {
            ensure!(
                start >= 0.0 && end > start,
                "--window-ps START,END needs 0 ≤ START < END, got {start},{end}"
            );
            let frames = |t: f64| (t * FS_PER_PS / dt_fs).round() as usize;
            Some((frames(start).max(1), frames(end)))
        }
        Some(other) => bail!("--window-ps takes START,END, got {} values", other.len()),
    };
    Ok(FitOptions {
        window,
        ..FitOptions::default()
    })
}

fn window_ps(fit: &DiffusionFit, dt_fs: f64) -> [f64; 2] {
    let (start, end) = fit.window_frames;
    [start as f64 * dt_fs / FS_PER_PS, end as f64 * dt_fs / FS_PER_PS]
}

pub fn diffusion(args: DiffusionArgs) -> Result<()> {
    let species = Element::from_symbol(&args.species).context("in --species")?;
    let components = Components::parse(&args.components).context("in --components")?;
    let (traj, tracker) = read_trajectory(&args, species)?;
    let options = fit_options(args.window_ps.as_deref(), args.dt_fs)?;
    let subset: Vec<usize> = (0..traj.n_atoms()).collect();
    let context = || format!("diffusion of {} in {}", args.species, args.trajectory.display());
    let tracer = tracer_diffusivity(&traj, &subset, components, args.dt_fs, &options).with_context(context)?;
    let charge = charge_diffusivity(&traj, &subset, components, args.dt_fs, &options).with_context(context)?;
    let volume = traj.mean_volume();
    let conductivity = nernst_einstein(
        &tracer.fit,
        &charge.fit,
        subset.len(),
        args.charge,
        volume,
        args.temperature,
    )
    .with_context(|| format!("{}: Nernst–Einstein conductivity", args.trajectory.display()))?;
    if let Some(path) = &args.plot {
        msd_plot(path, &tracer, &charge, args.dt_fs, &args.species)?;
    }
    let regions = tracker
        .map(|tracker| {
            let fits = region_diffusivities(&traj, &tracker, args.dt_fs, &options)
                .with_context(|| format!("{}: diffusion by region", args.trajectory.display()))?;
            Ok::<_, anyhow::Error>((tracker, fits))
        })
        .transpose()?;
    let mut out = diffusion_json(&args, &traj, &tracer.fit, &charge.fit, &conductivity, volume);
    if let Some((tracker, fits)) = &regions {
        out["regions"] = regions_json(tracker, fits, args.dt_fs);
    }
    emit(args.json, &out, || {
        let mut text = diffusion_human(&args, &traj, &tracer.fit, &charge.fit, &conductivity);
        if let Some((tracker, fits)) = &regions {
            text.push_str(&regions_human(tracker, fits));
        }
        text
    })
}

/// `regions` of `gbion analyze diffusion --regions --json`: the GB geometry and, per region (null when it
/// has no ions), its ions and D* along xyz, in the GB plane and across.
fn regions_json(tracker: &RegionTracker, fits: &[Option<RegionDiffusivity>; 2], dt_fs: f64) -> Value {
    let fit_json = |fit: &DiffusionFit| {
        json!({
            "D_cm2_s": fit.d_cm2_s,
            "D_err_cm2_s": fit.d_err_cm2_s,
            "fit_window_ps": window_ps(fit, dt_fs),
            "msd_exponent": fit.msd_exponent,
        })
    };
    let mut out = json!({
        "gb_normal": (["x", "y", "z"][tracker.normal_axis()]),
        "gb_planes_A": tracker.planes().positions,
        "gb_width_A": tracker.width(),
    });
    for (name, fit) in [("gb", &fits[0]), ("bulk", &fits[1])] {
        out[name] = match fit {
            None => Value::Null,
            Some(r) => json!({
                "n_ions": r.ions.len(),
                "residence": r.residence,
                "xyz": fit_json(&r.total),
                "in_plane": fit_json(&r.in_plane),
                "across": fit_json(&r.across),
            }),
        };
    }
    out
}

fn regions_human(tracker: &RegionTracker, fits: &[Option<RegionDiffusivity>; 2]) -> String {
    let mut text = format!(
        "GB regions: normal {}, planes at {:?} Å, width {:.2} Å\n",
        ["x", "y", "z"][tracker.normal_axis()],
        tracker
            .planes()
            .positions
            .iter()
            .map(|p| (p * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        tracker.width()
    );
    for (name, fit) in [("GB", &fits[0]), ("bulk", &fits[1])] {
        let line = match fit {
            None => format!("  {name:<4}: no ions\n"),
            Some(r) => format!(
                "  {name:<4}: {} ions (residence {:.2}): D* = {:.3e} ± {:.1e}, in-plane {:.3e} ± {:.1e}, across {:.3e} ± {:.1e} cm²/s\n",
                r.ions.len(),
                r.residence,
                r.total.d_cm2_s,
                r.total.d_err_cm2_s,
                r.in_plane.d_cm2_s,
                r.in_plane.d_err_cm2_s,
                r.across.d_cm2_s,
                r.across.d_err_cm2_s
            ),
        };
        text.push_str(&line);
    }
    text
}

/// The JSON object of `gbion analyze diffusion --json`.
fn diffusion_json(
    args: &DiffusionArgs,
    traj: &Trajectory,
    tracer: &DiffusionFit,
    charge: &DiffusionFit,
    conductivity: &Conductivity,
    volume: f64,
) -> Value {
    json!({
        "species": args.species,
        "n_ions": traj.n_atoms(),
        "n_frames": traj.n_frames(),
        "dt_fs": args.dt_fs,
        "temperature_K": args.temperature,
        "charge_e": args.charge,
        "components": args.components.to_ascii_lowercase(),
        "volume_A3": volume,
        "number_density_cm3": conductivity.number_density_cm3,
        "D_tracer_cm2_s": tracer.d_cm2_s,
        "D_tracer_err_cm2_s": tracer.d_err_cm2_s,
        "D_charge_cm2_s": charge.d_cm2_s,
        "D_charge_err_cm2_s": charge.d_err_cm2_s,
        "haven_ratio": conductivity.haven_ratio.map(|h| h.0),
        "haven_ratio_err": conductivity.haven_ratio.map(|h| h.1),
        "conductivity_S_cm": conductivity.sigma_s_cm,
        "conductivity_err_S_cm": conductivity.sigma_err_s_cm,
        "fit_window_ps": window_ps(tracer, args.dt_fs),
        "charge_fit_window_ps": window_ps(charge, args.dt_fs),
        "msd_exponent": tracer.msd_exponent,
        "msd_linear": tracer.is_linear(),
        "chi2_reduced": tracer.chi2_reduced,
        "charge_msd_exponent": charge.msd_exponent,
        "charge_chi2_reduced": charge.chi2_reduced,
    })
}

fn diffusion_human(
    args: &DiffusionArgs,
    traj: &Trajectory,
    tracer: &DiffusionFit,
    charge: &DiffusionFit,
    conductivity: &Conductivity,
) -> String {
    let [t0, t1] = window_ps(tracer, args.dt_fs);
    let haven = match conductivity.haven_ratio {
        Some((h, e)) => format!("{h:.3} ± {e:.3}"),
        None => "undefined (D_σ ≤ 0: the charge MSD is too noisy)".into(),
    };
    let linear = if tracer.is_linear() {
        ""
    } else {
        "  (NOT linear: check the window)"
    };
    format!(
        "{n} {sp} ions, {f} frames of {dt} fs, components {c}\n\
         D*   = {d:.4e} ± {de:.2e} cm²/s  (window {t0:.3}–{t1:.3} ps, MSD exponent {x:.3}{linear}, χ²/dof {chi:.2})\n\
         D_σ  = {ds:.4e} ± {dse:.2e} cm²/s\n\
         H_R  = {haven}\n\
         σ    = {s:.4e} ± {se:.2e} S/cm at {t} K (n = {nd:.4e} cm⁻³, charge {z} e)\n",
        n = traj.n_atoms(),
        sp = args.species,
        f = traj.n_frames(),
        dt = args.dt_fs,
        c = args.components,
        d = tracer.d_cm2_s,
        de = tracer.d_err_cm2_s,
        x = tracer.msd_exponent,
        chi = tracer.chi2_reduced,
        ds = charge.d_cm2_s,
        dse = charge.d_err_cm2_s,
        s = conductivity.sigma_s_cm,
        se = conductivity.sigma_err_s_cm,
        t = args.temperature,
        nd = conductivity.number_density_cm3,
        z = args.charge,
    )
}

/// (t in ps, MSD) of an MSD curve, thinned to about PLOT_POINTS points.
fn msd_curve(values: &[f64], dt_fs: f64) -> (Vec<f64>, Vec<f64>) {
    let stride = values.len().div_ceil(PLOT_POINTS).max(1);
    (0..values.len())
        .step_by(stride)
        .map(|lag| (lag as f64 * dt_fs / FS_PER_PS, values[lag]))
        .unzip()
}

/// The fitted line over its window, in ps and Å².
fn fit_line_series(label: String, fit: &DiffusionFit, dt_fs: f64) -> Series {
    let ends = window_ps(fit, dt_fs);
    let y = ends.map(|t| fit.intercept_a2 + fit.slope_a2_fs * t * FS_PER_PS);
    Series::line(label, ends.to_vec(), y.to_vec())
}

fn msd_plot(path: &Path, tracer: &Diffusivity, charge: &Diffusivity, dt_fs: f64, species: &str) -> Result<()> {
    let (t, msd) = msd_curve(&tracer.msd.values, dt_fs);
    let (tc, msd_charge) = msd_curve(&charge.msd.values, dt_fs);
    let series = [
        Series::line(format!("{species} tracer MSD"), t, msd),
        fit_line_series(
            format!(
                "fit: D* = {:.3e} ± {:.1e} cm²/s",
                tracer.fit.d_cm2_s, tracer.fit.d_err_cm2_s
            ),
            &tracer.fit,
            dt_fs,
        ),
        Series::line("charge MSD ⟨|ΣΔr|²⟩/N", tc, msd_charge),
        fit_line_series(
            format!(
                "fit: D_σ = {:.3e} ± {:.1e} cm²/s",
                charge.fit.d_cm2_s, charge.fit.d_err_cm2_s
            ),
            &charge.fit,
            dt_fs,
        ),
    ];
    line_plot(
        path,
        "Mean squared displacement",
        "t (ps)",
        "MSD (Å²)",
        &series,
        false,
        false,
    )
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormKind {
    /// y = A exp(−Ea/k_BT).
    Plain,
    /// y·T = A exp(−Ea/k_BT) (conductivity).
    SigmaT,
}

#[derive(Args)]
pub struct ArrheniusArgs {
    /// CSV with a header row and 2 or 3 columns: temperature (`T`, `T_K` or `temperature_K`, in K), the
    /// value (D or σ; a name starting with `sigma` selects the σT form), and optionally its 1σ error (a name
    /// containing `err`). Lines starting with # are comments.
    table: PathBuf,
    /// Fit y or y·T (default: sigma-t for a sigma column, plain otherwise).
    #[arg(long, value_enum)]
    form: Option<FormKind>,
    /// Write the Arrhenius plot with the fits, the ±1σ band and the 300 K extrapolation (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    json: bool,
}

/// A table of temperatures, values and optional errors, and the value column's name.
struct Table {
    temperatures_k: Vec<f64>,
    values: Vec<f64>,
    errors: Option<Vec<f64>>,
    value_name: String,
}

/// Column indices (temperature, value, error) from the header.
fn table_columns(path: &Path, header: &csv::StringRecord) -> Result<(usize, usize, Option<usize>)> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    ensure!(
        (2..=3).contains(&names.len()),
        "{}: line 1: expected 2 or 3 columns (T, value[, err]), found {}",
        path.display(),
        names.len()
    );
    let temperature = names
        .iter()
        .position(|n| ["t", "t_k", "temperature_k"].contains(&n.as_str()))
        .with_context(|| {
            format!(
                "{}: line 1: no temperature column named T, T_K or temperature_K",
                path.display()
            )
        })?;
    let error = names.iter().position(|n| n.contains("err"));
    let value = (0..names.len())
        .find(|&i| i != temperature && Some(i) != error)
        .with_context(|| format!("{}: line 1: no value column", path.display()))?;
    ensure!(
        names.len() == 2 + usize::from(error.is_some()),
        "{}: line 1: with 3 columns one must be the error (a name containing `err`)",
        path.display()
    );
    Ok((temperature, value, error))
}

fn read_table(path: &Path) -> Result<Table> {
    let mut picked = None;
    let (header, mut columns) = read_csv_columns(path, |header| {
        let (t, v, e) = table_columns(path, header)?;
        picked = Some(v);
        Ok([t, v].into_iter().chain(e).collect())
    })?;
    let value_name = header[picked.expect("set by the column choice")].trim().to_string();
    let errors = (columns.len() == 3).then(|| columns.pop().expect("three columns"));
    let values = columns.pop().expect("a value column");
    let temperatures_k = columns.pop().expect("a temperature column");
    ensure!(values.len() >= 2, "{}: need at least 2 data rows", path.display());
    Ok(Table {
        temperatures_k,
        values,
        errors,
        value_name,
    })
}

pub fn arrhenius(args: ArrheniusArgs) -> Result<()> {
    let table = read_table(&args.table)?;
    let sigma_column = table.value_name.to_ascii_lowercase().starts_with("sigma");
    let form = match args.form {
        Some(FormKind::SigmaT) => ArrheniusForm::TimesT,
        Some(FormKind::Plain) => ArrheniusForm::Plain,
        None if sigma_column => ArrheniusForm::TimesT,
        None => ArrheniusForm::Plain,
    };
    let context = || format!("Arrhenius fit of {}", args.table.display());
    let errors = table.errors.as_deref();
    let fit = fit_arrhenius(&table.temperatures_k, &table.values, errors, form).with_context(context)?;
    let two = match fit_two_regime(&table.temperatures_k, &table.values, errors, form) {
        Ok(two) => Some(two),
        Err(ArrheniusError::TooFewPoints { .. }) => None,
        Err(e) => return Err(e).with_context(context),
    };
    if let Some(path) = &args.plot {
        arrhenius_plot(path, &table, &fit, two.as_ref())?;
    }
    let at_300 = extrapolate(&fit, ROOM_TEMPERATURE_K);
    let out = json!({
        "column": table.value_name,
        "form": if form == ArrheniusForm::TimesT { "sigma*T" } else { "plain" },
        "n_points": table.values.len(),
        "Ea_eV": fit.ea_ev,
        "Ea_err_eV": fit.ea_err_ev,
        "prefactor": fit.prefactor,
        "prefactor_err": fit.prefactor_err,
        "value_300K": at_300.value,
        "value_300K_err": at_300.err,
        "chi2": fit.line.chi2,
        "dof": fit.line.dof,
        "two_regime": two.as_ref().map(two_regime_json),
    });
    emit(args.json, &out, || arrhenius_human(&table, &fit, two.as_ref()))
}

fn two_regime_json(two: &TwoRegimeFit) -> Value {
    let low_300 = extrapolate(&two.low, ROOM_TEMPERATURE_K);
    json!({
        "preferred": two.prefers_two(),
        "T_c_K": two.transition_k,
        "n_low": two.n_low,
        "Ea_low_eV": two.low.ea_ev,
        "Ea_low_err_eV": two.low.ea_err_ev,
        "Ea_high_eV": two.high.ea_ev,
        "Ea_high_err_eV": two.high.ea_err_ev,
        "prefactor_low": two.low.prefactor,
        "prefactor_high": two.high.prefactor,
        "value_300K": low_300.value,
        "value_300K_err": low_300.err,
        "aic_one": two.aic_one,
        "aic_two": two.aic_two,
    })
}

fn arrhenius_human(table: &Table, fit: &ArrheniusFit, two: Option<&TwoRegimeFit>) -> String {
    let at_300 = extrapolate(fit, ROOM_TEMPERATURE_K);
    let mut text = format!(
        "{} points of {}: Ea = {:.4} ± {:.4} eV, prefactor = {:.4e} ± {:.2e}\n{} at 300 K = {:.4e} ± {:.2e}\n",
        table.values.len(),
        table.value_name,
        fit.ea_ev,
        fit.ea_err_ev,
        fit.prefactor,
        fit.prefactor_err,
        table.value_name,
        at_300.value,
        at_300.err
    );
    if let Some(two) = two {
        let low_300 = extrapolate(&two.low, ROOM_TEMPERATURE_K);
        text += &format!(
            "two regimes ({}; AIC {:.2} vs one line {:.2}): T_c = {:.1} K, Ea below = {:.4} ± {:.4} eV, above = {:.4} ± {:.4} eV, {} at 300 K from below = {:.4e} ± {:.2e}\n",
            if two.prefers_two() {
                "preferred"
            } else {
                "not preferred"
            },
            two.aic_two,
            two.aic_one,
            two.transition_k,
            two.low.ea_ev,
            two.low.ea_err_ev,
            two.high.ea_ev,
            two.high.ea_err_ev,
            table.value_name,
            low_300.value,
            low_300.err,
        );
    }
    text
}

/// 1000/T grid from the data's highest temperature down to 300 K.
fn inverse_temperature_grid(table: &Table) -> Vec<f64> {
    let hottest = table.temperatures_k.iter().fold(ROOM_TEMPERATURE_K, |a, &b| a.max(b));
    let coldest = table.temperatures_k.iter().fold(ROOM_TEMPERATURE_K, |a, &b| a.min(b));
    let (lo, hi) = (1000.0 / hottest, 1000.0 / coldest);
    (0..=60).map(|k| lo + (hi - lo) * k as f64 / 60.0).collect()
}

/// A fitted line over `grid` (1000/T).
fn fitted(label: String, fit: &ArrheniusFit, grid: &[f64]) -> Series {
    let y = grid.iter().map(|x| extrapolate(fit, 1000.0 / x).value).collect();
    Series::line(label, grid.to_vec(), y)
}

fn arrhenius_plot(path: &Path, table: &Table, fit: &ArrheniusFit, two: Option<&TwoRegimeFit>) -> Result<()> {
    let grid = inverse_temperature_grid(table);
    let band: Vec<_> = grid.iter().map(|x| extrapolate(fit, 1000.0 / x)).collect();
    let inverse_t = table.temperatures_k.iter().map(|t| 1000.0 / t).collect();
    let mut series = vec![
        Series::points(
            table.value_name.clone(),
            inverse_t,
            table.values.clone(),
            table.errors.clone(),
        ),
        fitted(
            format!("one line: Ea = {:.3} ± {:.3} eV", fit.ea_ev, fit.ea_err_ev),
            fit,
            &grid,
        ),
        // exp(ln y ± σ(ln y)), σ(ln y) = err/value.
        Series::line(
            "±1σ band",
            grid.clone(),
            band.iter().map(|p| p.value * (-p.err / p.value).exp()).collect(),
        ),
        Series::line(
            "",
            grid.clone(),
            band.iter().map(|p| p.value * (p.err / p.value).exp()).collect(),
        ),
    ];
    if let Some(two) = two.filter(|t| t.prefers_two()) {
        let split = 1000.0 / two.transition_k;
        let (high_t, low_t): (Vec<f64>, Vec<f64>) = grid.iter().copied().partition(|&x| x <= split);
        for (label, regime, grid) in [
            (
                format!("below T_c = {:.0} K: Ea = {:.3} eV", two.transition_k, two.low.ea_ev),
                &two.low,
                low_t,
            ),
            (format!("above T_c: Ea = {:.3} eV", two.high.ea_ev), &two.high, high_t),
        ] {
            if grid.len() >= 2 {
                series.push(fitted(label, regime, &grid));
            }
        }
    }
    line_plot(
        path,
        "Arrhenius plot",
        "1000/T (1/K)",
        &table.value_name,
        &series,
        false,
        true,
    )
}
