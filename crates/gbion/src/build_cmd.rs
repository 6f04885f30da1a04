//! `gbion build`: perovskite supercells from a formula (`build perovskite`) and CSL grain-boundary
//! bicrystals (`build gb`, with `--list` documenting the five boundaries of paper 000), via gbion-build.

use crate::output::emit;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use gbion_atoms::io::{self, Format, ReadOptions, WriteOptions};
use gbion_atoms::{SiteKind, Structure};
use gbion_build::bicrystal::{Bicrystal, GbGeometry, Misorientation, translation_grid};
use gbion_build::formula::SublatticeCounts;
use gbion_build::paper_gbs::{PAPER_GBS, by_name};
use gbion_build::perovskite::BuildReport;
use gbion_build::{BicrystalSpec, Formula, Ordering, PerovskiteSpec};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum BuildCmd {
    /// A perovskite ABO3 supercell from a formula, with random, layered or file-given A-site ordering.
    Perovskite(PerovskiteArgs),
    /// A CSL bicrystal with two periodic grain boundaries (normal along z, at z = 0 and c_z / 2).
    Gb(GbArgs),
}

/// The formula options shared by both builders.
#[derive(Args)]
pub struct FormulaArgs {
    /// Site occupancies, e.g. "Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3" (A, B, O groups; Va = vacancy), or
    /// without spaces, e.g. "Li0.29La0.57TiO3" (elements on their usual sites, A deficit vacant).
    #[arg(long)]
    pub formula: Option<String>,
    /// The formula as a TOML file with tables [A], [B], [O] of symbol = amount per formula unit.
    #[arg(long, conflicts_with = "formula")]
    pub formula_file: Option<PathBuf>,
    /// Cubic lattice constant (Å).
    #[arg(long)]
    pub a: Option<f64>,
    /// Seed of the random orderings.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output structure file (format from the name: .xyz/.extxyz, POSCAR, .data, .dump, .cfg).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (overrides the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PerovskiteArgs {
    #[command(flatten)]
    pub common: FormulaArgs,
    /// Supercell of cubic units, e.g. 2x2x4.
    #[arg(long, default_value = "2x2x4")]
    pub supercell: String,
    /// random | layered:AXIS[:SPECIES[:RICH_FRACTION]] (AXIS x, y or z) | file:PATH (occupation of a
    /// structure of the same supercell).
    #[arg(long, default_value = "random")]
    pub ordering: String,
    /// Round non-integral counts instead of failing (the deviation is reported).
    #[arg(long)]
    pub round: bool,
}

#[derive(Args)]
pub struct GbArgs {
    /// List the five grain boundaries of paper 000 and exit.
    #[arg(long)]
    pub list: bool,
    /// Build a boundary of paper 000 by name (see --list); axis, Σ and planes come from it.
    #[arg(long, conflicts_with_all = ["axis", "sigma", "angle", "plane", "plane2", "twist"])]
    pub paper: Option<String>,
    /// Rotation axis, e.g. 1,0,0.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub axis: Option<Vec<i64>>,
    /// Σ of the boundary.
    #[arg(long, conflicts_with = "angle")]
    pub sigma: Option<i64>,
    /// Misorientation angle (degrees): the nearest exact CSL with Σ ≤ --max-sigma is built.
    #[arg(long)]
    pub angle: Option<f64>,
    #[arg(long, default_value_t = 100)]
    pub max_sigma: i64,
    /// Boundary plane of grain A, e.g. 0,-1,2 (for --twist, the axis by default).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub plane: Option<Vec<i64>>,
    /// Requested boundary plane of grain B (asymmetric tilt); the nearest exact CSL plane is built.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub plane2: Option<Vec<i64>>,
    /// A twist boundary: the plane is normal to the axis.
    #[arg(long)]
    pub twist: bool,
    /// Lattice planes in grain A (grain B as thick); default: each grain at least 10 Å.
    #[arg(long)]
    pub layers: Option<usize>,
    /// Repeats of the smallest in-plane CSL cell, e.g. 2,2.
    #[arg(long, value_delimiter = ',', default_value = "1,1")]
    pub repeat: Vec<usize>,
    /// Rigid-body translation of grain B as fractions of the in-plane cell vectors, e.g. 0.5,0.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "0,0")]
    pub shift: Vec<f64>,
    /// A grid of N1xN2 in-plane translations, one frame each (needs a multi-frame format such as extxyz).
    #[arg(long, conflicts_with = "shift")]
    pub shift_grid: Option<String>,
    /// Sites of the two grains closer than this (Å) are merged (same sublattice) or removed.
    #[arg(long, default_value_t = 1.0)]
    pub merge_distance: f64,
    #[command(flatten)]
    pub common: FormulaArgs,
}

pub fn run(cmd: BuildCmd) -> Result<()> {
    match cmd {
        BuildCmd::Perovskite(args) => perovskite(args),
        BuildCmd::Gb(args) => grain_boundary(args),
    }
}

/// Counts of one sublattice in the JSON report.
#[derive(Serialize)]
struct SublatticeReport {
    site: &'static str,
    counts: BTreeMap<String, usize>,
    /// Built count minus the exact amount (non-zero only when rounded).
    deviations: BTreeMap<String, f64>,
}

fn sublattice_reports(counts: &[SublatticeCounts]) -> Vec<SublatticeReport> {
    counts
        .iter()
        .map(|c| SublatticeReport {
            site: match c.kind {
                SiteKind::A => "A",
                SiteKind::B => "B",
                SiteKind::O => "O",
            },
            counts: c.counts.iter().cloned().collect(),
            deviations: c.deviations.iter().cloned().collect(),
        })
        .collect()
}

/// What every build reports (`--json`).
#[derive(Serialize)]
struct StructureReport {
    n_atoms: usize,
    species: BTreeMap<&'static str, usize>,
    n_vacancies: usize,
    /// Lattice vectors as rows (Å).
    cell: [[f64; 3]; 3],
    #[serde(rename = "min_distance_A")]
    min_distance_a: Option<f64>,
    net_charge_e: Option<i64>,
    sublattices: Vec<SublatticeReport>,
    warnings: Vec<String>,
    output: PathBuf,
}

impl StructureReport {
    fn of(structure: &Structure, n_vacancies: usize, report: &BuildReport, output: &Path) -> Result<Self> {
        Ok(StructureReport {
            n_atoms: structure.len(),
            species: structure.composition(),
            n_vacancies,
            cell: *structure.cell.matrix(),
            min_distance_a: structure.min_distance()?,
            net_charge_e: report.net_charge_e,
            sublattices: sublattice_reports(&report.counts),
            warnings: report.warnings.clone(),
            output: output.to_path_buf(),
        })
    }

    fn human(&self) -> String {
        let species: Vec<String> = self.species.iter().map(|(s, c)| format!("{s} {c}")).collect();
        let mut text = format!("atoms           {}  ({})\n", self.n_atoms, species.join(", "));
        text += &format!("vacant sites    {}\n", self.n_vacancies);
        for (name, row) in ["a", "b", "c"].iter().zip(self.cell) {
            text += &format!(
                "cell {name}          {:12.6} {:12.6} {:12.6}  Å\n",
                row[0], row[1], row[2]
            );
        }
        if let Some(d) = self.min_distance_a {
            text += &format!("min distance    {d:.4} Å\n");
        }
        match self.net_charge_e {
            Some(q) => text += &format!("net charge      {q:+} e (formal oxidation states)\n"),
            None => text += "net charge      unknown (a species has no formal oxidation state)\n",
        }
        for w in &self.warnings {
            text += &format!("warning: {w}\n");
        }
        text += &format!("written         {}\n", self.output.display());
        text
    }
}

fn read_formula(common: &FormulaArgs) -> Result<Formula> {
    match (&common.formula, &common.formula_file) {
        (Some(text), _) => Ok(Formula::parse(text)?),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Formula::from_toml(&text, &path.display().to_string())?)
        }
        (None, None) => bail!("give --formula or --formula-file"),
    }
}

fn output_format(common: &FormulaArgs) -> Result<Option<Format>> {
    Ok(common.format.as_deref().map(Format::from_name).transpose()?)
}

fn write_frames(common: &FormulaArgs, frames: Vec<Structure>) -> Result<PathBuf> {
    let path = common.output.clone().context("give -o OUT")?;
    io::write_file(
        &path,
        output_format(common)?,
        frames.into_iter().map(Ok),
        &WriteOptions::default(),
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn parse_grid(text: &str, what: &str) -> Result<[usize; 2]> {
    let parts: Vec<usize> = text
        .split(['x', 'X', ','])
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{what} '{text}': expected N1xN2"))?;
    match parts[..] {
        [n1, n2] if n1 > 0 && n2 > 0 => Ok([n1, n2]),
        _ => bail!("{what} '{text}': expected two positive integers N1xN2"),
    }
}

fn parse_supercell(text: &str) -> Result<[usize; 3]> {
    let parts: Vec<usize> = text
        .split(['x', 'X', ','])
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--supercell '{text}': expected N1xN2xN3"))?;
    match parts[..] {
        [n1, n2, n3] if n1 * n2 * n3 > 0 => Ok([n1, n2, n3]),
        _ => bail!("--supercell '{text}': expected three positive integers N1xN2xN3"),
    }
}

pub(crate) fn parse_ordering(text: &str) -> Result<(Ordering, Option<usize>)> {
    if text == "random" {
        return Ok((Ordering::Random, None));
    }
    if let Some(path) = text.strip_prefix("file:") {
        let mut frames = io::read_file(Path::new(path), None, &ReadOptions::default())?;
        let first = frames
            .next()
            .with_context(|| format!("--ordering: {path} holds no structure"))??;
        return Ok((Ordering::FromStructure(Box::new(first)), None));
    }
    let Some(rest) = text.strip_prefix("layered:") else {
        bail!("--ordering '{text}': expected random, layered:AXIS[:SPECIES[:FRACTION]] or file:PATH");
    };
    let mut parts = rest.split(':');
    let axis = match parts.next() {
        Some("x") => 0,
        Some("y") => 1,
        Some("z") => 2,
        other => bail!("--ordering '{text}': layer axis {other:?} is not x, y or z"),
    };
    let species = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    let rich_fraction = parts
        .next()
        .map(|f| {
            f.parse::<f64>()
                .with_context(|| format!("--ordering '{text}': bad rich-layer fraction '{f}'"))
        })
        .transpose()?;
    Ok((
        Ordering::Layered {
            axis,
            species,
            rich_fraction,
        },
        Some(axis),
    ))
}

/// `--json` of `gbion build perovskite`.
#[derive(Serialize)]
struct PerovskiteReport {
    formula: String,
    supercell: [usize; 3],
    #[serde(flatten)]
    structure: StructureReport,
    /// A-site ordering parameter S (paper 000, Fig. 2) along `ordering_axis`, and its maximum.
    #[serde(rename = "ordering_S")]
    ordering_s: Option<f64>,
    #[serde(rename = "ordering_S_max")]
    ordering_s_max: Option<f64>,
    ordering_axis: Option<usize>,
}

fn perovskite(args: PerovskiteArgs) -> Result<()> {
    let formula = read_formula(&args.common)?;
    let (ordering, axis) = parse_ordering(&args.ordering)?;
    let spec = PerovskiteSpec {
        formula,
        a: args.common.a.context("give --a")?,
        supercell: parse_supercell(&args.supercell)?,
        ordering,
        seed: args.common.seed,
        round: args.round,
    };
    let built = spec.build()?;
    let s = gbion_analysis::ordering::a_site_ordering(&built.structure, axis).ok();
    let path = write_frames(&args.common, vec![built.structure.clone()])?;
    let report = PerovskiteReport {
        formula: spec.formula.text(),
        supercell: spec.supercell,
        structure: StructureReport::of(&built.structure, built.vacancies.len(), &built.report, &path)?,
        ordering_s: s.as_ref().map(|o| o.s),
        ordering_s_max: s.as_ref().map(|o| o.s_max),
        ordering_axis: s.as_ref().map(|o| o.axis),
    };
    emit(args.common.json, &report, || {
        let mut text = format!(
            "formula         {}  ({:?} supercell)\n",
            report.formula, report.supercell
        );
        if let (Some(value), Some(max)) = (report.ordering_s, report.ordering_s_max) {
            text += &format!(
                "ordering S      {value:.4} (max {max:.4}) along axis {}\n",
                report.ordering_axis.unwrap_or(2)
            );
        }
        text + &report.structure.human()
    })
}

/// `--json` of `gbion build gb`.
#[derive(Serialize)]
struct GbReport {
    name: Option<String>,
    #[serde(flatten)]
    geometry: GbGeometry,
    /// In-plane translations of grain B (fractions of a and b), one per frame.
    shifts: Vec<[f64; 2]>,
    frames: usize,
    #[serde(flatten)]
    structure: StructureReport,
}

/// `--list` entries.
#[derive(Serialize)]
struct PaperGbEntry {
    name: &'static str,
    label: &'static str,
    axis: [i64; 3],
    sigma: i64,
    angle_deg: f64,
    planes: [[i64; 3]; 2],
    command: String,
}

fn triple(values: &Option<Vec<i64>>, what: &str) -> Result<Option<[i64; 3]>> {
    values
        .as_ref()
        .map(|v| <[i64; 3]>::try_from(v.as_slice()).map_err(|_| anyhow::anyhow!("{what}: expected h,k,l")))
        .transpose()
}

fn two<T: Copy>(values: &[T], what: &str) -> Result<[T; 2]> {
    <[T; 2]>::try_from(values).map_err(|_| anyhow::anyhow!("{what}: expected two comma-separated numbers"))
}

fn list_paper_gbs(json: bool) -> Result<()> {
    let mut entries = Vec::new();
    for gb in &PAPER_GBS {
        let built = gb.spec(Formula::parse("SrTiO3")?, 4.0, Some(1)).build()?;
        entries.push(PaperGbEntry {
            name: gb.name,
            label: gb.label,
            axis: gb.axis,
            sigma: gb.sigma,
            angle_deg: built.geometry.angle_deg,
            planes: built.geometry.planes,
            command: format!(
                "gbion build gb --paper {} --a 3.99 --formula \"Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3\" -o {}.xyz",
                gb.name, gb.name
            ),
        });
    }
    emit(json, &entries, || {
        let mut text = String::from("Grain boundaries of paper 000 (LSTZ0.75, Fig. 4a):\n");
        for e in &entries {
            text += &format!(
                "  {:<13} {:<42} θ = {:7.3}°, built planes {:?} / {:?}\n",
                e.name, e.label, e.angle_deg, e.planes[0], e.planes[1]
            );
        }
        text + "Build one with: gbion build gb --paper NAME --a A --formula F -o OUT\n"
    })
}

fn gb_spec(args: &GbArgs, formula: Formula, a: f64) -> Result<BicrystalSpec> {
    let shift = two(&args.shift, "--shift")?;
    let repeat = two(&args.repeat, "--repeat")?;
    if let Some(name) = &args.paper {
        let paper = by_name(name).with_context(|| {
            let names: Vec<&str> = PAPER_GBS.iter().map(|g| g.name).collect();
            format!("--paper '{name}': not one of {}", names.join(", "))
        })?;
        let mut spec = paper.spec(formula, a, args.layers);
        spec.repeat = repeat;
        spec.translation = shift;
        spec.merge_distance = args.merge_distance;
        spec.seed = args.common.seed;
        return Ok(spec);
    }
    let axis = triple(&args.axis, "--axis")?.context("give --axis (or --paper NAME)")?;
    let misorientation = match (args.sigma, args.angle) {
        (Some(sigma), _) => Misorientation::Sigma(sigma),
        (None, Some(degrees)) => Misorientation::Angle {
            degrees,
            max_sigma: args.max_sigma,
        },
        (None, None) => bail!("give --sigma or --angle"),
    };
    let plane = match (triple(&args.plane, "--plane")?, args.twist) {
        (Some(p), _) => p,
        (None, true) => axis,
        (None, false) => bail!("give --plane (or --twist for a twist boundary)"),
    };
    Ok(BicrystalSpec {
        formula,
        a,
        axis,
        misorientation,
        plane,
        plane2: triple(&args.plane2, "--plane2")?,
        layers: args.layers,
        repeat,
        translation: shift,
        merge_distance: args.merge_distance,
        seed: args.common.seed,
    })
}

fn grain_boundary(args: GbArgs) -> Result<()> {
    if args.list {
        return list_paper_gbs(args.common.json);
    }
    let formula = read_formula(&args.common)?;
    let spec = gb_spec(&args, formula, args.common.a.context("give --a")?)?;
    let shifts = match &args.shift_grid {
        Some(grid) => {
            let [n1, n2] = parse_grid(grid, "--shift-grid")?;
            translation_grid(n1, n2)
        }
        None => vec![spec.translation],
    };
    let mut frames: Vec<Bicrystal> = Vec::new();
    for shift in &shifts {
        let mut one = spec.clone();
        one.translation = *shift;
        let mut built = one.build()?;
        built.built.structure.info.insert(
            "rbt_shift_frac".into(),
            gbion_atoms::InfoValue::RealArray(shift.to_vec()),
        );
        frames.push(built);
    }
    let first = frames[0].clone();
    let path = write_frames(&args.common, frames.into_iter().map(|f| f.built.structure).collect())?;
    let report = GbReport {
        name: args.paper.clone(),
        geometry: first.geometry.clone(),
        frames: shifts.len(),
        shifts,
        structure: StructureReport::of(
            &first.built.structure,
            first.built.vacancies.len(),
            &first.built.report,
            &path,
        )?,
    };
    emit(args.common.json, &report, || gb_human(&report))
}

fn gb_human(report: &GbReport) -> String {
    let g = &report.geometry;
    let mut text = format!(
        "boundary        Σ{} {:?} about {:?}, θ = {:.4}°\n",
        g.sigma, g.kind, g.axis, g.angle_deg
    );
    text += &format!(
        "planes          {:?} (grain A) / {:?} (grain B)\n",
        g.planes[0], g.planes[1]
    );
    if let (Some(requested), Some(deviation)) = (g.requested_plane2, g.plane2_deviation_deg) {
        text += &format!(
            "requested       plane {requested:?} in grain B: nearest exact CSL plane is {deviation:.3}° away\n"
        );
    }
    if let Some(requested) = g.requested_angle_deg {
        text += &format!(
            "requested       θ = {requested}°: nearest exact CSL is {:.4}° away\n",
            (g.angle_deg - requested).abs()
        );
    }
    text += &format!(
        "GB area         {:.3} Å² (in-plane CSL cell {:?} × {:?})\n",
        g.gb_area_a2, g.csl_cell[0], g.csl_cell[1]
    );
    text += &format!(
        "layers          {} + {} lattice planes, spacing {:.4} / {:.4} Å; GBs at z = {:.4} and {:.4} Å\n",
        g.layers[0], g.layers[1], g.plane_spacing_a[0], g.plane_spacing_a[1], g.gb_z_a[0], g.gb_z_a[1]
    );
    text += &format!(
        "merged/removed  {} site pairs merged, removed A/B/O sites {:?}\n",
        g.merged_sites, g.removed_sites
    );
    if report.frames > 1 {
        text += &format!("frames          {} rigid-body translations of grain B\n", report.frames);
    }
    text + &report.structure.human()
}
