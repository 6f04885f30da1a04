//! `gbion info` and `gbion convert`: summaries of structure files and conversion between formats.

use crate::output::emit;
use anyhow::{Context, Result, bail};
use clap::Args;
use gbion_atoms::io::{self, Format, ReadOptions, WriteOptions};
use gbion_atoms::{Element, Structure};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct InfoArgs {
    /// Structure or trajectory file (extxyz, POSCAR, LAMMPS data/dump, MLIP .cfg).
    pub file: PathBuf,
    /// File format: extxyz, poscar, lammps-data, lammps-dump, cfg (default: from the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Elements of the numeric atom types, in type order (LAMMPS types 1, 2, ...; MLIP types 0, 1, ...),
    /// e.g. `Li,Sr,Ta,Zr,O`.
    #[arg(long, value_delimiter = ',')]
    pub type_map: Option<Vec<String>>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// Input file.
    pub input: PathBuf,
    /// Output file (written atomically).
    pub output: PathBuf,
    /// Input format (default: from the input file name).
    #[arg(long)]
    pub from: Option<String>,
    /// Output format (default: from the output file name).
    #[arg(long)]
    pub to: Option<String>,
    /// Elements of the numeric atom types, in type order, for reading and writing LAMMPS and MLIP files.
    #[arg(long, value_delimiter = ',')]
    pub type_map: Option<Vec<String>>,
    /// Keep only the last frame (to write a single-frame format from a trajectory).
    #[arg(long)]
    pub last: bool,
}

/// The JSON schema of `gbion info --json` (units in the key names). Per-structure values describe the
/// first frame; `frames` counts all frames in the file.
#[derive(Serialize)]
pub struct StructureSummary {
    pub frames: usize,
    pub n_atoms: usize,
    /// Symbol → number of atoms.
    pub species: BTreeMap<&'static str, usize>,
    /// Formula in Hill order (C, H, then alphabetical; alphabetical without C), as ASE's default, e.g.
    /// `Li6O48Sr7Ta12Zr4`.
    pub formula: String,
    /// Symbol → atomic fraction.
    pub composition: BTreeMap<&'static str, f64>,
    /// Lattice vectors a, b, c as rows (Å).
    pub cell: [[f64; 3]; 3],
    pub pbc: [bool; 3],
    #[serde(rename = "cell_lengths_A")]
    pub cell_lengths_a: [f64; 3],
    pub cell_angles_deg: [f64; 3],
    #[serde(rename = "volume_A3")]
    pub volume_a3: f64,
    /// Null when the cell has no volume.
    pub density_g_cm3: Option<f64>,
    /// Shortest distance between atoms, periodic images included; null for a lone atom without images.
    #[serde(rename = "min_distance_A")]
    pub min_distance_a: Option<f64>,
}

impl StructureSummary {
    pub fn of(structure: &Structure, frames: usize) -> Result<StructureSummary> {
        let species = structure.composition();
        let n = structure.len().max(1) as f64;
        let formula = hill_formula(&species);
        Ok(StructureSummary {
            frames,
            n_atoms: structure.len(),
            composition: species.iter().map(|(s, c)| (*s, *c as f64 / n)).collect(),
            species,
            formula,
            cell: *structure.cell.matrix(),
            pbc: structure.cell.pbc(),
            cell_lengths_a: structure.cell.lengths(),
            cell_angles_deg: structure.cell.angles(),
            volume_a3: structure.cell.volume(),
            density_g_cm3: structure.density_g_cm3(),
            min_distance_a: structure.min_distance()?,
        })
    }

    /// The human-readable summary.
    pub fn human(&self) -> String {
        let mut text = String::new();
        let species: Vec<String> = self.species.iter().map(|(s, c)| format!("{s} {c}")).collect();
        text += &format!("frames          {}\n", self.frames);
        text += &format!("atoms           {}  ({})\n", self.n_atoms, species.join(", "));
        text += &format!("formula         {}\n", self.formula);
        let fractions: Vec<String> = self
            .composition
            .iter()
            .map(|(s, f)| format!("{s} {:.2} %", 100.0 * f))
            .collect();
        text += &format!("composition     {}\n", fractions.join(", "));
        for (name, row) in ["a", "b", "c"].iter().zip(self.cell) {
            text += &format!(
                "cell {name}          {:12.6} {:12.6} {:12.6}  Å\n",
                row[0], row[1], row[2]
            );
        }
        let [la, lb, lc] = self.cell_lengths_a;
        let [al, be, ga] = self.cell_angles_deg;
        text += &format!("lengths         {la:.4} {lb:.4} {lc:.4} Å;  angles {al:.3} {be:.3} {ga:.3}°\n");
        let pbc: Vec<&str> = self.pbc.iter().map(|p| if *p { "T" } else { "F" }).collect();
        text += &format!("pbc             {}\n", pbc.join(" "));
        text += &format!("volume          {:.4} Å³\n", self.volume_a3);
        match self.density_g_cm3 {
            Some(d) => text += &format!("density         {d:.4} g/cm³\n"),
            None => text += "density         (no volume)\n",
        }
        match self.min_distance_a {
            Some(d) => text += &format!("min distance    {d:.4} Å\n"),
            None => text += "min distance    (single atom, no images)\n",
        }
        text
    }
}

/// The chemical formula in Hill order: C first, then H, then the rest alphabetically; without carbon, all
/// symbols alphabetically (ASE's `get_chemical_formula(mode="hill")`).
fn hill_formula(counts: &BTreeMap<&'static str, usize>) -> String {
    let term = |s: &str, n: usize| if n == 1 { s.to_string() } else { format!("{s}{n}") };
    let mut first = Vec::new();
    if let Some(&n_c) = counts.get("C") {
        first.push(term("C", n_c));
        if let Some(&n_h) = counts.get("H") {
            first.push(term("H", n_h));
        }
    }
    let skip: &[&str] = if counts.contains_key("C") { &["C", "H"] } else { &[] };
    let rest = counts
        .iter()
        .filter(|(s, _)| !skip.contains(s))
        .map(|(s, n)| term(s, *n));
    first.into_iter().chain(rest).collect()
}

/// Parse the `--format` / `--from` / `--to` value.
fn parse_format(name: Option<&str>) -> Result<Option<Format>> {
    name.map(Format::from_name).transpose().map_err(Into::into)
}

/// Parse a list of element symbols given with the option `flag` (`--type-map Li,Sr,O`, `--species ...`).
pub(crate) fn parse_elements(symbols: Option<&[String]>, flag: &str) -> Result<Option<Vec<Element>>> {
    symbols
        .map(|list| {
            list.iter()
                .map(|s| Element::from_symbol(s.trim()).with_context(|| format!("in {flag}")))
                .collect()
        })
        .transpose()
}

/// Stream the frames of a structure file, with `--format` and `--type-map` as given on the command line.
pub(crate) fn open_frames(path: &Path, format: Option<&str>, type_map: Option<&[String]>) -> Result<io::Frames> {
    let options = ReadOptions {
        type_map: parse_elements(type_map, "--type-map")?,
        ..Default::default()
    };
    io::read_file(path, parse_format(format)?, &options).with_context(|| format!("cannot read {}", path.display()))
}

/// Read the first frame of `path` and count the frames, streaming (constant memory).
fn first_frame_and_count(path: &Path, format: Option<Format>, options: &ReadOptions) -> Result<(Structure, usize)> {
    let mut frames = io::read_file(path, format, options)?;
    let first = match frames.next() {
        Some(frame) => frame?,
        None => bail!("{}: no frames found", path.display()),
    };
    let mut count = 1;
    for frame in frames {
        frame?;
        count += 1;
    }
    Ok((first, count))
}

pub fn info(args: InfoArgs) -> Result<()> {
    let options = ReadOptions {
        type_map: parse_elements(args.type_map.as_deref(), "--type-map")?,
        ..Default::default()
    };
    let format = parse_format(args.format.as_deref())?;
    let (first, count) = first_frame_and_count(&args.file, format, &options)?;
    let summary = StructureSummary::of(&first, count)?;
    emit(args.json, &summary, || summary.human())
}

pub fn convert(args: ConvertArgs) -> Result<()> {
    let type_map = parse_elements(args.type_map.as_deref(), "--type-map")?;
    let read_options = ReadOptions {
        type_map: type_map.clone(),
        ..Default::default()
    };
    let write_options = WriteOptions {
        type_map,
        ..Default::default()
    };
    let from = parse_format(args.from.as_deref())?;
    let to = parse_format(args.to.as_deref())?;
    let frames = io::read_file(&args.input, from, &read_options)?;
    let written = if args.last {
        let last = frames
            .last()
            .with_context(|| format!("{}: no frames found", args.input.display()))?;
        io::write_file(&args.output, to, [last], &write_options)?
    } else {
        io::write_file(&args.output, to, frames, &write_options)?
    };
    eprintln!("wrote {written} frame(s) to {}", args.output.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hill_formula_puts_carbon_and_hydrogen_first() {
        let counts = BTreeMap::from([("O", 48), ("Li", 6), ("Zr", 4), ("Sr", 7), ("Ta", 12)]);
        assert_eq!(hill_formula(&counts), "Li6O48Sr7Ta12Zr4");
        let organic = BTreeMap::from([("O", 1), ("H", 6), ("C", 2), ("N", 1)]);
        assert_eq!(hill_formula(&organic), "C2H6NO");
    }
}
