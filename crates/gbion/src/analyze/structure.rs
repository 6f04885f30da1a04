//! `gbion analyze ordering` and `gbion analyze gb`: the A-site ordering parameter S along a trajectory
//! (gbion_analysis::trajectory_ordering) and the grain-boundary analysis of a bicrystal or bicrystal
//! trajectory (gbion_analysis::gb): GB planes, GB width, composition profile along the normal, GB versus
//! bulk atomic percent per frame with mean ± std, and the GB energy γ in J/m².

use crate::output::{emit, write_atomic};
use crate::plot::{Series, line_plot};
use crate::structure_cmd::open_frames;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use gbion_analysis::gb::energy::{BulkReference, GbEnergy, gb_energy};
use gbion_analysis::gb::{GbAnalysis, GbOptions, GbWidth, analyze};
use gbion_analysis::trajectory_ordering::{MeanStd, OrderingSeries, ordering_series};
use gbion_atoms::io::Frames;
use gbion_atoms::{Element, Structure};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A lattice axis on the command line: x, y, z (or a, b, c), the lattice vectors a, b, c.
#[derive(Clone, Copy, ValueEnum)]
pub enum AxisName {
    #[value(alias = "a")]
    X,
    #[value(alias = "b")]
    Y,
    #[value(alias = "c")]
    Z,
}

impl AxisName {
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The name of lattice axis `k` in reports: x, y or z (the lattice vectors a, b, c).
fn axis_name(k: usize) -> &'static str {
    ["x", "y", "z"][k]
}

/// Input options shared by both commands.
#[derive(Args)]
pub struct TrajectoryInput {
    /// Structure or trajectory file (extxyz, POSCAR, LAMMPS data/dump, MLIP .cfg).
    pub file: PathBuf,
    /// File format: extxyz, poscar, lammps-data, lammps-dump, cfg (default: from the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Elements of the numeric atom types, in type order (LAMMPS types 1, 2, ...; MLIP types 0, 1, ...),
    /// e.g. `Li,Sr,Ta,Zr,O`.
    #[arg(long, value_delimiter = ',')]
    pub type_map: Option<Vec<String>>,
}

impl TrajectoryInput {
    /// The frames of the file, streamed.
    fn frames(&self) -> Result<Frames> {
        open_frames(&self.file, self.format.as_deref(), self.type_map.as_deref())
    }
}

#[derive(Args)]
pub struct OrderingArgs {
    #[command(flatten)]
    pub input: TrajectoryInput,
    /// Layering axis (x, y, z = lattice vectors a, b, c); default: the axis with the largest S in the first
    /// frame, kept for all frames.
    #[arg(long, value_enum)]
    pub axis: Option<AxisName>,
    /// Time between frames in ps, to plot S against time instead of the frame index.
    #[arg(long)]
    pub frame_ps: Option<f64>,
    /// Plot S against frame (or time) to this file (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

/// One frame of `gbion analyze ordering --json`.
#[derive(Serialize)]
struct OrderingFrame {
    frame: usize,
    #[serde(rename = "S")]
    s: f64,
}

/// The JSON schema of `gbion analyze ordering --json`: `S`, `S_max`, `axis`, `species`, the A-site
/// fractions of the last (or only) frame; `S_mean`, `S_std` (sample std, 0 for one frame) over frames.
#[derive(Serialize)]
struct OrderingReport {
    #[serde(rename = "S")]
    s: f64,
    #[serde(rename = "S_max")]
    s_max: f64,
    /// x, y or z: the lattice vector a, b or c along which the A layers alternate.
    axis: &'static str,
    /// The ordering species (Sr in LSTZ0.75).
    species: &'static str,
    /// R_overall: fraction of all A sites held by the ordering species.
    fraction_overall: f64,
    /// R_rich: fraction of the rich layers' A sites held by it.
    fraction_rich: f64,
    n_frames: usize,
    #[serde(rename = "S_mean")]
    s_mean: f64,
    #[serde(rename = "S_std")]
    s_std: f64,
    frames: Vec<OrderingFrame>,
}

impl OrderingReport {
    fn of(series: &OrderingSeries) -> OrderingReport {
        let last = series.frames.last().expect("a series has frames");
        OrderingReport {
            s: last.s,
            s_max: last.s_max,
            axis: axis_name(last.axis),
            species: last.species.symbol(),
            fraction_overall: last.fraction_overall,
            fraction_rich: last.fraction_rich,
            n_frames: series.frames.len(),
            s_mean: series.s.mean,
            s_std: series.s.std,
            frames: series
                .frames
                .iter()
                .enumerate()
                .map(|(frame, o)| OrderingFrame { frame, s: o.s })
                .collect(),
        }
    }

    fn human(&self) -> String {
        let mut text = format!(
            "S               {:.4}  (maximum {:.4} for this composition)\n",
            self.s, self.s_max
        );
        text += &format!(
            "layers along    {} ; ordering species {}: {:.2} % of all A sites, {:.2} % of the rich layers' sites\n",
            self.axis,
            self.species,
            100.0 * self.fraction_overall,
            100.0 * self.fraction_rich
        );
        if self.n_frames > 1 {
            text += &format!(
                "frames          {} ; S mean {:.4} ± {:.4} (std over frames); S above is the last frame's\n",
                self.n_frames, self.s_mean, self.s_std
            );
        }
        text
    }
}

pub fn ordering(args: OrderingArgs) -> Result<()> {
    let file = args.input.file.display().to_string();
    let series = ordering_series(args.input.frames()?, args.axis.map(AxisName::index)).context(file)?;
    let report = OrderingReport::of(&series);
    if let Some(path) = &args.plot {
        plot_ordering(path, &report, args.frame_ps)?;
    }
    emit(args.json, &report, || report.human())
}

fn plot_ordering(path: &Path, report: &OrderingReport, frame_ps: Option<f64>) -> Result<()> {
    let (x_label, scale) = match frame_ps {
        Some(dt) if dt.is_finite() && dt > 0.0 => ("time (ps)", dt),
        Some(dt) => bail!("--frame-ps must be a positive number of ps, not {dt}"),
        None => ("frame", 1.0),
    };
    let x: Vec<f64> = report.frames.iter().map(|f| f.frame as f64 * scale).collect();
    let s: Vec<f64> = report.frames.iter().map(|f| f.s).collect();
    let s_max = vec![report.s_max; x.len()];
    let series = [Series::line("S", x.clone(), s), Series::line("S_max", x, s_max)];
    let title = format!("A-site ordering along {}", report.axis);
    line_plot(path, &title, x_label, "S", &series, false, false)
}

#[derive(Args)]
pub struct GbArgs {
    #[command(flatten)]
    pub input: TrajectoryInput,
    /// GB normal (x, y, z = lattice vectors a, b, c); default: found on the first frame (from `grain` tags,
    /// else from the structural signature) and kept for all frames.
    #[arg(long, value_enum)]
    pub axis: Option<AxisName>,
    /// GB width in Å (the GB region is |distance to the nearest GB plane| ≤ width/2).
    #[arg(long, conflicts_with = "spacings")]
    pub width: Option<f64>,
    /// GB width as this many interplanar spacings, at least 5 Å (paper 000: 2 or 4) [default: 2].
    #[arg(long)]
    pub spacings: Option<f64>,
    /// Profile bin width in Å [default: one interplanar spacing].
    #[arg(long)]
    pub bin: Option<f64>,
    /// Species to report (percentages stay relative to all atoms), e.g. `Li,Sr,Ta,Zr`; default: all.
    #[arg(long, value_delimiter = ',')]
    pub species: Option<Vec<String>>,
    /// Total energy of the bicrystal in eV (default: the last frame's energy from the file).
    #[arg(long, allow_hyphen_values = true)]
    pub energy: Option<f64>,
    /// Bulk reference for γ: a structure file whose last frame carries its total energy; the bicrystal
    /// must be a whole number of its formula units.
    #[arg(long, conflicts_with = "mu")]
    pub bulk_energy: Option<PathBuf>,
    /// Bulk reference for γ as energies per atom (eV) per species, e.g. `Li=-1.9,O=-4.9`: elemental bulk
    /// energies or chemical potentials (needed for a non-stoichiometric GB).
    #[arg(long, value_delimiter = ',')]
    pub mu: Option<Vec<String>>,
    /// Plot the composition profile to this file (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write the composition profile as CSV: distance_A, then <El>_at_percent per species.
    #[arg(long)]
    pub profile_out: Option<PathBuf>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

/// Composition of one frame in `gbion analyze gb --json`.
#[derive(Serialize)]
struct GbFrameReport {
    #[serde(rename = "planes_A")]
    planes_a: Vec<f64>,
    gb_atoms: usize,
    bulk_atoms: usize,
    gb_at_percent: BTreeMap<&'static str, f64>,
    bulk_at_percent: BTreeMap<&'static str, f64>,
}

/// The composition profile in `gbion analyze gb --json`.
#[derive(Serialize)]
struct ProfileReport {
    /// Bin centres: signed distance from the nearest GB plane (Å), positive towards increasing coordinate.
    #[serde(rename = "distance_A")]
    distance_a: Vec<f64>,
    /// Symbol → atomic percent per bin.
    at_percent: BTreeMap<&'static str, Vec<f64>>,
}

/// γ in `gbion analyze gb --json`.
#[derive(Serialize)]
struct EnergyReport {
    #[serde(rename = "gamma_J_m2")]
    gamma_j_m2: f64,
    #[serde(rename = "bicrystal_energy_eV")]
    bicrystal_energy_ev: f64,
    #[serde(rename = "reference_energy_eV")]
    reference_energy_ev: f64,
    #[serde(rename = "excess_energy_eV")]
    excess_energy_ev: f64,
    /// Area of one GB (Å²): the cell cross-section parallel to the GB; γ divides by twice it.
    #[serde(rename = "area_A2")]
    area_a2: f64,
    /// Bulk formula units in the bicrystal (bulk-structure reference), or null.
    bulk_units: Option<f64>,
}

/// The JSON schema of `gbion analyze gb --json`. `planes_A` are the last frame's; `gb_at_percent` and
/// `bulk_at_percent` are mean and std (sample, 0 for one frame) over frames; `gb_energy` is null without a
/// bulk reference.
#[derive(Serialize)]
struct GbReport {
    n_frames: usize,
    /// x, y or z: the lattice vector a, b or c along the GB normal.
    axis: &'static str,
    /// How the planes were found: grain-tags or structure.
    plane_source: &'static str,
    #[serde(rename = "planes_A")]
    planes_a: Vec<f64>,
    #[serde(rename = "interplanar_spacing_A")]
    interplanar_spacing_a: Option<f64>,
    #[serde(rename = "gb_width_A")]
    gb_width_a: f64,
    #[serde(rename = "bin_width_A")]
    bin_width_a: f64,
    gb_at_percent: BTreeMap<&'static str, MeanStdReport>,
    bulk_at_percent: BTreeMap<&'static str, MeanStdReport>,
    profile: ProfileReport,
    frames: Vec<GbFrameReport>,
    gb_energy: Option<EnergyReport>,
}

#[derive(Serialize)]
struct MeanStdReport {
    mean: f64,
    std: f64,
}

impl From<&MeanStd> for MeanStdReport {
    fn from(m: &MeanStd) -> MeanStdReport {
        MeanStdReport {
            mean: m.mean,
            std: m.std,
        }
    }
}

impl GbReport {
    fn of(analysis: &GbAnalysis, species: &[&'static str], energy: Option<(f64, GbEnergy)>) -> GbReport {
        let keep = |map: &BTreeMap<&'static str, f64>| -> BTreeMap<&'static str, f64> {
            map.iter()
                .filter(|(s, _)| species.contains(s))
                .map(|(&s, &v)| (s, v))
                .collect()
        };
        let statistics = |map: &BTreeMap<&'static str, MeanStd>| {
            map.iter()
                .filter(|(s, _)| species.contains(s))
                .map(|(&s, m)| (s, MeanStdReport::from(m)))
                .collect()
        };
        let profile = &analysis.profile;
        let last = analysis.frames.last().expect("an analysis has frames");
        GbReport {
            n_frames: analysis.frames.len(),
            axis: axis_name(last.planes.axis),
            plane_source: last.planes.source.name(),
            planes_a: last.planes.positions.clone(),
            interplanar_spacing_a: analysis.interplanar_spacing,
            gb_width_a: analysis.width,
            bin_width_a: analysis.bin_width,
            gb_at_percent: statistics(&analysis.gb_at_percent),
            bulk_at_percent: statistics(&analysis.bulk_at_percent),
            profile: ProfileReport {
                distance_a: profile.distance.clone(),
                at_percent: profile
                    .species
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| species.contains(s))
                    .map(|(k, &s)| (s, profile.at_percent.iter().map(|row| row[k]).collect()))
                    .collect(),
            },
            frames: analysis
                .frames
                .iter()
                .map(|f| GbFrameReport {
                    planes_a: f.planes.positions.clone(),
                    gb_atoms: f.composition.gb_atoms,
                    bulk_atoms: f.composition.bulk_atoms,
                    gb_at_percent: keep(&f.composition.gb_at_percent),
                    bulk_at_percent: keep(&f.composition.bulk_at_percent),
                })
                .collect(),
            gb_energy: energy.map(|(e, g)| EnergyReport {
                gamma_j_m2: g.gamma_j_m2,
                bicrystal_energy_ev: e,
                reference_energy_ev: g.reference_energy_ev,
                excess_energy_ev: g.excess_energy_ev,
                area_a2: g.area_a2,
                bulk_units: g.bulk_units,
            }),
        }
    }

    fn human(&self) -> String {
        let planes: Vec<String> = self.planes_a.iter().map(|p| format!("{p:.3}")).collect();
        let mut text = format!("frames          {}\n", self.n_frames);
        text += &format!(
            "GB normal       {} (planes from {}) ; planes at {} Å\n",
            self.axis,
            self.plane_source,
            planes.join(", ")
        );
        let spacing = self
            .interplanar_spacing_a
            .map_or("not measurable".to_string(), |d| format!("{d:.3} Å"));
        text += &format!(
            "spacing         {spacing} ; GB width {:.3} Å ; profile bins {:.3} Å\n",
            self.gb_width_a, self.bin_width_a
        );
        text += "at. %           GB (mean ± std)      bulk (mean ± std)\n";
        for (s, gb) in &self.gb_at_percent {
            let bulk = &self.bulk_at_percent[s];
            text += &format!(
                "  {s:<13} {:7.3} ± {:<7.3}      {:7.3} ± {:.3}\n",
                gb.mean, gb.std, bulk.mean, bulk.std
            );
        }
        if let Some(e) = &self.gb_energy {
            text += &format!(
                "GB energy       {:.4} J/m²  (E {:.6} eV − reference {:.6} eV over 2 × {:.3} Å²)\n",
                e.gamma_j_m2, e.bicrystal_energy_ev, e.reference_energy_ev, e.area_a2
            );
        }
        text
    }
}

pub fn gb(args: GbArgs) -> Result<()> {
    let file = args.input.file.display().to_string();
    let options = GbOptions {
        axis: args.axis.map(AxisName::index),
        width: match args.width {
            Some(w) => GbWidth::Absolute(w),
            None => GbWidth::Spacings(args.spacings.unwrap_or(2.0)),
        },
        bin_width: args.bin,
    };
    let analysis = analyze(args.input.frames()?, &options).with_context(|| file.clone())?;
    let species = chosen_species(&analysis, args.species.as_deref())?;
    let energy = gb_energy_of(&args, &analysis).with_context(|| format!("GB energy of {file}"))?;
    let report = GbReport::of(&analysis, &species, energy);
    if let Some(path) = &args.profile_out {
        write_profile_csv(path, &report.profile)?;
    }
    if let Some(path) = &args.plot {
        plot_profile(path, &report)?;
    }
    emit(args.json, &report, || report.human())
}

/// The species to report: those named with --species (each must occur), or all.
fn chosen_species(analysis: &GbAnalysis, named: Option<&[String]>) -> Result<Vec<&'static str>> {
    let present = &analysis.profile.species;
    let Some(named) = named else {
        return Ok(present.clone());
    };
    named
        .iter()
        .map(|name| {
            let symbol = Element::from_symbol(name).context("in --species")?.symbol();
            if !present.contains(&symbol) {
                bail!(
                    "--species {symbol}: no {symbol} atoms in the file (it has {})",
                    present.join(", ")
                );
            }
            Ok(symbol)
        })
        .collect()
}

/// γ of the last frame when a bulk reference is given: (bicrystal energy, γ).
fn gb_energy_of(args: &GbArgs, analysis: &GbAnalysis) -> Result<Option<(f64, GbEnergy)>> {
    let reference = match (&args.bulk_energy, &args.mu) {
        (Some(path), _) => bulk_reference_from_file(path)?,
        (None, Some(values)) => BulkReference::PerAtom(parse_mu(values)?),
        (None, None) => return Ok(None),
    };
    let last: &Structure = &analysis.last;
    let Some(energy) = args.energy.or(last.results.energy) else {
        bail!("the last frame has no energy: give the bicrystal's total energy with --energy");
    };
    let axis = analysis.frames.last().expect("an analysis has frames").planes.axis;
    Ok(Some((energy, gb_energy(last, energy, axis, &reference)?)))
}

fn bulk_reference_from_file(path: &Path) -> Result<BulkReference> {
    let frames = open_frames(path, None, None).context("--bulk-energy")?;
    let last = frames
        .last()
        .with_context(|| format!("--bulk-energy {}: no frames found", path.display()))??;
    BulkReference::from_bulk(&last).with_context(|| format!("--bulk-energy {}", path.display()))
}

/// `--mu Li=-1.9,O=-4.9` → symbol → eV per atom (finite, each element once).
fn parse_mu(values: &[String]) -> Result<BTreeMap<&'static str, f64>> {
    let mut mu = BTreeMap::new();
    for item in values {
        let (symbol, value) = item
            .split_once('=')
            .with_context(|| format!("--mu {item:?}: expected Element=eV, e.g. Li=-1.9"))?;
        let symbol = Element::from_symbol(symbol)
            .with_context(|| format!("--mu {item:?}"))?
            .symbol();
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .with_context(|| format!("--mu {item:?}: {value:?} is not a finite number of eV"))?;
        if mu.insert(symbol, value).is_some() {
            bail!("--mu gives {symbol} twice");
        }
    }
    Ok(mu)
}

/// The profile as CSV: `distance_A`, then `<El>_at_percent` per reported species.
fn write_profile_csv(path: &Path, profile: &ProfileReport) -> Result<()> {
    let mut text = String::from("distance_A");
    for s in profile.at_percent.keys() {
        text += &format!(",{s}_at_percent");
    }
    text += "\n";
    for (k, d) in profile.distance_a.iter().enumerate() {
        text += &format!("{d:.6}");
        for values in profile.at_percent.values() {
            text += &format!(",{:.6}", values[k]);
        }
        text += "\n";
    }
    write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
}

/// Atomic percent per species against distance from the GB plane, with the GB region outlined.
fn plot_profile(path: &Path, report: &GbReport) -> Result<()> {
    let profile = &report.profile;
    let mut series: Vec<Series> = profile
        .at_percent
        .iter()
        .map(|(s, y)| Series::line(*s, profile.distance_a.clone(), y.clone()))
        .collect();
    let top = profile.at_percent.values().flatten().copied().fold(0.0, f64::max);
    let half = 0.5 * report.gb_width_a;
    series.push(Series::line(
        "GB region",
        vec![-half, -half, half, half],
        vec![0.0, top, top, 0.0],
    ));
    let title = format!("Composition across the GB (normal {})", report.axis);
    line_plot(
        path,
        &title,
        "distance from GB plane (Å)",
        "at. %",
        &series,
        false,
        false,
    )
}
