//! Composition across a grain boundary: the profile of atomic percent per species along the GB normal, in
//! bins of signed distance to the nearest GB plane, and atomic percent in the GB region versus the bulk.
//!
//! Regions (paper 000, Fig. 4a): an atom belongs to the GB region when its distance to the nearest GB plane
//! is at most half the GB width w (|d| ≤ w/2, so the region is w thick around each plane); every other atom
//! belongs to the bulk. Atomic percent is 100 × (atoms of the species in the region) / (all atoms in the
//! region), all species counted in the denominator (paper 000, Table S2: Li ≈ 8 at. % of LSTZ0.75).
//!
//! Profile: the signed distance d = z − z_plane to the nearest plane (positive towards increasing z along
//! the normal, so both GBs of a bicrystal fold onto one profile) is binned with edges at multiples of the
//! bin width (bin k holds k·Δ ≤ d < (k+1)·Δ, reported at its centre (k + ½)·Δ). Counts are summed over all
//! frames added, so a trajectory's profile is the composition of all its atom visits per bin. Bins that no
//! atom visited are left out (their composition is undefined).

use super::planes::{GbPlanes, axis_coordinates};
use crate::{Error, Result};
use gbion_atoms::Structure;
use std::collections::BTreeMap;

/// Atomic percent per species in the GB region and in the bulk of one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionComposition {
    /// Number of atoms in the GB region.
    pub gb_atoms: usize,
    /// Number of atoms in the bulk (all atoms outside the GB region).
    pub bulk_atoms: usize,
    /// Symbol → atomic percent in the GB region (every species of the frame, zero included).
    pub gb_at_percent: BTreeMap<&'static str, f64>,
    /// Symbol → atomic percent in the bulk.
    pub bulk_at_percent: BTreeMap<&'static str, f64>,
}

/// The GB-region and bulk composition of `structure`, the GB region being |d| ≤ `width` / 2 around each
/// plane. Errors when either region is empty (a width too small or too large for the cell).
pub fn region_composition(structure: &Structure, planes: &GbPlanes, width: f64) -> Result<RegionComposition> {
    let distances = planes.atom_distances(structure);
    let mut gb = BTreeMap::new();
    let mut bulk = BTreeMap::new();
    for symbol in structure.composition().into_keys() {
        gb.insert(symbol, 0usize);
        bulk.insert(symbol, 0usize);
    }
    for (symbol, d) in structure.symbols().zip(distances) {
        let region = if d.abs() <= 0.5 * width { &mut gb } else { &mut bulk };
        *region.get_mut(symbol).expect("every symbol is listed") += 1;
    }
    let (gb_atoms, bulk_atoms) = (gb.values().sum::<usize>(), bulk.values().sum::<usize>());
    if gb_atoms == 0 || bulk_atoms == 0 {
        let empty = if gb_atoms == 0 { "GB region" } else { "bulk" };
        return Err(Error::Invalid(format!(
            "the {empty} is empty with a GB width of {width:.3} Å (planes {:.3} Å apart): choose another width",
            planes.separation()
        )));
    }
    Ok(RegionComposition {
        gb_atoms,
        bulk_atoms,
        gb_at_percent: percentages(&gb),
        bulk_at_percent: percentages(&bulk),
    })
}

/// Counts → percent of their sum.
fn percentages(counts: &BTreeMap<&'static str, usize>) -> BTreeMap<&'static str, f64> {
    let total = counts.values().sum::<usize>().max(1) as f64;
    counts.iter().map(|(&s, &n)| (s, 100.0 * n as f64 / total)).collect()
}

/// A composition profile along the GB normal (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct CompositionProfile {
    /// Species, alphabetical.
    pub species: Vec<&'static str>,
    /// Bin centres: signed distance from the GB plane (Å), ascending.
    pub distance: Vec<f64>,
    /// Atomic percent per bin and species: `at_percent[bin][species]`.
    pub at_percent: Vec<Vec<f64>>,
    /// Atom visits per bin (summed over frames).
    pub atoms: Vec<usize>,
}

/// Sums atom counts per profile bin and species over frames.
#[derive(Clone, Debug)]
pub struct ProfileAccumulator {
    bin_width: f64,
    counts: BTreeMap<i64, BTreeMap<&'static str, usize>>,
}

impl ProfileAccumulator {
    /// An empty profile with bins `bin_width` (Å) wide.
    pub fn new(bin_width: f64) -> Result<ProfileAccumulator> {
        if !(bin_width.is_finite() && bin_width > 0.0) {
            return Err(Error::Invalid(format!(
                "the profile bin width must be a positive number of Å, not {bin_width}"
            )));
        }
        Ok(ProfileAccumulator {
            bin_width,
            counts: BTreeMap::new(),
        })
    }

    /// The bin width (Å).
    pub fn bin_width(&self) -> f64 {
        self.bin_width
    }

    /// Add every atom of one frame, binned by its signed distance to the nearest plane.
    pub fn add(&mut self, structure: &Structure, planes: &GbPlanes) {
        let z = axis_coordinates(structure, planes.axis);
        for (symbol, zi) in structure.symbols().zip(z) {
            let d = planes.signed_distance(zi).1;
            let bin = (d / self.bin_width).floor() as i64;
            *self.counts.entry(bin).or_default().entry(symbol).or_default() += 1;
        }
    }

    /// The profile of everything added so far.
    pub fn profile(&self) -> CompositionProfile {
        let mut species: Vec<&'static str> = self.counts.values().flat_map(|c| c.keys().copied()).collect();
        species.sort_unstable();
        species.dedup();
        let mut profile = CompositionProfile {
            species: species.clone(),
            distance: Vec::new(),
            at_percent: Vec::new(),
            atoms: Vec::new(),
        };
        for (&bin, counts) in &self.counts {
            let total: usize = counts.values().sum();
            profile.distance.push((bin as f64 + 0.5) * self.bin_width);
            profile.atoms.push(total);
            profile.at_percent.push(
                species
                    .iter()
                    .map(|s| 100.0 * counts.get(s).copied().unwrap_or(0) as f64 / total as f64)
                    .collect(),
            );
        }
        profile
    }
}
