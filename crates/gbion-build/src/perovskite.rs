//! Cubic ABO3 perovskite supercells from a formula: n1 × n2 × n3 units of lattice constant a (A at the
//! corner, B at the body centre, O at the face centres), every atom tagged with its site, vacant sites kept
//! as positions, and the A sites ordered randomly (seeded), in alternating rich/poor layers (paper 000,
//! Fig. 2a) or as read from a structure of the same supercell.

use crate::formula::{Formula, SublatticeCounts, VACANCY, sublattice_counts};
use crate::occupy::{self, PEROVSKITE_BASIS_HALF, Site, of_kind, species_list};
use crate::{Error, Result};
use gbion_atoms::{Cell, SiteKind, Structure, Vec3};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::HashMap;

/// How species are distributed over the sites.
#[derive(Clone, Debug)]
pub enum Ordering {
    /// Every sublattice shuffled with the seeded generator.
    Random,
    /// A-site layers normal to lattice axis `axis` (0, 1, 2) alternate rich (even layers) and poor (odd) in
    /// `species` (default: the most abundant A-site species other than Li); `rich_fraction` is the fraction
    /// of rich-layer A sites it occupies (default: as many as it can, all of it when it fits, which gives the
    /// largest ordering parameter S). Other A-site species and the B and O sublattices are random.
    Layered {
        axis: usize,
        species: Option<String>,
        rich_fraction: Option<f64>,
    },
    /// The occupation of a structure of the same supercell (e.g. an equilibrated snapshot): each atom is
    /// put on the nearest site (in fractional coordinates, so a strained cell is fine); sites without an
    /// atom are vacant. Its counts must equal the formula's.
    FromStructure(Box<Structure>),
}

/// What to build.
#[derive(Clone, Debug)]
pub struct PerovskiteSpec {
    pub formula: Formula,
    /// Cubic lattice constant (Å).
    pub a: f64,
    /// Units along a, b, c.
    pub supercell: [usize; 3],
    pub ordering: Ordering,
    pub seed: u64,
    /// Round non-integral counts (largest remainder) instead of failing; deviations go to the report.
    pub round: bool,
}

/// A built structure with its vacant sites and what the builder has to say about it.
#[derive(Clone, Debug)]
pub struct Built {
    /// Atoms with the `site` tag (and `grain`, `gb_distance` for bicrystals); vacancies in the info too.
    pub structure: Structure,
    /// Vacant sites: sublattice and Cartesian position (Å).
    pub vacancies: Vec<(SiteKind, Vec3)>,
    pub report: BuildReport,
}

/// Counts, charge and warnings of a build.
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    /// Counts per sublattice (per grain for bicrystals, grain-major), with deviations when rounded.
    pub counts: Vec<SublatticeCounts>,
    /// Net formal charge of the built cell (e); `None` when a species has no known oxidation state.
    pub net_charge_e: Option<i64>,
    /// Charge imbalance, rounding and similar notes for the user.
    pub warnings: Vec<String>,
}

/// Most perovskite units (5 sites each) a supercell may have: 10⁸, some 40 GB of structure and lists.
pub const MAX_UNITS: usize = 100_000_000;

/// The sites of an n1 × n2 × n3 perovskite supercell, unit by unit.
pub fn supercell_sites(a: f64, supercell: [usize; 3]) -> Vec<Site> {
    let mut sites = Vec::with_capacity(5 * supercell.iter().product::<usize>());
    for i in 0..supercell[0] {
        for j in 0..supercell[1] {
            for k in 0..supercell[2] {
                for (kind, half) in PEROVSKITE_BASIS_HALF {
                    let position = [
                        a * (i as f64 + 0.5 * half[0] as f64),
                        a * (j as f64 + 0.5 * half[1] as f64),
                        a * (k as f64 + 0.5 * half[2] as f64),
                    ];
                    sites.push(Site {
                        kind,
                        position,
                        grain: 0,
                    });
                }
            }
        }
    }
    sites
}

/// The default layering species: the most abundant A-site species other than Li and vacancies.
pub fn default_layer_species(formula: &Formula) -> Option<String> {
    let mut candidates: Vec<_> = formula
        .sublattice(SiteKind::A)
        .occupants
        .iter()
        .filter(|(s, _)| s != "Li" && s != VACANCY)
        .collect();
    candidates.sort_by(|x, y| y.1.value().total_cmp(&x.1.value()));
    candidates.first().map(|(s, _)| s.clone())
}

impl PerovskiteSpec {
    /// Build the supercell.
    pub fn build(&self) -> Result<Built> {
        if !(self.a.is_finite() && self.a > 0.0) || self.supercell.contains(&0) {
            return Err(Error::Invalid(format!(
                "lattice constant {} Å and supercell {:?} must be positive",
                self.a, self.supercell
            )));
        }
        let units = self.supercell.iter().map(|&n| n as f64).product::<f64>();
        if units > MAX_UNITS as f64 {
            return Err(Error::Invalid(format!(
                "supercell {:?} has {units:.3e} perovskite units, more than the {MAX_UNITS} (5 × 10⁸ sites) gbion builds",
                self.supercell
            )));
        }
        let lengths = self.supercell.map(|n| n as f64 * self.a);
        let cell = Cell::orthorhombic(lengths)?;
        let sites = supercell_sites(self.a, self.supercell);
        let mut occupant = vec![String::new(); sites.len()];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let all: Vec<usize> = (0..sites.len()).collect();
        let counts = occupy::fill_random(&self.formula, &sites, &all, self.round, &mut rng, &mut occupant)?;
        match &self.ordering {
            Ordering::Random => {}
            Ordering::Layered {
                axis,
                species,
                rich_fraction,
            } => self.layer_a_sites(
                &sites,
                *axis,
                species.as_deref(),
                *rich_fraction,
                &counts[0],
                &mut rng,
                &mut occupant,
            )?,
            Ordering::FromStructure(source) => self.occupy_from(source, &sites, &counts, &mut occupant)?,
        }
        let (structure, vacant) = occupy::assemble(cell, &sites, &occupant, false)?;
        let report = report_of(&self.formula, counts, &occupant, self.round);
        Ok(Built {
            structure,
            vacancies: vacant.iter().map(|&i| (sites[i].kind, sites[i].position)).collect(),
            report,
        })
    }

    /// Re-occupy the A sites in alternating rich/poor layers normal to `axis`.
    #[allow(clippy::too_many_arguments)]
    fn layer_a_sites(
        &self,
        sites: &[Site],
        axis: usize,
        species: Option<&str>,
        rich_fraction: Option<f64>,
        a_counts: &SublatticeCounts,
        rng: &mut Xoshiro256PlusPlus,
        occupant: &mut [String],
    ) -> Result<()> {
        if axis > 2 || !self.supercell[axis].is_multiple_of(2) {
            return Err(Error::Invalid(format!(
                "layered ordering along axis {axis} needs an even number of units along it (supercell {:?})",
                self.supercell
            )));
        }
        let species = match species {
            Some(s) => s.to_string(),
            None => default_layer_species(&self.formula)
                .ok_or_else(|| Error::Invalid("no A-site species other than Li to layer".into()))?,
        };
        let total = a_counts
            .counts
            .iter()
            .find(|(s, _)| *s == species)
            .map(|(_, c)| *c)
            .ok_or_else(|| Error::Invalid(format!("layer species {species} is not on the A sites")))?;
        let a_sites = of_kind(sites, &(0..sites.len()).collect::<Vec<_>>(), SiteKind::A);
        let layer = |i: usize| (sites[i].position[axis] / self.a).round() as usize % 2;
        let (mut rich, mut poor): (Vec<usize>, Vec<usize>) = a_sites.iter().partition(|&&i| layer(i) == 0);
        let in_rich = match rich_fraction {
            None => total.min(rich.len()),
            Some(f) if (0.0..=1.0).contains(&f) => ((f * rich.len() as f64).round() as usize).min(total),
            Some(f) => return Err(Error::Invalid(format!("rich-layer fraction {f} is not within [0, 1]"))),
        };
        if total - in_rich > poor.len() {
            return Err(Error::Invalid(format!(
                "{} {species} do not fit in the {} poor-layer sites",
                total - in_rich,
                poor.len()
            )));
        }
        rich.shuffle(rng);
        poor.shuffle(rng);
        let mut others: Vec<String> = species_list(a_counts).into_iter().filter(|s| *s != species).collect();
        others.shuffle(rng);
        let mut others = others.into_iter();
        let layer_species_sites = rich[..in_rich].iter().chain(&poor[..total - in_rich]);
        for &i in layer_species_sites {
            occupant[i] = species.clone();
        }
        for &i in rich[in_rich..].iter().chain(&poor[total - in_rich..]) {
            occupant[i] = others.next().expect("site counts add up");
        }
        Ok(())
    }

    /// Occupy the sites as the atoms of `source` do.
    fn occupy_from(
        &self,
        source: &Structure,
        sites: &[Site],
        counts: &[SublatticeCounts],
        occupant: &mut [String],
    ) -> Result<()> {
        let grid = self.supercell.map(|n| 2 * n as i64);
        let key = |frac: Vec3| -> Option<[i64; 3]> {
            let mut k = [0; 3];
            for d in 0..3 {
                let x = frac[d] * grid[d] as f64;
                if (x - x.round()).abs() > 0.35 {
                    return None;
                }
                k[d] = (x.round() as i64).rem_euclid(grid[d]);
            }
            Some(k)
        };
        let site_of: HashMap<[i64; 3], usize> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let frac = [0, 1, 2].map(|d| s.position[d] / (self.a * self.supercell[d] as f64));
                (key(frac).expect("sites lie on the grid"), i)
            })
            .collect();
        occupant.iter_mut().for_each(|o| *o = VACANCY.to_string());
        for (atom, (element, position)) in source.elements.iter().zip(&source.positions).enumerate() {
            let site = key(source.cell.to_fractional(*position))
                .and_then(|k| site_of.get(&k))
                .ok_or_else(|| Error::Invalid(format!("ordering structure: atom {atom} ({element}) is on no site")))?;
            if occupant[*site] != VACANCY {
                return Err(Error::Invalid(format!(
                    "ordering structure: atom {atom} ({element}) shares a site with another atom"
                )));
            }
            occupant[*site] = element.symbol().to_string();
        }
        for sublattice_counts in counts {
            let indices = of_kind(sites, &(0..sites.len()).collect::<Vec<_>>(), sublattice_counts.kind);
            for (symbol, expected) in &sublattice_counts.counts {
                let found = indices.iter().filter(|&&i| occupant[i] == *symbol).count();
                if found != *expected {
                    return Err(Error::Invalid(format!(
                        "ordering structure has {found} {symbol} on {:?} sites, the formula needs {expected}",
                        sublattice_counts.kind
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The report of a build: counts, net charge, and warnings about charge and rounding.
pub fn report_of(formula: &Formula, counts: Vec<SublatticeCounts>, occupant: &[String], round: bool) -> BuildReport {
    let mut warnings = Vec::new();
    match formula.charge_per_formula_unit() {
        Ok(q) if q.abs() > 1e-9 => warnings.push(format!(
            "formula {} is not charge neutral: {q:+} e per formula unit from formal oxidation states",
            formula.text()
        )),
        Ok(_) => {}
        Err(unknown) => warnings.push(format!(
            "no formal oxidation state for {}: charge not checked",
            unknown.join(", ")
        )),
    }
    let net_charge_e = occupy::net_charge(occupant);
    if let Some(q) = net_charge_e.filter(|q| *q != 0) {
        warnings.push(format!("the built cell carries a net formal charge of {q:+} e"));
    }
    if round {
        for (symbol, deviation) in counts
            .iter()
            .flat_map(|c| &c.deviations)
            .filter(|(_, d)| d.abs() > 1e-9)
        {
            warnings.push(format!("{symbol} count rounded by {deviation:+.4}"));
        }
    }
    BuildReport {
        counts,
        net_charge_e,
        warnings,
    }
}

/// The integer counts of every sublattice of a supercell of `cells` units, or the not-integral error.
pub fn counts_for_cells(formula: &Formula, cells: usize, round: bool) -> Result<Vec<SublatticeCounts>> {
    [SiteKind::A, SiteKind::B, SiteKind::O]
        .into_iter()
        .map(|kind| {
            let n = cells * crate::formula::sites_per_formula_unit(kind) as usize;
            sublattice_counts(formula, kind, n, round)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gbion_atoms::structure::tags;

    fn lstz(supercell: [usize; 3], ordering: Ordering, seed: u64) -> PerovskiteSpec {
        PerovskiteSpec {
            formula: Formula::parse("Li0.375Sr0.4375Va0.1875 Ta0.75Zr0.25 O3").unwrap(),
            a: 3.99,
            supercell,
            ordering,
            seed,
            round: false,
        }
    }

    fn layered_z() -> Ordering {
        Ordering::Layered {
            axis: 2,
            species: None,
            rich_fraction: None,
        }
    }

    #[test]
    fn lstz_16_unit_cell_has_exact_counts_tags_and_vacancies() {
        let built = lstz([2, 2, 4], Ordering::Random, 1).build().unwrap();
        let s = &built.structure;
        let composition = s.composition();
        assert_eq!(
            [
                composition["Li"],
                composition["Sr"],
                composition["Ta"],
                composition["Zr"],
                composition["O"]
            ],
            [6, 7, 12, 4, 48]
        );
        assert_eq!(s.len(), 77);
        assert_eq!(built.vacancies.len(), 3);
        assert!(built.vacancies.iter().all(|(k, _)| *k == SiteKind::A));
        assert_eq!(built.report.net_charge_e, Some(0));
        assert!(built.report.warnings.is_empty());
        let site = s.int_tag(tags::SITE).unwrap();
        for (e, t) in s.elements.iter().zip(site) {
            let expected = match e.symbol() {
                "Li" | "Sr" => SiteKind::A,
                "Ta" | "Zr" => SiteKind::B,
                _ => SiteKind::O,
            };
            assert_eq!(*t, expected as i64);
        }
        // Vacancies are at A-site positions not held by any atom.
        for (_, v) in &built.vacancies {
            assert!(
                s.positions
                    .iter()
                    .all(|p| gbion_atoms::linalg::norm(gbion_atoms::linalg::sub(*p, *v)) > 1.0)
            );
        }
        assert!(
            (s.min_distance().unwrap().unwrap() - 3.99 / 2.0).abs() < 1e-9,
            "B–O distance a/2"
        );
    }

    #[test]
    fn llto_needs_100_a_sites_unless_rounded() {
        let mut spec = lstz([4, 4, 4], Ordering::Random, 1);
        spec.formula = Formula::parse("Li0.29La0.57TiO3").unwrap();
        let err = spec.build().unwrap_err().to_string();
        assert!(err.contains("100 formula units") && err.contains("4x5x5"), "{err}");
        spec.round = true;
        let built = spec.build().unwrap();
        assert!(built.report.warnings.iter().any(|w| w.contains("rounded")));
        // 64 A sites: 19 Li, 36 La, 9 Va → charge 19 + 108 + 256 − 384 = −1.
        assert_eq!(built.report.net_charge_e, Some(-1));
        assert!(
            built
                .report
                .warnings
                .iter()
                .any(|w| w.contains("net formal charge of -1"))
        );
        spec.supercell = [4, 5, 5];
        spec.round = false;
        assert_eq!(spec.build().unwrap().vacancies.len(), 14);
    }

    #[test]
    fn a_supercell_beyond_any_memory_is_an_error() {
        let err = lstz([100_000; 3], Ordering::Random, 1).build().unwrap_err().to_string();
        assert!(err.contains("1.000e15 perovskite units"), "{err}");
    }

    #[test]
    fn layered_cell_puts_all_sr_in_even_layers_and_is_seeded() {
        let built = lstz([2, 2, 4], layered_z(), 3).build().unwrap();
        let s = &built.structure;
        for (e, p) in s.elements.iter().zip(&s.positions) {
            if e.symbol() == "Sr" {
                assert_eq!((p[2] / 3.99).round() as usize % 2, 0);
            }
        }
        let again = lstz([2, 2, 4], layered_z(), 3).build().unwrap();
        assert_eq!(again.structure, built.structure);
        let other = lstz([2, 2, 4], layered_z(), 4).build().unwrap();
        assert_ne!(other.structure, built.structure);
        assert!(lstz([2, 2, 3], layered_z(), 3).build().is_err());
    }

    #[test]
    fn ordering_from_structure_reproduces_it() {
        let layered = lstz([2, 2, 4], layered_z(), 5).build().unwrap();
        let mut strained = layered.structure.clone();
        let scale = 1.01;
        strained.cell = Cell::orthorhombic(strained.cell.lengths().map(|l| l * scale)).unwrap();
        strained
            .positions
            .iter_mut()
            .for_each(|p| *p = p.map(|x| x * scale + 0.1));
        let copy = lstz([2, 2, 4], Ordering::FromStructure(Box::new(strained)), 9)
            .build()
            .unwrap();
        assert_eq!(copy.structure.elements, layered.structure.elements);
        assert_eq!(copy.structure.positions, layered.structure.positions);
        let mut short = layered.structure.clone();
        short.positions.truncate(76);
        short.elements.truncate(76);
        let err = lstz([2, 2, 4], Ordering::FromStructure(Box::new(short)), 9)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("the formula needs"), "{err}");
    }
}
