//! `gbion quickstart`: the main job on an embedded default. For now it builds the LSTZ0.75 perovskite
//! (Li0.375 Sr0.4375 □0.1875 Ta0.75 Zr0.25 O3, paper 000) as a 2 × 2 × 2 supercell of its 16-formula-unit
//! cell with the layered A-site ordering of paper 000 Fig. 2a (all Sr in the Sr-rich layers), and prints
//! its summary. Later issues extend it (potentials, dynamics, analysis, transport).
//!
//! The 16-formula-unit cell is 2 × 2 × 4 cubic perovskite units stacked along z. Its 16 A sites hold
//! 6 Li, 7 Sr and 3 vacancies (the smallest integral A sublattice); its 16 B sites 12 Ta and 4 Zr; 48 O.
//! A layers alternate Sr-rich (z = 0, 2: 7 Sr + 1 Li on 8 sites) and Sr-poor (z = 1, 3: 5 Li + 3 vacancies).

use crate::output::emit;
use crate::structure_cmd::StructureSummary;
use anyhow::Result;
use clap::Args;
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, SiteKind, Structure};
use serde::Serialize;

#[derive(Args)]
pub struct QuickstartArgs {
    /// Pseudo-cubic perovskite lattice constant (Å). The default, 3.95 Å, is an approximate value for
    /// LSTZ0.75, not a number from the papers.
    #[arg(long, default_value_t = 3.95)]
    pub lattice_constant: f64,
    /// Repetitions of the 16-formula-unit cell along a, b, c.
    #[arg(long, value_delimiter = ',', default_value = "2,2,2")]
    pub repeat: Vec<usize>,
    /// Also write the structure to this file (format from its name: .xyz, POSCAR, .data, .dump, .cfg).
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// Print a JSON object instead of a human summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct QuickstartReport {
    structure: StructureSummary,
    /// A-site occupancy per species (fraction of A sites, vacancies as "Va").
    a_site_occupancy: std::collections::BTreeMap<&'static str, f64>,
    /// Sum of formal charges (e); zero for a charge-neutral cell.
    formal_charge_e: i64,
    /// A-site ordering parameter S = (R_Sr,rich − R_Sr,overall) / (1 − R_Sr,overall), paper 000 Fig. 2.
    ordering_parameter_s: f64,
}

/// A-site species of each A site in the 16-f.u. cell, indexed by (layer z, in-plane site 0..4 of the
/// 2 × 2 layer, unit cell 0..2 along... ) flattened as layer-major lists of 4 sites.
const A_LAYERS: [[&str; 4]; 4] = [
    ["Sr", "Sr", "Sr", "Sr"], // z = 0, Sr-rich (with z = 2: 7 Sr + 1 Li)
    ["Li", "Li", "Li", "Va"], // z = 1, Sr-poor
    ["Sr", "Sr", "Sr", "Li"], // z = 2, Sr-rich
    ["Li", "Li", "Va", "Va"], // z = 3, Sr-poor
];

/// B-site species per layer: one Zr in each B layer, at a rotating in-plane position.
fn b_site_species(layer: usize, site: usize) -> &'static str {
    if site == layer % 4 { "Zr" } else { "Ta" }
}

/// Formal oxidation states of the species in LSTZ0.75.
fn formal_charge(symbol: &str) -> i64 {
    match symbol {
        "Li" => 1,
        "Sr" => 2,
        "Ta" => 5,
        "Zr" => 4,
        "O" => -2,
        _ => 0,
    }
}

/// Build the layered LSTZ0.75 supercell; vacancies are left out of the atoms.
pub fn layered_lstz(lattice_constant: f64, repeat: [usize; 3]) -> Result<Structure> {
    let a = lattice_constant;
    let [na, nb, nc] = repeat;
    let (mut elements, mut positions, mut sites) = (Vec::new(), Vec::new(), Vec::new());
    let mut place = |symbol: &str, frac: [f64; 3], site: SiteKind| -> Result<()> {
        if symbol != "Va" {
            elements.push(Element::from_symbol(symbol)?);
            positions.push(frac.map(|f| f * a));
            sites.push(site as i64);
        }
        Ok(())
    };
    for (rx, ry, rz) in (0..na).flat_map(|x| (0..nb).flat_map(move |y| (0..nc).map(move |z| (x, y, z)))) {
        for (layer, a_layer) in A_LAYERS.iter().enumerate() {
            for (site, a_species) in a_layer.iter().enumerate() {
                let (i, j) = (site % 2, site / 2);
                let origin = [(2 * rx + i) as f64, (2 * ry + j) as f64, (4 * rz + layer) as f64];
                let at = |d: [f64; 3]| [origin[0] + d[0], origin[1] + d[1], origin[2] + d[2]];
                place(a_species, at([0.0, 0.0, 0.0]), SiteKind::A)?;
                place(b_site_species(layer, site), at([0.5, 0.5, 0.5]), SiteKind::B)?;
                for o in [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]] {
                    place("O", at(o), SiteKind::O)?;
                }
            }
        }
    }
    let lengths = [2.0 * a * na as f64, 2.0 * a * nb as f64, 4.0 * a * nc as f64];
    let mut structure = Structure::new(Cell::orthorhombic(lengths)?, elements, positions)?;
    structure.set_int_tag(tags::SITE, sites)?;
    Ok(structure)
}

/// A-site ordering parameter of the layered cell, from the layer pattern: Sr-rich layers are the even ones.
fn ordering_parameter(a_sites: &[[&str; 4]; 4]) -> f64 {
    let sr = |layers: &mut dyn Iterator<Item = &[&str; 4]>| -> (usize, usize) {
        layers.fold((0, 0), |(n_sr, n), l| {
            (n_sr + l.iter().filter(|s| **s == "Sr").count(), n + l.len())
        })
    };
    let (sr_rich, rich_sites) = sr(&mut a_sites.iter().step_by(2));
    let (sr_all, all_sites) = sr(&mut a_sites.iter());
    let r_rich = sr_rich as f64 / rich_sites as f64;
    let r_all = sr_all as f64 / all_sites as f64;
    (r_rich - r_all) / (1.0 - r_all)
}

pub fn run(args: QuickstartArgs) -> Result<()> {
    let repeat: [usize; 3] = match args.repeat.as_slice() {
        [a, b, c] if *a > 0 && *b > 0 && *c > 0 => [*a, *b, *c],
        other => anyhow::bail!("--repeat needs three positive integers, got {other:?}"),
    };
    if args.lattice_constant.is_nan() || args.lattice_constant <= 0.0 {
        anyhow::bail!("--lattice-constant must be positive, got {}", args.lattice_constant);
    }
    let structure = layered_lstz(args.lattice_constant, repeat)?;
    if let Some(path) = &args.output {
        gbion_atoms::io::write_file(path, None, [Ok(structure.clone())], &Default::default())?;
    }
    let mut a_site_occupancy = std::collections::BTreeMap::new();
    for symbol in A_LAYERS.iter().flatten() {
        *a_site_occupancy.entry(*symbol).or_insert(0.0) += 1.0 / 16.0;
    }
    let report = QuickstartReport {
        structure: StructureSummary::of(&structure, 1)?,
        a_site_occupancy,
        formal_charge_e: structure.symbols().map(formal_charge).sum(),
        ordering_parameter_s: ordering_parameter(&A_LAYERS),
    };
    emit(args.json, &report, || {
        let occupancy: Vec<String> = report
            .a_site_occupancy
            .iter()
            .map(|(s, f)| format!("{s} {f:.4}"))
            .collect();
        format!(
            "LSTZ0.75 perovskite, layered A-site ordering, {}×{}×{} supercell of the 16-formula-unit cell\n{}\
             A-site occupancy {}\nformal charge   {} e\nordering S      {:.4} (maximum for LSTZ0.75: 0.7778)\n",
            repeat[0],
            repeat[1],
            repeat[2],
            report.structure.human(),
            occupancy.join(", "),
            report.formal_charge_e,
            report.ordering_parameter_s
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layered_cell_has_the_lstz075_composition() {
        let s = layered_lstz(3.95, [1, 1, 1]).unwrap();
        let c = s.composition();
        assert_eq!((c["Li"], c["Sr"], c["Ta"], c["Zr"], c["O"]), (6, 7, 12, 4, 48));
        assert_eq!(s.symbols().map(formal_charge).sum::<i64>(), 0);
        let sites = s.int_tag(tags::SITE).unwrap();
        assert_eq!(sites.iter().filter(|t| **t == SiteKind::A as i64).count(), 13);
        // Nearest neighbours in a cubic perovskite are B–O at a/2.
        assert!((s.min_distance_brute_force().unwrap() - 3.95 / 2.0).abs() < 1e-12);
    }

    #[test]
    fn all_sr_in_sr_rich_layers_gives_the_maximum_ordering() {
        // Paper 000 Fig. 2 caption: S runs from 0 to 0.78 for LSTZ0.75; the maximum is (7/8 − 7/16)/(9/16).
        assert!((ordering_parameter(&A_LAYERS) - 7.0 / 9.0).abs() < 1e-15);
    }
}
