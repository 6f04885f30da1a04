//! `gbion quickstart`: the main job on an embedded default. For now it builds the LSTZ0.75 perovskite
//! (Li0.375 Sr0.4375 □0.1875 Ta0.75 Zr0.25 O3, paper 000) with gbion-build as a supercell of its
//! 16-formula-unit cell (2 × 2 × 4 cubic units; 6 Li, 7 Sr and 3 vacancies on its 16 A sites, 12 Ta and 4 Zr)
//! with the layered A-site ordering of paper 000 Fig. 2a (all Sr in the Sr-rich layers, stacked along c),
//! measures its A-site ordering parameter S with gbion-analysis and prints its summary. Later issues extend
//! it (potentials, dynamics, analysis, transport).

use crate::output::emit;
use crate::structure_cmd::StructureSummary;
use anyhow::{Context, Result};
use clap::Args;
use gbion_analysis::ordering::a_site_ordering;
use gbion_atoms::SiteKind;
use gbion_build::formula::Formula;
use gbion_build::perovskite::{Ordering, PerovskiteSpec};
use serde::Serialize;

/// LSTZ0.75 (paper 000) in the builder's formula syntax.
const LSTZ075: &str = "Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3";

/// Seed of the (random) B-site arrangement, so quickstart always prints the same structure.
const SEED: u64 = 2026;

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

pub fn run(args: QuickstartArgs) -> Result<()> {
    let repeat: [usize; 3] = match args.repeat.as_slice() {
        [a, b, c] if *a > 0 && *b > 0 && *c > 0 => [*a, *b, *c],
        other => anyhow::bail!("--repeat needs three positive integers, got {other:?}"),
    };
    if args.lattice_constant.is_nan() || args.lattice_constant <= 0.0 {
        anyhow::bail!("--lattice-constant must be positive, got {}", args.lattice_constant);
    }
    let spec = PerovskiteSpec {
        formula: Formula::parse(LSTZ075)?,
        a: args.lattice_constant,
        supercell: [2 * repeat[0], 2 * repeat[1], 4 * repeat[2]],
        ordering: Ordering::Layered {
            axis: 2,
            species: Some("Sr".into()),
            rich_fraction: None,
        },
        seed: SEED,
        round: false,
    };
    let built = spec.build().context("building the LSTZ0.75 supercell")?;
    let structure = built.structure;
    if let Some(path) = &args.output {
        gbion_atoms::io::write_file(path, None, [Ok(structure.clone())], &Default::default())?;
    }
    // ABO3: every formula unit has five sites, one of them an A site.
    let a_sites = (structure.len() + built.vacancies.len()) / 5;
    let mut a_site_occupancy = std::collections::BTreeMap::new();
    for (symbol, n) in structure.composition() {
        if matches!(symbol, "Li" | "Sr") {
            a_site_occupancy.insert(symbol, n as f64 / a_sites as f64);
        }
    }
    let a_vacancies = built.vacancies.iter().filter(|(kind, _)| *kind == SiteKind::A).count();
    a_site_occupancy.insert("Va", a_vacancies as f64 / a_sites as f64);
    let report = QuickstartReport {
        structure: StructureSummary::of(&structure, 1)?,
        a_site_occupancy,
        formal_charge_e: built
            .report
            .net_charge_e
            .context("LSTZ0.75 has known oxidation states")?,
        ordering_parameter_s: a_site_ordering(&structure, None)?.s,
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
