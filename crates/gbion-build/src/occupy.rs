//! Lattice sites and their occupation: the A/B/O sites of a perovskite (or bicrystal), the seeded random
//! filling of a sublattice with the formula's integer counts, the formal charge of an occupation, and the
//! assembly of a `Structure` (with `site` tags) plus the list of vacant sites.

use crate::Result;
use crate::formula::{Formula, SublatticeCounts, VACANCY, oxidation_state, sublattice_counts};
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, InfoValue, SiteKind, Structure, Vec3};
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The sites of one ABO3 unit in units of a/2: A at the corner, B at the body centre, O at the face centres.
pub const PEROVSKITE_BASIS_HALF: [(SiteKind, [i64; 3]); 5] = [
    (SiteKind::A, [0, 0, 0]),
    (SiteKind::B, [1, 1, 1]),
    (SiteKind::O, [1, 1, 0]),
    (SiteKind::O, [1, 0, 1]),
    (SiteKind::O, [0, 1, 1]),
];

/// One lattice site: its sublattice, Cartesian position (Å) and grain (0 for a single crystal).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Site {
    pub kind: SiteKind,
    pub position: Vec3,
    pub grain: i64,
}

/// Indices (into `group`'s sites) of the sites of one sublattice.
pub fn of_kind(sites: &[Site], group: &[usize], kind: SiteKind) -> Vec<usize> {
    group.iter().copied().filter(|&i| sites[i].kind == kind).collect()
}

/// The species list of a sublattice's counts, in formula order, one entry per site.
pub fn species_list(counts: &SublatticeCounts) -> Vec<String> {
    counts
        .counts
        .iter()
        .flat_map(|(s, c)| std::iter::repeat_n(s.clone(), *c))
        .collect()
}

/// Fill the sites `group` of every sublattice with the formula's counts, shuffled with `rng`; `occupant`
/// (one entry per site of `sites`) receives the symbols. Returns the counts used per sublattice.
pub fn fill_random(
    formula: &Formula,
    sites: &[Site],
    group: &[usize],
    round: bool,
    rng: &mut Xoshiro256PlusPlus,
    occupant: &mut [String],
) -> Result<Vec<SublatticeCounts>> {
    let mut all_counts = Vec::new();
    for kind in [SiteKind::A, SiteKind::B, SiteKind::O] {
        let indices = of_kind(sites, group, kind);
        let counts = sublattice_counts(formula, kind, indices.len(), round)?;
        let mut species = species_list(&counts);
        species.shuffle(rng);
        for (i, s) in indices.into_iter().zip(species) {
            occupant[i] = s;
        }
        all_counts.push(counts);
    }
    Ok(all_counts)
}

/// Sum of formal charges of the occupants (e); `None` if one has no known oxidation state.
pub fn net_charge(occupant: &[String]) -> Option<i64> {
    occupant.iter().map(|s| oxidation_state(s)).sum()
}

/// The structure of the occupied sites (with the `site` tag, and the `grain` tag when `with_grain`) and
/// the indices of the vacant sites, whose positions go to the frame info `vacancies` (flattened x y z, Å).
pub fn assemble(cell: Cell, sites: &[Site], occupant: &[String], with_grain: bool) -> Result<(Structure, Vec<usize>)> {
    let mut elements = Vec::new();
    let mut positions = Vec::new();
    let mut site_tags = Vec::new();
    let mut grains = Vec::new();
    let mut vacant = Vec::new();
    for (i, (site, symbol)) in sites.iter().zip(occupant).enumerate() {
        if symbol == VACANCY {
            vacant.push(i);
            continue;
        }
        elements.push(Element::from_symbol(symbol)?);
        positions.push(site.position);
        site_tags.push(site.kind as i64);
        grains.push(site.grain);
    }
    let mut structure = Structure::new(cell, elements, positions)?;
    structure.set_int_tag(tags::SITE, site_tags)?;
    if with_grain {
        structure.set_int_tag(tags::GRAIN, grains)?;
        let vacancy_grain = vacant.iter().map(|&i| sites[i].grain).collect();
        structure
            .info
            .insert("vacancy_grain".into(), InfoValue::IntArray(vacancy_grain));
    }
    let flat = vacant.iter().flat_map(|&i| sites[i].position).collect();
    structure.info.insert("vacancies".into(), InfoValue::RealArray(flat));
    Ok((structure, vacant))
}
